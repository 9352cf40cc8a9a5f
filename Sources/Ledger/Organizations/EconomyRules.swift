/// Organization tokens, contributions, income and its distribution, proposals and votes, and the
/// operation-reward schedule. specs/organizations.md has the bodies and rules.
public enum EconomyRules {
    public static let tokenTransfer = "org.token.transfer"
    public static let contribute = "org.contribute"
    public static let income = "org.income"
    public static let propose = "org.propose"
    public static let vote = "org.vote"
    public static let claimOperation = "org.operation.claim"

    public static var all: [TransactionRule] {
        [tokenTransferRule, contributeRule, incomeRule, proposeRule, voteRule, claimOperationRule]
    }

    public static let unknownProposal: Rejection.Code = "unknown_proposal"
    public static let proposalClosed: Rejection.Code = "proposal_closed"
    public static let noGovernance: Rejection.Code = "no_governance"
    public static let tokensLocked: Rejection.Code = "tokens_locked"
    public static let notEligible: Rejection.Code = "not_eligible"
    public static let groupFull: Rejection.Code = "group_full"

    // MARK: bodies

    public static func tokenTransferBody(organization: ID, to: ID, amount: UInt64) -> CBOR {
        .map(["org": .id(organization), "to": .id(to), "amount": .unsigned(amount)])
    }

    public static func contributeBody(organization: ID, reference: String, contributor: ID, role: String, weight: UInt64) -> CBOR {
        .map(["org": .id(organization), "reference": .text(reference), "contributor": .id(contributor), "role": .text(role), "weight": .unsigned(weight)])
    }

    public static func incomeBody(organization: ID, amount: UInt64, reference: String) -> CBOR {
        .map(["org": .id(organization), "amount": .unsigned(amount), "reference": .text(reference)])
    }

    public static func proposeBody(organization: ID, kind: Proposal.Kind, payload: CBOR, duration: UInt64) -> CBOR {
        .map(["org": .id(organization), "kind": .text(kind.rawValue), "payload": payload, "duration": .unsigned(duration)])
    }

    public static func rewardPayload(recipient: ID, amount: UInt64, reason: String, proof: String) -> CBOR {
        .map(["recipient": .id(recipient), "amount": .unsigned(amount), "reason": .text(reason), "proof": .text(proof)])
    }

    public static func rolePayload(person: ID, role: Role) -> CBOR { .map(["person": .id(person), "role": .text(role.rawValue)]) }

    public static func voteBody(organization: ID, proposal: UInt64, yes: Bool) -> CBOR {
        .map(["org": .id(organization), "proposal": .unsigned(proposal), "yes": .bool(yes)])
    }

    public static func organizationBody(_ organization: ID) -> CBOR { .map(["org": .id(organization)]) }

    // MARK: helpers

    static func governance(_ organization: ID, _ draft: StateDraft) throws(Rejection) -> Governance {
        guard let governance = try draft.record(Governance.self, at: Governance.stateKey(organization)) else {
            throw Rejection(noGovernance, "no organization \(organization)")
        }
        return governance
    }

    static func role(of person: ID, in organization: ID, _ draft: StateDraft) throws(Rejection) -> Role? {
        try draft.record(Membership.self, at: Membership.stateKey(organization: organization, person: person))?.role
    }

    static func tokens(of holder: ID, in organization: ID, _ draft: StateDraft) throws(Rejection) -> TokenBalance {
        try draft.record(TokenBalance.self, at: TokenBalance.stateKey(organization: organization, holder: holder))
            ?? TokenBalance(organization: organization, holder: holder, balance: 0)
    }

    /// Stores a holding, or removes it when it is empty (an empty holding has no lock worth keeping),
    /// keeping the organization's count of holders, which never passes `Governance.holdersMax`.
    static func putTokens(_ holding: TokenBalance, _ draft: inout StateDraft) throws(Rejection) {
        let key = TokenBalance.stateKey(organization: holding.organization, holder: holding.holder)
        let held = try draft.record(TokenBalance.self, at: key) != nil
        if held != (holding.balance > 0) {
            var governance = try governance(holding.organization, draft)
            if held {
                governance.holderCount -= min(1, governance.holderCount)
            } else {
                guard governance.holderCount < Governance.holdersMax else {
                    throw Rejection(groupFull, "\(holding.organization) has \(Governance.holdersMax) token holders, the most an income split pays")
                }
                governance.holderCount += 1
            }
            draft.put(governance, at: Governance.stateKey(holding.organization))
        }
        draft.set(key, holding.balance == 0 ? nil : holding.cbor)
    }

