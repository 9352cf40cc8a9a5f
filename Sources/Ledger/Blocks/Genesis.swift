import Foundation

/// The genesis file (JSON): chain ID, start time, parameters, bookkeepers and initial balances.
/// Block 0 commits to all of it through its state root (specs/genesis.md).
public struct Genesis: Codable, Sendable, Equatable {
    public struct Parameters: Codable, Sendable, Equatable {
        public var pulseMillis: UInt64
        public var electionCyclePulses: UInt64
        public var publicityWindowPulses: UInt64
        public var coefficients: Coefficients
        /// Optional in the file; 1 MiB when absent.
        public var settlementDeposit: UInt64?
        /// Optional in the file; 0 when absent.
        public var miningRewardPerBlock: UInt64?
        /// Optional in the file; 0 when absent, which only a development chain may have.
        public var feePerByte: UInt64?
        /// The election's parameters, each optional (defaults in `ChainParameters`).
        public var bookkeepersMax: UInt64?
        public var bondMinimum: UInt64?
        public var unbondDelayPulses: UInt64?
        public var slashPercent: UInt64?
        public var performanceMinPercent: UInt64?

        enum CodingKeys: String, CodingKey {
            case pulseMillis = "pulse_millis", electionCyclePulses = "election_cycle_pulses"
            case publicityWindowPulses = "publicity_window_pulses", coefficients, settlementDeposit = "settlement_deposit"
            case miningRewardPerBlock = "mining_reward_per_block", feePerByte = "fee_per_byte"
            case bookkeepersMax = "bookkeepers_max", bondMinimum = "bond_minimum", unbondDelayPulses = "unbond_delay_pulses"
            case slashPercent = "slash_percent", performanceMinPercent = "performance_min_percent"
        }
    }

    /// A bond locked at genesis (a genesis bookkeeper's stake, so that it stands at the first election).
    public struct Bond: Codable, Sendable, Equatable {
        public var bookkeeper: String
        public var amount: UInt64

        public init(bookkeeper: String, amount: UInt64) {
            self.bookkeeper = bookkeeper
            self.amount = amount
        }
    }

    public struct Coefficients: Codable, Sendable, Equatable {
        public var storageByteDay: UInt64
        public var cpuSecond: UInt64
        /// Bandwidth bytes one answered DHT query is worth; optional (`ChainParameters.dhtQueryDefault` when absent).
        public var dhtQuery: UInt64?

        enum CodingKeys: String, CodingKey { case storageByteDay = "storage_byte_day", cpuSecond = "cpu_second", dhtQuery = "dht_query" }
    }

    public struct Allocation: Codable, Sendable, Equatable {
        public var account: String
        public var amount: UInt64
    }

    public var chainID: String
    public var genesisTimeMillis: UInt64
    public var parameters: Parameters
    /// Bookkeeper public keys, hex.
    public var bookkeepers: [String]
    public var balances: [Allocation]
    /// Optional: bonds locked at genesis, each of at least `bond_minimum`.
    public var bonds: [Bond]?
    /// A development chain (`ledgerd init`, `ledgerd testnet`, tests) may charge no fees; any other must.
    public var development: Bool?

    enum CodingKeys: String, CodingKey {
        case chainID = "chain_id", genesisTimeMillis = "genesis_time_ms", parameters = "params", bookkeepers, balances, bonds, development
    }

    public init(chainID: String, genesisTimeMillis: UInt64, parameters: Parameters, bookkeepers: [String], balances: [Allocation],
                development: Bool? = nil, bonds: [Bond]? = nil) {
        self.chainID = chainID
        self.genesisTimeMillis = genesisTimeMillis
        self.parameters = parameters
        self.bookkeepers = bookkeepers
        self.balances = balances
        self.development = development
        self.bonds = bonds
    }

    /// A development chain: one bookkeeper, default parameters, the given balances.
    public static func development(chainID: String, timeMillis: UInt64, bookkeeper: PublicKey, balances: [(ID, UInt64)]) -> Genesis {
        Genesis(
            chainID: chainID, genesisTimeMillis: timeMillis,
            parameters: Parameters(
                pulseMillis: 1000, electionCyclePulses: 1800, publicityWindowPulses: 86_400,
                coefficients: Coefficients(storageByteDay: 1, cpuSecond: 1 << 20), settlementDeposit: ChainParameters.settlementDepositDefault),
            bookkeepers: [bookkeeper.hex], balances: balances.map { Allocation(account: $0.0.text, amount: $0.1) }, development: true)
    }

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public static func decode(json: Data) throws -> Genesis {
        let genesis: Genesis
        do { genesis = try JSONDecoder().decode(Genesis.self, from: json) } catch {
            throw Invalid(description: "genesis file is not valid JSON of the genesis schema: \(error)")
        }
        return genesis
    }

