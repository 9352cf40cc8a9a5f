/// The bookkeeper candidates and what each has locked, at `ID.derived("bonds", [])`: one record, because
/// an election must see every candidate and the state tree cannot list keys by prefix. Bounded at
/// `standingMax` candidates: when they are that many, a bond larger than the smallest pushes that one out
/// (into unbonding), so that filling the list with small bonds cannot keep a serious candidate away; and
/// at `countMax` entries, those being released included (specs/consensus.md §Bonds).
/// Units here are out of every balance, so the total of balances and holdings counts them.
public struct Bonds: StateRecord, Equatable {
    public static let kind = "bonds"
    public static var stateKey: ID { ID.derived("bonds", []) }
    public static let standingMax = 256
    public static let countMax = 512
    /// Room beyond `countMax` for bonds that push a smaller one out (the record never holds more).
    public static let pushOutReserve = 256

    public struct Entry: Equatable, Sendable {
        public var key: PublicKey
        /// Locked and standing at the next election.
        public var bonded: UInt64
        /// Released by `bookkeeper.unbond` (or pushed out, or slashed), still slashable, paid back to the
        /// key's account at the first block at or after `releasePulse` and `releaseHeight`.
        public var unbonding: UInt64 = 0
        public var releasePulse: UInt64 = 0
        public var releaseHeight: UInt64 = 0

        public init(key: PublicKey, bonded: UInt64, unbonding: UInt64 = 0, releasePulse: UInt64 = 0, releaseHeight: UInt64 = 0) {
            self.key = key
            self.bonded = bonded
            self.unbonding = unbonding
            self.releasePulse = releasePulse
            self.releaseHeight = releaseHeight
        }

        var isEmpty: Bool { bonded == 0 && unbonding == 0 }

        /// Moves `amount` of the bond into unbonding; the release waits for the later of the delays, and for
        /// evidence's age limit in heights, so a misdeed can still be punished after the unbond.
        mutating func unbond(_ amount: UInt64, pulse: UInt64, height: UInt64, parameters: ChainParameters) {
            // Never past 2^64 − 1 unbonding: what cannot move stays bonded (no unit is lost to wrapping).
            let moved = min(amount, bonded, UInt64.max - unbonding)
            bonded -= moved
            unbonding += moved
            // Saturating: a delay that would pass 2^64 − 1 holds the amount for ever rather than wrap to now.
            let (untilPulse, pulseOverflow) = pulse.addingReportingOverflow(parameters.unbondDelayPulses)
            let (untilHeight, heightOverflow) = height.addingReportingOverflow(Slashing.evidenceAgeHeightsMax)
            releasePulse = max(releasePulse, pulseOverflow ? .max : untilPulse)
            releaseHeight = max(releaseHeight, heightOverflow ? .max : untilHeight)
        }
    }

    /// Sorted by key.
    public private(set) var entries: [Entry]

    public init(entries: [Entry]) { self.entries = entries.sorted { $0.key < $1.key } }

    public func entry(_ key: PublicKey) -> Entry? { entries.first { $0.key == key } }

    /// Stores the entry (or removes it when nothing is left in it), keeping the order.
    public mutating func update(_ entry: Entry) {
        entries.removeAll { $0.key == entry.key }
        guard !entry.isEmpty else { return }
        let index = entries.firstIndex { entry.key < $0.key } ?? entries.endIndex
        entries.insert(entry, at: index)
    }

    public var fields: [String: CBOR] {
        ["entries": .array(entries.map {
            .map(["key": .bytes($0.key.bytes), "bonded": .unsigned($0.bonded), "unbonding": .unsigned($0.unbonding),
                  "releasePulse": .unsigned($0.releasePulse), "releaseHeight": .unsigned($0.releaseHeight)])
        })]
    }

    public init(fields: inout CBORFields) throws(DecodeError) {
        var entries: [Entry] = []
        for item in try fields.array("entries", countMax: Self.countMax + Self.pushOutReserve) {
            var entry = try CBORFields(item, schema: "bond")
            let key = try entry.publicKey("key"), bonded = try entry.unsigned("bonded"), unbonding = try entry.unsigned("unbonding")
            let releasePulse = try entry.unsigned("releasePulse"), releaseHeight = try entry.unsigned("releaseHeight")
            try entry.finish()
            entries.append(Entry(key: key, bonded: bonded, unbonding: unbonding, releasePulse: releasePulse, releaseHeight: releaseHeight))
        }
        guard zip(entries, entries.dropFirst()).allSatisfy({ $0.key < $1.key }) else { throw .schema("bonds: entries not sorted by key, or a key twice") }
        self.entries = entries
    }
}
