import Consensus
import Ledger
import LedgerTestSupport
import Testing

/// The pure Tendermint machine, rule by rule (the paper's line numbers in the names).
@Suite struct TendermintTests {
    static let keys = (0..<4).map { testKey(700 + $0) }
    static let set = BookkeeperSet(keys: keys.map(\.publicKey))
    static let v = SHA256.hash(Array("v".utf8)), w = SHA256.hash(Array("w".utf8))

    static func vote(_ kind: ConsensusVote.Kind, _ voter: Int, round: UInt32, _ value: Digest?, height: UInt64 = 1) -> ConsensusVote {
        ConsensusVote(kind: kind, chain: "t", height: height, round: round, block: value, timeMillis: 1, key: keys[voter])
    }

    /// A machine for `me` that is not the proposer of rounds 0–2 at height 1 (the proposer of (1, r) is key (1 + r) mod 4).
    static func machine(_ me: Int = 0) -> Tendermint { Tendermint(height: 1, bookkeepers: set, me: keys[me].publicKey) }

    static func prevotes(_ outputs: [Tendermint.Output]) -> [Digest?] {
        outputs.compactMap { if case .vote(.prevote, _, let value) = $0 { value } else { nil } }
    }

    static func precommits(_ outputs: [Tendermint.Output]) -> [Digest?] {
        outputs.compactMap { if case .vote(.precommit, _, let value) = $0 { value } else { nil } }
    }

    @Test func proposerRotationFollowsHeightPlusRound() {
        #expect(Self.set.proposer(height: 1, round: 0) == Self.keys[1].publicKey)
        #expect(Self.set.proposer(height: 1, round: 3) == Self.keys[0].publicKey)
        #expect(Self.set.proposer(height: 4, round: 0) == Self.keys[0].publicKey, "the first of the set is the chief at height 0 mod n")
        var counts = [0, 0, 0, 0]
        for height in 0..<400 { counts[Self.keys.firstIndex { $0.publicKey == Self.set.proposer(height: UInt64(height), round: 0) }!] += 1 }
        #expect(counts == [100, 100, 100, 100])
    }

    @Test func lines11to21And22to27And36to43And49DecideInRoundZero() {
        var m = Self.machine()
        #expect(m.handle(.start) == [.schedule(Tendermint.Timeout(kind: .propose, height: 1, round: 0))])
        let asked = m.handle(.proposal(.init(round: 0, value: Self.v, validRound: -1, timely: true)))
        #expect(asked == [.execute(Self.v)], "valid(v) is asked for before prevoting")
        #expect(Self.prevotes(m.handle(.executed(Self.v, valid: true))) == [Self.v])
        for voter in 0..<3 { _ = m.handle(.vote(Self.vote(.prevote, voter, round: 0, Self.v))) }
        #expect(m.lockedValue == Self.v && m.lockedRound == 0 && m.validValue == Self.v)
        var decided: [Tendermint.Output] = []
        for voter in 0..<3 { decided += m.handle(.vote(Self.vote(.precommit, voter, round: 0, Self.v))) }
        #expect(decided.contains { if case .decide(0, Self.v, let precommits) = $0 { precommits.count == 3 } else { false } })
        #expect(m.decision == Self.v)
    }

    @Test func line22InvalidOrUntimelyProposalsArePrevotedNil() {
        var m = Self.machine()
        _ = m.handle(.start)
        _ = m.handle(.proposal(.init(round: 0, value: Self.v, validRound: -1, timely: true)))
        #expect(Self.prevotes(m.handle(.executed(Self.v, valid: false))) == [nil])
        var late = Self.machine()
        _ = late.handle(.start)
        _ = late.handle(.proposal(.init(round: 0, value: Self.v, validRound: -1, timely: false)))
        #expect(Self.prevotes(late.handle(.executed(Self.v, valid: true))) == [nil], "a proposer's clock alone cannot move the pulse")
    }

    /// Locked on v in round 0; round 1 proposes a fresh w: prevote nil (line 23). Round 2 re-proposes v
    /// with vr = 0 and its prevotes: prevote v (line 29).
    func lockedMachine() -> Tendermint {
        var m = Self.machine()
        _ = m.handle(.start)
        _ = m.handle(.proposal(.init(round: 0, value: Self.v, validRound: -1, timely: true)))
        _ = m.handle(.executed(Self.v, valid: true))
        for voter in 0..<3 { _ = m.handle(.vote(Self.vote(.prevote, voter, round: 0, Self.v))) }
        #expect(m.lockedValue == Self.v)
        // Round 0 ends without a decision: precommits of all four, only ours for v.
        for voter in 1..<4 { _ = m.handle(.vote(Self.vote(.precommit, voter, round: 0, nil))) }
        _ = m.handle(.timeout(Tendermint.Timeout(kind: .precommit, height: 1, round: 0)))
        #expect(m.round == 1)
        return m
    }

