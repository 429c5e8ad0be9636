/* proxy/cachekey.c: the framed SHA-256 of a statement's result-changing inputs. The framing
 * (cachekey.h) is fed straight into the digest: nothing is concatenated in memory. */
#include "proxy/cachekey.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

/* Bumped whenever the framing changes, so that old entries are never read as new ones. */
#define KEY_FORMAT "sluice-cachekey-1"
#define NULL_LEN UINT64_MAX

typedef struct {
    EVP_MD_CTX *ctx;
    bool failed;
} framer;

static void
feed(framer *f, const void *data, size_t len)
{
    if (len && !f->failed && EVP_DigestUpdate(f->ctx, data, len) != 1)
        f->failed = true;
}

static void
put_u64(framer *f, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (56 - 8 * i));
    feed(f, b, sizeof b);
}

/* A field: its tag, then its length (NULL_LEN for a missing value), then its bytes. */
static void
put_field(framer *f, char tag, const void *data, uint64_t len)
{
    feed(f, &tag, 1);
    put_u64(f, data ? len : NULL_LEN);
    if (data)
        feed(f, data, (size_t)len);
}

static void
put_text(framer *f, char tag, const char *s)
{
    put_field(f, tag, s, s ? strlen(s) : 0);
}

static void
put_count(framer *f, char tag, size_t n)
{
    feed(f, &tag, 1);
    put_u64(f, n);
}

static int
by_name(const void *a, const void *b)
{
    const sl_cachekey_setting *x = *(const sl_cachekey_setting *const *)a;
    const sl_cachekey_setting *y = *(const sl_cachekey_setting *const *)b;
    return strcmp(x->name, y->name);
}

/* Extra settings in name order; a name given twice would make the key depend on the order. */
static int
put_extra(framer *f, const sl_cachekey_setting *extra, size_t n, sl_error *err)
{
    const sl_cachekey_setting **sorted = NULL;
    if (n)
        sorted = sl_malloc(n * sizeof *sorted);
    bool in_order = true;  /* a caller that sorts once spares a sort per key */
    for (size_t i = 0; i < n; i++) {
        sorted[i] = &extra[i];
        if (i && strcmp(extra[i - 1].name, extra[i].name) >= 0)
            in_order = false;
    }
    if (n > 1 && !in_order)
        qsort(sorted, n, sizeof *sorted, by_name);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(sorted[i - 1]->name, sorted[i]->name) == 0) {
            sl_error_set(err, SL_E_USAGE, "setting \"%s\" given twice for a cache key",
                         sorted[i]->name);
            free(sorted);
            return -1;
        }
    }
    put_count(f, 'X', n);
    for (size_t i = 0; i < n; i++) {
        put_text(f, 'n', sorted[i]->name);
        put_text(f, 'v', sorted[i]->value);
    }
    free(sorted);
    return 0;
}

static void
put_statement(framer *f, const sl_cachekey_input *in)
{
    put_text(f, 'd', in->database);
    put_text(f, 'u', in->user);
    uint8_t proto = (uint8_t)in->protocol;
    put_field(f, 'p', &proto, 1);
    put_field(f, 'q', in->sql ? in->sql : "", in->sql ? in->sql_len : 0);
    put_count(f, 'T', in->n_param_types);
    for (size_t i = 0; i < in->n_param_types; i++)
        put_u64(f, in->param_types[i]);
    put_count(f, 'V', in->n_params);
    for (size_t i = 0; i < in->n_params; i++) {
        const sl_cachekey_value *v = &in->params[i];
        bool null = v->len < 0;
        put_field(f, 'v', null ? NULL : (v->data ? (const void *)v->data : ""),
                  null ? 0 : (uint64_t)v->len);
    }
    put_count(f, 'F', in->n_param_formats);
    for (size_t i = 0; i < in->n_param_formats; i++)
        put_u64(f, (uint16_t)in->param_formats[i]);
    put_count(f, 'R', in->n_result_formats);
    for (size_t i = 0; i < in->n_result_formats; i++)
        put_u64(f, (uint16_t)in->result_formats[i]);
}

static void
put_settings(framer *f, const sl_cachekey_input *in)
{
    put_text(f, 's', in->search_path);
    put_text(f, 'r', in->role);
    put_text(f, 'z', in->timezone);
    put_text(f, 'D', in->datestyle);
    put_text(f, 'I', in->intervalstyle);
    put_text(f, 'e', in->client_encoding);
    put_text(f, 'c', in->standard_conforming_strings);
}

static void
base64_raw(const uint8_t *in, size_t n, char *out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = alphabet[(v >> 6) & 63];
        if (i + 2 < n)
            out[o++] = alphabet[v & 63];
    }
    out[o] = '\0';
}

static bool
reserved(const char *s, const char *word)
{
    size_t n = strlen(word);
    return strncmp(s, word, n) == 0 && (s[n] == '\0' || s[n] == ':');
}

int
sl_cachekey_check_suffix(const char *suffix, sl_error *err)
{
    size_t n = strlen(suffix);
    if (n == 0 || n > SL_CACHEKEY_SUFFIX_MAX) {
        sl_error_set(err, SL_E_USAGE, "cache key suffix must have 1 to %d bytes, not %zu",
                     SL_CACHEKEY_SUFFIX_MAX, n);
        return -1;
    }
    if (reserved(suffix, "tables") || reserved(suffix, "gen")) {
        sl_error_set(err, SL_E_USAGE, "cache key suffix \"%s\" is reserved", suffix);
        return -1;
    }
    return 0;
}

/* Fetched once: EVP_sha256() makes OpenSSL 3 look the provider up (under a lock) at every
 * digest, a tenth of a cache hit's CPU. */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256;

static void
fetch_sha256(void)
{
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

int
sl_cachekey_make(sl_cachekey *out, const sl_cachekey_input *in, sl_error *err)
{
    const char *suffix = in->suffix ? in->suffix : "DEFAULT";
    if (sl_cachekey_check_suffix(suffix, err) != 0)
        return -1;
    framer f = {.ctx = EVP_MD_CTX_new()};
    int rc = -1;
    pthread_once(&sha256_once, fetch_sha256);
    if (!f.ctx || !sha256 || EVP_DigestInit_ex(f.ctx, sha256, NULL) != 1) {
        sl_error_set(err, SL_E_INTERNAL, "could not start a SHA-256 digest");
        goto done;
    }
    put_text(&f, 'K', KEY_FORMAT);
    put_statement(&f, in);
    put_settings(&f, in);
    if (put_extra(&f, in->extra, in->n_extra, err) != 0)
        goto done;
    uint8_t hash[SL_CACHEKEY_HASH_LEN];
    unsigned int n = 0;
    if (f.failed || EVP_DigestFinal_ex(f.ctx, hash, &n) != 1 || n != sizeof hash) {
        sl_error_set(err, SL_E_INTERNAL, "SHA-256 digest of a cache key failed");
        goto done;
    }
    char b64[SL_CACHEKEY_HASH_B64_LEN + 1];
    base64_raw(hash, sizeof hash, b64);
    memcpy(out->hash, hash, sizeof hash);
    int len = snprintf(out->text, sizeof out->text, "PGPROXY:%s:%s", suffix, b64);
    out->text_len = (size_t)len;
    rc = 0;
done:
    EVP_MD_CTX_free(f.ctx);
    return rc;
}
