import Consensus
import Credit
import Foundation
import Ledger
import LedgerTestSupport
import Testing
@testable import LedgerNetwork

/// Dishonest peers built from the real Swarm types, against real nodes on loopback: peers that go silent,
/// peers that spam, peers that gossip back what they were sent. Deadlines are shortened through
/// `Swarm.Config.deadlines`; the tests wait generously and never time anything.
@Suite struct HostileSwarmTests {
    static let genesis = try! Genesis.development(chainID: TestChain.chainID, timeMillis: 1_000_000, bookkeeper: testKey(0).publicKey,
                                                  balances: [(testKey(1).publicKey.id, 1_000_000_000), (testKey(2).publicKey.id, 1_000)]).build()
    static var transactionTopic: String { "ledgerd/\(genesis.block.hash.hex)/tx" }
    static var blockTopic: String { "ledgerd/\(genesis.block.hash.hex)/blocks" }

    static func config(_ edit: (inout Swarm.Config) -> Void = { _ in }) -> Swarm.Config {
        var config = Swarm.Config.loopback
        edit(&config)
        return config
    }

    static func ledgerPeer(_ node: LedgerNode, key: SecretKey, config: Swarm.Config = .loopback,
                           uploadBudget: Int = LedgerPeers.syncUploadBytesPerMinuteMax) async throws -> (Swarm, LedgerPeers) {
        let swarm = Swarm(identity: key, config: config)
        await swarm.registerCoreProtocols()
        let peers = LedgerPeers(node: node, swarm: swarm, genesisHash: genesis.block.hash, logger: .quiet("ledgerd.test"),
                                syncUploadBytesPerMinute: uploadBudget)
        await peers.start()
        try await swarm.listen()
        return (swarm, peers)
    }

    /// A bare swarm that claims the ledger protocols (so nodes treat it as a ledger peer) and records the
    /// transactions gossiped to it.
    static func fakeLedgerPeer(_ n: Int, received: Received? = nil, sync: Swarm.Handler? = nil) async throws -> Swarm {
        let swarm = Swarm(identity: testKey(700 + n), config: .loopback)
        await swarm.registerCoreProtocols()
        // It hears the transaction topic over gossipsub and records what arrives (forwarding nothing).
        let pubsub = Gossipsub(swarm: swarm, logger: .quiet("ledgerd.test"))
        await pubsub.subscribe(transactionTopic) { bytes, _ in
            await received?.add(bytes)
            return .ignore
        }
        await pubsub.subscribe(blockTopic) { _, _ in .ignore }  // (a node publishes only on topics it follows)
        await pubsub.start()
        await FakePubsubs.shared.keep(pubsub, for: swarm.peerID)
        // By default an honest peer at height 0 of the same chain.
        let status = CBOREncoder.encode(.map(["chain": .text(TestChain.chainID), "genesis": .bytes(genesis.block.hash.bytes), "height": .unsigned(0),
                                              "hash": .bytes(genesis.block.hash.bytes)]))
        await swarm.handle(LedgerPeers.syncProtocol, sync ?? { stream in
            _ = try await stream.readMessage(max: 512)
            try await stream.writeMessage(status)
            await stream.close()
        })
        try await swarm.listen()
        return swarm
    }

