/// The bookkeepers whose precommits make a block final, at `ID.derived("bookkeepers", [])`, in rank
/// order (the first is GongShi's chief bookkeeper). A single-node ledger is the special case of a set of
/// one. The genesis set has power 1 each; an elected member's power is its bond in units of the least
/// bond, at most `powerMax` (specs/consensus.md §Election). Every rule counts power, never heads.
public struct BookkeeperSet: StateRecord, Equatable {
    public static let kind = "bookkeepers"
    public static var stateKey: ID { ID.derived("bookkeepers", []) }
    public static let countMax = 100
    /// One member's power at most: it bounds what one large bond weighs and what the rotation costs.
    public static let powerMax: UInt64 = 100

    public private(set) var keys: [PublicKey]
    /// `powers[i]` is `keys[i]`'s voting power, 1…powerMax.
    public private(set) var powers: [UInt64]

    public init(keys: [PublicKey]) {
        self.keys = keys
        powers = Array(repeating: 1, count: keys.count)
    }

    public init(members: [(key: PublicKey, power: UInt64)]) {
        keys = members.map(\.key)
        powers = members.map { min(Self.powerMax, max(1, $0.power)) }
    }

    /// The set without one member (evidence excluded it).
    public mutating func remove(_ key: PublicKey) {
        guard let index = keys.firstIndex(of: key) else { return }
        keys.remove(at: index)
        powers.remove(at: index)
    }

    /// A member's voting power; nil for a key outside the set.
    public func power(of key: PublicKey) -> UInt64? { keys.firstIndex(of: key).map { powers[$0] } }

    public var totalPower: UInt64 { powers.reduce(0, +) }

    /// More than two thirds of the power: enough to commit (Tendermint's 2f + 1).
    public func isQuorum(_ power: UInt64) -> Bool { power.multipliedFullWidth(by: 3) > totalPower.multipliedFullWidth(by: 2) }

    /// More than one third: at least one honest member among them (Tendermint's f + 1).
    public func exceedsOneThird(_ power: UInt64) -> Bool { power.multipliedFullWidth(by: 3) > totalPower.multipliedFullWidth(by: 1) }

    /// What headers commit to: TaggedHash("ledgerd/bookkeepers", encode(record)).
    public var hash: Digest { SHA256.tagged("ledgerd/bookkeepers", CBOREncoder.encode(cbor)) }

    public var fields: [String: CBOR] {
        ["keys": .array(keys.map { .bytes($0.bytes) }), "powers": .array(powers.map { .unsigned($0) })]
    }

    public init(fields: inout CBORFields) throws(DecodeError) {
        var keys: [PublicKey] = []
        for item in try fields.array("keys", countMax: BookkeeperSet.countMax) {
            guard case .bytes(let raw) = item, let key = try? PublicKey(bytes: raw) else {
                throw .schema("bookkeepers: a key is not a valid public key")
            }
            keys.append(key)
        }
        var powers: [UInt64] = []
        for item in try fields.array("powers", countMax: BookkeeperSet.countMax) {
            guard case .unsigned(let power) = item, (1...Self.powerMax).contains(power) else {
                throw .schema("bookkeepers: a power is not 1…\(Self.powerMax)")
            }
            powers.append(power)
        }
        guard powers.count == keys.count, Set(keys).count == keys.count else {
            throw .schema("bookkeepers: keys and powers differ in count, or a key appears twice")
        }
        self.keys = keys
        self.powers = powers
    }
}
