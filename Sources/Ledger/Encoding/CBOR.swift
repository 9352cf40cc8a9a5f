/// A value in the subset of DAG-CBOR that the ledger uses: unsigned and negative integers, byte and
/// text strings, arrays, maps with text keys, booleans and null. Floats, undefined, indefinite lengths
/// and every tag but 42 (CID links) are outside the subset and rejected by the decoder.
/// The rules are in specs/encoding.md.
public indirect enum CBOR: Hashable, Sendable {
    case unsigned(UInt64)
    /// The integer -1 - n.
    case negative(UInt64)
    case bytes([UInt8])
    case text(String)
    case array([CBOR])
    case map([String: CBOR])
    case bool(Bool)
    case null
    /// A CID link (tag 42), holding the binary CID without the multibase prefix byte.
    case link([UInt8])
}

extension CBOR {
    public static func id(_ id: ID) -> CBOR { .bytes(id.bytes) }
    public static func digest(_ digest: Digest) -> CBOR { .bytes(digest.bytes) }
    public static func int(_ value: Int64) -> CBOR {
        value >= 0 ? .unsigned(UInt64(value)) : .negative(UInt64(-(value + 1)))
    }
}

/// Equality is by encoding, never by Unicode: Swift's `String ==` treats canonically equivalent text as
/// equal ("K" and U+212A KELVIN SIGN), which would let two different encodings pass for one value.
extension CBOR {
    public static func == (a: CBOR, b: CBOR) -> Bool {
        switch (a, b) {
        case (.unsigned(let x), .unsigned(let y)), (.negative(let x), .negative(let y)): return x == y
        case (.bytes(let x), .bytes(let y)), (.link(let x), .link(let y)): return x == y
        case (.text(let x), .text(let y)): return x.utf8.elementsEqual(y.utf8)
        case (.array(let x), .array(let y)): return x == y
        case (.map(let x), .map(let y)):
            guard x.count == y.count else { return false }
            for (key, value) in x {
                // A Swift dictionary finds a canonically equivalent key too; insist on the same bytes.
                guard let index = y.index(forKey: key), y[index].key.utf8.elementsEqual(key.utf8), y[index].value == value else { return false }
            }
            return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.null, .null): return true
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .unsigned(let n): hasher.combine(0); hasher.combine(n)
        case .negative(let n): hasher.combine(1); hasher.combine(n)
        case .bytes(let bytes): hasher.combine(2); hasher.combine(bytes)
        case .text(let text): hasher.combine(3); hasher.combine(Array(text.utf8))
        case .array(let items): hasher.combine(4); hasher.combine(items)
        case .map(let entries):
            hasher.combine(5)
            hasher.combine(entries.count)
            for (key, value) in entries.sorted(by: { canonicalKeyOrder(Array($0.key.utf8), Array($1.key.utf8)) }) {
                hasher.combine(Array(key.utf8))
                hasher.combine(value)
            }
        case .bool(let b): hasher.combine(6); hasher.combine(b)
        case .null: hasher.combine(7)
        case .link(let bytes): hasher.combine(8); hasher.combine(bytes)
        }
    }
}

extension String {
    /// Byte equality of the UTF-8 encodings (what the ledger means by "the same text").
    public func sameBytes(as other: String) -> Bool { utf8.elementsEqual(other.utf8) }
}

/// DAG-CBOR map key order: shorter keys first, then bytewise (RFC 7049 §3.9 canonical order).
@inline(__always) func canonicalKeyOrder(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    a.count != b.count ? a.count < b.count : a.lexicographicallyPrecedes(b)
}
