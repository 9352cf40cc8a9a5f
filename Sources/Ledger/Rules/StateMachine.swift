/// The state transition: pure and deterministic, the same on every node. No I/O, no clock, no
/// randomness; everything it needs is in the state, the transaction and the block context.
public struct StateMachine: Sendable {
    public let rules: [String: TransactionRule]

    public init(rules: [TransactionRule]) {
        var table: [String: TransactionRule] = [:]
        for rule in rules {
            precondition(table[rule.type] == nil, "two rules for transaction type \(rule.type)")
            table[rule.type] = rule
        }
        self.rules = table
    }

    public var types: [String] { rules.keys.sorted() }

    /// Checks that need no state: chain, expiry, signer count and signatures.
    public func checkStateless(_ signed: SignedTransaction, context: BlockContext, verifySignatures: Bool = true) throws(Rejection) {
        let tx = signed.transaction
        guard tx.chain.sameBytes(as: context.chain) else {
            throw Rejection(.wrongChain, "transaction is for chain '\(tx.chain)', this node keeps '\(context.chain)'")
        }
        guard tx.expiry >= context.pulse else {
            throw Rejection(.expired, "transaction expired at pulse \(tx.expiry); the chain is at pulse \(context.pulse)")
        }
        // The size bound is a rule of the chain, checked in blocks too, not only where a node admits.
        let size = signed.encoded.count
        guard size <= Transaction.encodedBytesMax else {
            throw Rejection(.tooLarge, "transaction is \(size) bytes encoded with its signatures; the limit is \(Transaction.encodedBytesMax)")
        }
        guard let rule = rules[tx.type] else {
            throw Rejection(.unknownType, "unknown transaction type '\(tx.type)'")
        }
        guard rule.signerCount.contains(tx.signers.count) else {
            throw Rejection(.wrongSigners, "'\(tx.type)' takes \(rule.signerCount.lowerBound)…\(rule.signerCount.upperBound) signers, got \(tx.signers.count)")
        }
        guard signed.signatures.count == tx.signers.count else {
            throw Rejection(.badSignature, "\(tx.signers.count) signers but \(signed.signatures.count) signatures")
        }
        if verifySignatures && !signed.signaturesAreValid() {
            throw Rejection(.badSignature, "a signature does not verify for its signer")
        }
    }

    /// Applies one transaction to the draft, all or nothing.
    public func apply(_ signed: SignedTransaction, to draft: inout StateDraft, context: BlockContext, verifySignatures: Bool = true) throws(Rejection) {
        try checkStateless(signed, context: context, verifySignatures: verifySignatures)
        let tx = signed.transaction
        do throws(Rejection) {
            var origin = try draft.account(tx.origin)
            guard origin.nonce == tx.nonce else {
                throw Rejection(.badNonce, "nonce \(tx.nonce) does not match account nonce \(origin.nonce) (replayed or out of order)")
            }
            origin.nonce += 1
            // The fee: bandwidth bytes per byte of the signed transaction, paid by its origin to the
            // bookkeepers, so that spam costs something (specs/transactions.md §Fees).
            let feePerByte = try draft.parameters().feePerByte
            if feePerByte > 0 {
                let (fee, overflow) = feePerByte.multipliedReportingOverflow(by: UInt64(signed.encoded.count))
                guard !overflow, origin.balance >= fee else {
                    throw Rejection(.insufficientBalance, "balance \(origin.balance) cannot pay the fee of \(feePerByte) per byte for \(signed.encoded.count) bytes")
                }
                origin.balance -= fee
                draft.payFee(fee)
            }
            draft.putAccount(origin, at: tx.origin)
            try rules[tx.type]?.apply(tx, &draft, context)
        } catch {
            draft.rollbackTransaction()
            throw error
        }
        draft.commitTransaction()
    }

    /// Applies transactions in order, keeping those that succeed (what a proposer does).
    public func applyAccepting(_ transactions: [SignedTransaction], to state: LedgerState, context: BlockContext, verifySignatures: Bool = true)
        -> (draft: StateDraft, accepted: [SignedTransaction], rejected: [(SignedTransaction, Rejection)])
    {
        var draft = StateDraft(base: state)
        var accepted: [SignedTransaction] = []
        var rejected: [(SignedTransaction, Rejection)] = []
        for signed in transactions {
            do {
                try apply(signed, to: &draft, context: context, verifySignatures: verifySignatures)
                accepted.append(signed)
            } catch {
                rejected.append((signed, error))
            }
        }
        return (draft, accepted, rejected)
    }
}

/// Checked arithmetic for amounts: the ledger never wraps.
extension UInt64 {
    public func adding(_ other: UInt64, what: String) throws(Rejection) -> UInt64 {
        let (sum, overflow) = addingReportingOverflow(other)
        guard !overflow else { throw Rejection(.overflow, "\(what) would exceed 2^64-1") }
        return sum
    }
}
