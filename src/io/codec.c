/* io/codec.c: compression kinds, one-member compression (ISA-L, libdeflate, libzstd) and streaming
 * decompression of concatenated members (ISA-L for a gzip member that is whole in the input,
 * zlib inflate otherwise; ZSTD_decompressStream). */
#include "io/codec.h"

#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#define ZSTD_STATIC_LINKING_ONLY  /* ZSTD_getFrameHeader(): exported by Debian's libzstd */
#include <zstd.h>
#include <zstd_errors.h>

#include "base/mem.h"

/* Default levels, chosen with the backup bench (bench/backup.py): a backup competes with the
 * server's COPY for the same cores, so compression must stay cheaper than producing the rows. On
 * table data (random text, bytea, jsonb) libdeflate level 1 takes 60% of level 6's CPU for 6.5%
 * more output (still below pg_dump -Fd's zlib level 6), and zstd level 1 takes 40% of level 3's CPU
 * for output no larger (its fast strategy suits 1 MiB blocks). gzip level 1 is made by ISA-L's
 * igzip, which on the same data takes 37% of libdeflate level 1's CPU for 1% smaller output; levels
 * 2 and up are libdeflate's. */
#define GZIP_DEFAULT_LEVEL 1
#define ZSTD_DEFAULT_LEVEL 1

int
sl_codec_parse(sl_codec *out, const char *spec, sl_error *err)
{
    const char *colon = strchr(spec, ':');
    size_t name_len = colon ? (size_t)(colon - spec) : strlen(spec);
    sl_codec c = {SL_CODEC_NONE, 0};
    int max_level = 0;
    if (name_len == 4 && strncmp(spec, "gzip", 4) == 0) {
        c.kind = SL_CODEC_GZIP;
        max_level = 12;  /* libdeflate goes beyond gzip's 9 */
    } else if (name_len == 4 && strncmp(spec, "zstd", 4) == 0) {
        c.kind = SL_CODEC_ZSTD;
        max_level = ZSTD_maxCLevel();
    } else if (name_len == 4 && strncmp(spec, "none", 4) == 0) {
        c.kind = SL_CODEC_NONE;
    } else {
        sl_error_set(err, SL_E_USAGE,
                     "invalid compression \"%s\": expected gzip[:LEVEL], zstd[:LEVEL] or none",
                     spec);
        return -1;
    }
    if (colon) {
        const char *lv = colon + 1;
        char *end = NULL;
        long level = strtol(lv, &end, 10);
        if (c.kind == SL_CODEC_NONE) {
            sl_error_set(err, SL_E_USAGE, "invalid compression \"%s\": none takes no level", spec);
            return -1;
        }
        if (!*lv || *end || level < 1 || level > max_level) {
            sl_error_set(err, SL_E_USAGE,
                         "invalid compression level in \"%s\": expected an integer from 1 to %d",
                         spec, max_level);
            return -1;
        }
        c.level = (int)level;
    }
    *out = c;
    return 0;
}

static bool
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

sl_codec_kind
sl_codec_from_filename(const char *path)
{
    if (ends_with(path, ".gz"))
        return SL_CODEC_GZIP;
    if (ends_with(path, ".zst"))
        return SL_CODEC_ZSTD;
    return SL_CODEC_NONE;
}

sl_codec_kind
sl_codec_detect(const void *head, size_t len)
{
    const unsigned char *p = head;
    if (len >= 2 && p[0] == 0x1f && p[1] == 0x8b)
        return SL_CODEC_GZIP;
    /* A zstd stream starts with a frame (28 B5 2F FD) or a skippable frame (5? 2A 4D 18). */
    if (len >= 4 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd && p[0] == 0x28)
        return SL_CODEC_ZSTD;
    if (len >= 4 && (p[0] & 0xf0) == 0x50 && p[1] == 0x2a && p[2] == 0x4d && p[3] == 0x18)
        return SL_CODEC_ZSTD;
    return SL_CODEC_NONE;
}

const char *
sl_codec_name(sl_codec_kind kind)
{
    switch (kind) {
    case SL_CODEC_NONE:
        return "none";
    case SL_CODEC_GZIP:
        return "gzip";
    case SL_CODEC_ZSTD:
        return "zstd";
    }
    return "unknown";
}

/* ---- compression ---- */

struct sl_compressor {
    sl_codec_kind kind;
    struct libdeflate_compressor *deflate;  /* gzip levels 2-12; level 1 when igzip overflows */
    unsigned char *igzip_buf;               /* gzip level 1: igzip's hash tables */
    ZSTD_CCtx *zstd;
};

