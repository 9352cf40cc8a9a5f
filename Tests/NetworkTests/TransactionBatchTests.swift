import Foundation
import Ledger
import LedgerTestSupport
import Testing
@testable import LedgerNetwork

/// Gossiped transactions travel one per message or in batches (specs/p2p.md §7): the batch format's
/// bounds, and what a node does with a batch a peer sends — honest (admitted in nonce order whatever
/// the order inside) or forged (the sender banned, nothing of it admitted).
@Suite struct TransactionBatchTests {
    static func transfers(_ count: Int, from payer: SecretKey = testKey(1)) -> [SignedTransaction] {
        var chain = TestChain(balances: [(testKey(1), 1_000_000_000), (testKey(2), 1_000)])
        return (0..<count).map { nonce in
            chain.transaction(TransferRule.type, TransferRule.body(to: testKey(2).publicKey.id, amount: 1), [payer, testKey(2)], nonce: UInt64(nonce))
        }
    }

    @Test func aBatchIsAnArrayOfTransactionsAndNothingElse() {
        let items = Self.transfers(3).map(\.encoded)
        // One transaction alone is sent as itself (what any gossipsub peer, Kubo included, sees today).
        #expect(LedgerPeers.message(of: [items[0]]) == items[0])
        #expect(LedgerPeers.transactions(in: items[0]) == [items[0]])
        let batch = LedgerPeers.message(of: items)
        #expect(batch.first == 0x83)
        #expect(LedgerPeers.transactions(in: batch) == items)

        // Refused: empty data, a batch of one (it must be sent as itself), an element that is not a byte
        // string, a transaction over its size bound, more than batchCountMax, a batch over batchBytesMax.
        #expect(LedgerPeers.transactions(in: []) == nil)
        #expect(LedgerPeers.transactions(in: CBOREncoder.encode(.array([.bytes(items[0])]))) == nil)
        #expect(LedgerPeers.transactions(in: CBOREncoder.encode(.array([.bytes(items[0]), .text("x")]))) == nil)
        let huge = [UInt8](repeating: 0xa0, count: Transaction.encodedBytesMax + 1)
        #expect(LedgerPeers.transactions(in: CBOREncoder.encode(.array([.bytes(items[0]), .bytes(huge)]))) == nil)
        #expect(LedgerPeers.transactions(in: huge) == nil)
        let many = CBOREncoder.encode(.array(Array(repeating: CBOR.bytes([0xa0]), count: LedgerPeers.batchCountMax + 1)))
        #expect(LedgerPeers.transactions(in: many) == nil)
        let heavy = CBOREncoder.encode(.array(Array(repeating: CBOR.bytes([UInt8](repeating: 0xa0, count: 10_000)), count: 60)))
        #expect(heavy.count > LedgerPeers.batchBytesMax && LedgerPeers.transactions(in: heavy) == nil)
        // Truncated: does not decode.
        #expect(LedgerPeers.transactions(in: Array(batch.dropLast())) == nil)
    }

