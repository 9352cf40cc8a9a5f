/// A version of a database MiMei as content-addressed blocks (specs/content.md §Database MiMei): keys
/// fall into 256 buckets by the first byte of SHA-256(key); each non-empty bucket is one DAG-CBOR block,
/// an array of `[key, type, payload]` sorted by key; the root is a dag-pb node whose links, named by the
/// bucket's two hex digits, point at them, and whose data is the DAG-CBOR map `{type: "ledgerd/redis",
/// keys}`. A commit re-encodes only the buckets whose keys changed, so a version costs the changed
/// buckets and one root; and since the root is dag-pb, fetching, pinning, CARs and providing work as for
/// files.
public enum DatabaseSnapshot {
    public static let typeName = "ledgerd/redis"
    public static let bucketCount = 256
    /// The most entries one bucket block may hold, and its bytes (a block must fit Bitswap's 2 MiB).
    public static let bucketBytesMax = 2 << 20

    public static func bucket(of key: [UInt8]) -> Int { Int(SHA256.hash(key).bytes[0]) }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case notADatabase(String)
        case bucketTooLarge(Int)
        public var description: String {
            switch self {
            case .notADatabase(let why): "not a database MiMei version: \(why)"
            case .bucketTooLarge(let bucket): "bucket \(bucket) would exceed \(DatabaseSnapshot.bucketBytesMax) bytes: the database is too large for this encoding"
            }
        }
    }

    /// One bucket's block, nil when it is empty.
    public static func encodeBucket(_ keys: [[UInt8]], in entries: [[UInt8]: RedisValue]) throws(Failure) -> [UInt8]? {
        let present = keys.filter { entries[$0] != nil }.sorted { $0.lexicographicallyPrecedes($1) }
        guard !present.isEmpty else { return nil }
        let items: [CBOR] = present.compactMap { key in entries[key].map { .array([.bytes(key), .text($0.typeName), payload($0)]) } }
        let block = CBOREncoder.encode(.array(items))
        guard block.count <= bucketBytesMax else { throw .bucketTooLarge(bucket(of: present[0])) }
        return block
    }

    /// A value's bytes in its bucket (without its key).
    public static func encodedBytes(_ value: RedisValue) -> Int { CBOREncoder.encode(payload(value)).count }

    static func payload(_ value: RedisValue) -> CBOR {
        switch value {
        case .string(let bytes): .bytes(bytes)
        case .hash(let fields): .array(fields.pairs.map { .array([.bytes($0.0), .bytes($0.1)]) })
        case .list(let items): .array(items.map { .bytes($0) })
        case .set(let members): .array(members.sorted { $0.lexicographicallyPrecedes($1) }.map { .bytes($0) })
        case .sortedSet(let scores):
            .array(scores.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map { .array([.bytes($0.key), .bytes(KeyValueDatabase.format($0.value))]) })
        }
    }

    /// The root block over the buckets' blocks (index → block), and the key count.
    public static func encodeRoot(buckets: [Int: (cid: CID, size: Int)], keys: Int) -> [UInt8] {
        let links = buckets.keys.sorted().compactMap { index in
            buckets[index].map { DagPB.Link(cid: $0.cid, name: String(format2: index), totalSize: UInt64($0.size)) }
        }
        return DagPB.encode(links: links, data: CBOREncoder.encode(.map(["type": .text(typeName), "keys": .unsigned(UInt64(keys))])))
    }

    /// A root's buckets (index → CID), checked to be a database version.
    public static func decodeRoot(_ block: [UInt8]) throws(Failure) -> [Int: CID] {
        guard let node = try? DagPB.decode(block), let data = node.data, case .map(let fields)? = try? CBORDecoder.decode(data),
              fields["type"] == .text(typeName) else { throw .notADatabase("the root is not a ledgerd/redis dag-pb node") }
        var buckets: [Int: CID] = [:]
        for link in node.links {
            guard let index = Int(link.name, radix: 16), link.name.count == 2, (0..<bucketCount).contains(index), buckets[index] == nil else {
                throw .notADatabase("link '\(link.name.prefix(16))' is not a bucket")
            }
            buckets[index] = link.cid
        }
        return buckets
    }

    /// A bucket block's entries, each checked to belong to that bucket.
    public static func decodeBucket(_ block: [UInt8], index: Int) throws(Failure) -> [([UInt8], RedisValue)] {
        guard case .array(let items)? = try? CBORDecoder.decode(block) else { throw .notADatabase("bucket \(index) is not a CBOR array") }
        var entries: [([UInt8], RedisValue)] = []
        for item in items {
            guard case .array(let parts) = item, parts.count == 3, case .bytes(let key) = parts[0], case .text(let type) = parts[1],
                  bucket(of: key) == index, let value = value(type, parts[2]) else { throw .notADatabase("an entry of bucket \(index) does not decode") }
            entries.append((key, value))
        }
        return entries
    }

    static func value(_ type: String, _ payload: CBOR) -> RedisValue? {
        func byteList(_ cbor: CBOR) -> [[UInt8]]? {
            guard case .array(let items) = cbor else { return nil }
            let bytes = items.compactMap { item -> [UInt8]? in if case .bytes(let b) = item { return b } else { return nil } }
            return bytes.count == items.count ? bytes : nil
        }
        func pairs(_ cbor: CBOR) -> [([UInt8], [UInt8])]? {
            guard case .array(let items) = cbor else { return nil }
            let found = items.compactMap { item -> ([UInt8], [UInt8])? in
                guard case .array(let two) = item, two.count == 2, case .bytes(let a) = two[0], case .bytes(let b) = two[1] else { return nil }
                return (a, b)
            }
            return found.count == items.count ? found : nil
        }
        switch type {
        case "string": if case .bytes(let bytes) = payload { return .string(bytes) }
        case "list": return byteList(payload).map { .list($0) }
        case "set": return byteList(payload).map { .set(Set($0)) }
        case "hash":
            guard let found = pairs(payload) else { return nil }
            var fields = OrderedFields()
            for (name, value) in found { fields.set(name, value) }
            return .hash(fields)
        case "zset":
            guard let found = pairs(payload) else { return nil }
            var scores: [[UInt8]: Double] = [:]
            for (member, score) in found {
                guard let value = KeyValueDatabase.score(score) else { return nil }
                scores[member] = value
            }
            return .sortedSet(scores)
        default: return nil
        }
        return nil
    }
}

extension String {
    /// Two lowercase hex digits.
    init(format2 value: Int) {
        let digits = Array("0123456789abcdef")
        self = String([digits[(value >> 4) & 15], digits[value & 15]])
    }
}