    /// Adds to a holding and marks it as grown at this height.
    static func receiveTokens(_ amount: UInt64, to holder: ID, in organization: ID, _ draft: inout StateDraft, _ context: BlockContext) throws(Rejection) {
        var holding = try tokens(of: holder, in: organization, draft)
        holding.balance = try holding.balance.adding(amount, what: "token balance")
        holding.receivedHeight = context.height
        try putTokens(holding, &draft)
    }

    /// Issues new tokens (rewards); the supply is capped at 2^64−1.
    static func issueTokens(_ amount: UInt64, to holder: ID, in governance: inout Governance, _ draft: inout StateDraft, _ context: BlockContext) throws(Rejection) {
        // The governance record in the draft carries the holder count; write the caller's copy first and
        // read it back after, so neither loses the other's change.
        governance.tokenSupply = try governance.tokenSupply.adding(amount, what: "token supply")
        draft.put(governance, at: Governance.stateKey(governance.organization))
        try receiveTokens(amount, to: holder, in: governance.organization, &draft, context)
        governance = try EconomyRules.governance(governance.organization, draft)
    }

    // MARK: tokens

    /// Both holders sign, as for any transfer.
    static let tokenTransferRule = TransactionRule(type: tokenTransfer, signerCount: 2...2) { tx, draft, context throws(Rejection) in
        let (organization, to, amount) = try tx.decodeBody { fields throws(DecodeError) in
            (try fields.id("org"), try fields.id("to"), try fields.unsigned("amount"))
        }
        guard tx.signers[1].id == to else { throw Rejection(.wrongSigners, "the second signer must be the recipient \(to)") }
        guard to != tx.origin else { throw Rejection(.selfReference, "cannot transfer tokens to the same account") }
        guard amount > 0 else { throw Rejection(.amountNotPositive, "amount must be positive") }
        _ = try governance(organization, draft)
        var held = try tokens(of: tx.origin, in: organization, draft)
        guard held.balance >= amount else { throw Rejection(.insufficientBalance, "\(tx.origin) holds \(held.balance) tokens of \(organization)") }
        guard context.pulse > held.lockedUntil else {
            throw Rejection(tokensLocked, "\(tx.origin) voted with these tokens; they stay until pulse \(held.lockedUntil), the proposal's deadline")
        }
        held.balance -= amount
        try putTokens(held, &draft)
        try receiveTokens(amount, to: to, in: organization, &draft, context)
    }

    // MARK: contributions

    /// A supervisor records (or with weight 0, removes) a contribution to a piece of content.
    static let contributeRule = TransactionRule(type: contribute, signerCount: 1...1) { tx, draft, _ throws(Rejection) in
        let (organization, reference, contributor, role, weight) = try tx.decodeBody { fields throws(DecodeError) in
            (try fields.id("org"), try fields.text("reference", lengthMax: Contribution.referenceBytesMax), try fields.id("contributor"),
             try fields.text("role", lengthMax: 32), try fields.unsigned("weight"))
        }
        _ = try governance(organization, draft)
        try OrganizationRules.requireSupervisor(tx.origin, of: organization, in: draft)
        guard weight <= Contribution.weightMax else { throw Rejection(.overflow, "weight is at most 2^32") }
        let key = Contribution.stateKey(organization: organization, reference: reference, contributor: contributor)
        if weight > 0, try draft.record(Contribution.self, at: key) == nil {
            let group = Contribution.referenceID(organization: organization, reference: reference)
            guard draft.groupCount(group) < Contribution.contributorsPerReferenceMax else {
                throw Rejection(groupFull, "'\(reference)' has \(Contribution.contributorsPerReferenceMax) contributors, the most an income split pays")
            }
        }
        draft.set(key, weight == 0 ? nil : Contribution(organization: organization, reference: reference, contributor: contributor, role: role, weight: weight).cbor)
    }

    // MARK: income

    /// The members, holders and contributors an income event is split among: the state at the end of
    /// the previous block (`draft.base`), so an event's split never depends on its place in its block.
    public static func inputs(organization: ID, amount: UInt64, reference: String, contract: ConsensusContract, state: LedgerState) -> Distribution.Inputs {
        var roles: [Role: [ID]] = [:]
        for key in state.members(ofGroup: Membership.group(organization)) {
            if let membership = state.record(Membership.self, at: key), membership.role != .applicant { roles[membership.role, default: []].append(membership.person) }
        }
        for role in roles.keys { roles[role]!.sort() }
        let holders = state.members(ofGroup: TokenBalance.group(organization)).compactMap { state.record(TokenBalance.self, at: $0) }
            .map { ($0.holder, $0.balance) }.sorted { $0.0 < $1.0 }
        let contributors = state.members(ofGroup: Contribution.referenceID(organization: organization, reference: reference))
            .compactMap { state.record(Contribution.self, at: $0) }.map { ($0.contributor, $0.weight) }.sorted { $0.0 < $1.0 }
        return Distribution.Inputs(income: amount, contract: contract, roles: roles, holders: holders, contributors: contributors)
    }

