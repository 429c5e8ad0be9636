/* myrestore/restore.c: see restore.h.
 * Design: connection 0 is opened first; it prepares the target and runs every segment that
 * is not part of a parallel group. A parallel group is a run of consecutive DATA or INDEX
 * segments marked parallel; for it, up to jobs - 1 more connections are opened once (each
 * runs the preamble) and kept for later groups. Workers (one thread per connection, 0
 * included) take from the group's queue, sorted biggest first, under eng->lock; in an INDEX
 * group a worker skips a segment whose table another one is altering, and waits on
 * eng->changed when only such segments are left. The first error is kept in eng->first and
 * sets eng->stop: every worker stops before its next statement (a running statement runs
 * to its end: the server rolls back nothing that it already did), no segment starts, and
 * the errors that the stop causes are not reported. A signal sets eng->stop the same way. */
#include "myrestore/restore.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/progress.h"
#include "io/bfile.h"
#include "myrestore/runner.h"
#include "myrestore/target.h"
#include "mysql/script.h"

#define PREAMBLE_MAX ((size_t)1 << 20)  /* session settings: a few hundred bytes */

typedef struct myengine {
    const sl_myrestore_opts *opts;
    sl_mysql_target conn_target;  /* the target, the restored database selected */
    sl_bfile_reader *reader;
    sl_buf preamble;
    sl_mysql **conns;
    unsigned long *thread_ids;    /* the server's id of each connection, for KILL QUERY */
    int nconns;                   /* opened so far */
    size_t max_statement;         /* the option, else the server's max_allowed_packet */
    atomic_bool over;             /* the run is over: the watcher ends */
    atomic_bool stop;
    atomic_llong statements, segments, rows;
    sl_progress *progress;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    bool failed;
    sl_error first;
    /* the parallel group being run (eng->lock) */
    const sl_bfile_entry **queue;
    size_t nqueue;
    bool *taken;
    const sl_bfile_entry **running;  /* per connection */
    bool exclusive;                  /* one segment per table at a time */
} myengine;

static atomic_bool interrupted;
static _Atomic(atomic_bool *) current_stop;

bool
sl_myrestore_interrupt(void)
{
    atomic_bool *stop = atomic_load(&current_stop);
    if (!stop)
        return false;
    atomic_store(&interrupted, true);
    atomic_store(stop, true);
    return true;
}

static void
fail(myengine *eng, const sl_error *err)
{
    pthread_mutex_lock(&eng->lock);
    if (!eng->failed) {
        eng->failed = true;
        eng->first = *err;
    }
    atomic_store(&eng->stop, true);
    pthread_cond_broadcast(&eng->changed);
    pthread_mutex_unlock(&eng->lock);
}

static int
run_preamble(myengine *eng, sl_mysql *c, sl_error *err)
{
    if (eng->opts->skip_binlog && sl_mysql_exec(c, "SET SESSION sql_log_bin = 0", err) != 0) {
        sl_error_prefix(err, "--skip-binlog");
        return -1;
    }
    if (eng->preamble.len == 0)
        return 0;
    sl__myrun r = {.conn = c, .what = "the preamble", .max_statement = eng->max_statement,
                   .stop = &eng->stop, .statements = &eng->statements};
    return sl__myrestore_run_text(&r, NULL, eng->preamble.data, eng->preamble.len, err);
}

static int
load_preamble(myengine *eng, sl_error *err)
{
    for (size_t i = 0; i < sl_bfile_reader_count(eng->reader); i++) {
        const sl_bfile_entry *e = sl_bfile_reader_entry(eng->reader, i);
        if (e->phase != SL_PHASE_PREAMBLE)
            continue;
        sl_bfile_stream *st = NULL;
        if (sl_bfile_stream_open(&st, eng->reader, e, true, err) != 0)
            return -1;
        const char *data;
        size_t len;
        int got;
        while ((got = sl_bfile_stream_read(st, &data, &len, err)) == 1) {
            if (eng->preamble.len + len > PREAMBLE_MAX) {
                sl_error_set(err, SL_E_ARCHIVE, "the preamble (segment %d at offset %llu) is "
                             "larger than %zu bytes", e->seq, (unsigned long long)e->offset,
                             PREAMBLE_MAX);
                got = -1;
                break;
            }
            sl_buf_append(&eng->preamble, data, len);
        }
        sl_bfile_stream_close(st);
        if (got < 0)
            return -1;
    }
    return 0;
}

