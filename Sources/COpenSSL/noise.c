// The primitives of libp2p's Noise handshake (Noise_XX_25519_ChaChaPoly_SHA256): X25519, ChaCha20-Poly1305
// (IETF, 96-bit nonce) and HMAC-SHA256 for HKDF. Each returns 1 on success, 0 on failure.
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "COpenSSL.h"

int ledger_x25519_public(const uint8_t secret[32], uint8_t publicKey[32]) {
    EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, secret, 32);
    if (!key) return 0;
    size_t length = 32;
    int ok = EVP_PKEY_get_raw_public_key(key, publicKey, &length) == 1 && length == 32;
    EVP_PKEY_free(key);
    return ok;
}

int ledger_x25519(const uint8_t secret[32], const uint8_t peer[32], uint8_t shared[32]) {
    EVP_PKEY *own = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, secret, 32);
    EVP_PKEY *other = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, 32);
    EVP_PKEY_CTX *context = own ? EVP_PKEY_CTX_new(own, NULL) : NULL;
    size_t length = 32;
    int ok = own && other && context && EVP_PKEY_derive_init(context) == 1
        && EVP_PKEY_derive_set_peer(context, other) == 1 && EVP_PKEY_derive(context, shared, &length) == 1
        && length == 32;
    EVP_PKEY_CTX_free(context);
    EVP_PKEY_free(other);
    EVP_PKEY_free(own);
    return ok;
}

static void noise_nonce(uint64_t counter, uint8_t nonce[12]) {
    // Noise's ChaChaPoly nonce: 32 zero bits, then the 64-bit counter little-endian.
    memset(nonce, 0, 4);
    for (int i = 0; i < 8; i++) nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

int ledger_chachapoly_seal(const uint8_t key[32], uint64_t counter, const uint8_t *ad, size_t adLength,
                           const uint8_t *plain, size_t plainLength, uint8_t *out) {
    uint8_t nonce[12];
    noise_nonce(counter, nonce);
    EVP_CIPHER_CTX *context = EVP_CIPHER_CTX_new();
    int length = 0, ok = context != NULL;
    ok = ok && EVP_EncryptInit_ex(context, EVP_chacha20_poly1305(), NULL, key, nonce) == 1;
    ok = ok && (adLength == 0 || EVP_EncryptUpdate(context, NULL, &length, ad, (int)adLength) == 1);
    ok = ok && (plainLength == 0 || EVP_EncryptUpdate(context, out, &length, plain, (int)plainLength) == 1);
    ok = ok && EVP_EncryptFinal_ex(context, out + plainLength, &length) == 1;
    ok = ok && EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, 16, out + plainLength) == 1;
    EVP_CIPHER_CTX_free(context);
    return ok;
}

int ledger_chachapoly_open(const uint8_t key[32], uint64_t counter, const uint8_t *ad, size_t adLength,
                           const uint8_t *sealed, size_t sealedLength, uint8_t *out) {
    if (sealedLength < 16) return 0;
    size_t plainLength = sealedLength - 16;
    uint8_t nonce[12], tag[16];
    noise_nonce(counter, nonce);
    memcpy(tag, sealed + plainLength, 16);
    EVP_CIPHER_CTX *context = EVP_CIPHER_CTX_new();
    int length = 0, ok = context != NULL;
    ok = ok && EVP_DecryptInit_ex(context, EVP_chacha20_poly1305(), NULL, key, nonce) == 1;
    ok = ok && (adLength == 0 || EVP_DecryptUpdate(context, NULL, &length, ad, (int)adLength) == 1);
    ok = ok && (plainLength == 0 || EVP_DecryptUpdate(context, out, &length, sealed, (int)plainLength) == 1);
    ok = ok && EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, 16, tag) == 1;
    ok = ok && EVP_DecryptFinal_ex(context, out + plainLength, &length) == 1;
    EVP_CIPHER_CTX_free(context);
    return ok;
}

int ledger_hmac_sha256(const uint8_t *key, size_t keyLength, const uint8_t *data, size_t dataLength,
                       uint8_t out[32]) {
    unsigned int length = 32;
    return HMAC(EVP_sha256(), key, (int)keyLength, data, dataLength, out, &length) != NULL && length == 32;
}

int ledger_ed25519_verify(const uint8_t publicKey[32], const uint8_t *signature, size_t signatureLength,
                          const uint8_t *message, size_t messageLength) {
    EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, publicKey, 32);
    EVP_MD_CTX *context = key ? EVP_MD_CTX_new() : NULL;
    int ok = key && context && signatureLength == 64 && EVP_DigestVerifyInit(context, NULL, NULL, NULL, key) == 1
        && EVP_DigestVerify(context, signature, signatureLength, message, messageLength) == 1;
    EVP_MD_CTX_free(context);
    EVP_PKEY_free(key);
    return ok;
}

#include <openssl/crypto.h>

// libcrypto frees its global locks in an atexit handler; a connection task still encrypting while the
// process exits would then take a freed lock. Opting out of that cleanup (the OS reclaims everything at
// exit anyway) makes exiting with live connections safe.
__attribute__((constructor)) static void ledger_openssl_no_atexit(void) {
    OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
}
