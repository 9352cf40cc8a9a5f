/// The block validity rules: pure functions of (previous header, state, block), the same on every
/// node and independent of local configuration (specs/blocks.md).
public enum Chain {
    /// The state after a valid block, with the tree nodes it created.
    public struct Applied: Sendable {
        public let state: LedgerState
        public let createdNodes: [TreeNode]
        public let changes: [ID: CBOR?]
    }

    /// Validates `block` on top of `previous` and `state`, and returns the state after it.
    /// `verifyTransactionSignatures` may be false only for transactions already verified by this node.
    /// `notAfterMillis` is the node's clock plus the allowed drift (`BlockHeader.timeDriftMillisMax`) for
    /// a block arriving now; nil when replaying stored blocks, whose time was checked when they came.
    public static func apply(
        _ block: Block, after previous: BlockHeader, state: LedgerState, machine: StateMachine,
        verifyTransactionSignatures: Bool = true, notAfterMillis: UInt64? = nil
    ) throws(Rejection) -> Applied {
        let header = block.header
        guard let parameters = state.parameters, let bookkeepers = state.bookkeepers else {
            throw Rejection(.malformed, "state has no chain parameters or bookkeepers (not a ledger state)")
        }
        guard header.chain.sameBytes(as: previous.chain) else { throw Rejection(.wrongChain, "block is for chain '\(header.chain)'") }
        guard header.height == previous.height + 1 else {
            throw Rejection(.malformed, "block height \(header.height) does not follow \(previous.height)")
        }
        guard header.previous == previous.hash else {
            throw Rejection(.malformed, "block \(header.height) does not link to block \(previous.height)'s hash")
        }
        guard header.pulse == parameters.pulse(atMillis: header.timeMillis), header.pulse > previous.pulse else {
            throw Rejection(.malformed, "block \(header.height) pulse \(header.pulse) does not match its time or does not advance")
        }
        // A proposer's clock alone moves the pulse, which expires lines and transactions and closes
        // windows: a block from the future is refused until the node's own clock catches up.
        if let notAfterMillis, header.timeMillis > notAfterMillis {
            throw Rejection(.timeTooFarAhead, "block \(header.height) time \(header.timeMillis) ms is more than \(BlockHeader.timeDriftMillisMax) ms ahead of this node's clock")
        }
        guard header.transactionCount == UInt64(block.transactions.count), !block.transactions.isEmpty else {
            throw Rejection(.malformed, "block \(header.height) transaction count is wrong or zero (no empty blocks)")
        }
        guard header.transactionRoot == TransactionRoot.compute(block.transactions.map(\.id)) else {
            throw Rejection(.malformed, "block \(header.height) transaction root does not match its transactions")
        }
        guard bookkeepers.keys.contains(where: { $0.id == header.proposer }) else {
            throw Rejection(.badSignature, "block \(header.height) proposer \(header.proposer) is not a bookkeeper")
        }
        try block.verifySeals(bookkeepers: bookkeepers)

        let context = BlockContext(chain: header.chain, height: header.height, pulse: header.pulse, previousHash: header.previous)
        var draft = StateDraft(base: state)
        var seen = Set<Digest>()
        for signed in block.transactions {
            guard seen.insert(signed.id).inserted else {
                throw Rejection(.duplicate, "block \(header.height) includes transaction \(signed.id) twice")
            }
            try machine.apply(signed, to: &draft, context: context, verifySignatures: verifyTransactionSignatures)
        }
        MiningReward.apply(to: &draft, proposer: header.proposer)
        var next = state
        var created: [TreeNode] = []
        next.commit(draft.changes, height: header.height, created: &created)
        guard next.rootHash == header.stateRoot else {
            throw Rejection(.malformed, "block \(header.height) state root does not match the state after its transactions")
        }
        return Applied(state: next, createdNodes: created, changes: draft.changes)
    }

    /// What a proposer makes from pending transactions: an unsealed header over those that apply
    /// (rejected ones are returned with their reasons), and the state after them. Nil when none apply.
    public static func propose(
        _ pending: [SignedTransaction], after previous: BlockHeader, state: LedgerState, machine: StateMachine,
        timeMillis: UInt64, proposer: ID, verifySignatures: Bool = true
    ) -> (header: BlockHeader, accepted: [SignedTransaction], rejected: [(SignedTransaction, Rejection)], applied: Applied)? {
        guard let parameters = state.parameters else { return nil }
        let pulse = max(parameters.pulse(atMillis: timeMillis), previous.pulse + 1)
        // The time must fall in the pulse; when the clock has not passed the previous pulse, use the
        // next pulse's first millisecond.
        let time = max(timeMillis, parameters.genesisTimeMillis + pulse * parameters.pulseMillis)
        let context = BlockContext(chain: previous.chain, height: previous.height + 1, pulse: pulse, previousHash: previous.hash)
        var unique: [SignedTransaction] = []
        var seen = Set<Digest>()
        for signed in pending.prefix(Block.transactionCountMax) where seen.insert(signed.id).inserted { unique.append(signed) }
        var result = machine.applyAccepting(unique, to: state, context: context, verifySignatures: verifySignatures)
        guard !result.accepted.isEmpty else { return nil }
        MiningReward.apply(to: &result.draft, proposer: proposer)
        var next = state
        var created: [TreeNode] = []
        next.commit(result.draft.changes, height: context.height, created: &created)
        let header = BlockHeader(
            chain: previous.chain, height: context.height, pulse: pulse, timeMillis: time, previous: previous.hash,
            transactionRoot: TransactionRoot.compute(result.accepted.map(\.id)), stateRoot: next.rootHash,
            proposer: proposer, transactionCount: UInt64(result.accepted.count))
        return (header, result.accepted, result.rejected, Applied(state: next, createdNodes: created, changes: result.draft.changes))
    }
}
