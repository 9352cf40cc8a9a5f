import Foundation
import Ledger
import Testing

/// Real `ledgerd` processes forming a libp2p network on loopback.
@Suite(.serialized) struct P2PNetworkTests {
    static func height(_ node: NodeProcess) throws -> UInt64 { (try node.ctlJSON(["status"])["height"] as? NSNumber)?.uint64Value ?? 0 }

    /// Polls until `condition` holds. It is checked once more after the deadline: tests that block threads
    /// on child processes can keep this task from running for a while, and the deadline may pass unseen.
    static func waitUntil(_ what: String, seconds: Double = 30, _ condition: () throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            if (try? condition()) == true { return }
            if Date() >= deadline { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw TestFailure("timed out after \(seconds) s waiting until \(what)")
    }

    /// `waitUntil` for a condition that awaits (an HTTP call).
    static func waitUntilAsync(_ what: String, seconds: Double = 30, _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            if (try? await condition()) == true { return }
            if Date() >= deadline { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw TestFailure("timed out after \(seconds) s waiting until \(what)")
    }

    /// Gives `node` the bookkeeper's funded key (as "funder") and alice's, so it can submit transfers itself.
    static func shareKeys(from source: NodeProcess, to node: NodeProcess) throws {
        try FileManager.default.copyItem(atPath: source.data + "/keys/node.key", toPath: node.data + "/keys/funder.key")
        try FileManager.default.copyItem(atPath: source.data + "/keys/alice.key", toPath: node.data + "/keys/alice.key")
    }

    @Test func nodesJoinSyncGossipAndRouteAroundADeadPeer() async throws {
        let a = try NodeProcess(name: "p2p-a")
        try a.start()
        defer { a.stop() }
        #expect(try a.ctl(["key", "new", "alice"]).status == 0)
        for _ in 0..<3 { #expect(try a.ctl(["transfer", "--to", "alice", "--amount", "1KiB"]).status == 0) }
        let start = try Self.height(a)
        #expect(start == 3)

        // B joins through A and catches up with full verification.
        let b = try NodeProcess(name: "p2p-b", genesisOf: a)
        try b.start(extra: ["--bootstrap", a.p2pAddress])
        defer { b.stop() }
        try await Self.waitUntil("B syncs to height \(start)") { try Self.height(b) == start }
        #expect(b.log().contains("sync progress"))

        // C knows only B; it syncs from B and learns A through the DHT.
        let c = try NodeProcess(name: "p2p-c", genesisOf: a)
        try c.start(extra: ["--bootstrap", b.p2pAddress])
        defer { c.stop() }
        try await Self.waitUntil("C syncs to height \(start)") { try Self.height(c) == start }
        let status = try c.ctlJSON(["status"])
        #expect(status["peer_id"] as? String == c.peerID)
        #expect((status["sync"] as? [String: Any])?["syncing"] as? Bool == false)
        #expect(try c.ctl(["status"]).output.contains("up to date"))

        // A transaction submitted at C travels to the bookkeeper A, is sealed, and the block comes back.
        try Self.shareKeys(from: a, to: c)
        let sent = try c.ctl(["--as", "funder", "transfer", "--to", "alice", "--amount", "2KiB"])
        #expect(sent.status == 0, "\(sent.error)")
        try await Self.waitUntil("A commits the gossiped transfer") { try Self.height(a) == start + 1 }
        try await Self.waitUntil("B follows") { try Self.height(b) == start + 1 }

        // B sees both peers, with bytes per protocol.
        let peers = try b.ctlJSON(["swarm", "peers"])["peers"] as? [[String: Any]] ?? []
        let ids = Set(peers.compactMap { $0["peer_id"] as? String })
        #expect(ids.isSuperset(of: [a.peerID, c.peerID]))
        let synced = peers.first { $0["peer_id"] as? String == a.peerID }?["protocols"] as? [String: [String: Any]]
        #expect(((synced?["/ledgerd/sync/1.0.0"]?["bytes_in"]) as? NSNumber)?.intValue ?? 0 > 0)
        // The identify answer often shares a frame with the end of its negotiation; it still counts as identify.
        #expect(((synced?["/ipfs/id/1.0.0"]?["bytes_in"]) as? NSNumber)?.intValue ?? 0 > 100)
        #expect(try b.ctl(["swarm", "peers"]).output.contains("/ledgerd/sync/1.0.0"))
        #expect(try a.ctlJSON(["swarm", "local"])["peer_id"] as? String == a.peerID)
        #expect(try a.ctl(["swarm", "addrs"]).output.contains(b.peerID))
        // The explorer's network page lists the same peers.
        let page = String(decoding: try await HTTP.get(b.url + "/network").body, as: UTF8.self)
        #expect(page.contains(a.peerID) && page.contains(c.peerID) && page.contains("ledgerd/0.1.0"))
        let found = try a.ctlJSON(["dht", "findpeer", c.peerID])
        #expect((found["addresses"] as? [String])?.isEmpty == false)
        let metrics = try await HTTP.get(a.url + "/metrics")
        let exposition = String(decoding: metrics.body, as: UTF8.self)
        #expect(exposition.contains("ledgerd_p2p_bytes_received_total"))
        #expect(exposition.contains("ledgerd_p2p_peer_bytes_sent_total{peer=\"\(b.peerID)\",protocol=\"/ledgerd/sync/1.0.0\"}"))

        // Kill B without warning: C still reaches A, and a new node D joins though B is in its bootstrap list.
        b.stop(signal: SIGKILL)
        let again = try c.ctl(["--as", "funder", "transfer", "--to", "alice", "--amount", "3KiB"])
        #expect(again.status == 0, "\(again.error)")
        try await Self.waitUntil("A commits after B died") { try Self.height(a) == start + 2 }
        let d = try NodeProcess(name: "p2p-d", genesisOf: a)
        try d.start(extra: ["--bootstrap", b.p2pAddress, "--bootstrap", c.p2pAddress])
        defer { d.stop() }
        try await Self.waitUntil("D syncs around the dead bootstrap peer") { try Self.height(d) == start + 2 }

        // C restarts without any bootstrap address: its routing table and address book bring it back.
        #expect(c.stop() == 0)
        #expect(FileManager.default.fileExists(atPath: c.data + "/routing-table.json"))
        #expect(FileManager.default.fileExists(atPath: c.data + "/peers.json"))
        try c.start()
        try await Self.waitUntil("C reconnects from its saved routing table") { (try c.ctlJSON(["status"])["peers"] as? NSNumber)?.intValue ?? 0 > 0 }
    }

    @Test func swarmAndDHTCommandsRejectBadInputInOneLine() throws {
        let a = try NodeProcess(name: "p2p-bad")
        try a.start()
        defer { a.stop() }
        for arguments in [["swarm", "connect", "nonsense"], ["swarm", "connect", "/ip4/127.0.0.1/tcp/1/p2p/16Uiu2HAmBad"],
                          ["swarm", "disconnect", "not-a-peer"], ["dht", "findpeer", "not-a-peer"], ["dht", "findprovs", "xyz"],
                          ["dht", "get", "/pk/whatever"], ["dht", "put", "/ledgerd/addr/ld1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq", "/dev/null"]] {
            let result = try a.ctl(arguments)
            #expect(result.status != 0, "\(arguments) should fail")
            #expect(result.error.split(separator: "\n").count == 1, "\(arguments): \(result.error)")
        }
        // Dialing a closed port fails cleanly; the node keeps running.
        let dead = try a.ctl(["swarm", "connect", "/ip4/127.0.0.1/tcp/1/p2p/\(a.peerID)"])
        #expect(dead.status != 0)
        let bad = try run(Paths.ledgerd, ["run", "--data", a.data, "--bootstrap", "/ip4/127.0.0.1/tcp/1"])
        #expect(bad.status != 0 && bad.error.contains("/p2p/"))
        // A second node cannot take the first one's peer port, and says so.
        let port = String(a.p2pAddress.split(separator: "/")[3])
        let other = try NodeProcess(name: "p2p-port", genesisOf: a)
        let taken = try run(Paths.ledgerd, ["run", "--data", other.data, "--http", "127.0.0.1:0", "--p2p", "127.0.0.1:\(port)"])
        #expect(taken.status != 0 && taken.error.contains("cannot listen for peers"), "\(taken.error)")
        #expect(try Self.height(a) == 0)
    }

    /// A signed record stored through one node is read back through another.
    @Test func signedRecordsThroughTheCLI() async throws {
        let a = try NodeProcess(name: "p2p-rec-a")
        try a.start()
        defer { a.stop() }
        let b = try NodeProcess(name: "p2p-rec-b", genesisOf: a)
        try b.start(extra: ["--bootstrap", a.p2pAddress])
        defer { b.stop() }
        try await Self.waitUntil("B connects") { (try b.ctlJSON(["status"])["peers"] as? NSNumber)?.intValue ?? 0 > 0 }
        let id = try b.ctlJSON(["key"])["id"] as? String ?? ""
        let file = b.data + "/addr.txt"
        try Data(b.p2pAddress.utf8).write(to: URL(fileURLWithPath: file))
        let put = try b.ctl(["dht", "put", "/ledgerd/addr/\(id)", file])
        #expect(put.status == 0, "\(put.error)")
        let got = try a.ctlJSON(["dht", "get", "/ledgerd/addr/\(id)"])
        #expect(got["value"] as? String == b.p2pAddress)
        #expect(got["seq"] as? NSNumber == 1)
        // Someone else's key cannot write it.
        let forged = try a.ctl(["dht", "put", "/ledgerd/addr/\(id)", file])
        #expect(forged.status != 0 && forged.error.contains("belongs to"))
        // Providers: B announces a CID, A finds it.
        let cid = CID.dagCBOR(Array("provided by B".utf8)).text
        #expect(try b.ctl(["dht", "provide", cid]).status == 0)
        let providers = try a.ctlJSON(["dht", "findprovs", cid])["providers"] as? [[String: Any]] ?? []
        #expect(providers.contains { $0["peer_id"] as? String == b.peerID })
    }

    /// py-libp2p with an RSA identity (Kubo's default key type) against a real node, both ways: it connects,
    /// identifies, pings and queries the DHT, and the node dials it back. Before part 5 the node refused the
    /// handshake ("key type 0 is not supported").
    @Test func aPyLibp2pPeerWithAnRSAIdentityConnectsBothWays() async throws {
        try LibP2PInteropTests.requireVenv()
        let a = try NodeProcess(name: "rsa-a")
        try a.start()
        defer { a.stop() }
        let b = try NodeProcess(name: "rsa-b", genesisOf: a)
        try b.start(extra: ["--bootstrap", a.p2pAddress])
        defer { b.stop() }
        try await Self.waitUntil("B connects to A") { (try a.ctlJSON(["status"])["peers"] as? NSNumber)?.intValue ?? 0 > 0 }
        let content = SHA256.hash(Array("rsa interop content".utf8)).hex
        #expect(try b.ctl(["dht", "provide", content]).status == 0)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: LibP2PInteropTests.python)
        process.arguments = [Paths.root.appendingPathComponent("Tests/p2p/py_peer.py").path, a.p2pAddress, b.peerID, "1220" + content, b.peerID, "rsa"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let steps = try pythonPeerSteps(output.fileHandleForReading, dialedBy: a)
        process.waitUntilExit()
        #expect(steps["error"] == nil, "\(steps["error"]?["message"] ?? "")")
        for step in ["identity", "connected", "identify", "ping", "find_node", "get_providers", "dialed_by_ledgerd"] {
            #expect(steps[step] != nil, "py-libp2p with an RSA key did not complete \(step)")
        }
        #expect(process.terminationStatus == 0)
        let rsaPeer = try #require(steps["identity"]?["peer"] as? String)
        #expect(rsaPeer.hasPrefix("Qm"), "an RSA peer ID is a SHA-256 multihash")
        let peers = try a.ctlJSON(["swarm", "addrs"])["peers"] as? [String: Any] ?? [:]
        #expect(peers.keys.contains(rsaPeer), "the node's address book has the RSA peer")
    }
}
