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
    /// Bandwidth bytes one answered DHT query is worth (specs/credit.md §DHT answers). Written to the
    /// state only when the genesis file gives it, so that chains made before it existed keep their roots;
    /// `dhtQueryUnits` is the value in force.
    public var dhtQueryCoefficient: UInt64?
    /// What a party locks when it settles or disputes usage receipts; the side found wrong loses it.
    public var settlementDeposit: UInt64
    /// New bandwidth units each block mints for the bookkeepers (0 by default; the consensus layer
    /// decides its value and recipients): GongShi's mining reward.
    public var miningReward: UInt64 = 0
    /// Bandwidth bytes a transaction's origin pays per byte of the signed transaction (at least 1 on every
    /// chain that is not a development chain); shared among the bookkeepers with the mining reward.
    public var feePerByte: UInt64 = 0
    /// The bookkeeper election (specs/consensus.md §Election): how many are elected each cycle, the
    /// least bond a candidate locks (also the bond that weighs 1 in voting power), how many pulses an
    /// unbonded amount stays slashable before it is paid out, the share of a bond burnt for evidence,
    /// and the least share of certificates a member must have signed in a cycle to be re-elected.
    public var bookkeepersMax: UInt64 = ChainParameters.bookkeepersMaxDefault
    public var bondMinimum: UInt64 = ChainParameters.bondMinimumDefault
    public var unbondDelayPulses: UInt64 = ChainParameters.unbondDelayPulsesDefault
    public var slashPercent: UInt64 = ChainParameters.slashPercentDefault
    public var performanceMinPercent: UInt64 = ChainParameters.performanceMinPercentDefault

    public static let settlementDepositDefault: UInt64 = 1 << 20
    /// A DHT answer is a few hundred bytes to a few KiB (up to 20 peers with their addresses).
    public static let dhtQueryDefault: UInt64 = 1 << 10
    /// At most a receipt interval's worth (1 MiB) per answer.
    public static let dhtQueryMax: UInt64 = 1 << 20
    public var dhtQueryUnits: UInt64 { dhtQueryCoefficient ?? Self.dhtQueryDefault }
    public static let bookkeepersMaxDefault: UInt64 = 21
    public static let bondMinimumDefault: UInt64 = 1 << 20
    public static let unbondDelayPulsesDefault: UInt64 = 3600
    public static let slashPercentDefault: UInt64 = 5
    public static let performanceMinPercentDefault: UInt64 = 50

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
        var fields: [String: CBOR] = [
            "genesisTime": .unsigned(genesisTimeMillis), "pulseMillis": .unsigned(pulseMillis),
            "electionCyclePulses": .unsigned(electionCyclePulses),
            "publicityWindowPulses": .unsigned(publicityWindowPulses),
            "storageByteDay": .unsigned(storageByteDayCoefficient), "cpuSecond": .unsigned(cpuSecondCoefficient),
            "settlementDeposit": .unsigned(settlementDeposit), "miningReward": .unsigned(miningReward),
            "feePerByte": .unsigned(feePerByte), "bookkeepersMax": .unsigned(bookkeepersMax),
            "bondMinimum": .unsigned(bondMinimum), "unbondDelayPulses": .unsigned(unbondDelayPulses),
            "slashPercent": .unsigned(slashPercent), "performanceMinPercent": .unsigned(performanceMinPercent),
        ]
        if let dhtQueryCoefficient { fields["dhtQuery"] = .unsigned(dhtQueryCoefficient) }
        return fields
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
        bookkeepersMax = try fields.unsigned("bookkeepersMax")
        bondMinimum = try fields.unsigned("bondMinimum")
        unbondDelayPulses = try fields.unsigned("unbondDelayPulses")
        slashPercent = try fields.unsigned("slashPercent")
        performanceMinPercent = try fields.unsigned("performanceMinPercent")
        dhtQueryCoefficient = fields.hasField("dhtQuery") ? try fields.unsigned("dhtQuery") : nil
    }

    /// The election cycle a pulse falls in.
    public func cycle(ofPulse pulse: UInt64) -> UInt64 { pulse / max(1, electionCyclePulses) }

    /// Pulses in a day, at least 1.
    public var pulsesPerDay: UInt64 { max(1, 86_400_000 / pulseMillis) }

    /// The pulse a block time falls in. Pulses count from genesis; at most one block per pulse.
    public func pulse(atMillis time: UInt64) -> UInt64 {
        time < genesisTimeMillis ? 0 : (time - genesisTimeMillis) / pulseMillis
    }
}
