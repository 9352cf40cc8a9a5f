import Credit
import Foundation
import Ledger
import LedgerTestSupport
import Testing

/// Issue 9, part 3: the seeded adversarial search over every transaction type, in `make test` with a
/// CI budget and in `make fuzz` with more. `LEDGERD_FUZZ_SEED=S` replays one seed exactly;
/// `LEDGERD_FUZZ_TRANSACTIONS=N` sets the transactions per seed and `LEDGERD_FUZZ_SEEDS=K` the seeds.
@Suite struct AdversarialSearchTests {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }
    static let transactionsPerSeed = Int(environment["LEDGERD_FUZZ_TRANSACTIONS"] ?? "") ?? 13_000
    static let seeds: [UInt64] = {
        if let seed = UInt64(environment["LEDGERD_FUZZ_SEED"] ?? "") { return [seed] }
        let count = UInt64(environment["LEDGERD_FUZZ_SEEDS"] ?? "") ?? 8
        return (1...count).map { $0 &* 0x9E37_79B9 }
    }()

    @Test(arguments: seeds) func hostileTransactionsBreakNoInvariant(seed: UInt64) throws {
        var search = AdversarialSearch(seed: seed)
        let started = ContinuousClock.now
        let summary: AdversarialSearch.Summary
        do { summary = try search.run(transactions: Self.transactionsPerSeed) } catch {
            Issue.record("\(error)")
            return
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rejected = summary.rejections.sorted { $0.value > $1.value }.prefix(8).map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print("adversarial search seed \(seed): \(summary.transactions) transactions (\(Int(Double(summary.transactions) / seconds * 60))/min), "
              + "\(summary.accepted) accepted in \(summary.blocks) blocks, final state root \(summary.stateRoot), 0 violations; rejections: \(rejected)")
        // The search must reach the rules, not only be refused at the door: every type gets accepted.
        let types = Set(summary.acceptedByType.keys)
        let unreached = Set(["transfer", "org.create", "org.join", "org.approve", "org.income", "org.propose", "org.vote", "credit.grant", "credit.pay",
                             "iou.issue", "receipt.settle", "receipt.dispute", "contract.storage.create", "contract.storage.challenge",
                             "contract.forward.create"]).subtracting(types)
        #expect(unreached.isEmpty || Self.transactionsPerSeed < 2_000, "never accepted: \(unreached.sorted())")
    }
}
