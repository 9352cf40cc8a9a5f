import Foundation
import Testing

/// Bitswap 1.2.0 against software others wrote: Kubo 0.22 (boxo's Bitswap), from the PyPI wheel
/// `kubo-python`, in a network namespace that has loopback alone, with one real ledgerd
/// (Tests/p2p/kubo_bitswap.py says each step). Kubo downloads files only ledgerd holds — one block,
/// several, a DAG two levels deep — and ledgerd fetches files only Kubo holds; every byte is compared.
@Suite(.serialized) struct KuboBitswapTests {
    @Test func kuboAndLedgerdFetchEachOthersFilesOverBitswap() throws {
        try LibP2PInteropTests.requireVenv()
        let library = try #require(KuboPubsubTests.library, "Kubo is not installed: run scripts/install-deps.sh --test (make test does)")
        let work = Paths.temporaryFolder("kubo-bitswap")
        let result = try run("/usr/bin/unshare", ["-n", LibP2PInteropTests.python, Paths.root.appendingPathComponent("Tests/p2p/kubo_bitswap.py").path,
                                                  library, Paths.binaries.path, work])
        let steps = result.output.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let names = steps.compactMap { $0["step"] as? String }
        #expect(!names.contains("error"), "\(steps.first { $0["step"] as? String == "error" }?["message"] ?? "") \(result.error.suffix(2_000))")
        for step in ["connected", "kubo_fetched_one_block", "kubo_fetched_blocks", "kubo_fetched_two_levels", "ledgerd_fetched_blocks",
                     "ledgerd_fetched_one_block", "done"] {
            #expect(names.contains(step), "the Kubo Bitswap test did not reach \(step)")
        }
        #expect(result.status == 0)
    }
}
