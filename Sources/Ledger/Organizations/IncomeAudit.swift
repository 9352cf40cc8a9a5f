/// Recomputes the income splits of one block from the state before it and compares them with what the
/// ledger recorded after it. Used by `ledgerctl org audit` while it replays the chain, so an auditor
/// needs nothing but the blocks.
public enum IncomeAudit {
    public struct Finding: Sendable, Equatable {
        public let organization: ID
        public let sequence: UInt64
        public let height: UInt64
        public let amount: UInt64
        public let recipients: Int
        /// Nil when the recomputation agrees; otherwise what differs.
        public let mismatch: String?
    }

    /// One `org.income` of a block: what it paid, to whom, and its number in the organization's income.
    public struct Event: Sendable {
        public let organization: ID
        public let amount: UInt64
        public let reference: String
        public let sequence: UInt64
    }

    /// The block's income transactions in order, numbered as the rule numbers them (after the income the
    /// organization had before the block). Shared by the audit and the explorer's payout index.
    public static func events(of block: Block, before: LedgerState) -> [Event] {
        var events: [Event] = []
        var sequences: [ID: UInt64] = [:]
        for signed in block.transactions where signed.transaction.type == EconomyRules.income {
            guard case .map(let body) = signed.transaction.body, case .bytes(let raw)? = body["org"], let organization = ID(bytes: raw),
                case .unsigned(let amount)? = body["amount"], case .text(let reference)? = body["reference"]
            else { continue }
            let sequence = sequences[organization, default: before.record(Governance.self, at: Governance.stateKey(organization))?.incomeCount ?? 0] + 1
            sequences[organization] = sequence
            events.append(Event(organization: organization, amount: amount, reference: reference, sequence: sequence))
        }
        return events
    }

    public static func check(_ block: Block, before: LedgerState, after: LedgerState, organization filter: ID? = nil) -> [Finding] {
        var findings: [Finding] = []
        for event in events(of: block, before: before) {
            let (organization, amount, reference, sequence) = (event.organization, event.amount, event.reference, event.sequence)
            let governance = before.record(Governance.self, at: Governance.stateKey(organization))
                ?? after.record(Governance.self, at: Governance.stateKey(organization))
            guard let governance else { continue }
            if let filter, filter != organization { continue }
            let recorded = after.record(IncomeEvent.self, at: IncomeEvent.stateKey(organization, sequence: sequence))
            let contractState = before.record(ConsensusContract.self, at: ConsensusContract.stateKey(organization, version: governance.contractVersion)) != nil ? before : after
            guard let contract = contractState.record(ConsensusContract.self, at: ConsensusContract.stateKey(organization, version: governance.contractVersion)) else {
                findings.append(Finding(organization: organization, sequence: sequence, height: block.height, amount: amount, recipients: 0,
                                        mismatch: "no contract version \(governance.contractVersion) to recompute with"))
                continue
            }
            let result = Distribution.compute(EconomyRules.inputs(organization: organization, amount: amount, reference: reference, contract: contract, state: before))
            var problems: [String] = []
            if let recorded {
                if recorded.amount != amount { problems.append("amount \(recorded.amount) recorded, \(amount) paid") }
                if recorded.payoutRoot != result.root { problems.append("payouts differ from the recomputed split") }
                if recorded.remainder != result.remainder { problems.append("remainder \(recorded.remainder) recorded, \(result.remainder) recomputed") }
                if recorded.contractVersion != contract.version { problems.append("contract version \(recorded.contractVersion) recorded, \(contract.version) in force") }
            } else {
                problems.append("no income event \(sequence) recorded")
            }
            if result.paidOut + result.remainder != amount { problems.append("the split does not add up") }
            findings.append(Finding(organization: organization, sequence: sequence, height: block.height, amount: amount, recipients: result.payouts.count,
                                    mismatch: problems.isEmpty ? nil : problems.joined(separator: "; ")))
        }
        return findings
    }
}