    /// Anyone pays income into an organization; the contract in force splits it at once.
    static let incomeRule = TransactionRule(type: income, signerCount: 1...1) { tx, draft, context throws(Rejection) in
        let (organization, amount, reference) = try tx.decodeBody { fields throws(DecodeError) in
            (try fields.id("org"), try fields.unsigned("amount"), try fields.text("reference", lengthMax: Contribution.referenceBytesMax))
        }
        guard amount > 0 else { throw Rejection(.amountNotPositive, "amount must be positive") }
        var governance = try governance(organization, draft)
        // Like the holders, the contract in force is the one at the end of the previous block (or, for
        // an organization created in this block, its first).
        let version = draft.base.record(Governance.self, at: Governance.stateKey(organization))?.contractVersion ?? governance.contractVersion
        guard let contract = try draft.record(ConsensusContract.self, at: ConsensusContract.stateKey(organization, version: version)) else {
            throw Rejection(.unreadableRecord, "organization \(organization) has no contract version \(version) in force")
        }
        try Holdings.withdraw(amount, from: tx.origin, in: &draft)
        let result = Distribution.compute(inputs(organization: organization, amount: amount, reference: reference, contract: contract, state: draft.base))
        for payout in result.payouts {
            try Holdings.deposit(payout.amount, to: payout.recipient, in: &draft)
            let key = DividendTotal.stateKey(organization: organization, person: payout.recipient)
            var total = try draft.record(DividendTotal.self, at: key) ?? DividendTotal(organization: organization, person: payout.recipient, total: 0, events: 0)
            total.total = try total.total.adding(payout.amount, what: "dividend total")
            total.events += 1
            draft.put(total, at: key)
        }
        try Holdings.deposit(result.remainder, to: governance.remainder, in: &draft)
        governance.incomeCount += 1
        governance.incomeTotal = try governance.incomeTotal.adding(amount, what: "income total")
        draft.put(IncomeEvent(organization: organization, sequence: governance.incomeCount, payer: tx.origin, amount: amount, reference: reference,
                              contractVersion: contract.version, height: context.height, payoutRoot: result.root,
                              payoutCount: UInt64(result.payouts.count), remainder: result.remainder),
                  at: IncomeEvent.stateKey(organization, sequence: governance.incomeCount))
        draft.put(governance, at: Governance.stateKey(organization))
    }

    // MARK: proposals and votes

    /// A member (not a guest) proposes; the eligible weight is fixed now: members, or token supply.
    static let proposeRule = TransactionRule(type: propose, signerCount: 1...1) { tx, draft, context throws(Rejection) in
        let (organization, kindText, payload, duration) = try tx.decodeBody { fields throws(DecodeError) in
            (try fields.id("org"), try fields.text("kind", lengthMax: 16), try fields.value("payload"), try fields.unsigned("duration"))
        }
        guard let kind = Proposal.Kind(rawValue: kindText) else { throw Rejection(.malformed, "proposal kind must be reward, contract, role or policy") }
        var governance = try governance(organization, draft)
        guard let role = try role(of: tx.origin, in: organization, draft), role.votes else {
            throw Rejection(.notMember, "only members and supervisors of \(organization) propose")
        }
        guard duration > 0, duration <= Proposal.durationPulsesMax else {
            throw Rejection(.malformed, "duration must be 1 to \(Proposal.durationPulsesMax) pulses (votes lock tokens until the deadline)")
        }
        try validate(kind, payload, organization: organization, draft)
        let profile = try OrganizationRules.existing(organization, in: draft)
        governance.proposalCount += 1
        let proposal = Proposal(organization: organization, sequence: governance.proposalCount, kind: kind, payload: payload, proposer: tx.origin,
                                deadline: context.pulse + duration, createdHeight: context.height, governance: governance,
                                eligible: governance.voting == .member ? profile.votingMemberCount : governance.tokenSupply)
        guard proposal.eligible > 0 else { throw Rejection(.malformed, "no voting weight exists yet (token voting with no tokens)") }
        draft.put(proposal, at: proposal.stateKey)
        draft.put(governance, at: Governance.stateKey(organization))
    }

