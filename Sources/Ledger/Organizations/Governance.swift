/// How an organization decides and pays: the approval policy for newcomers, how votes are weighted,
/// quorum and threshold, the contract version in force, its token supply, income so far, and the
/// operation-reward schedule. Stored at `ID.derived("governance", [organization])`.
public struct Governance: StateRecord, Equatable {
    public static let kind = "governance"

    public enum Voting: String, Sendable, Equatable {
        /// One member, one vote.
        case member
        /// One token, one vote.
        case token
    }

    /// A bootstrap schedule: `perPulse` tokens accrue from `since` until `end`, at most `cap` in all,
    /// issued to `account` when claimed.
    public struct Operation: Equatable, Sendable {
        public var perPulse: UInt64
        public var cap: UInt64
        public var end: UInt64
        public var since: UInt64
        public var issued: UInt64
        public var account: ID

        public init(perPulse: UInt64, cap: UInt64, end: UInt64, since: UInt64, account: ID) {
            self.perPulse = perPulse
            self.cap = cap
            self.end = end
            self.since = since
            self.issued = 0
            self.account = account
        }

        /// Tokens accrued by `pulse`, never above the cap.
        public func accrued(atPulse pulse: UInt64) -> UInt64 {
            let until = min(pulse, end)
            guard until > since else { return 0 }
            let (total, overflow) = perPulse.multipliedReportingOverflow(by: until - since)
            return overflow ? cap : min(total, cap)
        }
    }

    public var organization: ID
    /// Supervisor approvals a newcomer needs (1: any supervisor).
    public var approvals: UInt64
    public var voting: Voting
    public var quorumPPM: UInt64
    public var thresholdPPM: UInt64
    public var remainder: ID
    public var contractVersion: UInt64
    public var tokenSupply: UInt64
    public var incomeCount: UInt64
    public var incomeTotal: UInt64
    public var proposalCount: UInt64
    /// Accounts holding a positive balance of the organization's token (bounded by `holdersMax`).
    public var holderCount: UInt64
    public var operation: Operation?

    /// Token holders at most: an income event pays each pro rata, so this bounds its work.
    public static let holdersMax: UInt64 = 1_000

    public static func stateKey(_ organization: ID) -> ID { ID.derived("governance", [organization]) }

    public init(organization: ID, remainder: ID) {
        self.organization = organization
        approvals = 1
        voting = .member
        quorumPPM = 500_000
        thresholdPPM = 500_001
        self.remainder = remainder
        contractVersion = 1
        tokenSupply = 0
        incomeCount = 0
        incomeTotal = 0
        proposalCount = 0
        holderCount = 0
        operation = nil
    }

    /// The policy fields a creation or `policy` proposal sets.
    public mutating func apply(policy: CBOR, pulse: UInt64) throws(DecodeError) {
        var fields = try CBORFields(policy, schema: "policy")
        approvals = try fields.unsigned("approvals")
        guard let voting = Voting(rawValue: try fields.text("voting", lengthMax: 16)) else { throw .schema("policy: voting is member or token") }
        self.voting = voting
        quorumPPM = try fields.unsigned("quorum")
        thresholdPPM = try fields.unsigned("threshold")
        remainder = try fields.id("remainder")
        // A policy states the whole schedule: without `operation` there is none, and a new one starts
        // now with nothing issued (the proposal's execution first issues what the old one accrued).
        if fields.hasField("operation") {
            var op = try CBORFields(try fields.value("operation"), schema: "operation")
            operation = Operation(perPulse: try op.unsigned("perPulse"), cap: try op.unsigned("cap"), end: try op.unsigned("end"), since: pulse,
                                  account: try op.id("account"))
            try op.finish()
        } else {
            operation = nil
        }
        try fields.finish()
        guard approvals >= 1, approvals <= UInt64(Membership.approvalsMax), quorumPPM <= 1_000_000, thresholdPPM <= 1_000_000, thresholdPPM > 0 else {
            throw .schema("policy: approvals 1 to \(Membership.approvalsMax); quorum and threshold are parts per million, threshold > 0")
        }
    }

    public static func policy(approvals: UInt64, voting: Voting, quorumPPM: UInt64, thresholdPPM: UInt64, remainder: ID,
                              operation: (perPulse: UInt64, cap: UInt64, end: UInt64, account: ID)? = nil) -> CBOR {
        var map: [String: CBOR] = [
            "approvals": .unsigned(approvals), "voting": .text(voting.rawValue), "quorum": .unsigned(quorumPPM),
            "threshold": .unsigned(thresholdPPM), "remainder": .id(remainder),
        ]
        if let operation {
            map["operation"] = .map(["perPulse": .unsigned(operation.perPulse), "cap": .unsigned(operation.cap), "end": .unsigned(operation.end),
                                     "account": .id(operation.account)])
        }
        return .map(map)
    }