static int
run_segment(myengine *eng, sl_mysql *c, const sl_bfile_entry *e, sl_error *err)
{
    char what[256];
    sl_bfile_entry_describe(e, what, sizeof what);
    sl_bfile_stream *st = NULL;
    if (sl_bfile_stream_open(&st, eng->reader, e, true, err) != 0)
        return -1;
    sl__myrun r = {.conn = c, .what = what, .max_statement = eng->max_statement,
                   .stop = &eng->stop, .statements = &eng->statements,
                   .progress = eng->progress};
    int rc = sl__myrestore_run_text(&r, st, NULL, 0, err);
    sl_bfile_stream_close(st);
    if (rc != 0)
        return -1;
    atomic_fetch_add(&eng->segments, 1);
    if (sl_bfile_kind_is(e->kind, SL_BFILE_KIND_TABLE_DATA) && e->rows > 0) {
        atomic_fetch_add(&eng->rows, e->rows);
        sl_progress_add(eng->progress, e->rows, 0);  /* the index's count, once loaded */
    }
    sl_progress_item_done(eng->progress);
    return 0;
}

/* ---- parallel groups ---- */

/* The table a segment works on, for the one-per-table rule: the first it names, else its own
 * object. */
static bool
same_table(const sl_bfile_entry *a, const sl_bfile_entry *b)
{
    const char *as = a->ntables ? a->tables[0].schema : a->schema;
    const char *an = a->ntables ? a->tables[0].name : a->name;
    const char *bs = b->ntables ? b->tables[0].schema : b->schema;
    const char *bn = b->ntables ? b->tables[0].name : b->name;
    if (!an || !bn)
        return false;
    return strcmp(an, bn) == 0 && strcmp(as ? as : "", bs ? bs : "") == 0;
}

static bool
table_busy(const myengine *eng, const sl_bfile_entry *e)
{
    for (int i = 0; i < eng->nconns; i++)
        if (eng->running[i] && same_table(eng->running[i], e))
            return true;
    return false;
}

/* The next segment for a worker (eng->lock held): NULL when the group is over or stopped. */
static const sl_bfile_entry *
take(myengine *eng, int id)
{
    for (;;) {
        if (atomic_load(&eng->stop))
            return NULL;
        bool left = false;
        for (size_t i = 0; i < eng->nqueue; i++) {
            if (eng->taken[i])
                continue;
            left = true;
            if (eng->exclusive && table_busy(eng, eng->queue[i]))
                continue;
            eng->taken[i] = true;
            eng->running[id] = eng->queue[i];
            return eng->queue[i];
        }
        if (!left)
            return NULL;
        pthread_cond_wait(&eng->changed, &eng->lock);
    }
}

typedef struct worker_arg {
    myengine *eng;
    int id;
} worker_arg;

static void *
worker_main(void *p)
{
    worker_arg *a = p;
    myengine *eng = a->eng;
    pthread_mutex_lock(&eng->lock);
    const sl_bfile_entry *e;
    while ((e = take(eng, a->id)) != NULL) {
        pthread_mutex_unlock(&eng->lock);
        sl_error err;
        sl_error_clear(&err);
        if (run_segment(eng, eng->conns[a->id], e, &err) != 0)
            fail(eng, &err);
        pthread_mutex_lock(&eng->lock);
        eng->running[a->id] = NULL;
        pthread_cond_broadcast(&eng->changed);
    }
    pthread_mutex_unlock(&eng->lock);
    return NULL;
}

static int
open_connection(myengine *eng, sl_error *err)
{
    sl_mysql *c = sl_mysql_connect(&eng->conn_target, err);
    if (!c)
        return -1;
    pthread_mutex_lock(&eng->lock);
    eng->thread_ids[eng->nconns] = mysql_thread_id(sl_mysql_handle(c));
    eng->conns[eng->nconns++] = c;
    pthread_mutex_unlock(&eng->lock);
    return run_preamble(eng, c, err);
}

static int
biggest_first(const void *a, const void *b)
{
    const sl_bfile_entry *x = *(const sl_bfile_entry *const *)a;
    const sl_bfile_entry *y = *(const sl_bfile_entry *const *)b;
    if (x->raw_length != y->raw_length)
        return x->raw_length > y->raw_length ? -1 : 1;
    return x->seq - y->seq;
}

