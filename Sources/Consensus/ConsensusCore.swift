import Ledger

/// A node's side of consensus around the pure Tendermint machine: it checks signatures and senders
/// before anything reaches the machine, keeps the proposed blocks and executes them (valid(v) is
/// `Chain.execute`), signs what the machine says to send — reusing what the write-ahead log says it
/// already signed, so a restart never signs twice — buffers the next height's messages, collects
/// evidence, and on a decision hands back the block with its certificate and moves to the next height.
/// Pure: the clock comes in with every call, and I/O goes out as effects, in order.
public struct ConsensusCore: Sendable {
    public enum Effect: Sendable {
        /// Write this own message durably before carrying out any effect after it (the WAL).
        case persist(ConsensusMessage)
        case broadcast(ConsensusMessage)
        case schedule(Tendermint.Timeout, afterMillis: UInt64)
        /// This node proposes: call `provide` once transactions are pending and the pulse has passed the tip's.
        case needValue
        /// Decided: store the block; the core has already moved to the next height.
        case commit(Block, Chain.Applied)
        /// Transactions the proposer dropped because they no longer apply.
        case rejected([(SignedTransaction, Rejection)])
        case evidence(Equivocation)
        /// A message came for a later height than the next: the sender is ahead; sync blocks from it.
        case peerAhead(UInt64)
        /// A message was refused (bad signature, wrong sender, undecodable block): the sender misbehaved.
        case refused(String)
    }

    /// Messages for the next height kept until this node gets there, and proposed blocks kept per height.
    public static let futureMessagesMax = 1_024
    public static let futureProposalsMax = 4
    public static let blocksPerHeightMax = 64
    public static let evidenceMax = 256
    /// Evidence older than this many heights is no longer taken (the block rule's own bound).
    public static let evidenceAgeHeightsMax: UInt64 = Slashing.evidenceAgeHeightsMax
    static let evidenceRebroadcastMax = 16

    public let machine: StateMachine
    public let key: SecretKey?
    public let config: ConsensusConfig
    public private(set) var tip: ChainTip
    public private(set) var tendermint: Tendermint
    /// Whether this node's key is in the set at the current height.
    public var isBookkeeper: Bool { tendermint.me != nil }
    public var height: UInt64 { tendermint.height }

    private var blocks: [Digest: Block] = [:]
    private var applied: [Digest: Chain.Applied] = [:]
    /// Per round, in arrival order (more than one only from an equivocating proposer).
    private var proposals: [UInt32: [SignedProposal]] = [:]
    /// What this node signed at the current height, by (round, kind): from the WAL after a restart.
    private var signedVotes: [String: ConsensusVote] = [:]
    private var signedProposals: [UInt32: SignedProposal] = [:]
    private var future: [ConsensusMessage] = []
    private var waitingForValue: UInt32?
    /// The last decision's proposal and precommits, re-sent so a bookkeeper one height behind decides too.
    private var lastDecided: (SignedProposal, [ConsensusVote])?
    /// One piece of evidence per bookkeeper and height: once caught there, more of the same proves nothing new.
    public private(set) var evidence: [EvidenceKey: Equivocation] = [:]
    /// Signatures verified already (votes as they arrive, transactions as the mempool admits them), so a
    /// proposal's block and its previous certificate are not verified again (KnownSignatures).
    private var known = KnownSignatures()
    private var votesThisHeight = Set<Digest>()
    /// Transactions remembered as verified, at most (the mempool holds 10,000).
    public static let knownTransactionsMax = 20_000

    public struct EvidenceKey: Hashable, Sendable {
        public var voter: PublicKey
        public var height: UInt64
        public init(_ evidence: Equivocation) {
            voter = evidence.voter
            height = evidence.first.height
        }
    }

    /// `log` is what this node wrote to its WAL at the tip's next height before a restart.
    public init(tip: ChainTip, machine: StateMachine, key: SecretKey?, config: ConsensusConfig, log: [ConsensusMessage] = []) {
        self.machine = machine
        self.key = key
        self.config = config
        self.tip = tip
        self.tendermint = ConsensusCore.machine(for: tip, key: key)
        restore(log)
    }

    private static func machine(for tip: ChainTip, key: SecretKey?) -> Tendermint {
        Tendermint(height: tip.header.height + 1, bookkeepers: tip.state.bookkeepers ?? BookkeeperSet(keys: []), me: key?.publicKey)
    }

