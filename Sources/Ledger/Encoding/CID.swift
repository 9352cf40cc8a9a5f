/// Content identifiers as IPFS defines them (CIDv1 here): every block and transaction encoding has
/// one, so the gateway can serve it and existing IPLD tools can decode it.
public struct CID: Hashable, Sendable, CustomStringConvertible {
    public static let dagCBORCodec: UInt8 = 0x71
    public static let sha256Code: UInt8 = 0x12

    /// The binary CID: version 1, codec, multihash (sha2-256, 32 bytes).
    public let bytes: [UInt8]

    public static func dagCBOR(_ encoded: [UInt8]) -> CID {
        CID(bytes: [0x01, dagCBORCodec, sha256Code, 0x20] + SHA256.hash(encoded).bytes)
    }

    /// Multibase base32 (lower case, no padding) with its 'b' prefix, the usual text form of CIDv1.
    public var text: String { "b" + Base32.encode(bytes) }
    public var description: String { text }
}

/// RFC 4648 base32, lower case, no padding: multibase 'b'.
public enum Base32Text {
    public static func encode(_ bytes: [UInt8]) -> String { Base32.encode(bytes) }
    public static func decode(_ text: String) -> [UInt8]? { Base32.decode(text) }
}

enum Base32 {
    static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var buffer = 0, bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | Int(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(alphabet[(buffer >> bits) & 31])
            }
        }
        if bits > 0 { out.append(alphabet[(buffer << (5 - bits)) & 31]) }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer = 0, bits = 0
        for character in text.lowercased().utf8 {
            guard let value = alphabet.firstIndex(of: character) else { return nil }
            buffer = ((buffer << 5) | value) & 0xfff
            bits += 5
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((buffer >> bits) & 0xff))
            }
        }
        return out
    }
}
