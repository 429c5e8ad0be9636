/* restore/schedule.c: see schedule.h.
 * Parallel phases hand out segments in file order, except that a worker passes over TABLE
 * DATA of a table that another worker is loading (a large table comes in several segments):
 * two COPYs into one table wait on each other for its extension lock, two into different
 * tables do not. eng->lock guards the list of segments left and each worker's `current`. */
#include "restore/schedule.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "restore/graph.h"
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

/* -- pg_dump archives ------------------------------------------------------------------------
 * The graph (restore/graph.h) holds one node per selected entry plus three barriers: "data
 * done", "main done" and "ACLs done". Pre-data entries run one after the other in TOC order (as
 * pg_restore runs them before forking workers); data and post-data entries after the last of
 * them, each once the entries its TOC dependencies name are in -- a dependency on a TABLE
 * counts as one on its TABLE DATA too, so an index starts as soon as its table's rows are in
 * (pg_restore's repoint_table_dependencies). ACLs run after every main entry, then what must
 * follow them (materialized view data, event triggers), each pass in TOC order. Weights: a
 * TABLE DATA entry's stored size (the next block's offset, or its file's size); a post-data
 * entry inherits its table's, so the big table's index starts first. Lock keys keep two
 * entries that lock one table exclusively (its COPY, ALTER TABLE ADD CONSTRAINT, CREATE
 * TRIGGER / RULE) apart, as pg_restore's has_lock_conflicts does. */

static bool
desc_is(const sl_pgarchive_entry *e, const char *what)
{
    return e->desc && strcmp(e->desc, what) == 0;
}

/* The stored size of each TABLE DATA item, from the archive's layout. */
static uint64_t
stored_size(const engine *eng, const sl_pgarchive_entry *e)
{
    if (e->data_file) {
        struct stat st;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", eng->opts->input, e->data_file);
        return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
    }
    uint64_t next = UINT64_MAX;
    for (size_t i = 0; i < sl_pgarchive_count(eng->archive); i++) {
        uint64_t off = sl_pgarchive_at(eng->archive, i)->data_offset;
        if (off > e->data_offset && off < next)
            next = off;
    }
    if (next == UINT64_MAX) {
        struct stat st;
        next = stat(eng->opts->input, &st) == 0 ? (uint64_t)st.st_size : e->data_offset;
    }
    return next > e->data_offset ? next - e->data_offset : 0;
}

typedef struct toc_index {
    size_t *by_id;      /* dump id -> item index + 1 (0: not restored) */
    size_t *data_of;    /* dump id of a TABLE -> its TABLE DATA item + 1 */
    int max_id;
    size_t data_done;   /* the barrier after every data entry */
} toc_index;

static size_t
lookup(const size_t *map, int max_id, int id)
{
    return id > 0 && id <= max_id ? map[id] : 0;
}

static void
index_items(const engine *eng, toc_index *ix)
{
    const sl_toc_plan *p = &eng->plan;
    ix->max_id = 0;
    for (size_t i = 0; i < sl_pgarchive_count(eng->archive); i++)
        if (sl_pgarchive_at(eng->archive, i)->dump_id > ix->max_id)
            ix->max_id = sl_pgarchive_at(eng->archive, i)->dump_id;
    ix->by_id = sl_calloc((size_t)ix->max_id + 1, sizeof *ix->by_id);
    ix->data_of = sl_calloc((size_t)ix->max_id + 1, sizeof *ix->data_of);
    for (size_t i = 0; i < p->n; i++) {
        const sl_pgarchive_entry *e = p->items[i].e;
        if (e->dump_id > 0)
            ix->by_id[e->dump_id] = i + 1;
        if (desc_is(e, "TABLE DATA") && p->items[i].data)
            for (size_t d = 0; d < e->ndeps; d++)
                if (e->deps[d] > 0 && e->deps[d] <= ix->max_id)
                    ix->data_of[e->deps[d]] = i + 1;
    }
}

static bool
locks_table(const sl_pgarchive_entry *e)
{
    return desc_is(e, "TABLE DATA") || desc_is(e, "CONSTRAINT") ||
           desc_is(e, "CHECK CONSTRAINT") || desc_is(e, "FK CONSTRAINT") ||
           desc_is(e, "RULE") || desc_is(e, "TRIGGER");
}

