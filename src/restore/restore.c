/* restore/restore.c: the restore engine (restore/restore.h).
 *
 * Design. An engine holds the file reader, the target conninfo and `jobs` workers; a worker is
 * one connection (opened once, the preamble run on it once) and, during a parallel phase, one
 * thread. Every piece of SQL text -- the preamble kept in memory, one segment of a sluice file,
 * a whole plain script -- goes through run_items(): a source of decompressed chunks, a splitter,
 * and one connection. COPY data goes straight from the decompressed chunk to PQputCopyData.
 *
 * The end of a COPY is held back until the next item or the end of the segment: a segment's
 * checksum is only known at its end, so a corrupt TABLE DATA segment has its COPY aborted
 * instead of committed.
 *
 * Stopping (pg/workers.h): the first fatal error (any error without --continue-on-error, or a
 * lost connection, a corrupt file) is kept by eng->jobs, which stops the run and cancels the
 * statements running on the worker connections; workers ask sl_workers_stopping() between
 * items, and the errors caused by the cancel are not reported. Parallel phases hand out
 * segments in file order, except that a worker passes over TABLE DATA of a table that another
 * worker is loading (a large table comes in several segments): two COPYs into one table wait
 * on each other for its extension lock, two into different tables do not.
 *
 * Signals: SIGINT/SIGTERM go through pg/workers.h, armed for the whole run. The handler only
 * stops the run and cancels the statement running on every worker connection (each is watched
 * from when it opens); the canceled statements fail and are rolled back by the server, workers
 * take no new segment and run no further statement, and the workers' errors go through
 * set_failed() as any failure does. At the end the run reports, as its one error, what had
 * been restored when the signal came. */
#include "restore/restore.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/progress.h"
#include "io/bfile.h"
#include "pg/copy.h"
#include "pg/workers.h"
#include "restore/splitter.h"
#include "restore/statement.h"
#include "restore/target.h"

#define PREAMBLE_MAX ((size_t)1 << 20)  /* session settings: a few hundred bytes */
#define DEADLOCK_RETRIES 5
#define DEFAULT_MAINTENANCE_WORK_MEM "256MB"

enum { RUN_OK = 0, RUN_FAIL = -1, RUN_RETRY = 1 };

typedef struct engine engine;

typedef struct worker {
    engine *eng;
    int id;
    sl_conn *conn;
    const sl_bfile_entry *current;  /* the segment it runs in a parallel phase (eng->lock) */
    int watch;                      /* its pg/workers.h watch slot, -1 when not watched */
} worker;

struct engine {
    const sl_restore_opts *opts;
    sl_bfile_reader *reader;
    sl_conninfo *target;  /* a plain script's \connect replaces it */
    sl_conn_opts conn_opts;
    sl_buf preamble;
    sl_splitter_budget *budget;  /* statement memory shared by the workers */
    worker *workers;
    int nworkers;
    sl_progress *progress;
    atomic_llong statements, errors, segments, rows, bytes;
    sl_workers *jobs;             /* threads, the first error, cancel and signals */
    pthread_mutex_t lock;         /* the scheduling state below and workers' `current` */
    const sl_bfile_entry **work;  /* a parallel phase's segments; NULL once handed out */
    size_t nwork;
    size_t first_left;            /* work[0..first_left) are all handed out */
    bool *done;                   /* per index entry: the segment completed (see interrupted) */
    bool committed;               /* --single-transaction: its COMMIT succeeded */
};

/* Decompressed text: a stream of the file, or the preamble in memory. */
typedef struct source {
    sl_bfile_stream *stream;
    const char *mem;
    size_t mem_len;
    bool mem_sent;
} source;

/* What is being run, for messages. */
typedef struct where {
    const sl_bfile_entry *entry;  /* a segment, or NULL */
    const char *label;            /* when entry is NULL: "the preamble", "file x.sql" */
} where;

/* One pass of run_items(). */
typedef struct run {
    worker *w;
    const where *wh;
    bool plain;               /* a plain script: \connect allowed */
    bool can_retry;           /* a deadlock may be retried */
    uint64_t skip;            /* statements already done by an earlier attempt */
    uint64_t idx;             /* statements seen */
    uint64_t retry_at;
    sl_copy_writer *cw;
    bool copy_skip;           /* the COPY failed or was skipped: drop its data */
    bool end_pending;         /* COPY data complete; end it before the next item */
    uint64_t copy_line, copy_offset;
    char copy_head[96];
    sl_buf sql;               /* scratch for rewritten statements */
} run;

