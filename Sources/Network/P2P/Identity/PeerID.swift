import COpenSSL
import Ledger

/// A libp2p identity key as carried in handshakes and peer IDs: the `PublicKey` protobuf
/// {1: key type, 2: key bytes}. ledgerd's own key is secp256k1; peers may also use Ed25519, RSA (2,048 to
/// 4,096 bits, as many IPFS nodes do) or ECDSA P-256.
public enum LibP2PKey: Hashable, Sendable {
    case secp256k1([UInt8])  // 33-byte compressed SEC1
    case ed25519([UInt8])  // 32 bytes
    case rsa([UInt8])  // DER SubjectPublicKeyInfo (PKIX)
    case ecdsaP256([UInt8])  // DER SubjectPublicKeyInfo (PKIX)

    static let rsaType: UInt64 = 0
    static let ed25519Type: UInt64 = 1
    static let secp256k1Type: UInt64 = 2
    static let ecdsaType: UInt64 = 3
    /// RSA key sizes accepted: below 2,048 bits is weak, above 4,096 only costs verification time.
    public static let rsaBitsMin = 2048
    public static let rsaBitsMax = 4096
    /// A SubjectPublicKeyInfo of at most this size (a 4,096-bit RSA key takes 550 bytes).
    static let keyDERBytesMax = 1024

    public init(protobuf: [UInt8]) throws(WireError) {
        let message = try ProtobufMessage(protobuf)
        guard let type = message.varint(1), let data = message.bytes(2) else { throw .malformed("public key without type or data") }
        switch type {
        case Self.secp256k1Type:
            guard data.count == 33, ECDSA.xOnly(ofSEC1: data) != nil else { throw .malformed("secp256k1 key is not a compressed point") }
            self = .secp256k1(data)
        case Self.ed25519Type:
            guard data.count == 32 else { throw .malformed("Ed25519 key is not 32 bytes") }
            self = .ed25519(data)
        case Self.rsaType:
            guard data.count <= Self.keyDERBytesMax else { throw .malformed("RSA key of \(data.count) bytes") }
            let bits = Int(ledger_rsa_public_key_bits(data, data.count))
            guard bits > 0 else { throw .malformed("RSA key is not a DER SubjectPublicKeyInfo") }
            guard (Self.rsaBitsMin...Self.rsaBitsMax).contains(bits) else {
                throw .malformed("RSA key of \(bits) bits (\(Self.rsaBitsMin) to \(Self.rsaBitsMax) are accepted)")
            }
            self = .rsa(data)
        case Self.ecdsaType:
            guard data.count <= Self.keyDERBytesMax, ledger_p256_public_key_valid(data, data.count) == 1 else {
                throw .malformed("ECDSA key is not a DER SubjectPublicKeyInfo on P-256")
            }
            self = .ecdsaP256(data)
        default:
            throw .malformed("key type \(type) is not supported (RSA, Ed25519, secp256k1 and ECDSA P-256 are)")
        }
    }

    public var protobuf: [UInt8] {
        var writer = ProtobufWriter()
        switch self {
        case .secp256k1(let data): writer.varint(1, Self.secp256k1Type); writer.bytes(2, data)
        case .ed25519(let data): writer.varint(1, Self.ed25519Type); writer.bytes(2, data)
        case .rsa(let data): writer.varint(1, Self.rsaType); writer.bytes(2, data)
        case .ecdsaP256(let data): writer.varint(1, Self.ecdsaType); writer.bytes(2, data)
        }
        return writer.bytes
    }

    /// libp2p's signature rules: secp256k1 signs SHA-256 of the message with ECDSA (DER); Ed25519 signs it
    /// directly; RSA signs it with RSASSA-PKCS1-v1_5 and SHA-256; ECDSA P-256 signs SHA-256 of it (DER).
    public func verify(signature: [UInt8], message: [UInt8]) -> Bool {
        switch self {
        case .secp256k1(let data): ECDSA.verify(der: signature, digest: SHA256.hash(message), publicKey: data)
        case .ed25519(let data): ledger_ed25519_verify(data, signature, signature.count, message, message.count) == 1
        case .rsa(let data): ledger_rsa_verify_sha256(data, data.count, signature, signature.count, message, message.count) == 1
        case .ecdsaP256(let data): ledger_p256_verify_sha256(data, data.count, signature, signature.count, message, message.count) == 1
        }
    }

    /// The key type's name, for logs and the API.
    public var typeName: String {
        switch self {
        case .secp256k1: "secp256k1"
        case .ed25519: "Ed25519"
        case .rsa: "RSA"
        case .ecdsaP256: "ECDSA P-256"
        }
    }

    /// The ledger account of a secp256k1 identity: the same key's x coordinate (specs/p2p.md).
    public var ledgerID: ID? {
        guard case .secp256k1(let data) = self else { return nil }
        return ECDSA.xOnly(ofSEC1: data)?.id
    }
}

/// A libp2p peer ID: the multihash of the identity key's protobuf — the identity multihash when that is
/// at most 42 bytes (secp256k1, Ed25519), SHA-256 otherwise. Text form: base58btc.
public struct PeerID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(key: LibP2PKey) {
        let encoded = key.protobuf
        bytes = encoded.count <= 42 ? [0x00, UInt8(encoded.count)] + encoded : [0x12, 0x20] + SHA256.hash(encoded).bytes
    }

    /// Parses the binary multihash form; only identity and SHA-256 multihashes are peer IDs.
    public init(bytes: [UInt8]) throws(WireError) {
        guard bytes.count >= 2, bytes.count <= 64 else { throw .malformed("peer ID of \(bytes.count) bytes") }
        switch (bytes[0], Int(bytes[1])) {
        case (0x00, let length) where length == bytes.count - 2: _ = try LibP2PKey(protobuf: Array(bytes[2...]))
        case (0x12, 32) where bytes.count == 34: break
        default: throw .malformed("peer ID is not an identity or SHA-256 multihash")
        }
        self.bytes = bytes
    }

    public init?(_ text: String) {
        guard let decoded = Base58.decode(text), let parsed = try? PeerID(bytes: decoded) else { return nil }
        self = parsed
    }

    /// The key inlined in an identity-multihash peer ID.
    public var key: LibP2PKey? {
        guard bytes.first == 0x00 else { return nil }
        return try? LibP2PKey(protobuf: Array(bytes[2...]))
    }

    public var ledgerID: ID? { key?.ledgerID }
    public var description: String { Base58.encode(bytes) }
    /// Short form for logs.
    public var short: String { String(description.suffix(8)) }
    public static func < (a: PeerID, b: PeerID) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }

    // The synthesized hash feeds the hasher one byte at a time; peer IDs key every table in the swarm and DHT.
    public func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }
}

extension SecretKey {
    public var libp2pKey: LibP2PKey { .secp256k1(compressedPublicKey) }
    public var peerID: PeerID { PeerID(key: libp2pKey) }

    /// Signs as libp2p does for secp256k1: ECDSA over SHA-256 of the message, DER.
    public func libp2pSignature(_ message: [UInt8]) -> [UInt8] { ecdsaSignature(digest: SHA256.hash(message)) }
}
