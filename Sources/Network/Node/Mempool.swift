import Ledger

/// Transactions waiting for the next block, in arrival order, already checked against the state
/// with every earlier pending transaction applied (so nonces line up).
struct Mempool {
    static let countMax = 10_000

    private(set) var transactions: [SignedTransaction] = []
    /// Each pending transaction's signatures, by ID.
    private var ids: [Digest: [Signature]] = [:]

    var count: Int { transactions.count }
    var isEmpty: Bool { transactions.isEmpty }

    func contains(_ id: Digest) -> Bool { ids[id] != nil }

    /// Whether this very transaction, signatures and all, is pending (so its signatures were verified).
    func holds(_ signed: SignedTransaction) -> Bool { ids[signed.id] == signed.signatures }

    mutating func add(_ signed: SignedTransaction) {
        transactions.append(signed)
        ids[signed.id] = signed.signatures
    }

    /// Removes everything in `included` and returns what is left, for re-checking on the new state.
    mutating func removeAll() -> [SignedTransaction] {
        defer {
            transactions.removeAll()
            ids.removeAll()
        }
        return transactions
    }
}
