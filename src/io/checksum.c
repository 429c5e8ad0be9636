/* io/checksum.c: SHA-256 through OpenSSL's EVP interface. */
#include "io/checksum.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "base/mem.h"

struct sl_sha256 {
    EVP_MD_CTX *ctx;
    bool failed;
};

int
sl_sha256_new(sl_sha256 **out, sl_error *err)
{
    sl_sha256 *h = sl_calloc(1, sizeof *h);
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx) {
        free(h);
        sl_error_set(err, SL_E_INTERNAL, "could not create a SHA-256 context");
        return -1;
    }
    if (sl_sha256_reset(h, err) != 0) {
        sl_sha256_free(h);
        return -1;
    }
    *out = h;
    return 0;
}

int
sl_sha256_reset(sl_sha256 *h, sl_error *err)
{
    h->failed = false;
    if (EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
        sl_error_set(err, SL_E_INTERNAL, "could not start a SHA-256 digest");
        return -1;
    }
    return 0;
}

void
sl_sha256_update(sl_sha256 *h, const void *data, size_t len)
{
    if (len && !h->failed && EVP_DigestUpdate(h->ctx, data, len) != 1)
        h->failed = true;
}

int
sl_sha256_final(sl_sha256 *h, unsigned char digest[SL_SHA256_LEN], sl_error *err)
{
    unsigned int n = 0;
    if (h->failed || EVP_DigestFinal_ex(h->ctx, digest, &n) != 1 || n != SL_SHA256_LEN) {
        sl_error_set(err, SL_E_INTERNAL, "SHA-256 computation failed");
        return -1;
    }
    return 0;
}

void
sl_sha256_free(sl_sha256 *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->ctx);
    free(h);
}

int
sl_sha256_digest(const void *data, size_t len, unsigned char digest[SL_SHA256_LEN], sl_error *err)
{
    sl_sha256 *h = NULL;
    if (sl_sha256_new(&h, err) != 0)
        return -1;
    sl_sha256_update(h, data, len);
    int rc = sl_sha256_final(h, digest, err);
    sl_sha256_free(h);
    return rc;
}

void
sl_sha256_hex(const unsigned char digest[SL_SHA256_LEN], char *out)
{
    sl_hex_encode(out, digest, SL_SHA256_LEN);
    out[SL_SHA256_HEX_LEN] = '\0';
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

bool
sl_sha256_parse_hex(const char *hex, unsigned char digest[SL_SHA256_LEN])
{
    if (!hex || strlen(hex) != SL_SHA256_HEX_LEN)
        return false;
    for (int i = 0; i < SL_SHA256_LEN; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        digest[i] = (unsigned char)(hi << 4 | lo);
    }
    return true;
}
