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

#endif