/* Frames written as a stream (sl_compressor_stream) would take the level's window, up to 8 MiB
 * at the high levels; restore reads -j of them at once and refuses more than
 * SL_CODEC_ZSTD_OWN_WINDOW_LOG, so the window is bounded here. */
static int
zstd_bound_window(ZSTD_CCtx *z, int level)
{
    ZSTD_compressionParameters p = ZSTD_getCParams(level, 0, 0);
    if (p.windowLog <= SL_CODEC_ZSTD_OWN_WINDOW_LOG)
        return 0;
    return ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_windowLog, SL_CODEC_ZSTD_OWN_WINDOW_LOG))
               ? -1
               : 0;
}

int
sl_compressor_new(sl_compressor **out, const sl_codec *codec, sl_error *err)
{
    sl_compressor *c = sl_calloc(1, sizeof *c);
    c->kind = codec->kind;
    int gzip_level = codec->level ? codec->level : GZIP_DEFAULT_LEVEL;
    if (codec->kind == SL_CODEC_GZIP && gzip_level == 1) {
        c->igzip_buf = sl_malloc(ISAL_DEF_LVL1_DEFAULT);
    } else if (codec->kind == SL_CODEC_GZIP) {
        c->deflate = libdeflate_alloc_compressor(gzip_level);
        if (!c->deflate) {
            sl_error_set(err, SL_E_INTERNAL, "could not create a gzip compressor at level %d",
                         codec->level);
            goto fail;
        }
    } else if (codec->kind == SL_CODEC_ZSTD) {
        c->zstd = ZSTD_createCCtx();
        if (!c->zstd
            || ZSTD_isError(ZSTD_CCtx_setParameter(
                c->zstd, ZSTD_c_compressionLevel, codec->level ? codec->level : ZSTD_DEFAULT_LEVEL))
            || ZSTD_isError(ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_checksumFlag, 1))
            || zstd_bound_window(c->zstd, codec->level ? codec->level : ZSTD_DEFAULT_LEVEL) != 0) {
            sl_error_set(err, SL_E_INTERNAL, "could not create a zstd compressor at level %d",
                         codec->level);
            goto fail;
        }
    }
    *out = c;
    return 0;
fail:
    sl_compressor_free(c);
    return -1;
}

void
sl_compressor_free(sl_compressor *c)
{
    if (!c)
        return;
    if (c->deflate)
        libdeflate_free_compressor(c->deflate);
    free(c->igzip_buf);
    ZSTD_freeCCtx(c->zstd);
    free(c);
}

/* One gzip member at level 1 with igzip: 0 when its output would not fit the room given
 * (data that does not compress), and the caller then uses libdeflate, whose bound is exact. */
static size_t
igzip_member(sl_compressor *c, const void *in, size_t len, sl_buf *out)
{
    if (len > UINT32_MAX / 2)
        return 0;
    size_t room = len + len / 8 + 4096;
    sl_buf_reserve(out, room);
    struct isal_zstream z;
    isal_deflate_stateless_init(&z);
    z.level = 1;
    z.level_buf = c->igzip_buf;
    z.level_buf_size = ISAL_DEF_LVL1_DEFAULT;
    z.gzip_flag = IGZIP_GZIP;
    z.end_of_stream = 1;
    z.flush = NO_FLUSH;
    z.next_in = (uint8_t *)in;
    z.avail_in = (uint32_t)len;
    z.next_out = (uint8_t *)out->data + out->len;
    z.avail_out = (uint32_t)room;
    if (isal_deflate_stateless(&z) != COMP_OK)
        return 0;
    return room - z.avail_out;
}

