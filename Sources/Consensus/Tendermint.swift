import Ledger

/// One height of Tendermint's consensus (Buchman, Kwon, Milosevic, "The latest gossip on BFT consensus",
/// 2018, Algorithm 1) as a deterministic state machine: inputs in, outputs out; no clock, no I/O, no
/// randomness. Values are block hashes; the caller keeps the blocks, signs what the machine says to
/// send, checks signatures before votes come in, and answers `execute` with the block's validity.
/// Line numbers below are the paper's. Nothing is added that the paper lacks: in particular no unlock
/// on +2/3 nil prevotes (tendermint#6849). "2f + 1" is more than two thirds of the voting power, "f + 1"
/// more than one third.
public struct Tendermint: Sendable {
    public enum Step: Int, Comparable, Sendable {
        case propose, prevote, precommit
        public static func < (a: Step, b: Step) -> Bool { a.rawValue < b.rawValue }
    }

    /// A proposal, its signature already checked to be the round's proposer's.
    public struct Proposal: Hashable, Sendable {
        public var round: UInt32
        public var value: Digest
        /// The paper's vr: −1, or the round whose prevotes justify re-proposing `value`.
        public var validRound: Int64
        /// Whether the proposal's time was timely when it arrived (proposer-based timestamps); only a
        /// fresh proposal (vr = −1) is judged by it.
        public var timely: Bool

        public init(round: UInt32, value: Digest, validRound: Int64, timely: Bool) {
            self.round = round
            self.value = value
            self.validRound = validRound
            self.timely = timely
        }
    }

    public enum Input: Sendable {
        /// Line 10: start the height in round 0.
        case start
        case proposal(Proposal)
        /// A prevote or precommit at this height, its signature checked, its voter in the set.
        case vote(ConsensusVote)
        /// The answer to `execute`: valid(v).
        case executed(Digest, valid: Bool)
        /// The answer to `needValue`: getValue() at line 18.
        case value(round: UInt32, Digest)
        case timeout(Timeout)
    }

    public enum Output: Sendable, Equatable {
        /// Line 18: this node proposes in `round` and has no valid value; answer with `.value`.
        case needValue(round: UInt32)
        /// Line 19: broadcast ⟨PROPOSAL, h, round, value, validRound⟩ (sign it, deliver it to self too).
        case propose(round: UInt32, value: Digest, validRound: Int64)
        /// Broadcast ⟨PREVOTE | PRECOMMIT, h, round, value⟩ (sign it, deliver it to self too).
        case vote(ConsensusVote.Kind, round: UInt32, value: Digest?)
        case schedule(Timeout)
        /// valid(v) is needed for a proposed value: answer with `.executed`.
        case execute(Digest)
        /// Line 51: decided, with the precommits that prove it.
        case decide(round: UInt32, value: Digest, precommits: [ConsensusVote])
        /// Two votes of one voter for different values at one height, round and type.
        case equivocation(ConsensusVote, ConsensusVote)
    }

    public struct Timeout: Hashable, Sendable {
        public enum Kind: String, Sendable { case propose, prevote, precommit }
        public var kind: Kind
        public var height: UInt64
        public var round: UInt32

        public init(kind: Kind, height: UInt64, round: UInt32) {
            self.kind = kind
            self.height = height
            self.round = round
        }
    }

    /// Proposals kept per round. An honest proposer makes one; an equivocating one may send each half
    /// another, and a node must still decide on the one that gathered the precommits (line 49).
    public static let proposalsPerRoundMax = 4

    /// Votes a voter may hold in rounds above the current one, so a voter cannot fill memory with
    /// votes for rounds no one is in (an honest voter is at most a round or two ahead).
    public static let futureRoundsPerVoterMax = 4

    public let height: UInt64
    public let bookkeepers: BookkeeperSet
    /// This node's key, when it is a bookkeeper; nil for a node that only follows.
    public let me: PublicKey?

