import Foundation
import Ledger
import Testing

/// Forwarding in practice (specs/p2p.md §8, specs/credit.md "Forwarding"): three ledgerd processes, C and
/// B each in a network namespace of its own that this test creates, joined to this namespace by a veth
/// pair; this namespace does not forward between them, so B cannot reach C at all. R, the relay, runs
/// here. C holds a forwarding contract with R and a line from it, reserves with R, and is reached by B
/// through `<R>/p2p-circuit/p2p/<C>`; R bills C for every relayed byte by C's `forward` receipts and
/// settles them on the chain.
@Suite(.serialized) struct RelayNamespaceTests {
    static func ip(_ arguments: [String]) throws {
        let result = try run("/usr/sbin/ip", arguments)
        guard result.status == 0 else { throw TestFailure("ip \(arguments.joined(separator: " ")): \(result.error)") }
    }

    /// A namespace with loopback and one veth to this namespace: `inner` there, `outer` here (both /24).
    static func namespace(_ name: String, link: String, outer: String, inner: String) throws {
        _ = try? run("/usr/sbin/ip", ["netns", "del", name])
        _ = try? run("/usr/sbin/ip", ["link", "del", link])
        try ip(["netns", "add", name])
        try ip(["-n", name, "link", "set", "lo", "up"])
        try ip(["link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", name])
        try ip(["addr", "add", outer + "/24", "dev", link])
        try ip(["link", "set", link, "up"])
        try ip(["-n", name, "addr", "add", inner + "/24", "dev", "eth0"])
        try ip(["-n", name, "link", "set", "eth0", "up"])
    }

    static func forward(_ node: NodeProcess) throws -> [String: Any] { try node.ctlJSON(["metering"])["forward"] as? [String: Any] ?? [:] }

