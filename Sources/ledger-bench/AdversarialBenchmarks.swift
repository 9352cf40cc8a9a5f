import Foundation
import Ledger
import LedgerTestSupport

/// Issue 9's bar for the adversarial search: transactions tried per minute, in a release build, and
/// what `make test`'s budget amounts to. The reference is the BIP-340 verify rate of the same run: each
/// tried transaction carries one or two signatures, which the search verifies at least twice (proposer
/// and validator) and again when it replays from genesis.
struct AdversarialBenchmarks {
    static func run(_ report: inout Report, verifyRate: Double, quick: Bool) {
        let transactions = quick ? 5_000 : 40_000
        var search = AdversarialSearch(seed: 2026)
        var summary: AdversarialSearch.Summary?
        var failure: String?
        let elapsed = seconds {
            do { summary = try search.run(transactions: transactions) } catch { failure = "\(error)" }
        }
        let figure = "Adversarial search: hostile transactions tried per minute, one core (release)"
        guard let summary, failure == nil else {
            report.fail(figure, failure ?? "the search did not finish", key: "adversarial_transactions_per_minute")
            return
        }
        let perMinute = Double(summary.transactions) / elapsed * 60
        report.add(figure, "\(formatted(perMinute))/min",
                   "\(summary.transactions) transactions, \(summary.accepted) accepted in \(summary.blocks) blocks, 0 crashes, 0 invariant violations; "
                   + "ratio to the verify rate per minute \(formatted(perMinute / (verifyRate * 60), decimals: 3)); make test tries 8 × 13,000 = 104,000 per CI run (debug build)",
                   key: "adversarial_transactions_per_minute", perMinute)
    }
}