    // Lines 2–9.
    public private(set) var round: UInt32 = 0
    public private(set) var step: Step = .propose
    public private(set) var started = false
    public private(set) var decision: Digest?
    public private(set) var lockedValue: Digest?
    public private(set) var lockedRound: Int64 = -1
    public private(set) var validValue: Digest?
    public private(set) var validRound: Int64 = -1

    /// Per round, in arrival order.
    private var proposals: [UInt32: [Proposal]] = [:]
    /// Per kind, round and voter: the first vote, then (from an equivocator) votes for other values that
    /// matter — nil, or a value proposed in that round — each of which counts for its own value, as the
    /// paper counts messages, so a node decides on what others saw decided.
    private var votes: [ConsensusVote.Kind: [UInt32: [PublicKey: [ConsensusVote]]]] = [.prevote: [:], .precommit: [:]]
    private var validity: [Digest: Bool] = [:]
    private var executionRequested = Set<Digest>()
    // "for the first time" conditions, per round (lines 34, 36, 47).
    private var prevoteTimeoutScheduled = Set<UInt32>()
    private var precommitTimeoutScheduled = Set<UInt32>()
    private var line36Fired = Set<UInt32>()
    private var outputs: [Output] = []

    public init(height: UInt64, bookkeepers: BookkeeperSet, me: PublicKey?) {
        self.height = height
        self.bookkeepers = bookkeepers
        self.me = me.flatMap { bookkeepers.power(of: $0) != nil ? $0 : nil }
    }

    /// Restores what a restarted bookkeeper promised before it crashed (its write-ahead log): the last
    /// round it took part in and its lock, which lines 38–39 set exactly when it precommits a value, and
    /// which lines 42–43 make its valid value too (when the caller still holds the block, it can propose
    /// it again with its round, or no one could ever unlock it after a restart).
    public mutating func restore(round: UInt32, lockedValue: Digest?, lockedRound: Int64, blockKnown: Bool) {
        self.round = round
        self.lockedValue = lockedValue
        self.lockedRound = lockedRound
        if blockKnown, lockedValue != nil {
            validValue = lockedValue
            validRound = lockedRound
        }
    }

    public func proposer(round: UInt32) -> PublicKey? { bookkeepers.proposer(height: height, round: round) }

    /// Feeds one input and returns what to do, in order.
    public mutating func handle(_ input: Input) -> [Output] {
        outputs = []
        switch input {
        case .start:
            if !started {
                started = true
                startRound(round)
            }
        case .proposal(let proposal):
            var held = proposals[proposal.round] ?? []
            if held.count < Self.proposalsPerRoundMax, !held.contains(where: { $0.value == proposal.value }) {
                held.append(proposal)
                proposals[proposal.round] = held
            }
        case .vote(let vote):
            record(vote)
        case .executed(let value, let valid):
            validity[value] = valid
        case .value(let round, let value):
            // getValue's answer: only for the round still waiting for it.
            if started, decision == nil, round == self.round, step == .propose, me != nil, me == proposer(round: round), validValue == nil {
                validity[value] = true
                outputs.append(.propose(round: round, value: value, validRound: -1))
            }
        case .timeout(let timeout):
            onTimeout(timeout)
        }
        if started && decision == nil {
            while fireOneRule() {}
        } else if decision == nil {
            while line49() {}
        }
        return outputs
    }

    // MARK: - Lines 11–21

    private mutating func startRound(_ round: UInt32) {
        self.round = round
        step = .propose
        if let me, me == proposer(round: round) {
            if let validValue {
                outputs.append(.propose(round: round, value: validValue, validRound: validRound))  // 15–16, 19
            } else {
                outputs.append(.needValue(round: round))  // 18
                // getValue() may have nothing to give (no transaction pending applies): then this node
                // times out like the others would on a silent proposer, rather than hold back its prevote.
                outputs.append(.schedule(Timeout(kind: .propose, height: height, round: round)))
            }
        } else {
            outputs.append(.schedule(Timeout(kind: .propose, height: height, round: round)))  // 21
        }
    }

