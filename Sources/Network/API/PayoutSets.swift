import Ledger
import Storage

/// The two bookkeeper sets a stored block's payout depends on (`MiningReward.payout`): the one that
/// certified the block before it (the state after block h − 2) and the one it starts with (after h − 1),
/// read from the store and kept for the next block asked about (sets change rarely).
struct PayoutSets {
    let store: LedgerStore
    private var cache: [UInt64: BookkeeperSet] = [:]

    init(store: LedgerStore) { self.store = store }

    mutating func forBlock(_ height: UInt64) throws(StoreError) -> (certifiedBy: BookkeeperSet, starting: BookkeeperSet)? {
        guard height > 0, let starting = try set(after: height - 1), let certifiedBy = try set(after: height >= 2 ? height - 2 : 0) else { return nil }
        return (certifiedBy, starting)
    }

    private mutating func set(after height: UInt64) throws(StoreError) -> BookkeeperSet? {
        if let known = cache[height] { return known }
        guard let value = try store.value(BookkeeperSet.stateKey, atHeight: height), let set = try? BookkeeperSet(cbor: value) else { return nil }
        cache[height] = set
        return set
    }
}
