/// Evidence in blocks (specs/consensus.md §Evidence): a bookkeeper proven to have signed two different
/// votes for one height, round and type is excluded from the bookkeeper set by the block that carries
/// the proof, gets no share of that block's reward, loses `params.slashPercent` of its bond (bonded and
/// unbonding; burnt, not paid to anyone, so that no one profits from provoking it), has the rest of its
/// bond unbonded (it does not stand at the next election unless it bonds again), and is written into the
/// slashing history.
public enum Slashing {
    public static let evidencePerBlockMax = 16
    /// Evidence older than this many heights is refused: the misdeed must be reported while it matters.
    public static let evidenceAgeHeightsMax: UInt64 = 100
    public static let badEvidence: Rejection.Code = "bad_evidence"

    /// Checks each piece and excludes its bookkeeper; all or nothing. Returns the excluded keys.
    @discardableResult
    public static func apply(_ evidence: [Equivocation], to draft: inout StateDraft, context: BlockContext) throws(Rejection) -> Set<PublicKey> {
        let chain = context.chain, height = context.height
        guard !evidence.isEmpty else { return [] }
        guard evidence.count <= evidencePerBlockMax else {
            throw Rejection(badEvidence, "a block carries at most \(evidencePerBlockMax) pieces of evidence")
        }
        guard var set = try draft.record(BookkeeperSet.self, at: BookkeeperSet.stateKey) else {
            throw Rejection(.unreadableRecord, "the state has no bookkeeper set")
        }
        var history = try draft.record(SlashingHistory.self, at: SlashingHistory.stateKey) ?? SlashingHistory(entries: [])
        var bonds = try draft.record(Bonds.self, at: Bonds.stateKey)
        let parameters = try draft.parameters()
        var excluded = Set<PublicKey>()
        do throws(Rejection) {
            for piece in evidence {
                guard piece.first.chain.sameBytes(as: chain) else { throw Rejection(badEvidence, "evidence from another chain") }
                guard piece.first.height < height, piece.first.height + evidenceAgeHeightsMax >= height else {
                    throw Rejection(badEvidence, "evidence of height \(piece.first.height) is not within the \(evidenceAgeHeightsMax) heights before \(height)")
                }
                // A member, or a key that still holds a bond (one that left the set at an election keeps it
                // slashable until its release): a stranger has nothing to lose, and one misdeed is punished once.
                let held = bonds?.entry(piece.voter).map { $0.bonded > 0 || $0.unbonding > 0 } ?? false
                guard set.keys.contains(piece.voter) || held else {
                    throw Rejection(badEvidence, "\(piece.voter.id) is neither in the bookkeeper set nor bonded (a stranger, or punished already)")
                }
                guard !history.entries.contains(where: { $0.voter == piece.voter && $0.height == piece.first.height && $0.round == piece.first.round }) else {
                    throw Rejection(badEvidence, "\(piece.voter.id) was punished for height \(piece.first.height), round \(piece.first.round) already")
                }
                guard piece.verifies else { throw Rejection(badEvidence, "a vote in the evidence against \(piece.voter.id) does not verify") }
                set.remove(piece.voter)
                guard !set.keys.isEmpty else { throw Rejection(badEvidence, "excluding \(piece.voter.id) would leave no bookkeeper") }
                var burnt: UInt64 = 0
                if var entry = bonds?.entry(piece.voter) {
                    burnt = burn(parameters.slashPercent, of: &entry)
                    entry.unbond(entry.bonded, pulse: context.pulse, height: height, parameters: parameters)
                    bonds?.update(entry)
                }
                excluded.insert(piece.voter)
                history.record(.init(voter: piece.voter, height: piece.first.height, round: piece.first.round, evidence: piece.hash,
                                     excludedAt: height, burnt: burnt))
            }
        } catch {
            draft.rollbackTransaction()
            throw error
        }
        draft.put(set, at: BookkeeperSet.stateKey)
        draft.put(history, at: SlashingHistory.stateKey)
        if let bonds { draft.put(bonds, at: Bonds.stateKey) }
        draft.commitTransaction()
        return excluded
    }

    /// Burns `percent` of what the entry holds, from the standing bond first; returns the amount.
    static func burn(_ percent: UInt64, of entry: inout Bonds.Entry) -> UInt64 {
        let held = UInt128(entry.bonded) + UInt128(entry.unbonding)
        let share = held * UInt128(min(percent, 100)) / 100
        let fromBond = UInt64(min(share, UInt128(entry.bonded)))
        let fromUnbonding = UInt64(min(share - UInt128(fromBond), UInt128(entry.unbonding)))
        entry.bonded -= fromBond
        entry.unbonding -= fromUnbonding
        // What both parts together held may pass 2^64 − 1; the amount reported saturates, the burn does not.
        return fromBond.addingReportingOverflow(fromUnbonding).overflow ? .max : fromBond + fromUnbonding
    }
}

/// The last 256 exclusions, for the explorer and the API.
public struct SlashingHistory: StateRecord, Equatable {
    public static let kind = "slashings"
    public static var stateKey: ID { ID.derived("slashings", []) }
    public static let entriesMax = 256

    public struct Entry: Equatable, Sendable {
        public var voter: PublicKey
        public var height: UInt64
        public var round: UInt32
        public var evidence: Digest
        public var excludedAt: UInt64
        /// Bond burnt for it.
        public var burnt: UInt64 = 0
    }

    public var entries: [Entry]

    public init(entries: [Entry]) { self.entries = entries }

    mutating func record(_ entry: Entry) {
        entries.append(entry)
        if entries.count > Self.entriesMax { entries.removeFirst(entries.count - Self.entriesMax) }
    }

    public var fields: [String: CBOR] {
        ["entries": .array(entries.map {
            .map(["key": .bytes($0.voter.bytes), "height": .unsigned($0.height), "round": .unsigned(UInt64($0.round)),
                  "evidence": .digest($0.evidence), "excludedAt": .unsigned($0.excludedAt), "burnt": .unsigned($0.burnt)])
        })]
    }

    public init(fields: inout CBORFields) throws(DecodeError) {
        entries = []
        for item in try fields.array("entries", countMax: Self.entriesMax) {
            var entry = try CBORFields(item, schema: "slashing entry")
            let voter = try entry.publicKey("key"), height = try entry.unsigned("height")
            guard let round = UInt32(exactly: try entry.unsigned("round")) else { throw .schema("slashing entry: round") }
            let evidence = try entry.digest("evidence"), excludedAt = try entry.unsigned("excludedAt"), burnt = try entry.unsigned("burnt")
            try entry.finish()
            entries.append(Entry(voter: voter, height: height, round: round, evidence: evidence, excludedAt: excludedAt, burnt: burnt))
        }
    }
}

/// The set that certified the latest block, kept for one block after a block changed the set, because
/// the next block's `lastCommit` is signed by it and not by the set now in the state.
public struct PreviousBookkeepers: StateRecord, Equatable {
    public static let kind = "previousBookkeepers"
    public static var stateKey: ID { ID.derived("previous-bookkeepers", []) }

    public var set: BookkeeperSet

    public init(set: BookkeeperSet) { self.set = set }

    public var fields: [String: CBOR] { ["set": set.cbor] }

    public init(fields: inout CBORFields) throws(DecodeError) { set = try BookkeeperSet(cbor: try fields.value("set")) }
}
