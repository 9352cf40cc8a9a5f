/// Network parameters fixed by the genesis file and kept in the state tree at
/// `ID.derived("params", [])`, so every node applies the same rules and a light client can prove them.
public struct ChainParameters: StateRecord, Equatable, Codable {
    public static let kind = "params"
    public static var stateKey: ID { ID.derived("params", []) }

    public var genesisTimeMillis: UInt64
    public var pulseMillis: UInt64
    public var electionCyclePulses: UInt64
    public var publicityWindowPulses: UInt64
    /// Bandwidth bytes that one stored byte-day is worth.
    public var storageByteDayCoefficient: UInt64
    /// Bandwidth bytes that one CPU second is worth.
    public var cpuSecondCoefficient: UInt64
    /// What a party locks when it settles or disputes usage receipts; the side found wrong loses it.
    public var settlementDeposit: UInt64
    /// New bandwidth units each block mints for the bookkeepers (0 by default; the consensus layer
    /// decides its value and recipients): GongShi's mining reward.
    public var miningReward: UInt64 = 0
    /// Bandwidth bytes a transaction's origin pays per byte of the signed transaction (at least 1 on every
    /// chain that is not a development chain); shared among the bookkeepers with the mining reward.
    public var feePerByte: UInt64 = 0

    public static let settlementDepositDefault: UInt64 = 1 << 20

    public init(
        genesisTimeMillis: UInt64, pulseMillis: UInt64 = 1000, electionCyclePulses: UInt64 = 1800,
        publicityWindowPulses: UInt64 = 86_400, storageByteDayCoefficient: UInt64 = 1,
        cpuSecondCoefficient: UInt64 = 1 << 20, settlementDeposit: UInt64 = ChainParameters.settlementDepositDefault
    ) {
        self.genesisTimeMillis = genesisTimeMillis
        self.pulseMillis = pulseMillis
        self.electionCyclePulses = electionCyclePulses
        self.publicityWindowPulses = publicityWindowPulses
        self.storageByteDayCoefficient = storageByteDayCoefficient
        self.cpuSecondCoefficient = cpuSecondCoefficient
        self.settlementDeposit = settlementDeposit
    }

    public var fields: [String: CBOR] {
        [
            "genesisTime": .unsigned(genesisTimeMillis), "pulseMillis": .unsigned(pulseMillis),
            "electionCyclePulses": .unsigned(electionCyclePulses),
            "publicityWindowPulses": .unsigned(publicityWindowPulses),
            "storageByteDay": .unsigned(storageByteDayCoefficient), "cpuSecond": .unsigned(cpuSecondCoefficient),
            "settlementDeposit": .unsigned(settlementDeposit), "miningReward": .unsigned(miningReward),
            "feePerByte": .unsigned(feePerByte),
        ]
    }

    public init(fields: inout CBORFields) throws(DecodeError) {
        genesisTimeMillis = try fields.unsigned("genesisTime")
        pulseMillis = try fields.unsigned("pulseMillis")
        electionCyclePulses = try fields.unsigned("electionCyclePulses")
        publicityWindowPulses = try fields.unsigned("publicityWindowPulses")
        storageByteDayCoefficient = try fields.unsigned("storageByteDay")
        cpuSecondCoefficient = try fields.unsigned("cpuSecond")
        settlementDeposit = try fields.unsigned("settlementDeposit")
        miningReward = try fields.unsigned("miningReward")
        feePerByte = try fields.unsigned("feePerByte")
    }

    /// Pulses in a day, at least 1.
    public var pulsesPerDay: UInt64 { max(1, 86_400_000 / pulseMillis) }

    /// The pulse a block time falls in. Pulses count from genesis; at most one block per pulse.
    public func pulse(atMillis time: UInt64) -> UInt64 {
        time < genesisTimeMillis ? 0 : (time - genesisTimeMillis) / pulseMillis
    }
}

/// The bookkeepers whose precommits make a block final, at `ID.derived("bookkeepers", [])`.
/// A single-node ledger is the special case of a set of one. Each has voting power 1 until bonds weigh
/// them (the election, specs/consensus.md); every rule counts power, never heads.
public struct BookkeeperSet: StateRecord, Equatable {
    public static let kind = "bookkeepers"
    public static var stateKey: ID { ID.derived("bookkeepers", []) }
    public static let countMax = 100

    public var keys: [PublicKey]

    public init(keys: [PublicKey]) { self.keys = keys }

    /// A member's voting power; nil for a key outside the set.
    public func power(of key: PublicKey) -> UInt64? { keys.contains(key) ? 1 : nil }

    public var totalPower: UInt64 { UInt64(keys.count) }

    /// More than two thirds of the power: enough to commit (Tendermint's 2f + 1).
    public func isQuorum(_ power: UInt64) -> Bool { power.multipliedFullWidth(by: 3) > totalPower.multipliedFullWidth(by: 2) }

    /// More than one third: at least one honest member among them (Tendermint's f + 1).
    public func exceedsOneThird(_ power: UInt64) -> Bool { power.multipliedFullWidth(by: 3) > totalPower.multipliedFullWidth(by: 1) }

    /// What headers commit to: TaggedHash("ledgerd/bookkeepers", encode(record)).
    public var hash: Digest { SHA256.tagged("ledgerd/bookkeepers", CBOREncoder.encode(cbor)) }

    public var fields: [String: CBOR] { ["keys": .array(keys.map { .bytes($0.bytes) })] }

    public init(fields: inout CBORFields) throws(DecodeError) {
        var keys: [PublicKey] = []
        for item in try fields.array("keys", countMax: BookkeeperSet.countMax) {
            guard case .bytes(let raw) = item, let key = try? PublicKey(bytes: raw) else {
                throw .schema("bookkeepers: a key is not a valid public key")
            }
            keys.append(key)
        }
        self.keys = keys
    }
}
