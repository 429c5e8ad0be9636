/* dump/run.h: the state of one backup run, shared by the dump/ modules (internal).
 * Who does what, in calling order (dump/dump.c's design note has the states):
 *   dump.c      opens the pool and the writer, reads the catalog in the snapshot, then
 *   preamble.c  writes the preamble segment, and
 *   emit.c      the pre-data segment;
 *   task.c      plans the data tasks (tables, ctid ranges, large-object batches) and runs them
 *               on the workers (pg/workers.h), each task through
 *   tabledata.c (a table's rows with COPY) or blobdata.c (large objects' contents);
 *   emit.c      then writes the sequence values, the post-data segments and \unrestrict;
 *   dump.c      closes the writer with the header, or aborts it.
 * Every connection first runs sl__dump_prepare_session() and is watched (sl__dump_watch), so
 * that a failure (sl__dump_fail) or a signal cancels what it runs. */
#ifndef SL_DUMP_RUN_H
#define SL_DUMP_RUN_H

#include <stdatomic.h>

#include "base/error.h"
#include "base/progress.h"
#include "dump/catalog.h"
#include "dump/dump.h"
#include "dump/script.h"
#include "pg/widerow.h"
#include "io/bfile.h"
#include "pg/conn.h"
#include "pg/pool.h"
#include "pg/workers.h"

typedef struct task task;  /* dump/task.h */

typedef struct dump_ctx {
    const sl_dump_opts *opts;
    sl_pool *pool;
    sl_bfile_writer *writer;
    sl_progress *progress;
    const sl_dump_catalog *cat;
    sl_widerow_plan *wide;
    task *tasks;
    size_t ntasks;
    atomic_size_t next_task;
    sl_workers *workers;
    char restrict_key[SL_SCRIPT_KEY_LEN + 1];  /* of this backup's \restrict line */
} dump_ctx;

/* Keeps the run's first error and stops it (pg/workers.h). */
void sl__dump_fail(dump_ctx *d, const sl_error *err);
/* A signal or the first failure cancels the statements of watched connections (unwatched by
 * disarm at the end). */
void sl__dump_watch(dump_ctx *d, sl_conn *c);
/* The backup's session settings, on every connection before it reads anything. */
SL_MUSTCHECK int sl__dump_prepare_session(sl_conn *c, sl_error *err);

#endif
