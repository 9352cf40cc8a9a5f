/// The block validity rules: pure functions of (previous header, state, block), the same on every
/// node and independent of local configuration (specs/blocks.md).
public enum Chain {
    /// The state after a valid block, with the tree nodes it created.
    public struct Applied: Sendable {
        public let state: LedgerState
        public let createdNodes: [TreeNode]
        public let changes: [ID: CBOR?]
    }

    /// Validates a finished block — its own commit certificate included — on top of `previous` and
    /// `state`, and returns the state after it. `verifySignatures` may be false only for a block whose
    /// transaction and certificate signatures this node already verified.
    public static func apply(
        _ block: Block, after previous: BlockHeader, state: LedgerState, machine: StateMachine, verifySignatures: Bool = true,
        known: KnownSignatures? = nil
    ) throws(Rejection) -> Applied {
        guard let bookkeepers = state.bookkeepers else {
            throw Rejection(.malformed, "state has no bookkeepers (not a ledger state)")
        }
        guard let commit = block.commit else { throw Rejection(.badSignature, "block \(block.height) carries no commit certificate") }
        if verifySignatures {
            try commit.verify(chain: block.header.chain, height: block.height, block: block.hash, bookkeepers: bookkeepers)
        }
        return try execute(block, after: previous, state: state, machine: machine, verifySignatures: verifySignatures, known: known)
    }

    /// Whether the body is the one the header commits to (transactions, evidence, previous certificate):
    /// cheap, and checked before a proposal is taken, so that a relay that altered a body cannot make the
    /// header's block look invalid to anyone.
    public static func bodyMatchesHeader(_ block: Block) -> Bool {
        block.header.transactionCount == UInt64(block.transactions.count) && block.header.transactionRoot == TransactionRoot.of(block.transactions)
            && block.header.evidenceRoot == Block.evidenceRoot(block.evidence) && block.header.lastCommit == (block.lastCommit?.hash ?? .zero)
    }

    /// Tendermint's valid(v): every rule but the block's own certificate, which a proposal cannot have yet.
    /// `known` names signatures this node verified before (its mempool, its consensus votes): those are
    /// not verified again.
    public static func execute(
        _ block: Block, after previous: BlockHeader, state: LedgerState, machine: StateMachine, verifySignatures: Bool = true,
        known: KnownSignatures? = nil
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
        guard header.transactionCount == UInt64(block.transactions.count), !block.transactions.isEmpty else {
            throw Rejection(.malformed, "block \(header.height) transaction count is wrong or zero (no empty blocks)")
        }
        guard header.transactionRoot == TransactionRoot.of(block.transactions) else {
            throw Rejection(.malformed, "block \(header.height) transaction root does not match its transactions")
        }
        guard header.evidenceRoot == Block.evidenceRoot(block.evidence) else {
            throw Rejection(.malformed, "block \(header.height) evidence root does not match its evidence")
        }
        guard bookkeepers.keys.contains(where: { $0.id == header.proposer }) else {
            throw Rejection(.badSignature, "block \(header.height) proposer \(header.proposer) is not a bookkeeper")
        }
        guard header.bookkeepers == bookkeepers.hash else {
            throw Rejection(.malformed, "block \(header.height) names another bookkeeper set than the state's")
        }
        // The previous block was certified by the set before it: the state's, unless the previous block
        // changed the set (then the state keeps the old one for this block's check).
        let lastSigners = state.record(PreviousBookkeepers.self, at: PreviousBookkeepers.stateKey)?.set ?? bookkeepers
        let signers = try checkLastCommit(block, after: previous, bookkeepers: lastSigners, handedOver: bookkeepers,
                                          verifySignatures: verifySignatures, known: known)

        let context = BlockContext(chain: header.chain, height: header.height, pulse: header.pulse, previousHash: header.previous)
        var draft = StateDraft(base: state)
        var seen = Set<Digest>()
        for signed in block.transactions {
            guard seen.insert(signed.id).inserted else {
                throw Rejection(.duplicate, "block \(header.height) includes transaction \(signed.id) twice")
            }
            try machine.apply(signed, to: &draft, context: context, verifySignatures: verifySignatures && !(known?.knows(signed) ?? false))
        }
        let excluded = try Slashing.apply(block.evidence, to: &draft, context: context)
        BlockEnd.apply(to: &draft, context: context, before: bookkeepers, lastSigners: lastSigners, signers: header.height > 1 ? signers : nil,
                       excluded: excluded, proposer: header.proposer)
        guard header.nextBookkeepers == ((try? draft.record(BookkeeperSet.self, at: BookkeeperSet.stateKey)) ?? bookkeepers).hash else {
            throw Rejection(.malformed, "block \(header.height) names another next bookkeeper set than the state after it")
        }
        var next = state
        var created: [TreeNode] = []
        next.commit(draft.changes, height: header.height, created: &created)
        guard next.rootHash == header.stateRoot else {
            throw Rejection(.malformed, "block \(header.height) state root does not match the state after its transactions")
        }
        return Applied(state: next, createdNodes: created, changes: draft.changes)
    }

