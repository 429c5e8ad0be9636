/* restore/schedule.c: see schedule.h.
 *
 * Design note. A sluice file's segments become the items of one restore/graph.h graph, with
 * one more item per phase: its barrier, done when every segment of that phase and of the ones
 * before it is done (it stands for "every entry of lower phases" without an edge from each to
 * each). Items: 0..count-1 the index entries, count + k the barrier of the k-th phase present.
 * Dependencies (every one points to an earlier entry in the file, so there is no cycle):
 *   a serial segment: the serial one before it, and the barrier of the phase before its own
 *     (today's order and barriers);
 *   a parallel segment: the serial one before it, and either the barrier of the phase before
 *     its own or, when it names tables (io/bfile.h "tables") that all have TABLE DATA segments
 *     in earlier phases, those segments, and for a segment after the INDEX phase the INDEX
 *     phase's segments that name the same tables (a foreign key needs the referenced table's
 *     unique index). A table without rows in the file (a partitioned parent, a view, a
 *     schema-only backup) or an INDEX-phase segment that names no table leaves the barrier.
 * Weights: a segment's raw length; an INDEX-phase segment's is that of its table's rows when
 *   larger (an index build reads them all). Serial segments, barriers and the preamble's
 *   entries (run on every connection before, here done at once) weigh the most: everything
 *   after them waits on them, and they are short.
 * Locks: the TABLE DATA segments of one table share a key (two COPYs into one table wait on each
 *   other for its extension lock). An index build never meets its table's COPY: it depends on it.
 * Workers: eng->lock guards the graph and each worker's `current`. A worker takes an item, runs
 *   it unlocked, marks it done and wakes the others (eng->changed); with nothing to take it
 *   waits on eng->changed. A failure wakes them too (they see sl__restore_stopping()); a
 *   signal's handler cannot, so the wait is timed and the flag read again. */
#include "restore/schedule.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "restore/graph.h"
#include "restore/runner.h"
#include "restore/tocgraph.h"

#define DEADLOCK_RETRIES 5
#define STOP_POLL_MS 200  /* how soon a waiting worker notices a signal */
#define FIRST_WEIGHT UINT64_MAX

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
    if (sl_log_enabled(SL_LOG_DEBUG)) {
        char seg[600];
        SL_DEBUG("connection %d starts %s", w->id, sl_bfile_entry_describe(e, seg, sizeof seg));
    }
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

/* ---- the graph ---- */

/* One (table, entry) pair, for finding a table's segments by name. */
typedef struct table_ref {
    const char *schema, *name;
    size_t entry;
} table_ref;

static int
compare_refs(const void *a, const void *b)
{
    const table_ref *x = a, *y = b;
    int c = strcmp(x->schema, y->schema);
    if (c == 0)
        c = strcmp(x->name, y->name);
    if (c == 0)
        c = x->entry < y->entry ? -1 : x->entry > y->entry;
    return c;
}

typedef struct refs {
    table_ref *v;
    size_t n;
} refs;

/* [*from, *to): the refs of table t (sorted by name). */
static void
refs_find(const refs *r, const sl_bfile_table *t, size_t *from, size_t *to)
{
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(r->v[mid].schema, t->schema);
        if (c == 0)
            c = strcmp(r->v[mid].name, t->name);
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t end = lo;
    while (end < r->n && strcmp(r->v[end].schema, t->schema) == 0 &&
           strcmp(r->v[end].name, t->name) == 0)
        end++;
    *from = lo;
    *to = end;
}

/* What the graph is built from: the entries by table. */
typedef struct plan {
    const sl_bfile_reader *reader;
    size_t count;
    int *phase_index;      /* per entry: its phase's position among the phases present */
    size_t nphases;
    refs data;             /* TABLE DATA segments by table */
    refs index;            /* INDEX-phase parallel segments by the tables they name */
    bool index_unnamed;    /* an INDEX-phase parallel segment names no table */
} plan;

static const sl_bfile_entry *
entry_at(const plan *p, size_t i)
{
    return sl_bfile_reader_entry(p->reader, i);
}

static bool
is_data(const sl_bfile_entry *e)
{
    return e->schema && e->name && sl_bfile_kind_is(e->kind, SL_BFILE_KIND_TABLE_DATA);
}

static void
plan_build(plan *p, const sl_bfile_reader *reader)
{
    memset(p, 0, sizeof *p);
    p->reader = reader;
    p->count = sl_bfile_reader_count(reader);
    p->phase_index = sl_calloc(p->count ? p->count : 1, sizeof *p->phase_index);
    size_t nindex = 0;
    for (size_t i = 0; i < p->count; i++) {
        const sl_bfile_entry *e = entry_at(p, i);
        if (i > 0 && e->phase != entry_at(p, i - 1)->phase)
            p->nphases++;
        p->phase_index[i] = (int)p->nphases;
        if (e->phase == SL_PHASE_INDEX && e->parallel)
            nindex += e->ntables;
    }
    p->nphases += p->count > 0;
    p->data.v = sl_calloc(p->count ? p->count : 1, sizeof *p->data.v);
    p->index.v = sl_calloc(nindex ? nindex : 1, sizeof *p->index.v);
    for (size_t i = 0; i < p->count; i++) {
        const sl_bfile_entry *e = entry_at(p, i);
        if (is_data(e))
            p->data.v[p->data.n++] = (table_ref){e->schema, e->name, i};
        if (e->phase != SL_PHASE_INDEX || !e->parallel)
            continue;
        if (e->ntables == 0)
            p->index_unnamed = true;
        for (size_t t = 0; t < e->ntables; t++)
            p->index.v[p->index.n++] =
                (table_ref){e->tables[t].schema, e->tables[t].name, i};
    }
    qsort(p->data.v, p->data.n, sizeof *p->data.v, compare_refs);
    qsort(p->index.v, p->index.n, sizeof *p->index.v, compare_refs);
}