static int
run_group(myengine *eng, size_t from, size_t to, sl_error *err)
{
    int want = eng->opts->jobs;
    if ((size_t)want > to - from)
        want = (int)(to - from);
    while (eng->nconns < want)
        if (open_connection(eng, err) != 0)
            return -1;
    eng->nqueue = to - from;
    eng->queue = sl_calloc(eng->nqueue, sizeof *eng->queue);
    eng->taken = sl_calloc(eng->nqueue, sizeof *eng->taken);
    for (size_t i = from; i < to; i++)
        eng->queue[i - from] = sl_bfile_reader_entry(eng->reader, i);
    qsort(eng->queue, eng->nqueue, sizeof *eng->queue, biggest_first);
    eng->exclusive = eng->queue[0]->phase == SL_PHASE_INDEX;
    pthread_t th[256];
    worker_arg args[256];
    int started = 0;
    for (int i = 1; i < want; i++) {
        args[i] = (worker_arg){eng, i};
        if (pthread_create(&th[i], NULL, worker_main, &args[i]) != 0)
            break;
        started = i;
    }
    args[0] = (worker_arg){eng, 0};
    worker_main(&args[0]);
    for (int i = 1; i <= started; i++)
        pthread_join(th[i], NULL);
    free(eng->queue);
    free(eng->taken);
    eng->queue = NULL;
    eng->taken = NULL;
    return eng->failed ? -1 : 0;
}

/* ---- the run ---- */

static bool
parallel_kind(const myengine *eng, const sl_bfile_entry *e)
{
    return e->parallel && !eng->opts->single_transaction &&
           (e->phase == SL_PHASE_DATA || e->phase == SL_PHASE_INDEX);
}

static int
run_segments(myengine *eng, sl_error *err)
{
    size_t count = sl_bfile_reader_count(eng->reader);
    for (size_t i = 0; i < count && !eng->failed;) {
        const sl_bfile_entry *e = sl_bfile_reader_entry(eng->reader, i);
        if (e->phase == SL_PHASE_PREAMBLE) {
            i++;
            continue;
        }
        if (!parallel_kind(eng, e)) {
            if (run_segment(eng, eng->conns[0], e, err) != 0)
                fail(eng, err);
            i++;
            continue;
        }
        size_t j = i + 1;
        while (j < count && sl_bfile_reader_entry(eng->reader, j)->phase == e->phase &&
               parallel_kind(eng, sl_bfile_reader_entry(eng->reader, j)))
            j++;
        if (run_group(eng, i, j, err) != 0)
            fail(eng, err);
        i = j;
    }
    return eng->failed ? -1 : 0;
}

static int
check_engine(myengine *eng, sl_error *err)
{
    if (!sl_bfile_reader_indexed(eng->reader))
        return 0;
    const char *engine = sl_bfile_reader_header(eng->reader, "engine");
    if (!engine || strcmp(engine, "mysql") != 0) {
        sl_error_set(err, SL_E_USAGE, "\"%s\" is a %s backup, not a MySQL one: restore it "
                     "without --engine mysql", eng->opts->input, engine ? engine : "PostgreSQL");
        return -1;
    }
    return load_preamble(eng, err);
}

static const char *
target_database(const myengine *eng, const sl_mysql_target *t)
{
    if (eng->opts->database)
        return eng->opts->database;
    if (t->database)
        return t->database;
    return sl_bfile_reader_indexed(eng->reader) ? sl_bfile_reader_header(eng->reader, "database")
                                                : NULL;
}

/* The longest statement the server takes (max_allowed_packet): a longer one is refused
 * naming its line rather than sent to break the connection. */
static int
packet_limit(myengine *eng, sl_error *err)
{
    MYSQL_RES *res = sl_mysql_query(eng->conns[0], "SELECT @@max_allowed_packet", false, err);
    if (!res)
        return -1;
    MYSQL_ROW row = mysql_fetch_row(res);
    unsigned long long v = row && row[0] ? strtoull(row[0], NULL, 10) : 0;
    mysql_free_result(res);
    eng->max_statement = v > 0 && v < SL_MYSCRIPT_MAX_STATEMENT ? (size_t)v
                                                                  : SL_MYSCRIPT_MAX_STATEMENT;
    return 0;
}

/* ---- stopping the statements that run ---- */

/* Once the run must stop (a signal, a failed worker), the statements still running on the
 * other connections are killed (KILL QUERY from a connection of its own) instead of being
 * waited for; a signal handler cannot do that, so this thread looks at eng->stop a few
 * times a second. A killed statement of a TABLE DATA segment rolls its transaction back. */
