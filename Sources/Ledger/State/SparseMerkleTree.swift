/// A sparse Merkle tree over the 160-bit key space, GongShi's state tree.
///
/// Conceptually a complete binary tree of depth 160 where the path to a key is its bits, most
/// significant first. Two rules keep it small: an empty subtree hashes to the zero digest, and a
/// subtree holding exactly one leaf is replaced by that leaf (single-child paths compressed). The
/// result is unique for a given set of leaves, so its root hash commits to the whole state.
///
/// The tree is a value: `updating` returns a new version that shares unchanged nodes with this one.
///
/// ```swift
/// let tree = SparseMerkleTree().updating([(key, SHA256.hash(value))])
/// let proof = tree.proof(for: key)
/// try proof.verify(root: tree.rootHash)  // .present(valueHash)
/// ```
public struct SparseMerkleTree: Sendable {
    public typealias Update = (key: ID, valueHash: Digest?)

    public let root: TreeNode?

    public init(root: TreeNode? = nil) { self.root = root }

    public var rootHash: Digest { root?.hash ?? .zero }

    /// Applies a batch of updates (a nil value hash deletes the key). Later updates to the same key
    /// win. `created` receives every node made for the new version, for a store to persist.
    public func updating(_ updates: [Update], created: inout [TreeNode]) -> SparseMerkleTree {
        var unique: [ID: Digest?] = [:]
        unique.reserveCapacity(updates.count)
        for update in updates { unique[update.key] = .some(update.valueHash) }
        let sorted = unique.map { (key: $0.key, valueHash: $0.value) }.sorted { $0.key < $1.key }
        return SparseMerkleTree(root: Self.update(root, depth: 0, sorted[...], created: &created))
    }

    public func updating(_ updates: [Update]) -> SparseMerkleTree {
        var created: [TreeNode] = []
        return updating(updates, created: &created)
    }

    /// The value hash stored under `key`, if any.
    public func valueHash(for key: ID) -> Digest? {
        var node = root
        var depth = 0
        while let current = node {
            switch current.kind {
            case .leaf(let leafKey, let valueHash): return leafKey == key ? valueHash : nil
            case .branch(let left, let right):
                node = key.bit(depth) ? right : left
                depth += 1
            }
        }
        return nil
    }

    /// An inclusion proof if `key` is present, an exclusion proof if not.
    public func proof(for key: ID) -> StateProof {
        var siblings: [Digest] = []
        var node = root
        var depth = 0
        while let current = node, case .branch(let left, let right) = current.kind {
            let goRight = key.bit(depth)
            siblings.append(((goRight ? left : right)?.hash) ?? .zero)
            node = goRight ? right : left
            depth += 1
        }
        let terminal: StateProof.Terminal
        if let node, case .leaf(let leafKey, let valueHash) = node.kind {
            terminal = .leaf(key: leafKey, valueHash: valueHash)
        } else {
            terminal = .empty
        }
        return StateProof(key: key, pathSiblings: siblings, terminal: terminal)
    }

    /// Every leaf, in key order (for rebuilding indexes and for tests).
    public func leaves() -> [(key: ID, valueHash: Digest)] {
        var out: [(key: ID, valueHash: Digest)] = []
        func walk(_ node: TreeNode?) {
            guard let node else { return }
            switch node.kind {
            case .leaf(let key, let valueHash): out.append((key, valueHash))
            case .branch(let left, let right): walk(left); walk(right)
            }
        }
        walk(root)
        return out
    }

    // MARK: - The update algorithm

    private static func update(
        _ node: TreeNode?, depth: Int, _ updates: ArraySlice<Update>, created: inout [TreeNode]
    ) -> TreeNode? {
        guard !updates.isEmpty else { return node }
        guard let node else {
            return build(depth: depth, updates.compactMap { u in u.valueHash.map { (u.key, $0) } }[...], created: &created)
        }
        switch node.kind {
        case .leaf(let key, let valueHash):
            // The existing leaf joins the batch unless the batch replaces or deletes it.
            var entries: [(ID, Digest)] = updates.compactMap { u in u.valueHash.map { (u.key, $0) } }
            if !updates.contains(where: { $0.key == key }) {
                let index = entries.firstIndex { $0.0 > key } ?? entries.endIndex
                entries.insert((key, valueHash), at: index)
            }
            if entries.count == 1, entries[0].0 == key, entries[0].1 == valueHash { return node }
            return build(depth: depth, entries[...], created: &created)
        case .branch(let left, let right):
            let split = partitionIndex(updates, depth: depth) { $0.key }
            let newLeft = update(left, depth: depth + 1, updates[..<split], created: &created)
            let newRight = update(right, depth: depth + 1, updates[split...], created: &created)
            if newLeft === left && newRight === right { return node }
            return makeBranch(newLeft, newRight, created: &created)
        }
    }

    /// Builds the subtree at `depth` for sorted, distinct entries.
    private static func build(depth: Int, _ entries: ArraySlice<(ID, Digest)>, created: inout [TreeNode]) -> TreeNode? {
        switch entries.count {
        case 0: return nil
        case 1:
            let leaf = TreeNode(leaf: entries.first!.0, valueHash: entries.first!.1)
            created.append(leaf)
            return leaf
        default:
            precondition(depth < 160, "distinct keys differ in some bit")
            let split = partitionIndex(entries, depth: depth) { $0.0 }
            let left = build(depth: depth + 1, entries[..<split], created: &created)
            let right = build(depth: depth + 1, entries[split...], created: &created)
            return makeBranch(left, right, created: &created)
        }
    }

    /// A branch with one leaf and nothing else collapses to that leaf; otherwise a new branch.
    private static func makeBranch(_ left: TreeNode?, _ right: TreeNode?, created: inout [TreeNode]) -> TreeNode? {
        switch (left, right) {
        case (nil, nil): return nil
        case (let only?, nil), (nil, let only?):
            if case .leaf = only.kind { return only }
            fallthrough
        default:
            let branch = TreeNode(left: left, right: right)
            created.append(branch)
            return branch
        }
    }

    /// Keys are sorted and share their first `depth` bits, so bit `depth` is 0 for a prefix of them
    /// and 1 for the rest: binary search for the first 1.
    private static func partitionIndex<Item>(_ items: ArraySlice<Item>, depth: Int, key: (Item) -> ID) -> Int {
        var low = items.startIndex, high = items.endIndex
        while low < high {
            let middle = (low + high) / 2
            if key(items[middle]).bit(depth) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
