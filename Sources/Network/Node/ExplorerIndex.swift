import Ledger
import Storage

/// What the explorer keeps beside the chain, computed from a block and the states around it: each income
/// event's split (the audit page shows it), stored with the block in its own SQLite transaction (the
/// store's other indexes — transactions by account, records by party — are written there as well).
/// Pure: the same block and states give the same rows.
enum ExplorerIndex {
    /// Recomputes each income event's split from the state before the block, for the explorer; the rows
    /// are stored in the block's own SQLite transaction.
    static func payouts(of block: Block, before: LedgerState, after: LedgerState) -> [LedgerStore.Payout] {
        var payouts: [LedgerStore.Payout] = []
        for event in IncomeAudit.events(of: block, before: before) {
            let organization = event.organization
            // As the rule does: the contract in force at the end of the previous block, or, for an
            // organization created in this block, its first (found only in the state after it).
            let existing = before.record(Governance.self, at: Governance.stateKey(organization))
            guard let contract = (existing != nil ? before : after)
                .record(ConsensusContract.self, at: ConsensusContract.stateKey(organization, version: existing?.contractVersion ?? 1))
            else { continue }
            let result = Distribution.compute(EconomyRules.inputs(organization: organization, amount: event.amount, reference: event.reference, contract: contract, state: before))
            payouts += result.payouts.map { LedgerStore.Payout(organization: organization, sequence: event.sequence, recipient: $0.recipient, amount: $0.amount, height: block.height) }
        }
        return payouts
    }
}
