/// The ledger's state at one height: leaf values by key and the tree that commits to them.
public struct LedgerState: Sendable {
    public private(set) var tree: SparseMerkleTree
    public private(set) var values: [ID: CBOR]
    public private(set) var height: UInt64

    public init() {
        tree = SparseMerkleTree()
        values = [:]
        height = 0
    }

    /// Reassembles a state from stored leaf values (checked against `expectedRoot` by the caller).
    public init(values: [ID: CBOR], height: UInt64) {
        self.values = values
        self.height = height
        tree = SparseMerkleTree().updating(values.map { ($0.key, SHA256.hash(CBOREncoder.encode($0.value))) })
    }

    public var rootHash: Digest { tree.rootHash }

    public func value(_ key: ID) -> CBOR? { values[key] }

    public func record<R: StateRecord>(_ type: R.Type, at key: ID) -> R? {
        values[key].flatMap { try? R(cbor: $0) }
    }

    public var parameters: ChainParameters? { record(ChainParameters.self, at: ChainParameters.stateKey) }
    public var bookkeepers: BookkeeperSet? { record(BookkeeperSet.self, at: BookkeeperSet.stateKey) }

    /// Applies a block's changes (nil deletes) and moves to `height`. `created` receives the new tree
    /// nodes for the store.
    public mutating func commit(_ changes: [ID: CBOR?], height: UInt64, created: inout [TreeNode]) {
        var updates: [SparseMerkleTree.Update] = []
        updates.reserveCapacity(changes.count)
        for (key, value) in changes {
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
    }
}