    /// Checks a payload before it is put to the vote, so a passed proposal always executes.
    static func validate(_ kind: Proposal.Kind, _ payload: CBOR, organization: ID, _ draft: StateDraft) throws(Rejection) {
        do throws(DecodeError) {
            switch kind {
            case .reward:
                var fields = try CBORFields(payload, schema: "reward")
                _ = try fields.id("recipient")
                guard try fields.unsigned("amount") > 0 else { throw .schema("reward: amount must be positive") }
                guard !(try fields.text("reason", lengthMax: 512)).isEmpty, !(try fields.text("proof", lengthMax: 512)).isEmpty else {
                    throw .schema("reward: every reward is announced with a reason and a proof")
                }
                try fields.finish()
            case .contract:
                let contract = try ConsensusContract(organization: organization, version: 0, rules: payload, adoptedHeight: 0)
                guard contract.isValid else { throw .schema("contract: the parts add up to more than 1,000,000 ppm") }
            case .role:
                var fields = try CBORFields(payload, schema: "role")
                let person = try fields.id("person")
                guard let role = Role(rawValue: try fields.text("role", lengthMax: 16)), role != .applicant else { throw .schema("role: supervisor, member or guest") }
                try fields.finish()
                guard let current = try? draft.record(Membership.self, at: Membership.stateKey(organization: organization, person: person)),
                    current.role != .applicant
                else { throw .schema("role: \(person) is not a member") }
                _ = role
            case .policy:
                var governance = Governance(organization: organization, remainder: organization)
                try governance.apply(policy: payload, pulse: 0)
            }
        } catch {
            throw Rejection.malformed(error)
        }
    }

    /// Decoding inside a rule: a schema error is `malformed`.
    static func decoded<T>(_ body: () throws(DecodeError) -> T) throws(Rejection) -> T {
        do { return try body() } catch { throw Rejection.malformed(error) }
    }

    /// Carries out a passed proposal (its payload was validated when it was proposed).
    static func execute(_ proposal: Proposal, _ governance: inout Governance, _ draft: inout StateDraft, _ context: BlockContext) throws(Rejection) {
        let organization = proposal.organization
        switch proposal.kind {
        case .reward:
            let (amount, recipient) = try decoded { () throws(DecodeError) in
                var fields = try CBORFields(proposal.payload, schema: "reward")
                return (try fields.unsigned("amount"), try fields.id("recipient"))
            }
            try issueTokens(amount, to: recipient, in: &governance, &draft, context)
        case .contract:
            let version = governance.contractVersion + 1
            let contract = try decoded { () throws(DecodeError) in
                try ConsensusContract(organization: organization, version: version, rules: proposal.payload, adoptedHeight: context.height)
            }
            draft.put(contract, at: ConsensusContract.stateKey(organization, version: version))
            governance.contractVersion = version
        case .role:
            let (person, newRole) = try decoded { () throws(DecodeError) in
                var fields = try CBORFields(proposal.payload, schema: "role")
                return (try fields.id("person"), Role(rawValue: try fields.text("role", lengthMax: 16)) ?? .guest)
            }
            let key = Membership.stateKey(organization: organization, person: person)
            var profile = try OrganizationRules.existing(organization, in: draft)
            guard var membership = try draft.record(Membership.self, at: key), membership.role != .applicant else {
                throw Rejection(.notMember, "\(person) is no longer a member")
            }
            try OrganizationRules.changeRole(&membership, to: newRole, in: &profile, context: context)
            draft.put(membership, at: key)
            draft.put(profile, at: Organization.stateKey(organization))
        case .policy:
            var updated = governance
            try decoded { () throws(DecodeError) in try updated.apply(policy: proposal.payload, pulse: context.pulse) }
            // The schedule being replaced (or removed) first issues what it accrued and was not claimed,
            // so a policy neither takes accrued tokens away nor lets the new schedule inherit a count.
            if let old = governance.operation {
                let accrued = old.accrued(atPulse: context.pulse)
                let due = accrued - min(old.issued, accrued)
                if due > 0 { try issueTokens(due, to: old.account, in: &governance, &draft, context) }
            }
            governance.approvals = updated.approvals
            governance.voting = updated.voting
            governance.quorumPPM = updated.quorumPPM
            governance.thresholdPPM = updated.thresholdPPM
            governance.remainder = updated.remainder
            governance.operation = updated.operation
        }
    }