    public var fields: [String: CBOR] {
        var map: [String: CBOR] = [
            "org": .id(organization), "approvals": .unsigned(approvals), "voting": .text(voting.rawValue), "quorum": .unsigned(quorumPPM),
            "threshold": .unsigned(thresholdPPM), "remainder": .id(remainder), "contractVersion": .unsigned(contractVersion),
            "tokenSupply": .unsigned(tokenSupply), "incomeCount": .unsigned(incomeCount), "incomeTotal": .unsigned(incomeTotal),
            "proposalCount": .unsigned(proposalCount), "holderCount": .unsigned(holderCount),
        ]
        if let operation {
            map["operation"] = .map([
                "perPulse": .unsigned(operation.perPulse), "cap": .unsigned(operation.cap), "end": .unsigned(operation.end),
                "since": .unsigned(operation.since), "issued": .unsigned(operation.issued), "account": .id(operation.account),
            ])
        }
        return map
    }

    public init(fields: inout CBORFields) throws(DecodeError) {
        organization = try fields.id("org")
        approvals = try fields.unsigned("approvals")
        guard let voting = Voting(rawValue: try fields.text("voting", lengthMax: 16)) else { throw .schema("governance: bad voting") }
        self.voting = voting
        quorumPPM = try fields.unsigned("quorum")
        thresholdPPM = try fields.unsigned("threshold")
        remainder = try fields.id("remainder")
        contractVersion = try fields.unsigned("contractVersion")
        tokenSupply = try fields.unsigned("tokenSupply")
        incomeCount = try fields.unsigned("incomeCount")
        incomeTotal = try fields.unsigned("incomeTotal")
        proposalCount = try fields.unsigned("proposalCount")
        holderCount = try fields.unsigned("holderCount")
        if fields.hasField("operation") {
            var op = try CBORFields(try fields.value("operation"), schema: "operation")
            var operation = Operation(perPulse: try op.unsigned("perPulse"), cap: try op.unsigned("cap"), end: try op.unsigned("end"),
                                      since: try op.unsigned("since"), account: try op.id("account"))
            operation.issued = try op.unsigned("issued")
            try op.finish()
            self.operation = operation
        }
    }
}

/// An organization's token held by one account: `ID.derived("token", [org, holder])`, grouped under
/// `ID.derived("tokens", [org])` so the holders can be enumerated.
public struct TokenBalance: StateRecord, Equatable {
    public static let kind = "token"
    public var organization: ID
    public var holder: ID
    public var balance: UInt64
    /// The height at which the balance last grew: tokens that arrive after a proposal was made do not
    /// vote on it, so no token is counted twice (specs/organizations.md, votes).
    public var receivedHeight: UInt64 = 0
    /// The balance cannot leave before this pulse: a holder who voted keeps the tokens until the
    /// proposal's deadline.
    public var lockedUntil: UInt64 = 0

    public static func stateKey(organization: ID, holder: ID) -> ID { ID.derived("token", [organization, holder]) }
    public static func group(_ organization: ID) -> ID { ID.derived("tokens", [organization]) }

    public init(organization: ID, holder: ID, balance: UInt64) {
        self.organization = organization
        self.holder = holder
        self.balance = balance
    }

    public var fields: [String: CBOR] {
        ["org": .id(organization), "holder": .id(holder), "balance": .unsigned(balance), "group": .id(TokenBalance.group(organization)),
         "received": .unsigned(receivedHeight), "lockedUntil": .unsigned(lockedUntil)]
    }

    public init(fields: inout CBORFields) throws(DecodeError) {
        organization = try fields.id("org")
        holder = try fields.id("holder")
        balance = try fields.unsigned("balance")
        _ = try fields.id("group")
        receivedHeight = try fields.unsigned("received")
        lockedUntil = try fields.unsigned("lockedUntil")
    }
}

/// A recorded contribution to a piece of content (a plugin written, content collected, a channel
/// operated): `ID.derived("contribution", [org, reference, contributor])`, grouped by the reference
/// `ID.derived("reference", data: org ‖ UTF-8 reference)`.
public struct Contribution: StateRecord, Equatable {
    public static let kind = "contribution"
    public static let weightMax: UInt64 = 1 << 32
    public static let referenceBytesMax = 128
    /// Contributors to one reference at most: an income event for it pays each, so this bounds its work.
    public static let contributorsPerReferenceMax = 256

