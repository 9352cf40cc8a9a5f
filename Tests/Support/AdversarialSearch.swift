import Credit
import Ledger

/// A seeded adversarial search over the real state machine (issue 9, part 3). From one seed it makes
/// hostile but well-signed transactions of every type, from a small pool of keys so that the parties
/// collude (consumer and provider, voters, payer and payee), with boundary values (0, 1, limits,
/// 2^64−1), wrong signers, stale and future nonces, expiries at the edge, replays of included
/// transactions, reordered batches and jumps of the clock across windows and periods. Each batch is
/// proposed and applied as a block through `Chain.propose`, and after every block the invariants are
/// checked. At the end the blocks are replayed from genesis through `Chain.apply` and must give the same
/// state root. A failure names its seed and the transaction count, and the same seed replays it exactly.
public struct AdversarialSearch {
    public struct Violation: Error, CustomStringConvertible {
        public let seed: UInt64
        public let transactions: Int
        public let what: String
        public var description: String {
            "adversarial search: seed \(seed), after \(transactions) transactions: \(what) (replay: LEDGERD_FUZZ_SEED=\(seed) make fuzz)"
        }
    }

    public struct Summary: Sendable {
        public var transactions = 0
        public var accepted = 0
        public var blocks = 0
        public var rejections: [String: Int] = [:]
        public var acceptedByType: [String: Int] = [:]
        /// The same seed must end at the same root in every process (a rule that depended on a
        /// dictionary's order would not: Swift seeds its hashing per process).
        public var stateRoot = Digest.zero
    }

    public static let chainID = "ledgerd-fuzz"
    static let miningRewardPerBlock: UInt64 = 7
    static let accountCount = 6
    static let organizationKeyCount = 2

    let seed: UInt64
    var random: SeededGenerator
    let machine = StateMachine(rules: LedgerRules.all + CreditRules.all)
    let bookkeepers = [testKey(900), testKey(901)]
    let accounts: [SecretKey]
    let organizationKeys: [SecretKey]
    var state: LedgerState
    var header: BlockHeader
    var lastCommit: CommitCertificate?
    let genesisState: LedgerState
    let genesisHeader: BlockHeader
    let initialUnits: UInt64
    var minted: UInt64 = 0
    var blocks: [Block] = []
    var included: [SignedTransaction] = []
    var nonces: [ID: UInt64] = [:]
    /// IDs of the records of each kind (state keys), learned from each block's changes, in the order
    /// first seen: arrays, not sets, because a set's order changes from process to process and the same
    /// seed must replay exactly.
    var known: [String: [ID]] = [:]
    var knownSet: Set<ID> = []
    var summary = Summary()
    /// Content whose segment root a storage contract names, so that proofs can be real.
    let content: [UInt8]
    /// Decoded records the generator picks parties from, read once per block.
    var cachedHeight: UInt64 = .max
    var cachedMemberships: [Membership] = []
    var cachedOpenStorage: [StorageContract] = []
    var cachedOpenProposals: [Proposal] = []

    mutating func refreshCache() {
        guard cachedHeight != header.height else { return }
        cachedHeight = header.height
        cachedMemberships = (known[Membership.kind] ?? []).compactMap { state.record(Membership.self, at: $0) }
        cachedOpenStorage = (known[StorageContract.kind] ?? []).compactMap { state.record(StorageContract.self, at: $0) }
            .filter { !$0.ended && $0.period(atPulse: header.pulse) < $0.periods }
        cachedOpenProposals = (known[Proposal.kind] ?? []).compactMap { state.record(Proposal.self, at: $0) }
            .filter { $0.status == .open && header.pulse < $0.deadline }
    }

