/* io/codec.h: compression kinds and independent members.
 * sluice compresses a file as a sequence of independent gzip members / zstd frames, each made
 * from one block of input in whichever thread produced it, so workers compress in parallel and
 * the concatenation is still one valid stream for gunzip / zstd -d. gzip members are made with
 * libdeflate (fast, whole-buffer), zstd frames with libzstd; decompression streams with zlib's
 * inflate (member after member) and ZSTD_decompressStream.
 * Ownership: an sl_inflater is owned by one thread; sl_codec is plain data. */
#ifndef SL_IO_CODEC_H
#define SL_IO_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"

typedef enum {
    SL_CODEC_NONE,  /* plain text */
    SL_CODEC_GZIP,  /* RFC 1952 members */
    SL_CODEC_ZSTD,  /* zstd frames */
} sl_codec_kind;

typedef struct sl_codec {
    sl_codec_kind kind;
    int level;  /* 0: the kind's default (gzip 6, zstd 3) */
} sl_codec;

/* "gzip", "gzip:9", "zstd", "zstd:19", "none". */
SL_MUSTCHECK int sl_codec_parse(sl_codec *out, const char *spec, sl_error *err);
/* By file name: *.gz -> gzip, *.zst -> zstd, otherwise none. */
sl_codec_kind sl_codec_from_filename(const char *path);
/* By content (the first bytes of a file): gzip or zstd magic, otherwise none. */
sl_codec_kind sl_codec_detect(const void *head, size_t len);
const char *sl_codec_name(sl_codec_kind kind);
/* Appends one independent member/frame holding in[0..len) to out (for NONE: the bytes). */
SL_MUSTCHECK int sl_codec_compress(const sl_codec *codec, const void *in, size_t len,
                                   sl_buf *out, sl_error *err);

#endif