    /// The previous block's certificate, which the header commits to: absent at height 1 (block 0 has
    /// none), else valid for the previous block. Returns its signers, whom the block rewards.
    private static func checkLastCommit(
        _ block: Block, after previous: BlockHeader, bookkeepers: BookkeeperSet, handedOver: BookkeeperSet, verifySignatures: Bool,
        known: KnownSignatures?
    ) throws(Rejection) -> [PublicKey] {
        let header = block.header
        guard header.height > 1 else {
            guard block.lastCommit == nil, header.lastCommit == .zero else {
                throw Rejection(.malformed, "block 1 must carry no previous certificate (block 0 has none)")
            }
            return []
        }
        guard let lastCommit = block.lastCommit, lastCommit.hash == header.lastCommit else {
            throw Rejection(.malformed, "block \(header.height) does not carry the previous block's certificate its header commits to")
        }
        // The previous block handed over to the set in this state, and its own set signed it.
        guard previous.height == 0 || (previous.nextBookkeepers == handedOver.hash && previous.bookkeepers == bookkeepers.hash) else {
            throw Rejection(.malformed, "block \(previous.height) handed over to another bookkeeper set than the state's")
        }
        if verifySignatures {
            try lastCommit.verify(chain: header.chain, height: previous.height, block: previous.hash, bookkeepers: bookkeepers, known: known?.precommits)
        } else if lastCommit.height != previous.height || lastCommit.block != previous.hash {
            throw Rejection(.badSignature, "block \(header.height)'s previous certificate is for another block")
        }
        return lastCommit.signers.map(\.key)
    }

    /// After a block that changed the set, the old set is kept for one block (it certified this block, and
    /// the next carries that certificate); after a block that did not, the kept set goes.
    static func handOver(from before: BookkeeperSet, in draft: inout StateDraft) {
        let after = (try? draft.record(BookkeeperSet.self, at: BookkeeperSet.stateKey)) ?? before
        if after != before {
            draft.put(PreviousBookkeepers(set: before), at: PreviousBookkeepers.stateKey)
        } else if (try? draft.record(PreviousBookkeepers.self, at: PreviousBookkeepers.stateKey)) != nil {
            draft.set(PreviousBookkeepers.stateKey, nil)
        }
        draft.commitTransaction()
    }

    /// What a proposer makes from pending transactions: a block without its certificate over those that
    /// apply (rejected ones are returned with their reasons), and the state after it. Nil when none apply.
    public static func propose(
        _ pending: [SignedTransaction], after previous: BlockHeader, lastCommit: CommitCertificate?, state: LedgerState, machine: StateMachine,
        timeMillis: UInt64, proposer: ID, verifySignatures: Bool = true, evidence offered: [Equivocation] = []
    ) -> (block: Block, accepted: [SignedTransaction], rejected: [(SignedTransaction, Rejection)], applied: Applied)? {
        guard let parameters = state.parameters, let bookkeepers = state.bookkeepers else { return nil }
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
        let carried = context.height > 1 ? lastCommit : nil
        // Each piece of evidence that still applies (one per bookkeeper, within the bound).
        var evidence: [Equivocation] = []
        var excluded = Set<PublicKey>()
        for piece in offered where evidence.count < Slashing.evidencePerBlockMax {
            if let keys = try? Slashing.apply([piece], to: &result.draft, context: context) {
                evidence.append(piece)
                excluded.formUnion(keys)
            }
        }
        let lastSigners = state.record(PreviousBookkeepers.self, at: PreviousBookkeepers.stateKey)?.set ?? bookkeepers
        BlockEnd.apply(to: &result.draft, context: context, before: bookkeepers, lastSigners: lastSigners,
                       signers: carried.map { $0.signers.map(\.key) }, excluded: excluded, proposer: proposer)
        let nextSet = (try? result.draft.record(BookkeeperSet.self, at: BookkeeperSet.stateKey)) ?? bookkeepers
        var next = state
        var created: [TreeNode] = []
        next.commit(result.draft.changes, height: context.height, created: &created)
        let header = BlockHeader(
            chain: previous.chain, height: context.height, pulse: pulse, timeMillis: time, previous: previous.hash,
            lastCommit: carried?.hash ?? .zero, bookkeepers: bookkeepers.hash, nextBookkeepers: nextSet.hash,
            transactionRoot: TransactionRoot.of(result.accepted), stateRoot: next.rootHash,
            proposer: proposer, transactionCount: UInt64(result.accepted.count))
        var withEvidence = header
        withEvidence.evidenceRoot = Block.evidenceRoot(evidence)
        let block = Block(header: withEvidence, transactions: result.accepted, commit: nil, lastCommit: carried, evidence: evidence)
        return (block, result.accepted, result.rejected, Applied(state: next, createdNodes: created, changes: result.draft.changes))
    }
}