int
sl_compressor_member(sl_compressor *c, const void *in, size_t len, sl_buf *out, sl_error *err)
{
    size_t n = 0;
    switch (c->kind) {
    case SL_CODEC_NONE:
        sl_buf_append(out, in, len);
        return 0;
    case SL_CODEC_GZIP: {
        if (c->igzip_buf && (n = igzip_member(c, in, len, out)) > 0)
            break;
        if (!c->deflate && !(c->deflate = libdeflate_alloc_compressor(1))) {
            sl_error_set(err, SL_E_INTERNAL, "could not create a gzip compressor at level 1");
            return -1;
        }
        size_t bound = libdeflate_gzip_compress_bound(c->deflate, len);
        sl_buf_reserve(out, bound);
        n = libdeflate_gzip_compress(c->deflate, in, len, out->data + out->len, bound);
        if (n == 0) {
            sl_error_set(err, SL_E_INTERNAL, "gzip compression of %zu bytes failed", len);
            return -1;
        }
        break;
    }
    case SL_CODEC_ZSTD: {
        size_t bound = ZSTD_compressBound(len);
        sl_buf_reserve(out, bound);
        n = ZSTD_compress2(c->zstd, out->data + out->len, bound, in, len);
        if (ZSTD_isError(n)) {
            sl_error_set(err, SL_E_INTERNAL, "zstd compression of %zu bytes failed: %s", len,
                         ZSTD_getErrorName(n));
            return -1;
        }
        break;
    }
    }
    out->len += n;
    out->data[out->len] = '\0';
    return 0;
}

static int
zstd_stream(sl_compressor *c, const void *in, size_t len, bool last, sl_buf *out, sl_error *err)
{
    ZSTD_inBuffer ib = {in, len, 0};
    for (;;) {
        sl_buf_reserve(out, ZSTD_CStreamOutSize());
        ZSTD_outBuffer ob = {out->data + out->len, out->cap - out->len - 1, 0};
        size_t left = ZSTD_compressStream2(c->zstd, &ob, &ib, last ? ZSTD_e_end : ZSTD_e_continue);
        if (ZSTD_isError(left)) {
            ZSTD_CCtx_reset(c->zstd, ZSTD_reset_session_only);
            sl_error_set(err, SL_E_INTERNAL, "zstd compression of %zu bytes failed: %s", len,
                         ZSTD_getErrorName(left));
            return -1;
        }
        out->len += ob.pos;
        out->data[out->len] = '\0';
        /* continue: done once the input is taken; end: once the frame is flushed whole */
        if (last ? left == 0 : ib.pos == ib.size)
            return 0;
    }
}

int
sl_compressor_stream(sl_compressor *c, const void *in, size_t len, bool last, sl_buf *out,
                     sl_error *err)
{
    if (c->kind == SL_CODEC_ZSTD)
        return zstd_stream(c, in, len, last, out, err);
    return len ? sl_compressor_member(c, in, len, out, err) : 0;
}

int
sl_codec_compress(const sl_codec *codec, const void *in, size_t len, sl_buf *out, sl_error *err)
{
    sl_compressor *c = NULL;
    if (sl_compressor_new(&c, codec, err) != 0)
        return -1;
    int rc = sl_compressor_member(c, in, len, out, err);
    sl_compressor_free(c);
    return rc;
}

/* ---- decompression ---- */

/* The whole-member path is tried only with at least this much room for output: smaller
 * buffers (a peek at the first bytes of a file) would make it fail for nothing. */
#define FAST_MIN_OUT ((size_t)64 << 10)

struct sl_inflater {
    sl_codec_kind kind;
    z_stream z;
    bool z_ready;
    struct inflate_state *fast;  /* ISA-L's stateless inflate: 85 KiB */
    bool fast_failed;  /* the member at the boundary did not decode whole: zlib streams it */
    ZSTD_DCtx *zstd;
    int window_log;         /* the zstd window bound */
    bool window_refused;    /* a zstd frame needed a window over it */
    bool in_frame;          /* zstd: the current frame's header went to the decoder */
    unsigned char head[ZSTD_FRAMEHEADERSIZE_MAX];  /* zstd: the next frame's header so far */
    size_t head_len;
    uint64_t base;          /* stored offset of the run's first byte */
    uint64_t consumed;      /* stored bytes consumed since the reset */
    uint64_t member_start;  /* position in the run of the current member */
    bool boundary;
};

int
sl_inflater_new(sl_inflater **out, sl_codec_kind kind, sl_error *err)
{
    sl_inflater *z = sl_calloc(1, sizeof *z);
    z->kind = kind;
    z->boundary = true;
    z->window_log = SL_CODEC_ZSTD_WINDOW_LOG_MAX;
    if (kind == SL_CODEC_GZIP) {
        /* 16 + 15: gzip wrapper only, 32 KiB window. */
        if (inflateInit2(&z->z, 16 + 15) != Z_OK) {
            sl_error_set(err, SL_E_INTERNAL, "could not create a gzip decompressor");
            goto fail;
        }
        z->z_ready = true;
        z->fast = sl_malloc(sizeof *z->fast);
    } else if (kind == SL_CODEC_ZSTD) {
        z->zstd = ZSTD_createDCtx();
        if (!z->zstd || ZSTD_isError(ZSTD_DCtx_setParameter(z->zstd, ZSTD_d_windowLogMax,
                                                            SL_CODEC_ZSTD_WINDOW_LOG_MAX))) {
            sl_error_set(err, SL_E_INTERNAL, "could not create a zstd decompressor");
            goto fail;
        }
    }
    *out = z;
    return 0;
fail:
    sl_inflater_free(z);
    return -1;
}

