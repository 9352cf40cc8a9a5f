import Foundation
import Testing

/// UnixFS import against software others wrote: `ledgerctl ipfs add --only-hash` gives the CIDs that
/// Kubo 0.22's AddFile (the PyPI wheel kubo-python, in a network namespace with loopback alone) and
/// Debian's ipfs_cid give, for files at every chunk and link-count boundary of Kubo's defaults up to
/// 100 MiB (Tests/p2p/kubo_add.py lists the sizes), for HAMT-sharded directories on both sides of the threshold, and for a directory tree (nested, empty, hidden,
/// symlinked and multi-chunk entries) and a wrapped file.
@Suite(.serialized) struct KuboAddTests {
    @Test func ledgerctlKuboAndIpfsCidAgreeOnEveryBoundary() throws {
        try LibP2PInteropTests.requireVenv()
        let library = try #require(KuboPubsubTests.library, "Kubo is not installed: run scripts/install-deps.sh --test (make test does)")
        #expect(FileManager.default.isExecutableFile(atPath: "/usr/bin/ipfs_cid"), "Debian's ipfs-cid is not installed (make test installs it)")
        let work = Paths.temporaryFolder("kubo-add")
        let result = try run("/usr/bin/unshare", ["-n", LibP2PInteropTests.python, Paths.root.appendingPathComponent("Tests/p2p/kubo_add.py").path,
                                                  library, Paths.binaries.appendingPathComponent("ledgerctl").path, work])
        let steps = result.output.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(!steps.contains { $0["step"] as? String == "error" }, "\(steps.first { $0["step"] as? String == "error" }?["message"] ?? "") \(result.error.suffix(2_000))")
        let files = steps.filter { $0["step"] as? String == "file" }
        #expect(files.count == 12 && files.allSatisfy { $0["kubo"] as? String == $0["ledgerctl"] as? String })
        #expect(files.contains { $0["size"] as? Int == 12 && $0["ledgerctl"] as? String == "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o" })
        let directories = steps.filter { $0["step"] as? String == "directory" }
        #expect(directories.count == 6 && directories.allSatisfy { $0["kubo"] as? String == $0["ledgerctl"] as? String })
        #expect(steps.last?["step"] as? String == "done" && result.status == 0)
    }
}