static int
source_read(source *src, const char **data, size_t *len, sl_error *err)
{
    if (src->stream)
        return sl_bfile_stream_read(src->stream, data, len, err);
    if (src->mem_sent)
        return 0;
    src->mem_sent = true;
    *data = src->mem;
    *len = src->mem_len;
    return 1;
}

/* The first line of a statement (or meta-command), cut short and with its secrets redacted
 * (pg/conninfo.h), for messages: a statement's text reaches them only through here. */
static void
head_of(const char *text, size_t len, char *out, size_t cap)
{
    size_t line = 0;
    while (line < len && line < 1024 && text[line] != '\n' && text[line] != '\r')
        line++;
    sl_buf b = SL_BUF_INIT;
    sl_conninfo_redact_sql(text, line, &b);
    size_t n = b.len < cap - 4 ? b.len : cap - 4;
    memcpy(out, b.data, n);
    out[n] = '\0';
    if (line < len || n < b.len)
        strcat(out, "...");
    sl_buf_free(&b);
}

static void
set_location(sl_error *err, const where *wh, uint64_t line, uint64_t offset, const char *head)
{
    const sl_bfile_entry *e = wh->entry;
    err->context[0] = '\0';  /* the location replaces what a lower layer said */
    if (e)
        sl_error_context(err, "statement at line %llu (offset %llu) of segment %d (%s%s%s%s%s): %s",
                         (unsigned long long)line, (unsigned long long)offset, e->seq, e->kind,
                         e->name ? " " : "", e->schema && e->name ? e->schema : "",
                         e->schema && e->name ? "." : "", e->name ? e->name : "", head);
    else
        sl_error_context(err, "statement at line %llu (offset %llu) of %s: %s",
                         (unsigned long long)line, (unsigned long long)offset, wh->label, head);
}

/* The first fatal error stops the run and cancels the statements of every worker connection
 * (the failed one's is idle: its cancel does nothing). */
static void
set_failed(engine *eng, const sl_error *err)
{
    (void)sl_workers_fail(eng->jobs, err);
}

static bool
stopping(const engine *eng)
{
    return sl_workers_stopping(eng->jobs);
}

/* A signal, or another worker's failure, cancels the statement running on w's connection. */
static void
watch_worker(worker *w)
{
    sl_workers_unwatch(w->eng->jobs, w->watch);
    w->watch = sl_workers_watch(w->eng->jobs, w->conn ? sl_conn_pg(w->conn) : NULL);
}

/* A statement (or meta-command) failed: RUN_OK to go on (--continue-on-error, logged and
 * counted), RUN_RETRY for a deadlock that may be retried, RUN_FAIL to stop. */
static int
statement_failed(run *r, uint64_t line, uint64_t offset, const char *head, sl_error *err)
{
    engine *eng = r->w->eng;
    set_location(err, r->wh, line, offset, head);
    if (stopping(eng))
        return RUN_FAIL;
    if (err->kind == SL_E_SERVER && strcmp(err->sqlstate, "40P01") == 0 && r->can_retry) {
        r->retry_at = r->idx - 1;
        return RUN_RETRY;
    }
    bool recoverable = err->kind == SL_E_SERVER || err->kind == SL_E_UNSUPPORTED;
    if (!eng->opts->continue_on_error || !recoverable ||
        PQstatus(sl_conn_pg(r->w->conn)) != CONNECTION_OK)
        return RUN_FAIL;
    sl_log_error(err);
    atomic_fetch_add(&eng->errors, 1);
    sl_error_clear(err);
    return RUN_OK;
}

/* ---- COPY ---- */

/* In --single-transaction mode, "COPY t (...) FROM stdin;" becomes "... WITH (FREEZE);" when
 * t is a plain table created or truncated in this transaction (its pg_class row was written
 * by it), which is the only case the server accepts. Returns the SQL to run. */