    @Test func aNodeThatCannotBeDialledIsReachedThroughItsRelayAndTheRelayIsPaidByForwardReceipts() async throws {
        let suffix = String(ProcessInfo.processInfo.processIdentifier % 10_000)
        let nsC = "ldc\(suffix)", nsB = "ldb\(suffix)", linkC = "vc\(suffix)", linkB = "vb\(suffix)"
        try Self.namespace(nsC, link: linkC, outer: "10.201.1.1", inner: "10.201.1.2")
        defer { _ = try? run("/usr/sbin/ip", ["netns", "del", nsC]) }
        try Self.namespace(nsB, link: linkB, outer: "10.201.2.1", inner: "10.201.2.2")
        defer { _ = try? run("/usr/sbin/ip", ["netns", "del", nsB]) }

        let r = try NodeProcess(name: "relay-r")
        let c = try NodeProcess(name: "relay-c", genesisOf: r), b = try NodeProcess(name: "relay-b", genesisOf: r)
        c.namespace = nsC
        b.namespace = nsB
        try r.start(extra: ["--p2p", "0.0.0.0:0", "--settle-interval", "2"])
        defer { r.stop() }
        let port = try #require(r.p2pAddress.split(separator: "/").dropFirst(3).first)
        let fromC = "/ip4/10.201.1.1/tcp/\(port)/p2p/\(r.peerID)", fromB = "/ip4/10.201.2.1/tcp/\(port)/p2p/\(r.peerID)"
        try c.start(extra: ["--bootstrap", fromC, "--relay", fromC])
        defer { c.stop() }
        try b.start(extra: ["--bootstrap", fromB, "--fetch-timeout", "10"])
        defer { b.stop() }
        let rID = try r.key("node").publicKey.id.text, cID = try c.key("node").publicKey.id.text

        // Before C has a contract, R refuses its reservation and C advertises no circuit address.
        try await P2PNetworkTests.waitUntil("R refuses C's reservation", seconds: 60) {
            ((try Self.forward(c)["relays"] as? [[String: Any]])?.first?["refusal"] as? String ?? "").contains("reservationRefused")
        }
        #expect(r.log().contains("no open forwarding contract"))

        // The contract (R co-signs: its key is copied to C's key folder for the test) and a line R grants C.
        try FileManager.default.copyItem(atPath: r.data + "/keys/node.key", toPath: c.data + "/keys/relay.key")
        let contract = try c.ctl(["contract", "forward", "create", "--relay", rID, "--price-ppm", "1000000"])
        #expect(contract.status == 0, "\(contract.error)")
        #expect(try r.ctl(["credit", "grant", "--to", cID, "--limit", "64MiB"]).status == 0)
        try await P2PNetworkTests.waitUntil("C reserves with R", seconds: 60) {
            (try Self.forward(c)["relays"] as? [[String: Any]])?.first?["reserved"] as? Bool == true
        }
        let circuit = try #require((try c.ctlJSON(["swarm", "local"])["addresses"] as? [String] ?? []).first { $0.contains("/p2p-circuit/") }, "C advertises a circuit address")
        #expect(circuit == fromC + "/p2p-circuit/p2p/" + c.peerID)

        // B cannot reach C directly; through R it can, and fetches 4 MiB that only C holds.
        #expect(try b.ctl(["swarm", "connect", "/ip4/10.201.1.2/tcp/7650/p2p/\(c.peerID)"]).status != 0)
        let connected = try b.ctl(["swarm", "connect", circuit])
        #expect(connected.status == 0, "\(connected.error)")
        let file = Paths.temporaryFolder("relay-file") + "/four.bin"
        var generator = SystemRandomNumberGenerator()
        try Data((0..<(4 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }).write(to: URL(fileURLWithPath: file))
        let cid = try c.ctl(["ipfs", "add", "-Q", file]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        let out = Paths.temporaryFolder("relay-out") + "/four.bin"
        let got = try b.ctl(["ipfs", "get", cid, "-o", out])
        #expect(got.status == 0, "\(got.error)")
        #expect(FileManager.default.contentsEqual(atPath: file, andPath: out))

        // R relayed it all for C, C receipted what it counted, and R settled C's newest receipt.
        let relayed = MeteringTests.number((try Self.forward(r)["relayed"] as? [[String: Any]])?.first ?? [:], "bytes")
        #expect(relayed > 4 << 20)
        try await P2PNetworkTests.waitUntilAsync("R settles C's forward receipts on the chain", seconds: 90) {
            let list = try await HTTP.get(r.url + "/api/v1/settlements?party=" + cID).json["settlements"] as? [[String: Any]] ?? []
            guard let record = list.first(where: { $0["service"] as? String == "forward" }) else { return false }
            return MeteringTests.number(record, "units") >= 4 << 20
        }
        let counted = MeteringTests.number((try Self.forward(c)["counted"] as? [[String: Any]])?.first ?? [:], "bytes")
        let nowRelayed = MeteringTests.number((try Self.forward(r)["relayed"] as? [[String: Any]])?.first ?? [:], "bytes")
        // The two ends count the same bytes, but at different instants: within one receipt interval.
        #expect(abs(counted - nowRelayed) <= 1 << 20, "C counted \(counted), R relayed \(nowRelayed)")
        #expect(r.log().contains("settling forwarded bytes"))

        // Credit stops the relay: with the line cut to 1 MiB, C's 4 MiB of debt leaves no room, so R
        // resets the circuit and B gets nothing more from C; a raised limit lets a new circuit carry it.
        func fetch(_ name: String) throws -> (ProcessResult, String, String) {
            let file = Paths.temporaryFolder("relay-file-" + name) + "/one.bin"
            try Data((0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }).write(to: URL(fileURLWithPath: file))
            let cid = try c.ctl(["ipfs", "add", "-Q", file]).output.trimmingCharacters(in: .whitespacesAndNewlines)
            let out = Paths.temporaryFolder("relay-out-" + name) + "/one.bin"
            return (try b.ctl(["ipfs", "get", cid, "-o", out]), file, out)
        }
        #expect(try r.ctl(["credit", "lower", "--to", cID, "--by", "63MiB"]).status == 0)
        try await P2PNetworkTests.waitUntil("C sees the cut line", seconds: 30) { try P2PNetworkTests.height(c) == P2PNetworkTests.height(r) }
        let refused = try fetch("refused")
        #expect(refused.0.status != 0, "B fetched through a relay that C can no longer pay")
        let stopped = (try Self.forward(r)["relayed"] as? [[String: Any]])?.first?["stopped"] as? String ?? ""
        #expect(stopped.contains("credit exhausted"), "\(stopped)")
        #expect(r.log().contains("relay stopped forwarding for a client"))
        #expect(try r.ctl(["credit", "raise", "--to", cID, "--by", "63MiB"]).status == 0)
        try await P2PNetworkTests.waitUntil("C sees the raised line", seconds: 30) { try P2PNetworkTests.height(c) == P2PNetworkTests.height(r) }
        try await P2PNetworkTests.waitUntil("B reaches C through R again", seconds: 30) { try b.ctl(["swarm", "connect", circuit]).status == 0 }
        let resumed = try fetch("resumed")
        #expect(resumed.0.status == 0, "\(resumed.0.error)")
        #expect(FileManager.default.contentsEqual(atPath: resumed.1, andPath: resumed.2))
    }
}
