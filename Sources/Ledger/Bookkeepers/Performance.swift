/// Proof of Performance in the current election cycle, at `ID.derived("performance", [])`: for each key
/// that was in the set, how many certificates it could have signed (heights while it was a member) and
/// how many carry its precommit. Counted from each block's `lastCommit`, the certificate of the block
/// before it, so the count is a function of the chain alone (specs/consensus.md §Election).
public struct Performance: StateRecord, Equatable {
    public static let kind = "performance"
    public static var stateKey: ID { ID.derived("performance", []) }
    public static let entriesMax = 2 * BookkeeperSet.countMax

    public struct Entry: Equatable, Sendable {
        public var key: PublicKey
        public var heights: UInt64
        public var signed: UInt64

        /// Signed share in thousandths; a key with no heights yet counts as full (a newcomer).
        public var permille: UInt64 { heights == 0 ? 1000 : UInt64(UInt128(min(signed, heights)) * 1000 / UInt128(heights)) }
    }

    /// The cycle being counted.
    public var cycle: UInt64
    public private(set) var entries: [Entry]

    public init(cycle: UInt64, entries: [Entry] = []) {
        self.cycle = cycle
        self.entries = entries.sorted { $0.key < $1.key }
    }

    public func entry(_ key: PublicKey) -> Entry? { entries.first { $0.key == key } }

    /// Counts one certificate: every member of the set that made it could have signed, its signers did.
    public mutating func count(certificateOf set: BookkeeperSet, signers: Set<PublicKey>) {
        for key in set.keys {
            if let index = entries.firstIndex(where: { $0.key == key }) {
                entries[index].heights &+= 1
                if signers.contains(key) { entries[index].signed &+= 1 }
            } else if entries.count < Self.entriesMax {
                let index = entries.firstIndex { key < $0.key } ?? entries.endIndex
                entries.insert(Entry(key: key, heights: 1, signed: signers.contains(key) ? 1 : 0), at: index)
            }
        }
    }

    public var fields: [String: CBOR] {
        ["cycle": .unsigned(cycle),
         "entries": .array(entries.map { .map(["key": .bytes($0.key.bytes), "heights": .unsigned($0.heights), "signed": .unsigned($0.signed)]) })]
    }

    public init(fields: inout CBORFields) throws(DecodeError) {
        cycle = try fields.unsigned("cycle")
        var entries: [Entry] = []
        for item in try fields.array("entries", countMax: Self.entriesMax) {
            var entry = try CBORFields(item, schema: "performance entry")
            let key = try entry.publicKey("key"), heights = try entry.unsigned("heights"), signed = try entry.unsigned("signed")
            try entry.finish()
            entries.append(Entry(key: key, heights: heights, signed: signed))
        }
        guard zip(entries, entries.dropFirst()).allSatisfy({ $0.key < $1.key }) else { throw .schema("performance: entries not sorted by key") }
        self.entries = entries
    }
}