    public init(seed: UInt64) {
        self.seed = seed
        random = SeededGenerator(seed: seed)
        accounts = (0..<Self.accountCount).map { testKey(800 + $0) }
        organizationKeys = (0..<Self.organizationKeyCount).map { testKey(850 + $0) }
        var genesis = Genesis.development(chainID: Self.chainID, timeMillis: 1_000_000, bookkeeper: bookkeepers[0].publicKey,
                                          balances: accounts.enumerated().map { ($1.publicKey.id, $0 == 0 ? UInt64.max / 4 : UInt64(1) << (20 + 4 * $0)) })
        genesis.bookkeepers.append(bookkeepers[1].publicKey.hex)
        genesis.parameters.publicityWindowPulses = 20
        genesis.parameters.electionCyclePulses = 50
        genesis.parameters.settlementDeposit = 1000
        genesis.parameters.miningRewardPerBlock = Self.miningRewardPerBlock
        // A development genesis always builds; a failure here is a bug in the search itself.
        let built = (try? genesis.build()) ?? { fatalError("the search's genesis does not build") }()
        state = built.state
        header = built.block.header
        genesisState = built.state
        genesisHeader = built.block.header
        initialUnits = Self.units(in: built.state)
        var generator = SeededGenerator(seed: seed ^ 0xC0FFEE)
        content = generator.bytes(3_000)
    }

    // MARK: - Running

    /// Runs until `transactions` have been tried, checking after every block; throws the first violation.
    public mutating func run(transactions: Int) throws(Violation) -> Summary {
        while summary.transactions < transactions {
            var batch: [SignedTransaction] = []
            switch Int.random(in: 0..<20, using: &random) {
            case 0: if let old = included.randomElement(using: &random) { batch.append(old) }  // a replay
            case 1, 2: for _ in 0..<Int.random(in: 2...5, using: &random) { batch.append(makeTransaction()) }
            default: batch.append(makeTransaction())
            }
            if batch.count > 1 { batch.shuffle(using: &random) }
            summary.transactions += batch.count
            try applyBlock(batch)
        }
        try replayFromGenesis()
        summary.stateRoot = state.rootHash
        return summary
    }

    mutating func applyBlock(_ batch: [SignedTransaction]) throws(Violation) {
        let jumps: [UInt64] = [1, 1, 1, 1, 1, 1, 2, 5, 19, 20, 21, 50, 1000]
        let jump = Int.random(in: 0..<4, using: &random) == 0 ? jumps.randomElement(using: &random) ?? 1 : 1
        let pulse = header.pulse + jump
        let time = genesisHeader.timeMillis + pulse * 1000
        guard let proposal = Chain.propose(batch, after: header, lastCommit: lastCommit, state: state, machine: machine, timeMillis: time,
                                           proposer: bookkeepers[0].publicKey.id)
        else {
            for signed in batch { record(rejectionOf: signed) }
            return
        }
        for (_, rejection) in proposal.rejected { summary.rejections[rejection.code.rawValue, default: 0] += 1 }
        let block = proposal.block.certified(by: bookkeepers)
        let before = state
        // What validators do with it: the block must be valid, and give the proposer's state.
        let applied: Chain.Applied
        do { applied = try Chain.apply(block, after: header, state: state, machine: machine) } catch {
            throw violation("a block the proposer made is refused by validation: \(error)")
        }
        guard applied.state.rootHash == proposal.applied.state.rootHash else { throw violation("proposer and validator disagree on the state root") }
        state = applied.state
        header = block.header
        lastCommit = block.commit
        blocks.append(block)
        summary.blocks += 1
        summary.accepted += block.transactions.count
        minted += Self.miningRewardPerBlock
        for signed in block.transactions {
            included.append(signed)
            nonces[signed.transaction.origin, default: 0] += 1
            summary.acceptedByType[signed.transaction.type, default: 0] += 1
        }
        for (key, value) in applied.changes.sorted(by: { $0.key < $1.key }) {
            if let value, let kind = stateRecordKind(value), knownSet.insert(key).inserted { known[kind, default: []].append(key) }
        }
        try check(changes: applied.changes, before: before)
        try checkLines(block, before: before)
    }