static const char *
copy_sql(run *r, const sl_split_item *it)
{
    engine *eng = r->w->eng;
    if (!eng->opts->single_transaction || !sl_statement_copy_freeze(it->text, it->len, &r->sql))
        return it->text;
    sl_buf rel = SL_BUF_INIT;
    bool freeze = false;
    if (sl_statement_copy_relation(it->text, &rel)) {
        PGresult *res = NULL;
        sl_error qerr;
        sl_error_clear(&qerr);
        const char *params[] = {rel.data};
        if (sl_conn_query(r->w->conn, &res,
                          "SELECT c.relkind = 'r' AND c.xmin::text::bigint ="
                          " pg_catalog.txid_current() % 4294967296"
                          " FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass($1)",
                          1, params, &qerr) == 0) {
            freeze = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
            PQclear(res);
        }
    }
    sl_buf_free(&rel);
    return freeze ? r->sql.data : it->text;
}

static int
copy_finish(run *r, sl_error *err)
{
    if (!r->end_pending)
        return RUN_OK;
    r->end_pending = false;
    uint64_t rows = 0;
    sl_copy_writer *cw = r->cw;
    r->cw = NULL;
    if (sl_copy_writer_end(cw, &rows, err) != 0)
        return statement_failed(r, r->copy_line, r->copy_offset, r->copy_head, err);
    atomic_fetch_add(&r->w->eng->rows, (long long)rows);
    sl_progress_add(r->w->eng->progress, (int64_t)rows, 0);
    return RUN_OK;
}

/* ---- items ---- */

static int
run_meta(run *r, const sl_split_item *it, sl_error *err)
{
    engine *eng = r->w->eng;
    char *name = NULL, *arg = NULL;
    int rc = RUN_OK;
    char head[96];
    head_of(it->text, it->len, head, sizeof head);
    if (sl_splitter_parse_meta(it->text, &name, &arg, err) != 0) {
        set_location(err, r->wh, it->line, it->offset, head);
        return RUN_FAIL;
    }
    if (strcmp(name, "restrict") == 0 || strcmp(name, "unrestrict") == 0) {
        SL_DEBUG("ignoring \\%s at line %llu (it only guards psql)", name,
                 (unsigned long long)it->line);
    } else if ((strcmp(name, "connect") == 0 || strcmp(name, "c") == 0) && r->plain && arg &&
               !eng->opts->single_transaction) {
        sl_conninfo *ci = sl_conninfo_with_dbname(eng->target, arg);
        sl_conn *c = NULL;
        if (sl_conn_open(&c, ci, &eng->conn_opts, err) != 0) {
            sl_conninfo_free(ci);
            set_location(err, r->wh, it->line, it->offset, head);
            rc = RUN_FAIL;
        } else {
            SL_INFO("\\connect at line %llu: now restoring into database \"%s\"",
                    (unsigned long long)it->line, arg);
            sl_conn_close(r->w->conn);
            r->w->conn = c;
            watch_worker(r->w);
            sl_conninfo_free(eng->target);
            eng->target = ci;
        }
    } else {
        if (strcmp(name, "connect") == 0 || strcmp(name, "c") == 0)
            sl_error_set(err, SL_E_UNSUPPORTED, "\\%s %s is not supported here%s", name,
                         arg ? arg : "",
                         eng->opts->single_transaction ? " (--single-transaction)" : "");
        else
            sl_error_set(err, SL_E_UNSUPPORTED, "unsupported psql meta-command \\%s at line %llu",
                         name, (unsigned long long)it->line);
        rc = statement_failed(r, it->line, it->offset, head, err);
    }
    free(name);
    free(arg);
    return rc;
}