    /// Waits (generously) for an operation that must end; nil if it did not end within `seconds`.
    static func finishes<T: Sendable>(within seconds: Int, _ body: @escaping @Sendable () async -> T) async -> T? {
        try? await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T?, Error>) in
            let once = Once(continuation)
            Task { once.resume(returning: await body()) }
            Task {
                try? await Task.sleep(for: .seconds(seconds))
                once.resume(returning: nil)
            }
        }
    }

    /// A peer waits for its handler's stream to be reset or closed by the other side, answering nothing.
    static let silent: Swarm.Handler = { stream in
        while (try? await stream.readSome(max: 1 << 16)) != nil {}
    }

    // MARK: - A. Deadlines

    /// A peer announces a far higher block and then never answers a sync request. Before sync requests had
    /// a deadline (and before sync queued peers instead of retrying the first one) the follower stayed at
    /// height 0 for good; now the request expires and the honest leader's blocks arrive.
    @Test func aSilentPeerAnnouncingAHigherBlockDoesNotStopSync() async throws {
        var chain = TestChain(balances: [(testKey(1), 1_000_000_000), (testKey(2), 1_000)])
        let leader = try LedgerSyncTests.node("deadline-leader", key: testKey(0), genesis: Self.genesis)
        let follower = try LedgerSyncTests.node("deadline-follower", key: testKey(9), genesis: Self.genesis)
        for _ in 0..<5 {
            let block = try chain.apply(chain.transaction(TransferRule.type, TransferRule.body(to: testKey(2).publicKey.id, amount: 1), [testKey(1), testKey(2)]))
            #expect(try await leader.importBlock(block))
        }
        let (leaderSwarm, leaderPeers) = try await Self.ledgerPeer(leader, key: testKey(0))
        let (followerSwarm, followerPeers) = try await Self.ledgerPeer(follower, key: testKey(9), config: Self.config { $0.deadlines.syncRequestMillis = 300 })
        let asked = Received()
        let liar = try await Self.fakeLedgerPeer(1) { stream in
            await asked.add([])
            try await Self.silent(stream)
        }

        let followerAddress = try #require(await followerSwarm.addresses.first)
        _ = try await liar.dial(followerAddress)
        let liarPubsub = try #require(await FakePubsubs.shared.pubsub(of: liar.peerID))
        #expect(try await LedgerSyncTests.waitUntil { await liarPubsub.peers(in: Self.blockTopic).subscribed.contains(followerSwarm.peerID) })
        await liarPubsub.publish(Self.blockTopic, CBOREncoder.encode(.map(["chain": .text(TestChain.chainID), "height": .unsigned(1_000_000), "hash": .bytes([UInt8](repeating: 7, count: 32))])))
        _ = try await followerSwarm.dial(try #require(await leaderSwarm.addresses.first))

        #expect(try await LedgerSyncTests.waitUntil { await follower.latest.height == 5 }, "sync did not resume from the honest peer")
        #expect(await follower.latest.hash == leader.latest.hash)
        #expect(followerSwarm.peerGuard.banReason(liar.peerID) == nil, "a slow peer is left, not banned")
        // Announcing again does not make the follower wait for it again (for a minute).
        for _ in 0..<3 {
            await liarPubsub.publish(Self.blockTopic, CBOREncoder.encode(.map(["chain": .text(TestChain.chainID), "height": .unsigned(1_000_000), "hash": .bytes([UInt8](repeating: 8, count: 32))])))
        }
        try await Task.sleep(for: .milliseconds(500))
        let times = await asked.count
        #expect(times == 1, "the follower asked the silent peer \(times) times")
        withExtendedLifetime((leaderPeers, followerPeers)) {}
        for swarm in [liar, followerSwarm, leaderSwarm] { await swarm.stop() }
    }

    /// A DHT peer that accepts every kad-dht stream and never answers: a lookup through it still ends (each
    /// query has a deadline, the peer counts as failed) and finds the peer an honest node knows. Before the
    /// deadline the lookup waited for the silent peer for ever, and so did `/api/v1/dht/peers/…`.
    @Test func aSilentDHTPeerDoesNotStallALookup() async throws {
        let asker = Swarm(identity: testKey(720), config: Self.config { $0.deadlines.dhtQueryMillis = 300 })
        await asker.registerCoreProtocols()
        try await asker.listen()
        let askerDHT = DHT(swarm: asker, tablePath: nil)
        await askerDHT.start()

        let silentSwarm = try await SwarmTests.swarm(721 - 500)
        await silentSwarm.handle(DHT.protocolID, Self.silent)
        let honest = try await SwarmTests.swarm(722 - 500), target = try await SwarmTests.swarm(723 - 500)
        let honestDHT = DHT(swarm: honest, tablePath: nil), targetDHT = DHT(swarm: target, tablePath: nil)
        await honestDHT.start()
        await targetDHT.start()
        _ = await targetDHT.bootstrap([try #require(await honest.addresses.first)])  // only the honest node knows the target

        for swarm in [silentSwarm, honest] {
            let peer = try await asker.dial(try #require(await swarm.addresses.first))
            await askerDHT.add(peer)
        }
        let wanted = target.peerID
        let found = await Self.finishes(within: 30) { await askerDHT.findPeer(wanted) }
        let result = try #require(found, "the lookup did not end")
        #expect(result?.addresses.isEmpty == false, "the honest node's answer was used")
        let closest = await Self.finishes(within: 30) { await askerDHT.closestPeers(to: Array("anything".utf8)) }
        #expect(closest?.failed ?? 0 >= 1, "the silent peer counts as failed")
        #expect(closest?.closest.contains(silentSwarm.peerID) == false)
        for swarm in [asker, silentSwarm, honest, target] { await swarm.stop() }
    }

    /// A peer may download only its budget of blocks per minute: with the budget cut to about three
    /// blocks, a follower 20 blocks behind gets a few and then status answers without blocks, while the
    /// leader keeps serving. Before the budget it downloaded all 20 at once.
    @Test func syncUploadsHaveAPerPeerBudget() async throws {
        var chain = TestChain(balances: [(testKey(1), 1_000_000_000), (testKey(2), 1_000)])
        let leader = try LedgerSyncTests.node("budget-leader", key: testKey(0), genesis: Self.genesis)
        let follower = try LedgerSyncTests.node("budget-follower", key: testKey(9), genesis: Self.genesis)
        var blockBytes = 0
        for _ in 0..<20 {
            let block = try chain.apply(chain.transaction(TransferRule.type, TransferRule.body(to: testKey(2).publicKey.id, amount: 1), [testKey(1), testKey(2)]))
            blockBytes = max(blockBytes, block.encoded.count)
            #expect(try await leader.importBlock(block))
        }
        let (leaderSwarm, leaderPeers) = try await Self.ledgerPeer(leader, key: testKey(0), uploadBudget: 3 * blockBytes + blockBytes / 2)
        let (followerSwarm, followerPeers) = try await Self.ledgerPeer(follower, key: testKey(9))
        _ = try await followerSwarm.dial(try #require(await leaderSwarm.addresses.first))
        #expect(try await LedgerSyncTests.waitUntil { await follower.latest.height >= 3 })
        try await Task.sleep(for: .milliseconds(500))
        let height = await follower.latest.height
        #expect(height >= 3 && height < 20, "the follower downloaded \(height) blocks on a budget of about 3")
        withExtendedLifetime((leaderPeers, followerPeers)) {}
        for swarm in [followerSwarm, leaderSwarm] { await swarm.stop() }
    }

    /// A peer that opens a kad-dht stream and never sends its request: the node resets the stream once
    /// its handler has waited `inboundIdleMillis`, instead of holding the stream (and a task) for good.
    @Test func anInboundStreamWhoseOpenerGoesSilentIsReset() async throws {
        let server = Swarm(identity: testKey(730), config: Self.config { $0.deadlines.inboundIdleMillis = 300 })
        await server.registerCoreProtocols()
        try await server.listen()
        let dht = DHT(swarm: server, tablePath: nil)
        await dht.start()
        let client = try await SwarmTests.swarm(731 - 500)
        let peer = try await client.dial(try #require(await server.addresses.first))
        let stream = try await client.openStream(to: peer, protocols: [DHT.protocolID])
        let ended = await Self.finishes(within: 30) { (try? await stream.readSome(max: 1)) ?? nil }
        #expect(ended != nil, "the node kept the silent stream open")
        #expect(server.peerGuard.banReason(client.peerID) == nil)
        _ = try await Ping.ping(peer, swarm: client)  // the connection itself is fine
        for swarm in [client, server] { await swarm.stop() }
    }

    // MARK: - B. Seen transactions

    /// A transaction gossiped twice is admitted once, relayed once to each other ledger peer, and never
    /// sent back to the peer it came from; one that failed admission is not checked (or scored) again.
    @Test func aTransactionSeenBeforeIsNeitherCheckedNorRelayedAgainNorSentBack() async throws {
        var chain = TestChain(balances: [(testKey(1), 1_000_000_000), (testKey(2), 1_000)])
        let leader = try LedgerSyncTests.node("seen-leader", key: testKey(0), genesis: Self.genesis)
        let (leaderSwarm, leaderPeers) = try await Self.ledgerPeer(leader, key: testKey(0))
        let fromSender = Received(), fromOther = Received()
        let sender = try await Self.fakeLedgerPeer(10, received: fromSender), other = try await Self.fakeLedgerPeer(11, received: fromOther)
        let address = try #require(await leaderSwarm.addresses.first)
        for peer in [sender, other] { _ = try await peer.dial(address) }
        #expect(try await LedgerSyncTests.waitUntil {
            [sender, other].allSatisfy { leaderSwarm.addressBook.entry($0.peerID)?.protocols.contains(LedgerPeers.syncProtocol) == true }
        })

        let transfer = chain.transaction(TransferRule.type, TransferRule.body(to: testKey(2).publicKey.id, amount: 5), [testKey(1), testKey(2)])
        let unfunded = chain.transaction(TransferRule.type, TransferRule.body(to: testKey(2).publicKey.id, amount: 5), [testKey(3), testKey(2)])
        let senderPubsub = try #require(await FakePubsubs.shared.pubsub(of: sender.peerID))
        #expect(try await LedgerSyncTests.waitUntil { await senderPubsub.peers(in: Self.transactionTopic).subscribed.contains(leaderSwarm.peerID) })
        // Gossipsub delivers to peers subscribed when a message passes (not before they joined).
        #expect(try await LedgerSyncTests.waitUntil { await leaderPeers.pubsub.peers(in: Self.transactionTopic).subscribed.contains(other.peerID) })
        for _ in 0..<3 {
            await senderPubsub.publish(Self.transactionTopic, transfer.encoded)
            await senderPubsub.publish(Self.transactionTopic, unfunded.encoded)
        }
        #expect(try await LedgerSyncTests.waitUntil { await fromOther.count >= 1 })
        try await Task.sleep(for: .milliseconds(500))  // let the rest be handled and any further relay arrive (there must be none)
        #expect(await leader.mempoolCount == 1)
        #expect(await fromOther.all == [transfer.encoded], "relayed exactly once to the other peer")
        #expect(await fromSender.count == 0, "sent back to the peer it came from")
        // +1 for the admitted transfer, −1 for the unfunded one, each counted once though sent three times.
        #expect(await leaderPeers.gossipScore(of: sender.peerID) == 0)
        #expect(leaderSwarm.peerGuard.banReason(sender.peerID) == nil)
        for swarm in [sender, other, leaderSwarm] { await swarm.stop() }
    }

    // MARK: - C. Spam

    /// Validly signed transactions from unfunded keys: each fails admission, the sender's score falls, and
    /// at `gossipScoreMin` it is banned; its transactions never reach the mempool.
    @Test func aPeerGossipingUnfundedTransactionsIsBanned() async throws {
        var chain = TestChain(balances: [(testKey(1), 1_000_000_000), (testKey(2), 1_000)])
        let leader = try LedgerSyncTests.node("spam-leader", key: testKey(0), genesis: Self.genesis)
        let (leaderSwarm, leaderPeers) = try await Self.ledgerPeer(leader, key: testKey(0))
        let spammer = try await Self.fakeLedgerPeer(20)
        _ = try await spammer.dial(try #require(await leaderSwarm.addresses.first))
        let spammerPubsub = try #require(await FakePubsubs.shared.pubsub(of: spammer.peerID))
        #expect(try await LedgerSyncTests.waitUntil { await spammerPubsub.peers(in: Self.transactionTopic).subscribed.contains(leaderSwarm.peerID) })
        for n in 0..<(-LedgerPeers.gossipScoreMin + 10) {
            let spam = chain.transaction(TransferRule.type, TransferRule.body(to: testKey(2).publicKey.id, amount: 1), [testKey(1000 + n), testKey(2)])
            await spammerPubsub.publish(Self.transactionTopic, spam.encoded)
        }
        #expect(try await LedgerSyncTests.waitUntil { leaderSwarm.peerGuard.banReason(spammer.peerID) != nil })
        #expect(leaderSwarm.peerGuard.banReason(spammer.peerID)?.contains("failed admission") == true)
        #expect(await leader.mempoolCount == 0)
        withExtendedLifetime(leaderPeers) {}
        for swarm in [spammer, leaderSwarm] { await swarm.stop() }
    }
}

/// The gossipsub routers of fake peers, kept alive for as long as the tests run (a swarm holds its
/// handlers' owners weakly).
actor FakePubsubs {
    static let shared = FakePubsubs()
    private var routers: [PeerID: Gossipsub] = [:]
    func keep(_ pubsub: Gossipsub, for peer: PeerID) { routers[peer] = pubsub }
    func pubsub(of peer: PeerID) -> Gossipsub? { routers[peer] }
}

/// Messages a fake peer received (handlers run concurrently).
actor Received {
    private(set) var all: [[UInt8]] = []
    func add(_ message: [UInt8]) { all.append(message) }
    var count: Int { all.count }
}