    /// No debt beyond its line, after every transaction: a debt that grew is within the limit the other
    /// side grants at that moment (a limit lowered later in the same block leaves that debt due).
    func checkLines(_ block: Block, before: LedgerState) throws(Violation) {
        var draft = StateDraft(base: before)
        let context = BlockContext(chain: block.header.chain, height: block.height, pulse: block.header.pulse, previousHash: block.header.previous)
        for signed in block.transactions {
            let previous = draft
            do { try machine.apply(signed, to: &draft, context: context, verifySignatures: false) } catch {
                throw violation("a transaction of the block fails when applied alone in order: \(error)")
            }
            for (key, value) in draft.changes {
                guard let value, stateRecordKind(value) == CreditLine.kind, previous.value(key) != value, let line = try? CreditLine(cbor: value) else { continue }
                let old = previous.value(key).flatMap { try? CreditLine(cbor: $0) }
                for debtor in [line.low, line.high] where line.debt(of: debtor) > (old?.debt(of: debtor) ?? 0) {
                    let limit = line.terms(grantedBy: line.other(debtor)).limit(atPulse: context.pulse)
                    guard line.debt(of: debtor) <= limit else {
                        throw violation("\(signed.transaction.type) raised the debt of \(debtor) to \(line.debt(of: debtor)), beyond its line's limit \(limit)")
                    }
                }
                guard line.itemized(of: line.low) <= line.debt(of: line.low), line.itemized(of: line.high) <= line.debt(of: line.high) else {
                    throw violation("\(signed.transaction.type) left a line with more IOU debt than debt")
                }
            }
        }
    }

    mutating func record(rejectionOf signed: SignedTransaction) {
        var draft = StateDraft(base: state)
        let context = BlockContext(chain: header.chain, height: header.height + 1, pulse: header.pulse + 1, previousHash: header.hash)
        do { try machine.apply(signed, to: &draft, context: context) } catch { summary.rejections[error.code.rawValue, default: 0] += 1 }
    }

    func violation(_ what: String) -> Violation {
        let last = blocks.last.map { " [block \($0.height): \($0.transactions.map(\.transaction.type).joined(separator: ", "))]" } ?? ""
        return Violation(seed: seed, transactions: summary.transactions, what: what + last)
    }

    // MARK: - Invariants

    /// Units held anywhere: balances, settlement deposits, storage escrows and deposits.
    static func units(of value: CBOR) -> UInt64 {
        switch stateRecordKind(value) {
        case Account.kind: return (try? Account(cbor: value))?.balance ?? 0
        case Settlement.kind: return (try? Settlement(cbor: value)).map { $0.deposit + $0.held } ?? 0
        case StorageContract.kind: return (try? StorageContract(cbor: value)).map { $0.escrow + $0.deposit } ?? 0
        default: return 0
        }
    }

    static func units(in state: LedgerState) -> UInt64 { state.values.values.reduce(0) { $0 + units(of: $1) } }

    mutating func check(changes: [ID: CBOR?], before: LedgerState) throws(Violation) {
        // Every stored record decodes (a rule never writes what no rule can read).
        for (key, value) in changes {
            guard let value else { continue }
            if let error = Self.decodeError(value) { throw violation("record \(key) written by a rule does not decode: \(error)") }
        }
        // Units are conserved: what the changed records hold moves only by the block's minted reward.
        let was = changes.keys.reduce(Int128(0)) { $0 + Int128(before.value($1).map(Self.units(of:)) ?? 0) }
        let now = changes.keys.reduce(Int128(0)) { $0 + Int128(state.value($1).map(Self.units(of:)) ?? 0) }
        guard now - was == Int128(Self.miningRewardPerBlock) else {
            throw violation("units not conserved: the block's changes moved \(now - was), the reward is \(Self.miningRewardPerBlock)")
        }
        if blocks.count % 500 == 0 {
            let total = Self.units(in: state)
            guard UInt128(total) == UInt128(initialUnits) + UInt128(minted) else { throw violation("total units \(total) ≠ genesis \(initialUnits) + minted \(minted)") }
        }
        var organizations = Set<ID>()
        for key in changes.keys {
            guard let value = state.value(key) else { continue }
            switch stateRecordKind(value) {
            case Proposal.kind:
                guard let proposal = try? Proposal(cbor: value) else { continue }
                let (counted, overflow) = proposal.yes.addingReportingOverflow(proposal.no)
                guard !overflow, counted <= proposal.eligible else {
                    throw violation("proposal \(proposal.sequence) of \(proposal.organization) counts \(proposal.yes) yes + \(proposal.no) no of \(proposal.eligible) eligible")
                }
            case TokenBalance.kind, Governance.kind, Organization.kind, Membership.kind:
                if let organization = Self.organization(of: value) { organizations.insert(organization) }
            default: break
            }
        }
        for organization in organizations { try checkOrganization(organization) }
    }

