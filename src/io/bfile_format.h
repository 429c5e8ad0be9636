/* io/bfile_format.h (internal to io/): the byte layout of a backup file's index and trailer,
 * shared by the writer (bfile_write.c) and the reader (bfile_read.c). See io/bfile.h.
 * The trailer payload is fixed-width ASCII:
 *   "sluice-trailer 1 " + index offset (20 digits) + " " + index length (20 digits) + " " +
 *   SHA-256 of the index's stored bytes (64 lowercase hex digits)
 * wrapped as an empty gzip member (FEXTRA subfield "SL"), a zstd skippable frame, or the
 * comment line "-- PAYLOAD\n". The index is the JSON document wrapped the same way (gzip: one
 * empty member per 65,000 bytes; zstd: one skippable frame; none: "\n-- sluice-index: JSON\n").
 * Decoding is strict: any byte that differs from what the writer produces is refused. */
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
/* Appends the JSON text carried by p[0..n) to json; false when the framing is wrong. */
bool sl__bfile_index_decode(sl_codec_kind kind, const unsigned char *p, size_t n, sl_buf *json);

#endif