static void
plan_free(plan *p)
{
    free(p->phase_index);
    free(p->data.v);
    free(p->index.v);
}

/* Whether entry i's tables (all of them with rows in an earlier phase) can stand in for the
 * barrier before its phase. */
static bool
tables_known(const plan *p, size_t i)
{
    const sl_bfile_entry *e = entry_at(p, i);
    if (e->ntables == 0 || e->phase > SL_PHASE_POST ||
        (e->phase > SL_PHASE_INDEX && p->index_unnamed))
        return false;
    for (size_t t = 0; t < e->ntables; t++) {
        size_t from, to;
        refs_find(&p->data, &e->tables[t], &from, &to);
        /* the last of them (refs of one table are in file order) in an earlier phase: every
         * dependency points back in the file, so even a hostile index makes no cycle */
        if (from == to || entry_at(p, p->data.v[to - 1].entry)->phase >= e->phase)
            return false;
    }
    return true;
}

/* Entry i waits for its tables' rows (and, after the INDEX phase, their indexes). */
static void
depend_on_tables(const plan *p, sl_graph *g, size_t i)
{
    const sl_bfile_entry *e = entry_at(p, i);
    for (size_t t = 0; t < e->ntables; t++) {
        size_t from, to;
        refs_find(&p->data, &e->tables[t], &from, &to);
        for (size_t k = from; k < to; k++)
            sl_graph_depend(g, i, p->data.v[k].entry);
        if (e->phase <= SL_PHASE_INDEX)
            continue;
        refs_find(&p->index, &e->tables[t], &from, &to);
        for (size_t k = from; k < to; k++)
            sl_graph_depend(g, i, p->index.v[k].entry);
    }
}

/* The raw length of table t's rows in the file. */
static uint64_t
table_bytes(const plan *p, const sl_bfile_table *t)
{
    size_t from, to;
    refs_find(&p->data, t, &from, &to);
    uint64_t sum = 0;
    for (size_t k = from; k < to; k++)
        sum += entry_at(p, p->data.v[k].entry)->raw_length;
    return sum;
}

static void
set_item(const plan *p, sl_graph *g, size_t i)
{
    const sl_bfile_entry *e = entry_at(p, i);
    uint64_t weight = e->raw_length, lock = SL_GRAPH_NO_LOCK;
    if (!e->parallel || e->phase == SL_PHASE_PREAMBLE)
        weight = FIRST_WEIGHT;
    if (e->phase == SL_PHASE_INDEX && e->ntables > 0) {
        uint64_t rows = table_bytes(p, &e->tables[0]);
        weight = rows > weight ? rows : weight;
    }
    if (is_data(e)) {
        size_t from, to;
        refs_find(&p->data, &(sl_bfile_table){e->schema, e->name}, &from, &to);
        lock = 1 + (uint64_t)p->data.v[from].entry;  /* the table's first segment */
    }
    sl_graph_item(g, i, weight, lock);
}

static sl_graph *
graph_build(const plan *p)
{
    sl_graph *g = sl_graph_new(p->count + p->nphases);
    size_t barrier = p->count;  /* item of the first phase's barrier */
    size_t last_serial = SL_GRAPH_NONE;
    for (size_t k = 0; k < p->nphases; k++) {
        sl_graph_item(g, barrier + k, FIRST_WEIGHT, SL_GRAPH_NO_LOCK);
        if (k > 0)
            sl_graph_depend(g, barrier + k, barrier + k - 1);
    }
    for (size_t i = 0; i < p->count; i++) {
        const sl_bfile_entry *e = entry_at(p, i);
        size_t k = (size_t)p->phase_index[i];
        set_item(p, g, i);
        sl_graph_depend(g, barrier + k, i);
        if (last_serial != SL_GRAPH_NONE)
            sl_graph_depend(g, i, last_serial);
        bool by_tables = e->parallel && tables_known(p, i);
        if (by_tables)
            depend_on_tables(p, g, i);
        else if (k > 0)
            sl_graph_depend(g, i, barrier + k - 1);
        if (!e->parallel)
            last_serial = i;
    }
    return g;
}

/* ---- the workers ---- */

static bool
noop(const engine *eng, size_t item)
{
    return item >= eng->nentries ||
           (!eng->archive && sl_bfile_reader_entry(eng->reader, item)->phase == SL_PHASE_PREAMBLE);
}

