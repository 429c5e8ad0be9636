/* io/bfile_format.c: encode and strictly decode the index and trailer framings. */
#include "io/bfile_format.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "io/bfile.h"
#include "io/checksum.h"

#define TRAILER_TAG SL__BFILE_TRAILER_TAG

/* An empty gzip member whose FEXTRA holds one "SL" subfield: fixed header (no mtime, OS
 * unknown), XLEN, subfield id and length, the payload, then an empty final deflate block
 * (03 00), CRC32 = 0 and ISIZE = 0. */
static const unsigned char gz_head[10] = {0x1f, 0x8b, 0x08, 0x04, 0, 0, 0, 0, 0, 0xff};
static const unsigned char gz_tail[10] = {0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0};
#define GZ_OVERHEAD (sizeof gz_head + 2 + 4 + sizeof gz_tail)

static void
put_le16(sl_buf *b, unsigned v)
{
    unsigned char x[2] = {(unsigned char)(v & 0xff), (unsigned char)(v >> 8)};
    sl_buf_append(b, x, 2);
}

static void
put_le32(sl_buf *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    sl_buf_append(b, x, 4);
}

static unsigned
le16(const unsigned char *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t
le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void
gz_member(sl_buf *out, const void *payload, size_t len)
{
    sl_buf_append(out, gz_head, sizeof gz_head);
    put_le16(out, (unsigned)(len + 4));
    sl_buf_append(out, "SL", 2);
    put_le16(out, (unsigned)len);
    sl_buf_append(out, payload, len);
    sl_buf_append(out, gz_tail, sizeof gz_tail);
}

/* Parses one such member at p[0..n); returns its size, 0 when it is not one. */
static size_t
gz_member_parse(const unsigned char *p, size_t n, const unsigned char **payload, size_t *len)
{
    if (n < GZ_OVERHEAD || memcmp(p, gz_head, sizeof gz_head) != 0)
        return 0;
    unsigned xlen = le16(p + 10);
    if (xlen < 4 || p[12] != 'S' || p[13] != 'L' || le16(p + 14) != xlen - 4)
        return 0;
    size_t total = GZ_OVERHEAD + xlen - 4;
    if (total > n || memcmp(p + 16 + xlen - 4, gz_tail, sizeof gz_tail) != 0)
        return 0;
    *payload = p + 16;
    *len = xlen - 4;
    return total;
}

bool
sl_bfile_phase_known(int64_t phase)
{
    static const int known[] = {SL_PHASE_PREAMBLE, SL_PHASE_PRE_DATA, SL_PHASE_DATA,
                                SL_PHASE_INDEX,    SL_PHASE_POST,     SL_PHASE_FINAL};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (phase == known[i])
            return true;
    return false;
}

size_t
sl__bfile_trailer_size(sl_codec_kind kind)
{
    switch (kind) {
    case SL_CODEC_GZIP:
        return GZ_OVERHEAD + SL__BFILE_TRAILER_PAYLOAD;
    case SL_CODEC_ZSTD:
        return 8 + SL__BFILE_TRAILER_PAYLOAD;
    case SL_CODEC_NONE:
        return 3 + SL__BFILE_TRAILER_PAYLOAD + 1;
    }
    return 0;
}

void
sl__bfile_trailer_encode(sl_codec_kind kind, uint64_t index_off, uint64_t index_len,
                         const unsigned char digest[32], sl_buf *out)
{
    char hex[SL_SHA256_HEX_LEN + 1];
    char payload[SL__BFILE_TRAILER_PAYLOAD + 1];
    sl_sha256_hex(digest, hex);
    snprintf(payload, sizeof payload, TRAILER_TAG "%020" PRIu64 " %020" PRIu64 " %s", index_off,
             index_len, hex);
    switch (kind) {
    case SL_CODEC_GZIP:
        gz_member(out, payload, SL__BFILE_TRAILER_PAYLOAD);
        break;
    case SL_CODEC_ZSTD:
        put_le32(out, SL__BFILE_SKIPPABLE_MAGIC);
        put_le32(out, SL__BFILE_TRAILER_PAYLOAD);
        sl_buf_append(out, payload, SL__BFILE_TRAILER_PAYLOAD);
        break;
    case SL_CODEC_NONE:
        sl_buf_puts(out, "-- ");
        sl_buf_append(out, payload, SL__BFILE_TRAILER_PAYLOAD);
        sl_buf_putc(out, '\n');
        break;
    }
}

static bool
parse_digits(const unsigned char *p, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9' || v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    *out = v;
    return true;
}

static bool
trailer_payload_decode(const unsigned char *p, uint64_t *off, uint64_t *len,
                       unsigned char digest[32])
{
    const size_t tag = sizeof TRAILER_TAG - 1;
    char hex[SL_SHA256_HEX_LEN + 1];
    if (memcmp(p, TRAILER_TAG, tag) != 0 || p[tag + 20] != ' ' || p[tag + 41] != ' ')
        return false;
    if (!parse_digits(p + tag, 20, off) || !parse_digits(p + tag + 21, 20, len))
        return false;
    memcpy(hex, p + tag + 42, SL_SHA256_HEX_LEN);
    hex[SL_SHA256_HEX_LEN] = '\0';
    return sl_sha256_parse_hex(hex, digest);
}

bool
sl__bfile_trailer_decode(sl_codec_kind kind, const unsigned char *tail, uint64_t *index_off,
                         uint64_t *index_len, unsigned char digest[32])
{
    size_t n = sl__bfile_trailer_size(kind);
    const unsigned char *payload = NULL;
    size_t len = 0;
    switch (kind) {
    case SL_CODEC_GZIP:
        if (gz_member_parse(tail, n, &payload, &len) != n || len != SL__BFILE_TRAILER_PAYLOAD)
            return false;
        break;
    case SL_CODEC_ZSTD:
        if (le32(tail) != SL__BFILE_SKIPPABLE_MAGIC || le32(tail + 4) != SL__BFILE_TRAILER_PAYLOAD)
            return false;
        payload = tail + 8;
        break;
    case SL_CODEC_NONE:
        if (memcmp(tail, "-- ", 3) != 0 || tail[n - 1] != '\n')
            return false;
        payload = tail + 3;
        break;
    }
    return trailer_payload_decode(payload, index_off, index_len, digest);
}

void
sl__bfile_index_encode(sl_codec_kind kind, const char *json, size_t len, sl_buf *out)
{
    switch (kind) {
    case SL_CODEC_GZIP:
        /* FEXTRA holds at most 65,535 bytes: one empty member per chunk (at least one). */
        do {
            size_t n = len < SL__BFILE_GZIP_CHUNK ? len : SL__BFILE_GZIP_CHUNK;
            gz_member(out, json, n);
            json += n;
            len -= n;
        } while (len);
        break;
    case SL_CODEC_ZSTD:
        put_le32(out, SL__BFILE_SKIPPABLE_MAGIC);
        put_le32(out, (uint32_t)len);
        sl_buf_append(out, json, len);
        break;
    case SL_CODEC_NONE:
        sl_buf_puts(out, SL__BFILE_INDEX_PREFIX);
        sl_buf_append(out, json, len);
        sl_buf_putc(out, '\n');
        break;
    }
}

void
sl__bfile_unframe_init(sl__bfile_unframe *u, sl_codec_kind kind, uint64_t total)
{
    memset(u, 0, sizeof *u);
    u->kind = kind;
    u->total = total;
}

static void
advance(sl__bfile_unframe *u, const unsigned char **p, size_t *n, size_t k)
{
    *p += k;
    *n -= k;
    u->seen += k;
}

/* Collects up to `want` header bytes; true once they are all there. */
static bool
collect(sl__bfile_unframe *u, const unsigned char **p, size_t *n, size_t want)
{
    size_t k = want - u->head_len < *n ? want - u->head_len : *n;
    memcpy(u->head + u->head_len, *p, k);
    u->head_len += k;
    advance(u, p, n, k);
    return u->head_len == want;
}

static int
next_none(sl__bfile_unframe *u, const unsigned char **p, size_t *n, const unsigned char **json,
          size_t *len)
{
    const size_t prefix = sizeof SL__BFILE_INDEX_PREFIX - 1;
    uint64_t json_end = u->total - 1;  /* the final newline */
    if (u->total < prefix + 1)
        return -1;
    if (u->seen < prefix) {
        size_t k = prefix - u->seen < *n ? prefix - (size_t)u->seen : *n;
        if (memcmp(*p, &SL__BFILE_INDEX_PREFIX[u->seen], k) != 0)
            return -1;
        advance(u, p, n, k);
        return 0;
    }
    if (u->seen < json_end) {
        size_t k = json_end - u->seen < *n ? (size_t)(json_end - u->seen) : *n;
        const unsigned char *nl = memchr(*p, '\n', k);
        if (nl == *p)
            return -1;
        if (nl)
            k = (size_t)(nl - *p);  /* the JSON before it first: the same whatever the chunks */
        *json = *p;
        *len = k;
        advance(u, p, n, k);
        return 1;
    }
    if (**p != '\n')
        return -1;
    advance(u, p, n, 1);
    return 0;
}

static int
next_zstd(sl__bfile_unframe *u, const unsigned char **p, size_t *n, const unsigned char **json,
          size_t *len)
{
    if (u->head_len < 8) {
        if (collect(u, p, n, 8)
            && (le32(u->head) != SL__BFILE_SKIPPABLE_MAGIC || le32(u->head + 4) != u->total - 8))
            return -1;
        return 0;
    }
    *json = *p;
    *len = *n;
    advance(u, p, n, *n);
    return 1;
}

static int
next_gzip(sl__bfile_unframe *u, const unsigned char **p, size_t *n, const unsigned char **json,
          size_t *len)
{
    if (u->head_len < 16) {
        if (!collect(u, p, n, 16))
            return 0;
        unsigned xlen = le16(u->head + 10);
        if (memcmp(u->head, gz_head, sizeof gz_head) != 0 || xlen < 4 || u->head[12] != 'S'
            || u->head[13] != 'L' || le16(u->head + 14) != xlen - 4)
            return -1;
        u->payload = xlen - 4;
        u->tail = 0;
        return 0;
    }
    if (u->payload) {
        size_t k = u->payload < *n ? u->payload : *n;
        *json = *p;
        *len = k;
        u->payload -= k;
        advance(u, p, n, k);
        return 1;
    }
    size_t k = sizeof gz_tail - u->tail < *n ? sizeof gz_tail - u->tail : *n;
    if (memcmp(*p, gz_tail + u->tail, k) != 0)
        return -1;
    u->tail += k;
    advance(u, p, n, k);
    if (u->tail == sizeof gz_tail) {
        u->members++;
        u->head_len = 0;
    }
    return 0;
}

int
sl__bfile_unframe_next(sl__bfile_unframe *u, const unsigned char **p, size_t *n,
                       const unsigned char **json, size_t *len)
{
    if (*n > u->total - u->seen)
        return -1;
    while (*n) {
        int rc = u->kind == SL_CODEC_GZIP   ? next_gzip(u, p, n, json, len)
                 : u->kind == SL_CODEC_ZSTD ? next_zstd(u, p, n, json, len)
                                            : next_none(u, p, n, json, len);
        if (rc != 0)
            return rc;
    }
    return 0;
}

bool
sl__bfile_unframe_done(const sl__bfile_unframe *u)
{
    if (u->seen != u->total)
        return false;
    switch (u->kind) {
    case SL_CODEC_GZIP:
        return u->members > 0 && u->head_len == 0;
    case SL_CODEC_ZSTD:
        return u->head_len == 8;
    case SL_CODEC_NONE:
        return u->total >= sizeof SL__BFILE_INDEX_PREFIX;
    }
    return false;
}
