/// Content-addressed archives, version 1 (ipld.io/specs/transport/car/carv1; specs/content.md §CAR): a
/// uvarint-prefixed DAG-CBOR header `{"roots": [CID], "version": 1}`, then each block as a
/// uvarint-prefixed CID followed by its bytes. The gateway writes them (`?format=car`) and `ledgerctl ipfs
/// get` reads them back, checking every block against its CID.
public enum CARv1 {
    public static let contentType = "application/vnd.ipld.car; version=1"

    /// The header naming `roots`, with its length prefix. DAG-CBOR: keys sorted by length, CIDs as tag 42
    /// over a byte string of 0x00 and the binary CID.
    public static func header(roots: [CID]) -> [UInt8] {
        var body: [UInt8] = [0xa2, 0x65] + Array("roots".utf8) + cborHead(major: 4, roots.count)
        for root in roots {
            body += [0xd8, 0x2a] + cborHead(major: 2, root.bytes.count + 1) + [0x00] + root.bytes
        }
        body += [0x67] + Array("version".utf8) + [0x01]
        return Varint.encode(UInt64(body.count)) + body
    }

    /// One block section: the length of CID and data, the CID, the data.
    public static func section(_ cid: CID, _ data: [UInt8]) -> [UInt8] {
        Varint.encode(UInt64(cid.bytes.count + data.count)) + cid.bytes + data
    }

    private static func cborHead(major: UInt8, _ value: Int) -> [UInt8] {
        switch value {
        case ..<24: [major << 5 | UInt8(value)]
        case ..<256: [major << 5 | 24, UInt8(value)]
        default: [major << 5 | 25, UInt8(value >> 8), UInt8(value & 0xff)]
        }
    }

    /// Reads a CAR incrementally: feed bytes as they arrive, take the header's roots and each checked block.
    public struct Reader {
        private var buffer: [UInt8] = []
        private var start = 0
        public private(set) var roots: [CID]?
        /// The largest section accepted (a 2 MiB block with its CID).
        public static let sectionMax = (2 << 20) + 128

        public init() {}

        public mutating func feed(_ bytes: [UInt8]) {
            if start > 0 && start >= buffer.count / 2 {
                buffer.removeFirst(start)
                start = 0
            }
            buffer += bytes
        }

        /// The next block, nil when more bytes are needed; throws on a malformed CAR or a block whose bytes
        /// are not its CID's.
        public mutating func next() throws(ContentError) -> (CID, [UInt8])? {
            let decoded: (value: UInt64, length: Int)?
            do { decoded = try Varint.decodeChecked(buffer[start...]) } catch { throw .malformed("CAR section length is not a varint") }
            guard let (length, used) = decoded else { return nil }
            guard length <= UInt64(Self.sectionMax) else { throw .malformed("CAR section of \(length) bytes") }
            guard buffer.count - start - used >= Int(length) else { return nil }
            let section = Array(buffer[(start + used)..<(start + used + Int(length))])
            start += used + Int(length)
            if roots == nil {
                roots = try Self.roots(ofHeader: section)
                return try next()
            }
            let cidLength = try Self.cidLength(section)
            let cid = try CID(bytes: Array(section[..<cidLength]))
            let data = Array(section[cidLength...])
            guard cid.matches(data) else { throw .malformed("CAR block \(cid) does not match its CID") }
            return (cid, data)
        }

        /// Whether every byte fed has been read.
        public var atEnd: Bool { start == buffer.count }

        /// A CIDv0 is 34 bytes starting 0x12 0x20; a CIDv1 is version, codec and multihash varints.
        static func cidLength(_ section: [UInt8]) throws(ContentError) -> Int {
            if section.count >= 34 && section[0] == 0x12 && section[1] == 0x20 { return 34 }
            var index = 0
            for _ in 0..<3 {
                guard let (_, used) = Varint.decodeValue(section[index...]) else { throw .malformed("CAR block CID truncated") }
                index += used
            }
            guard let (digestLength, used) = Varint.decodeValue(section[index...]), digestLength <= 64,
                  section.count >= index + used + Int(digestLength) else { throw .malformed("CAR block CID truncated") }
            return index + used + Int(digestLength)
        }

        /// The roots of a header `{"roots": [...], "version": 1}`, in the exact form `header(roots:)` writes
        /// (keys in DAG-CBOR order); other CARs' headers are read for their version and roots alike.
        static func roots(ofHeader header: [UInt8]) throws(ContentError) -> [CID] {
            var index = 0
            func byte() throws(ContentError) -> UInt8 {
                guard index < header.count else { throw .malformed("CAR header truncated") }
                defer { index += 1 }
                return header[index]
            }
            func head() throws(ContentError) -> (major: UInt8, value: Int) {
                let first = try byte()
                let info = first & 0x1f
                switch info {
                case ..<24: return (first >> 5, Int(info))
                case 24: return (first >> 5, Int(try byte()))
                case 25: return (first >> 5, Int(try byte()) << 8 | Int(try byte()))
                default: throw .malformed("CAR header uses a CBOR length this reader does not take")
                }
            }
            func text() throws(ContentError) -> String {
                let (major, length) = try head()
                guard major == 3, header.count - index >= length else { throw .malformed("CAR header key is not text") }
                defer { index += length }
                return String(decoding: header[index..<(index + length)], as: UTF8.self)
            }
            let (major, count) = try head()
            guard major == 5 else { throw .malformed("CAR header is not a map") }
            var roots: [CID]?
            var version: Int?
            for _ in 0..<count {
                switch try text() {
                case "version":
                    let (major, value) = try head()
                    guard major == 0 else { throw .malformed("CAR version is not an integer") }
                    version = value
                case "roots":
                    let (major, items) = try head()
                    guard major == 4, items <= 64 else { throw .malformed("CAR roots is not a short array") }
                    var found: [CID] = []
                    for _ in 0..<items {
                        guard try byte() == 0xd8, try byte() == 0x2a else { throw .malformed("CAR root is not a CID (tag 42)") }
                        let (major, length) = try head()
                        guard major == 2, length >= 2, header.count - index >= length, header[index] == 0 else { throw .malformed("CAR root is not a CID") }
                        found.append(try CID(bytes: Array(header[(index + 1)..<(index + length)])))
                        index += length
                    }
                    roots = found
                default:
                    throw .malformed("CAR header has an unknown key")
                }
            }
            guard version == 1 else { throw .malformed("CAR version \(version.map(String.init) ?? "missing") is not 1") }
            guard let roots else { throw .malformed("CAR header has no roots") }
            return roots
        }
    }
}