static void *
watcher_main(void *p)
{
    myengine *eng = p;
    const struct timespec tick = {0, 100 * 1000 * 1000};
    while (!atomic_load(&eng->over) && !atomic_load(&eng->stop))
        nanosleep(&tick, NULL);
    if (atomic_load(&eng->over))
        return NULL;
    sl_error err;
    sl_error_clear(&err);
    sl_mysql *c = sl_mysql_connect(&eng->conn_target, &err);
    if (!c)
        return NULL;  /* the server is gone: so are the statements */
    pthread_mutex_lock(&eng->lock);
    int n = eng->nconns;
    pthread_mutex_unlock(&eng->lock);
    for (int i = 0; i < n; i++) {
        char q[64];
        snprintf(q, sizeof q, "KILL QUERY %lu", eng->thread_ids[i]);
        if (sl_mysql_exec(c, q, &err) != 0)
            sl_log(SL_LOG_DEBUG, "%s: %s", q, err.message);
    }
    sl_mysql_close(c);
    return NULL;
}

/* The whole file read once before anything runs: every segment's SHA-256 checked and its
 * statements cut (a client command, an unterminated string, a statement over the limit), so
 * that a damaged, truncated or hostile file is refused with the target untouched. Reading
 * is cheap next to what the server does with the statements (and a table's rows loaded in
 * one transaction, the other way to keep a damaged segment out, cost InnoDB 2 to 3 times the
 * load time). The restore's own streams check the checksums again, for a file that changes
 * meanwhile. */
