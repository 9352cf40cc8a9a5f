// The SHA256_* functions are deprecated in OpenSSL 3 in favour of EVP, but EVP costs a fetch and a
// context allocation per call, which dominates for short inputs. They remain supported in 3.x.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>
#include "COpenSSL.h"

void ledger_sha256(const void *data, size_t length, uint8_t out[32]) {
    SHA256_CTX context;
    SHA256_Init(&context);
    SHA256_Update(&context, data, length);
    SHA256_Final(out, &context);
}

void ledger_sha256_pair(const void *first, size_t firstLength, const void *second, size_t secondLength,
                        uint8_t out[32]) {
    SHA256_CTX context;
    SHA256_Init(&context);
    SHA256_Update(&context, first, firstLength);
    SHA256_Update(&context, second, secondLength);
    SHA256_Final(out, &context);
}
