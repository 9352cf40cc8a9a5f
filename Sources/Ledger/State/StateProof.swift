/// A proof that a key holds a value, or holds none, in the state tree with a given root.
///
/// `bitmap` has one bit per level on the path (most significant bit of byte 0 first); a set bit means
/// that level's sibling is non-empty and is the next entry of `siblings`. Empty siblings are left out,
/// which keeps proofs near log2(N) × 32 bytes. specs/state-tree.md gives the format and vectors.
public struct StateProof: CBORCodable, Sendable, Equatable {
    public static let depthMax = 160

    public enum Terminal: Sendable, Equatable {
        /// The path ends in an empty subtree.
        case empty
        /// The path ends in a leaf; if its key differs from the proven key, the key is absent.
        case leaf(key: ID, valueHash: Digest)
    }

    public enum Outcome: Sendable, Equatable {
        case present(valueHash: Digest)
        case absent
    }

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public let key: ID
    public let depth: Int
    public let bitmap: [UInt8]
    public let siblings: [Digest]
    public let terminal: Terminal

    /// Builds from the full list of siblings along the path (zero for empty), root first.
    public init(key: ID, pathSiblings: [Digest], terminal: Terminal) {
        self.key = key
        self.depth = pathSiblings.count
        var bitmap = [UInt8](repeating: 0, count: (pathSiblings.count + 7) / 8)
        var siblings: [Digest] = []
        for (level, sibling) in pathSiblings.enumerated() where sibling != .zero {
            bitmap[level / 8] |= 0x80 >> UInt8(level % 8)
            siblings.append(sibling)
        }
        self.bitmap = bitmap
        self.siblings = siblings
        self.terminal = terminal
    }

    /// Checks the proof against a root hash (from a block header) and says what it proves.
    public func verify(root: Digest) throws(Invalid) -> Outcome {
        guard depth <= StateProof.depthMax, bitmap.count == (depth + 7) / 8 else {
            throw Invalid(description: "proof depth and bitmap length disagree")
        }
        let setBits = (0..<depth).filter { bitmap[$0 / 8] & (0x80 >> UInt8($0 % 8)) != 0 }
        guard setBits.count == siblings.count else {
            throw Invalid(description: "proof bitmap names \(setBits.count) siblings but carries \(siblings.count)")
        }
        var current: Digest
        let outcome: Outcome
        switch terminal {
        case .empty:
            current = .zero
            outcome = .absent
        case .leaf(let leafKey, let valueHash):
            current = TreeNode.leafHash(key: leafKey, valueHash: valueHash)
            if leafKey == key {
                outcome = .present(valueHash: valueHash)
            } else {
                // Another key's leaf proves absence only if it sits on this key's path.
                for level in 0..<depth where leafKey.bit(level) != key.bit(level) {
                    throw Invalid(description: "the leaf in the proof is not on the proven key's path")
                }
                outcome = .absent
            }
        }
        var remaining = siblings[...]
        for level in stride(from: depth - 1, through: 0, by: -1) {
            let hasSibling = bitmap[level / 8] & (0x80 >> UInt8(level % 8)) != 0
            let sibling = hasSibling ? remaining.popLast()! : Digest.zero
            current = key.bit(level)
                ? TreeNode.branchHash(left: sibling, right: current)
                : TreeNode.branchHash(left: current, right: sibling)
        }
        guard current == root else { throw Invalid(description: "proof does not lead to the given state root") }
        return outcome
    }

    public var cbor: CBOR {
        var map: [String: CBOR] = [
            "key": .id(key), "depth": .unsigned(UInt64(depth)), "bitmap": .bytes(bitmap),
            "siblings": .array(siblings.map { .digest($0) }),
        ]
        switch terminal {
        case .empty: map["leaf"] = .null
        case .leaf(let leafKey, let valueHash):
            map["leaf"] = .map(["key": .id(leafKey), "value": .digest(valueHash)])
        }
        return .map(map)
    }

    public init(cbor: CBOR) throws(DecodeError) {
        var fields = try CBORFields(cbor, schema: "state proof")
        key = try fields.id("key")
        let depth = try fields.unsigned("depth")
        guard depth <= UInt64(StateProof.depthMax) else { throw .schema("state proof: depth above 160") }
        self.depth = Int(depth)
        bitmap = try fields.bytes("bitmap", count: (Int(depth) + 7) / 8)
        var siblings: [Digest] = []
        for item in try fields.array("siblings", countMax: StateProof.depthMax) {
            guard case .bytes(let raw) = item, let digest = Digest(bytes: raw) else {
                throw .schema("state proof: a sibling is not 32 bytes")
            }
            siblings.append(digest)
        }
        self.siblings = siblings
        switch try fields.value("leaf") {
        case .null: terminal = .empty
        case let leaf:
            var leafFields = try CBORFields(leaf, schema: "state proof leaf")
            terminal = .leaf(key: try leafFields.id("key"), valueHash: try leafFields.digest("value"))
            try leafFields.finish()
        }
        try fields.finish()
    }

    /// Encoded size in bytes: the figure the proof-size bar is measured by.
    public var encodedBytes: Int { encoded.count }
}
