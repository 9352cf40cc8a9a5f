/// Evidence in blocks (specs/consensus.md §Evidence): a bookkeeper proven to have signed two different
/// votes for one height, round and type is excluded from the bookkeeper set by the block that carries
/// the proof, gets no share of that block's reward, and is written into the slashing history. Bonds, and
/// the share of the bond this would burn, come with elections (not yet).
public enum Slashing {
    public static let evidencePerBlockMax = 16
    /// Evidence older than this many heights is refused: the misdeed must be reported while it matters.
    public static let evidenceAgeHeightsMax: UInt64 = 100
    public static let badEvidence: Rejection.Code = "bad_evidence"

    /// Checks each piece and excludes its bookkeeper; all or nothing.
    public static func apply(_ evidence: [Equivocation], to draft: inout StateDraft, chain: String, height: UInt64) throws(Rejection) {
        guard !evidence.isEmpty else { return }
        guard evidence.count <= evidencePerBlockMax else {
            throw Rejection(badEvidence, "a block carries at most \(evidencePerBlockMax) pieces of evidence")
        }
        guard var set = try draft.record(BookkeeperSet.self, at: BookkeeperSet.stateKey) else {
            throw Rejection(.unreadableRecord, "the state has no bookkeeper set")
        }
        var history = try draft.record(SlashingHistory.self, at: SlashingHistory.stateKey) ?? SlashingHistory(entries: [])
        do throws(Rejection) {
            for piece in evidence {
                guard piece.first.chain.sameBytes(as: chain) else { throw Rejection(badEvidence, "evidence from another chain") }
                guard piece.first.height < height, piece.first.height + evidenceAgeHeightsMax >= height else {
                    throw Rejection(badEvidence, "evidence of height \(piece.first.height) is not within the \(evidenceAgeHeightsMax) heights before \(height)")
                }
                // A key outside the set is a stranger or was excluded already: once is enough.
                guard set.keys.contains(piece.voter) else {
                    throw Rejection(badEvidence, "\(piece.voter.id) is not in the bookkeeper set (a stranger, or excluded already)")
                }
                guard piece.verifies else { throw Rejection(badEvidence, "a vote in the evidence against \(piece.voter.id) does not verify") }
                set.keys.removeAll { $0 == piece.voter }
                guard !set.keys.isEmpty else { throw Rejection(badEvidence, "excluding \(piece.voter.id) would leave no bookkeeper") }
                history.record(.init(voter: piece.voter, height: piece.first.height, round: piece.first.round, evidence: piece.hash, excludedAt: height))
            }
        } catch {
            draft.rollbackTransaction()
            throw error
        }
        draft.put(set, at: BookkeeperSet.stateKey)
        draft.put(history, at: SlashingHistory.stateKey)
        draft.commitTransaction()
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
                  "evidence": .digest($0.evidence), "excludedAt": .unsigned($0.excludedAt)])
        })]
    }

    public init(fields: inout CBORFields) throws(DecodeError) {
        entries = []
        for item in try fields.array("entries", countMax: Self.entriesMax) {
            var entry = try CBORFields(item, schema: "slashing entry")
            let voter = try entry.publicKey("key"), height = try entry.unsigned("height")
            guard let round = UInt32(exactly: try entry.unsigned("round")) else { throw .schema("slashing entry: round") }
            let evidence = try entry.digest("evidence"), excludedAt = try entry.unsigned("excludedAt")
            try entry.finish()
            entries.append(Entry(voter: voter, height: height, round: round, evidence: evidence, excludedAt: excludedAt))
        }
    }
}

/// The set that certified the latest block, kept for one block after a block changed the set, because
/// the next block's `lastCommit` is signed by it and not by the set now in the state.
public struct PreviousBookkeepers: StateRecord, Equatable {
    public static let kind = "previousBookkeepers"
    public static var stateKey: ID { ID.derived("previous-bookkeepers", []) }

    public var keys: [PublicKey]

    public init(keys: [PublicKey]) { self.keys = keys }

    public var fields: [String: CBOR] { ["keys": .array(keys.map { .bytes($0.bytes) })] }

    public init(fields: inout CBORFields) throws(DecodeError) {
        keys = []
        for item in try fields.array("keys", countMax: BookkeeperSet.countMax) {
            guard case .bytes(let raw) = item, let key = try? PublicKey(bytes: raw) else { throw .schema("previous bookkeepers: a key is not valid") }
            keys.append(key)
        }
    }

    public var set: BookkeeperSet { BookkeeperSet(keys: keys) }
}
