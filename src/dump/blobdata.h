/* dump/blobdata.h: one task's large objects as a BLOBS segment (internal): for each object,
 * psql-runnable SQL that writes its contents in 64 KiB statements (lo_open, lowrite of hex,
 * lo_close), read with lo_read on the worker's connection. The objects themselves (and their
 * owners and grants) are catalog items. -1 with err set, else 0. */
#ifndef SL_DUMP_BLOBDATA_H
#define SL_DUMP_BLOBDATA_H

#include "dump/task.h"

#define BLOB_READ_CHUNK (64 * 1024)

SL_MUSTCHECK int sl__dump_blob_data(dump_ctx *d, sl_conn *c, const task *t, sl_error *err);

#endif
