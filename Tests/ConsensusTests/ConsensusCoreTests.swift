import Consensus
import Credit
import Ledger
import LedgerTestSupport
import Testing

/// The core around the machine, as an attacker meets it: who may vote and propose, forged signatures,
/// a proposer's clock, and what the write-ahead log promises after a restart.
@Suite struct ConsensusCoreTests {
    static let keys = (0..<4).map { testKey(720 + $0) }
    static let payer = testKey(730), payee = testKey(731)
    static let genesisMillis: UInt64 = 1_800_000_000_000
    static let machine = StateMachine(rules: LedgerRules.all + CreditRules.all)

    static func tip() throws -> ChainTip {
        var genesis = Genesis.development(chainID: "core-test", timeMillis: genesisMillis, bookkeeper: keys[0].publicKey,
                                          balances: [(payer.publicKey.id, 1 << 30)])
        genesis.bookkeepers = keys.map(\.publicKey.hex)
        let built = try genesis.build()
        return ChainTip(header: built.block.header, state: built.state, commit: nil)
    }

    static func transfer(nonce: UInt64 = 0) -> SignedTransaction {
        SignedTransaction(transaction: Transaction(chain: "core-test", type: TransferRule.type, signers: [payer.publicKey, payee.publicKey], nonce: nonce,
                                                   expiry: .max, body: TransferRule.body(to: payee.publicKey.id, amount: 1)), keys: [payer, payee])
    }

    static func core(_ index: Int, log: [ConsensusMessage] = []) throws -> ConsensusCore {
        ConsensusCore(tip: try tip(), machine: machine, key: keys[index], config: ConsensusConfig(), log: log)
    }

    static let now = genesisMillis + 20_000

    /// Height 1, round 0 is proposed by key 1.
    static func proposal(time: UInt64 = now) throws -> SignedProposal {
        var proposer = try core(1)
        _ = proposer.start(nowMillis: time)
        let effects = proposer.provide([transfer()], nowMillis: time)
        for case .broadcast(.proposal(let proposal)) in effects { return proposal }
        throw NoProposal(effects: "\(effects)")
    }

    static func sent(_ effects: [ConsensusCore.Effect]) -> [ConsensusMessage] {
        effects.compactMap { if case .broadcast(let message) = $0 { message } else { nil } }
    }

    static func refusals(_ effects: [ConsensusCore.Effect]) -> [String] {
        effects.compactMap { if case .refused(let why) = $0 { why } else { nil } }
    }

    static func prevote(in effects: [ConsensusCore.Effect]) -> ConsensusVote? {
        sent(effects).compactMap { if case .vote(let vote) = $0, vote.kind == .prevote { vote } else { nil } }.first
    }

    @Test func anHonestProposalIsPrevotedAfterItsBlockIsExecuted() throws {
        var core = try Self.core(0)
        let prevote = Self.prevote(in: core.receive(.proposal(try Self.proposal()), nowMillis: Self.now))
        #expect(prevote?.block == (try Self.proposal()).block.hash)
    }

    @Test func strangersCannotVoteOrPropose() throws {
        var core = try Self.core(0)
        let stranger = testKey(799)
        let strangerVote = ConsensusVote(kind: .prevote, chain: "core-test", height: 1, round: 0, block: nil, timeMillis: Self.now, key: stranger)
        #expect(!Self.refusals(core.receive(.vote(strangerVote), nowMillis: Self.now)).isEmpty)
        // A vote in a bookkeeper's name with a forged signature.
        var forged = ConsensusVote(kind: .prevote, chain: "core-test", height: 1, round: 0, block: nil, timeMillis: Self.now, key: Self.keys[2])
        forged.block = SHA256.hash([1])
        #expect(!Self.refusals(core.receive(.vote(forged), nowMillis: Self.now)).isEmpty)
        // A proposal from a bookkeeper whose round it is not, and one for another chain.
        let proposal = try Self.proposal()
        let wrongProposer = SignedProposal(round: 0, validRound: nil, block: proposal.block, key: Self.keys[2])
        #expect(!Self.refusals(core.receive(.proposal(wrongProposer), nowMillis: Self.now)).isEmpty)
        var otherChain = proposal.block
        otherChain.header.chain = "other"
        #expect(!Self.refusals(core.receive(.proposal(SignedProposal(round: 0, validRound: nil, block: otherChain, key: Self.keys[1])), nowMillis: Self.now)).isEmpty)
        // A proposal whose block claims a certificate already.
        let certified = SignedProposal(round: 0, validRound: nil, block: proposal.block.certified(by: Self.keys), key: Self.keys[1])
        #expect(!Self.refusals(core.receive(.proposal(certified), nowMillis: Self.now)).isEmpty)
        #expect(!core.tendermint.started, "nothing refused started the height")
    }

