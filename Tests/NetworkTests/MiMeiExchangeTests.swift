import Foundation
import Ledger
import LedgerTestSupport
import Storage
import Testing
@testable import LedgerNetwork

/// The MiMei exchange between real swarms on loopback (specs/p2p.md §7.3): a reader whose capability
/// names its peer ID gets a private MiMei's head and blocks; the same capability presented by another
/// peer, a bearer capability, a forged one, or a request for a block outside the MiMei all get the same
/// `not found`; a request that is not the protocol's map gets its sender banned.
@Suite struct MiMeiExchangeTests {
    struct Node {
        let swarm: Swarm
        let exchange: MiMeiExchange
        let store: MiMeiStore
    }

    static func node(_ n: Int) async throws -> Node {
        let swarm = Swarm(identity: testKey(850 + n), config: .loopback)
        await swarm.registerCoreProtocols()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("exchange-\(n)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let store = try MiMeiStore(content: try ContentStore(path: folder + "/content.sqlite"))
        let exchange = MiMeiExchange(swarm: swarm, store: store)
        await exchange.start()
        try await swarm.listen()
        return Node(swarm: swarm, exchange: exchange, store: store)
    }

    static func connect(_ from: Node, _ to: Node) async throws {
        let address = try #require(await to.swarm.listenAddresses.first)
        _ = try await from.swarm.dial(address)
    }

    @Test func onlyTheNamedReaderGetsAPrivateMiMeisHeadAndBlocks() async throws {
        let author = testKey(1)
        let holder = try await Self.node(1), reader = try await Self.node(2), stranger = try await Self.node(3)
        let mimei = try MiMei(author: author.publicKey.id, mark: 5, created: 1_700_000_000_000, isPrivate: true)
        try holder.store.add(mimei)
        // Its content: one block marked as the MiMei's, and a public block beside it.
        let secret = Array("the private content".utf8), open = Array("public".utf8)
        try holder.store.content.put(CID.raw(secret), secret, privateTo: mimei.id)
        try holder.store.content.put(CID.raw(open), open)
        try holder.store.addVersion(mimei.id, cid: CID.raw(secret))
        let head = try MiMeiHead(mimei: mimei, version: 1, cid: CID.raw(secret), endOfLife: .max)
        try holder.store.setHead(mimei.id, record: DHTRecord(key: mimei.headKey, value: head.encoded, seq: 1, signer: author).encoded)
        let expires = UInt64(Date().timeIntervalSince1970 * 1000) + 3_600_000
        let granted = MiMeiCapability(mimei: mimei.id, reader: reader.swarm.peerID.bytes, expires: expires, author: author)
        try await Self.connect(reader, holder)
        try await Self.connect(stranger, holder)

        // The reader: the head, then the block, checked against its CID.
        let found = await reader.exchange.head(mimei.id, capability: granted.encoded, peers: [holder.swarm.peerID])
        #expect(found?.head == head && found?.peers == [holder.swarm.peerID])
        try reader.store.setCapability(mimei.id, granted.encoded)
        #expect(try await reader.exchange.block(CID.raw(secret), of: mimei.id) == secret)
        // Not a block of this MiMei: refused even to the reader.
        await #expect(throws: BitswapError.self) { try await reader.exchange.block(CID.raw(open), of: mimei.id) }

        // The stranger: with the reader's capability, a bearer one, a forged one, or none — nothing.
        let bearer = MiMeiCapability(mimei: mimei.id, reader: [], expires: expires, author: author)
        let forged = MiMeiCapability(mimei: mimei.id, reader: stranger.swarm.peerID.bytes, expires: expires, author: testKey(2))
        let expired = MiMeiCapability(mimei: mimei.id, reader: stranger.swarm.peerID.bytes, expires: 1, author: author)
        for capability in [granted, bearer, forged, expired].map(\.encoded) + [[]] {
            #expect(await stranger.exchange.head(mimei.id, capability: capability, peers: [holder.swarm.peerID]) == nil)
            #expect(holder.exchange.block(CID.raw(secret), of: mimei.id, capability: capability, peer: stranger.swarm.peerID) == nil)
        }
        try stranger.store.setCapability(mimei.id, granted.encoded)
        await #expect(throws: BitswapError.self) { try await stranger.exchange.block(CID.raw(secret), of: mimei.id) }

        // Noise instead of the request map: the sender is banned.
        let stream = try await stranger.swarm.openStream(to: holder.swarm.peerID, protocols: [MiMeiExchange.protocolID])
        try await stream.writeMessage([0xff, 0x00, 0x13])
        for _ in 0..<500 where holder.swarm.peerGuard.banReason(stranger.swarm.peerID) == nil { try await Task.sleep(for: .milliseconds(10)) }
        #expect(holder.swarm.peerGuard.banReason(stranger.swarm.peerID) != nil)
    }
}
