/* dump/blob.h: large objects' existence: one item per large object (kind "BLOB",
 * SL_PHASE_PRE_DATA, identity pg_largeobject/oid) holding SELECT pg_catalog.lo_create(oid).
 * Their owner, comment and privileges come with the other decorations; their contents are
 * written by the dump engine. Only in a backup without -n/-t, as pg_dump does. One query. */
#ifndef SL_DUMP_BLOB_H
#define SL_DUMP_BLOB_H

#include "base/error.h"
#include "dump/decor.h"

SL_MUSTCHECK int sl__blob_read(const sl__decor_ctx *ctx, sl_dump_items *out, sl_error *err);

#endif
