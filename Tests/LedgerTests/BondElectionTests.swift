import Testing
@testable import Ledger

/// Bonds, unbonding, Proof of Performance and the election, block by block through `Chain.propose` and
/// `Chain.apply` as every node runs them (specs/consensus.md §Bonds, §Election).
@Suite struct BondElectionTests {
    static let members = (0..<4).map { testKey(760 + $0) }
    static let newcomer = testKey(770)
    static let funder = testKey(771)
    static let machine = StateMachine(rules: LedgerRules.all)
    static let minimum: UInt64 = 1_000_000
    static let cycle: UInt64 = 10

    static func genesis(bonds: Bool = true) throws -> (LedgerState, Block) {
        var genesis = Genesis.development(chainID: "bonds", timeMillis: 0, bookkeeper: members[0].publicKey,
                                          balances: [(newcomer.publicKey.id, 10 * minimum), (funder.publicKey.id, 10 * minimum)])
        genesis.bookkeepers = members.map(\.publicKey.hex)
        genesis.parameters.electionCyclePulses = cycle
        genesis.parameters.bondMinimum = minimum
        genesis.parameters.unbondDelayPulses = 5
        genesis.parameters.slashPercent = 10
        genesis.parameters.miningRewardPerBlock = 100
        if bonds { genesis.bonds = members.map { Genesis.Bond(bookkeeper: $0.publicKey.hex, amount: minimum) } }
        return try genesis.build()
    }

    /// A chain driven by the test: each block at the pulse asked for, certified by the keys asked for
    /// (by default the whole current set).
    struct TestLedger {
        var state: LedgerState
        var header: BlockHeader
        var lastCommit: CommitCertificate?
        var nonces: [PublicKey: UInt64] = [:]
        static let secrets = Dictionary(uniqueKeysWithValues: (BondElectionTests.members + [BondElectionTests.newcomer]).map { ($0.publicKey, $0) })

        init() throws {
            let (state, block) = try BondElectionTests.genesis()
            self.state = state
            header = block.header
        }

        var set: BookkeeperSet { state.bookkeepers! }
        var bonds: Bonds { state.record(Bonds.self, at: Bonds.stateKey) ?? Bonds(entries: []) }
        func balance(_ key: SecretKey) -> UInt64 { state.record(Account.self, at: key.publicKey.id)?.balance ?? 0 }

        /// A transaction with the key's next nonce; `keep: false` leaves the nonce for the next one (a probe).
        mutating func transaction(_ type: String, by key: SecretKey, body: CBOR, keep: Bool = true) -> SignedTransaction {
            let nonce = nonces[key.publicKey, default: 0]
            if keep { nonces[key.publicKey] = nonce + 1 }
            return SignedTransaction(transaction: Transaction(chain: "bonds", type: type, signers: [key.publicKey], nonce: nonce, expiry: .max, body: body), keys: [key])
        }

