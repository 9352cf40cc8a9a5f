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
        var sequences: [ID: UInt64] = [:]
        for signed in block.transactions where signed.transaction.type == EconomyRules.income {
            guard case .map(let body) = signed.transaction.body, case .bytes(let raw)? = body["org"], let organization = ID(bytes: raw),
                case .unsigned(let amount)? = body["amount"], case .text(let reference)? = body["reference"]
            else { continue }
            // As the rule does: the contract in force at the end of the previous block, or, for an
            // organization created in this block, its first (found only in the state after it).
            let existing = before.record(Governance.self, at: Governance.stateKey(organization))
            guard let contract = (existing != nil ? before : after)
                .record(ConsensusContract.self, at: ConsensusContract.stateKey(organization, version: existing?.contractVersion ?? 1))
            else { continue }
            let sequence = sequences[organization, default: existing?.incomeCount ?? 0] + 1
            sequences[organization] = sequence
            let result = Distribution.compute(EconomyRules.inputs(organization: organization, amount: amount, reference: reference, contract: contract, state: before))
            payouts += result.payouts.map { LedgerStore.Payout(organization: organization, sequence: sequence, recipient: $0.recipient, amount: $0.amount, height: block.height) }
        }
        return payouts
    }
}