    private mutating func restore(_ log: [ConsensusMessage]) {
        var lock: (Digest, UInt32)?
        var round: UInt32 = 0
        for message in log where message.height == height {
            switch message {
            case .vote(let vote) where vote.voter == key?.publicKey:
                signedVotes[Self.slot(vote.kind, vote.round)] = vote
                round = max(round, vote.round)
                if vote.kind == .precommit, let value = vote.block, vote.round >= (lock?.1 ?? 0) { lock = (value, vote.round) }
            case .proposal(let proposal):
                if blocks.count < Self.blocksPerHeightMax { blocks[proposal.block.hash] = proposal.block }
                if proposal.proposer == key?.publicKey {
                    signedProposals[proposal.round] = proposal
                    round = max(round, proposal.round)
                }
            default: break
            }
        }
        tendermint.restore(round: round, lockedValue: lock?.0, lockedRound: lock.map { Int64($0.1) } ?? -1,
                           blockKnown: lock.map { blocks[$0.0] != nil } ?? false)
    }

    private static func slot(_ kind: ConsensusVote.Kind, _ round: UInt32) -> String { "\(kind.rawValue)/\(round)" }

    // MARK: - Inputs

    /// Starts the next height (line 10): at a pulse with transactions pending, or on the first message for it.
    public mutating func start(nowMillis: UInt64) -> [Effect] { run(.start, now: nowMillis) }

    public mutating func timeout(_ timeout: Tendermint.Timeout, nowMillis: UInt64) -> [Effect] { run(.timeout(timeout), now: nowMillis) }

    /// Transactions whose signatures this node verified (its mempool admitted them), by their
    /// `KnownSignatures.key`.
    public mutating func noteVerified(_ keys: Set<Digest>) {
        if known.transactions.count + keys.count > Self.knownTransactionsMax { known.transactions.removeAll() }
        known.transactions.formUnion(keys)
    }

    /// Whether the machine waits for this node's proposal.
    public var needsValue: Bool { waitingForValue != nil && waitingForValue == tendermint.round && tendermint.decision == nil }

    /// getValue(): a block from pending transactions, timed now. Nothing happens while the pulse has not
    /// passed the tip's (the block would be untimely) or when no pending transaction applies.
    public mutating func provide(_ pending: [SignedTransaction], nowMillis: UInt64, verifySignatures: Bool = false) -> [Effect] {
        guard needsValue, let round = waitingForValue, let key, let parameters = tip.state.parameters,
              parameters.pulse(atMillis: nowMillis) > tip.header.pulse
        else { return [] }
        // Evidence against bookkeepers still in the set, or still bonded, goes into the block (which
        // excludes and slashes them; Chain.propose leaves out what no longer applies).
        let bonds = tip.state.record(Bonds.self, at: Bonds.stateKey)
        let offered = evidence.values.filter { tip.state.bookkeepers?.keys.contains($0.voter) ?? false || bonds?.entry($0.voter) != nil }
            .sorted { ($0.first.height, $0.voter) < ($1.first.height, $1.voter) }
        guard let made = Chain.propose(pending, after: tip.header, lastCommit: tip.commit, state: tip.state, machine: machine,
                                       timeMillis: nowMillis, proposer: key.publicKey.id, verifySignatures: verifySignatures, evidence: offered)
        else { return [.rejected(pending.map { ($0, Rejection(.malformed, "no pending transaction applies")) })] }
        let hash = made.block.hash
        blocks[hash] = made.block
        applied[hash] = made.applied
        waitingForValue = nil
        var effects: [Effect] = made.rejected.isEmpty ? [] : [.rejected(made.rejected)]
        effects += run(.value(round: round, hash), now: nowMillis)
        return effects
    }

