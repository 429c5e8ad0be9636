/* io/tarwrite.h: members appended to a tar archive (io/tar.h) being written through a sink
 * (io/sink.h), each hashed on the way and listed for the archive's manifest: what a cluster
 * backup of either engine writes.
 * Calling order: sl_tarwrite_text() / sl_tarwrite_file()* -> sl_tarwrite_end(). The sink
 *            stays the caller's (it closes or aborts it).
 * Listing:   a listed member is appended to `members` (a JSON array the caller owns) as
 *            {"name", "size", "sha256"}.
 * Memory:    a file member is copied through one 1 MiB buffer.
 * Errors:    -1 with err set (SL_E_IO naming the file, SL_E_INTERNAL for a bad name). */
#ifndef SL_IO_TARWRITE_H
#define SL_IO_TARWRITE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "io/sink.h"

/* A member whose contents are in memory; members NULL: not listed. */
SL_MUSTCHECK int sl_tarwrite_text(sl_sink *sink, const char *name, const char *text,
                                  size_t len, json_t *members, sl_error *err);
/* A member copied from the file at path (listed when members is not NULL). */
SL_MUSTCHECK int sl_tarwrite_file(sl_sink *sink, const char *name, const char *path,
                                  json_t *members, sl_error *err);
/* The two zero blocks that end the archive. */
SL_MUSTCHECK int sl_tarwrite_end(sl_sink *sink, sl_error *err);

#endif
