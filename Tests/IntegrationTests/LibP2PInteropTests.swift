import Foundation
import Ledger
import Testing

/// ledgerd against py-libp2p, an implementation written by others (PyPI `libp2p`, installed by
/// scripts/install-deps.sh --test into .build/p2p-venv).
@Suite(.serialized) struct LibP2PInteropTests {
    static var python: String { Paths.root.appendingPathComponent(".build/p2p-venv/bin/python").path }

    static func requireVenv() throws {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw TestFailure("py-libp2p is not installed: run scripts/install-deps.sh --test (make test does)")
        }
    }

    @Test func pyLibp2pPeerIdentifiesPingsQueriesTheDHTAndIsDialed() async throws {
        try Self.requireVenv()
        let a = try NodeProcess(name: "interop-a")
        try a.start()
        defer { a.stop() }
        let b = try NodeProcess(name: "interop-b", genesisOf: a)
        try b.start(extra: ["--bootstrap", a.p2pAddress])
        defer { b.stop() }
        try await P2PNetworkTests.waitUntil("B connects to A") { (try a.ctlJSON(["status"])["peers"] as? NSNumber)?.intValue ?? 0 > 0 }
        let content = SHA256.hash(Array("interop content".utf8)).hex
        #expect(try b.ctl(["dht", "provide", content]).status == 0)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.python)
        process.arguments = [Paths.root.appendingPathComponent("Tests/p2p/py_peer.py").path, a.p2pAddress, b.peerID, "1220" + content, b.peerID]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        let steps = try pythonPeerSteps(output.fileHandleForReading, dialedBy: a)
        process.waitUntilExit()
        #expect(steps["error"] == nil, "\(steps["error"]?["message"] ?? "")")
        for step in ["connected", "identify", "ping", "find_node", "get_providers", "dialed_by_ledgerd"] {
            #expect(steps[step] != nil, "py-libp2p did not complete \(step)")
        }
        #expect(process.terminationStatus == 0)
        #expect((steps["identify"]?["protocols"] as? [String])?.contains("/ipfs/kad/1.0.0") == true)
        // The Python peer used Ed25519: ledgerd verified a key type it does not use itself.
        let peers = try a.ctlJSON(["swarm", "addrs"])["peers"] as? [String: Any] ?? [:]
        #expect(peers.keys.contains { $0.hasPrefix("12D3KooW") })
    }

    @Test func p2pVectorsAgreeWithAnIndependentImplementation() throws {
        try Self.requireVenv()
        let result = try run(Self.python, [Paths.root.appendingPathComponent("Tests/p2p/p2p_vectors.py").path,
                                           Paths.root.appendingPathComponent("specs/vectors/p2p.json").path])
        #expect(result.status == 0, "\(result.output)\(result.error)")
        #expect(result.output.contains("checks passed"))
    }
}
