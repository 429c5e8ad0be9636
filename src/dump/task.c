/* dump/task.c: see task.h. */
#include "dump/task.h"

#include <stdlib.h>

#include "base/mem.h"
#include "dump/blobdata.h"
#include "dump/tabledata.h"

#define MAX_SLOTS 256

static int
compare_tasks(const void *a, const void *b)
{
    const task *x = a, *y = b;
    return x->weight < y->weight ? 1 : x->weight > y->weight ? -1 : 0;
}

static void
add_task(dump_ctx *d, size_t *cap, const task *t)
{
    if (d->ntasks == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        d->tasks = sl_realloc(d->tasks, *cap * sizeof *d->tasks);
    }
    d->tasks[d->ntasks++] = *t;
}

/* A heap table bigger than one chunk is cut into ctid page ranges; the last range is open so
 * that pages added after the size was read (invisible rows, but pages all the same) are still
 * scanned. The ranges are of equal size and their count is a multiple of the jobs, so that a
 * table alone keeps every worker busy to its end: 5 ranges of 64 MB on 2 workers leave one
 * idle while the fifth is read, 6 of 54 MB do not. */
void
sl__dump_plan_tasks(dump_ctx *d, const sl_dump_catalog *cat, const uint32_t *blobs, size_t nblobs,
                    int64_t block_size)
{
    size_t cap = 0;
    int64_t chunk = d->opts->chunk_bytes > 0 ? d->opts->chunk_bytes : DEFAULT_CHUNK_BYTES;
    int64_t jobs = d->opts->jobs > 0 ? d->opts->jobs : 1;
    for (size_t i = 0; i < cat->ntables; i++) {
        const sl_catalog_table *t = &cat->tables[i];
        int64_t pages = t->bytes / block_size;
        int64_t chunk_pages = chunk / block_size;
        if (!t->is_heap || t->bytes <= chunk || chunk_pages < 1) {
            add_task(d, &cap, &(task){.kind = TASK_TABLE, .table = t, .first_page = -1,
                                      .end_page = -1, .weight = t->bytes});
            continue;
        }
        int64_t n = (pages + chunk_pages - 1) / chunk_pages;
        n = (n + jobs - 1) / jobs * jobs;
        if (n > pages)
            n = pages;
        for (int64_t k = 0; k < n; k++) {
            int64_t end = k + 1 == n ? -1 : pages * (k + 1) / n;
            add_task(d, &cap, &(task){.kind = TASK_TABLE, .table = t, .first_page = pages * k / n,
                                      .end_page = end, .weight = t->bytes / n});
        }
    }
    for (size_t i = 0; i < nblobs; i += BLOBS_PER_TASK) {
        size_t n = nblobs - i < BLOBS_PER_TASK ? nblobs - i : BLOBS_PER_TASK;
        add_task(d, &cap, &(task){.kind = TASK_BLOBS, .blobs = blobs + i, .nblobs = n,
                                  .weight = (int64_t)n * BLOB_READ_CHUNK});
    }
    if (d->ntasks > 1)  /* no tables at all leaves d->tasks NULL, which qsort may not take */
        qsort(d->tasks, d->ntasks, sizeof *d->tasks, compare_tasks);
}

static void
worker_main(void *arg, int id)
{
    dump_ctx *d = arg;
    sl_conn *c = NULL;
    sl_error err;
    (void)id;
    sl_error_clear(&err);
    if (sl_pool_acquire(d->pool, &c, &err) != 0) {
        sl__dump_fail(d, &err);
        return;
    }
    sl__dump_watch(d, c);
    if (sl__dump_prepare_session(c, &err) != 0) {
        sl__dump_fail(d, &err);
        sl_pool_release(d->pool, c);
        return;
    }
    while (!sl_workers_stopping(d->workers)) {
        size_t i = atomic_fetch_add(&d->next_task, 1);
        if (i >= d->ntasks)
            break;
        const task *t = &d->tasks[i];
        int rc = t->kind == TASK_TABLE ? sl__dump_table_data(d, c, t, &err)
                                       : sl__dump_blob_data(d, c, t, &err);
        if (rc != 0) {
            sl__dump_fail(d, &err);
            break;
        }
        if (t->kind == TASK_TABLE && (t->end_page < 0))
            sl_progress_item_done(d->progress);
    }
    sl_pool_release(d->pool, c);
}

int
sl__dump_run_tasks(dump_ctx *d, int jobs, sl_error *err)
{
    if (jobs > MAX_SLOTS / 2)
        jobs = MAX_SLOTS / 2;
    if (sl_workers_run(d->workers, jobs, worker_main, d, err) != 0)
        return -1;
    if (sl_workers_stopping(d->workers)) {
        if (!sl_workers_first_error(d->workers, err))
            sl_error_clear(err);  /* only a signal: sl_dump_run() then names it */
        return -1;
    }
    return 0;
}