void
sl_inflater_free(sl_inflater *z)
{
    if (!z)
        return;
    if (z->z_ready)
        inflateEnd(&z->z);
    free(z->fast);
    ZSTD_freeDCtx(z->zstd);
    free(z);
}

void
sl_inflater_reset(sl_inflater *z, uint64_t base)
{
    z->base = base;
    z->consumed = 0;
    z->member_start = 0;
    z->boundary = true;
    z->fast_failed = false;
    z->window_refused = false;
    z->in_frame = false;
    z->head_len = 0;
    if (z->kind == SL_CODEC_GZIP)
        inflateReset(&z->z);
    else if (z->kind == SL_CODEC_ZSTD)
        ZSTD_DCtx_reset(z->zstd, ZSTD_reset_session_only);
}

bool
sl_inflater_at_boundary(const sl_inflater *z)
{
    return z->boundary;
}

uint64_t
sl_inflater_member_offset(const sl_inflater *z)
{
    return z->base + z->member_start;
}

bool
sl_inflater_window_refused(const sl_inflater *z)
{
    return z->window_refused;
}

void
sl_inflater_own_frames_only(sl_inflater *z)
{
    z->window_log = SL_CODEC_ZSTD_OWN_WINDOW_LOG;
    if (z->zstd)  /* lowering a bound the context already accepted cannot fail */
        (void)ZSTD_DCtx_setParameter(z->zstd, ZSTD_d_windowLogMax, z->window_log);
}

/* At a member boundary with an empty output buffer: decodes the member in one call when it is
 * whole in the input and fits the output (sluice's members hold at most one block, so a
 * reader with a block-sized buffer always takes this path). ISA-L's stateless inflate checks
 * the CRC and size too and is about three times as fast as zlib's inflate (on a sluice backup
 * of table data: 0.75 s of CPU per GB of text, libdeflate 1.09 s). Returns true when it did;
 * otherwise nothing was consumed and zlib streams the member (and reports what is wrong with
 * it). */
static bool
gzip_whole_member(sl_inflater *z, const unsigned char **in, size_t *in_len, unsigned char *out,
                  size_t out_cap, size_t *out_len)
{
    if (!z->boundary || z->fast_failed || *out_len != 0 || out_cap < FAST_MIN_OUT ||
        *in_len < 18)
        return false;
    /* only what zlib takes too: the magic, deflate, no header CRC (zlib checks it, ISA-L does
     * not) and no reserved flag (zlib refuses them, ISA-L does not look) */
    const unsigned char *h = *in;
    if (h[0] != 0x1f || h[1] != 0x8b || h[2] != 8 || (h[3] & 0xe2) != 0)
        return false;
    struct inflate_state *st = z->fast;
    isal_inflate_init(st);
    st->crc_flag = ISAL_GZIP;
    st->next_in = (uint8_t *)*in;
    st->avail_in = *in_len > UINT32_MAX ? UINT32_MAX : (uint32_t)*in_len;
    st->next_out = out;
    st->avail_out = out_cap > UINT32_MAX ? UINT32_MAX : (uint32_t)out_cap;
    if (isal_inflate_stateless(st) != ISAL_DECOMP_OK) {
        z->fast_failed = true;
        return false;
    }
    size_t used = (size_t)(st->next_in - *in), produced = st->total_out;
    *in += used;
    *in_len -= used;
    z->consumed += used;
    z->member_start = z->consumed;
    *out_len = produced;
    return true;
}

