import Credit
import Testing
@testable import Ledger

@Suite struct ChainTests {
    /// A valid block 1 and the chain it extends.
    func validBlock() throws -> (TestChain, Block) {
        var chain = TestChain()
        let signed = chain.transaction(TransferRule.type, TransferRule.body(to: testKey(2).publicKey.id, amount: 5), [testKey(1), testKey(2)])
        let base = chain
        let block = try chain.apply(signed)
        return (base, block)
    }

    func rejects(_ base: TestChain, _ block: Block) -> Bool {
        (try? Chain.apply(block, after: base.header, state: base.state, machine: base.machine)) == nil
    }

    @Test func validBlockApplies() throws {
        let (base, block) = try validBlock()
        #expect(!rejects(base, block))
    }

    @Test func tamperedBlocksAreRejected() throws {
        let (base, block) = try validBlock()
        let key = base.bookkeeper
        func resealed(_ change: (inout BlockHeader) -> Void) -> Block {
            var copy = block
            change(&copy.header)
            return copy.certified(by: [key])
        }
        #expect(rejects(base, resealed { $0.stateRoot = SHA256.hash([1]) }))
        #expect(rejects(base, resealed { $0.transactionRoot = SHA256.hash([1]) }))
        #expect(rejects(base, resealed { $0.height = 2 }))
        #expect(rejects(base, resealed { $0.previous = SHA256.hash([1]) }))
        #expect(rejects(base, resealed { $0.pulse = 0 }))
        #expect(rejects(base, resealed { $0.chain = "other" }))
        #expect(rejects(base, resealed { $0.proposer = testKey(9).publicKey.id }))
        #expect(rejects(base, resealed { $0.bookkeepers = SHA256.hash([1]) }))
        #expect(rejects(base, resealed { $0.nextBookkeepers = SHA256.hash([1]) }))
        #expect(rejects(base, resealed { $0.lastCommit = SHA256.hash([1]) }))
        // Certified by a stranger, with no precommits, or with none at all.
        #expect(rejects(base, block.certified(by: [testKey(9)])))
        var empty = block
        empty.commit?.signers = []
        #expect(rejects(base, empty))
        var uncertified = block
        uncertified.commit = nil
        #expect(rejects(base, uncertified))
        // The same precommit twice does not count twice (here: a set of one, so the block still applies;
        // the duplicate itself is refused).
        var doubled = block
        doubled.commit?.signers += block.commit?.signers ?? []
        #expect(rejects(base, doubled))
        // A certificate for another height or block.
        var otherHeight = block
        otherHeight.commit?.height = 7
        #expect(rejects(base, otherHeight))
        // A precommit moved onto a changed header does not verify.
        var moved = block
        moved.header.timeMillis += 1
        #expect(rejects(base, moved))
    }

