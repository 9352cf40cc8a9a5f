/// `transfer`: move bandwidth units from signer 0 to signer 1. Both sign, as GongShi requires that both
/// parties confirm. Body: `{to: ID, amount: uint}`; `to` must be signer 1's ID.
public enum TransferRule {
    public static let type = "transfer"

    public static func body(to: ID, amount: UInt64) -> CBOR { .map(["to": .id(to), "amount": .unsigned(amount)]) }

    public static let rule = TransactionRule(type: type, signerCount: 2...2) { tx, draft, _ throws(Rejection) in
        let (to, amount) = try tx.decodeBody { fields throws(DecodeError) in (try fields.id("to"), try fields.unsigned("amount")) }
        let from = tx.origin
        guard tx.signers[1].id == to else {
            throw Rejection(.wrongSigners, "the second signer must be the recipient \(to)")
        }
        guard from != to else { throw Rejection(.selfReference, "cannot transfer to the same account") }
        guard amount > 0 else { throw Rejection(.amountNotPositive, "amount must be positive") }
        var payer = try draft.account(from)
        guard payer.balance >= amount else {
            throw Rejection(.insufficientBalance, "balance \(payer.balance) is less than amount \(amount)")
        }
        var payee = try draft.account(to)
        payee.balance = try payee.balance.adding(amount, what: "recipient balance")
        payer.balance -= amount
        draft.putAccount(payer, at: from)
        draft.putAccount(payee, at: to)
    }
}