static int
run_statement(run *r, const sl_split_item *it, sl_error *err)
{
    engine *eng = r->w->eng;
    uint64_t idx = r->idx++;
    if (idx < r->skip ||
        sl_statement_skipped(it->text, eng->opts->no_owner, eng->opts->no_privileges)) {
        r->copy_skip = it->copy_in;
        return RUN_OK;
    }
    char head[96];
    head_of(it->text, it->len, head, sizeof head);
    atomic_fetch_add(&eng->statements, 1);
    if (!it->copy_in) {
        if (sl_conn_exec(r->w->conn, it->text, err) != 0)
            return statement_failed(r, it->line, it->offset, head, err);
        return RUN_OK;
    }
    r->copy_line = it->line;
    r->copy_offset = it->offset;
    memcpy(r->copy_head, head, sizeof r->copy_head);
    r->copy_skip = false;
    const char *sql = copy_sql(r, it);
    if (sl_log_enabled(SL_LOG_DEBUG)) {
        char label[48];
        snprintf(label, sizeof label, "COPY at line %llu", (unsigned long long)it->line);
        sl_conn_log_statement(label, sql);
    }
    if (sl_copy_writer_open(&r->cw, r->w->conn, sql, err) != 0) {
        r->cw = NULL;
        r->copy_skip = true;
        return statement_failed(r, it->line, it->offset, head, err);
    }
    return RUN_OK;
}

static int
run_item(run *r, const sl_split_item *it, sl_error *err)
{
    if (it->kind != SL_SPLIT_COPY_DATA) {
        int rc = copy_finish(r, err);
        if (rc != RUN_OK)
            return rc;
    }
    switch (it->kind) {
    case SL_SPLIT_STATEMENT:
        return run_statement(r, it, err);
    case SL_SPLIT_COPY_DATA:
        if (r->cw && !r->copy_skip && sl_copy_writer_put(r->cw, it->text, it->len, err) != 0) {
            set_location(err, r->wh, r->copy_line, r->copy_offset, r->copy_head);
            return RUN_FAIL;
        }
        return RUN_OK;
    case SL_SPLIT_COPY_END:
        r->end_pending = r->cw != NULL;
        r->copy_skip = false;
        return RUN_OK;
    case SL_SPLIT_META:
        return run_meta(r, it, err);
    }
    return RUN_OK;
}

/* Runs the statements of src on w's connection. RUN_RETRY leaves in *retry_at the statement
 * to resume from. */
static int
run_items(worker *w, source *src, const where *wh, bool plain, bool can_retry, uint64_t skip,
          uint64_t *retry_at, sl_error *err)
{
    engine *eng = w->eng;
    run r = {.w = w, .wh = wh, .plain = plain, .can_retry = can_retry, .skip = skip};
    sl_buf_init(&r.sql);
    sl_splitter *sp = sl_splitter_new(SL_SPLITTER_OPTS(.max_statement = eng->opts->max_statement,
                                                       .budget = eng->budget));
    int rc = RUN_OK;
    for (bool more = true; more && rc == RUN_OK;) {
        if (stopping(eng)) {
            sl_error_set(err, SL_E_CANCELED, "restore stopped");
            rc = RUN_FAIL;
            break;
        }
        const char *data = NULL;
        size_t len = 0;
        int got = source_read(src, &data, &len, err);
        if (got < 0) {
            rc = RUN_FAIL;
            break;
        }
        if (got == 0) {
            sl_splitter_finish(sp);
            more = false;
        } else {
            sl_splitter_feed(sp, data, len);
            atomic_fetch_add(&eng->bytes, (long long)len);
            sl_progress_add(eng->progress, 0, (int64_t)len);
        }
        sl_split_item it;
        int n = 0;
        while (rc == RUN_OK && (n = sl_splitter_next(sp, &it, err)) == 1) {
            if (stopping(eng)) {  /* a signal between two statements */
                sl_error_set(err, SL_E_CANCELED, "restore stopped");
                rc = RUN_FAIL;
                break;
            }
            rc = run_item(&r, &it, err);
        }
        if (rc == RUN_OK && n < 0) {
            if (wh->entry)
                sl_error_context(err, "segment %d (%s) at file offset %llu", wh->entry->seq,
                                 wh->entry->kind, (unsigned long long)wh->entry->offset);
            else
                sl_error_context(err, "%s", wh->label);
            rc = RUN_FAIL;
        }
    }
    if (rc == RUN_OK)
        rc = copy_finish(&r, err);  /* the segment checked out: the last COPY may commit */
    if (r.cw) {
        sl_copy_writer_abort(r.cw, rc == RUN_OK ? NULL : "the restore failed");
        r.cw = NULL;
    }
    if (rc == RUN_RETRY)
        *retry_at = r.retry_at;
    sl_splitter_free(sp);
    sl_buf_free(&r.sql);
    return rc;
}

