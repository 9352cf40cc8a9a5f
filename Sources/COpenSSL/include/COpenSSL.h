#ifndef COPENSSL_H
#define COPENSSL_H
#include <stddef.h>
#include <stdint.h>

/// One-shot SHA-256 through libcrypto's low-level interface, which (unlike the EVP one-shot in
/// OpenSSL 3) does no per-call algorithm fetch: this matters for the state tree's 65-byte hashes.
void ledger_sha256(const void *data, size_t length, uint8_t out[32]);

/// SHA-256 of two buffers concatenated, without copying them together first.
void ledger_sha256_pair(const void *first, size_t firstLength, const void *second, size_t secondLength,
                        uint8_t out[32]);

/// Noise primitives for the libp2p handshake (noise.c). Each returns 1 on success, 0 on failure.
int ledger_x25519_public(const uint8_t secret[32], uint8_t publicKey[32]);
int ledger_x25519(const uint8_t secret[32], const uint8_t peer[32], uint8_t shared[32]);
/// Writes plainLength + 16 bytes (ciphertext, then tag) to out.
int ledger_chachapoly_seal(const uint8_t key[32], uint64_t counter, const uint8_t *ad, size_t adLength,
                           const uint8_t *plain, size_t plainLength, uint8_t *out);
/// Writes sealedLength - 16 bytes to out; 0 if the tag does not verify.
int ledger_chachapoly_open(const uint8_t key[32], uint64_t counter, const uint8_t *ad, size_t adLength,
                           const uint8_t *sealed, size_t sealedLength, uint8_t *out);
int ledger_hmac_sha256(const uint8_t *key, size_t keyLength, const uint8_t *data, size_t dataLength,
                       uint8_t out[32]);
/// Ed25519 verification, for libp2p peers whose identity key is Ed25519.
int ledger_ed25519_verify(const uint8_t publicKey[32], const uint8_t *signature, size_t signatureLength,
                          const uint8_t *message, size_t messageLength);

/// libp2p identity keys carried as DER SubjectPublicKeyInfo (identity.c). The size of an RSA key in bits,
/// or 0 when `der` is not exactly one RSA SubjectPublicKeyInfo.
int ledger_rsa_public_key_bits(const uint8_t *der, size_t derLength);
/// RSASSA-PKCS1-v1_5 with SHA-256 over `message`; 1 when the signature verifies, 0 otherwise.
int ledger_rsa_verify_sha256(const uint8_t *der, size_t derLength, const uint8_t *signature, size_t signatureLength,
                             const uint8_t *message, size_t messageLength);
/// 1 when `der` is exactly one P-256 (prime256v1) SubjectPublicKeyInfo, 0 otherwise.
int ledger_p256_public_key_valid(const uint8_t *der, size_t derLength);
/// ECDSA P-256 with SHA-256 over `message`, signature DER-encoded; 1 when it verifies, 0 otherwise.
int ledger_p256_verify_sha256(const uint8_t *der, size_t derLength, const uint8_t *signature, size_t signatureLength,
                              const uint8_t *message, size_t messageLength);

#endif
