import Consensus
import Credit
import Foundation
import Ledger
import Logging
import Metrics
import Storage

/// One node's ledger: the store, the current state, the mempool, and the pulse that seals blocks.
/// All changes go through this actor, so the state, the store and the mempool never disagree.
public actor LedgerNode {
    public let store: LedgerStore
    public let machine: StateMachine
    public let chainID: String
    private let sealer: any BlockSealer
    private let clock: @Sendable () -> UInt64
    private let logger: Logger

    public private(set) var state: LedgerState
    public private(set) var latest: BlockHeader
    private var mempool = Mempool()
    private var pendingDraft: StateDraft
    /// Signs the clearing transactions the node submits once per election cycle (nil: no netting).
    private let nettingKey: SecretKey?
    private var lastNettingCycle: UInt64
    private var lineCache: (height: UInt64, lines: [CreditLine])?
    /// Told of every transaction this node accepts into its mempool and every block it commits (the
    /// P2P layer gossips them).
    private var transactionObservers: [@Sendable (SignedTransaction) async -> Void] = []
    private var blockObservers: [@Sendable (Block) async -> Void] = []
    /// The height the best peer reported, while this node is behind it (for status and logs).
    public private(set) var syncTarget: UInt64?

    private let blocksCounter = Counter(label: "ledgerd_blocks_sealed_total")
    private let transactionsCounter = Counter(label: "ledgerd_transactions_committed_total")
    private let rejectedCounter = Counter(label: "ledgerd_transactions_rejected_total")
    private let heightGauge = Gauge(label: "ledgerd_chain_height")
    private let mempoolGauge = Gauge(label: "ledgerd_mempool_transactions")

    /// Opens a node on an initialized store. The state is rebuilt from the stored leaves and must match
    /// the newest block's state root, or the node refuses to start.
    public init(store: LedgerStore, machine: StateMachine, sealer: any BlockSealer, clock: @escaping @Sendable () -> UInt64, logger: Logger,
                nettingKey: SecretKey? = nil) throws {
        self.store = store
        self.nettingKey = nettingKey
        self.machine = machine
        self.sealer = sealer
        self.clock = clock
        self.logger = logger
        guard let height = try store.latestHeight(), let header = try store.header(at: height) else {
            throw StoreError.notInitialized(path: store.path)
        }
        let state = try store.loadLatestState()
        guard state.rootHash == header.stateRoot else {
            throw StoreError.damaged("the stored state does not match block \(height)'s state root")
        }
        self.state = state
        self.latest = header
        self.chainID = header.chain
        self.pendingDraft = StateDraft(base: state)
        let parameters = state.parameters!
        self.lastNettingCycle = parameters.pulse(atMillis: clock()) / parameters.electionCyclePulses
        heightGauge.record(Int64(height))
    }

    /// Every credit line in the current state (cached per height: path finding and netting read them all).
    public func creditLines() -> [CreditLine] {
        if let cache = lineCache, cache.height == latest.height { return cache.lines }
        let lines = state.values.values.compactMap { value -> CreditLine? in
            stateRecordKind(value) == CreditLine.kind ? try? CreditLine(cbor: value) : nil
        }
        lineCache = (latest.height, lines)
        return lines
    }

    /// Once per election cycle, clear debt cycles with a `credit.net` transaction signed by this node.
    /// Returns the relieved debt, or nil when nothing was submitted.
    @discardableResult
    public func netIfDue(force: Bool = false) async -> UInt64? {
        guard let key = nettingKey else { return nil }
        let cycle = currentPulse / parameters.electionCyclePulses
        guard force || cycle > lastNettingCycle else { return nil }
        lastNettingCycle = cycle
        // The search can take seconds on a large graph; it runs off the actor so submissions go on.
        let debts = Netting.debts(of: creditLines())
        let cycles = await Task.detached(priority: .utility) { Netting.findCycles(debts) }.value
        guard !cycles.isEmpty else { return nil }
        var relieved: UInt64 = 0
        for batch in Netting.batches(cycles) {
            let tx = Transaction(chain: chainID, type: Netting.type, signers: [key.publicKey], nonce: nextNonce(for: key.publicKey.id),
                                 expiry: currentPulse + parameters.electionCyclePulses, body: Netting.body(batch))
            do {
                _ = try submit(SignedTransaction(transaction: tx, keys: [key]))
                relieved &+= batch.reduce(UInt64(0)) { $0 &+ ($1.relieved ?? 0) }
            } catch {
                logger.error("netting rejected", metadata: ["reason": "\(error)"])
            }
        }
        logger.info("netting submitted", metadata: ["cycles": "\(cycles.count)", "relieved": "\(relieved)"])
        return relieved
    }

    // MARK: - Observers and sync

    public func observeTransactions(_ observer: @escaping @Sendable (SignedTransaction) async -> Void) { transactionObservers.append(observer) }
    public func observeBlocks(_ observer: @escaping @Sendable (Block) async -> Void) { blockObservers.append(observer) }
    public func setSyncTarget(_ height: UInt64?) { syncTarget = height.flatMap { $0 > latest.height ? $0 : nil } }

    private func announce(_ block: Block) {
        for observer in blockObservers { Task { await observer(block) } }
    }

    /// This node seals blocks only if its key is in the bookkeeper set; others relay and follow.
    public var isBookkeeper: Bool { state.bookkeepers?.keys.contains { $0.id == sealer.proposer } ?? false }

    /// A block from a peer: fully verified (seals against the bookkeepers, every signature, the state
    /// root), stored, and the mempool re-checked against the new state.
    public func importBlock(_ block: Block) throws -> Bool {
        guard block.height == latest.height + 1 else {
            if block.height <= latest.height, (try? store.header(at: block.height))??.hash == block.hash { return false }
            throw Rejection(.malformed, "block \(block.height) does not follow this node's height \(latest.height)")
        }
        let applied = try Chain.apply(block, after: latest, state: state, machine: machine,
                                      notAfterMillis: clock() + BlockHeader.timeDriftMillisMax)
        try store.append(block, applied: applied, payouts: payouts(of: block, before: state, after: applied.state))
        state = applied.state
        latest = block.header
        let included = Set(block.transactions.map(\.id))
        recheck(mempool.removeAll().filter { !included.contains($0.id) }, on: state)
        if let target = syncTarget, target <= latest.height { syncTarget = nil }
        transactionsCounter.increment(by: block.transactions.count)
        heightGauge.record(Int64(latest.height))
        announce(block)
        return true
    }

    // MARK: - Reading

    public var parameters: ChainParameters { state.parameters! }
    public var mempoolCount: Int { mempool.count }
    public var proposer: ID { sealer.proposer }

    /// The nonce the account's next transaction must carry, counting pending transactions.
    public func nextNonce(for account: ID) -> UInt64 { (try? pendingDraft.account(account).nonce) ?? 0 }

    /// The pulse now, by this node's clock.
    public var currentPulse: UInt64 { parameters.pulse(atMillis: clock()) }

    // MARK: - Submitting

    /// Checks a transaction against the state with all pending transactions applied, and queues it.
    public func submit(_ signed: SignedTransaction) throws(Rejection) -> Digest {
        let id = signed.id
        guard !mempool.contains(id) else { throw Rejection(.duplicate, "transaction \(id) is already pending") }
        if (try? store.locate(transaction: id)) ?? nil != nil {
            throw Rejection(.duplicate, "transaction \(id) is already in the chain")
        }
        guard mempool.count < Mempool.countMax else {
            throw Rejection(.mempoolFull, "the node has \(Mempool.countMax) pending transactions; try again after the next block")
        }
        let context = BlockContext(chain: chainID, height: latest.height + 1, pulse: max(currentPulse, latest.pulse + 1), previousHash: latest.hash)
        do {
            try machine.apply(signed, to: &pendingDraft, context: context)
        } catch {
            rejectedCounter.increment()
            throw error
        }
        mempool.add(signed)
        mempoolGauge.record(mempool.count)
        for observer in transactionObservers { Task { await observer(signed) } }
        return id
    }

    private func recheck(_ transactions: [SignedTransaction], on base: LedgerState) {
        pendingDraft = StateDraft(base: base)
        let context = BlockContext(chain: chainID, height: latest.height + 1, pulse: max(currentPulse, latest.pulse + 1), previousHash: latest.hash)
        for signed in transactions where (try? machine.apply(signed, to: &pendingDraft, context: context, verifySignatures: false)) != nil {
            mempool.add(signed)
        }
        mempoolGauge.record(mempool.count)
    }

    /// Recomputes each income event's split from the state before the block, for the explorer; the rows
    /// are stored in the block's own SQLite transaction.
    private func payouts(of block: Block, before: LedgerState, after: LedgerState) -> [LedgerStore.Payout] {
        var payouts: [LedgerStore.Payout] = []
        var sequences: [ID: UInt64] = [:]
        for signed in block.transactions where signed.transaction.type == EconomyRules.income {
            guard case .map(let body) = signed.transaction.body, case .bytes(let raw)? = body["org"], let organization = ID(bytes: raw),
                case .unsigned(let amount)? = body["amount"], case .text(let reference)? = body["reference"]
            else { continue }
            // As the rule does: the contract in force at the end of the previous block, or, for an
            // organization created in this block, its first (found only in the state after it).
            let existing = before.record(Governance.self, at: Governance.stateKey(organization))
            guard let contract = (existing != nil ? before : after)
                .record(ConsensusContract.self, at: ConsensusContract.stateKey(organization, version: existing?.contractVersion ?? 1))
            else { continue }
            let sequence = sequences[organization, default: existing?.incomeCount ?? 0] + 1
            sequences[organization] = sequence
            let result = Distribution.compute(EconomyRules.inputs(organization: organization, amount: amount, reference: reference, contract: contract, state: before))
            payouts += result.payouts.map { LedgerStore.Payout(organization: organization, sequence: sequence, recipient: $0.recipient, amount: $0.amount, height: block.height) }
        }
        return payouts
    }

    // MARK: - Sealing

    /// One pulse: if transactions are pending, propose a block, have it sealed, and commit it.
    /// Returns the new header, or nil when there was nothing to do (no empty blocks).
    @discardableResult
    public func pulse() async throws -> BlockHeader? {
        guard isBookkeeper else { return nil }
        await netIfDue()
        guard !mempool.isEmpty else { return nil }
        let pending = mempool.removeAll()
        mempoolGauge.record(0)
        pendingDraft = StateDraft(base: state)
        // Signatures were verified when each transaction was submitted.
        guard let proposal = Chain.propose(
            pending, after: latest, state: state, machine: machine, timeMillis: clock(), proposer: sealer.proposer,
            verifySignatures: false)
        else {
            logger.info("pulse: no pending transaction still applies", metadata: ["dropped": "\(pending.count)"])
            return nil
        }
        for (signed, rejection) in proposal.rejected {
            logger.info("dropped transaction", metadata: ["id": "\(signed.id)", "reason": "\(rejection)"])
        }
        // Transactions submitted while the bookkeepers seal are checked against the proposed state.
        pendingDraft = StateDraft(base: proposal.applied.state)
        let block: Block
        do {
            let seals = try await sealer.seal(proposal.header)
            block = Block(header: proposal.header, transactions: proposal.accepted, seals: seals)
            try store.append(block, applied: proposal.applied, payouts: payouts(of: block, before: state, after: proposal.applied.state))
        } catch {
            // Not committed: put everything back in front of what arrived meanwhile, re-checked.
            recheck(proposal.accepted + mempool.removeAll(), on: state)
            throw error
        }
        state = proposal.applied.state
        latest = proposal.header
        blocksCounter.increment()
        transactionsCounter.increment(by: proposal.accepted.count)
        heightGauge.record(Int64(latest.height))
        logger.info("sealed block", metadata: ["height": "\(latest.height)", "txs": "\(proposal.accepted.count)", "hash": "\(latest.hash)"])
        announce(block)
        return latest
    }
}