    /// Tries the upon-rules in the paper's order and fires the first whose condition holds.
    private mutating func fireOneRule() -> Bool {
        line22() || line28() || line34() || line36() || line44() || line47() || line49() || line55()
    }

    // MARK: - Lines 22–27: a fresh proposal

    private mutating func line22() -> Bool {
        // With several (an equivocating proposer), the first that arrived is the one this node answers.
        guard step == .propose, let proposal = proposals[round]?.first, proposal.validRound == -1, let valid = isValid(proposal.value) else { return false }
        let accept = valid && proposal.timely && (lockedRound == -1 || lockedValue == proposal.value)
        vote(.prevote, accept ? proposal.value : nil)
        step = .prevote
        return true
    }

    // MARK: - Lines 28–33: a re-proposal justified by prevotes of an earlier round

    private mutating func line28() -> Bool {
        guard step == .propose, let proposal = proposals[round]?.first, proposal.validRound >= 0, proposal.validRound < Int64(round),
              hasQuorum(.prevote, round: UInt32(proposal.validRound), for: proposal.value), let valid = isValid(proposal.value)
        else { return false }
        let accept = valid && (lockedRound <= proposal.validRound || lockedValue == proposal.value)
        vote(.prevote, accept ? proposal.value : nil)
        step = .prevote
        return true
    }

    // MARK: - Lines 34–35

    private mutating func line34() -> Bool {
        guard step == .prevote, !prevoteTimeoutScheduled.contains(round), hasQuorumOfAny(.prevote, round: round) else { return false }
        prevoteTimeoutScheduled.insert(round)
        outputs.append(.schedule(Timeout(kind: .prevote, height: height, round: round)))
        return true
    }

    // MARK: - Lines 36–43: lock and precommit

    private mutating func line36() -> Bool {
        guard step >= .prevote, !line36Fired.contains(round),
              let proposal = proposals[round]?.first(where: { hasQuorum(.prevote, round: round, for: $0.value) }), isValid(proposal.value) == true
        else { return false }
        line36Fired.insert(round)
        if step == .prevote {
            lockedValue = proposal.value
            lockedRound = Int64(round)
            vote(.precommit, proposal.value)
            step = .precommit
        }
        validValue = proposal.value
        validRound = Int64(round)
        return true
    }

    // MARK: - Lines 44–46

    private mutating func line44() -> Bool {
        guard step == .prevote, hasQuorum(.prevote, round: round, for: nil) else { return false }
        vote(.precommit, nil)
        step = .precommit
        return true
    }

    // MARK: - Lines 47–48

    private mutating func line47() -> Bool {
        guard !precommitTimeoutScheduled.contains(round), hasQuorumOfAny(.precommit, round: round) else { return false }
        precommitTimeoutScheduled.insert(round)
        outputs.append(.schedule(Timeout(kind: .precommit, height: height, round: round)))
        return true
    }

    // MARK: - Lines 49–54: decide (in any round)

    private mutating func line49() -> Bool {
        guard decision == nil else { return false }
        for (round, held) in proposals.sorted(by: { $0.key < $1.key }) {
            guard let proposal = held.first(where: { hasQuorum(.precommit, round: round, for: $0.value) }) else { continue }
            guard isValid(proposal.value) == true else { continue }
            decision = proposal.value
            let precommits = (votes[.precommit]?[round] ?? [:]).values.compactMap { $0.first { $0.block == proposal.value } }.sorted { $0.voter < $1.voter }
            outputs.append(.decide(round: round, value: proposal.value, precommits: precommits))
            // Line 52–54 (the next height, reset) is a new machine: the caller executes the block first.
            return true
        }
        return false
    }

    // MARK: - Lines 55–56: skip to a round that more than a third has reached