static int run_toc_item(worker *w, size_t i, sl_error *err);

/* Waits (eng->lock held) for a change: an item done, a failure, or the poll's end. */
static void
wait_change(engine *eng)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += (long)STOP_POLL_MS * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    int rc = pthread_cond_timedwait(&eng->changed, &eng->lock, &until);
    (void)rc;  /* ETIMEDOUT or a wake-up: the caller looks again either way */
}

static void
worker_main(void *arg, int id)
{
    engine *eng = arg;
    worker *w = &eng->workers[id];
    pthread_mutex_lock(&eng->lock);
    while (!sl__restore_stopping(eng) && !sl_graph_finished(eng->graph)) {
        size_t item = sl_graph_take(eng->graph);
        if (item == SL_GRAPH_NONE) {
            wait_change(eng);
            continue;
        }
        if (!noop(eng, item)) {
            const sl_bfile_entry *e =
                eng->archive ? NULL : sl_bfile_reader_entry(eng->reader, item);
            w->current = e;
            pthread_mutex_unlock(&eng->lock);
            sl_error err;
            sl_error_clear(&err);
            int rc = e ? run_entry(w, e, &err) : run_toc_item(w, item, &err);
            if (rc != RUN_OK)
                sl__restore_fail(eng, &err);
            pthread_mutex_lock(&eng->lock);
            w->current = NULL;
            if (rc != RUN_OK) {
                pthread_cond_broadcast(&eng->changed);
                break;
            }
        }
        sl_graph_done(eng->graph, item);
        pthread_cond_broadcast(&eng->changed);
    }
    w->current = NULL;
    pthread_mutex_unlock(&eng->lock);
}

/* The graph's items over every worker connection. */
static int
run_workers(engine *eng, sl_error *err)
{
    if (sl_workers_run(eng->jobs, eng->nworkers, worker_main, eng, err) != 0)
        return -1;
    return sl_workers_first_error(eng->jobs, err) ? -1 : 0;
}

/* --single-transaction: one connection, every segment in file order. */
static int
run_in_order(engine *eng, sl_error *err)
{
    for (size_t i = 0; i < sl_bfile_reader_count(eng->reader); i++) {
        const sl_bfile_entry *e = sl_bfile_reader_entry(eng->reader, i);
        if (e->phase != SL_PHASE_PREAMBLE && run_entry(&eng->workers[0], e, err) != RUN_OK)
            return -1;
    }
    return 0;
}

int
sl__restore_run_graph(engine *eng, sl_error *err)
{
    if (eng->opts->single_transaction)
        return run_in_order(eng, err);
    plan p;
    plan_build(&p, eng->reader);
    eng->graph = graph_build(&p);
    eng->nentries = p.count;
    plan_free(&p);
    int rc = -1;
    if (sl_graph_seal(eng->graph, err) != 0) {
        sl_error_prefix(err, "backup file \"%s\"", eng->opts->input);
        goto done;
    }
    rc = run_workers(eng, err);
done:
    sl_graph_free(eng->graph);
    eng->graph = NULL;
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

/* One entry of a pg_dump archive on w's connection. */
static int
run_toc_item(worker *w, size_t i, sl_error *err)
{
    engine *eng = w->eng;
    const sl_toc_item *it = &eng->plan.items[i];
    char label[300];
    sl_toc_describe(it->e, label, sizeof label);
    where wh = {.label = label};
    sl_toc_text *t = NULL;
    if (sl_toc_text_open(&t, eng->archive, it, &eng->toc, w->conn, err) != 0) {
        sl_error_context(err, "%s", label);
        return RUN_FAIL;
    }
    source src = {.toc = t};
    uint64_t unused = 0;
    int rc = sl__restore_run_text(w, &src, &wh, false, false, 0, &unused, err);
    sl_toc_text_close(t);
    if (rc == RUN_OK) {
        atomic_fetch_add(&eng->segments, 1);
        sl_progress_item_done(eng->progress);
        eng->done[i] = true;
    }
    return rc;
}

/* --single-transaction: one connection, pass after pass, in TOC order. */
static int
run_archive_in_order(engine *eng, sl_error *err)
{
    static const sl_toc_pass passes[] = {SL_TOC_PASS_MAIN, SL_TOC_PASS_ACL,
                                         SL_TOC_PASS_POST_ACL};
    for (size_t p = 0; p < sizeof passes / sizeof passes[0]; p++)
        for (size_t i = 0; i < eng->plan.n; i++)
            if (eng->plan.items[i].pass == passes[p] &&
                run_toc_item(&eng->workers[0], i, err) != RUN_OK)
                return -1;
    return 0;
}

int
sl__restore_run_archive(engine *eng, sl_error *err)
{
    if (eng->opts->single_transaction || eng->nworkers == 1)
        return run_archive_in_order(eng, err);
    eng->graph = sl_tocgraph_build(&eng->plan, eng->opts->input, err);
    if (!eng->graph)
        return -1;
    eng->nentries = eng->plan.n;
    int rc = run_workers(eng, err);
    sl_graph_free(eng->graph);
    eng->graph = NULL;
    return rc;
}