    /// Mining rewards are the one way units are created: exactly the parameter per block, to the bookkeepers.
    @Test func miningRewardsMintExactlyThePerBlockAmount() throws {
        var genesis = Genesis.development(chainID: "mine", timeMillis: 0, bookkeeper: testKey(0).publicKey, balances: [(testKey(1).publicKey.id, 1000)])
        genesis.parameters.miningRewardPerBlock = 64
        var (state, block) = try genesis.build()
        var header = block.header
        var lastCommit: CommitCertificate?
        let machine = StateMachine(rules: LedgerRules.all)
        for nonce in 0..<3 {
            let tx = SignedTransaction(transaction: Transaction(chain: "mine", type: TransferRule.type, signers: [testKey(1).publicKey, testKey(2).publicKey], nonce: UInt64(nonce),
                                                                expiry: .max, body: TransferRule.body(to: testKey(2).publicKey.id, amount: 1)), keys: [testKey(1), testKey(2)])
            let proposal = try #require(Chain.propose([tx], after: header, lastCommit: lastCommit, state: state, machine: machine,
                                                      timeMillis: (header.pulse + 1) * 1000, proposer: testKey(0).publicKey.id))
            let sealed = proposal.block.certified(by: [testKey(0)])
            state = try Chain.apply(sealed, after: header, state: state, machine: machine).state
            header = sealed.header
            lastCommit = sealed.commit
        }
        let total = state.values.values.compactMap { try? Account(cbor: $0) }.reduce(UInt64(0)) { $0 + $1.balance }
        #expect(total == 1000 + 3 * 64)
        #expect(state.record(Account.self, at: testKey(0).publicKey.id)?.balance == 3 * 64)
    }

    @Test func emptyBlocksAreNotMade() {
        let chain = TestChain()
        #expect(Chain.propose([], after: chain.header, lastCommit: nil, state: chain.state, machine: chain.machine, timeMillis: 2_000_000, proposer: chain.bookkeeper.publicKey.id) == nil)
    }

    @Test func quorumIsMoreThanTwoThirdsOfThePower() {
        let keys = (1...4).map { testKey($0).publicKey }
        let one = BookkeeperSet(keys: Array(keys.prefix(1))), three = BookkeeperSet(keys: Array(keys.prefix(3))), four = BookkeeperSet(keys: keys)
        #expect(one.isQuorum(1) && !one.isQuorum(0))
        #expect(three.isQuorum(3) && !three.isQuorum(2))
        #expect(four.isQuorum(3) && !four.isQuorum(2))
        #expect(four.exceedsOneThird(2) && !four.exceedsOneThird(1))
        #expect(three.exceedsOneThird(2) && !three.exceedsOneThird(1))
    }

    @Test func transactionRootFollowsRFC6962() {
        let ids = (0..<3).map { SHA256.hash([UInt8($0)]) }
        let leaf = { (d: Digest) in SHA256.hash([0] + d.bytes) }
        let node = { (l: Digest, r: Digest) in SHA256.hash([1] + l.bytes + r.bytes) }
        #expect(TransactionRoot.compute(ids) == node(node(leaf(ids[0]), leaf(ids[1])), leaf(ids[2])))
        #expect(TransactionRoot.compute([]) == .zero)
    }

    @Test func genesisValidation() throws {
        let good = Genesis.development(chainID: "c", timeMillis: 0, bookkeeper: testKey(0).publicKey, balances: [(testKey(1).publicKey.id, 5)])
        #expect(throws: Never.self) { try good.build() }
        var bad = good
        bad.bookkeepers = ["00"]
        #expect(throws: Genesis.Invalid.self) { try bad.build() }
        bad = good
        bad.balances[0].account = "ld1notanid"
        #expect(throws: Genesis.Invalid.self) { try bad.build() }
        bad = good
        bad.balances.append(bad.balances[0])
        #expect(throws: Genesis.Invalid.self) { try bad.build() }
        bad = good
        bad.parameters.pulseMillis = 0
        #expect(throws: Genesis.Invalid.self) { try bad.build() }
        let decoded = try Genesis.decode(json: good.encodeJSON())
        #expect(decoded == good)
        #expect(throws: (any Error).self) { try Genesis.decode(json: Array("{\"chain_id\": 5}".utf8).withUnsafeBytes { Data($0) }) }
    }

    @Test func unitsDisplayAndParse() {
        #expect(Units.display(512) == "512 B")
        #expect(Units.display(1536) == "1.50 KiB")
        #expect(Units.display(10 << 30) == "10.00 GiB")
        #expect(Units.parse("10GiB") == 10 << 30)
        #expect(Units.parse("1.5 MiB") == 3 << 19)
        #expect(Units.parse("1024") == 1024)
        #expect(Units.parse("-1") == nil && Units.parse("abc") == nil && Units.parse("99999999999EiB") == nil)
    }
}

import Foundation

