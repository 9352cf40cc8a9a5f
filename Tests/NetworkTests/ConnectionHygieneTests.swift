import Foundation
import Ledger
import LedgerTestSupport
import NIOCore
import NIOPosix
import Testing
@testable import LedgerNetwork

/// A hand-driven libp2p peer: the real upgrade (multistream-select, Noise XX, yamux negotiation) from the
/// swarm's own parts, then raw yamux frames. It reads nothing after the upgrade unless told to, so the
/// node's writer to it is back-pressured once the socket buffers fill.
struct RawPeer {
    let writer: SecureWriter
    let peer: PeerID

    func send(_ header: YamuxHeader, _ data: [UInt8] = []) async throws { try await writer.write(header.bytes + data) }

    /// Connects to `address`, upgrades, and runs `body` with the connection open; closes after it.
    static func with(_ address: Multiaddr, key: SecretKey, _ body: @escaping @Sendable (RawPeer) async throws -> Void) async throws {
        let (host, port) = try #require(address.tcpEndpoint)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: host, port: port) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
        try await channel.executeThenClose { inbound, outbound in
            var iterator = inbound.makeAsyncIterator()
            let raw = BufferedReader {
                guard let buffer = try await iterator.next() else { return nil }
                return Array(buffer: buffer)
            }
            let writeRaw: ([UInt8]) async throws -> Void = { try await outbound.write(ByteBuffer(bytes: $0)) }
            _ = try await Multistream.select(["/noise"], reader: raw, write: writeRaw)
            let secured = try await SecureChannel.handshake(initiator: true, identity: key, expected: address.peer, reader: raw, write: writeRaw)
            let source = NoiseFrameSource(raw: raw, cipher: secured.receive) { _ in }
            let secure = BufferedReader { try await source.next() }
            let writer = SecureWriter(outbound: outbound, cipher: secured.send) { _ in }
            _ = try await Multistream.select(["/yamux/1.0.0"], reader: secure) { try await writer.write($0) }
            try await body(RawPeer(writer: writer, peer: secured.peer))
        }
    }
}

@Suite struct ConnectionHygieneTests {
    static func swarm(_ n: Int, _ edit: (inout Swarm.Config) -> Void = { _ in }) async throws -> Swarm {
        var config = Swarm.Config.loopback
        edit(&config)
        let swarm = Swarm(identity: testKey(800 + n), config: config)
        await swarm.registerCoreProtocols()
        try await swarm.listen()
        return swarm
    }

    static func waitUntil(_ condition: () async -> Bool) async throws -> Bool { try await LedgerSyncTests.waitUntil(condition) }

    // MARK: - D. Control frames never wait for a back-pressured writer

    /// The raw peer makes the node flood it (a huge window, then it stops reading), so the node's writer
    /// blocks; then it pings and sends data. The node's read loop must keep reading: every byte the peer
    /// sends after the pings is counted in. Before the fix the node waited to write the first ping reply,
    /// and read nothing more from that connection.
    @Test func controlFramesDoNotBlockTheReadLoopBehindABackPressuredWriter() async throws {
        let server = try await Self.swarm(1)
        await server.handle("/test/flood/1.0.0") { stream in
            let block = [UInt8](repeating: 9, count: 1 << 20)
            while (try? await stream.write(block)) != nil {}
        }
        let key = testKey(802)
        let address = try #require(await server.addresses.first)
        try await RawPeer.with(address, key: key) { peer in
            // Stream 1: a window of 1 GiB, then the flood protocol (header and proposal in one data frame).
            try await peer.send(YamuxHeader(kind: .windowUpdate, flags: .syn, stream: 1, length: 1 << 30))
            let proposal = Multistream.message(Multistream.header) + Multistream.message("/test/flood/1.0.0")
            try await peer.send(YamuxHeader(kind: .data, stream: 1, length: UInt32(proposal.count)), proposal)
            try await Task.sleep(for: .milliseconds(500))  // the node fills the socket buffers and its writer blocks
            let before = server.traffic.byProtocol(of: key.peerID)["transport"]?.received ?? 0
            for n in 0..<200 { try await peer.send(YamuxHeader(kind: .ping, flags: .syn, stream: 0, length: UInt32(n))) }
            let tail = [UInt8](repeating: 1, count: 60_000)
            try await peer.send(YamuxHeader(kind: .data, stream: 1, length: UInt32(tail.count)), tail)
            let read = try await Self.waitUntil {
                (server.traffic.byProtocol(of: key.peerID)["transport"]?.received ?? 0) >= before + UInt64(tail.count)
            }
            #expect(read, "the node stopped reading the connection behind its blocked writer")
            #expect(await server.isConnected(key.peerID))
        }
        await server.stop()
    }

