import Credit
import Foundation
import Ledger

/// Deterministic test keys: secret = SHA256("ledgerd test key " + n).
public func testKey(_ n: Int) -> SecretKey {
    try! SecretKey(bytes: SHA256.hash(Array("ledgerd test key \(n)".utf8)).bytes)
}

/// A chain in memory: genesis with funded test keys, a proposer, and helpers to submit transactions
/// one block at a time, through the same `Chain.propose` and `Chain.apply` a node runs.
public struct TestChain {
    public static let chainID = "ledgerd-test"
    public let machine = StateMachine(rules: LedgerRules.all + CreditRules.all)
    public let bookkeeper = testKey(0)
    public var state: LedgerState
    public var header: BlockHeader
    public var nonces: [ID: UInt64] = [:]
    /// The latest block's certificate, which the next block carries.
    public var lastCommit: CommitCertificate?
    /// Pulses to skip before the next block (to let windows and periods pass).
    public var pulseStep: UInt64 = 1

    public init(balances: [(SecretKey, UInt64)] = [(testKey(1), 1_000_000), (testKey(2), 1_000)], publicityWindow: UInt64 = 86_400) {
        var genesis = Genesis.development(chainID: Self.chainID, timeMillis: 1_000_000, bookkeeper: bookkeeper.publicKey,
                                          balances: balances.map { ($0.0.publicKey.id, $0.1) })
        genesis.parameters.publicityWindowPulses = publicityWindow
        let built = try! genesis.build()
        state = built.state
        header = built.block.header
    }

    public var context: BlockContext {
        BlockContext(chain: Self.chainID, height: header.height + 1, pulse: header.pulse + pulseStep, previousHash: header.hash)
    }

    public var pulse: UInt64 { header.pulse }

    public mutating func transaction(_ type: String, _ body: CBOR, _ keys: [SecretKey], nonce: UInt64? = nil, expiry: UInt64 = .max) -> SignedTransaction {
        let origin = keys[0].publicKey.id
        let tx = Transaction(chain: Self.chainID, type: type, signers: keys.map(\.publicKey), nonce: nonce ?? nonces[origin, default: 0],
                             expiry: expiry, body: body)
        return SignedTransaction(transaction: tx, keys: keys)
    }

    /// Applies one transaction in its own block; on success the nonce advances. Throws the rejection.
    @discardableResult
    public mutating func apply(_ signed: SignedTransaction) throws(Rejection) -> Block {
        let time = 1_000_000 + (header.pulse + pulseStep) * 1000
        var draft = StateDraft(base: state)
        try machine.apply(signed, to: &draft, context: context)  // surfaces the rejection, if any
        guard let proposal = Chain.propose([signed], after: header, lastCommit: lastCommit, state: state, machine: machine, timeMillis: time,
                                           proposer: bookkeeper.publicKey.id) else {
            preconditionFailure("propose returned nothing")
        }
        if let (_, rejection) = proposal.rejected.first { throw rejection }
        let block = proposal.block.certified(by: [bookkeeper])
        let applied = try Chain.apply(block, after: header, state: state, machine: machine)
        state = applied.state
        header = block.header
        lastCommit = block.commit
        nonces[signed.transaction.origin, default: 0] += 1
        pulseStep = 1
        return block
    }

    public mutating func submit(_ type: String, _ body: CBOR, _ keys: [SecretKey]) throws(Rejection) {
        try apply(transaction(type, body, keys))
    }

    public func balance(_ key: SecretKey) -> UInt64 { state.record(Account.self, at: key.publicKey.id)?.balance ?? 0 }

    public func record<R: StateRecord>(_ type: R.Type, at key: ID) -> R? { state.record(type, at: key) }

    /// Every record of a kind in the state.
    public func records<R: StateRecord>(_ type: R.Type) -> [R] {
        state.values.values.compactMap { stateRecordKind($0) == R.kind ? try? R(cbor: $0) : nil }
    }
}
