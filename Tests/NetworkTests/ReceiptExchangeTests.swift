import Credit
import Foundation
import Ledger
import LedgerTestSupport
import Storage
import Testing
@testable import LedgerNetwork

/// The receipt protocol between real swarms on loopback (specs/p2p.md §7.4): a provider acknowledges a
/// consumer's good receipt and keeps it across a restart; a stale number, more units than it served, a
/// receipt for another provider or chain, a number past 2^63 − 1, small receipts in a flood, a receipt
/// from a peer granted no line get a one-line refusal and change nothing; a receipt signed by
/// someone other than the sending peer, or bytes that are no receipt, get the sender banned.
@Suite struct ReceiptExchangeTests {
    static func swarm(_ key: SecretKey) async throws -> Swarm {
        let swarm = Swarm(identity: key, config: .loopback)
        await swarm.registerCoreProtocols()
        try await swarm.listen()
        return swarm
    }

    /// Sends raw bytes on the receipt protocol; the answer's fields, or nil when the stream broke.
    static func exchange(_ bytes: [UInt8], from swarm: Swarm, to peer: PeerID) async -> [String: CBOR]? {
        guard let stream = try? await swarm.openStream(to: peer, protocols: [Metering.protocolID]) else { return nil }
        defer { Task { await stream.close() } }
        guard (try? await stream.writeMessage(bytes)) != nil, let answer = try? await stream.readMessageOrEnd(max: 4_096),
              let cbor = try? CBORDecoder.decode(answer), case .map(let fields) = cbor else { return nil }
        return fields
    }

    @Test func aProviderAcknowledgesGoodReceiptsAndRefusesTheRest() async throws {
        let providerKey = testKey(861), consumerKey = testKey(862), otherKey = testKey(863)
        var chain = TestChain(balances: [(providerKey, 1_000_000)])
        let genesis = try Genesis.development(chainID: TestChain.chainID, timeMillis: 1_000_000, bookkeeper: testKey(0).publicKey,
                                              balances: [(providerKey.publicKey.id, 1_000_000)]).build()
        let node = try LedgerSyncTests.node("receipts", key: testKey(0), genesis: genesis)
        // The provider grants the consumer a line (and the other peer none).
        let grant = chain.transaction(LineRules.grant, LineRules.Terms(to: consumerKey.publicKey.id, limit: 10 << 20, expiry: 1 << 40).body, [providerKey])
        #expect(try await node.importBlock(try chain.apply(grant)))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("receipts-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let providerSwarm = try await Self.swarm(providerKey)
        // A small receipt comes at most once an hour here, so that the refusal below does not hang on timing.
        var settings = Metering.Settings()
        settings.smallReceiptSeconds = 3_600
        let metering = try Metering(key: providerKey, node: node, swarm: providerSwarm, book: ReceiptBook(path: folder + "/receipts.sqlite"), settings: settings)
        await metering.start()
        let consumer = try await Self.swarm(consumerKey), other = try await Self.swarm(otherKey)
        let address = try #require(await providerSwarm.listenAddresses.first)
        _ = try await consumer.dial(address)
        _ = try await other.dial(address)
        let provider = providerSwarm.peerID

        func receipt(_ sequence: UInt64, _ units: UInt64, provider: ID = providerKey.publicKey.id, chain: String = TestChain.chainID,
                     key: SecretKey = consumerKey) -> SignedReceipt {
            SignedReceipt(receipt: UsageReceipt(chain: chain, provider: provider, consumer: key.publicKey.id, service: .bandwidth,
                                                sequence: sequence, units: units), key: key)
        }

        // The provider serves the consumer 200,000 bytes under the line, and the other peer some free.
        #expect(await metering.admit(consumer.peerID, bytes: 200_000))
        #expect(await metering.admit(other.peerID, bytes: 200_000))
        // A good receipt is acknowledged as it is.
        let good = receipt(1, 100_000)
        let ack = try #require(await Metering.send(good, to: provider, swarm: consumer, logger: .quiet("test")))
        #expect(ack.receipt == good.receipt)
        #expect((try? ack.verify()) != nil && ack.key == providerKey.publicKey)

        // Refusals, one line each, and the kept receipt stays the good one.
        let refusals: [(SignedReceipt, String)] = [
            (receipt(1, 200_000), "stale receipt"), (receipt(2, 100_000), "stale receipt"), (receipt(3, 50 << 20), "this node served"),
            (receipt(4, 300_000, provider: otherKey.publicKey.id), "another provider"), (receipt(5, 300_000, chain: "other-chain"), "for chain"),
            (receipt(1 << 63 + 1, 300_000), "2^63"), (receipt(6, 150_000), "at most once"),
            (receipt(7, 100_000, key: otherKey), "no line"),
        ]
        for (bad, expected) in refusals {
            let answer = await Self.exchange(bad.encoded, from: bad.receipt.consumer == otherKey.publicKey.id ? other : consumer, to: provider)
            guard case .text(let why)? = answer?["error"] else {
                Issue.record("no refusal for \(bad.receipt): \(String(describing: answer))")
                continue
            }
            #expect(why.contains(expected) && !why.contains("\n"), "\(why)")
        }
        // Counting more than was served: the refusal carries the provider's counts, for the consumer to go down to.
        let over = await Self.exchange(receipt(8, 50 << 20).encoded, from: consumer, to: provider)
        #expect(over?["served"] == .unsigned(200_000) && over?["receipted"] == .unsigned(100_000), "\(String(describing: over))")
        let report = await metering.report()
        #expect(report.provided.first?.standing.receipted == 100_000 && report.provided.first?.sequence == 1)

        // Kept across a restart: a new meter on the same book has the receipt.
        let reopened = try Metering(key: providerKey, node: node, swarm: providerSwarm, book: ReceiptBook(path: folder + "/receipts.sqlite"))
        #expect(await reopened.report().provided.first?.standing.receipted == 100_000)

        // Another peer sending the consumer's receipt (replaying it) is banned; so is one sending noise.
        _ = await Self.exchange(receipt(6, 400_000).encoded, from: other, to: provider)
        try #require(try await LedgerSyncTests.waitUntil { providerSwarm.peerGuard.banReason(other.peerID) != nil })
        _ = await Self.exchange(Array("not a receipt".utf8), from: consumer, to: provider)
        try #require(try await LedgerSyncTests.waitUntil { providerSwarm.peerGuard.banReason(consumer.peerID) != nil })
        #expect(await metering.report().provided.first?.standing.receipted == 100_000)
    }
}