    @Test func lines22to27ALockedNodePrevotesNilOnAnotherValue() {
        var m = lockedMachine()
        _ = m.handle(.proposal(.init(round: 1, value: Self.w, validRound: -1, timely: true)))
        #expect(Self.prevotes(m.handle(.executed(Self.w, valid: true))) == [nil])
    }

    @Test func lines28to33AReproposalWithItsProofOfLockIsPrevoted() {
        var m = lockedMachine()
        _ = m.handle(.timeout(Tendermint.Timeout(kind: .propose, height: 1, round: 1)))
        for voter in 1..<4 { _ = m.handle(.vote(Self.vote(.precommit, voter, round: 1, nil))) }
        _ = m.handle(.timeout(Tendermint.Timeout(kind: .prevote, height: 1, round: 1)))
        for voter in 1..<4 { _ = m.handle(.vote(Self.vote(.prevote, voter, round: 1, nil))) }
        _ = m.handle(.timeout(Tendermint.Timeout(kind: .precommit, height: 1, round: 1)))
        #expect(m.round == 2)
        // The re-proposal names round 0, whose prevotes this node holds.
        #expect(Self.prevotes(m.handle(.proposal(.init(round: 2, value: Self.v, validRound: 0, timely: false)))) == [Self.v],
                "a re-proposal keeps its first time; only fresh proposals are judged timely")
    }

    /// tendermint#6849: an unlock on +2/3 nil prevotes is not in the paper, and broke safety.
    @Test func nilPrevotesNeverUnlock() {
        var m = lockedMachine()
        _ = m.handle(.timeout(Tendermint.Timeout(kind: .propose, height: 1, round: 1)))
        var precommitted: [Tendermint.Output] = []
        for voter in 1..<4 { precommitted += m.handle(.vote(Self.vote(.prevote, voter, round: 1, nil))) }
        #expect(Self.precommits(precommitted) == [nil], "line 44: +2/3 nil prevotes make a nil precommit, nothing more")
        #expect(m.lockedValue == Self.v && m.lockedRound == 0, "still locked after +2/3 nil prevotes")
        _ = m.handle(.timeout(Tendermint.Timeout(kind: .precommit, height: 1, round: 1)))
        #expect(m.round == 2)
        _ = m.handle(.proposal(.init(round: 2, value: Self.w, validRound: -1, timely: true)))
        #expect(Self.prevotes(m.handle(.executed(Self.w, valid: true))) == [nil])
    }

    @Test func lines55to56SkipToARoundMoreThanAThirdReached() {
        var m = Self.machine()
        _ = m.handle(.start)
        _ = m.handle(.vote(Self.vote(.prevote, 1, round: 5, nil)))
        #expect(m.round == 0, "one of four is not more than a third")
        _ = m.handle(.vote(Self.vote(.precommit, 2, round: 5, nil)))
        #expect(m.round == 5)
    }

    @Test func timeoutsOfAnotherRoundOrHeightDoNothing() {
        var m = Self.machine()
        _ = m.handle(.start)
        #expect(m.handle(.timeout(Tendermint.Timeout(kind: .propose, height: 1, round: 3))).isEmpty)
        #expect(m.handle(.timeout(Tendermint.Timeout(kind: .propose, height: 2, round: 0))).isEmpty)
        #expect(Self.prevotes(m.handle(.timeout(Tendermint.Timeout(kind: .propose, height: 1, round: 0)))) == [nil])
    }

    @Test func conflictingVotesAreEvidenceAndCountOnlyForProposedValues() {
        var m = Self.machine()
        _ = m.handle(.start)
        _ = m.handle(.vote(Self.vote(.prevote, 3, round: 0, Self.v)))
        let outputs = m.handle(.vote(Self.vote(.prevote, 3, round: 0, Self.w)))
        #expect(outputs.contains { if case .equivocation = $0 { true } else { false } })
        // w was never proposed: the second vote is not kept, so a flood of invented values costs nothing.
        #expect(m.votes(.prevote, round: 0).count == 1)
    }

    @Test func aVoterCannotFillMemoryWithFutureRounds() {
        var m = Self.machine()
        _ = m.handle(.start)
        for round in 1...1_000 { _ = m.handle(.vote(Self.vote(.prevote, 3, round: UInt32(round) * 7, nil))) }
        let held = (1...1_000).reduce(0) { $0 + m.votes(.prevote, round: UInt32($1) * 7).count }
        #expect(held <= Tendermint.futureRoundsPerVoterMax * 2)
    }

    @Test func aProposerWithNothingToProposeTimesOutLikeTheOthers() {
        var m = Tendermint(height: 1, bookkeepers: Self.set, me: Self.keys[1].publicKey)
        let started = m.handle(.start)
        #expect(started.contains(.needValue(round: 0)))
        #expect(started.contains(.schedule(Tendermint.Timeout(kind: .propose, height: 1, round: 0))))
        #expect(Self.prevotes(m.handle(.timeout(Tendermint.Timeout(kind: .propose, height: 1, round: 0)))) == [nil])
    }
}
