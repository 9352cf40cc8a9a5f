// Verification for the libp2p identity key types whose keys are DER SubjectPublicKeyInfo: RSA
// (RSASSA-PKCS1-v1_5, SHA-256) and ECDSA P-256 (SHA-256, DER signature). Each returns 0 on any failure.
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/ec.h>
#include "COpenSSL.h"

// The key in `der`, only when the whole buffer is one SubjectPublicKeyInfo (no trailing bytes).
static EVP_PKEY *parse_spki(const uint8_t *der, size_t derLength, int type) {
    if (der == NULL || derLength == 0 || derLength > 4096) return NULL;
    const unsigned char *cursor = der;
    EVP_PKEY *key = d2i_PUBKEY(NULL, &cursor, (long)derLength);
    if (key == NULL) return NULL;
    if (cursor != der + derLength || EVP_PKEY_get_base_id(key) != type) {
        EVP_PKEY_free(key);
        return NULL;
    }
    return key;
}

static int verify_sha256(EVP_PKEY *key, const uint8_t *signature, size_t signatureLength,
                         const uint8_t *message, size_t messageLength) {
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    int ok = context != NULL && signature != NULL && signatureLength > 0
        && EVP_DigestVerifyInit(context, NULL, EVP_sha256(), NULL, key) == 1
        && EVP_DigestVerify(context, signature, signatureLength, message, messageLength) == 1;
    EVP_MD_CTX_free(context);
    return ok;
}

int ledger_rsa_public_key_bits(const uint8_t *der, size_t derLength) {
    EVP_PKEY *key = parse_spki(der, derLength, EVP_PKEY_RSA);
    if (key == NULL) return 0;
    int bits = EVP_PKEY_get_bits(key);
    EVP_PKEY_free(key);
    return bits > 0 ? bits : 0;
}

int ledger_rsa_verify_sha256(const uint8_t *der, size_t derLength, const uint8_t *signature, size_t signatureLength,
                             const uint8_t *message, size_t messageLength) {
    EVP_PKEY *key = parse_spki(der, derLength, EVP_PKEY_RSA);
    if (key == NULL) return 0;
    // PKCS#1 v1.5 is the default padding of an RSA verification context.
    int ok = verify_sha256(key, signature, signatureLength, message, messageLength);
    EVP_PKEY_free(key);
    return ok;
}

static EVP_PKEY *parse_p256(const uint8_t *der, size_t derLength) {
    EVP_PKEY *key = parse_spki(der, derLength, EVP_PKEY_EC);
    if (key == NULL) return NULL;
    char curve[64];
    size_t length = 0;
    if (EVP_PKEY_get_utf8_string_param(key, "group", curve, sizeof curve, &length) != 1
        || OBJ_txt2nid(curve) != NID_X9_62_prime256v1) {
        EVP_PKEY_free(key);
        return NULL;
    }
    return key;
}

int ledger_p256_public_key_valid(const uint8_t *der, size_t derLength) {
    EVP_PKEY *key = parse_p256(der, derLength);
    if (key == NULL) return 0;
    EVP_PKEY_free(key);
    return 1;
}

int ledger_p256_verify_sha256(const uint8_t *der, size_t derLength, const uint8_t *signature, size_t signatureLength,
                              const uint8_t *message, size_t messageLength) {
    EVP_PKEY *key = parse_p256(der, derLength);
    if (key == NULL) return 0;
    int ok = verify_sha256(key, signature, signatureLength, message, messageLength);
    EVP_PKEY_free(key);
    return ok;
}