        /// A block of `txs` (a filler transfer when empty) at `pulse`, signed by `signers` of the set.
        @discardableResult
        mutating func block(_ txs: [SignedTransaction] = [], pulse: UInt64? = nil, signers: [PublicKey]? = nil, evidence: [Equivocation] = []) throws -> Block {
            var txs = txs
            if txs.isEmpty {
                let nonce = nonces[BondElectionTests.funder.publicKey, default: 0]
                nonces[BondElectionTests.funder.publicKey] = nonce + 1
                txs = [SignedTransaction(transaction: Transaction(chain: "bonds", type: TransferRule.type, signers: [BondElectionTests.funder.publicKey, testKey(772).publicKey],
                                                                   nonce: nonce, expiry: .max, body: TransferRule.body(to: testKey(772).publicKey.id, amount: 1)),
                                         keys: [BondElectionTests.funder, testKey(772)])]
            }
            let set = self.set
            let proposer = set.proposer(height: header.height + 1, round: 0)!
            let made = try #require(Chain.propose(txs, after: header, lastCommit: lastCommit, state: state, machine: BondElectionTests.machine,
                                                  timeMillis: (pulse ?? header.pulse + 1) * 1000, proposer: proposer.id, evidence: evidence))
            #expect(made.rejected.isEmpty, "\(made.rejected.map(\.1))")
            let block = made.block.certified(by: (signers ?? set.keys).map { Self.secrets[$0]! })
            state = try Chain.apply(block, after: header, state: state, machine: BondElectionTests.machine).state
            header = block.header
            lastCommit = block.commit
            return block
        }

        /// What the rules say of one transaction on the current state, without keeping it.
        func refusal(of signed: SignedTransaction) -> Rejection? {
            var draft = StateDraft(base: state)
            do {
                try BondElectionTests.machine.apply(signed, to: &draft, context: BlockContext(chain: "bonds", height: header.height + 1, pulse: header.pulse + 1))
                return nil
            } catch { return error }
        }
    }

    @Test func aBondLocksAndAnUnbondPaysBackOnlyAfterTheDelayInPulsesAndHeights() throws {
        var ledger = try TestLedger()
        let before = ledger.balance(Self.newcomer)
        try ledger.block([ledger.transaction(BondRules.bondType, by: Self.newcomer, body: BondRules.body(amount: 2 * Self.minimum))])
        #expect(ledger.balance(Self.newcomer) == before - 2 * Self.minimum)
        #expect(ledger.bonds.entry(Self.newcomer.publicKey)?.bonded == 2 * Self.minimum)
        try ledger.block([ledger.transaction(BondRules.unbondType, by: Self.newcomer, body: BondRules.body(amount: 2 * Self.minimum))])
        let entry = try #require(ledger.bonds.entry(Self.newcomer.publicKey))
        #expect(entry.bonded == 0 && entry.unbonding == 2 * Self.minimum)
        #expect(entry.releasePulse == ledger.header.pulse + 5 && entry.releaseHeight == ledger.header.height + Slashing.evidenceAgeHeightsMax)
        // Past the delay in pulses but not yet past evidence's age in heights: still held (slashable).
        try ledger.block(pulse: entry.releasePulse + 1)
        #expect(ledger.balance(Self.newcomer) == before - 2 * Self.minimum)
        while ledger.header.height + 1 < entry.releaseHeight { try ledger.block() }
        #expect(ledger.balance(Self.newcomer) == before - 2 * Self.minimum, "one height before the release")
        try ledger.block()
        #expect(ledger.balance(Self.newcomer) == before, "paid back in full")
        #expect(ledger.bonds.entry(Self.newcomer.publicKey) == nil, "an emptied entry leaves the list")
    }

    @Test func badBondsAndUnbondsAreRefusedAndChangeNothing() throws {
        var ledger = try TestLedger()
        let cases: [(SignedTransaction, Rejection.Code)] = [
            (ledger.transaction(BondRules.bondType, by: Self.newcomer, body: BondRules.body(amount: Self.minimum - 1), keep: false), BondRules.bondTooSmall),
            (ledger.transaction(BondRules.bondType, by: Self.newcomer, body: BondRules.body(amount: 0), keep: false), .amountNotPositive),
            (ledger.transaction(BondRules.bondType, by: Self.newcomer, body: BondRules.body(amount: 11 * Self.minimum), keep: false), .insufficientBalance),
            (ledger.transaction(BondRules.bondType, by: Self.newcomer, body: .map(["amount": .text("1")]), keep: false), .malformed),
            (ledger.transaction(BondRules.unbondType, by: Self.newcomer, body: BondRules.body(amount: 1), keep: false), BondRules.notBonded),
            // A member's genesis bond: all of it or a remainder of at least the minimum.
            (ledger.transaction(BondRules.unbondType, by: Self.members[1], body: BondRules.body(amount: 1), keep: false), BondRules.bondTooSmall),
            (ledger.transaction(BondRules.unbondType, by: Self.members[1], body: BondRules.body(amount: Self.minimum + 1), keep: false), .insufficientBalance),
        ]
        for (signed, code) in cases {
            #expect(ledger.refusal(of: signed)?.code == code, "\(signed.transaction.type) \(signed.transaction.body)")
        }
        // Topping up a standing bond by less than the minimum is fine: the total counts.
        try ledger.block([ledger.transaction(BondRules.bondType, by: Self.newcomer, body: BondRules.body(amount: Self.minimum))])
        #expect(ledger.refusal(of: ledger.transaction(BondRules.bondType, by: Self.newcomer, body: BondRules.body(amount: 1), keep: false)) == nil)
    }

    @Test func theElectionAtANewCycleSeatsTheNewcomerByBondAndPowerFollowsIt() throws {
        var ledger = try TestLedger()
        try ledger.block([ledger.transaction(BondRules.bondType, by: Self.newcomer, body: BondRules.body(amount: 3 * Self.minimum))])
        let lastOfCycle = try ledger.block(pulse: Self.cycle - 1)
        #expect(lastOfCycle.header.nextBookkeepers == lastOfCycle.header.bookkeepers, "no election inside a cycle")
        let electing = try ledger.block(pulse: Self.cycle)
        #expect(electing.header.nextBookkeepers != electing.header.bookkeepers, "the first block of the cycle names the elected set")
        let set = ledger.set
        #expect(set.keys == [Self.newcomer.publicKey] + Self.members.map(\.publicKey).sorted(), "ranked: the largest bond first (chief), then by key")
        #expect(set.power(of: Self.newcomer.publicKey) == 3 && set.totalPower == 7)
        #expect(electing.header.nextBookkeepers == set.hash)
        // The next block: its previous certificate is the old set's, its own the new set's (newcomer included).
        let next = try ledger.block(signers: set.keys)
        #expect(next.lastCommit?.signers.count == 4 && next.commit?.signers.count == 5)
        // Three of seven rotation steps are the newcomer's.
        let proposers = (0..<7).compactMap { set.proposer(height: 100 + UInt64($0), round: 0) }
        #expect(proposers.filter { $0 == Self.newcomer.publicKey }.count == 3)
        // Without the newcomer the new set has 4 of 7: not more than two thirds, so the old four alone
        // cannot certify any more.
        #expect(throws: Rejection.self) { try ledger.block(signers: Self.members.map(\.publicKey)) }
    }

    @Test func aChronicallyAbsentMemberIsNotReElected() throws {
        var ledger = try TestLedger()
        let absent = Self.members[3].publicKey
        let present = Self.members.prefix(3).map(\.publicKey)
        for pulse in 1..<Self.cycle { try ledger.block(pulse: pulse, signers: present) }
        let performance = try #require(ledger.state.record(Performance.self, at: Performance.stateKey))
        #expect(performance.entry(absent)?.signed == 0 && performance.entry(absent)?.heights == Self.cycle - 2)
        #expect(performance.entry(present[0])?.signed == Self.cycle - 2)
        try ledger.block(pulse: Self.cycle, signers: present)
        #expect(ledger.set.keys == present.sorted(), "bonded, but it signed none of the certificates it could have")
        #expect(ledger.state.record(Performance.self, at: Performance.stateKey)?.cycle == 1, "a fresh count for the new cycle")
    }

    @Test func evidenceBurnsPartOfTheBondAndUnbondsTheRest() throws {
        var ledger = try TestLedger()
        try ledger.block()
        let cheat = Self.members[2]
        let a = ConsensusVote(kind: .precommit, chain: "bonds", height: 1, round: 0, block: SHA256.hash([1]), timeMillis: 5, key: cheat)
        let b = ConsensusVote(kind: .precommit, chain: "bonds", height: 1, round: 0, block: SHA256.hash([2]), timeMillis: 5, key: cheat)
        try ledger.block(evidence: [Equivocation(a, b)!])
        let entry = try #require(ledger.bonds.entry(cheat.publicKey))
        #expect(entry.bonded == 0 && entry.unbonding == Self.minimum - Self.minimum / 10, "10% burnt, the rest unbonding")
        #expect(ledger.state.record(SlashingHistory.self, at: SlashingHistory.stateKey)?.entries.last?.burnt == Self.minimum / 10)
        #expect(ledger.set.power(of: cheat.publicKey) == nil)
        try ledger.block(pulse: Self.cycle)
        #expect(ledger.set.power(of: cheat.publicKey) == nil, "not a candidate at the next election")
        #expect(ledger.set.keys.count == 3)
    }

    @Test func aFullListGivesWayOnlyToALargerBond() throws {
        var genesis = Genesis.development(chainID: "bonds", timeMillis: 0, bookkeeper: Self.members[0].publicKey, balances: [(Self.newcomer.publicKey.id, 10 * Self.minimum)])
        genesis.parameters.bondMinimum = Self.minimum
        let crowd = (0..<Bonds.standingMax).map { testKey(2000 + $0).publicKey }
        genesis.bonds = crowd.map { Genesis.Bond(bookkeeper: $0.hex, amount: Self.minimum) }
        let state = try genesis.build().state
        func apply(_ amount: UInt64) -> (Rejection?, Bonds?) {
            var draft = StateDraft(base: state)
            let signed = SignedTransaction(transaction: Transaction(chain: "bonds", type: BondRules.bondType, signers: [Self.newcomer.publicKey], nonce: 0, expiry: .max,
                                                                    body: BondRules.body(amount: amount)), keys: [Self.newcomer])
            do { try Self.machine.apply(signed, to: &draft, context: BlockContext(chain: "bonds", height: 1, pulse: 1)) } catch { return (error, nil) }
            return (nil, try? draft.record(Bonds.self, at: Bonds.stateKey))
        }
        #expect(apply(Self.minimum).0?.code == BondRules.bondsFull, "an equal bond does not push anyone out")
        let (refusal, bonds) = apply(Self.minimum + 1)
        #expect(refusal == nil)
        let pushed = crowd.min()!
        #expect(bonds?.entry(pushed)?.bonded == 0 && bonds?.entry(pushed)?.unbonding == Self.minimum, "the smallest (then lowest key) gives way, into unbonding")
        #expect(bonds?.entries.filter { $0.bonded > 0 }.count == Bonds.standingMax)
    }

    @Test func genesisBondsAndElectionParametersAreChecked() throws {
        var genesis = Genesis.development(chainID: "bonds", timeMillis: 0, bookkeeper: Self.members[0].publicKey, balances: [])
        genesis.bonds = [Genesis.Bond(bookkeeper: Self.members[0].publicKey.hex, amount: 1)]
        #expect(throws: Genesis.Invalid.self) { try genesis.build() }
        genesis.bonds = [Genesis.Bond(bookkeeper: "zz", amount: ChainParameters.bondMinimumDefault)]
        #expect(throws: Genesis.Invalid.self) { try genesis.build() }
        genesis.bonds = nil
        for change in [{ (g: inout Genesis) in g.parameters.bookkeepersMax = 0 }, { $0.parameters.bookkeepersMax = 101 }, { $0.parameters.slashPercent = 101 },
                       { $0.parameters.performanceMinPercent = 101 }, { $0.parameters.bondMinimum = 0 }, { $0.parameters.unbondDelayPulses = 0 }] {
            var bad = genesis
            change(&bad)
            #expect(throws: Genesis.Invalid.self) { try bad.build() }
        }
    }

    @Test func electionRankingIsByBondTimesPerformance() throws {
        var parameters = ChainParameters(genesisTimeMillis: 0)
        parameters.bondMinimum = 10
        parameters.bookkeepersMax = 2
        let keys = (0..<3).map { testKey(780 + $0).publicKey }
        let bonds = Bonds(entries: [.init(key: keys[0], bonded: 100), .init(key: keys[1], bonded: 60), .init(key: keys[2], bonded: 50)])
        parameters.performanceMinPercent = 0
        var performance = Performance(cycle: 0)
        // keys[0] signed 4 of 10 (score 100 × 400), keys[1] all (60 × 1000), keys[2] is new (50 × 1000).
        let pair = BookkeeperSet(keys: [keys[0], keys[1]])
        for _ in 0..<4 { performance.count(certificateOf: pair, signers: [keys[0], keys[1]]) }
        for _ in 0..<6 { performance.count(certificateOf: pair, signers: [keys[1]]) }
        let elected = try #require(Election.elect(bonds: bonds, performance: performance, parameters: parameters))
        #expect(elected.keys == [keys[1], keys[2]] && elected.powers == [6, 5], "the largest bond loses its seat to its absences")
        parameters.bookkeepersMax = 3
        #expect(Election.elect(bonds: bonds, performance: performance, parameters: parameters)?.keys == [keys[1], keys[2], keys[0]])
        parameters.performanceMinPercent = 41
        #expect(Election.candidates(bonds: bonds, performance: performance, parameters: parameters).first { $0.key == keys[0] }?.eligible == false)
        #expect(Election.elect(bonds: bonds, performance: performance, parameters: parameters)?.keys == [keys[1], keys[2]], "below the least share: not re-elected")
        #expect(Election.elect(bonds: Bonds(entries: []), performance: performance, parameters: parameters) == nil, "no candidate: the set stays")
    }

    @Test func extremeBondsNeitherTrapNorWrap() throws {
        var entry = Bonds.Entry(key: Self.newcomer.publicKey, bonded: .max, unbonding: .max)
        #expect(Slashing.burn(100, of: &entry) == .max && entry.bonded == 0 && entry.unbonding == 0, "all of 2^65 − 2 burnt, the report saturated")
        entry = Bonds.Entry(key: Self.newcomer.publicKey, bonded: .max, unbonding: .max - 1)
        entry.unbond(.max, pulse: .max, height: .max, parameters: ChainParameters(genesisTimeMillis: 0))
        #expect(entry.unbonding == .max && entry.bonded == .max - 1, "what cannot move stays bonded")
        let record = Performance.Entry(key: Self.newcomer.publicKey, heights: .max, signed: .max)
        #expect(record.permille == 1000)
    }

    /// A proposer that leaves a precommit out of its certificate gains nothing: each signer is paid its
    /// power's share of the whole set, the left-out share is burnt, the proposer keeps only the rounding.
    @Test func leavingAPrecommitOutPaysTheProposerNothingMore() {
        let keys = (0..<4).map { testKey(790 + $0).publicKey }
        let set = BookkeeperSet(keys: keys)
        let all = MiningReward.shares(of: 90, signers: keys, bookkeepers: set, proposer: keys[0].id)
        let three = MiningReward.shares(of: 90, signers: Array(keys.prefix(3)), bookkeepers: set, proposer: keys[0].id)
        func paid(_ shares: [MiningReward.Share], _ key: PublicKey) -> UInt64 { shares.filter { $0.bookkeeper == key.id }.reduce(0) { $0 + $1.amount } }
        #expect(paid(all, keys[0]) == 22 + 2 && paid(all, keys[3]) == 22)
        #expect(paid(three, keys[0]) == paid(all, keys[0]) && paid(three, keys[1]) == 22, "no one gains by the omission")
        #expect(paid(three, keys[3]) == 0 && three.reduce(0) { $0 + $1.amount } == 90 - 22, "the left-out share is burnt")
        #expect(MiningReward.shares(of: 90, signers: [], bookkeepers: set, proposer: keys[1].id) == [.init(bookkeeper: keys[1].id, amount: 90)])
    }

    /// 256 standing bonds and 256 entries made by bonding and unbonding at once fill the list proper: a
    /// larger bond still gets in (the push-out reserve), a bond that pushes no one out does not.
    @Test func entriesBeingReleasedCannotKeepALargerBondOut() throws {
        var genesis = Genesis.development(chainID: "bonds", timeMillis: 0, bookkeeper: Self.members[0].publicKey, balances: [(Self.newcomer.publicKey.id, 10 * Self.minimum)])
        genesis.parameters.bondMinimum = Self.minimum
        let built = try genesis.build()
        let standing = (0..<Bonds.standingMax).map { Bonds.Entry(key: testKey(3000 + $0).publicKey, bonded: Self.minimum) }
        let releasing = (0..<(Bonds.countMax - Bonds.standingMax)).map { Bonds.Entry(key: testKey(4000 + $0).publicKey, bonded: 0, unbonding: Self.minimum, releasePulse: 99, releaseHeight: 99) }
        var values = built.state.values
        values[Bonds.stateKey] = Bonds(entries: standing + releasing).cbor
        let state = LedgerState(values: values, height: 0)
        func bond(_ amount: UInt64) -> Rejection? {
            var draft = StateDraft(base: state)
            let signed = SignedTransaction(transaction: Transaction(chain: "bonds", type: BondRules.bondType, signers: [Self.newcomer.publicKey], nonce: 0, expiry: .max,
                                                                    body: BondRules.body(amount: amount)), keys: [Self.newcomer])
            do { try Self.machine.apply(signed, to: &draft, context: BlockContext(chain: "bonds", height: 1, pulse: 1)) } catch { return error }
            return nil
        }
        #expect(bond(Self.minimum)?.code == BondRules.bondsFull)
        #expect(bond(Self.minimum + 1) == nil, "a larger bond pushes the smallest out, into the reserve")
    }

    /// A bonded key outside the set (a candidate, or a member the election let go) is still slashable, once
    /// per height and round.
    @Test func evidenceReachesABondedKeyOutsideTheSetOnce() throws {
        var ledger = try TestLedger()
        try ledger.block([ledger.transaction(BondRules.bondType, by: Self.newcomer, body: BondRules.body(amount: 2 * Self.minimum))])
        #expect(ledger.set.power(of: Self.newcomer.publicKey) == nil)
        let a = ConsensusVote(kind: .prevote, chain: "bonds", height: 1, round: 0, block: SHA256.hash([1]), timeMillis: 5, key: Self.newcomer)
        let b = ConsensusVote(kind: .prevote, chain: "bonds", height: 1, round: 0, block: nil, timeMillis: 5, key: Self.newcomer)
        let proof = try #require(Equivocation(a, b))
        let slashing = try ledger.block(evidence: [proof])
        #expect(slashing.evidence == [proof])
        let entry = try #require(ledger.bonds.entry(Self.newcomer.publicKey))
        #expect(entry.bonded == 0 && entry.unbonding == 2 * Self.minimum - 2 * Self.minimum / 10)
        var draft = StateDraft(base: ledger.state)
        #expect(throws: Rejection.self, "punished once") {
            try Slashing.apply([proof], to: &draft, context: BlockContext(chain: "bonds", height: ledger.header.height + 1, pulse: ledger.header.pulse + 1))
        }
    }

    /// A member that unbonds is not paid back while it is in the set, however long: its stake stays at
    /// risk until the election lets it go.
    @Test func aMemberIsPaidBackOnlyAfterItLeavesTheSet() throws {
        var ledger = try TestLedger()
        let leaver = Self.members[1]
        try ledger.block([ledger.transaction(BondRules.unbondType, by: leaver, body: BondRules.body(amount: Self.minimum))])
        let entry = try #require(ledger.bonds.entry(leaver.publicKey))
        let late = BlockContext(chain: "bonds", height: entry.releaseHeight + 10, pulse: entry.releasePulse + 10)
        var draft = StateDraft(base: ledger.state)
        BlockEnd.releaseUnbonded(in: &draft, context: late)
        #expect(draft.changes.isEmpty, "still a member: still held, past both delays")
        var set = ledger.set
        set.remove(leaver.publicKey)
        draft.put(set, at: BookkeeperSet.stateKey)
        draft.commitTransaction()
        BlockEnd.releaseUnbonded(in: &draft, context: late)
        draft.commitTransaction()
        #expect((try draft.account(leaver.publicKey.id)).balance == ledger.balance(leaver) + Self.minimum, "out of the set: paid back")
    }
}
