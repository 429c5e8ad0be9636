/* restore/schedule.c: see schedule.h.
 * Parallel phases hand out segments in file order, except that a worker passes over TABLE
 * DATA of a table that another worker is loading (a large table comes in several segments):
 * two COPYs into one table wait on each other for its extension lock, two into different
 * tables do not. eng->lock guards the list of segments left and each worker's `current`. */
#include "restore/schedule.h"

#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "restore/runner.h"

#define DEADLOCK_RETRIES 5

/* A signal or another worker's failure cuts the pause before a retry short. */
static bool
stop_waiting(void *arg)
{
    return sl__restore_stopping(arg);
}

/* One segment of a sluice file; a deadlock in a parallel segment resumes at the statement
 * that lost (the ones before it are committed). */
static int
run_entry(worker *w, const sl_bfile_entry *e, sl_error *err)
{
    engine *eng = w->eng;
    where wh = {.entry = e};
    uint64_t skip = 0;
    for (int attempt = 0;; attempt++) {
        sl_bfile_stream *st = NULL;
        if (sl_bfile_stream_open(&st, eng->reader, e, /*verify=*/true, err) != 0)
            return RUN_FAIL;
        source src = {.stream = st};
        uint64_t at = 0;
        int rc = sl__restore_run_text(w, &src, &wh, false,
                                      e->parallel && attempt < DEADLOCK_RETRIES, skip, &at, err);
        sl_bfile_stream_close(st);
        if (rc != RUN_RETRY) {
            if (rc == RUN_OK) {
                atomic_fetch_add(&eng->segments, 1);
                sl_progress_item_done(eng->progress);
                eng->done[e - sl_bfile_reader_entry(eng->reader, 0)] = true;
            }
            return rc;
        }
        char seg[600];
        SL_WARN("deadlock in %s: retrying from its statement %llu",
                sl_bfile_entry_describe(e, seg, sizeof seg), (unsigned long long)at + 1);
        sl_error_clear(err);
        skip = at;
        sl_clock_sleep_ms(100 * (attempt + 1), stop_waiting, eng);
    }
}

static bool
same_name(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Is another worker loading rows into e's table? */
static bool
table_busy(const engine *eng, const worker *self, const sl_bfile_entry *e)
{
    if (!sl_bfile_kind_is(e->kind, SL_BFILE_KIND_TABLE_DATA))
        return false;
    for (int i = 0; i < eng->nworkers; i++) {
        const sl_bfile_entry *c = eng->workers[i].current;
        if (&eng->workers[i] != self && c && sl_bfile_kind_is(c->kind, SL_BFILE_KIND_TABLE_DATA) &&
            same_name(c->schema, e->schema) && same_name(c->name, e->name))
            return true;
    }
    return false;
}

/* The first segment left whose table no other worker is loading, else the first one left;
 * NULL when all are handed out. */
static const sl_bfile_entry *
take_work(engine *eng, worker *w)
{
    pthread_mutex_lock(&eng->lock);
    w->current = NULL;
    while (eng->first_left < eng->nwork && !eng->work[eng->first_left])
        eng->first_left++;
    size_t pick = eng->nwork;
    for (size_t i = eng->first_left; i < eng->nwork; i++) {
        if (!eng->work[i])
            continue;
        if (pick == eng->nwork)
            pick = i;
        if (!table_busy(eng, w, eng->work[i])) {
            pick = i;
            break;
        }
    }
    if (pick < eng->nwork) {
        w->current = eng->work[pick];
        eng->work[pick] = NULL;
    }
    pthread_mutex_unlock(&eng->lock);
    return w->current;
}

static void
worker_main(void *arg, int id)
{
    engine *eng = arg;
    worker *w = &eng->workers[id];
    const sl_bfile_entry *e;
    while (!sl__restore_stopping(eng) && (e = take_work(eng, w)) != NULL) {
        sl_error err;
        sl_error_clear(&err);
        if (run_entry(w, e, &err) != RUN_OK) {
            sl__restore_fail(eng, &err);
            break;
        }
    }
    pthread_mutex_lock(&eng->lock);
    w->current = NULL;
    pthread_mutex_unlock(&eng->lock);
}

static int
run_parallel(engine *eng, const sl_bfile_entry **list, size_t n, sl_error *err)
{
    if (n == 0)
        return 0;
    eng->work = list;
    eng->nwork = n;
    eng->first_left = 0;
    int threads = eng->nworkers < (int)n ? eng->nworkers : (int)n;
    if (sl_workers_run(eng->jobs, threads, worker_main, eng, err) != 0)
        return -1;
    if (sl_workers_first_error(eng->jobs, err))
        return -1;
    return 0;
}

int
sl__restore_run_phases(engine *eng, sl_error *err)
{
    size_t count = sl_bfile_reader_count(eng->reader);
    const sl_bfile_entry **par = sl_calloc(count ? count : 1, sizeof *par);
    int rc = -1;
    int phase = SL_PHASE_PREAMBLE;
    for (;;) {
        /* the next phase above the current one */
        bool found = false;
        int next = 0;
        for (size_t i = 0; i < count; i++) {
            const sl_bfile_entry *e = sl_bfile_reader_entry(eng->reader, i);
            if (e->phase > phase && (!found || e->phase < next)) {
                next = e->phase;
                found = true;
            }
        }
        if (!found)
            break;
        phase = next;
        size_t npar = 0;
        SL_DEBUG("phase %d", phase);
        for (size_t i = 0; i < count; i++) {
            const sl_bfile_entry *e = sl_bfile_reader_entry(eng->reader, i);
            if (e->phase != phase)
                continue;
            if (e->parallel && !eng->opts->single_transaction) {
                par[npar++] = e;
                continue;
            }
            if (run_entry(&eng->workers[0], e, err) != RUN_OK)
                goto done;
        }
        if (run_parallel(eng, par, npar, err) != 0)
            goto done;
    }
    rc = 0;
done:
    free(par);
    return rc;
}

int
sl__restore_run_plain(engine *eng, sl_error *err)
{
    sl_bfile_stream *st = NULL;
    if (sl_bfile_stream_open(&st, eng->reader, NULL, false, err) != 0)
        return -1;
    char label[1100];
    snprintf(label, sizeof label, "file %s", eng->opts->input);
    where wh = {.label = label};
    source src = {.stream = st};
    uint64_t unused = 0;
    int rc = sl__restore_run_text(&eng->workers[0], &src, &wh, true, false, 0, &unused, err);
    sl_bfile_stream_close(st);
    if (rc == RUN_OK) {
        atomic_fetch_add(&eng->segments, 1);
        sl_progress_item_done(eng->progress);
    }
    return rc == RUN_OK ? 0 : -1;
}
