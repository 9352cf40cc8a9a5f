/// Why a byte string is not a canonical encoding. Each case is one line for a user or a peer.
public enum DecodeError: Error, Equatable, CustomStringConvertible {
    case truncated
    case trailingBytes(Int)
    case nonMinimalInteger
    case indefiniteLength
    case unsupported(String)
    case invalidUTF8
    case mapKeyNotText
    case mapKeysOutOfOrder
    case duplicateMapKey
    case tooDeep
    case tooLarge
    case schema(String)

    public var description: String {
        switch self {
        case .truncated: "encoding ends before the value is complete (truncated)"
        case .trailingBytes(let n): "\(n) bytes follow the value (trailing bytes)"
        case .nonMinimalInteger: "an integer or length is not in its shortest form (non-canonical)"
        case .indefiniteLength: "indefinite-length items are not allowed"
        case .unsupported(let what): "\(what) is outside the ledger's DAG-CBOR subset"
        case .invalidUTF8: "a text string is not valid UTF-8"
        case .mapKeyNotText: "a map key is not a text string"
        case .mapKeysOutOfOrder: "map keys are not in canonical order (length first, then bytewise)"
        case .duplicateMapKey: "a map key appears twice"
        case .tooDeep: "nesting is deeper than the limit"
        case .tooLarge: "the encoding is larger than the limit"
        case .schema(let message): message
        }
    }
}

/// Reads exactly one canonical DAG-CBOR value and rejects every other form: non-minimal heads,
/// indefinite lengths, unsorted or duplicate keys, floats and unknown tags, and trailing bytes.
/// Lengths are checked against the bytes left before anything is allocated, so hostile input cannot
/// make it allocate more than its own size.
public struct CBORDecoder {
    public static let depthMax = 32

    private let bytes: [UInt8]
    private var position = 0

    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> CBOR {
        var decoder = CBORDecoder(bytes: bytes)
        let value = try decoder.readValue(depth: 0)
        guard decoder.position == bytes.count else { throw .trailingBytes(bytes.count - decoder.position) }
        return value
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private mutating func readByte() throws(DecodeError) -> UInt8 {
        guard position < bytes.count else { throw .truncated }
        defer { position += 1 }
        return bytes[position]
    }

    private mutating func readBytes(_ count: UInt64) throws(DecodeError) -> ArraySlice<UInt8> {
        guard count <= UInt64(bytes.count - position) else { throw .truncated }
        let start = position
        position += Int(count)
        return bytes[start..<position]
    }

    /// Reads the argument of a head whose low five bits are `info`, insisting on the shortest form.
    private mutating func readArgument(_ info: UInt8) throws(DecodeError) -> UInt64 {
        switch info {
        case 0..<24: return UInt64(info)
        case 24:
            let value = UInt64(try readByte())
            guard value >= 24 else { throw .nonMinimalInteger }
            return value
        case 25, 26, 27:
            let width = 1 << (info - 24)  // 2, 4 or 8 bytes
            var value: UInt64 = 0
            for byte in try readBytes(UInt64(width)) { value = value << 8 | UInt64(byte) }
            let floor: UInt64 = width == 2 ? 0x100 : width == 4 ? 0x1_0000 : 0x1_0000_0000
            guard value >= floor else { throw .nonMinimalInteger }
            return value
        case 31: throw .indefiniteLength
        default: throw .unsupported("reserved head value \(info)")
        }
    }

    private mutating func readValue(depth: Int) throws(DecodeError) -> CBOR {
        guard depth <= CBORDecoder.depthMax else { throw .tooDeep }
        let head = try readByte()
        let major = head >> 5, info = head & 0x1f
        switch major {
        case 0: return .unsigned(try readArgument(info))
        case 1: return .negative(try readArgument(info))
        case 2: return .bytes(Array(try readBytes(try readArgument(info))))
        case 3: return .text(try readText(try readArgument(info)))
        case 4:
            let count = try readArgument(info)
            // Every item takes at least one byte: a count beyond the bytes left is a lie.
            guard count <= UInt64(bytes.count - position) else { throw .truncated }
            var items: [CBOR] = []
            items.reserveCapacity(Int(count))
            for _ in 0..<count { items.append(try readValue(depth: depth + 1)) }
            return .array(items)
        case 5:
            let count = try readArgument(info)
            guard count <= UInt64(bytes.count - position) / 2 else { throw .truncated }
            var entries: [String: CBOR] = [:]
            var previousKey: [UInt8]? = nil
            for _ in 0..<count {
                let keyHead = try readByte()
                guard keyHead >> 5 == 3 else { throw .mapKeyNotText }
                let keyBytes = Array(try readBytes(try readArgument(keyHead & 0x1f)))
                if let previousKey {
                    if previousKey == keyBytes { throw .duplicateMapKey }
                    guard canonicalKeyOrder(previousKey, keyBytes) else { throw .mapKeysOutOfOrder }
                }
                guard let key = String(validating: keyBytes, as: UTF8.self) else { throw .invalidUTF8 }
                previousKey = keyBytes
                // Distinct bytes that Swift's String equality merges (canonically equivalent text, such
                // as "K" and U+212A) would collapse into one key: refuse them as a duplicate.
                guard entries[key] == nil else { throw .duplicateMapKey }
                entries[key] = try readValue(depth: depth + 1)
            }
            return .map(entries)
        case 6:
            let tag = try readArgument(info)
            guard tag == 42 else { throw .unsupported("tag \(tag)") }
            let inner = try readByte()
            guard inner >> 5 == 2 else { throw .schema("a CID link (tag 42) must hold a byte string") }
            let content = try readBytes(try readArgument(inner & 0x1f))
            guard content.first == 0, content.count > 1 else {
                throw .schema("a CID link must start with the 0x00 multibase prefix")
            }
            return .link(Array(content.dropFirst()))
        default:
            switch head {
            case 0xf4: return .bool(false)
            case 0xf5: return .bool(true)
            case 0xf6: return .null
            case 0xf7: throw .unsupported("undefined")
            case 0xf9, 0xfa, 0xfb: throw .unsupported("a floating-point number")
            default: throw .unsupported("simple value \(head)")
            }
        }
    }

    private mutating func readText(_ count: UInt64) throws(DecodeError) -> String {
        let raw = try readBytes(count)
        guard let text = String(validating: raw, as: UTF8.self) else { throw .invalidUTF8 }
        return text
    }
}