    /// A batch whose transactions are out of nonce order is admitted whole (the later nonces wait parked
    /// for the earlier); the same batch again changes nothing; the sender's score rises once per transaction.
    @Test func anHonestBatchIsAdmittedInNonceOrder() async throws {
        let leader = try LedgerSyncTests.node("batch-leader", key: testKey(0), genesis: HostileSwarmTests.genesis)
        let (leaderSwarm, leaderPeers) = try await HostileSwarmTests.ledgerPeer(leader, key: testKey(0))
        let sender = try await HostileSwarmTests.fakeLedgerPeer(30)
        _ = try await sender.dial(try #require(await leaderSwarm.addresses.first))
        let pubsub = try #require(await FakePubsubs.shared.pubsub(of: sender.peerID))
        #expect(try await LedgerSyncTests.waitUntil { await pubsub.peers(in: HostileSwarmTests.transactionTopic).subscribed.contains(leaderSwarm.peerID) })

        let transfers = Self.transfers(5)
        let shuffled = [transfers[3], transfers[0], transfers[4], transfers[1], transfers[2]].map(\.encoded)
        await pubsub.publish(HostileSwarmTests.transactionTopic, LedgerPeers.message(of: shuffled))
        #expect(try await LedgerSyncTests.waitUntil { await leader.mempoolCount == 5 })
        #expect(await leader.pendingTransactions.map(\.transaction.nonce) == [0, 1, 2, 3, 4])
        await pubsub.publish(HostileSwarmTests.transactionTopic, LedgerPeers.message(of: shuffled))
        try await Task.sleep(for: .milliseconds(300))
        #expect(await leader.mempoolCount == 5)
        #expect(await leaderPeers.gossipScore(of: sender.peerID) == 5)
        #expect(leaderSwarm.peerGuard.banReason(sender.peerID) == nil)
        for swarm in [sender, leaderSwarm] { await swarm.stop() }
    }

    /// One forged signature in a batch of valid transfers: the sender is banned and none of the batch is
    /// admitted (a batch is accepted or refused whole, so a forger cannot hide among honest transactions).
    @Test func aBatchWithOneForgedSignatureBansTheSenderAndAdmitsNothing() async throws {
        let leader = try LedgerSyncTests.node("batch-forged", key: testKey(0), genesis: HostileSwarmTests.genesis)
        let (leaderSwarm, leaderPeers) = try await HostileSwarmTests.ledgerPeer(leader, key: testKey(0))
        let forger = try await HostileSwarmTests.fakeLedgerPeer(31)
        _ = try await forger.dial(try #require(await leaderSwarm.addresses.first))
        let pubsub = try #require(await FakePubsubs.shared.pubsub(of: forger.peerID))
        #expect(try await LedgerSyncTests.waitUntil { await pubsub.peers(in: HostileSwarmTests.transactionTopic).subscribed.contains(leaderSwarm.peerID) })

        var transfers = Self.transfers(4)
        // The payee's signature of the third is replaced by one over another transaction.
        transfers[2].signatures[1] = transfers[3].signatures[1]
        await pubsub.publish(HostileSwarmTests.transactionTopic, LedgerPeers.message(of: transfers.map(\.encoded)))
        #expect(try await LedgerSyncTests.waitUntil { leaderSwarm.peerGuard.banReason(forger.peerID) != nil })
        #expect(leaderSwarm.peerGuard.banReason(forger.peerID)?.contains("signature") == true)
        #expect(await leader.mempoolCount == 0)
        withExtendedLifetime(leaderPeers) {}
        for swarm in [forger, leaderSwarm] { await swarm.stop() }
    }

    /// The attack a forwarded batch allowed: one admissible transfer carrying a thousand unfunded ones.
    /// The node admits the transfer, scores the sender down, and sends on only what it admitted, in its
    /// own message — so the next honest node never sees the unfunded ones and has no reason to score or
    /// ban this node.
    @Test func aBatchIsNeverForwardedAsItCameOnlyWhatWasAdmitted() async throws {
        let leader = try LedgerSyncTests.node("batch-relay", key: testKey(0), genesis: HostileSwarmTests.genesis)
        let (leaderSwarm, leaderPeers) = try await HostileSwarmTests.ledgerPeer(leader, key: testKey(0))
        let attacker = try await HostileSwarmTests.fakeLedgerPeer(33)
        let received = Received()
        let honest = try await HostileSwarmTests.fakeLedgerPeer(34, received: received)
        let address = try #require(await leaderSwarm.addresses.first)
        for peer in [attacker, honest] { _ = try await peer.dial(address) }
        let pubsub = try #require(await FakePubsubs.shared.pubsub(of: attacker.peerID))
        #expect(try await LedgerSyncTests.waitUntil { await pubsub.peers(in: HostileSwarmTests.transactionTopic).subscribed.contains(leaderSwarm.peerID) })
        #expect(try await LedgerSyncTests.waitUntil { await leaderPeers.pubsub.peers(in: HostileSwarmTests.transactionTopic).subscribed.contains(honest.peerID) })

        var chain = TestChain(balances: [(testKey(1), 1_000_000_000), (testKey(2), 1_000)])
        let good = Self.transfers(1)[0]
        let unfunded = (0..<20).map { n in
            chain.transaction(TransferRule.type, TransferRule.body(to: testKey(2).publicKey.id, amount: 1), [testKey(2000 + n), testKey(2)])
        }
        await pubsub.publish(HostileSwarmTests.transactionTopic, LedgerPeers.message(of: [good.encoded] + unfunded.map(\.encoded)))
        #expect(try await LedgerSyncTests.waitUntil { await received.count >= 1 })
        try await Task.sleep(for: .milliseconds(300))
        #expect(await leader.mempoolCount == 1)
        let sent = await received.all.compactMap(LedgerPeers.transactions(in:)).joined()
        #expect(Array(sent) == [good.encoded], "only the admitted transfer goes on")
        #expect(await leaderPeers.gossipScore(of: attacker.peerID) == 1 - 20)
        for swarm in [attacker, honest, leaderSwarm] { await swarm.stop() }
    }

    /// A victim's transaction relayed inside a batch that is refused (it also holds a forgery) is not
    /// marked seen: the honest copy that comes next is admitted.
    @Test func aRefusedBatchCannotCensorTheTransactionsItCarried() async throws {
        let leader = try LedgerSyncTests.node("batch-censor", key: testKey(0), genesis: HostileSwarmTests.genesis)
        let (leaderSwarm, leaderPeers) = try await HostileSwarmTests.ledgerPeer(leader, key: testKey(0))
        let attacker = try await HostileSwarmTests.fakeLedgerPeer(35), relay = try await HostileSwarmTests.fakeLedgerPeer(36)
        let address = try #require(await leaderSwarm.addresses.first)
        for peer in [attacker, relay] { _ = try await peer.dial(address) }
        let hostile = try #require(await FakePubsubs.shared.pubsub(of: attacker.peerID))
        let honest = try #require(await FakePubsubs.shared.pubsub(of: relay.peerID))
        for router in [hostile, honest] {
            #expect(try await LedgerSyncTests.waitUntil { await router.peers(in: HostileSwarmTests.transactionTopic).subscribed.contains(leaderSwarm.peerID) })
        }
        let pair = Self.transfers(2)
        let victim = pair[0]
        var forged = pair[1]
        forged.signatures[1] = pair[0].signatures[1]
        await hostile.publish(HostileSwarmTests.transactionTopic, LedgerPeers.message(of: [victim.encoded, forged.encoded]))
        #expect(try await LedgerSyncTests.waitUntil { leaderSwarm.peerGuard.banReason(attacker.peerID) != nil })
        #expect(await leader.mempoolCount == 0)
        await honest.publish(HostileSwarmTests.transactionTopic, victim.encoded)
        #expect(try await LedgerSyncTests.waitUntil { await leader.mempoolCount == 1 })
        withExtendedLifetime(leaderPeers) {}
        for swarm in [attacker, relay, leaderSwarm] { await swarm.stop() }
    }

    /// A node publishes the transactions submitted to it together: several submitted at once reach a peer
    /// in fewer messages than transactions, and every one of them arrives.
    @Test func ownTransactionsArePublishedInBatches() async throws {
        let leader = try LedgerSyncTests.node("batch-publish", key: testKey(0), genesis: HostileSwarmTests.genesis)
        let (leaderSwarm, leaderPeers) = try await HostileSwarmTests.ledgerPeer(leader, key: testKey(0))
        let received = Received()
        let listener = try await HostileSwarmTests.fakeLedgerPeer(32, received: received)
        _ = try await listener.dial(try #require(await leaderSwarm.addresses.first))
        #expect(try await LedgerSyncTests.waitUntil { await leaderPeers.pubsub.peers(in: HostileSwarmTests.transactionTopic).subscribed.contains(listener.peerID) })

        let transfers = Self.transfers(20)
        for signed in transfers { _ = try await leader.admit(signed) }
        #expect(try await LedgerSyncTests.waitUntil {
            await received.all.compactMap(LedgerPeers.transactions(in:)).joined().count == transfers.count
        })
        let messages = await received.all
        #expect(messages.count < transfers.count, "\(messages.count) messages for \(transfers.count) transactions")
        // All, once each (the fake peer's handlers run concurrently, so arrival order is not checked here).
        let arrived = messages.compactMap(LedgerPeers.transactions(in:)).joined().map { SHA256.hash($0) }
        #expect(arrived.count == transfers.count && Set(arrived) == Set(transfers.map { SHA256.hash($0.encoded) }))
        for swarm in [listener, leaderSwarm] { await swarm.stop() }
    }
}