    @Test func anInvalidBlockIsPrevotedNil() throws {
        var core = try Self.core(0)
        var block = try Self.proposal().block
        block.header.stateRoot = SHA256.hash([7])
        let bad = SignedProposal(round: 0, validRound: nil, block: block, key: Self.keys[1])
        let prevote = Self.prevote(in: core.receive(.proposal(bad), nowMillis: Self.now))
        #expect(prevote != nil && prevote?.block == nil)
    }

    /// A proposer alone can no longer move the pulse: a block timed 10 s ahead of the bookkeepers' clocks
    /// (or 10 s behind) is prevoted nil, though it is otherwise valid.
    @Test func aProposerClockAheadOrBehindIsPrevotedNil() throws {
        for skew: Int64 in [10_000, -10_000] {
            var core = try Self.core(0)
            let proposal = try Self.proposal(time: UInt64(Int64(Self.now) + skew))
            let prevote = Self.prevote(in: core.receive(.proposal(proposal), nowMillis: Self.now))
            #expect(prevote != nil && prevote?.block == nil, "skew \(skew) ms")
        }
        var core = try Self.core(0)
        let prevote = Self.prevote(in: core.receive(.proposal(try Self.proposal(time: Self.now + 300)), nowMillis: Self.now))
        #expect(prevote?.block != nil, "within the precision it is timely")
    }

    /// After a restart the node says again what its log says it said, even when the machine would now
    /// say something else, so it never signs two votes for one slot.
    @Test func theLogIsSaidAgainNeverContradicted() throws {
        var before = try Self.core(0)
        let proposal = try Self.proposal()
        let effects = before.receive(.proposal(proposal), nowMillis: Self.now)
        let logged = effects.compactMap { if case .persist(let message) = $0 { message } else { nil } }
        let original = try #require(Self.prevote(in: effects))
        #expect(logged.contains(.vote(original)), "the prevote is written before it is sent")
        // Restarted without the proposal: its propose timeout would make it prevote nil — but it sends the logged vote.
        var after = try Self.core(0, log: logged)
        _ = after.start(nowMillis: Self.now + 10)
        let again = Self.prevote(in: after.timeout(Tendermint.Timeout(kind: .propose, height: 1, round: 0), nowMillis: Self.now + 2_000))
        #expect(again == original)
    }

    @Test func aRestartedNodeKeepsItsLockAndTheBlock() throws {
        var node = try Self.core(0)
        let proposal = try Self.proposal()
        var effects = node.receive(.proposal(proposal), nowMillis: Self.now)
        for voter in 1..<3 {
            let prevote = ConsensusVote(kind: .prevote, chain: "core-test", height: 1, round: 0, block: proposal.block.hash, timeMillis: Self.now, key: Self.keys[voter])
            effects += node.receive(.vote(prevote), nowMillis: Self.now)
        }
        let logged = effects.compactMap { if case .persist(let message) = $0 { message } else { nil } }
        #expect(logged.contains(.proposal(proposal)), "the block locked on is logged before the precommit")
        let restarted = try Self.core(0, log: logged)
        #expect(restarted.tendermint.lockedValue == proposal.block.hash && restarted.tendermint.lockedRound == 0)
        #expect(restarted.tendermint.validValue == proposal.block.hash, "so it can propose it again")
    }

    @Test func messagesForLaterHeightsAreBoundedOrTriggerSync() throws {
        var core = try Self.core(0)
        let far = ConsensusVote(kind: .prevote, chain: "core-test", height: 9, round: 0, block: nil, timeMillis: Self.now, key: Self.keys[2])
        #expect(core.receive(.vote(far), nowMillis: Self.now).contains { if case .peerAhead(9) = $0 { true } else { false } })
        for round in 0..<2_000 {
            let next = ConsensusVote(kind: .prevote, chain: "core-test", height: 2, round: UInt32(round), block: nil, timeMillis: Self.now, key: Self.keys[2])
            _ = core.receive(.vote(next), nowMillis: Self.now)
        }
        #expect(core.height == 1, "next-height messages wait, bounded (ConsensusCore.futureMessagesMax)")
    }

