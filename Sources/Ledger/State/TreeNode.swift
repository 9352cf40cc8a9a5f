/// One node of the state tree. Nodes are immutable and shared between versions, so keeping an old
/// version costs only the nodes that changed since (specs/state-tree.md).
///
/// Leaf and branch share one class with plain stored fields rather than an enum payload: the update
/// loop reads them millions of times, and field loads avoid the copies and reference-count traffic of
/// matching an enum that holds class references.
public final class TreeNode: Sendable {
    public enum Kind: Sendable {
        case leaf(key: ID, valueHash: Digest)
        /// A nil child is an empty subtree. A branch always holds at least two leaves beneath it.
        case branch(left: TreeNode?, right: TreeNode?)
    }

    public static let leafPrefix: UInt8 = 0x00
    public static let branchPrefix: UInt8 = 0x01
    public static let leafEncodedBytes = 1 + ID.byteCount + Digest.byteCount  // 53
    public static let branchEncodedBytes = 1 + 2 * Digest.byteCount  // 65

    public let hash: Digest
    public let isLeaf: Bool
    /// Leaves only.
    public let key: ID
    public let valueHash: Digest
    /// Branches only.
    public let left: TreeNode?
    public let right: TreeNode?

    public init(leaf key: ID, valueHash: Digest) {
        self.isLeaf = true
        self.key = key
        self.valueHash = valueHash
        self.left = nil
        self.right = nil
        self.hash = TreeNode.leafHash(key: key, valueHash: valueHash)
    }

    public init(left: TreeNode?, right: TreeNode?) {
        self.isLeaf = false
        self.key = .zero
        self.valueHash = .zero
        self.left = left
        self.right = right
        self.hash = TreeNode.branchHash(left: left?.hash ?? .zero, right: right?.hash ?? .zero)
    }

    public var kind: Kind { isLeaf ? .leaf(key: key, valueHash: valueHash) : .branch(left: left, right: right) }

    /// SHA256(0x00 || key || valueHash).
    public static func leafHash(key: ID, valueHash: Digest) -> Digest {
        withUnsafeTemporaryAllocation(byteCount: leafEncodedBytes, alignment: 8) { buffer in
            buffer[0] = leafPrefix
            Swift.withUnsafeBytes(of: key.storage) { buffer.baseAddress!.advanced(by: 1).copyMemory(from: $0.baseAddress!, byteCount: ID.byteCount) }
            valueHash.withUnsafeBytes { buffer.baseAddress!.advanced(by: 1 + ID.byteCount).copyMemory(from: $0.baseAddress!, byteCount: 32) }
            return SHA256.hash(UnsafeRawBufferPointer(buffer))
        }
    }

    /// SHA256(0x01 || left || right), with the zero digest standing for an empty subtree.
    public static func branchHash(left: Digest, right: Digest) -> Digest {
        withUnsafeTemporaryAllocation(byteCount: branchEncodedBytes, alignment: 8) { buffer in
            buffer[0] = branchPrefix
            left.withUnsafeBytes { buffer.baseAddress!.advanced(by: 1).copyMemory(from: $0.baseAddress!, byteCount: 32) }
            right.withUnsafeBytes { buffer.baseAddress!.advanced(by: 33).copyMemory(from: $0.baseAddress!, byteCount: 32) }
            return SHA256.hash(UnsafeRawBufferPointer(buffer))
        }
    }

    /// The stored form of a node is exactly its hash preimage, so a store keyed by hash is self-checking.
    public var encoded: [UInt8] {
        isLeaf
            ? [TreeNode.leafPrefix] + key.bytes + valueHash.bytes
            : [TreeNode.branchPrefix] + (left?.hash ?? .zero).bytes + (right?.hash ?? .zero).bytes
    }
}

/// A node as read back from storage: children by hash.
public enum StoredTreeNode: Sendable, Equatable {
    case leaf(key: ID, valueHash: Digest)
    case branch(left: Digest, right: Digest)

    public init?(encoded: [UInt8]) {
        if encoded.count == TreeNode.leafEncodedBytes, encoded[0] == TreeNode.leafPrefix {
            self = .leaf(key: ID(bytes: encoded[1..<21])!, valueHash: Digest(bytes: encoded[21..<53])!)
        } else if encoded.count == TreeNode.branchEncodedBytes, encoded[0] == TreeNode.branchPrefix {
            self = .branch(left: Digest(bytes: encoded[1..<33])!, right: Digest(bytes: encoded[33..<65])!)
        } else {
            return nil
        }
    }
}