    /// A message from a peer (or from this node's own key elsewhere).
    public mutating func receive(_ message: ConsensusMessage, nowMillis: UInt64) -> [Effect] {
        if case .evidence(let equivocation) = message { return admit(equivocation) }
        let messageHeight = message.height
        if messageHeight > height {
            // Later heights: only a member of the current set, signing for this chain, is believed to be
            // ahead or is kept for the next height (else anyone could fill the buffer or send us syncing).
            guard signedByMember(message) else { return [.refused("a message for height \(messageHeight) not signed by a bookkeeper")] }
            if messageHeight > height + 1 { return [.peerAhead(messageHeight)] }
            bufferFuture(message)
            return []
        }
        if messageHeight + 1 == height, case .vote(let vote) = message { return extendLastCommit(with: vote) }
        guard messageHeight == height else { return [] }
        switch message {
        case .vote(let vote):
            guard vote.chain.sameBytes(as: tip.header.chain), tendermint.bookkeepers.power(of: vote.voter) != nil else {
                return [.refused("vote from \(vote.voter.id), who is not a bookkeeper at height \(height)")]
            }
            let voteKey = KnownSignatures.key(voter: vote.voter, digest: vote.signingDigest, signature: vote.signature)
            if !known.precommits.contains(voteKey) {
                guard vote.verifies else { return [.refused("vote from \(vote.voter.id) does not verify")] }
                known.precommits.insert(voteKey)
                votesThisHeight.insert(voteKey)
            }
            var effects = tendermint.started ? [] : run(.start, now: nowMillis)
            effects += run(.vote(vote), now: nowMillis)
            return effects
        case .proposal(let proposal):
            // Proposals only for rounds near the current one (a proposer cannot fill memory with far rounds),
            // checked first: finding a round's proposer costs a rotation.
            guard proposal.round <= tendermint.round &+ UInt32(Tendermint.futureRoundsPerVoterMax) else { return [] }
            guard proposal.block.header.chain.sameBytes(as: tip.header.chain), proposal.block.commit == nil,
                  proposal.proposer == tendermint.proposer(round: proposal.round)
            else { return [.refused("proposal for round \(proposal.round) not from that round's proposer, or for another chain")] }
            guard proposal.verifies else { return [.refused("proposal from \(proposal.proposer.id) does not verify")] }
            guard Chain.bodyMatchesHeader(proposal.block) else {
                return [.refused("proposal from \(proposal.proposer.id): the block's body is not the one its header commits to")]
            }
            let hash = proposal.block.hash
            var held = proposals[proposal.round] ?? []
            guard !held.contains(where: { $0.block.hash == hash }), held.count < Tendermint.proposalsPerRoundMax else { return [] }
            guard blocks[hash] != nil || blocks.count < Self.blocksPerHeightMax else { return [] }
            held.append(proposal)
            proposals[proposal.round] = held
            blocks[hash] = proposal.block
            let timely = proposal.validRound != nil
                || config.isTimely(blockTimeMillis: proposal.block.header.timeMillis, receivedAtMillis: nowMillis, round: proposal.round)
            let input = Tendermint.Proposal(round: proposal.round, value: hash, validRound: proposal.validRound.map(Int64.init) ?? -1, timely: timely)
            var effects = tendermint.started ? [] : run(.start, now: nowMillis)
            effects += run(.proposal(input), now: nowMillis)
            return effects
        case .evidence:
            return []
        }
    }

    /// After blocks were imported another way (block sync): move to the height after `tip`.
    public mutating func adopt(_ tip: ChainTip) {
        guard tip.header.height > self.tip.header.height else { return }
        advance(to: tip)
    }

    /// What this node re-sends when progress stalls (the paper's gossip assumes every message eventually
    /// arrives): the last decision, the proposals it holds, its own votes at this height, and everyone's
    /// votes in the current round (relayed, so that a voter who told each half something else is caught).
    public func rebroadcast() -> [Effect] {
        var messages: [ConsensusMessage] = []
        if let (proposal, precommits) = lastDecided { messages += [.proposal(proposal)] + precommits.map { .vote($0) } }
        messages += proposals.keys.sorted().flatMap { (proposals[$0] ?? []).map { .proposal($0) } }
        messages += signedVotes.keys.sorted().compactMap { signedVotes[$0].map { .vote($0) } }
        for kind in ConsensusVote.Kind.allCases {
            let relayed = tendermint.votes(kind, round: tendermint.round).filter { $0.voter != key?.publicKey }
            messages += relayed.sorted { $0.voter < $1.voter }.map { .vote($0) }
        }
        // The prevotes that justify a re-proposal in this round (its proof of lock), which a node that
        // missed them needs before it may prevote for it (line 28).
        for proposal in proposals[tendermint.round] ?? [] {
            messages += polPrevotes(for: proposal).map { .vote($0) }
        }
        // Evidence of the last two heights, newest first and bounded (older evidence was passed on then).
        let recent = evidence.values.filter { $0.first.height + 1 >= height }.sorted { ($0.first.height, $0.first.round) > ($1.first.height, $1.first.round) }
        messages += recent.prefix(Self.evidenceRebroadcastMax).map { .evidence($0) }
        return messages.map { .broadcast($0) }
    }