    @Test func evidenceFromStrangersOrForgedIsNotTaken() throws {
        var core = try Self.core(0)
        let stranger = testKey(798)
        let a = ConsensusVote(kind: .prevote, chain: "core-test", height: 1, round: 0, block: nil, timeMillis: 1, key: stranger)
        let b = ConsensusVote(kind: .prevote, chain: "core-test", height: 1, round: 0, block: SHA256.hash([1]), timeMillis: 1, key: stranger)
        #expect(core.receive(.evidence(try #require(Equivocation(a, b))), nowMillis: Self.now).isEmpty)
        let c = ConsensusVote(kind: .prevote, chain: "core-test", height: 1, round: 0, block: nil, timeMillis: 1, key: Self.keys[2])
        var d = ConsensusVote(kind: .prevote, chain: "core-test", height: 1, round: 0, block: SHA256.hash([1]), timeMillis: 1, key: Self.keys[2])
        d.timeMillis = 2  // the signature no longer matches: a frame-up
        #expect(core.receive(.evidence(try #require(Equivocation(c, d))), nowMillis: Self.now).isEmpty)
        let e = ConsensusVote(kind: .prevote, chain: "core-test", height: 1, round: 0, block: SHA256.hash([1]), timeMillis: 1, key: Self.keys[2])
        let taken = core.receive(.evidence(try #require(Equivocation(c, e))), nowMillis: Self.now)
        #expect(taken.contains { if case .evidence = $0 { true } else { false } })
        #expect(core.receive(.evidence(try #require(Equivocation(c, e))), nowMillis: Self.now).isEmpty, "passed on once")
    }

    /// Review finding: evidence whose height is near 2^64 overflowed an addition before any other check.
    @Test func evidenceAtAHugeHeightIsDroppedNotATrap() throws {
        var core = try Self.core(0)
        let a = ConsensusVote(kind: .prevote, chain: "core-test", height: .max, round: 0, block: nil, timeMillis: 1, key: testKey(790))
        let b = ConsensusVote(kind: .prevote, chain: "core-test", height: .max, round: 0, block: SHA256.hash([1]), timeMillis: 1, key: testKey(790))
        #expect(core.receive(.evidence(try #require(Equivocation(a, b))), nowMillis: Self.now).isEmpty)
    }

    /// Review finding: a relay that swaps a transaction's signature keeps the block hash (the tx root was
    /// over unsigned IDs); the altered copy must be refused without poisoning the real one.
    @Test func anAlteredBodyIsRefusedAndTheRealProposalStillCounts() throws {
        var core = try Self.core(0)
        let proposal = try Self.proposal()
        var altered = proposal
        let forgedSignature = try Signature(bytes: [UInt8](repeating: 7, count: 64))
        altered.block.transactions[0] = SignedTransaction(transaction: proposal.block.transactions[0].transaction,
                                                          signatures: [forgedSignature, proposal.block.transactions[0].signatures[1]])
        #expect(altered.block.hash == proposal.block.hash && altered.verifies, "the header, its hash and the proposer's signature are unchanged")
        let refused = core.receive(.proposal(altered), nowMillis: Self.now)
        #expect(!Self.refusals(refused).isEmpty && Self.prevote(in: refused) == nil)
        let prevote = Self.prevote(in: core.receive(.proposal(proposal), nowMillis: Self.now))
        #expect(prevote?.block == proposal.block.hash, "the real block is still prevoted")
    }

    /// Review finding: proposals for any round were kept (a proposer could fill memory with far rounds),
    /// and next-height messages were buffered or believed without a signature.
    @Test func farRoundsAndUnsignedNextHeightMessagesAreNotKept() throws {
        var core = try Self.core(0)
        let block = try Self.proposal().block
        let proposer = try #require(Self.keys.first { $0.publicKey == core.tendermint.proposer(round: 900) })
        #expect(core.receive(.proposal(SignedProposal(round: 900, validRound: nil, block: block, key: proposer)), nowMillis: Self.now).isEmpty)
        var forged = ConsensusVote(kind: .prevote, chain: "core-test", height: 50, round: 0, block: nil, timeMillis: 1, key: Self.keys[2])
        forged.round = 1  // the signature no longer matches
        let effects = core.receive(.vote(forged), nowMillis: Self.now)
        #expect(!effects.contains { if case .peerAhead = $0 { true } else { false } } && !Self.refusals(effects).isEmpty)
        let stranger = ConsensusVote(kind: .prevote, chain: "core-test", height: 2, round: 0, block: nil, timeMillis: 1, key: testKey(791))
        #expect(!Self.refusals(core.receive(.vote(stranger), nowMillis: Self.now)).isEmpty)
    }

    @Test func undecodableMessagesAreRefused() {
        var generator = SeededGenerator(seed: 0xc0ffee)
        for _ in 0..<5_000 {
            let bytes = generator.bytes(Int.random(in: 0...200, using: &generator))
            _ = try? ConsensusMessage.decodeUntrusted(bytes)
        }
        let valid = ConsensusMessage.vote(ConsensusVote(kind: .precommit, chain: "c", height: 1, round: 0, block: nil, timeMillis: 1, key: Self.keys[0])).encoded
        for cut in 0..<valid.count { #expect((try? ConsensusMessage.decodeUntrusted(Array(valid.prefix(cut)))) == nil) }
        #expect((try? ConsensusMessage.decodeUntrusted(valid)) != nil)
    }
}

struct NoProposal: Error { let effects: String }
