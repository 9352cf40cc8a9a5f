import Consensus
import Credit
import Foundation
import Ledger
import LedgerTestSupport
import Logging
import Storage
import Synchronization
import Testing
@testable import LedgerNetwork

/// Two nodes in this process, each with its own SQLite store, joined by real swarms on loopback: the
/// follower catches up over several sync requests (more blocks than one request carries), then follows
/// announcements, and its transactions reach the bookkeeper by gossip.
@Suite struct LedgerSyncTests {
    static func node(_ name: String, key: SecretKey, genesis: (state: LedgerState, block: Block),
                     clock: @escaping @Sendable () -> UInt64 = { 10_000_000_000 }) throws -> LedgerNode {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ledgerd-sync-\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try LedgerStore(path: directory.appendingPathComponent("ledger.sqlite").path, create: true)
        try store.initialize(genesis: genesis.block, state: genesis.state)
        // Far enough ahead of the test chain's clock that every block is in the past.
        return try LedgerNode(store: store, machine: StateMachine(rules: LedgerRules.all + CreditRules.all), key: key,
                              clock: clock, logger: .quiet("ledgerd.test"))
    }

    static func peer(_ node: LedgerNode, key: SecretKey, genesis: Digest) async throws -> (Swarm, LedgerPeers) {
        let swarm = Swarm(identity: key, config: .loopback)
        await swarm.registerCoreProtocols()
        let peers = LedgerPeers(node: node, swarm: swarm, genesisHash: genesis, logger: .quiet("ledgerd.test"))
        await peers.start()
        try await swarm.listen()
        return (swarm, peers)
    }

