

/// Moving bandwidth units between balances, and into and out of the deposits and escrows that credit
/// records hold. Every unit is always somewhere: in a balance or held by a record, so the total of
/// balances and holdings never changes (the property tests check it).
public enum Holdings {
    /// Pays from one balance to another.
    public static func pay(_ amount: UInt64, from payer: ID, to payee: ID, in draft: inout StateDraft) throws(Rejection) {
        try withdraw(amount, from: payer, in: &draft)
        try deposit(amount, to: payee, in: &draft)
    }

    /// Takes units out of a balance (into a record's holding).
    public static func withdraw(_ amount: UInt64, from account: ID, in draft: inout StateDraft) throws(Rejection) {
        // Moving nothing writes nothing (an untouched account must not appear as a change).
        guard amount > 0 else { return }
        var record = try draft.account(account)
        guard record.balance >= amount else {
            throw Rejection(.insufficientBalance, "\(account) has \(record.balance), needs \(amount)")
        }
        record.balance -= amount
        draft.putAccount(record, at: account)
    }

    /// Puts units into a balance (out of a record's holding).
    public static func deposit(_ amount: UInt64, to account: ID, in draft: inout StateDraft) throws(Rejection) {
        guard amount > 0 else { return }
        var record = try draft.account(account)
        record.balance = try record.balance.adding(amount, what: "balance")
        draft.putAccount(record, at: account)
    }
}