    /// Each member votes once, weighted by the organization's rule; the vote that passes it executes it.
    static let voteRule = TransactionRule(type: vote, signerCount: 1...1) { tx, draft, context throws(Rejection) in
        let (organization, sequence, yes) = try tx.decodeBody { fields throws(DecodeError) in
            (try fields.id("org"), try fields.unsigned("proposal"), try fields.bool("yes"))
        }
        var governance = try governance(organization, draft)
        let key = Proposal.stateKey(organization, sequence: sequence)
        guard var proposal = try draft.record(Proposal.self, at: key) else { throw Rejection(unknownProposal, "no proposal \(sequence) in \(organization)") }
        guard proposal.status == .open, context.pulse <= proposal.deadline else {
            throw Rejection(proposalClosed, "proposal \(sequence) is \(proposal.status == .open ? "past its deadline" : "already \(proposal.status.rawValue)")")
        }
        guard let membership = try draft.record(Membership.self, at: Membership.stateKey(organization: organization, person: tx.origin)),
            membership.role.votes
        else {
            throw Rejection(.notMember, "only members and supervisors of \(organization) vote")
        }
        let voteKey = Vote.stateKey(proposal: key, voter: tx.origin)
        guard try draft.record(Vote.self, at: voteKey) == nil else { throw Rejection(.duplicate, "\(tx.origin) has already voted on proposal \(sequence)") }
        // The weight is what was eligible when the proposal was made: a voting member since an earlier
        // block, or tokens held since an earlier block and locked by the vote until the deadline. So
        // no vote or token counts twice and yes + no never exceeds the eligible weight.
        let weight: UInt64
        switch proposal.voting {
        case .member:
            guard membership.sinceHeight < proposal.createdHeight else {
                throw Rejection(notEligible, "\(tx.origin) became a voting member after proposal \(sequence) was made")
            }
            weight = 1
        case .token:
            var holding = try tokens(of: tx.origin, in: organization, draft)
            guard holding.balance > 0 else { throw Rejection(.notMember, "\(tx.origin) holds no tokens of \(organization) to vote with") }
            guard holding.receivedHeight < proposal.createdHeight else {
                throw Rejection(notEligible, "\(tx.origin) received tokens after proposal \(sequence) was made; they vote on later proposals")
            }
            weight = holding.balance
            holding.lockedUntil = max(holding.lockedUntil, proposal.deadline)
            try putTokens(holding, &draft)
        }
        let counted = try proposal.yes.adding(proposal.no, what: "votes")
        guard try counted.adding(weight, what: "votes") <= proposal.eligible else {
            throw Rejection(notEligible, "proposal \(sequence) has counted \(counted) of \(proposal.eligible) eligible; \(weight) more would exceed it")
        }
        draft.put(Vote(proposal: key, voter: tx.origin, yes: yes, weight: weight), at: voteKey)
        if yes { proposal.yes = try proposal.yes.adding(weight, what: "yes votes") } else { proposal.no = try proposal.no.adding(weight, what: "no votes") }
        if proposal.passes {
            // A passed proposal that can no longer be carried out (a bound reached, the member gone)
            // fails, and the vote that decided it still counts: otherwise a full group would refuse every
            // vote that passes such a proposal, and nobody could close it.
            var trialDraft = draft, trialGovernance = governance
            do {
                try execute(proposal, &trialGovernance, &trialDraft, context)
                draft = trialDraft
                governance = trialGovernance
                proposal.status = .executed
                draft.put(governance, at: Governance.stateKey(organization))
            } catch {
                proposal.status = .failed
            }
        }
        draft.put(proposal, at: key)
    }

    // MARK: operation rewards

    /// A supervisor issues the operation tokens accrued so far to the schedule's account.
    static let claimOperationRule = TransactionRule(type: claimOperation, signerCount: 1...1) { tx, draft, context throws(Rejection) in
        let organization = try tx.decodeBody { fields throws(DecodeError) in try fields.id("org") }
        var governance = try governance(organization, draft)
        try OrganizationRules.requireSupervisor(tx.origin, of: organization, in: draft)
        guard var operation = governance.operation else { throw Rejection(.malformed, "\(organization) has no operation-reward schedule") }
        let due = operation.accrued(atPulse: context.pulse) - min(operation.issued, operation.accrued(atPulse: context.pulse))
        guard due > 0 else { throw Rejection(.amountNotPositive, "no operation reward has accrued since the last claim") }
        operation.issued += due
        governance.operation = operation
        try issueTokens(due, to: operation.account, in: &governance, &draft, context)
        draft.put(governance, at: Governance.stateKey(organization))
    }
}
