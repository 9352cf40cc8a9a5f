/// RFC 6962 (RFC 9162) Merkle tree over a list of leaf hashes: the root, the audit path of one leaf,
/// and the check of such a path. Used for transaction roots and for storage segments.
/// Leaf hash = SHA256(0x00 || data), node = SHA256(0x01 || left || right); the root of nothing is zero.
public enum MerkleList {
    public static func leafHash(_ data: [UInt8]) -> Digest { SHA256.hash([0x00] + data) }

    static func nodeHash(_ left: Digest, _ right: Digest) -> Digest { SHA256.hash([0x01] + left.bytes + right.bytes) }

    /// The largest power of two below `n` (n ≥ 2).
    static func split(_ n: Int) -> Int {
        var k = 1
        while k * 2 < n { k *= 2 }
        return k
    }

    public static func root(_ leaves: [Digest]) -> Digest { leaves.isEmpty ? .zero : root(leaves[...]) }

    static func root(_ leaves: ArraySlice<Digest>) -> Digest {
        if leaves.count == 1 { return leaves.first! }
        let middle = leaves.startIndex + split(leaves.count)
        return nodeHash(root(leaves[..<middle]), root(leaves[middle...]))
    }

    /// The audit path of leaf `index`, nearest sibling first.
    public static func path(_ index: Int, _ leaves: [Digest]) -> [Digest] { path(index, leaves[...]) }

    static func path(_ index: Int, _ leaves: ArraySlice<Digest>) -> [Digest] {
        guard leaves.count > 1 else { return [] }
        let k = split(leaves.count), middle = leaves.startIndex + k
        if index < k { return path(index, leaves[..<middle]) + [root(leaves[middle...])] }
        return path(index - k, leaves[middle...]) + [root(leaves[..<middle])]
    }

    /// RFC 9162 §2.1.3.2: does `path` lead from leaf `index` of `count` leaves to `root`?
    public static func verify(leaf: Digest, index: Int, count: Int, path: [Digest], root: Digest) -> Bool {
        guard index >= 0, index < count else { return false }
        var fn = index, sn = count - 1
        var hash = leaf
        for sibling in path {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                hash = nodeHash(sibling, hash)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                hash = nodeHash(hash, sibling)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && hash == root
    }
}