    /// Writers whose tasks are cancelled mid-write (a deadline's timer, an HTTP request whose client went
    /// away) must not lose a sealed Noise frame: that skips a nonce, the peer fails to decrypt everything
    /// after it and bans us for "Noise message failed authentication". Seen in this suite before the fix.
    @Test func cancellingAWriterNeverCorruptsTheConnection() async throws {
        let server = try await Self.swarm(30), client = try await Self.swarm(31)
        await server.handle("/test/sink/1.0.0") { stream in while (try? await stream.readSome(max: 1 << 20)) ?? nil != nil {} }
        let peer = try await client.dial(try #require(await server.addresses.first))
        let payload = [UInt8](repeating: 3, count: 4 << 20)
        for round in 0..<20 {
            let stream = try await client.openStream(to: peer, protocols: ["/test/sink/1.0.0"])
            let writer = Task { try? await stream.write(payload) }
            try await Task.sleep(for: .milliseconds(2 + round % 5))
            writer.cancel()
            _ = await writer.value
            await stream.reset()
        }
        _ = try await Ping.ping(peer, swarm: client)
        try await Task.sleep(for: .milliseconds(200))
        #expect(server.peerGuard.banReason(client.peerID) == nil, "\(server.peerGuard.banReason(client.peerID) ?? "")")
        #expect(client.peerGuard.banReason(server.peerID) == nil)
        #expect(await server.isConnected(client.peerID))
        await client.stop()
        await server.stop()
    }

    // MARK: - C. Keepalive, idle and bounded outbound connections

    /// A peer that completes the handshake and then answers nothing (no ping replies) is dropped by the
    /// keepalive; before it existed such a connection stayed open for good.
    @Test func theKeepaliveDropsAPeerThatStoppedAnswering() async throws {
        let server = try await Self.swarm(10) {
            $0.keepaliveIntervalMillis = 100
            $0.deadlines.keepaliveMillis = 200
        }
        let key = testKey(811)
        let address = try #require(await server.addresses.first)
        try await RawPeer.with(address, key: key) { (_: RawPeer) async throws in
            #expect(try await Self.waitUntil { await server.isConnected(key.peerID) })
            #expect(try await Self.waitUntil { !(await server.isConnected(key.peerID)) }, "the dead peer is still connected")
        }
        // An honest peer answers the pings and stays.
        let client = try await Self.swarm(12)
        _ = try await client.dial(address)
        try await Task.sleep(for: .milliseconds(600))
        #expect(await server.isConnected(client.peerID))
        await client.stop()
        await server.stop()
    }

    @Test func idleOutboundConnectionsAreClosedAndTheirNumberIsBounded() async throws {
        let servers = [try await Self.swarm(20), try await Self.swarm(21), try await Self.swarm(22)]
        for server in servers { await server.handle("/test/hold/1.0.0") { stream in _ = try? await stream.readSome(max: 1) } }
        let idleCloser = try await Self.swarm(23) {
            $0.keepaliveIntervalMillis = 100
            $0.idleOutboundMillis = 200
            $0.idleKeepConnections = 0
        }
        let server = servers[0]
        _ = try await idleCloser.dial(try #require(await server.addresses.first))
        #expect(try await Self.waitUntil { !(await idleCloser.isConnected(server.peerID)) }, "an idle outbound connection stayed open")
        await idleCloser.stop()

        let bounded = try await Self.swarm(24) { $0.maxOutbound = 2 }
        for server in servers.prefix(2) { _ = try await bounded.dial(try #require(await server.addresses.first)) }
        // Both busy (a stream open on each): a third dial is refused.
        var held: [P2PStream] = []
        for server in servers.prefix(2) { held.append(try await bounded.openStream(to: server.peerID, protocols: ["/test/hold/1.0.0"])) }
        await #expect(throws: P2PError.self) { try await bounded.dial(try #require(await servers[2].addresses.first)) }
        // One idle again: the third dial closes it to make room.
        await held[0].reset()
        try await Task.sleep(for: .milliseconds(100))
        _ = try await bounded.dial(try #require(await servers[2].addresses.first))
        #expect(await bounded.isConnected(servers[2].peerID))
        #expect(!(await bounded.isConnected(servers[0].peerID)))
        #expect(await bounded.isConnected(servers[1].peerID))
        await held[1].reset()
        await bounded.stop()
        for server in servers { await server.stop() }
    }

    // MARK: - C. The address book

    static func fakePeer(_ n: Int) -> PeerID { try! PeerID(bytes: [0x12, 0x20] + SHA256.hash(Array("peer \(n)".utf8)).bytes) }

    @Test func othersAnswersNeverPushOutAPeersOwnAddresses() throws {
        let book = AddressBook(path: nil)
        let peer = Self.fakePeer(1)
        let own = try Multiaddr("/ip4/10.0.0.1/tcp/7650")
        book.add(peer, addresses: [own], protocols: [], seen: true)
        for n in 0..<40 { book.add(peer, addresses: [try Multiaddr("/ip4/192.0.2.\(n)/tcp/7650")], from: .others) }
        let addresses = book.addresses(of: peer)
        #expect(addresses.first == own, "the peer's own address comes first")
        #expect(addresses.count == 1 + AddressBook.maxAddressesPerPeer)
        // The peer's own new address still gets in.
        let second = try Multiaddr("/ip4/10.0.0.2/tcp/7650")
        book.add(peer, addresses: [second])
        #expect(Array(book.addresses(of: peer).prefix(2)) == [second, own])
    }

    @Test func aFullAddressBookEvictsInsteadOfRefusing() throws {
        let book = AddressBook(path: nil)
        let address = try Multiaddr("/ip4/10.0.0.1/tcp/7650")
        // Seen peers, oldest first, and one peer known only from others' answers.
        for n in 0..<(AddressBook.maxEntries - 1) { book.add(Self.fakePeer(n), addresses: [address], seen: true, now: Double(1_000 + n)) }
        book.add(Self.fakePeer(-1), addresses: [address], from: .others, now: 5_000_000)
        #expect(book.count == AddressBook.maxEntries)
        // Others' answers cannot push a seen peer out; with no room among unseen peers they are refused.
        book.add(Self.fakePeer(-2), addresses: [address], from: .others, now: 5_000_001)
        #expect(book.count <= AddressBook.maxEntries)
        #expect(book.entry(Self.fakePeer(0)) != nil, "a seen peer was evicted by another peer's answer")
        // A newly seen peer gets in: peers known from others go first, then the least recently seen.
        let newcomer = Self.fakePeer(AddressBook.maxEntries + 10)
        book.add(newcomer, addresses: [address], seen: true, now: 6_000_000)
        #expect(book.entry(newcomer) != nil, "a full book refused a new peer")
        #expect(book.entry(Self.fakePeer(-1)) == nil && book.entry(Self.fakePeer(-2)) == nil)
        #expect(book.entry(Self.fakePeer(0)) == nil, "the least recently seen peer goes")
        #expect(book.entry(Self.fakePeer(AddressBook.maxEntries - 2)) != nil, "the most recently seen peer stays")
        #expect(book.count <= AddressBook.maxEntries)
    }
}