static void
sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
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
        int rc = run_items(w, &src, &wh, false, e->parallel && attempt < DEADLOCK_RETRIES, skip,
                           &at, err);
        sl_bfile_stream_close(st);
        if (rc != RUN_RETRY) {
            if (rc == RUN_OK) {
                atomic_fetch_add(&eng->segments, 1);
                sl_progress_item_done(eng->progress);
                eng->done[e - sl_bfile_reader_entry(eng->reader, 0)] = true;
            }
            return rc;
        }
        SL_WARN("deadlock in segment %d (%s %s): retrying from its statement %llu", e->seq,
                e->kind, e->name ? e->name : "", (unsigned long long)at + 1);
        sl_error_clear(err);
        skip = at;
        sleep_ms(100 * (attempt + 1));
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
    if (strcmp(e->kind, "TABLE DATA") != 0)
        return false;
    for (int i = 0; i < eng->nworkers; i++) {
        const sl_bfile_entry *c = eng->workers[i].current;
        if (&eng->workers[i] != self && c && strcmp(c->kind, "TABLE DATA") == 0 &&
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
    while (!stopping(eng) && (e = take_work(eng, w)) != NULL) {
        sl_error err;
        sl_error_clear(&err);
        if (run_entry(w, e, &err) != RUN_OK) {
            set_failed(eng, &err);
            break;
        }
    }
    pthread_mutex_lock(&eng->lock);
    w->current = NULL;
    pthread_mutex_unlock(&eng->lock);
}

/* ---- connections ---- */

static int
open_worker(engine *eng, worker *w, sl_error *err)
{
    if (sl_conn_open(&w->conn, eng->target, &eng->conn_opts, err) != 0)
        return -1;
    watch_worker(w);
    if (eng->preamble.len == 0)
        return 0;
    source src = {.mem = eng->preamble.data, .mem_len = eng->preamble.len};
    where wh = {.label = "the preamble"};
    uint64_t unused = 0;
    return run_items(w, &src, &wh, false, false, 0, &unused, err) == RUN_OK ? 0 : -1;
}

static int
load_preamble(engine *eng, sl_error *err)
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
                                                "larger than %zu bytes",
                             e->seq, (unsigned long long)e->offset, PREAMBLE_MAX);
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

/* ---- phases ---- */

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

static int
run_phases(engine *eng, sl_error *err)
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

static int
run_plain(engine *eng, sl_error *err)
{
    sl_bfile_stream *st = NULL;
    if (sl_bfile_stream_open(&st, eng->reader, NULL, false, err) != 0)
        return -1;
    char label[1100];
    snprintf(label, sizeof label, "file %s", eng->opts->input);
    where wh = {.label = label};
    source src = {.stream = st};
    uint64_t unused = 0;
    int rc = run_items(&eng->workers[0], &src, &wh, true, false, 0, &unused, err);
    sl_bfile_stream_close(st);
    if (rc == RUN_OK) {
        atomic_fetch_add(&eng->segments, 1);
        sl_progress_item_done(eng->progress);
    }
    return rc == RUN_OK ? 0 : -1;
}

/* ---- the whole run ---- */

/* A backup without pre-data (backup --data-only) holds rows for tables that must exist. */
static bool
data_only_backup(const engine *eng)
{
    if (!sl_bfile_reader_indexed(eng->reader))
        return false;
    for (size_t i = 0; i < sl_bfile_reader_count(eng->reader); i++)
        if (sl_bfile_reader_entry(eng->reader, i)->phase == SL_PHASE_PRE_DATA)
            return false;
    return true;
}

/* Rows of a data-only backup go into tables whose triggers and foreign keys exist already:
 * as pg_restore --disable-triggers does, they are loaded with triggers off (every connection
 * runs the preamble, so the setting goes there), which needs a superuser. */
static int
prepare_data_only(engine *eng, sl_error *err)
{
    sl_conn *c = eng->workers[0].conn;
    if (sl__restore_check_tables_empty(c, eng->reader, eng->opts->database, err) != 0)
        return -1;
    const char *super = PQparameterStatus(sl_conn_pg(c), "is_superuser");
    if (super && strcmp(super, "on") == 0) {
        sl_buf_puts(&eng->preamble, "SET session_replication_role = replica;\n");
        return 0;
    }
    SL_WARN("data-only restore as a non-superuser: triggers of the target tables will fire "
            "and foreign keys are checked row by row");
    return 0;
}

