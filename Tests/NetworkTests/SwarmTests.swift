import Foundation
import Ledger
import LedgerTestSupport
import NIOCore
import NIOPosix
import Testing
@testable import LedgerNetwork

/// Real swarms on loopback in this process: the whole stack (TCP, multistream-select, Noise, yamux)
/// between them, with nothing mocked.
@Suite struct SwarmTests {
    static func swarm(_ n: Int) async throws -> Swarm {
        let swarm = Swarm(identity: testKey(500 + n), config: .loopback)
        await swarm.registerCoreProtocols()
        try await swarm.listen()
        return swarm
    }

    @Test func streamsCarryMoreThanAWindowBothWays() async throws {
        let server = try await Self.swarm(1), client = try await Self.swarm(2)
        await server.handle("/test/echo/1.0.0") { stream in
            while let chunk = try await stream.readSome(max: 1 << 20) { try await stream.write(chunk) }
            await stream.close()
        }
        let peer = try await client.dial(try #require(await server.addresses.first))
        #expect(peer == server.peerID)
        let stream = try await client.openStream(to: peer, protocols: ["/test/missing/1.0.0", "/test/echo/1.0.0"])
        #expect(stream.protocolName == "/test/echo/1.0.0")
        // 3 MiB: twelve times the yamux window, so flow control must work in both directions.
        var generator = SeededGenerator(seed: 1)
        let payload = (0..<(3 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        async let sent: Void = { try await stream.write(payload); await stream.stream.close() }()
        var received: [UInt8] = []
        while let chunk = try await stream.readSome(max: 1 << 20) { received += chunk }
        try await sent
        let intact = received == payload  // not compared inside #expect, which would print 3 MiB on failure
        #expect(intact, "\(received.count) of \(payload.count) bytes came back, or they differ")
        let rtt = try await Ping.ping(peer, swarm: client)
        #expect(rtt > .zero)
        let traffic = client.traffic.byProtocol(of: peer)
        #expect((traffic["/test/echo/1.0.0"]?.sent ?? 0) == UInt64(payload.count))
        #expect((traffic["/test/echo/1.0.0"]?.received ?? 0) == UInt64(payload.count))
        #expect((traffic["transport"]?.received ?? 0) > UInt64(payload.count))
        await client.stop()
        await server.stop()
    }

    @Test func theConnectionLimitHoldsAndExternalAddressesAreAdvertised() async throws {
        var config = Swarm.Config.loopback
        config.limits.maxConnections = 2
        config.external = [try Multiaddr("/ip4/203.0.113.7/tcp/7650")]
        let server = Swarm(identity: testKey(40), config: config)
        await server.registerCoreProtocols()
        let bound = try await server.listen()
        #expect(await server.addresses == [try Multiaddr("/ip4/203.0.113.7/tcp/7650/p2p/\(server.peerID)")])
        let direct = bound[0].with(peer: server.peerID)
        var clients: [Swarm] = []
        for n in 0..<3 {
            let client = try await Self.swarm(41 + n)
            clients.append(client)
            if n < 2 {
                #expect(try await client.dial(direct) == server.peerID)
            } else {
                await #expect(throws: (any Error).self) { try await client.dial(direct) }
            }
        }
        // Identify told the first client the advertised address, not the listen address.
        try await Task.sleep(for: .milliseconds(200))
        #expect(clients[0].addressBook.addresses(of: server.peerID).contains(try Multiaddr("/ip4/203.0.113.7/tcp/7650")))
        #expect(await server.connectionCount == 2)
        for client in clients { await client.stop() }
        await server.stop()
    }

    /// Windows allow 512 streams × 256 KiB; a peer that leaves more than 16 MiB unread is flooding and is cut off.
    @Test func aPeerFillingEveryWindowIsDropped() async throws {
        let server = try await Self.swarm(50), client = try await Self.swarm(51)
        await server.handle("/test/never-reads/1.0.0") { _ in try await Task.sleep(for: .seconds(30)) }
        let peer = try await client.dial(try #require(await server.addresses.first))
        let block = [UInt8](repeating: 7, count: 256 * 1024)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<80 {
                group.addTask {
                    guard let stream = try? await client.openStream(to: peer, protocols: ["/test/never-reads/1.0.0"]) else { return }
                    try? await stream.write(block)
                }
            }
        }
        for _ in 0..<500 where server.peerGuard.banReason(client.peerID) == nil { try await Task.sleep(for: .milliseconds(20)) }
        #expect(server.peerGuard.banReason(client.peerID)?.contains("unread") == true)
        await client.stop()
        await server.stop()
    }

    @Test func dialingTheWrongPeerIDFails() async throws {
        let server = try await Self.swarm(3), client = try await Self.swarm(4)
        let address = try #require(await server.addresses.first).transport.with(peer: testKey(999).peerID)
        await #expect(throws: P2PError.self) { try await client.dial(address) }
        await client.stop()
        await server.stop()
    }

    @Test func aPeerSendingAnInvalidKadMessageIsBanned() async throws {
        let server = try await Self.swarm(5), client = try await Self.swarm(6)
        let dht = DHT(swarm: server, tablePath: nil)
        await dht.start()
        let peer = try await client.dial(try #require(await server.addresses.first))
        let stream = try await client.openStream(to: peer, protocols: [DHT.protocolID])
        try await stream.writeMessage([0xff, 0xff, 0xff])  // not a protobuf message
        for _ in 0..<500 where server.peerGuard.banReason(client.peerID) == nil { try await Task.sleep(for: .milliseconds(20)) }
        #expect(server.peerGuard.banReason(client.peerID) != nil)
        try await Task.sleep(for: .milliseconds(100))
        await #expect(throws: (any Error).self) { try await client.dial(try #require(await server.addresses.first)) ; _ = try await Ping.ping(peer, swarm: client) }
        await client.stop()
        await server.stop()
    }

    /// Records of other libp2p networks are refused without offence; a forged record of ours bans its sender.
    @Test func foreignRecordsAreRefusedForgedOnesBanned() async throws {
        let server = try await Self.swarm(80), client = try await Self.swarm(81)
        let dht = DHT(swarm: server, tablePath: nil)
        await dht.start()
        let peer = try await client.dial(try #require(await server.addresses.first))
        let foreign = KadMessage(kind: .putValue, key: Array("/pk/abc".utf8), record: KadMessage.Record(key: Array("/pk/abc".utf8), value: [1, 2]))
        await #expect(throws: (any Error).self) { _ = try await DHT(swarm: client, tablePath: nil).request(foreign, to: peer) }
        try await Task.sleep(for: .milliseconds(100))
        #expect(server.peerGuard.banReason(client.peerID) == nil)
        let owner = testKey(3), forger = testKey(4)
        let key = "/ledgerd/addr/\(owner.publicKey.id.text)"
        let forged = DHTRecord(key: key, value: [1], seq: 1, signer: forger)
        let message = KadMessage(kind: .putValue, key: Array(key.utf8), record: KadMessage.Record(key: Array(key.utf8), value: forged.encoded))
        _ = try? await DHT(swarm: client, tablePath: nil).request(message, to: peer)
        for _ in 0..<500 where server.peerGuard.banReason(client.peerID) == nil { try await Task.sleep(for: .milliseconds(20)) }
        #expect(server.peerGuard.banReason(client.peerID)?.contains("not signed by the key's owner") == true)
        await client.stop()
        await server.stop()
    }

    /// Eight in-process nodes in a line of bootstraps: FIND_NODE, providers and signed records travel
    /// through the DHT to nodes that never met.
    @Test func dhtFindsPeersProvidersAndRecords() async throws {
        var swarms: [Swarm] = [], dhts: [DHT] = []
        for n in 0..<8 {
            let swarm = try await Self.swarm(10 + n)
            let dht = DHT(swarm: swarm, tablePath: nil)
            await dht.start()
            if let previous = swarms.last { _ = await dht.bootstrap([try #require(await previous.addresses.first)]) }
            swarms.append(swarm)
            dhts.append(dht)
        }
        for dht in dhts { _ = await dht.closestPeers(to: dht.swarm.peerID.bytes) }

        let key = [0x12, 0x20] + SHA256.hash(Array("content".utf8)).bytes
        #expect(await dhts[7].provide(key) > 0)
        let providers = await dhts[0].findProviders(key)
        #expect(providers.contains(swarms[7].peerID))

        let found = await dhts[0].findPeer(swarms[6].peerID)
        #expect(found?.addresses.isEmpty == false)

        let owner = testKey(510 + 5)  // node 5's own key signs its address record
        let record = DHTRecord(key: "/ledgerd/addr/\(owner.publicKey.id.text)", value: Array("/ip4/127.0.0.1/tcp/1".utf8), seq: 1, signer: owner)
        #expect(try await dhts[5].put(record) > 0)
        let fetched = await dhts[1].get(record.key)
        #expect(fetched == record)
        let newer = DHTRecord(key: record.key, value: Array("/ip4/127.0.0.1/tcp/2".utf8), seq: 2, signer: owner)
        _ = try await dhts[2].put(newer)
        #expect(await dhts[3].get(record.key)?.seq == 2)

        for swarm in swarms { await swarm.stop() }
    }

    @Test func providerRecordsExpireAndRepublishingRestoresThem() async throws {
        let holderSwarm = try await Self.swarm(70), providerSwarm = try await Self.swarm(71), askerSwarm = try await Self.swarm(72)
        let holder = DHT(swarm: holderSwarm, tablePath: nil, providerTTL: 0.5)
        let provider = DHT(swarm: providerSwarm, tablePath: nil)
        let asker = DHT(swarm: askerSwarm, tablePath: nil)
        for dht in [holder, provider, asker] { await dht.start() }
        let address = try #require(await holderSwarm.addresses.first)
        _ = await provider.bootstrap([address])
        _ = await asker.bootstrap([address])
        let key = [0x12, 0x20] + SHA256.hash(Array("expiring".utf8)).bytes
        #expect(await provider.provide(key) >= 1)
        let answer = try await asker.request(KadMessage(kind: .getProviders, key: key), to: holderSwarm.peerID)
        #expect(answer?.providers.map(\.id) == [providerSwarm.peerID])
        try await Task.sleep(for: .milliseconds(700))
        let expired = try await asker.request(KadMessage(kind: .getProviders, key: key), to: holderSwarm.peerID)
        #expect(expired?.providers.isEmpty == true)
        await provider.republish()
        let again = try await asker.request(KadMessage(kind: .getProviders, key: key), to: holderSwarm.peerID)
        #expect(again?.providers.map(\.id) == [providerSwarm.peerID])
        for swarm in [holderSwarm, providerSwarm, askerSwarm] { await swarm.stop() }
    }

    /// Garbage, truncated frames, a huge length prefix and a broken handshake on raw sockets: each is
    /// dropped, and an honest peer still connects afterwards.
    @Test func hostileConnectionsAreDroppedAndTheSwarmKeepsServing() async throws {
        let server = try await Self.swarm(30)
        let address = try #require(await server.addresses.first)
        let (host, port) = try #require(address.tcpEndpoint)
        let multistream = Multistream.message(Multistream.header) + Multistream.message("/noise")
        var generator = SeededGenerator(seed: 3)
        let attacks: [[UInt8]] = [
            (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) },
            Array(multistream.prefix(10)),
            [0xff, 0xff, 0xff, 0xff, 0x0f],  // a 4 GiB multistream message
            multistream + [0xff, 0xff] + [UInt8](repeating: 7, count: 100),  // Noise message claiming 64 KiB, then silence
            multistream + [0x00, 0x20] + [UInt8](repeating: 1, count: 32),  // a Noise message 1 that is not a valid key exchange
        ]
        for attack in attacks {
            try await RawSocket.send(attack, host: host, port: port)
        }
        let client = try await Self.swarm(31)
        #expect(try await client.dial(address) == server.peerID)
        _ = try await Ping.ping(server.peerID, swarm: client)
        await client.stop()
        await server.stop()
    }
}

/// A plain TCP client for hostile bytes: connect, write, close. The node may hang up first, which is
/// the point, so write and close errors are expected.
enum RawSocket {
    static func send(_ bytes: [UInt8], host: String, port: Int) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: host, port: port).get()
        try? await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
        try await Task.sleep(for: .milliseconds(50))
        try? await channel.close().get()
    }
}

/// The per-peer outbox holds at most its byte bound for a peer that never reads: a stranger cannot make a
/// node keep 1,024 messages of 32 MiB each.
@Suite struct PeerOutboxTests {
    @Test func aPeerThatNeverReadsCostsAtMostTheByteBound() async throws {
        let server = try await SwarmTests.swarm(52), client = try await SwarmTests.swarm(53)
        await server.handle("/test/never-reads/1.0.0") { _ in try await Task.sleep(for: .seconds(30)) }
        let peer = try await client.dial(try #require(await server.addresses.first))
        let outbox = PeerOutbox(swarm: client, protocolName: "/test/never-reads/1.0.0", bytesMax: 1 << 20, logger: .quiet("ledgerd.test"))
        let message = [UInt8](repeating: 9, count: 64 * 1024)
        for _ in 0..<64 { await outbox.send(message, to: peer) }
        #expect(await outbox.dropped > 0, "4 MiB offered against a 1 MiB bound")
        #expect(await outbox.backlog(of: peer).bytes <= 1 << 20)
        await outbox.close(peer)
        #expect(await outbox.backlog(of: peer).bytes == 0)
        await client.stop()
        await server.stop()
    }
}
