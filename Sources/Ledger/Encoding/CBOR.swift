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

/// DAG-CBOR map key order: shorter keys first, then bytewise (RFC 7049 §3.9 canonical order).
@inline(__always) func canonicalKeyOrder(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    a.count != b.count ? a.count < b.count : a.lexicographicallyPrecedes(b)
}
