/// The ledger's state at one height: leaf values by key and the tree that commits to them.
public struct LedgerState: Sendable {
    public private(set) var tree: SparseMerkleTree
    public private(set) var values: [ID: CBOR]
    public private(set) var height: UInt64
    /// Keys of records that name a `group` (an ID field), by group: an organization's token holders,
    /// a content's contributors. Derived from `values`, so it adds no state; rules read it to
    /// enumerate a group deterministically.
    public private(set) var groups: [ID: Set<ID>] = [:]
    /// The `params` record, decoded once per change (every transaction reads it: its fee).
    public private(set) var parameters: ChainParameters?

    public init() {
        tree = SparseMerkleTree()
        values = [:]
        height = 0
    }

    /// The `group` field of a record, if it has one.
    public static func group(of value: CBOR) -> ID? {
        guard case .map(let map) = value, case .bytes(let bytes)? = map["group"] else { return nil }
        return ID(bytes: bytes)
    }

    /// The keys in a group, in key order.
    public func members(ofGroup group: ID) -> [ID] { (groups[group] ?? []).sorted() }

    /// Reassembles a state from stored leaf values (checked against `expectedRoot` by the caller).
    public init(values: [ID: CBOR], height: UInt64) {
        self.values = values
        self.height = height
        for (key, value) in values {
            if let group = LedgerState.group(of: value) { groups[group, default: []].insert(key) }
        }
        tree = SparseMerkleTree().updating(values.map { ($0.key, SHA256.hash(CBOREncoder.encode($0.value))) })
        parameters = values[ChainParameters.stateKey].flatMap { try? ChainParameters(cbor: $0) }
    }

    public var rootHash: Digest { tree.rootHash }

    public func value(_ key: ID) -> CBOR? { values[key] }

    public func record<R: StateRecord>(_ type: R.Type, at key: ID) -> R? {
        values[key].flatMap { try? R(cbor: $0) }
    }

    public var bookkeepers: BookkeeperSet? { record(BookkeeperSet.self, at: BookkeeperSet.stateKey) }

    /// Applies a block's changes (nil deletes) and moves to `height`. `created` receives the new tree
    /// nodes for the store.
    public mutating func commit(_ changes: [ID: CBOR?], height: UInt64, created: inout [TreeNode]) {
        var updates: [SparseMerkleTree.Update] = []
        updates.reserveCapacity(changes.count)
        for (key, value) in changes {
            if let old = values[key], let group = LedgerState.group(of: old) {
                groups[group]?.remove(key)
                if groups[group]?.isEmpty == true { groups.removeValue(forKey: group) }
            }
            if let value, let group = LedgerState.group(of: value) { groups[group, default: []].insert(key) }
            if let value {
                values[key] = value
                updates.append((key, SHA256.hash(CBOREncoder.encode(value))))
            } else {
                values.removeValue(forKey: key)
                updates.append((key, nil))
            }
        }
        tree = tree.updating(updates, created: &created)
        self.height = height
        if let change = changes[ChainParameters.stateKey] { parameters = change.flatMap { try? ChainParameters(cbor: $0) } }
    }
}
