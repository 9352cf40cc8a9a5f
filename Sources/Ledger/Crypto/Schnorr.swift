import CSecp256k1
import Synchronization

/// BIP-340 Schnorr signatures over secp256k1, through libsecp256k1.
///
/// This file owns every pointer into libsecp256k1; no C type leaves it.
///
/// ```swift
/// let key = try SecretKey(bytes: seed)
/// let signature = key.sign(SHA256.tagged("ledgerd/tx", message))
/// key.publicKey.verify(signature, for: SHA256.tagged("ledgerd/tx", message))  // true
/// ```
final class Secp256k1Context: @unchecked Sendable {
    // A context is immutable after creation and randomization, so it is safe to share between threads
    // (libsecp256k1's documented threading rule).
    let pointer: OpaquePointer

    init() {
        pointer = secp256k1_context_create(UInt32(SECP256K1_CONTEXT_NONE))
        // Randomization blinds signing against side channels; it does not change any output.
        var seed = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in seed.indices { seed[index] = generator.next() }
        _ = secp256k1_context_randomize(pointer, seed)
    }

    static let shared = Secp256k1Context()
}

public enum SignatureError: Error, Equatable, CustomStringConvertible {
    case invalidSecretKey
    case invalidPublicKey
    case invalidSignatureLength

    public var description: String {
        switch self {
        case .invalidSecretKey: "secret key is not a valid secp256k1 scalar (zero or not below the curve order)"
        case .invalidPublicKey: "public key is not an x-only point on secp256k1"
        case .invalidSignatureLength: "a BIP-340 signature is exactly 64 bytes"
        }
    }
}

/// A 64-byte BIP-340 signature.
public struct Signature: Hashable, Sendable, CustomStringConvertible {
    public static let byteCount = 64
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) throws {
        guard bytes.count == Signature.byteCount else { throw SignatureError.invalidSignatureLength }
        self.bytes = bytes
    }

    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }
}

/// A 32-byte x-only public key (BIP-340).
public struct PublicKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let digest: Digest  // the 32 bytes, stored inline

    /// Checks that the bytes name a point on the curve.
    public init(bytes: [UInt8]) throws {
        guard bytes.count == 32, let digest = Digest(bytes: bytes), ParsedKeys.parsed(digest) != nil else { throw SignatureError.invalidPublicKey }
        self.digest = digest
    }

    init(unchecked digest: Digest) { self.digest = digest }

    public var bytes: [UInt8] { digest.bytes }
    public var hex: String { digest.hex }
    public var description: String { hex }

    /// The ledger ID of this key: the first 20 bytes of TaggedHash("ledgerd/id", key).
    public var id: ID { ID(publicKey: self) }

    /// Verifies a BIP-340 signature over a message of any length (the ledger signs 32-byte tagged hashes).
    public func verify(_ signature: Signature, for message: [UInt8]) -> Bool {
        guard var parsed = ParsedKeys.parsed(digest) else { return false }
        SignatureCount.counter.add(1, ordering: .relaxed)
        return secp256k1_schnorrsig_verify(Secp256k1Context.shared.pointer, signature.bytes, message, message.count, &parsed) == 1
    }

    public func verify(_ signature: Signature, for digest: Digest) -> Bool {
        verify(signature, for: digest.bytes)
    }

    public static func < (a: PublicKey, b: PublicKey) -> Bool { a.digest < b.digest }
}

/// Public keys parsed already, by their bytes. Parsing lifts x to a curve point (a square root, a tenth of
/// a verification), and the same keys come again and again — a transfer's payer and payee in its gossip,
/// its proposal, its block and its verification — so each is parsed once. Only valid keys are kept;
/// when full the cache starts again (a stranger with many keys costs what no cache would).
enum ParsedKeys {
    static let countMax = 16_384
    private static let cache = Mutex<[Digest: secp256k1_xonly_pubkey]>([:])

    static func parsed(_ digest: Digest) -> secp256k1_xonly_pubkey? {
        if let hit = cache.withLock({ $0[digest] }) { return hit }
        var parsed = secp256k1_xonly_pubkey()
        guard secp256k1_xonly_pubkey_parse(Secp256k1Context.shared.pointer, &parsed, digest.bytes) == 1 else { return nil }
        cache.withLock { keys in
            if keys.count >= countMax { keys.removeAll(keepingCapacity: true) }
            keys[digest] = parsed
        }
        return parsed
    }
}

/// A secp256k1 secret key with its precomputed key pair.
public struct SecretKey: Sendable {
    private let secret: [UInt8]
    // The opaque 96-byte secp256k1_keypair, kept as plain bytes so that no C type is stored here and
    // signing does not redo the scalar multiplication.
    private let keypairBytes: [UInt8]
    public let publicKey: PublicKey

    public init(bytes: [UInt8]) throws {
        guard bytes.count == 32 else { throw SignatureError.invalidSecretKey }
        let context = Secp256k1Context.shared.pointer
        var keypair = secp256k1_keypair()
        guard secp256k1_keypair_create(context, &keypair, bytes) == 1 else { throw SignatureError.invalidSecretKey }
        var xonly = secp256k1_xonly_pubkey()
        guard secp256k1_keypair_xonly_pub(context, &xonly, nil, &keypair) == 1 else {
            throw SignatureError.invalidSecretKey
        }
        var serialized = [UInt8](repeating: 0, count: 32)
        _ = secp256k1_xonly_pubkey_serialize(context, &serialized, &xonly)
        self.secret = bytes
        self.keypairBytes = withUnsafeBytes(of: keypair) { Array($0) }
        self.publicKey = PublicKey(unchecked: Digest(bytes: serialized)!)
    }

    /// A new random key from the system's secure generator. Randomness enters here, at the edge,
    /// never inside the state transition.
    public static func generate() -> SecretKey {
        var generator = SystemRandomNumberGenerator()
        while true {
            let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if let key = try? SecretKey(bytes: bytes) { return key }
        }
    }

    public var bytes: [UInt8] { secret }

    /// 32 zero bytes: BIP-340's auxiliary randomness when signing deterministically.
    public static let deterministicAuxiliary = [UInt8](repeating: 0, count: 32)

    /// Signs a message of any length. The default auxiliary randomness is 32 zero bytes, which BIP-340
    /// permits, so a given key and message always give the same signature (specs/ids-and-signatures.md).
    public func sign(_ message: [UInt8], auxiliaryRandom: [UInt8] = SecretKey.deterministicAuxiliary) -> Signature {
        let context = Secp256k1Context.shared.pointer
        var keypair = secp256k1_keypair()
        withUnsafeMutableBytes(of: &keypair) { target in
            keypairBytes.withUnsafeBytes { target.copyMemory(from: $0) }
        }
        var output = [UInt8](repeating: 0, count: 64)
        var extra = secp256k1_schnorrsig_extraparams()
        // SECP256K1_SCHNORRSIG_EXTRAPARAMS_MAGIC, written out because the C macro initializer is not imported.
        extra.magic = (0xda, 0x6f, 0xb3, 0x8c)
        precondition(auxiliaryRandom.count == 32, "BIP-340 auxiliary randomness is 32 bytes")
        let result = auxiliaryRandom.withUnsafeBytes { aux in
            extra.ndata = UnsafeMutableRawPointer(mutating: aux.baseAddress)
            return secp256k1_schnorrsig_sign_custom(context, &output, message, message.count, &keypair, &extra)
        }
        precondition(result == 1, "BIP-340 signing cannot fail for a valid key")
        return try! Signature(bytes: output)
    }

    public func sign(_ digest: Digest) -> Signature { sign(digest.bytes) }
}
