import Consensus
import Credit
import Foundation
import Ledger
import Logging
import Metrics
import Storage

/// One node's ledger: the store, the current state and the mempool. Blocks come in decided by consensus
/// (`ConsensusDriver`) or synced from peers, each with its certificate. All changes go through this
/// actor, so the state, the store and the mempool never disagree.
public actor LedgerNode {
    public let store: LedgerStore
    public let machine: StateMachine
    public let chainID: String
    /// The node's key: it is a bookkeeper when the key is in the set.
    public let key: SecretKey?
    private let clock: @Sendable () -> UInt64
    private let logger: Logger

    public private(set) var state: LedgerState
    public private(set) var latest: BlockHeader
    /// The certificate that committed `latest` (nil for block 0); the next block carries it.
    public private(set) var latestCommit: CommitCertificate?
    private var mempool = Mempool()
    private var pendingDraft: StateDraft
    /// Signs the clearing transactions the node submits once per election cycle (nil: no netting).
    private let nettingKey: SecretKey?
    private var lastNettingCycle: UInt64
    /// Every credit line of the current state, by key: read from the whole state once, on first use,
    /// then kept in step with each committed block's changes (path finding and netting read them all).
    private var lines: [ID: CreditLine]?
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
    public init(store: LedgerStore, machine: StateMachine, key: SecretKey?, clock: @escaping @Sendable () -> UInt64, logger: Logger,
                nettingKey: SecretKey? = nil) throws {
        self.store = store
        self.nettingKey = nettingKey
        self.machine = machine
        self.key = key
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
        self.latestCommit = try store.block(at: height)?.commit
        self.chainID = header.chain
        self.pendingDraft = StateDraft(base: state)
        guard let parameters = state.parameters else { throw StoreError.damaged("the stored state has no chain parameters") }
        self.parameters = parameters
        self.lastNettingCycle = parameters.pulse(atMillis: clock()) / parameters.electionCyclePulses
        heightGauge.record(Int64(height))
    }

    /// Every credit line in the current state.
    public func creditLines() -> [CreditLine] {
        if let lines { return Array(lines.values) }
        var found: [ID: CreditLine] = [:]
        for (key, value) in state.values where stateRecordKind(value) == CreditLine.kind {
            if let line = try? CreditLine(cbor: value) { found[key] = line }
        }
        lines = found
        return Array(found.values)
    }

    /// Keeps `lines` in step with a block's state changes: only the keys the block wrote.
    private func followLines(_ changes: [ID: CBOR?]) {
        guard lines != nil else { return }
        for (key, value) in changes {
            if let value, stateRecordKind(value) == CreditLine.kind, let line = try? CreditLine(cbor: value) { lines?[key] = line } else { lines?[key] = nil }
        }
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

    /// This node votes only if its key is in the bookkeeper set; others relay and follow.
    public var isBookkeeper: Bool { key.map { state.bookkeepers?.power(of: $0.publicKey) != nil } ?? false }

    /// The tip as consensus needs it.
    public var tip: ChainTip { ChainTip(header: latest, state: state, commit: latestCommit) }

    /// A block from a peer: fully verified (its certificate against the bookkeepers, every signature, the
    /// state root), then committed. False when this node already holds it. The transactions' signatures —
    /// most of the cost — are verified first, off the actor and over every core, so that submissions,
    /// the API and consensus go on meanwhile; the rest of the check runs on the actor.
    public nonisolated func importBlock(_ block: Block) async throws -> Bool {
        // The cheap checks first (a block held already, one that does not follow, one without a
        // certificate), so that no peer can make this node verify a block's signatures for nothing.
        guard try await follows(block) else { return false }
        let known = try await Self.verifyTransactionSignatures(of: block)
        return try await importVerified(block, known: known)
    }

    /// Whether `block` is the next one (true), one held already (false), or neither (thrown).
    private func follows(_ block: Block) throws -> Bool {
        guard block.height == latest.height + 1 else {
            if block.height <= latest.height, (try? store.header(at: block.height))??.hash == block.hash { return false }
            throw Rejection(.malformed, "block \(block.height) does not follow this node's height \(latest.height)")
        }
        guard block.header.previous == latest.hash else { throw Rejection(.malformed, "block \(block.height) does not link to block \(latest.height)") }
        guard block.commit != nil else { throw Rejection(.badSignature, "block \(block.height) carries no commit certificate") }
        guard Chain.bodyMatchesHeader(block) else { throw Rejection(.malformed, "block \(block.height)'s body is not the one its header commits to") }
        return true
    }

    private func importVerified(_ block: Block, known: KnownSignatures) throws -> Bool {
        guard try follows(block) else { return false }
        let applied = try Chain.apply(block, after: latest, state: state, machine: machine, known: known)
        try commit(block, applied: applied)
        return true
    }

    /// Verifies every transaction signature of `block` in parallel, one slice per core; the keys of those
    /// that verified, for `Chain.apply` not to verify again.
    static func verifyTransactionSignatures(of block: Block) async throws(Rejection) -> KnownSignatures {
        guard await signaturesAreValid(block.transactions) else {
            throw Rejection(.badSignature, "block \(block.height) holds a transaction whose signature does not verify")
        }
        return KnownSignatures(transactions: Set(block.transactions.map(KnownSignatures.key)))
    }

    /// Whether every signature of every transaction verifies, checked in parallel, one slice per core
    /// (a slice of at least 64 transactions: fewer are not worth a task).
    public static func signaturesAreValid(_ transactions: [SignedTransaction]) async -> Bool {
        let slices = max(1, min(ProcessInfo.processInfo.activeProcessorCount, transactions.count / 64))
        let size = max(1, (transactions.count + slices - 1) / slices)
        if slices == 1 { return transactions.allSatisfy { $0.signaturesAreValid() } }
        return await withTaskGroup(of: Bool.self) { group in
            for start in stride(from: 0, to: transactions.count, by: size) {
                let slice = transactions[start..<min(start + size, transactions.count)]
                group.addTask { slice.allSatisfy { $0.signaturesAreValid() } }
            }
            return await group.allSatisfy { $0 }
        }
    }

    /// Stores a block that consensus decided (or that `importBlock` verified), with the explorer's payout
    /// rows in the same SQLite transaction, and re-checks the mempool against the new state.
    public func commit(_ block: Block, applied: Chain.Applied) throws {
        // Consensus and sync can both bring the same decided block (sync verifies off the actor, so its
        // import may land first): the second is a no-op, not a damaged store. A different block at a
        // stored height is not: the store refuses it below.
        if block.height <= latest.height, (try? store.header(at: block.height))??.hash == block.hash { return }
        try store.append(block, applied: applied, payouts: ExplorerIndex.payouts(of: block, before: state, after: applied.state))
        state = applied.state
        followLines(applied.changes)
        latest = block.header
        latestCommit = block.commit
        let included = Set(block.transactions.map(\.id))
        recheck(mempool.removeAll().filter { !included.contains($0.id) }, on: state)
        if let target = syncTarget, target <= latest.height { syncTarget = nil }
        blocksCounter.increment()
        transactionsCounter.increment(by: block.transactions.count)
        heightGauge.record(Int64(latest.height))
        announce(block)
    }

    /// The known-signature keys of those of `transactions` that are pending here: the mempool verified
    /// their signatures when it admitted them, so a proposal holding them need not verify them again.
    public func verifiedKeys(among transactions: [SignedTransaction]) -> Set<Digest> {
        Set(transactions.lazy.filter { self.mempool.holds($0) }.map(KnownSignatures.key))
    }

    /// What a proposer would put in the next block, in arrival order.
    public var pendingTransactions: [SignedTransaction] { mempool.transactions }

    /// Drops transactions a proposal found no longer apply.
    public func drop(_ rejected: [(SignedTransaction, Rejection)]) {
        let ids = Set(rejected.map(\.0.id))
        guard !ids.isEmpty else { return }
        for (signed, rejection) in rejected { logger.info("dropped transaction", metadata: ["id": "\(signed.id)", "reason": "\(rejection)"]) }
        recheck(mempool.removeAll().filter { !ids.contains($0.id) }, on: state)
    }

    // MARK: - Reading

    /// The chain's parameters (no transaction changes them; checked present when the node opened).
    public let parameters: ChainParameters
    public var mempoolCount: Int { mempool.count }
    public var nodeID: ID? { key?.publicKey.id }

    /// The nonce the account's next transaction must carry, counting pending transactions.
    public func nextNonce(for account: ID) -> UInt64 { (try? pendingDraft.account(account).nonce) ?? 0 }

    /// `nextNonce` for several accounts at once (a gossiped batch's origins: one call, not one per transaction).
    public func nextNonces(for accounts: Set<ID>) -> [ID: UInt64] {
        Dictionary(uniqueKeysWithValues: accounts.map { ($0, nextNonce(for: $0)) })
    }

    /// The pulse now, by this node's clock.
    public var currentPulse: UInt64 { parameters.pulse(atMillis: clock()) }

    /// What metering reads of a consumer's standing with a provider: the provider's limit for it now, its
    /// debt on their line, and their bandwidth stream's settlement (nil: never settled).
    public func standing(provider: ID, consumer: ID, service: Service = .bandwidth, contract: ID? = nil) -> (limit: UInt64, owed: UInt64, settlement: Settlement?) {
        let line = state.record(CreditLine.self, at: CreditLine(between: provider, and: consumer, height: 0).stateKey)
        let stream = UsageReceipt(chain: chainID, provider: provider, consumer: consumer, service: service, contract: contract, sequence: 0, units: 0).streamKey
        return (line?.terms(grantedBy: provider).limit(atPulse: currentPulse) ?? 0, line?.debt(of: consumer) ?? 0,
                state.record(Settlement.self, at: stream))
    }

    /// The open forwarding contract in which `relay` carries `client`'s traffic (the one made last, if several).
    public func forwardContract(client: ID, relay: ID) -> ForwardContract? {
        state.values.values.compactMap { value -> ForwardContract? in
            guard stateRecordKind(value) == ForwardContract.kind, let contract = try? ForwardContract(cbor: value),
                  contract.client == client, contract.relay == relay, !contract.ended else { return nil }
            return contract
        }.max { ($0.createdHeight, $0.id.text) < ($1.createdHeight, $1.id.text) }
    }

    /// The open storage contracts `provider` stores for (what its node pins and proves).
    public func storageContracts(provider: ID) -> [StorageContract] {
        state.values.values.compactMap { value -> StorageContract? in
            guard stateRecordKind(value) == StorageContract.kind, let contract = try? StorageContract(cbor: value),
                  contract.provider == provider, !contract.ended else { return nil }
            return contract
        }
    }

    /// Signs a transaction of this node's own with `key` (the next nonce, expiring in an election cycle)
    /// and queues it, as netting does.
    public func submitOwn(_ type: String, body: CBOR, key: SecretKey) throws(Rejection) -> Digest {
        let tx = Transaction(chain: chainID, type: type, signers: [key.publicKey], nonce: nextNonce(for: key.publicKey.id),
                             expiry: currentPulse + parameters.electionCyclePulses, body: body)
        return try submit(SignedTransaction(transaction: tx, keys: [key]))
    }

    // MARK: - Submitting

    /// Checks a transaction against the state with all pending transactions applied, and queues it.
    /// A transaction from outside (the API, gossip): its signatures are verified here, on the caller's
    /// task, so verification spreads over the cores instead of queuing on the actor; the rest is `submit`.
    public nonisolated func admit(_ signed: SignedTransaction) async throws(Rejection) -> Digest {
        // Already in the chain (it came in a block before its gossip did): not worth a verification.
        if (try? store.locate(transaction: signed.id)) ?? nil != nil {
            throw Rejection(.duplicate, "transaction \(signed.id) is already in the chain")
        }
        let valid = signed.signaturesAreValid()
        return try await submit(signed, signaturesValid: valid)
    }

    /// `signaturesValid`: the signatures were verified already (by `admit`), with this result.
    public func submit(_ signed: SignedTransaction, signaturesValid: Bool? = nil) throws(Rejection) -> Digest {
        let id = signed.id
        guard !mempool.contains(id) else { throw Rejection(.duplicate, "transaction \(id) is already pending") }
        if (try? store.locate(transaction: id)) ?? nil != nil {
            throw Rejection(.duplicate, "transaction \(id) is already in the chain")
        }
        guard mempool.count < Mempool.countMax else {
            throw Rejection(.mempoolFull, "the node has \(Mempool.countMax) pending transactions; try again after the next block")
        }
        let context = BlockContext(chain: chainID, height: latest.height + 1, pulse: max(currentPulse, latest.pulse + 1), previousHash: latest.hash)
        do throws(Rejection) {
            if let signaturesValid {
                // The checks in their order (specs/transactions.md), the signatures' answer already known.
                try machine.checkStateless(signed, context: context, verifySignatures: false)
                guard signaturesValid else { throw Rejection(.badSignature, "a signature does not verify for its signer") }
            }
            try machine.apply(signed, to: &pendingDraft, context: context, verifySignatures: signaturesValid == nil)
        } catch {
            rejectedCounter.increment()
            throw error
        }
        mempool.add(signed)
        mempoolGauge.record(mempool.count)
        for observer in transactionObservers { Task { await observer(signed) } }
        return id
    }

    /// `submit` for transactions whose signatures were verified already (a gossiped batch), in order;
    /// each one's rejection, or nil where it was admitted.
    public func submitVerified(_ batch: [SignedTransaction]) -> [Rejection?] {
        batch.map { signed in
            do throws(Rejection) {
                _ = try submit(signed, signaturesValid: true)
                return nil
            } catch { return error }
        }
    }

    private func recheck(_ transactions: [SignedTransaction], on base: LedgerState) {
        pendingDraft = StateDraft(base: base)
        let context = BlockContext(chain: chainID, height: latest.height + 1, pulse: max(currentPulse, latest.pulse + 1), previousHash: latest.hash)
        for signed in transactions where (try? machine.apply(signed, to: &pendingDraft, context: context, verifySignatures: false)) != nil {
            mempool.add(signed)
        }
        mempoolGauge.record(mempool.count)
    }
}
