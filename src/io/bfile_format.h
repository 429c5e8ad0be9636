/* io/bfile_format.h (internal to io/): the byte layout of a backup file's index and trailer,
 * shared by the writer (bfile_write.c) and the reader (bfile_read.c). See io/bfile.h.
 * The trailer payload is fixed-width ASCII:
 *   "sluice-trailer 1 " + index offset (20 digits) + " " + index length (20 digits) + " " +
 *   SHA-256 of the index's stored bytes (64 lowercase hex digits)
 * wrapped as an empty gzip member (FEXTRA subfield "SL"), a zstd skippable frame, or the
 * comment line "-- PAYLOAD\n". The index is the JSON document wrapped the same way (gzip: one
 * empty member per at most 65,000 bytes; zstd: one skippable frame; none:
 * "\n-- sluice-index: JSON\n", the JSON holding no newline).
 * Decoding is strict: any byte of the framing that differs from what the writer produces is
 * refused. */
#ifndef SL_IO_BFILE_FORMAT_H
#define SL_IO_BFILE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "io/codec.h"

#define SL__BFILE_TRAILER_PAYLOAD 123
#define SL__BFILE_GZIP_CHUNK 65000
#define SL__BFILE_SKIPPABLE_MAGIC 0x184D2A5Bu
#define SL__BFILE_INDEX_PREFIX "\n-- sluice-index: "
#define SL__BFILE_TRAILER_MAX 149  /* the largest trailer (gzip) */
#define SL__BFILE_TRAILER_TAG "sluice-trailer 1 "

size_t sl__bfile_trailer_size(sl_codec_kind kind);
void sl__bfile_trailer_encode(sl_codec_kind kind, uint64_t index_off, uint64_t index_len,
                              const unsigned char digest[32], sl_buf *out);
/* tail holds exactly sl__bfile_trailer_size(kind) bytes. */
bool sl__bfile_trailer_decode(sl_codec_kind kind, const unsigned char *tail, uint64_t *index_off,
                              uint64_t *index_len, unsigned char digest[32]);
void sl__bfile_index_encode(sl_codec_kind kind, const char *json, size_t len, sl_buf *out);

/* Decoding the index framing as its stored bytes stream by (the reader never holds the whole
 * index): sl__bfile_unframe_init() with the stored length, then _next() on each chunk of stored
 * bytes in order until it returns 0, then _done(). The state is plain data. */
typedef struct sl__bfile_unframe {
    sl_codec_kind kind;
    uint64_t total;     /* stored bytes of the index */
    uint64_t seen;      /* stored bytes consumed */
    unsigned char head[16];
    size_t head_len;    /* bytes of the current gzip member's header (or zstd's) collected */
    size_t payload;     /* JSON bytes left in the current gzip member */
    size_t tail;        /* bytes of the current gzip member's tail matched */
    unsigned members;
} sl__bfile_unframe;

void sl__bfile_unframe_init(sl__bfile_unframe *u, sl_codec_kind kind, uint64_t total);
/* The next run of JSON bytes carried by the chunk (*p, *n), advancing it: 1 with (*json, *len)
 * pointing into the chunk, 0 when the chunk is used up, -1 when the framing is wrong. */
int sl__bfile_unframe_next(sl__bfile_unframe *u, const unsigned char **p, size_t *n,
                           const unsigned char **json, size_t *len);
/* After the last chunk: were the stored bytes exactly a whole framing? */
bool sl__bfile_unframe_done(const sl__bfile_unframe *u);

#endif