static int
prepare_target(engine *eng, const sl_conninfo *ci, sl_error *err)
{
    const sl_restore_opts *o = eng->opts;
    bool data_only = data_only_backup(eng);
    if (data_only && (o->create || o->clean)) {
        sl_error_set(err, SL_E_REFUSED,
                     "\"%s\" is a data-only backup: its tables must already exist in \"%s\", "
                     "so --create and --clean do not apply (restore the schema first)",
                     o->input, o->database);
        return -1;
    }
    if (o->create &&
        sl__restore_create(ci, &eng->conn_opts, o->database, o->clean, err) != 0)
        return -1;
    if (sl_conn_open(&eng->workers[0].conn, eng->target, &eng->conn_opts, err) != 0)
        return -1;
    watch_worker(&eng->workers[0]);
    if (o->create)
        return 0;
    if (o->clean) {
        SL_INFO("--clean: dropping every schema, extension and large object of \"%s\"",
                o->database);
        return sl__restore_clean(eng->workers[0].conn, err);
    }
    if (data_only)
        return prepare_data_only(eng, err);
    return sl__restore_check_empty(eng->workers[0].conn, o->database, err);
}

static int
open_connections(engine *eng, bool indexed, sl_error *err)
{
    /* workers[0] is open already (prepare_target); give it the preamble too */
    if (indexed && eng->preamble.len > 0) {
        source src = {.mem = eng->preamble.data, .mem_len = eng->preamble.len};
        where wh = {.label = "the preamble"};
        uint64_t unused = 0;
        if (run_items(&eng->workers[0], &src, &wh, false, false, 0, &unused, err) != RUN_OK)
            return -1;
    }
    for (int i = 1; i < eng->nworkers; i++)
        if (open_worker(eng, &eng->workers[i], err) != 0)
            return -1;
    if (eng->opts->single_transaction)
        return sl_conn_exec(eng->workers[0].conn, "BEGIN", err);
    return 0;
}

static void
set_totals(engine *eng, bool indexed)
{
    int64_t items = 0, bytes = 0;
    if (indexed) {
        for (size_t i = 0; i < sl_bfile_reader_count(eng->reader); i++) {
            const sl_bfile_entry *e = sl_bfile_reader_entry(eng->reader, i);
            if (e->phase == SL_PHASE_PREAMBLE)
                continue;
            items++;
            bytes += (int64_t)e->raw_length;
        }
    } else {
        items = 1;
    }
    sl_progress_set_totals(eng->progress, items, bytes);
}

static void
engine_free(engine *eng)
{
    for (int i = 0; i < eng->nworkers; i++)
        sl_conn_close(eng->workers[i].conn);
    free(eng->workers);
    free(eng->done);
    sl_progress_free(eng->progress);
    sl_splitter_budget_free(eng->budget);
    sl_buf_free(&eng->preamble);
    sl_conninfo_free(eng->target);
    sl_bfile_reader_close(eng->reader);
    sl_workers_free(eng->jobs);
    pthread_mutex_destroy(&eng->lock);
}

/* One synchronous commit of a transaction that writes WAL (txid_current() assigns an XID)
 * flushes the WAL of every commit before it, those of the other connections included. */
static int
make_durable(sl_conn *c, sl_error *err)
{
    if (sl_conn_exec(c, "SET synchronous_commit = on; SELECT pg_catalog.txid_current()", err) !=
        0) {
        sl_error_prefix(err, "could not flush the restored data to disk");
        return -1;
    }
    return 0;
}

/* True, with err set, once a signal has come: no further step starts. */
static bool
stopped(engine *eng, sl_error *err)
{
    if (!stopping(eng))
        return false;
    sl_error_set(err, SL_E_CANCELED, "restore stopped");
    return true;
}

static int
compare_tables(const void *a, const void *b)
{
    const sl_bfile_entry *x = *(const sl_bfile_entry *const *)a;
    const sl_bfile_entry *y = *(const sl_bfile_entry *const *)b;
    int c = strcmp(x->schema ? x->schema : "", y->schema ? y->schema : "");
    return c ? c : strcmp(x->name ? x->name : "", y->name ? y->name : "");
}

