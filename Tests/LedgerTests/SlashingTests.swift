import Credit
import Testing
@testable import Ledger

/// Evidence in blocks: an equivocating bookkeeper is excluded by the block that proves it, and the chain
/// goes on with the smaller set (the next block's previous certificate checked against the old one).
@Suite struct SlashingTests {
    static let keys = (0..<4).map { testKey(740 + $0) }
    static let machine = StateMachine(rules: LedgerRules.all)

    static func genesis() throws -> (LedgerState, Block) {
        var genesis = Genesis.development(chainID: "slash", timeMillis: 0, bookkeeper: keys[0].publicKey, balances: [(testKey(1).publicKey.id, 1_000_000)])
        genesis.bookkeepers = keys.map(\.publicKey.hex)
        genesis.parameters.miningRewardPerBlock = 90
        return try genesis.build()
    }

    static func evidence(_ key: SecretKey, height: UInt64 = 1, chain: String = "slash") -> Equivocation {
        let a = ConsensusVote(kind: .prevote, chain: chain, height: height, round: 0, block: SHA256.hash([1]), timeMillis: 5, key: key)
        let b = ConsensusVote(kind: .prevote, chain: chain, height: height, round: 0, block: nil, timeMillis: 5, key: key)
        return Equivocation(a, b)!
    }

    static func transfer(_ nonce: UInt64) -> SignedTransaction {
        SignedTransaction(transaction: Transaction(chain: "slash", type: TransferRule.type, signers: [testKey(1).publicKey, testKey(2).publicKey], nonce: nonce,
                                                   expiry: .max, body: TransferRule.body(to: testKey(2).publicKey.id, amount: 1)), keys: [testKey(1), testKey(2)])
    }

    struct Chain_ {
        var state: LedgerState
        var header: BlockHeader
        var lastCommit: CommitCertificate?
        var nonce: UInt64 = 0

        /// Proposes, certifies with `signers` and applies one block.
        mutating func next(evidence: [Equivocation] = [], signers: [SecretKey]) throws -> Block {
            let made = try #require(Chain.propose([SlashingTests.transfer(nonce)], after: header, lastCommit: lastCommit, state: state,
                                                  machine: SlashingTests.machine, timeMillis: (header.pulse + 1) * 1000,
                                                  proposer: signers[0].publicKey.id, evidence: evidence))
            let block = made.block.certified(by: signers)
            state = try Chain.apply(block, after: header, state: state, machine: SlashingTests.machine).state
            header = block.header
            lastCommit = block.commit
            nonce += 1
            return block
        }
    }

    @Test func anEquivocatorIsExcludedAndTheChainGoesOnWithoutIt() throws {
        let (state, block) = try Self.genesis()
        var chain = Chain_(state: state, header: block.header)
        _ = try chain.next(signers: Self.keys)
        let proof = Self.evidence(Self.keys[3])
        let slashing = try chain.next(evidence: [proof], signers: Self.keys)
        #expect(slashing.evidence == [proof] && slashing.header.evidenceRoot != .zero)
        #expect(slashing.header.nextBookkeepers != slashing.header.bookkeepers, "the header hands over to the smaller set")
        #expect(chain.state.bookkeepers?.keys == Self.keys.prefix(3).map(\.publicKey))
        #expect(chain.state.record(SlashingHistory.self, at: SlashingHistory.stateKey)?.entries.first?.voter == Self.keys[3].publicKey)
        // The next block carries a certificate of the old set (all four signed the slashing block); the
        // excluded key gets no share of the reward it carries.
        let before = chain.state.record(Account.self, at: Self.keys[3].publicKey.id)?.balance ?? 0
        let after = try chain.next(signers: Array(Self.keys.prefix(3)))
        #expect(after.lastCommit?.signers.count == 4)
        #expect((chain.state.record(Account.self, at: Self.keys[3].publicKey.id)?.balance ?? 0) == before)
        // And one more: the kept old set is gone, the three certify alone.
        _ = try chain.next(signers: Array(Self.keys.prefix(3)))
        #expect(chain.state.record(PreviousBookkeepers.self, at: PreviousBookkeepers.stateKey) == nil)
        // The excluded key can no longer certify anything.
        var forged = try chain.next(signers: Array(Self.keys.prefix(3)))
        forged = forged.certified(by: [Self.keys[3], Self.keys[1], Self.keys[2]])
        #expect(throws: Rejection.self) { try forged.commit?.verify(chain: "slash", height: forged.height, block: forged.hash, bookkeepers: chain.state.bookkeepers!) }
    }

    @Test func evidenceThatProvesNothingIsRefused() throws {
        let (state, block) = try Self.genesis()
        var chain = Chain_(state: state, header: block.header)
        _ = try chain.next(signers: Self.keys)
        var draft = StateDraft(base: chain.state)
        let stranger = Self.evidence(testKey(799))
        #expect(throws: Rejection.self) { try Slashing.apply([stranger], to: &draft, context: BlockContext(chain: "slash", height: 2, pulse: 2)) }
        #expect(throws: Rejection.self) { try Slashing.apply([Self.evidence(Self.keys[1], chain: "other")], to: &draft, context: BlockContext(chain: "slash", height: 2, pulse: 2)) }
        #expect(throws: Rejection.self) { try Slashing.apply([Self.evidence(Self.keys[1], height: 2)], to: &draft, context: BlockContext(chain: "slash", height: 2, pulse: 2)) }
        #expect(throws: Rejection.self) { try Slashing.apply([Self.evidence(Self.keys[1], height: 1)], to: &draft, context: BlockContext(chain: "slash", height: 200, pulse: 200)) }
        // A frame-up: the second vote's signature moved onto another value.
        var framed = Self.evidence(Self.keys[1])
        framed.second.timeMillis = 6
        #expect(throws: Rejection.self) { try Slashing.apply([framed], to: &draft, context: BlockContext(chain: "slash", height: 2, pulse: 2)) }
        // The same bookkeeper twice in one block, and a block whose evidence root lies.
        #expect(throws: Rejection.self) { try Slashing.apply([Self.evidence(Self.keys[1]), Self.evidence(Self.keys[1], height: 0)], to: &draft, context: BlockContext(chain: "slash", height: 2, pulse: 2)) }
        #expect(draft.changes.isEmpty, "refused evidence changes nothing")
        let made = try #require(Chain.propose([Self.transfer(1)], after: chain.header, lastCommit: chain.lastCommit, state: chain.state, machine: Self.machine,
                                              timeMillis: (chain.header.pulse + 1) * 1000, proposer: Self.keys[0].publicKey.id))
        var lying = made.block
        lying.evidence = [Self.evidence(Self.keys[2])]
        #expect(throws: Rejection.self) { try Chain.apply(lying.certified(by: Self.keys), after: chain.header, state: chain.state, machine: Self.machine) }
        // The proposer leaves out evidence that does not apply rather than fail its block.
        let offered = try #require(Chain.propose([Self.transfer(1)], after: chain.header, lastCommit: chain.lastCommit, state: chain.state, machine: Self.machine,
                                                 timeMillis: (chain.header.pulse + 1) * 1000, proposer: Self.keys[0].publicKey.id,
                                                 evidence: [stranger, Self.evidence(Self.keys[2])]))
        #expect(offered.block.evidence == [Self.evidence(Self.keys[2])])
    }
}
