/* io/codec.h: compression kinds and independent members.
 * sluice compresses a file as a sequence of independent gzip members / zstd frames, each made
 * from one block of input in whichever thread produced it, so workers compress in parallel and
 * the concatenation is still one valid stream for gunzip / zstd -d. gzip members are made with
 * ISA-L's igzip at level 1 (the default) and libdeflate at levels 2-12 (both whole-buffer),
 * zstd frames with libzstd; decompression decodes a gzip member
 * in one libdeflate call when the whole member is in the input and an empty output buffer of
 * at least 64 KiB holds it, and otherwise streams with zlib's inflate (member after member);
 * zstd streams with ZSTD_decompressStream.
 * Memory of decompression is bounded whatever the input: the caller's output buffer, zlib's
 * 32 KiB window (a gzip member that inflates a thousandfold is streamed like any other), and
 * for zstd a window of at most SL_CODEC_ZSTD_WINDOW_MAX. That covers sluice's own frames (one
 * block each, so a 1 MiB window, the bound of sl_inflater_own_frames_only()) and everything
 * `zstd -1` to `zstd -19` writes (at most 8 MiB);
 * a frame that needs more (`zstd --long`, `--ultra -20` and up) is refused before anything is
 * allocated for it, with a message saying how to decompress it with the zstd tool.
 * Ownership: an sl_compressor and an sl_inflater are owned by one thread at a time; sl_codec is
 * plain data. Both accept NULL in their _free(). */
#ifndef SL_IO_CODEC_H
#define SL_IO_CODEC_H

#include <stdbool.h>
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
    int level;  /* 0: the kind's default (gzip 1, zstd 1: see codec.c) */
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

/* A compressor keeps its context (libdeflate compressor, ZSTD_CCtx) between members, so a
 * writer compressing block after block allocates it once. Every member is independent. */
typedef struct sl_compressor sl_compressor;
SL_MUSTCHECK int sl_compressor_new(sl_compressor **out, const sl_codec *codec, sl_error *err);
/* Appends one independent member/frame holding in[0..len) to out (for NONE: the bytes). */
SL_MUSTCHECK int sl_compressor_member(sl_compressor *c, const void *in, size_t len, sl_buf *out,
                                      sl_error *err);
/* A run of text compressed as one whole: gzip and none as sl_compressor_member() per call (a
 * gzip member per call with input; its 32 KiB window gains nothing from longer runs); zstd as
 * one frame over every call until last (then the frame ends, and the next call starts a new
 * one), so matches reach across calls: at level 1 that is as small as `zstd -1` of the whole
 * text, where a frame per 1 MiB block is not. The frame's window is at most
 * SL_CODEC_ZSTD_OWN_WINDOW_LOG whatever the level. A call may append nothing (zstd keeps up to
 * a window and a block of input). */
SL_MUSTCHECK int sl_compressor_stream(sl_compressor *c, const void *in, size_t len, bool last,
                                      sl_buf *out, sl_error *err);
void sl_compressor_free(sl_compressor *c);

/* Streaming decompression of a run of concatenated members (gzip: inflate restarted on each
 * member; zstd: ZSTD_decompressStream, which skips skippable frames; none: a copy).
 * Calling order: sl_inflater_new() -> { sl_inflater_reset(base) -> sl_inflater_run()* ->
 * sl_inflater_at_boundary() }* -> sl_inflater_free().
 * The inflater counts the stored bytes it consumed since the last reset, so it can say at which
 * file offset the member it is decoding starts (base + position in the run). Errors are
 * SL_E_ARCHIVE and name that offset. */
typedef struct sl_inflater sl_inflater;
#define SL_CODEC_ZSTD_WINDOW_LOG_MAX 23  /* 8 MiB: the window of zstd -19 on a large input */
#define SL_CODEC_ZSTD_WINDOW_MAX ((uint64_t)1 << SL_CODEC_ZSTD_WINDOW_LOG_MAX)
#define SL_CODEC_ZSTD_OWN_WINDOW_LOG 20  /* 1 MiB: the window of every frame sluice writes */
SL_MUSTCHECK int sl_inflater_new(sl_inflater **out, sl_codec_kind kind, sl_error *err);
/* Starts a new run whose first byte is at stored offset base. */
void sl_inflater_reset(sl_inflater *z, uint64_t base);
/* Consumes stored bytes from (*in, *in_len), advancing both, and writes decompressed bytes to
 * out[*out_len..out_cap), advancing *out_len. Stops when the input is used up or out is full;
 * call again with *in_len == 0 to drain what the decoder still holds (it then produces
 * nothing once drained). -1 with err set on corrupt data. */
SL_MUSTCHECK int sl_inflater_run(sl_inflater *z, const unsigned char **in, size_t *in_len,
                                 unsigned char *out, size_t out_cap, size_t *out_len,
                                 sl_error *err);
/* True when the bytes consumed since the reset end exactly at the end of a member (also true
 * before any byte). False at the end of the input means the last member is cut short. */
bool sl_inflater_at_boundary(const sl_inflater *z);
/* Stored offset of the member being decoded (or of the next one, at a boundary). */
uint64_t sl_inflater_member_offset(const sl_inflater *z);
/* Lowers the zstd window bound to SL_CODEC_ZSTD_OWN_WINDOW_LOG, the most a frame sluice writes
 * needs: for the segments of a backup file, which restore reads -j at a time. Call before
 * the first run. */
void sl_inflater_own_frames_only(sl_inflater *z);
/* True after sl_inflater_run() failed on a zstd frame whose window is over the bound: the
 * data may well be sound, sluice refuses to spend the memory (the error says what to do). */
bool sl_inflater_window_refused(const sl_inflater *z);
void sl_inflater_free(sl_inflater *z);

#endif