/* "; table data complete for 2 of 3 tables (public.a, public.b)": a table counts once all
 * its TABLE DATA segments (a large table has several) completed. */
static void
describe_tables(const engine *eng, sl_buf *msg)
{
    size_t count = sl_bfile_reader_count(eng->reader), n = 0;
    const sl_bfile_entry *first = sl_bfile_reader_entry(eng->reader, 0);
    const sl_bfile_entry **data = sl_calloc(count ? count : 1, sizeof *data);
    for (size_t i = 0; i < count; i++)
        if (strcmp(first[i].kind, "TABLE DATA") == 0)
            data[n++] = &first[i];
    qsort(data, n, sizeof *data, compare_tables);
    sl_buf names = SL_BUF_INIT;
    size_t tables = 0, complete = 0, unnamed = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        bool all = true;
        for (; j < n && compare_tables(&data[i], &data[j]) == 0; j++)
            all = all && eng->done[data[j] - first];
        tables++;
        if (all && names.len < 400) {
            sl_buf_printf(&names, "%s%s%s%s", names.len ? ", " : "",
                          data[i]->schema ? data[i]->schema : "", data[i]->schema ? "." : "",
                          data[i]->name ? data[i]->name : "");
        } else if (all) {
            unnamed++;
        }
        complete += all;
        i = j;
    }
    if (tables > 0) {
        sl_buf_printf(msg, "; table data complete for %zu of %zu tables", complete, tables);
        if (complete > 0)
            sl_buf_printf(msg, " (%s%s)", names.data, unnamed ? ", ..." : "");
    }
    sl_buf_free(&names);
    free(data);
}

/* The one error of a run that a signal stopped: what it had restored by then. */
static void
interrupted(const engine *eng, sl_error *err)
{
    const sl_restore_opts *o = eng->opts;
    sl_buf msg = SL_BUF_INIT;
    char where[sizeof err->context] = "";
    sl_buf_puts(&msg, "restore interrupted by a signal: ");
    if (o->single_transaction && !eng->committed) {
        sl_buf_puts(&msg, "nothing was restored (--single-transaction: its transaction was "
                          "rolled back)");
    } else if (atomic_load(&eng->statements) == 0) {
        sl_buf_puts(&msg, "nothing was restored yet");
    } else if (!eng->reader || !eng->done || !sl_bfile_reader_indexed(eng->reader)) {
        /* the canceled statement's location, when one was running, is err's context */
        snprintf(where, sizeof where, "%s", err->context);
        if (where[0]) {
            sl_buf_puts(&msg, "the statements of the script before the one in progress stay "
                              "committed; that one was canceled and rolled back");
        } else {
            long long n = atomic_load(&eng->statements);
            sl_buf_printf(&msg, "%lld statement%s of the script ran and stay%s committed", n,
                          n == 1 ? "" : "s", n == 1 ? "s" : "");
        }
    } else {
        long long total = 0, done = 0;
        for (size_t i = 0; i < sl_bfile_reader_count(eng->reader); i++) {
            if (sl_bfile_reader_entry(eng->reader, i)->phase == SL_PHASE_PREAMBLE)
                continue;
            total++;
            done += eng->done[i];
        }
        sl_buf_printf(&msg, "%lld of %lld segments restored", done, total);
        describe_tables(eng, &msg);
        sl_buf_puts(&msg, "; the statements in progress were canceled and rolled back");
    }
    sl_error_set(err, SL_E_CANCELED, "%s", msg.data);
    if (where[0])
        sl_error_context(err, "%s", where);
    sl_buf_free(&msg);
}

