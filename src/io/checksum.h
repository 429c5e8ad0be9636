/* io/checksum.h: SHA-256 (OpenSSL EVP) for segment and index checksums.
 * Calling order: sl_sha256_new() -> sl_sha256_update()* -> sl_sha256_final() -> _free().
 * A context is used by one thread at a time; _final() may be followed by _reset() to reuse it.
 * An EVP failure inside _update() is remembered and reported by _final(). */
#ifndef SL_IO_CHECKSUM_H
#define SL_IO_CHECKSUM_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

#define SL_SHA256_LEN 32
#define SL_SHA256_HEX_LEN 64

typedef struct sl_sha256 sl_sha256;

SL_MUSTCHECK int sl_sha256_new(sl_sha256 **out, sl_error *err);
SL_MUSTCHECK int sl_sha256_reset(sl_sha256 *h, sl_error *err);
void sl_sha256_update(sl_sha256 *h, const void *data, size_t len);
SL_MUSTCHECK int sl_sha256_final(sl_sha256 *h, unsigned char digest[SL_SHA256_LEN], sl_error *err);
void sl_sha256_free(sl_sha256 *h);
/* One-shot digest of a buffer. */
SL_MUSTCHECK int sl_sha256_digest(const void *data, size_t len, unsigned char digest[SL_SHA256_LEN],
                                  sl_error *err);
/* Lowercase hex, NUL-terminated (out holds SL_SHA256_HEX_LEN + 1 bytes). */
void sl_sha256_hex(const unsigned char digest[SL_SHA256_LEN], char *out);
/* Parses exactly 64 hex digits; false when hex is anything else. */
bool sl_sha256_parse_hex(const char *hex, unsigned char digest[SL_SHA256_LEN]);

#endif
