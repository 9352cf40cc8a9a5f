import Dispatch

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
    public func updating(_ updates: [Update], created: inout [TreeNode], parallel: Bool = true) -> SparseMerkleTree {
        var sink = NodeSink(collects: true)
        let tree = apply(updates, sink: &sink, parallel: parallel)
        created.append(contentsOf: sink.nodes)
        return tree
    }

    private func apply(_ updates: [Update], sink: inout NodeSink, parallel: Bool) -> SparseMerkleTree {
        var entries: [Entry] = []
        entries.reserveCapacity(updates.count)
        for (order, update) in updates.enumerated() {
            entries.append(Entry(key: update.key, valueHash: update.valueHash ?? .zero, present: update.valueHash != nil, order: order))
        }
        // Sorted by key, and for one key by arrival, so that keeping the last of each run keeps the latest.
        entries.sort { $0.key != $1.key ? $0.key < $1.key : $0.order < $1.order }
        var unique: [Entry] = []
        unique.reserveCapacity(entries.count)
        for entry in entries {
            if let last = unique.last, last.key == entry.key { unique[unique.count - 1] = entry } else { unique.append(entry) }
        }
        if parallel, let root, !root.isLeaf, unique.count >= Self.parallelBatchMin {
            return SparseMerkleTree(root: Self.updateHalvesInParallel(root, unique, sink: &sink))
        }
        return SparseMerkleTree(root: Self.update(root, depth: 0, unique[...], sink: &sink))
    }

    /// Below this many updates, splitting the work across threads costs more than it saves.
    static let parallelBatchMin = 2_048

    /// The root's two subtrees share nothing, so their updates run on two threads; the result is the
    /// same tree, hash for hash, as the sequential algorithm gives (a test checks this).
    private static func updateHalvesInParallel(_ root: TreeNode, _ entries: [Entry], sink: inout NodeSink) -> TreeNode? {
        let split = partitionIndex(entries[...], depth: 0)
        let children = UnsafeMutableBufferPointer<TreeNode?>.allocate(capacity: 2)
        let createdByHalf = UnsafeMutableBufferPointer<NodeSink>.allocate(capacity: 2)
        children.initialize(repeating: nil)
        createdByHalf.initialize(repeating: NodeSink(collects: sink.collects))
        defer {
            children.deinitialize()
            children.deallocate()
            createdByHalf.deinitialize()
            createdByHalf.deallocate()
        }
        let halves = ParallelHalves(root: root, entries: entries, split: split, children: children, created: createdByHalf)
        DispatchQueue.concurrentPerform(iterations: 2) { halves.run($0) }
        sink.nodes.append(contentsOf: createdByHalf[0].nodes)
        sink.nodes.append(contentsOf: createdByHalf[1].nodes)
        if children[0] === root.left && children[1] === root.right { return root }
        return makeBranch(children[0], children[1], sink: &sink)
    }

    /// The two halves' inputs and output slots. Each iteration writes only its own slot, so sharing
    /// the buffers between the two threads is free of races.
    private struct ParallelHalves: @unchecked Sendable {
        let root: TreeNode
        let entries: [Entry]
        let split: Int
        let children: UnsafeMutableBufferPointer<TreeNode?>
        let created: UnsafeMutableBufferPointer<NodeSink>

        func run(_ half: Int) {
            let slice = half == 0 ? entries[..<split] : entries[split...]
            children[half] = SparseMerkleTree.update(half == 0 ? root.left : root.right, depth: 1, slice, sink: &created[half])
        }
    }

    /// `parallel: false` keeps the work on the calling thread (large batches otherwise use two).
    public func updating(_ updates: [Update], parallel: Bool = true) -> SparseMerkleTree {
        var sink = NodeSink(collects: false)
        return apply(updates, sink: &sink, parallel: parallel)
    }

    /// Where new nodes go: collected for a store, or dropped when nobody persists them (saving a
    /// retain and an append per node).
    struct NodeSink {
        let collects: Bool
        var nodes: [TreeNode] = []

        mutating func add(_ node: TreeNode) { if collects { nodes.append(node) } }
    }

    /// One update in the batch algorithm: a struct rather than a tuple, so sorting and slicing run as
    /// specialized code.
    struct Entry: Sendable {
        var key: ID
        var valueHash: Digest
        var present: Bool
        var order: Int
    }

    /// The value hash stored under `key`, if any.
    public func valueHash(for key: ID) -> Digest? {
        var node = root
        var depth = 0
        while let current = node {
            if current.isLeaf { return current.key == key ? current.valueHash : nil }
            node = key.bit(depth) ? current.right : current.left
            depth += 1
        }
        return nil
    }

    /// An inclusion proof if `key` is present, an exclusion proof if not.
    public func proof(for key: ID) -> StateProof {
        var siblings: [Digest] = []
        var node = root
        var depth = 0
        while let current = node, !current.isLeaf {
            let goRight = key.bit(depth)
            siblings.append(((goRight ? current.left : current.right)?.hash) ?? .zero)
            node = goRight ? current.right : current.left
            depth += 1
        }
        let terminal: StateProof.Terminal
        if let node {
            terminal = .leaf(key: node.key, valueHash: node.valueHash)
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
            if node.isLeaf { out.append((node.key, node.valueHash)) } else { walk(node.left); walk(node.right) }
        }
        walk(root)
        return out
    }

    // MARK: - The update algorithm

    fileprivate static func update(_ node: TreeNode?, depth: Int, _ updates: ArraySlice<Entry>, sink: inout NodeSink) -> TreeNode? {
        guard !updates.isEmpty else { return node }
        guard let node else {
            return build(depth: depth, updates.filter(\.present)[...], sink: &sink)
        }
        if node.isLeaf {
            // The existing leaf joins the batch unless the batch replaces or deletes it.
            var entries = updates.filter(\.present)
            if !updates.contains(where: { $0.key == node.key }) {
                let index = entries.firstIndex { $0.key > node.key } ?? entries.endIndex
                entries.insert(Entry(key: node.key, valueHash: node.valueHash, present: true, order: 0), at: index)
            }
            if entries.count == 1, entries[0].key == node.key, entries[0].valueHash == node.valueHash { return node }
            return build(depth: depth, entries[...], sink: &sink)
        }
        let split = partitionIndex(updates, depth: depth)
        let left = node.left, right = node.right
        let newLeft = update(left, depth: depth + 1, updates[..<split], sink: &sink)
        let newRight = update(right, depth: depth + 1, updates[split...], sink: &sink)
        if newLeft === left && newRight === right { return node }
        return makeBranch(newLeft, newRight, sink: &sink)
    }

    /// Builds the subtree at `depth` for sorted, distinct, present entries.
    private static func build(depth: Int, _ entries: ArraySlice<Entry>, sink: inout NodeSink) -> TreeNode? {
        switch entries.count {
        case 0: return nil
        case 1:
            let leaf = TreeNode(leaf: entries.first!.key, valueHash: entries.first!.valueHash)
            sink.add(leaf)
            return leaf
        default:
            precondition(depth < 160, "distinct keys differ in some bit")
            let split = partitionIndex(entries, depth: depth)
            let left = build(depth: depth + 1, entries[..<split], sink: &sink)
            let right = build(depth: depth + 1, entries[split...], sink: &sink)
            return makeBranch(left, right, sink: &sink)
        }
    }

    /// A branch with one leaf and nothing else collapses to that leaf; otherwise a new branch.
    private static func makeBranch(_ left: TreeNode?, _ right: TreeNode?, sink: inout NodeSink) -> TreeNode? {
        if left == nil, right == nil { return nil }
        if left == nil, let right, right.isLeaf { return right }
        if right == nil, let left, left.isLeaf { return left }
        let branch = TreeNode(left: left, right: right)
        sink.add(branch)
        return branch
    }

    /// Keys are sorted and share their first `depth` bits, so bit `depth` is 0 for a prefix of them
    /// and 1 for the rest: binary search for the first 1.
    private static func partitionIndex(_ items: ArraySlice<Entry>, depth: Int) -> Int {
        var low = items.startIndex, high = items.endIndex
        while low < high {
            let middle = (low + high) / 2
            if items[middle].key.bit(depth) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
