/* io/bfile_format.c: encode and strictly decode the index and trailer framings. */
#include "io/bfile_format.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

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

bool
sl__bfile_index_decode(sl_codec_kind kind, const unsigned char *p, size_t n, sl_buf *json)
{
    const size_t prefix = sizeof SL__BFILE_INDEX_PREFIX - 1;
    switch (kind) {
    case SL_CODEC_GZIP:
        if (n == 0)
            return false;
        while (n) {
            const unsigned char *payload = NULL;
            size_t len = 0, used = gz_member_parse(p, n, &payload, &len);
            if (!used)
                return false;
            sl_buf_append(json, payload, len);
            p += used;
            n -= used;
        }
        return true;
    case SL_CODEC_ZSTD:
        if (n < 8 || le32(p) != SL__BFILE_SKIPPABLE_MAGIC || le32(p + 4) != n - 8)
            return false;
        sl_buf_append(json, p + 8, n - 8);
        return true;
    case SL_CODEC_NONE:
        if (n < prefix + 1 || memcmp(p, SL__BFILE_INDEX_PREFIX, prefix) != 0 || p[n - 1] != '\n'
            || memchr(p + prefix, '\n', n - prefix - 1))
            return false;
        sl_buf_append(json, p + prefix, n - prefix - 1);
        return true;
    }
    return false;
}