    private mutating func line55() -> Bool {
        var senders: [UInt32: Set<PublicKey>] = [:]
        for kind in ConsensusVote.Kind.allCases {
            for (round, byVoter) in votes[kind] ?? [:] where round > self.round { senders[round, default: []].formUnion(byVoter.keys) }
        }
        for (round, _) in proposals where round > self.round {
            if let proposer = proposer(round: round) { senders[round, default: []].insert(proposer) }
        }
        let reached = senders.filter { bookkeepers.exceedsOneThird(power(of: $0.value)) }.keys
        guard let next = reached.max() else { return false }
        startRound(next)
        return true
    }

    // MARK: - Lines 57–67: timeouts

    private mutating func onTimeout(_ timeout: Timeout) {
        guard started, decision == nil, timeout.height == height, timeout.round == round else { return }
        switch timeout.kind {
        case .propose where step == .propose:
            vote(.prevote, nil)  // 59
            step = .prevote
        case .prevote where step == .prevote:
            vote(.precommit, nil)  // 63
            step = .precommit
        case .precommit:
            if round < UInt32.max { startRound(round + 1) }  // 67
        default:
            break
        }
    }

    // MARK: - Votes and tallies

    private mutating func vote(_ kind: ConsensusVote.Kind, _ value: Digest?) {
        guard me != nil else { return }  // a follower runs the rules but says nothing
        outputs.append(.vote(kind, round: round, value: value))
    }

    private mutating func record(_ vote: ConsensusVote) {
        guard vote.height == height, bookkeepers.power(of: vote.voter) != nil else { return }
        if let existing = votes[vote.kind]?[vote.round]?[vote.voter], let first = existing.first {
            guard !existing.contains(where: { $0.block == vote.block }) else { return }
            outputs.append(.equivocation(first, vote))
            let proposed = vote.block.map { value in (proposals[vote.round] ?? []).contains { $0.value == value } } ?? true
            if proposed && existing.count <= Self.proposalsPerRoundMax { votes[vote.kind]?[vote.round]?[vote.voter]?.append(vote) }
            return
        }
        if vote.round > round {
            var ahead = 0
            for kind in ConsensusVote.Kind.allCases {
                for (round, byVoter) in votes[kind] ?? [:] where round > self.round && byVoter[vote.voter] != nil { ahead += 1 }
            }
            guard ahead < Self.futureRoundsPerVoterMax * 2 else { return }
        }
        votes[vote.kind, default: [:]][vote.round, default: [:]][vote.voter] = [vote]
    }

    private func power(of voters: some Sequence<PublicKey>) -> UInt64 {
        voters.reduce(UInt64(0)) { $0 + (bookkeepers.power(of: $1) ?? 0) }
    }

    private func hasQuorum(_ kind: ConsensusVote.Kind, round: UInt32, for value: Digest?) -> Bool {
        let byVoter = votes[kind]?[round] ?? [:]
        return bookkeepers.isQuorum(power(of: byVoter.filter { $0.value.contains { $0.block == value } }.keys))
    }

    private func hasQuorumOfAny(_ kind: ConsensusVote.Kind, round: UInt32) -> Bool {
        bookkeepers.isQuorum(power(of: (votes[kind]?[round] ?? [:]).keys))
    }

    /// valid(v), once known; the first time it is needed, asks the caller to execute the block.
    private mutating func isValid(_ value: Digest) -> Bool? {
        if let known = validity[value] { return known }
        if executionRequested.insert(value).inserted { outputs.append(.execute(value)) }
        return nil
    }

    /// The proposals held for a round (for the caller's re-broadcasts).
    public func proposals(round: UInt32) -> [Proposal] { proposals[round] ?? [] }

    /// Every vote held for a kind and round (for re-broadcasts and certificates).
    public func votes(_ kind: ConsensusVote.Kind, round: UInt32) -> [ConsensusVote] { (votes[kind]?[round] ?? [:]).values.flatMap { $0 } }
}
