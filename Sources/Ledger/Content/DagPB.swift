/// dag-pb, the codec of UnixFS nodes (specs/content.md §dag-pb): a PBNode of links, then optional data,
/// in protobuf. Encoded as go-ipfs does — links first, each with its hash, its name (present even when
/// empty) and its cumulative size — so that the bytes, and therefore the CIDs, equal Kubo's.
public enum DagPB {
    public struct Link: Sendable, Equatable {
        public var cid: CID
        public var name: String
        /// The size of the whole DAG under the link: the child's block plus everything below it.
        public var totalSize: UInt64

        public init(cid: CID, name: String = "", totalSize: UInt64) {
            self.cid = cid
            self.name = name
            self.totalSize = totalSize
        }
    }

    public static func encode(links: [Link], data: [UInt8]?) -> [UInt8] {
        var out = ProtobufWriter()
        for link in links {
            var encoded = ProtobufWriter()
            encoded.bytes(1, link.cid.bytes)
            encoded.bytes(2, Array(link.name.utf8))
            encoded.varint(3, link.totalSize)
            out.bytes(2, encoded.bytes)
        }
        if let data { out.bytes(1, data) }
        return out.bytes
    }

    /// The links of a dag-pb block (its data is skipped), from bytes that may come from anyone.
    public static func links(of block: [UInt8]) throws(ContentError) -> [Link] { try decode(block).links }

    /// A dag-pb block's links and data, from bytes that may come from anyone.
    public static func decode(_ block: [UInt8]) throws(ContentError) -> (links: [Link], data: [UInt8]?) {
        var links: [Link] = []
        var data: [UInt8]?
        for (field, value) in try fields(block[...]) {
            if field == 1, case .bytes(let bytes) = value {
                data = Array(bytes)
                continue
            }
            guard field == 2, case .bytes(let encoded) = value else { throw .malformed("a dag-pb node has an unexpected field \(field)") }
            var cid: CID?, name = "", size: UInt64 = 0
            for (number, part) in try fields(encoded) {
                switch (number, part) {
                case (1, .bytes(let bytes)): cid = try CID(bytes: Array(bytes))
                case (2, .bytes(let bytes)): name = String(decoding: bytes, as: UTF8.self)
                case (3, .varint(let value)): size = value
                default: throw .malformed("a dag-pb link has an unexpected field \(number)")
                }
            }
            guard let cid else { throw .malformed("a dag-pb link has no hash") }
            links.append(Link(cid: cid, name: name, totalSize: size))
        }
        return (links, data)
    }

    enum Value {
        case varint(UInt64)
        case bytes(ArraySlice<UInt8>)
    }

    /// Protobuf fields of wire types 0 and 2, the only ones dag-pb uses.
    static func fields(_ bytes: ArraySlice<UInt8>) throws(ContentError) -> [(Int, Value)] {
        var out: [(Int, Value)] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            guard let (key, keyLength) = Varint.decodeValue(bytes[index...]), key >> 3 > 0, key >> 3 < 1 << 16 else {
                throw .malformed("a dag-pb field key is invalid")
            }
            index += keyLength
            switch key & 7 {
            case 0:
                guard let (value, length) = Varint.decodeValue(bytes[index...]) else { throw .malformed("a dag-pb varint is truncated") }
                index += length
                out.append((Int(key >> 3), .varint(value)))
            case 2:
                guard let (length, lengthLength) = Varint.decodeValue(bytes[index...]),
                      length <= UInt64(bytes.endIndex - index - lengthLength) else { throw .malformed("a dag-pb field is truncated") }
                index += lengthLength
                out.append((Int(key >> 3), .bytes(bytes[index..<index + Int(length)])))
                index += Int(length)
            default:
                throw .malformed("dag-pb uses no wire type \(key & 7)")
            }
        }
        return out
    }
}