static int
restore_body(engine *eng, const sl_conninfo *ci, sl_error *err)
{
    const sl_restore_opts *o = eng->opts;
    if (sl_bfile_reader_open(&eng->reader, o->input, err) != 0)
        return -1;
    bool indexed = sl_bfile_reader_indexed(eng->reader);
    if (indexed && load_preamble(eng, err) != 0)
        return -1;
    eng->done = sl_calloc(sl_bfile_reader_count(eng->reader) + 1, sizeof *eng->done);
    eng->nworkers = indexed && !o->single_transaction ? (o->jobs > 0 ? o->jobs : 1) : 1;
    if (!indexed && o->jobs > 1)
        SL_INFO("%s is a plain script: its statements run in order on one connection",
                o->input);
    eng->workers = sl_calloc((size_t)eng->nworkers, sizeof *eng->workers);
    for (int i = 0; i < eng->nworkers; i++) {
        eng->workers[i].eng = eng;
        eng->workers[i].id = i;
        eng->workers[i].watch = -1;
    }
    if (stopped(eng, err) || prepare_target(eng, ci, err) != 0 || stopped(eng, err) ||
        open_connections(eng, indexed, err) != 0)
        return -1;
    SL_INFO("restoring %s (%s, %s) into \"%s\" with %d connection%s", o->input,
            indexed ? "sluice backup" : "plain script",
            sl_codec_name(sl_bfile_reader_codec(eng->reader)), o->database, eng->nworkers,
            eng->nworkers == 1 ? "" : "s");
    set_totals(eng, indexed);
    sl_progress_start(eng->progress);
    int rc = indexed ? run_phases(eng, err) : run_plain(eng, err);
    if (rc == 0 && stopped(eng, err))
        rc = -1;
    if (rc == 0 && o->single_transaction) {
        rc = sl_conn_exec(eng->workers[0].conn, "COMMIT", err);
        eng->committed = rc == 0;
    }
    if (rc == 0)
        rc = make_durable(eng->workers[0].conn, err);
    sl_progress_stop(eng->progress);
    return rc;
}

bool
sl_restore_interrupt(void)
{
    return sl_workers_interrupt();
}

int
sl_restore_run(const sl_conninfo *ci, const sl_conn_opts *conn_opts, const sl_restore_opts *opts,
               sl_restore_summary *summary, sl_error *err)
{
    engine eng;
    memset(&eng, 0, sizeof eng);
    eng.opts = opts;
    eng.conn_opts = *conn_opts;
    if (!eng.conn_opts.maintenance_work_mem)
        eng.conn_opts.maintenance_work_mem = DEFAULT_MAINTENANCE_WORK_MEM;  /* index builds */
    eng.conn_opts.lock_timeout = NULL;  /* a restore waits for its own DDL as long as it takes */
    /* Commits of segments need not wait for their WAL to reach disk: a restore cut short by a
     * crash is run again anyway. make_durable() flushes it all before success is reported. */
    eng.conn_opts.synchronous_commit = "off";
    eng.target = sl_conninfo_with_dbname(ci, opts->database);
    eng.budget = sl_splitter_budget_new(opts->max_statement ? opts->max_statement
                                                            : SL_SPLITTER_MAX_STATEMENT);
    pthread_mutex_init(&eng.lock, NULL);
    eng.jobs = sl_workers_new(NULL);
    eng.progress = sl_progress_new(&(sl_progress_opts){
        .label = "restore",
        .interval_s = opts->progress_interval_s,
        .tty = opts->progress_tty,
        .quiet = opts->quiet,
    });
    int rc = restore_body(&eng, ci, err);
    if (rc != 0 && err->kind == SL_E_NONE)
        (void)sl_workers_first_error(eng.jobs, err);
    sl_workers_disarm(eng.jobs);  /* every worker thread is joined: nothing else writes err now */
    if (rc != 0 && sl_workers_signaled(eng.jobs))
        interrupted(&eng, err);
    sl_progress_figures f;
    sl_progress_read(eng.progress, &f);
    bool rolled_back = opts->single_transaction && !eng.committed;  /* all of it is gone */
    summary->segments = rolled_back && rc != 0 ? 0 : atomic_load(&eng.segments);
    summary->statements = atomic_load(&eng.statements);
    summary->rows = rolled_back && rc != 0 ? 0 : atomic_load(&eng.rows);
    summary->bytes = atomic_load(&eng.bytes);
    summary->errors = atomic_load(&eng.errors);
    summary->elapsed_s = f.elapsed_s;
    if (rc == 0 && summary->errors > 0) {
        sl_error_set(err, SL_E_SERVER, "%lld statement%s failed (--continue-on-error)",
                     (long long)summary->errors, summary->errors == 1 ? "" : "s");
        rc = -1;
    }
    engine_free(&eng);
    return rc;
}