static int
run_gzip(sl_inflater *z, const unsigned char **in, size_t *in_len, unsigned char *out,
         size_t out_cap, size_t *out_len, sl_error *err)
{
    if (gzip_whole_member(z, in, in_len, out, out_cap, out_len))
        return 0;
    while (*out_len < out_cap) {
        if (*in_len == 0 && z->boundary)
            return 0;
        z->z.next_in = (unsigned char *)*in;
        z->z.avail_in = *in_len > UINT32_MAX ? UINT32_MAX : (uInt)*in_len;
        z->z.next_out = out + *out_len;
        z->z.avail_out = out_cap - *out_len > UINT32_MAX ? UINT32_MAX : (uInt)(out_cap - *out_len);
        uInt avail_in = z->z.avail_in, avail_out = z->z.avail_out;
        int zr = inflate(&z->z, Z_NO_FLUSH);
        size_t used = avail_in - z->z.avail_in;
        if (used) {  /* *in may be NULL when there is no input */
            *in += used;
            *in_len -= used;
            z->consumed += used;
        }
        *out_len += avail_out - z->z.avail_out;
        if (used)
            z->boundary = false;
        if (zr == Z_STREAM_END) {
            /* The member is complete; the next byte starts an independent one. */
            z->boundary = true;
            z->fast_failed = false;
            z->member_start = z->consumed;
            inflateReset(&z->z);
            continue;
        }
        if (zr == Z_BUF_ERROR || (zr == Z_OK && used == 0 && avail_out == z->z.avail_out))
            return 0;  /* no progress possible: needs more input */
        if (zr != Z_OK) {
            sl_error_set(err, SL_E_ARCHIVE, "invalid gzip data in the member at offset %llu: %s",
                         (unsigned long long)sl_inflater_member_offset(z),
                         z->z.msg ? z->z.msg : "corrupt stream");
            return -1;
        }
    }
    return 0;
}

/* A frame (or skippable frame) is complete and flushed: the next byte starts another. */
static void
end_frame(sl_inflater *z)
{
    z->boundary = true;
    z->in_frame = false;
    z->member_start = z->consumed;
}

/* The refusal of a frame whose window is over the bound; window 0 when the decoder found out
 * before its header could be read here (a header cut by the end of the input). */
static int
window_refused(sl_inflater *z, unsigned long long window, sl_error *err)
{
    char need[64];
    unsigned long long max_mib = (1ull << z->window_log) >> 20;
    if (window)
        snprintf(need, sizeof need, "%llu MiB", (window + (1u << 20) - 1) >> 20);
    else
        snprintf(need, sizeof need, "more than %llu MiB", max_mib);
    z->window_refused = true;
    if (z->window_log == SL_CODEC_ZSTD_OWN_WINDOW_LOG)
        sl_error_set(err, SL_E_ARCHIVE,
                     "the zstd frame at offset %llu needs a window of %s, more than the %llu MiB "
                     "of the frames sluice writes: the file was not written by sluice (`zstd -d "
                     "--long=31` decompresses it for psql)",
                     (unsigned long long)sl_inflater_member_offset(z), need, max_mib);
    else
        sl_error_set(err, SL_E_ARCHIVE,
                     "the zstd frame at offset %llu needs a window of %s (made with zstd --long "
                     "or --ultra?), more than the %llu MiB sluice allows (enough for zstd -19): "
                     "decompress it first with `zstd -d --long=31`",
                     (unsigned long long)sl_inflater_member_offset(z), need, max_mib);
    return -1;
}

static int
zstd_error(sl_inflater *z, size_t zr, sl_error *err)
{
    if (ZSTD_getErrorCode(zr) == ZSTD_error_frameParameter_windowTooLarge)
        return window_refused(z, 0, err);
    sl_error_set(err, SL_E_ARCHIVE, "invalid zstd data in the frame at offset %llu: %s",
                 (unsigned long long)sl_inflater_member_offset(z), ZSTD_getErrorName(zr));
    return -1;
}

/* The magic numbers of zstd 0.1 to 0.7 (0xFD2FB521 to 0xFD2FB527, 0.1's is 0xFD2FB51E). */
static bool
legacy_magic(const unsigned char *p, size_t n)
{
    if (n < 4)
        return false;
    uint32_t m = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16
                 | (uint32_t)p[3] << 24;
    return m == 0xFD2FB51Eu || (m >= 0xFD2FB521u && m <= 0xFD2FB527u);
}

/* Consumes up to k stored bytes into the header being gathered. */
static void
take_header_bytes(sl_inflater *z, const unsigned char **in, size_t *in_len, size_t k)
{
    memcpy(z->head + z->head_len, *in, k);
    z->head_len += k;
    *in += k;
    *in_len -= k;
    z->consumed += k;
    z->boundary = false;
}

/* A frame's header is gathered here, whatever the chunks it comes in, and checked before the
 * decoder sees any of it: a frame of the current format whose window is within the bound, or
 * a skippable frame. libzstd also decodes the formats of zstd 0.7 and older, without bounding
 * their windows: no such frame reaches it. 1 when the header is whole and checked, 0 when it
 * needs more input (all of it was taken), -1 on a refused frame. */
