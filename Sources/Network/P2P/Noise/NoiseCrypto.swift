import COpenSSL
import Ledger

/// The one file that calls libcrypto's Noise primitives (Sources/COpenSSL/noise.c).
enum NoiseCrypto {
    struct Failure: Error {}

    static func x25519Public(_ secret: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        precondition(ledger_x25519_public(secret, &out) == 1, "X25519 accepts any 32-byte secret")
        return out
    }

    /// Diffie-Hellman; fails for a low-order peer key (all-zero shared secret), which Noise lets us reject.
    static func x25519(_ secret: [UInt8], _ peer: [UInt8]) throws(WireError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        guard peer.count == 32, ledger_x25519(secret, peer, &out) == 1 else { throw .malformed("bad X25519 public key") }
        return out
    }

    static func randomSecret() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    static func seal(key: [UInt8], nonce: UInt64, ad: [UInt8], plaintext: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: plaintext.count + 16)
        precondition(ledger_chachapoly_seal(key, nonce, ad, ad.count, plaintext, plaintext.count, &out) == 1, "ChaCha20-Poly1305 sealing failed")
        return out
    }

    static func open(key: [UInt8], nonce: UInt64, ad: [UInt8], ciphertext: [UInt8]) throws(WireError) -> [UInt8] {
        guard ciphertext.count >= 16 else { throw .malformed("Noise ciphertext shorter than its tag") }
        var out = [UInt8](repeating: 0, count: ciphertext.count - 16)
        guard ledger_chachapoly_open(key, nonce, ad, ad.count, ciphertext, ciphertext.count, &out) == 1 else {
            throw .malformed("Noise message failed authentication")
        }
        return out
    }

    static func hmac(key: [UInt8], data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        precondition(ledger_hmac_sha256(key, key.count, data, data.count, &out) == 1, "HMAC-SHA256 failed")
        return out
    }

    /// Noise's HKDF with two outputs.
    static func hkdf(chainingKey: [UInt8], input: [UInt8]) -> ([UInt8], [UInt8]) {
        let temporary = hmac(key: chainingKey, data: input)
        let first = hmac(key: temporary, data: [1])
        return (first, hmac(key: temporary, data: first + [2]))
    }

    static func sha256(_ data: [UInt8]) -> [UInt8] { SHA256.hash(data).bytes }
}
