import COpenSSL

/// A 32-byte SHA-256 digest, stored inline (no heap allocation) because the state tree makes
/// millions of them.
public struct Digest: Hashable, Comparable, Sendable, CustomStringConvertible {
    // Raw bytes in memory order; equality and ordering treat them as a big-endian number.
    @usableFromInline var storage: (UInt64, UInt64, UInt64, UInt64)

    public static let zero = Digest(storage: (0, 0, 0, 0))
    public static let byteCount = 32

    @inlinable init(storage: (UInt64, UInt64, UInt64, UInt64)) { self.storage = storage }

    /// Takes exactly 32 bytes; nil for any other length. Inlinable so that each caller gets a
    /// specialized copy (the generic one looks up type metadata on every call).
    @inlinable
    public init?<Bytes: Collection>(bytes: Bytes) where Bytes.Element == UInt8 {
        guard bytes.count == Digest.byteCount else { return nil }
        var value = Digest.zero
        Swift.withUnsafeMutableBytes(of: &value.storage) { raw in
            var index = 0
            for byte in bytes {
                raw[index] = byte
                index += 1
            }
        }
        self = value
    }

    public init?(hex: String) {
        guard let bytes = Hex.decode(hex) else { return nil }
        self.init(bytes: bytes)
    }

    public var bytes: [UInt8] { Swift.withUnsafeBytes(of: storage) { Array($0) } }
    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }

    @inlinable public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: storage, body)
    }

    /// Bitwise XOR: Kademlia's distance between two keys.
    @inlinable public func xor(_ other: Digest) -> Digest {
        Digest(storage: (storage.0 ^ other.storage.0, storage.1 ^ other.storage.1, storage.2 ^ other.storage.2, storage.3 ^ other.storage.3))
    }

    public static func == (a: Digest, b: Digest) -> Bool {
        a.storage.0 == b.storage.0 && a.storage.1 == b.storage.1 && a.storage.2 == b.storage.2
            && a.storage.3 == b.storage.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(storage.0)
        hasher.combine(storage.1)
    }

    public static func < (a: Digest, b: Digest) -> Bool {
        let x = (a.storage.0.bigEndian, a.storage.1.bigEndian, a.storage.2.bigEndian, a.storage.3.bigEndian)
        let y = (b.storage.0.bigEndian, b.storage.1.bigEndian, b.storage.2.bigEndian, b.storage.3.bigEndian)
        return x < y
    }
}

/// SHA-256 and BIP-340-style tagged hashes.
public enum SHA256 {
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> Digest {
        var out = Digest.zero
        Swift.withUnsafeMutableBytes(of: &out.storage) { target in
            ledger_sha256(bytes.baseAddress, bytes.count, target.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return out
    }

    public static func hash(_ bytes: [UInt8]) -> Digest {
        bytes.withUnsafeBytes { hash($0) }
    }

    public static func hash(_ first: [UInt8], _ second: [UInt8]) -> Digest {
        var out = Digest.zero
        first.withUnsafeBytes { a in
            second.withUnsafeBytes { b in
                Swift.withUnsafeMutableBytes(of: &out.storage) { target in
                    ledger_sha256_pair(
                        a.baseAddress, a.count, b.baseAddress, b.count,
                        target.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
        }
        return out
    }

    /// BIP-340 tagged hash: SHA256(SHA256(tag) || SHA256(tag) || data). Every signed or derived value
    /// in the ledger names its purpose in the tag, so a hash made for one purpose never equals a hash
    /// made for another (specs/ids-and-signatures.md lists the tags).
    public static func tagged(_ tag: String, _ data: [UInt8]) -> Digest {
        let tagDigest = hash(Array(tag.utf8)).bytes
        return hash(tagDigest + tagDigest, data)
    }
}
