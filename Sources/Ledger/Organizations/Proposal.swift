/// A proposal put to an organization's vote: `ID.derived("proposal", org ‖ sequence (8 bytes BE))`.
/// It passes as soon as yes-weight reaches the threshold and turnout the quorum, both measured against
/// the weight eligible when it was made, and is then executed in the same transaction.
public struct Proposal: StateRecord, Equatable {
    public static let kind = "proposal"

    public enum Kind: String, Sendable, CaseIterable {
        /// Issue tokens to someone, with a reason and a proof of the work (a structural reward).
        case reward
        /// Adopt a new contract version (it applies to later income only).
        case contract
        /// Change a member's role.
        case role
        /// Change the approval policy, voting rule, quorum, threshold, remainder account or operation schedule.
        case policy
    }

    public enum Status: String, Sendable {
        case open, executed
        /// Passed, but could not be carried out (a bound reached, the person no longer a member).
        case failed
    }

    public var organization: ID
    public var sequence: UInt64
    public var kind: Kind
    public var payload: CBOR
    public var proposer: ID
    public var deadline: UInt64
    /// The height of the block that made it: the weight eligible is what existed before it.
    public var createdHeight: UInt64
    /// The voting rule, quorum and threshold when it was made: a policy passed meanwhile does not change
    /// how this proposal is decided.
    public var voting: Governance.Voting
    public var quorumPPM: UInt64
    public var thresholdPPM: UInt64
    public var eligible: UInt64

    /// The longest a vote may stay open (30 days of 1 s pulses): votes lock tokens until the deadline.
    public static let durationPulsesMax: UInt64 = 30 * 86_400
    public var yes: UInt64
    public var no: UInt64
    public var status: Status

    public static func stateKey(_ organization: ID, sequence: UInt64) -> ID {
        ID.derived("proposal", data: organization.bytes + sequence.bigEndianBytes)
    }

    public var stateKey: ID { Proposal.stateKey(organization, sequence: sequence) }

    /// Whether the votes so far pass it under the quorum and threshold it was made with.
    public var passes: Bool {
        func atLeast(_ weight: UInt64, _ ppm: UInt64) -> Bool {
            let (high, low) = weight.multipliedFullWidth(by: 1_000_000)
            let (needHigh, needLow) = eligible.multipliedFullWidth(by: ppm)
            return (high, low) >= (needHigh, needLow)
        }
        return eligible > 0 && atLeast(yes, thresholdPPM) && atLeast(yes &+ no, quorumPPM)
    }

    public var fields: [String: CBOR] {
        [
            "org": .id(organization), "sequence": .unsigned(sequence), "type": .text(kind.rawValue), "payload": payload,
            "proposer": .id(proposer), "deadline": .unsigned(deadline), "created": .unsigned(createdHeight), "voting": .text(voting.rawValue),
            "quorum": .unsigned(quorumPPM), "threshold": .unsigned(thresholdPPM), "eligible": .unsigned(eligible), "yes": .unsigned(yes),
            "no": .unsigned(no), "status": .text(status.rawValue),
        ]
    }

    public init(organization: ID, sequence: UInt64, kind: Kind, payload: CBOR, proposer: ID, deadline: UInt64, createdHeight: UInt64,
                governance: Governance, eligible: UInt64) {
        self.organization = organization
        self.sequence = sequence
        self.kind = kind
        self.payload = payload
        self.proposer = proposer
        self.deadline = deadline
        self.createdHeight = createdHeight
        self.voting = governance.voting
        self.quorumPPM = governance.quorumPPM
        self.thresholdPPM = governance.thresholdPPM
        self.eligible = eligible
        self.yes = 0
        self.no = 0
        self.status = .open
    }

    public init(fields: inout CBORFields) throws(DecodeError) {
        organization = try fields.id("org")
        sequence = try fields.unsigned("sequence")
        guard let kind = Kind(rawValue: try fields.text("type", lengthMax: 16)) else { throw .schema("proposal: unknown type") }
        self.kind = kind
        payload = try fields.value("payload")
        proposer = try fields.id("proposer")
        deadline = try fields.unsigned("deadline")
        createdHeight = try fields.unsigned("created")
        guard let voting = Governance.Voting(rawValue: try fields.text("voting", lengthMax: 16)) else { throw .schema("proposal: unknown voting") }
        self.voting = voting
        quorumPPM = try fields.unsigned("quorum")
        thresholdPPM = try fields.unsigned("threshold")
        eligible = try fields.unsigned("eligible")
        yes = try fields.unsigned("yes")
        no = try fields.unsigned("no")
        guard let status = Status(rawValue: try fields.text("status", lengthMax: 16)) else { throw .schema("proposal: unknown status") }
        self.status = status
    }
}

/// One member's vote on one proposal: `ID.derived("vote", [proposal, voter])`. Its existence is what
/// makes a second vote by the same member fail.
public struct Vote: StateRecord, Equatable {
    public static let kind = "vote"
    public var proposal: ID
    public var voter: ID
    public var yes: Bool
    public var weight: UInt64

    public static func stateKey(proposal: ID, voter: ID) -> ID { ID.derived("vote", [proposal, voter]) }

    public init(proposal: ID, voter: ID, yes: Bool, weight: UInt64) {
        self.proposal = proposal
        self.voter = voter
        self.yes = yes
        self.weight = weight
    }

    public var fields: [String: CBOR] { ["proposal": .id(proposal), "voter": .id(voter), "yes": .bool(yes), "weight": .unsigned(weight)] }

    public init(fields: inout CBORFields) throws(DecodeError) {
        proposal = try fields.id("proposal")
        voter = try fields.id("voter")
        yes = try fields.bool("yes")
        weight = try fields.unsigned("weight")
    }
}