static int
check_file(myengine *eng, sl_error *err)
{
    size_t count = sl_bfile_reader_indexed(eng->reader) ? sl_bfile_reader_count(eng->reader) : 1;
    for (size_t i = 0; i < count; i++) {
        const sl_bfile_entry *e = sl_bfile_reader_indexed(eng->reader)
                                      ? sl_bfile_reader_entry(eng->reader, i)
                                      : NULL;
        char what[300];
        if (e)
            sl_bfile_entry_describe(e, what, sizeof what);
        else
            snprintf(what, sizeof what, "file %s", eng->opts->input);
        sl_bfile_stream *st = NULL;
        if (sl_bfile_stream_open(&st, eng->reader, e, true, err) != 0)
            return -1;
        sl__myrun r = {.what = what, .max_statement = eng->max_statement, .stop = &eng->stop,
                       .statements = &eng->statements, .dry = true};
        int rc = sl__myrestore_run_text(&r, st, NULL, 0, err);
        sl_bfile_stream_close(st);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static int
prepare(myengine *eng, const sl_mysql_target *t, sl_error *err)
{
    eng->conn_target = *t;
    eng->conn_target.database = NULL;
    const char *db = target_database(eng, t);
    if (!db && (eng->opts->create || eng->opts->clean)) {
        sl_error_set(err, SL_E_USAGE, "--create and --clean need a target database: give "
                     "--database NAME");
        return -1;
    }
    eng->conns[0] = sl_mysql_connect(&eng->conn_target, err);
    if (!eng->conns[0])
        return -1;
    eng->thread_ids[0] = mysql_thread_id(sl_mysql_handle(eng->conns[0]));
    eng->nconns = 1;
    if (!eng->max_statement && packet_limit(eng, err) != 0)
        return -1;
    if (check_file(eng, err) != 0)
        return -1;
    if (db) {
        sl__mytarget tg = {.database = db, .create = eng->opts->create, .clean = eng->opts->clean,
                           .charset = sl_bfile_reader_header(eng->reader, "character_set"),
                           .collation = sl_bfile_reader_header(eng->reader, "collation")};
        if (sl__myrestore_target(eng->conns[0], &tg, err) != 0)
            return -1;
        eng->conn_target.database = db;
    }
    return 0;
}

static int
run_all(myengine *eng, sl_error *err)
{
    sl_mysql *c = eng->conns[0];
    if (!sl_bfile_reader_indexed(eng->reader)) {
        if (run_preamble(eng, c, err) != 0)  /* empty: only what the options add */
            return -1;
        char what[300];
        snprintf(what, sizeof what, "file %s", eng->opts->input);
        sl_bfile_stream *st = NULL;
        if (sl_bfile_stream_open(&st, eng->reader, NULL, true, err) != 0)
            return -1;
        sl__myrun r = {.conn = c, .what = what, .max_statement = eng->max_statement,
                       .stop = &eng->stop, .statements = &eng->statements,
                       .progress = eng->progress};
        int rc = sl__myrestore_run_text(&r, st, NULL, 0, err);
        sl_bfile_stream_close(st);
        if (rc == 0)
            atomic_fetch_add(&eng->segments, 1);
        return rc;
    }
    if (run_preamble(eng, c, err) != 0)
        return -1;
    if (eng->opts->single_transaction && sl_mysql_exec(c, "SET autocommit = 0", err) != 0)
        return -1;
    if (run_segments(eng, err) != 0) {
        *err = eng->first;
        return -1;
    }
    if (eng->opts->single_transaction && sl_mysql_exec(c, "COMMIT", err) != 0)
        return -1;
    return 0;
}

static void
start_progress(myengine *eng)
{
    const sl_myrestore_opts *o = eng->opts;
    eng->progress = sl_progress_new(&(sl_progress_opts){
        .label = "restore", .interval_s = o->progress_interval_s, .tty = o->progress_tty,
        .quiet = o->quiet});
    int64_t items = 0, bytes = 0;
    for (size_t i = 0; i < sl_bfile_reader_count(eng->reader); i++) {
        const sl_bfile_entry *e = sl_bfile_reader_entry(eng->reader, i);
        if (e->phase == SL_PHASE_PREAMBLE)
            continue;  /* run on every connection, not counted */
        items++;
        bytes += (int64_t)e->raw_length;
    }
    sl_progress_set_totals(eng->progress, items, bytes);
    sl_progress_start(eng->progress);
}

static void
finish(myengine *eng, sl_myrestore_summary *sum, struct timespec t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (eng->progress) {
        sl_progress_stop(eng->progress);
        sl_progress_figures f;
        sl_progress_read(eng->progress, &f);
        sum->bytes = f.bytes_in;
    }
    sum->segments = atomic_load(&eng->segments);
    sum->statements = atomic_load(&eng->statements);
    sum->rows = atomic_load(&eng->rows);
    sum->elapsed_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

static void
engine_free(myengine *eng)
{
    for (int i = 0; i < eng->nconns; i++)
        sl_mysql_close(eng->conns[i]);
    free(eng->conns);
    free(eng->thread_ids);
    free(eng->running);
    sl_progress_free(eng->progress);
    sl_buf_free(&eng->preamble);
    sl_bfile_reader_close(eng->reader);
    pthread_mutex_destroy(&eng->lock);
    pthread_cond_destroy(&eng->changed);
}

int
sl_myrestore_run(const sl_mysql_target *t, const sl_myrestore_opts *opts,
                 sl_myrestore_summary *summary, sl_error *err)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(summary, 0, sizeof *summary);
    if (opts->jobs < 1 || opts->jobs > 256 || (opts->single_transaction && opts->jobs > 1)) {
        sl_error_set(err, SL_E_USAGE, "--single-transaction runs on one connection: not with "
                     "-j over 1");
        return -1;
    }
    myengine eng = {.opts = opts, .max_statement = opts->max_statement};
    pthread_mutex_init(&eng.lock, NULL);
    pthread_cond_init(&eng.changed, NULL);
    eng.conns = sl_calloc((size_t)opts->jobs, sizeof *eng.conns);
    eng.running = sl_calloc((size_t)opts->jobs, sizeof *eng.running);
    eng.thread_ids = sl_calloc((size_t)opts->jobs, sizeof *eng.thread_ids);
    atomic_store(&interrupted, false);
    int rc = -1;
    if (sl_bfile_reader_open(&eng.reader, opts->input, err) != 0 || check_engine(&eng, err) != 0)
        goto done;
    atomic_store(&current_stop, &eng.stop);
    if (prepare(&eng, t, err) != 0)
        goto done;
    start_progress(&eng);
    pthread_t watcher;
    bool watching = pthread_create(&watcher, NULL, watcher_main, &eng) == 0;
    rc = run_all(&eng, err);
    atomic_store(&eng.over, true);
    if (watching)
        pthread_join(watcher, NULL);
done:
    atomic_store(&current_stop, NULL);
    finish(&eng, summary, t0);
    if (atomic_load(&interrupted) && rc != 0) {
        sl_error_set(err, SL_E_CANCELED, "restore interrupted by a signal: %lld segments "
                     "restored", (long long)summary->segments);
        if (opts->single_transaction)
            summary->segments = 0;
    }
    engine_free(&eng);
    return rc;
}

int
sl_myrestore_probe(const char *path, bool *indexed, sl_error *err)
{
    sl_bfile_reader *r = NULL;
    if (sl_bfile_reader_open(&r, path, err) != 0)
        return -1;
    *indexed = sl_bfile_reader_indexed(r);
    const char *engine = sl_bfile_reader_header(r, "engine");
    int rc = engine && strcmp(engine, "mysql") == 0;
    sl_bfile_reader_close(r);
    return rc;
}