/* Dependencies, weights and locks of a main-pass item that is not pre-data. */
static void
link_main(const engine *eng, sl_graph *g, const toc_index *ix, size_t i, size_t last_pre,
          uint64_t *weight, uint64_t *lock)
{
    const sl_toc_item *it = &eng->plan.items[i];
    const sl_pgarchive_entry *e = it->e;
    if (last_pre != SL_GRAPH_NONE)
        sl_graph_depend(g, i, last_pre);
    for (size_t d = 0; d < e->ndeps; d++) {
        size_t on = lookup(ix->by_id, ix->max_id, e->deps[d]);
        if (on && on - 1 != i && eng->plan.items[on - 1].pass == SL_TOC_PASS_MAIN)
            sl_graph_depend(g, i, on - 1);
        if (it->section != SL_PGARCHIVE_SECTION_POST_DATA)
            continue;
        size_t data = lookup(ix->data_of, ix->max_id, e->deps[d]);
        if (!data && on && desc_is(eng->plan.items[on - 1].e, "TABLE")) {
            /* a table without rows of its own, a partitioned one: a trigger or index on it
             * reaches its partitions, so it waits for all the rows */
            sl_graph_depend(g, i, ix->data_done);
            continue;
        }
        if (!data || data - 1 == i)
            continue;
        /* on a table: on its rows too */
        sl_graph_depend(g, i, data - 1);
        if (weight[data - 1] > weight[i])
            weight[i] = weight[data - 1];
        if (locks_table(e) && !*lock)
            *lock = (uint64_t)e->deps[d];
    }
    if (desc_is(e, "TABLE DATA") && e->ndeps > 0)
        *lock = (uint64_t)e->deps[0];  /* its TABLE: what a post-data entry's lock names */
}

static sl_graph *
archive_graph(engine *eng, sl_error *err)
{
    const sl_toc_plan *p = &eng->plan;
    size_t main_done = p->n, acl_done = p->n + 1, nodes = p->n + 3;
    sl_graph *g = sl_graph_new(nodes);
    toc_index ix;
    index_items(eng, &ix);
    ix.data_done = p->n + 2;
    uint64_t *weight = sl_calloc(nodes, sizeof *weight);
    uint64_t *lock = sl_calloc(nodes, sizeof *lock);
    for (size_t i = 0; i < p->n; i++)
        weight[i] = desc_is(p->items[i].e, "TABLE DATA") && p->items[i].data
                        ? stored_size(eng, p->items[i].e)
                        : p->items[i].weight;
    size_t last_pre = SL_GRAPH_NONE, last_acl = SL_GRAPH_NONE, last_post = SL_GRAPH_NONE;
    for (size_t i = 0; i < p->n; i++) {
        const sl_toc_item *it = &p->items[i];
        int section = it->section;
        if (it->pass == SL_TOC_PASS_ACL) {
            sl_graph_depend(g, i, last_acl != SL_GRAPH_NONE ? last_acl : main_done);
            sl_graph_depend(g, acl_done, i);
            last_acl = i;
        } else if (it->pass == SL_TOC_PASS_POST_ACL) {
            sl_graph_depend(g, i, last_post != SL_GRAPH_NONE ? last_post : acl_done);
            last_post = i;
        } else if (section != SL_PGARCHIVE_SECTION_DATA &&
                   section != SL_PGARCHIVE_SECTION_POST_DATA) {
            link_main(eng, g, &ix, i, last_pre, weight, &lock[i]);
            sl_graph_depend(g, main_done, i);
            last_pre = i;
        } else {
            link_main(eng, g, &ix, i, last_pre, weight, &lock[i]);
            sl_graph_depend(g, main_done, i);
            if (section == SL_PGARCHIVE_SECTION_DATA)
                sl_graph_depend(g, ix.data_done, i);
        }
    }
    if (last_pre != SL_GRAPH_NONE)
        sl_graph_depend(g, ix.data_done, last_pre);
    sl_graph_depend(g, main_done, ix.data_done);
    sl_graph_depend(g, acl_done, main_done);
    for (size_t i = 0; i < nodes; i++)
        sl_graph_item(g, i, weight[i], lock[i]);
    free(weight);
    free(lock);
    free(ix.by_id);
    free(ix.data_of);
    if (sl_graph_seal(g, err) != 0) {
        sl_error_prefix(err, "the archive's dependencies");
        sl_graph_free(g);
        return NULL;
    }
    return g;
}

static void
archive_worker(void *arg, int id)
{
    engine *eng = arg;
    worker *w = &eng->workers[id];
    pthread_mutex_lock(&eng->lock);
    while (!sl__restore_stopping(eng) && !sl_graph_finished(eng->graph)) {
        size_t i = sl_graph_take(eng->graph);
        if (i == SL_GRAPH_NONE) {
            pthread_cond_wait(&eng->ready, &eng->lock);
            continue;
        }
        pthread_mutex_unlock(&eng->lock);
        sl_error err;
        sl_error_clear(&err);
        int rc = i < eng->plan.n ? run_toc_item(w, i, &err) : RUN_OK;  /* or a barrier */
        pthread_mutex_lock(&eng->lock);
        if (rc != RUN_OK) {
            sl__restore_fail(eng, &err);
            pthread_cond_broadcast(&eng->ready);
            break;
        }
        sl_graph_done(eng->graph, i);
        pthread_cond_broadcast(&eng->ready);
    }
    pthread_cond_broadcast(&eng->ready);
    pthread_mutex_unlock(&eng->lock);
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
    eng->graph = archive_graph(eng, err);
    if (!eng->graph)
        return -1;
    if (sl_workers_run(eng->jobs, eng->nworkers, archive_worker, eng, err) != 0)
        return -1;
    if (sl_workers_first_error(eng->jobs, err))
        return -1;
    return 0;
}
