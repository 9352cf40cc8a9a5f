import CSecp256k1

/// ECDSA over secp256k1 with compressed 33-byte keys and DER signatures: what libp2p signs its
/// identity with (specs/p2p.md). Ledger transactions use BIP-340; this exists so the same node key can
/// also be a libp2p identity.
public enum ECDSA {
    /// Verifies a DER signature over a 32-byte digest by a compressed (or uncompressed) SEC1 key.
    /// Accepts only lower-S signatures after normalizing, as libp2p implementations produce.
    public static func verify(der signature: [UInt8], digest: Digest, publicKey: [UInt8]) -> Bool {
        let context = Secp256k1Context.shared.pointer
        var key = secp256k1_pubkey()
        guard secp256k1_ec_pubkey_parse(context, &key, publicKey, publicKey.count) == 1 else { return false }
        var parsed = secp256k1_ecdsa_signature()
        guard secp256k1_ecdsa_signature_parse_der(context, &parsed, signature, signature.count) == 1 else { return false }
        var normalized = secp256k1_ecdsa_signature()
        _ = secp256k1_ecdsa_signature_normalize(context, &normalized, &parsed)
        return secp256k1_ecdsa_verify(context, &normalized, digest.bytes, &key) == 1
    }

    /// The x-only BIP-340 key of a SEC1 key (its x coordinate), or nil if the bytes are not a point.
    public static func xOnly(ofSEC1 publicKey: [UInt8]) -> PublicKey? {
        let context = Secp256k1Context.shared.pointer
        var key = secp256k1_pubkey()
        guard secp256k1_ec_pubkey_parse(context, &key, publicKey, publicKey.count) == 1 else { return nil }
        var compressed = [UInt8](repeating: 0, count: 33)
        var length = 33
        _ = secp256k1_ec_pubkey_serialize(context, &compressed, &length, &key, UInt32(SECP256K1_EC_COMPRESSED))
        return try? PublicKey(bytes: Array(compressed[1...]))
    }
}

extension SecretKey {
    /// The 33-byte compressed SEC1 public key (its x coordinate is `publicKey`).
    public var compressedPublicKey: [UInt8] {
        let context = Secp256k1Context.shared.pointer
        var key = secp256k1_pubkey()
        precondition(secp256k1_ec_pubkey_create(context, &key, bytes) == 1, "a valid secret key has a public key")
        var output = [UInt8](repeating: 0, count: 33)
        var length = 33
        _ = secp256k1_ec_pubkey_serialize(context, &output, &length, &key, UInt32(SECP256K1_EC_COMPRESSED))
        return output
    }

    /// A deterministic (RFC 6979), lower-S ECDSA signature over a 32-byte digest, DER-encoded.
    public func ecdsaSignature(digest: Digest) -> [UInt8] {
        let context = Secp256k1Context.shared.pointer
        var signature = secp256k1_ecdsa_signature()
        precondition(secp256k1_ecdsa_sign(context, &signature, digest.bytes, bytes, nil, nil) == 1, "ECDSA signing cannot fail for a valid key")
        var der = [UInt8](repeating: 0, count: 72)
        var length = 72
        _ = secp256k1_ecdsa_signature_serialize_der(context, &der, &length, &signature)
        return Array(der[..<length])
    }
}