    static func decodeError(_ value: CBOR) -> String? {
        let kinds: [String: (CBOR) throws -> Void] = [
            Account.kind: { _ = try Account(cbor: $0) }, Organization.kind: { _ = try Organization(cbor: $0) },
            Membership.kind: { _ = try Membership(cbor: $0) }, Governance.kind: { _ = try Governance(cbor: $0) },
            TokenBalance.kind: { _ = try TokenBalance(cbor: $0) }, Proposal.kind: { _ = try Proposal(cbor: $0) }, Vote.kind: { _ = try Vote(cbor: $0) },
            Contribution.kind: { _ = try Contribution(cbor: $0) }, IncomeEvent.kind: { _ = try IncomeEvent(cbor: $0) },
            DividendTotal.kind: { _ = try DividendTotal(cbor: $0) }, ConsensusContract.kind: { _ = try ConsensusContract(cbor: $0) },
            CreditLine.kind: { _ = try CreditLine(cbor: $0) }, IOU.kind: { _ = try IOU(cbor: $0) }, Settlement.kind: { _ = try Settlement(cbor: $0) },
            StorageContract.kind: { _ = try StorageContract(cbor: $0) }, ForwardContract.kind: { _ = try ForwardContract(cbor: $0) },
        ]
        guard let kind = stateRecordKind(value), let decode = kinds[kind] else { return nil }
        do { try decode(value); return nil } catch { return "\(error)" }
    }

    static func organization(of value: CBOR) -> ID? {
        guard case .map(let map) = value, case .bytes(let raw)? = map["org"] ?? map["id"] else { return nil }
        return ID(bytes: raw)
    }

    /// Token supply equals the holdings; counts match the records; an organization keeps a supervisor.
    func checkOrganization(_ organization: ID) throws(Violation) {
        guard let governance = state.record(Governance.self, at: Governance.stateKey(organization)),
            let profile = state.record(Organization.self, at: Organization.stateKey(organization))
        else { return }
        let holdings = state.members(ofGroup: TokenBalance.group(organization)).compactMap { state.record(TokenBalance.self, at: $0) }
        let held = holdings.reduce(UInt128(0)) { $0 + UInt128($1.balance) }
        guard held == UInt128(governance.tokenSupply) else { throw violation("\(organization): tokens held \(held) ≠ supply \(governance.tokenSupply)") }
        guard UInt64(holdings.count) == governance.holderCount, governance.holderCount <= Governance.holdersMax else {
            throw violation("\(organization): \(holdings.count) holders, governance counts \(governance.holderCount)")
        }
        let members = state.members(ofGroup: Membership.group(organization)).compactMap { state.record(Membership.self, at: $0) }
        guard members.allSatisfy({ $0.role != .applicant }), UInt64(members.count) == profile.memberCount, profile.memberCount <= Organization.membersMax else {
            throw violation("\(organization): \(members.count) members on record, the profile counts \(profile.memberCount)")
        }
        let supervisors = members.filter { $0.role == .supervisor }.count, guests = members.filter { $0.role == .guest }.count
        guard UInt64(supervisors) == profile.supervisorCount, supervisors >= 1, UInt64(guests) == profile.guestCount else {
            throw violation("\(organization): \(supervisors) supervisors and \(guests) guests, the profile counts \(profile.supervisorCount) and \(profile.guestCount)")
        }
    }

    mutating func replayFromGenesis() throws(Violation) {
        var replayed = genesisState
        var previous = genesisHeader
        for block in blocks {
            do { replayed = try Chain.apply(block, after: previous, state: replayed, machine: machine).state } catch {
                throw violation("replaying block \(block.height) from genesis fails: \(error)")
            }
            previous = block.header
        }
        guard replayed.rootHash == state.rootHash else { throw violation("replaying the same blocks gives another state root") }
        let total = Self.units(in: state)
        guard UInt128(total) == UInt128(initialUnits) + UInt128(minted) else { throw violation("total units \(total) ≠ genesis \(initialUnits) + minted \(minted)") }
    }
}