    static func waitUntil(_ condition: () async -> Bool) async throws -> Bool {
        for _ in 0..<500 {
            if await condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    @Test func aFollowerSyncsFollowsAndGossips() async throws {
        var chain = TestChain(balances: [(testKey(1), 1_000_000_000), (testKey(2), 1_000)])
        let genesis = try Genesis.development(chainID: TestChain.chainID, timeMillis: 1_000_000, bookkeeper: testKey(0).publicKey,
                                              balances: [(testKey(1).publicKey.id, 1_000_000_000), (testKey(2).publicKey.id, 1_000)]).build()
        let leader = try Self.node("leader", key: testKey(0), genesis: genesis)
        let follower = try Self.node("follower", key: testKey(9), genesis: genesis)
        #expect(await leader.isBookkeeper)
        #expect(!(await follower.isBookkeeper))

        // 150 blocks: more than two sync requests' worth (64 each).
        for _ in 0..<150 {
            let block = try chain.apply(chain.transaction(TransferRule.type, TransferRule.body(to: testKey(2).publicKey.id, amount: 1), [testKey(1), testKey(2)]))
            #expect(try await leader.importBlock(block))
        }
        let (leaderSwarm, leaderPeers) = try await Self.peer(leader, key: testKey(0), genesis: genesis.block.hash)
        let (followerSwarm, followerPeers) = try await Self.peer(follower, key: testKey(9), genesis: genesis.block.hash)
        _ = try await followerSwarm.dial(try #require(await leaderSwarm.addresses.first))
        #expect(try await Self.waitUntil { await follower.latest.height == 150 })
        #expect(await follower.latest.hash == leader.latest.hash)
        #expect(await follower.state.rootHash == leader.state.rootHash)
        #expect(await follower.syncTarget == nil)

        // A block the leader commits later arrives by announcement.
        let next = try chain.apply(chain.transaction(TransferRule.type, TransferRule.body(to: testKey(2).publicKey.id, amount: 1), [testKey(1), testKey(2)]))
        #expect(try await leader.importBlock(next))
        #expect(try await Self.waitUntil { await follower.latest.height == 151 })

        // A transaction submitted to the follower reaches the bookkeeper's mempool, which decides it alone (a set of one).
        let gossiped = chain.transaction(TransferRule.type, TransferRule.body(to: testKey(2).publicKey.id, amount: 5), [testKey(1), testKey(2)])
        _ = try await follower.submit(gossiped)
        #expect(try await Self.waitUntil { await leader.mempoolCount == 1 })
        let driver = try await ConsensusDriver(node: leader, config: ConsensusConfig(), wal: nil, clock: { 10_000_000_000 }, logger: .quiet("ledgerd.test"))
        #expect(await driver.pulse() != nil, "a bookkeeper alone decides its own proposal in the pulse")
        #expect(try await Self.waitUntil {
            let height = await follower.latest.height, pending = await follower.mempoolCount
            return height == 152 && pending == 0
        })
        let traffic = followerSwarm.traffic.byProtocol(of: leaderSwarm.peerID)
        #expect((traffic[LedgerPeers.syncProtocol]?.received ?? 0) > 0)
        #expect((traffic[Gossipsub.protocolName]?.sent ?? 0) > 0, "the transaction went over gossipsub")

        withExtendedLifetime((leaderPeers, followerPeers)) {}  // the swarms' handlers hold them weakly
        await followerSwarm.stop()
        await leaderSwarm.stop()
    }

    /// A peer gossiping a transaction with a forged signature is banned; the transaction goes nowhere.
    @Test func aForgedGossipedTransactionBansItsSender() async throws {
        var chain = TestChain(balances: [(testKey(1), 1_000_000), (testKey(2), 1_000)])
        let genesis = try Genesis.development(chainID: TestChain.chainID, timeMillis: 1_000_000, bookkeeper: testKey(0).publicKey,
                                              balances: [(testKey(1).publicKey.id, 1_000_000), (testKey(2).publicKey.id, 1_000)]).build()
        let leader = try Self.node("forged", key: testKey(0), genesis: genesis)
        let (leaderSwarm, leaderPeers) = try await Self.peer(leader, key: testKey(0), genesis: genesis.block.hash)
        let hostile = try await SwarmTests.swarm(60)
        let peer = try await hostile.dial(try #require(await leaderSwarm.addresses.first))
        var encoded = chain.transaction(TransferRule.type, TransferRule.body(to: testKey(2).publicKey.id, amount: 1), [testKey(1), testKey(2)]).encoded
        encoded[encoded.count - 1] ^= 0x01  // inside the last signature
        let pubsub = Gossipsub(swarm: hostile, logger: .quiet("ledgerd.test"))
        await pubsub.subscribe(leaderPeers.transactionTopic) { _, _ in .ignore }
        await pubsub.start()
        #expect(try await Self.waitUntil { await pubsub.peers(in: leaderPeers.transactionTopic).subscribed.contains(peer) })
        await pubsub.publish(leaderPeers.transactionTopic, encoded)
        #expect(try await Self.waitUntil { leaderSwarm.peerGuard.banReason(hostile.peerID) != nil })
        #expect(leaderSwarm.peerGuard.banReason(hostile.peerID)?.contains("signature") == true, "\(leaderSwarm.peerGuard.banReason(hostile.peerID) ?? "")")
        #expect(await leader.mempoolCount == 0)
        withExtendedLifetime(leaderPeers) {}
        await hostile.stop()
        await leaderSwarm.stop()
    }

    /// A certified block whose transaction carries a forged signature (its root and certificate made over
    /// the forgery, as a dishonest set would): the parallel signature check off the actor refuses it, and
    /// the node's chain and state are as before.
    @Test func aCertifiedBlockWithAForgedTransactionSignatureIsRefused() async throws {
        var chain = TestChain(balances: [(testKey(1), 1_000_000), (testKey(2), 1_000)])
        let genesis = try Genesis.development(chainID: TestChain.chainID, timeMillis: 1_000_000, bookkeeper: testKey(0).publicKey,
                                              balances: [(testKey(1).publicKey.id, 1_000_000), (testKey(2).publicKey.id, 1_000)]).build()
        let node = try Self.node("forged-block", key: testKey(0), genesis: genesis)
        let honest = chain.transaction(TransferRule.type, TransferRule.body(to: testKey(2).publicKey.id, amount: 5), [testKey(1), testKey(2)])
        var signatures = honest.signatures
        signatures[0] = try Signature(bytes: Array(repeating: 1, count: 64))
        let forged = SignedTransaction(transaction: honest.transaction, signatures: signatures)
        let made = try #require(Chain.propose([forged], after: genesis.block.header, lastCommit: nil, state: genesis.state, machine: chain.machine,
                                              timeMillis: 1_000_000 + 1_000, proposer: testKey(0).publicKey.id, verifySignatures: false))
        let block = made.block.certified(by: [testKey(0)])
        await #expect(throws: Rejection.self) { _ = try await node.importBlock(block) }
        let (height, root) = (await node.latest.height, await node.state.rootHash)
        #expect(height == 0 && root == genesis.state.rootHash)
    }

    /// Consensus and sync both bring a decided block (sync's import, verified off the actor, may land
    /// first): the second commit is a no-op, not a damaged store that stops the node voting.
    @Test func theSameDecidedBlockFromSyncAndConsensusIsStoredOnce() async throws {
        var chain = TestChain(balances: [(testKey(1), 1_000_000), (testKey(2), 1_000)])
        let genesis = try Genesis.development(chainID: TestChain.chainID, timeMillis: 1_000_000, bookkeeper: testKey(0).publicKey,
                                              balances: [(testKey(1).publicKey.id, 1_000_000), (testKey(2).publicKey.id, 1_000)]).build()
        let node = try Self.node("twice", key: testKey(0), genesis: genesis)
        let block = try chain.apply(chain.transaction(TransferRule.type, TransferRule.body(to: testKey(2).publicKey.id, amount: 5), [testKey(1), testKey(2)]))
        let applied = try Chain.apply(block, after: genesis.block.header, state: genesis.state, machine: chain.machine)
        #expect(try await node.importBlock(block))
        try await node.commit(block, applied: applied)
        let height = await node.latest.height
        let stored = try await node.store.latestHeight()
        #expect(height == 1 && stored == 1)
    }
}