    // MARK: - Driving the machine

    private mutating func run(_ first: Tendermint.Input, now: UInt64) -> [Effect] {
        var effects: [Effect] = []
        var queue = [first]
        let current = height
        while !queue.isEmpty && height == current {
            for output in tendermint.handle(queue.removeFirst()) {
                guard height == current else { break }  // decided: the rest belonged to the old height
                switch output {
                case .needValue(let round):
                    waitingForValue = round
                    effects.append(.needValue)
                case .propose(let round, let value, let validRound):
                    guard let proposal = signProposal(round: round, value: value, validRound: validRound) else { continue }
                    effects += [.persist(.proposal(proposal)), .broadcast(.proposal(proposal))]
                    effects += polPrevotes(for: proposal).map { .broadcast(.vote($0)) }
                    if !(proposals[round] ?? []).contains(proposal) { proposals[round, default: []].append(proposal) }
                    queue.append(.proposal(Tendermint.Proposal(round: round, value: proposal.block.hash,
                                                              validRound: proposal.validRound.map(Int64.init) ?? -1, timely: true)))
                case .vote(let kind, let round, let value):
                    guard let vote = signVote(kind, round: round, value: value, now: now) else { continue }
                    // Locking on another's block: log that block first, so a restart can still propose it.
                    if kind == .precommit, let value = vote.block,
                       let locked = proposals[round]?.first(where: { $0.block.hash == value }), locked.proposer != key?.publicKey {
                        effects.append(.persist(.proposal(locked)))
                    }
                    effects += [.persist(.vote(vote)), .broadcast(.vote(vote))]
                    queue.append(.vote(vote))
                case .schedule(let timeout):
                    effects.append(.schedule(timeout, afterMillis: config.duration(of: timeout)))
                case .execute(let value):
                    queue.append(.executed(value, valid: execute(value)))
                case .decide(let round, let value, let precommits):
                    effects += decide(round: round, value: value, precommits: precommits, now: now)
                case .equivocation(let a, let b):
                    if let found = Equivocation(a, b) { effects += admit(found) }
                }
            }
        }
        return effects
    }

    private func polPrevotes(for proposal: SignedProposal) -> [ConsensusVote] {
        guard let validRound = proposal.validRound else { return [] }
        let hash = proposal.block.hash
        return tendermint.votes(.prevote, round: validRound).filter { $0.block == hash }.sorted { $0.voter < $1.voter }
    }

    private mutating func execute(_ value: Digest) -> Bool {
        if applied[value] != nil { return true }
        guard let block = blocks[value] else { return false }
        guard let result = try? Chain.execute(block, after: tip.header, state: tip.state, machine: machine, known: known) else { return false }
        applied[value] = result
        return true
    }

    private mutating func signProposal(round: UInt32, value: Digest, validRound: Int64) -> SignedProposal? {
        if let logged = signedProposals[round] { return logged }  // said before a restart: say it again
        guard let key, let block = blocks[value] else { return nil }
        let proposal = SignedProposal(round: round, validRound: validRound >= 0 ? UInt32(validRound) : nil, block: block, key: key)
        signedProposals[round] = proposal
        return proposal
    }

    private mutating func signVote(_ kind: ConsensusVote.Kind, round: UInt32, value: Digest?, now: UInt64) -> ConsensusVote? {
        let slot = Self.slot(kind, round)
        if let logged = signedVotes[slot] { return logged }
        guard let key else { return nil }
        // A vote's time never goes below the tip's, so honest times stay ordered.
        let vote = ConsensusVote(kind: kind, chain: tip.header.chain, height: height, round: round, block: value,
                        timeMillis: max(now, tip.header.timeMillis + 1), key: key)
        signedVotes[slot] = vote
        let voteKey = KnownSignatures.key(voter: vote.voter, digest: vote.signingDigest, signature: vote.signature)
        known.precommits.insert(voteKey)
        votesThisHeight.insert(voteKey)
        return vote
    }

