/// A 160-bit identifier in the one key space that accounts, nodes, organizations and every state
/// record share (the state tree is keyed by it).
///
/// Text form: Bech32m with the prefix `ld`, e.g. `ld1…` (specs/ids-and-signatures.md).
public struct ID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public static let byteCount = 20
    public static let textPrefix = "ld"

    // Raw bytes in memory order, inline: the state tree compares and hashes these constantly.
    @usableFromInline var storage: (UInt64, UInt64, UInt32)

    public static let zero = ID(storage: (0, 0, 0))

    @inlinable init(storage: (UInt64, UInt64, UInt32)) { self.storage = storage }

    /// Takes exactly 20 bytes; nil for any other length. Inlinable so that each caller gets a
    /// specialized copy (the generic one looks up type metadata on every call).
    @inlinable
    public init?<Bytes: Collection>(bytes: Bytes) where Bytes.Element == UInt8 {
        guard bytes.count == ID.byteCount else { return nil }
        var value = ID.zero
        Swift.withUnsafeMutableBytes(of: &value.storage) { raw in
            var index = 0
            for byte in bytes {
                raw[index] = byte
                index += 1
            }
        }
        self = value
    }

    /// The ID of a public key: the first 20 bytes of TaggedHash("ledgerd/id", x-only key).
    public init(publicKey: PublicKey) {
        self = ID(bytes: SHA256.tagged("ledgerd/id", publicKey.bytes).bytes.prefix(20))!
    }

    /// The ID of a derived record (a membership, a credit line): the first 20 bytes of
    /// TaggedHash("ledgerd/key/" + kind, parts joined). Derived IDs cannot collide with key IDs because
    /// the tags differ.
    public static func derived(_ kind: String, _ parts: [ID]) -> ID {
        derived(kind, data: parts.flatMap(\.bytes))
    }

    /// A derived ID over arbitrary bytes (an ID and a nonce, a service name).
    public static func derived(_ kind: String, data: [UInt8]) -> ID {
        ID(bytes: SHA256.tagged("ledgerd/key/" + kind, data).bytes.prefix(20))!
    }

    public var bytes: [UInt8] { withUnsafeBytes(of: storage) { Array($0) } }

    /// Bit `index` counted from the most significant bit of the first byte (0...159): the path of
    /// this key through the state tree.
    @inlinable public func bit(_ index: Int) -> Bool {
        withUnsafeBytes(of: storage) { raw in (raw[index >> 3] >> (7 - UInt8(index & 7))) & 1 == 1 }
    }

    public var text: String {
        ID.text(bytes)
    }

    static func text(_ bytes: [UInt8]) -> String {
        let groups = try! Bech32m.convertBits(bytes, from: 8, to: 5, pad: true)
        return Bech32m.encode(prefix: textPrefix, groups: groups)
    }

    public var description: String { text }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case wrongPrefix(String), wrongLength(Int), bech32(Bech32m.DecodeError)

        public var description: String {
            switch self {
            case .wrongPrefix(let prefix): "ID has prefix '\(prefix)'; ledger IDs start with 'ld1'"
            case .wrongLength(let count): "ID holds \(count) bytes; ledger IDs hold 20"
            case .bech32(let error): "ID \(error)"
            }
        }
    }

    /// Parses the text form, rejecting any typo that the checksum catches.
    public init(text: String) throws(ParseError) {
        let decoded: (prefix: String, groups: [UInt8])
        do { decoded = try Bech32m.decode(text) } catch { throw .bech32(error) }
        guard decoded.prefix == ID.textPrefix else { throw .wrongPrefix(decoded.prefix) }
        let bytes: [UInt8]
        do { bytes = try Bech32m.convertBits(decoded.groups, from: 5, to: 8, pad: false) } catch {
            throw .bech32(error)
        }
        guard let id = ID(bytes: bytes) else { throw .wrongLength(bytes.count) }
        self = id
    }

    public static func == (a: ID, b: ID) -> Bool {
        a.storage.0 == b.storage.0 && a.storage.1 == b.storage.1 && a.storage.2 == b.storage.2
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(storage.0)
        hasher.combine(storage.2)
    }

    public static func < (a: ID, b: ID) -> Bool {
        (a.storage.0.bigEndian, a.storage.1.bigEndian, a.storage.2.bigEndian)
            < (b.storage.0.bigEndian, b.storage.1.bigEndian, b.storage.2.bigEndian)
    }
}
