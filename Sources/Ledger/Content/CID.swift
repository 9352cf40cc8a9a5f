/// Content identifiers as IPFS defines them: CIDv0 (a bare sha2-256 multihash of a dag-pb block, text in
/// base58btc, `Qm…`), and CIDv1 (version, codec, multihash; text in base32 with its `b` prefix). Every
/// block and transaction encoding has one, so the gateway can serve it and IPLD tools can decode it;
/// UnixFS content has the CIDs `ipfs add` gives it.
public struct CID: Hashable, Sendable, CustomStringConvertible {
    public static let dagPBCodec: UInt64 = 0x70
    public static let rawCodec: UInt64 = 0x55
    public static let dagCBORCodec: UInt64 = 0x71
    public static let sha256Code: UInt8 = 0x12

    /// The binary CID: for CIDv1, version 1, codec (varint), multihash; for CIDv0, the multihash alone.
    public let bytes: [UInt8]

    /// Checked already: the bytes are a CIDv0 or CIDv1 with a sha2-256 multihash.
    init(checked bytes: [UInt8]) { self.bytes = bytes }

    public static func v1(codec: UInt64, digest: Digest) -> CID {
        CID(checked: [0x01] + Varint.encode(codec) + [sha256Code, 0x20] + digest.bytes)
    }

    public static func dagCBOR(_ encoded: [UInt8]) -> CID { v1(codec: dagCBORCodec, digest: SHA256.hash(encoded)) }
    public static func dagPB(_ block: [UInt8]) -> CID { v1(codec: dagPBCodec, digest: SHA256.hash(block)) }
    public static func raw(_ block: [UInt8]) -> CID { v1(codec: rawCodec, digest: SHA256.hash(block)) }
    /// CIDv0: a dag-pb block named by its sha2-256 multihash alone.
    public static func v0(_ block: [UInt8]) -> CID { CID(checked: [sha256Code, 0x20] + SHA256.hash(block).bytes) }

    public var version: Int { bytes.count == 34 && bytes[0] == Self.sha256Code ? 0 : 1 }
    /// The codec: dag-pb for CIDv0.
    public var codec: UInt64 {
        guard version == 1, let (codec, _) = Varint.decodeValue(bytes[1...]) else { return Self.dagPBCodec }
        return codec
    }
    /// The sha2-256 digest the CID names.
    public var digest: Digest { Digest(bytes: Array(bytes.suffix(32))) ?? .zero }  // every CID made here ends in 32 digest bytes

    /// Whether `block` is the content this CID names.
    public func matches(_ block: [UInt8]) -> Bool { SHA256.hash(block) == digest }

    /// `Qm…` for CIDv0, multibase base32 (lower case, no padding) with its `b` prefix for CIDv1.
    public var text: String { version == 0 ? Base58.encode(bytes) : "b" + Base32.encode(bytes) }
    public var description: String { text }

    /// Parses a CID's binary form; only sha2-256 multihashes (what this node makes and stores).
    public init(bytes: [UInt8]) throws(ContentError) {
        if bytes.count == 34, bytes[0] == Self.sha256Code, bytes[1] == 0x20 {
            self.bytes = bytes
            return
        }
        guard bytes.first == 0x01, let (_, length) = Varint.decodeValue(bytes[1...]),
              bytes.count == 1 + length + 34, bytes[1 + length] == Self.sha256Code, bytes[2 + length] == 0x20
        else { throw .invalidCID("not a CIDv0 or CIDv1 with a sha2-256 multihash") }
        self.bytes = bytes
    }

    /// Parses `Qm…` (CIDv0) or base32 `b…` (CIDv1) text.
    public init(text: String) throws(ContentError) {
        if text.hasPrefix("Qm") && text.utf8.count == 46, let bytes = Base58.decode(text) {
            try self.init(bytes: bytes)
        } else if text.hasPrefix("b"), text.utf8.count <= 128, let bytes = Base32.decode(String(text.dropFirst())),
                  Base32.encode(bytes) == text.dropFirst().lowercased() {
            try self.init(bytes: bytes)
        } else {
            throw .invalidCID("\(text.prefix(64)) is not a CID (Qm… or base32 b…)")
        }
    }
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
