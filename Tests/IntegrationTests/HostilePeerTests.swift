import Foundation
import Ledger
import LedgerNetwork
import NIOCore
import NIOPosix
import Testing

/// Peers that send random bytes, truncated frames, huge length prefixes, broken handshakes and invalid
/// protocol messages to a real ledgerd: each is dropped (and banned once it has an identity), memory
/// stays bounded, and an honest peer is served throughout.
@Suite(.serialized) struct HostilePeerTests {
    static func rssKiB(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }

    static func send(_ bytes: [UInt8], host: String, port: Int) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: host, port: port).get()
        try? await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
        try await Task.sleep(for: .milliseconds(5))
        try? await channel.close().get()
    }

    @Test func hostilePeersAreDroppedBannedAndBounded() async throws {
        let a = try NodeProcess(name: "hostile-a")
        try a.start()
        defer { a.stop() }
        let pid = try #require(a.process?.processIdentifier)
        let address = try Multiaddr(a.p2pAddress)
        let (host, port) = try #require(address.tcpEndpoint)
        try await Task.sleep(for: .milliseconds(500))
        let before = Self.rssKiB(pid)

        let header = Array("\u{13}/multistream/1.0.0\n".utf8), noise = Array("\u{07}/noise\n".utf8)
        var generator = SeededGenerator(seed: 77)
        for round in 0..<300 {
            let attack: [UInt8]
            switch round % 6 {
            case 0: attack = (0..<Int.random(in: 1...65_536, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            case 1: attack = Array((header + noise).prefix(Int.random(in: 1..<(header.count + noise.count), using: &generator)))
            case 2: attack = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]  // a varint length near 2^63
            case 3: attack = header + noise + [0xff, 0xff] + [UInt8](repeating: 0, count: 1000)  // Noise frame promising 64 KiB
            case 4: attack = header + noise + [0x00, 0x20] + (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) } + [0x01, 0x00, 0x55]
            default: attack = header + Array("\u{0b}/plaintext\n".utf8) + [UInt8](repeating: 0x41, count: 5000)
            }
            try await Self.send(attack, host: host, port: port)
        }

        // An authenticated peer that sends a malformed DHT message and a malformed transaction.
        let hostile = Swarm(identity: SecretKey.generate(), config: .loopback)
        await hostile.registerCoreProtocols()
        _ = try await hostile.dial(address)
        let kad = try await hostile.openStream(to: address.peer!, protocols: ["/ipfs/kad/1.0.0"])
        try await kad.writeMessage([0x08, 0x63, 0x12])  // type 99, truncated key
        try await P2PNetworkTests.waitUntil("the hostile peer is banned") {
            let banned = try a.ctlJSON(["swarm", "peers"])["banned"] as? [[String: Any]] ?? []
            return banned.contains { $0["peer_id"] as? String == hostile.peerID.description }
        }
        let page = String(decoding: try await HTTP.get(a.url + "/network").body, as: UTF8.self)
        #expect(page.contains("Banned") && page.contains(hostile.peerID.description), "the explorer lists the ban")
        await #expect(throws: (any Error).self) {
            try await hostile.dial(address)
            _ = try await Ping.ping(address.peer!, swarm: hostile)
        }
        await hostile.stop()

        // Still serving: an honest node connects and syncs a block made after the attacks.
        #expect(a.process?.isRunning == true)
        #expect(try a.ctl(["key", "new", "alice"]).status == 0)
        #expect(try a.ctl(["transfer", "--to", "alice", "--amount", "1KiB"]).status == 0)
        let b = try NodeProcess(name: "hostile-b", genesisOf: a)
        try b.start(extra: ["--bootstrap", a.p2pAddress])
        defer { b.stop() }
        try await P2PNetworkTests.waitUntil("the honest node syncs") { try P2PNetworkTests.height(b) == 1 }

        let after = Self.rssKiB(pid)
        #expect(after - before < 64 * 1024, "RSS grew from \(before) KiB to \(after) KiB under 300 hostile connections")
    }
}
