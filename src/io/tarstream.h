/* io/tarstream.h: a tar archive read as a stream (the decompressed bytes of a .tar.gz or a
 * .tar.zst that other tools wrote), with memory bounded by one header and one long name:
 * bytes go in as they come, members come out through callbacks, their contents in pieces.
 * Accepted: regular files, directories (skipped), pax headers (their "path" names the next
 * member; the rest is ignored), GNU long names ('L'), ustar prefix+name; anything else (links,
 * devices) is refused. Names longer than SL_TARSTREAM_NAME_MAX are refused.
 * Calling order: sl_tarstream_new() -> sl_tarstream_feed()* -> sl_tarstream_finish() ->
 *   sl_tarstream_free(). A callback returning -1 (err set) stops the stream.
 * Errors: SL_E_ARCHIVE "tar stream: ... at byte N" (N counts decompressed bytes). */
#ifndef SL_IO_TARSTREAM_H
#define SL_IO_TARSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define SL_TARSTREAM_NAME_MAX 4096

typedef struct sl_tarstream_ops {
    /* A regular file begins: its name (a leading "./" removed) and size. */
    int (*member)(void *ctx, const char *name, uint64_t size, sl_error *err);
    /* The next piece of its contents (all of them, in order, before the next member). */
    int (*data)(void *ctx, const void *data, size_t len, sl_error *err);
} sl_tarstream_ops;

typedef struct sl_tarstream sl_tarstream;

sl_tarstream *sl_tarstream_new(const sl_tarstream_ops *ops, void *ctx);
void sl_tarstream_free(sl_tarstream *t);
SL_MUSTCHECK int sl_tarstream_feed(sl_tarstream *t, const void *data, size_t len,
                                   sl_error *err);
/* The input is over: it must have ended with the end blocks (or at least one of them, as
 * some writers leave it). */
SL_MUSTCHECK int sl_tarstream_finish(sl_tarstream *t, sl_error *err);

#endif
