/// A block's worth of changes on top of a state, with a per-transaction layer that is kept only if the
/// transaction succeeds: a rejected transaction changes nothing.
public struct StateDraft {
    public let base: LedgerState
    public private(set) var changes: [ID: CBOR?] = [:]
    private var pending: [ID: CBOR?] = [:]
    /// Transaction fees paid by the transactions committed so far, for the bookkeepers (MiningReward).
    public private(set) var fees: UInt64 = 0
    private var pendingFees: UInt64 = 0

    /// Records a fee paid inside the current transaction (kept only if the transaction commits).
    mutating func payFee(_ fee: UInt64) { pendingFees &+= fee }

    public init(base: LedgerState) { self.base = base }

    public func value(_ key: ID) -> CBOR? {
        if let change = pending[key] { return change }
        if let change = changes[key] { return change }
        return base.value(key)
    }

    public mutating func set(_ key: ID, _ value: CBOR?) { pending[key] = .some(value) }

    /// The record of type `R` at `key`; nil when the key holds nothing or a record of another kind
    /// (a transaction may name any key: an account's ID where an IOU's is expected is just "no IOU").
    public func record<R: StateRecord>(_ type: R.Type, at key: ID) throws(Rejection) -> R? {
        guard let value = value(key), stateRecordKind(value) == R.kind else { return nil }
        do { return try R(cbor: value) } catch {
            // State is only ever written by rules, so an unreadable record is a bug; but a bug that any
            // transaction could reach must refuse that transaction, not stop every node.
            throw Rejection(.unreadableRecord, "state record at \(key) does not decode as \(R.kind): \(error)")
        }
    }

    /// The chain parameters (a ledger state always has them; a state without them refuses the rule).
    public func parameters() throws(Rejection) -> ChainParameters {
        // Unchanged in this draft (no rule writes them): the base's, decoded once.
        if pending[ChainParameters.stateKey] == nil, changes[ChainParameters.stateKey] == nil, let parameters = base.parameters { return parameters }
        guard let parameters = try record(ChainParameters.self, at: ChainParameters.stateKey) else {
            throw Rejection(.unreadableRecord, "the state has no chain parameters")
        }
        return parameters
    }

    /// How many keys the group holds with this draft's changes: the base's count, corrected by the keys
    /// this block has changed (so the cost is that of the block, not of the group).
    public func groupCount(_ group: ID) -> Int {
        var count = base.groups[group]?.count ?? 0
        for key in Set(changes.keys).union(pending.keys) {
            let before = base.value(key).flatMap(LedgerState.group(of:)) == group
            let after = value(key).flatMap(LedgerState.group(of:)) == group
            if before != after { count += after ? 1 : -1 }
        }
        return count
    }

    public mutating func put<R: StateRecord>(_ record: R, at key: ID) { set(key, record.cbor) }

    public func account(_ id: ID) throws(Rejection) -> Account { try record(Account.self, at: id) ?? Account() }

    /// Stores an account, or removes it when it is back to its default (zero balance, nonce 0).
    public mutating func putAccount(_ account: Account, at id: ID) {
        set(id, account == Account() ? nil : account.cbor)
    }

    mutating func commitTransaction() {
        for (key, value) in pending { changes[key] = value }
        pending.removeAll(keepingCapacity: true)
        fees &+= pendingFees
        pendingFees = 0
    }

    mutating func rollbackTransaction() {
        pending.removeAll(keepingCapacity: true)
        pendingFees = 0
    }
}