/// Part 4 of the consensus issue: every transaction pays a fee per byte, shared with the mining reward
/// among the bookkeepers who signed the previous block's certificate.
@Suite struct FeeTests {
    static func chain(fee: UInt64, reward: UInt64 = 0, development: Bool? = true) throws -> (LedgerState, Block) {
        var genesis = Genesis.development(chainID: "fees", timeMillis: 0, bookkeeper: testKey(0).publicKey,
                                          balances: [(testKey(1).publicKey.id, 1_000_000), (testKey(3).publicKey.id, 10)])
        genesis.bookkeepers.append(testKey(7).publicKey.hex)
        genesis.parameters.feePerByte = fee
        genesis.parameters.miningRewardPerBlock = reward
        genesis.development = development
        return try genesis.build()
    }

    static func transfer(_ from: SecretKey, nonce: UInt64 = 0, amount: UInt64 = 5) -> SignedTransaction {
        SignedTransaction(transaction: Transaction(chain: "fees", type: TransferRule.type, signers: [from.publicKey, testKey(2).publicKey], nonce: nonce,
                                                   expiry: .max, body: TransferRule.body(to: testKey(2).publicKey.id, amount: amount)), keys: [from, testKey(2)])
    }

    @Test func aChainThatIsNotForDevelopmentMustChargeFees() throws {
        #expect(throws: Genesis.Invalid.self) { try Self.chain(fee: 0, development: nil) }
        #expect(throws: Genesis.Invalid.self) { try Self.chain(fee: 0, development: false) }
        _ = try Self.chain(fee: 1, development: nil)
        _ = try Self.chain(fee: 0, development: true)
    }

    @Test func feesArePaidByTheOriginAndSharedByTheSigners() throws {
        let machine = StateMachine(rules: LedgerRules.all)
        var (state, genesisBlock) = try Self.chain(fee: 3, reward: 100)
        var header = genesisBlock.header
        var lastCommit: CommitCertificate?
        var total: UInt64 = 0
        for nonce in 0..<2 {
            let tx = Self.transfer(testKey(1), nonce: UInt64(nonce))
            let made = try #require(Chain.propose([tx], after: header, lastCommit: lastCommit, state: state, machine: machine,
                                                  timeMillis: (header.pulse + 1) * 1000, proposer: testKey(0).publicKey.id))
            let block = made.block.certified(by: [testKey(0), testKey(7)])
            state = try Chain.apply(block, after: header, state: state, machine: machine).state
            header = block.header
            lastCommit = block.commit
            total += 3 * UInt64(tx.encoded.count)
        }
        let fee = 3 * UInt64(Self.transfer(testKey(1)).encoded.count)
        #expect(state.record(Account.self, at: testKey(1).publicKey.id)?.balance == 1_000_000 - 10 - 2 * fee)
        // Block 1 paid all to its proposer (no previous certificate); block 2 split by power between the two signers.
        let bookkeepers = [testKey(0), testKey(7)].map { state.record(Account.self, at: $0.publicKey.id)?.balance ?? 0 }
        #expect(bookkeepers.reduce(0, +) == 2 * 100 + total, "units are conserved: minted plus fees")
        #expect(bookkeepers[1] == (100 + fee) / 2)
        let units = state.values.values.compactMap { try? Account(cbor: $0) }.reduce(UInt64(0)) { $0 + $1.balance }
        #expect(units == 1_000_010 + 200, "only the reward creates units; fees move them")
    }

    @Test func aSpammerWhoCannotPayTheFeeIsRefusedAndPaysNothing() throws {
        let machine = StateMachine(rules: LedgerRules.all)
        let (state, genesisBlock) = try Self.chain(fee: 1)
        var draft = StateDraft(base: state)
        let context = BlockContext(chain: "fees", height: 1, pulse: 1, previousHash: genesisBlock.hash)
        #expect(throws: Rejection.self) { try machine.apply(Self.transfer(testKey(3), amount: 1), to: &draft, context: context) }
        #expect(draft.changes.isEmpty && draft.fees == 0, "a refused transaction pays no fee and changes nothing")
    }
}