    /// A precommit for the block just decided that came after the decision joins the certificate the next
    /// block carries as `lastCommit`: every precommit a proposer received counts for its signer's Proof of
    /// Performance and reward, not only the first quorum (specs/consensus.md §Election). One signature
    /// check per late precommit, at most one per member.
    private mutating func extendLastCommit(with vote: ConsensusVote) -> [Effect] {
        guard var commit = tip.commit, vote.kind == .precommit, vote.height == commit.height, vote.round == commit.round, vote.block == commit.block,
            vote.chain.sameBytes(as: tip.header.chain), !commit.signers.contains(where: { $0.key == vote.voter })
        else { return [] }
        let certifiedBy = tip.state.record(PreviousBookkeepers.self, at: PreviousBookkeepers.stateKey)?.set ?? tip.state.bookkeepers
        let voteKey = KnownSignatures.key(voter: vote.voter, digest: vote.signingDigest, signature: vote.signature)
        guard certifiedBy?.power(of: vote.voter) != nil, known.precommits.contains(voteKey) || vote.verifies else { return [] }
        known.precommits.insert(voteKey)
        commit.signers.append(CommitCertificate.Signer(key: vote.voter, timeMillis: vote.timeMillis, signature: vote.signature))
        tip.commit = commit
        return []
    }

    private mutating func decide(round: UInt32, value: Digest, precommits: [ConsensusVote], now: UInt64) -> [Effect] {
        guard var block = blocks[value], let result = applied[value] else { return [] }
        let certificate = CommitCertificate(precommits: precommits, height: height, round: round, block: value)
        block.commit = certificate
        if let proposal = proposals[round]?.first(where: { $0.block.hash == value }) { lastDecided = (proposal, precommits) }
        advance(to: ChainTip(header: block.header, state: result.state, commit: certificate))
        var effects: [Effect] = [.commit(block, result)]
        let buffered = future
        future = []
        for message in buffered { effects += receive(message, nowMillis: now) }
        return effects
    }

    private mutating func advance(to tip: ChainTip) {
        self.tip = tip
        tendermint = ConsensusCore.machine(for: tip, key: key)
        blocks = [:]
        applied = [:]
        proposals = [:]
        signedVotes = [:]
        signedProposals = [:]
        waitingForValue = nil
        future.removeAll { $0.height <= tip.header.height }
        // Votes of the height just decided stay known (the next block carries a certificate of them); older go.
        known.precommits = votesThisHeight
        votesThisHeight = []
        // Evidence ages out, and is done with once its bookkeeper is excluded.
        let members = Set(tip.state.bookkeepers?.keys ?? [])
        evidence = evidence.filter { $0.value.first.height + Self.evidenceAgeHeightsMax >= height && members.contains($0.value.voter) }
    }

    private func signedByMember(_ message: ConsensusMessage) -> Bool {
        switch message {
        case .vote(let vote):
            return vote.chain.sameBytes(as: tip.header.chain) && tendermint.bookkeepers.power(of: vote.voter) != nil && vote.verifies
        case .proposal(let proposal):
            return proposal.block.header.chain.sameBytes(as: tip.header.chain) && tendermint.bookkeepers.power(of: proposal.proposer) != nil
                && proposal.verifies
        case .evidence:
            return false
        }
    }

    private mutating func bufferFuture(_ message: ConsensusMessage) {
        if case .proposal = message {
            let held = future.filter { if case .proposal = $0 { true } else { false } }.count
            guard held < Self.futureProposalsMax else { return }
        }
        guard future.count < Self.futureMessagesMax, !future.contains(message) else { return }
        future.append(message)
    }

    /// Evidence from anyone: kept (bounded) and passed on once, when both votes verify, the voter is a
    /// bookkeeper, and its height is within `evidenceAgeHeightsMax` of this node's (either way: a node
    /// that fell behind still takes what the others caught).
    private mutating func admit(_ found: Equivocation) -> [Effect] {
        let key = EvidenceKey(found)
        guard evidence[key] == nil, evidence.count < Self.evidenceMax, found.first.chain.sameBytes(as: tip.header.chain),
              found.first.height <= height + Self.evidenceAgeHeightsMax, found.first.height + Self.evidenceAgeHeightsMax >= height,
              tendermint.bookkeepers.power(of: found.voter) != nil || tip.state.record(Bonds.self, at: Bonds.stateKey)?.entry(found.voter) != nil,
              found.verifies
        else { return [] }
        evidence[key] = found
        return [.evidence(found), .broadcast(.evidence(found))]
    }
}
