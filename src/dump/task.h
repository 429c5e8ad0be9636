/* dump/task.h: the data of a backup as tasks, and the workers that run them (internal).
 * sl__dump_plan_tasks(): one task per table, or per ctid page range of a large heap table,
 *   and one per batch of large objects, biggest first, into d->tasks.
 * sl__dump_run_tasks(): `jobs` workers (pg/workers.h) each take a pool connection, run the
 *   session settings, then pull tasks from d->tasks in order until none is left or the run
 *   stops; each task becomes one parallel segment (dump/tabledata.h, dump/blobdata.h).
 *   -1 with the first error (kind NONE when only a signal stopped the run).
 * The tasks borrow the catalog's tables and the large-object oid array. */
#ifndef SL_DUMP_TASK_H
#define SL_DUMP_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "dump/run.h"

#define BLOBS_PER_TASK 256
#define DEFAULT_CHUNK_BYTES (64LL * 1024 * 1024)

typedef enum {
    TASK_TABLE,  /* one table, or one ctid range of it */
    TASK_BLOBS,  /* a batch of large objects */
} task_kind;

typedef struct task {
    task_kind kind;
    const sl_catalog_table *table;
    int64_t first_page;  /* -1: the whole table */
    int64_t end_page;    /* -1: open-ended (the last range also takes pages added since) */
    const uint32_t *blobs;
    size_t nblobs;
    int64_t weight;      /* bytes expected, for biggest-first scheduling */
} task;

void sl__dump_plan_tasks(dump_ctx *d, const sl_dump_catalog *cat, const uint32_t *blobs,
                         size_t nblobs, int64_t block_size);
SL_MUSTCHECK int sl__dump_run_tasks(dump_ctx *d, int jobs, sl_error *err);

#endif