static int
gather_header(sl_inflater *z, const unsigned char **in, size_t *in_len, sl_error *err)
{
    for (;;) {
        ZSTD_frameHeader h;
        size_t need = ZSTD_getFrameHeader(&h, z->head, z->head_len);
        if (ZSTD_isError(need) && z->head_len < 4) {
            need = 4;  /* the whole magic number first, to say what it is whatever the chunks */
        } else if (ZSTD_isError(need) && legacy_magic(z->head, z->head_len)) {
            sl_error_set(err, SL_E_ARCHIVE, "the zstd frame at offset %llu has the format of "
                         "zstd 0.7 or older, which sluice does not read (`zstd -d` decompresses "
                         "it)", (unsigned long long)sl_inflater_member_offset(z));
            return -1;
        } else if (ZSTD_isError(need)) {
            return zstd_error(z, need, err);
        }
        if (need == 0) {
            if (h.frameType == ZSTD_frame && h.windowSize > (1ull << z->window_log))
                return window_refused(z, h.windowSize, err);
            return 1;
        }
        if (need > sizeof z->head) {
            sl_error_set(err, SL_E_INTERNAL, "zstd frame header of %zu bytes", need);
            return -1;
        }
        if (*in_len == 0)
            return 0;
        size_t k = need - z->head_len < *in_len ? need - z->head_len : *in_len;
        take_header_bytes(z, in, in_len, k);
    }
}

/* Hands the checked header to the decoder (it produces nothing yet, or ends an empty frame). */
static int
feed_header(sl_inflater *z, unsigned char *out, size_t out_cap, size_t *out_len, sl_error *err)
{
    ZSTD_inBuffer ib = {z->head, z->head_len, 0};
    ZSTD_outBuffer ob = {out, out_cap, *out_len};
    size_t zr = ZSTD_decompressStream(z->zstd, &ob, &ib);
    if (ZSTD_isError(zr))
        return zstd_error(z, zr, err);
    if (ib.pos != ib.size) {
        sl_error_set(err, SL_E_INTERNAL, "the zstd decoder left %zu bytes of a frame header",
                     ib.size - ib.pos);
        return -1;
    }
    *out_len = ob.pos;
    z->head_len = 0;
    z->in_frame = true;
    if (zr == 0)
        end_frame(z);
    return 0;
}

static int
run_zstd(sl_inflater *z, const unsigned char **in, size_t *in_len, unsigned char *out,
         size_t out_cap, size_t *out_len, sl_error *err)
{
    while (*out_len < out_cap) {
        if (*in_len == 0 && z->boundary)
            return 0;
        if (!z->in_frame) {
            int h = gather_header(z, in, in_len, err);
            if (h <= 0)
                return h;
            if (feed_header(z, out, out_cap, out_len, err) != 0)
                return -1;
            continue;
        }
        ZSTD_inBuffer ib = {*in, *in_len, 0};
        ZSTD_outBuffer ob = {out, out_cap, *out_len};
        size_t zr = ZSTD_decompressStream(z->zstd, &ob, &ib);
        if (ZSTD_isError(zr))
            return zstd_error(z, zr, err);
        size_t produced = ob.pos - *out_len;
        if (ib.pos) {
            *in += ib.pos;
            *in_len -= ib.pos;
            z->consumed += ib.pos;
        }
        *out_len = ob.pos;
        if (zr == 0) {
            end_frame(z);
            continue;
        }
        if (ib.pos == 0 && produced == 0)
            return 0;
    }
    return 0;
}

int
sl_inflater_run(sl_inflater *z, const unsigned char **in, size_t *in_len, unsigned char *out,
                size_t out_cap, size_t *out_len, sl_error *err)
{
    switch (z->kind) {
    case SL_CODEC_GZIP:
        return run_gzip(z, in, in_len, out, out_cap, out_len, err);
    case SL_CODEC_ZSTD:
        return run_zstd(z, in, in_len, out, out_cap, out_len, err);
    case SL_CODEC_NONE: {
        size_t n = out_cap - *out_len < *in_len ? out_cap - *out_len : *in_len;
        if (n == 0)
            return 0;
        memcpy(out + *out_len, *in, n);
        *in += n;
        *in_len -= n;
        *out_len += n;
        z->consumed += n;
        z->member_start = z->consumed;
        return 0;
    }
    }
    return 0;
}