    public var organization: ID
    public var reference: String
    public var contributor: ID
    public var role: String
    public var weight: UInt64

    public static func referenceID(organization: ID, reference: String) -> ID {
        ID.derived("reference", data: organization.bytes + Array(reference.utf8))
    }

    public static func stateKey(organization: ID, reference: String, contributor: ID) -> ID {
        ID.derived("contribution", [organization, referenceID(organization: organization, reference: reference), contributor])
    }

    public init(organization: ID, reference: String, contributor: ID, role: String, weight: UInt64) {
        self.organization = organization
        self.reference = reference
        self.contributor = contributor
        self.role = role
        self.weight = weight
    }

    public var fields: [String: CBOR] {
        [
            "org": .id(organization), "reference": .text(reference), "contributor": .id(contributor), "role": .text(role),
            "weight": .unsigned(weight), "group": .id(Contribution.referenceID(organization: organization, reference: reference)),
        ]
    }

    public init(fields: inout CBORFields) throws(DecodeError) {
        organization = try fields.id("org")
        reference = try fields.text("reference", lengthMax: Contribution.referenceBytesMax)
        contributor = try fields.id("contributor")
        role = try fields.text("role", lengthMax: 32)
        weight = try fields.unsigned("weight")
        _ = try fields.id("group")
    }
}

/// One income event and how it was split: `ID.derived("income", org ‖ sequence (8 bytes BE))`.
public struct IncomeEvent: StateRecord, Equatable {
    public static let kind = "income"
    public var organization: ID
    public var sequence: UInt64
    public var payer: ID
    public var amount: UInt64
    public var reference: String
    public var contractVersion: UInt64
    public var height: UInt64
    public var payoutRoot: Digest
    public var payoutCount: UInt64
    public var remainder: UInt64

    public static func stateKey(_ organization: ID, sequence: UInt64) -> ID {
        ID.derived("income", data: organization.bytes + sequence.bigEndianBytes)
    }

    public var fields: [String: CBOR] {
        [
            "org": .id(organization), "sequence": .unsigned(sequence), "payer": .id(payer), "amount": .unsigned(amount),
            "reference": .text(reference), "contractVersion": .unsigned(contractVersion), "height": .unsigned(height),
            "payoutRoot": .digest(payoutRoot), "payoutCount": .unsigned(payoutCount), "remainder": .unsigned(remainder),
        ]
    }

    public init(organization: ID, sequence: UInt64, payer: ID, amount: UInt64, reference: String, contractVersion: UInt64, height: UInt64,
                payoutRoot: Digest, payoutCount: UInt64, remainder: UInt64) {
        self.organization = organization
        self.sequence = sequence
        self.payer = payer
        self.amount = amount
        self.reference = reference
        self.contractVersion = contractVersion
        self.height = height
        self.payoutRoot = payoutRoot
        self.payoutCount = payoutCount
        self.remainder = remainder
    }

    public init(fields: inout CBORFields) throws(DecodeError) {
        organization = try fields.id("org")
        sequence = try fields.unsigned("sequence")
        payer = try fields.id("payer")
        amount = try fields.unsigned("amount")
        reference = try fields.text("reference", lengthMax: Contribution.referenceBytesMax)
        contractVersion = try fields.unsigned("contractVersion")
        height = try fields.unsigned("height")
        payoutRoot = try fields.digest("payoutRoot")
        payoutCount = try fields.unsigned("payoutCount")
        remainder = try fields.unsigned("remainder")
    }
}

/// What one account has received from one organization's income in all: `ID.derived("dividend", [org, person])`.
public struct DividendTotal: StateRecord, Equatable {
    public static let kind = "dividend"
    public var organization: ID
    public var person: ID
    public var total: UInt64
    public var events: UInt64

    public static func stateKey(organization: ID, person: ID) -> ID { ID.derived("dividend", [organization, person]) }

    public var fields: [String: CBOR] {
        ["org": .id(organization), "person": .id(person), "total": .unsigned(total), "events": .unsigned(events)]
    }

    public init(organization: ID, person: ID, total: UInt64, events: UInt64) {
        self.organization = organization
        self.person = person
        self.total = total
        self.events = events
    }

    public init(fields: inout CBORFields) throws(DecodeError) {
        organization = try fields.id("org")
        person = try fields.id("person")
        total = try fields.unsigned("total")
        events = try fields.unsigned("events")
    }
}