    public func encodeJSON() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try! encoder.encode(self)
    }

    /// Builds the genesis state and block 0, checking every field.
    public func build() throws(Invalid) -> (state: LedgerState, block: Block) {
        guard !chainID.isEmpty, chainID.utf8.count <= 64 else { throw Invalid(description: "chain_id must be 1 to 64 bytes") }
        guard parameters.pulseMillis > 0 else { throw Invalid(description: "params.pulse_millis must be positive") }
        guard parameters.electionCyclePulses > 0 else { throw Invalid(description: "params.election_cycle_pulses must be positive") }
        guard development == true || (parameters.feePerByte ?? 0) >= 1 else {
            throw Invalid(description: "params.fee_per_byte must be at least 1 on a chain that is not a development chain (\"development\": true), so that spam costs something")
        }
        guard !bookkeepers.isEmpty, bookkeepers.count <= BookkeeperSet.countMax else {
            throw Invalid(description: "bookkeepers must list 1 to \(BookkeeperSet.countMax) public keys")
        }
        var keys: [PublicKey] = []
        for text in bookkeepers {
            guard let raw = Hex.decode(text), let key = try? PublicKey(bytes: raw) else {
                throw Invalid(description: "bookkeeper '\(text)' is not a 32-byte x-only public key in hex")
            }
            keys.append(key)
        }
        guard Set(keys).count == keys.count else { throw Invalid(description: "a bookkeeper is listed twice") }
        var changes: [ID: CBOR?] = [:]
        var total: UInt64 = 0
        for allocation in balances {
            let id: ID
            do { id = try ID(text: allocation.account) } catch { throw Invalid(description: "balance account '\(allocation.account)': \(error)") }
            guard changes[id] == nil else { throw Invalid(description: "account \(allocation.account) is listed twice") }
            guard allocation.amount > 0 else { throw Invalid(description: "balance of \(allocation.account) must be positive") }
            let (sum, overflow) = total.addingReportingOverflow(allocation.amount)
            guard !overflow else { throw Invalid(description: "balances add up to more than 2^64-1") }
            total = sum
            changes[id] = Account(balance: allocation.amount).cbor
        }
        let parameters = ChainParameters(
            genesisTimeMillis: genesisTimeMillis, pulseMillis: self.parameters.pulseMillis,
            electionCyclePulses: self.parameters.electionCyclePulses,
            publicityWindowPulses: self.parameters.publicityWindowPulses,
            storageByteDayCoefficient: self.parameters.coefficients.storageByteDay,
            cpuSecondCoefficient: self.parameters.coefficients.cpuSecond,
            settlementDeposit: self.parameters.settlementDeposit ?? ChainParameters.settlementDepositDefault)
        var full = parameters
        // An answer priced above a receipt interval, or at nothing, would break the metering that uses it.
        if let price = self.parameters.coefficients.dhtQuery, !(1...ChainParameters.dhtQueryMax).contains(price) {
            throw Invalid(description: "params.coefficients.dht_query must be 1 to \(ChainParameters.dhtQueryMax) bandwidth bytes per answer")
        }
        full.dhtQueryCoefficient = self.parameters.coefficients.dhtQuery
        full.miningReward = self.parameters.miningRewardPerBlock ?? 0
        full.feePerByte = self.parameters.feePerByte ?? 0
        full.bookkeepersMax = self.parameters.bookkeepersMax ?? ChainParameters.bookkeepersMaxDefault
        full.bondMinimum = self.parameters.bondMinimum ?? ChainParameters.bondMinimumDefault
        full.unbondDelayPulses = self.parameters.unbondDelayPulses ?? ChainParameters.unbondDelayPulsesDefault
        full.slashPercent = self.parameters.slashPercent ?? ChainParameters.slashPercentDefault
        full.performanceMinPercent = self.parameters.performanceMinPercent ?? ChainParameters.performanceMinPercentDefault
        guard (1...UInt64(BookkeeperSet.countMax)).contains(full.bookkeepersMax) else {
            throw Invalid(description: "params.bookkeepers_max must be 1 to \(BookkeeperSet.countMax)")
        }
        guard full.bondMinimum >= 1, full.unbondDelayPulses >= 1 else {
            throw Invalid(description: "params.bond_minimum and params.unbond_delay_pulses must be positive")
        }
        guard full.slashPercent <= 100, full.performanceMinPercent <= 100 else {
            throw Invalid(description: "params.slash_percent and params.performance_min_percent are percentages (0 to 100)")
        }
        changes[ChainParameters.stateKey] = full.cbor
        if let bonds, !bonds.isEmpty {
            var registry = Bonds(entries: [])
            for bond in bonds {
                guard let raw = Hex.decode(bond.bookkeeper), let key = try? PublicKey(bytes: raw) else {
                    throw Invalid(description: "bond of '\(bond.bookkeeper)': not a 32-byte x-only public key in hex")
                }
                guard bond.amount >= full.bondMinimum else {
                    throw Invalid(description: "bond of \(bond.bookkeeper) is \(bond.amount), less than params.bond_minimum \(full.bondMinimum)")
                }
                guard registry.entry(key) == nil else { throw Invalid(description: "bond of \(bond.bookkeeper) is listed twice") }
                guard registry.entries.count < Bonds.standingMax else { throw Invalid(description: "at most \(Bonds.standingMax) bonds") }
                let (sum, overflow) = total.addingReportingOverflow(bond.amount)
                guard !overflow else { throw Invalid(description: "balances and bonds add up to more than 2^64-1") }
                total = sum
                registry.update(Bonds.Entry(key: key, bonded: bond.amount))
            }
            changes[Bonds.stateKey] = registry.cbor
        }
        let bookkeepers = BookkeeperSet(keys: keys)
        changes[BookkeeperSet.stateKey] = bookkeepers.cbor
        var state = LedgerState()
        var created: [TreeNode] = []
        state.commit(changes, height: 0, created: &created)
        let header = BlockHeader(
            chain: chainID, height: 0, pulse: 0, timeMillis: genesisTimeMillis, previous: .zero, lastCommit: .zero,
            bookkeepers: bookkeepers.hash, nextBookkeepers: bookkeepers.hash, transactionRoot: .zero,
            stateRoot: state.rootHash, proposer: .zero, transactionCount: 0)
        return (state, Block(header: header, transactions: [], commit: nil, lastCommit: nil))
    }
}
