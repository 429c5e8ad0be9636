/* mydump/mydump.c: see mydump.h.
 * Design note. States of a run, in order:
 *   connect   the leader and `jobs` workers connect, each with the backup's session settings;
 *   snapshot  FLUSH TABLES WITH READ LOCK on the leader (unless --no-lock), then every
 *             connection starts its consistent-snapshot transaction, the binary log position
 *             is read, UNLOCK TABLES: the lock is held only for those few statements, and all
 *             connections see the same committed state, the one the position names;
 *   schema    the leader reads the catalog and writes the preamble and pre-data;
 *   data      the workers (threads, one connection each) take tasks biggest first;
 *   post      the leader writes sequence values, indexes, foreign keys, triggers, views,
 *             events; the writer closes with the header, or is aborted on any failure (no
 *             file is left: not NAME, not NAME.partial).
 * Stopping: the first failure (any thread) or a signal sets a flag every worker checks at each
 * row; a worker that waits on the server notices when its statement returns. */
#include "mydump/mydump.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "mydump/objects.h"
#include "mydump/rows.h"
#include "mydump/run.h"
#include "mysql/quote.h"

#define DEFAULT_CHUNK_BYTES (64LL << 20)
#define MAX_RANGES 256

static atomic_bool running;
static atomic_bool interrupted;
/* Wakes the canceler (a signal handler may write to a pipe, nothing more). Made once, kept
 * for the process's life, so that a handler never writes to a descriptor being closed. */
static int wake_pipe[2] = {-1, -1};
static pthread_once_t wake_once = PTHREAD_ONCE_INIT;

static void
make_wake_pipe(void)
{
    if (pipe(wake_pipe) != 0) {
        wake_pipe[0] = wake_pipe[1] = -1;
        return;
    }
    for (int i = 0; i < 2; i++) {
        fcntl(wake_pipe[i], F_SETFD, FD_CLOEXEC);
        fcntl(wake_pipe[i], F_SETFL, O_NONBLOCK);
    }
}

static void
wake(void)
{
    if (wake_pipe[1] >= 0) {
        ssize_t n = write(wake_pipe[1], "w", 1);
        (void)n;  /* a full pipe is already awake */
    }
}

bool
sl_mydump_interrupt(void)
{
    if (!atomic_load(&running))
        return false;
    atomic_store(&interrupted, true);
    wake();
    return true;
}

void
sl__mydump_fail(mydump_ctx *d, const sl_error *err)
{
    pthread_mutex_lock(&d->lock);
    if (!atomic_load(&d->failed))
        d->first_error = *err;
    atomic_store(&d->failed, true);
    pthread_mutex_unlock(&d->lock);
    wake();
}

/* The canceler: a thread that sleeps until the run stops (a failure, a signal) or ends, and
 * on a stop kills, from a connection of its own, the statement each of the run's connections
 * is running, so that a worker waiting on the server (for a lock, on a long sort) stops now
 * rather than at its next row. */
typedef struct canceler {
    mydump_ctx *d;
    const sl_mysql_target *target;
    unsigned long *ids;  /* server thread ids of the run's connections */
    int nids;
    atomic_bool done;
    pthread_t thread;
    bool started;
} canceler;

static void
kill_queries(canceler *k)
{
    sl_error err;
    sl_mysql *c = sl_mysql_connect(k->target, &err);
    if (!c)
        return;  /* the server is gone: nothing runs there any more */
    for (int i = 0; i < k->nids; i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "KILL QUERY %lu", k->ids[i]);
        if (sl_mysql_exec(c, sql, &err) != 0)
            continue;  /* a connection that ended meanwhile: nothing to stop */
    }
    sl_mysql_close(c);
}

static void *
canceler_main(void *p)
{
    canceler *k = p;
    while (!atomic_load(&k->done)) {
        if (sl__mydump_stopping(k->d)) {
            kill_queries(k);
            break;
        }
        struct pollfd pfd = {.fd = wake_pipe[0], .events = POLLIN};
        if (poll(&pfd, 1, -1) > 0) {
            char buf[64];
            while (read(wake_pipe[0], buf, sizeof buf) > 0)
                ;
        }
    }
    return NULL;
}

static void
canceler_start(canceler *k, mydump_ctx *d, const sl_mysql_target *t, sl_mysql *leader,
               sl_mysql **workers, int n)
{
    *k = (canceler){.d = d, .target = t, .ids = sl_calloc((size_t)n + 1, sizeof *k->ids)};
    k->ids[k->nids++] = mysql_thread_id(sl_mysql_handle(leader));
    for (int i = 0; i < n; i++)
        k->ids[k->nids++] = mysql_thread_id(sl_mysql_handle(workers[i]));
    if (wake_pipe[0] >= 0)
        k->started = pthread_create(&k->thread, NULL, canceler_main, k) == 0;
}

static void
canceler_stop(canceler *k)
{
    atomic_store(&k->done, true);
    wake();
    if (k->started)
        pthread_join(k->thread, NULL);
    free(k->ids);
}

bool
sl__mydump_stopping(mydump_ctx *d)
{
    return atomic_load(&d->failed) || atomic_load(&interrupted);
}

int
sl__mydump_write_text(mydump_ctx *d, const char *text, size_t len, const sl_bfile_meta *meta,
                      sl_error *err)
{
    sl_bfile_segment *seg = NULL;
    if (sl_bfile_segment_open(d->writer, &seg, err) != 0)
        return -1;
    if (sl_bfile_segment_write(seg, text, len, err) != 0) {
        sl_bfile_segment_abort(seg);
        return -1;
    }
    return sl_bfile_segment_commit(seg, meta, err);
}

/* Every connection's settings: SHOW CREATE and values read with no sql_mode of the server's
 * (ANSI_QUOTES would change how names are quoted), TIMESTAMP values in UTC as the preamble
 * writes them back, room for a worker that waits on a slow compressor. */
static const char session_sql[] =
    "SET SESSION SQL_MODE = '', SESSION TIME_ZONE = '+00:00', "
    "SESSION net_write_timeout = 3600, SESSION net_read_timeout = 3600; "
    "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ";

static sl_mysql *
connect_one(const sl_mysql_target *t, sl_error *err)
{
    sl_mysql *c = sl_mysql_connect(t, err);
    if (c && sl_mysql_exec(c, session_sql, err) != 0) {
        sl_error_prefix(err, "could not set the backup's session settings");
        sl_mysql_close(c);
        return NULL;
    }
    return c;
}

typedef struct binlog_pos {
    char *file, *position, *gtid;
} binlog_pos;

/* One value of a small query, NULL when it has no row (or a NULL). */
static int
query_value(sl_mysql *c, const char *sql, unsigned col, char **out, sl_error *err)
{
    *out = NULL;
    MYSQL_RES *res = sl_mysql_query(c, sql, false, err);
    if (!res)
        return -1;
    MYSQL_ROW row = mysql_fetch_row(res);
    if (row && mysql_num_fields(res) > col && row[col] && row[col][0])
        *out = sl_strdup(row[col]);
    mysql_free_result(res);
    return 0;
}

/* Where the snapshot stands in the binary log. A server without one, or a user that may not
 * ask, gives a backup without a position (warned), not a failed backup. */
static void
read_binlog(sl_mysql *c, binlog_pos *pos)
{
    sl_error err;
    sl_error_clear(&err);
    if (query_value(c, "SHOW MASTER STATUS", 0, &pos->file, &err) != 0 ||
        (pos->file && query_value(c, "SHOW MASTER STATUS", 1, &pos->position, &err) != 0)) {
        SL_WARN("the backup records no binary log position: %s", err.message);
        return;
    }
    const char *gtid_sql = sl_mysql_is_mariadb(c) ? "SELECT @@GLOBAL.gtid_binlog_pos"
                                                  : "SELECT @@GLOBAL.gtid_executed";
    if (pos->file && query_value(c, gtid_sql, 0, &pos->gtid, &err) != 0)
        SL_WARN("the backup records no GTID set: %s", err.message);
}

/* The database's default character set and collation, which restore --create gives the copy. */
static int
read_defaults(const mydump_ctx *d, sl_mysql *c, char **cs, char **coll, sl_error *err)
{
    sl_buf sql = SL_BUF_INIT;
    sl_buf_puts(&sql, "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM "
                      "information_schema.SCHEMATA WHERE SCHEMA_NAME = ");
    sl_mysql_put_literal(&sql, d->database, strlen(d->database));
    int rc = query_value(c, sql.data, 0, cs, err);
    if (rc == 0)
        rc = query_value(c, sql.data, 1, coll, err);
    sl_buf_free(&sql);
    return rc;
}

static int
take_snapshot(mydump_ctx *d, sl_mysql *leader, sl_mysql **workers, int n, binlog_pos *pos,
              sl_error *err)
{
    if (!d->opts->no_lock && sl_mysql_exec(leader, "FLUSH TABLES WITH READ LOCK", err) != 0) {
        sl_error_prefix(err, "could not lock the tables for a consistent snapshot (give "
                        "--no-lock to go without)");
        return -1;
    }
    int rc = sl_mysql_exec(leader, "START TRANSACTION WITH CONSISTENT SNAPSHOT", err);
    for (int i = 0; rc == 0 && i < n; i++)
        rc = sl_mysql_exec(workers[i], "START TRANSACTION WITH CONSISTENT SNAPSHOT", err);
    if (rc == 0)
        read_binlog(leader, pos);
    if (!d->opts->no_lock) {
        sl_error unlock_err;
        if (sl_mysql_exec(leader, "UNLOCK TABLES", &unlock_err) != 0 && rc == 0) {
            *err = unlock_err;
            rc = -1;
        }
    }
    if (rc != 0)
        sl_error_prefix(err, "could not start the backup's snapshot");
    return rc;
}

static int
compare_weight(const void *a, const void *b)
{
    int64_t x = ((const mydump_task *)a)->weight, y = ((const mydump_task *)b)->weight;
    return x < y ? 1 : x > y ? -1 : 0;
}

static bool
parse_ll(const char *s, long long *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    *out = strtoll(s, &end, 10);
    return errno == 0 && *end == '\0';
}

/* The key ranges of a large table with a single integer primary key: n ranges of equal key
 * width from MIN to MAX, the first and last open-ended so that no row is outside them. */
static int
add_ranges(mydump_ctx *d, sl_mysql *c, const sl_mydump_table *t, int64_t chunk, size_t *cap,
           sl_error *err)
{
    sl_buf sql = SL_BUF_INIT;
    char *lo_text = NULL, *hi_text = NULL;
    sl_buf_puts(&sql, "SELECT MIN(");
    sl_mysql_put_ident(&sql, t->int_key);
    sl_buf_puts(&sql, "), MAX(");
    sl_mysql_put_ident(&sql, t->int_key);
    sl_buf_puts(&sql, ") FROM ");
    sl_mysql_put_ident(&sql, t->name);
    int rc = query_value(c, sql.data, 0, &lo_text, err);
    if (rc == 0)
        rc = query_value(c, sql.data, 1, &hi_text, err);
    long long lo, hi;
    int64_t n = t->bytes / chunk + 1;
    if (n > MAX_RANGES)
        n = MAX_RANGES;
    if (rc == 0 && parse_ll(lo_text, &lo) && parse_ll(hi_text, &hi) && hi > lo && n > 1) {
        unsigned long long step = ((unsigned long long)hi - (unsigned long long)lo) /
                                  (unsigned long long)n + 1;
        for (int64_t i = 0; i < n; i++) {
            if (d->ntasks == *cap) {
                *cap *= 2;
                d->tasks = sl_realloc(d->tasks, *cap * sizeof *d->tasks);
            }
            unsigned long long b0 = (unsigned long long)lo + (unsigned long long)i * step;
            d->tasks[d->ntasks++] = (mydump_task){
                .table = t, .ranged = true, .has_lo = i > 0, .has_hi = i < n - 1,
                .lo = (long long)b0, .hi = (long long)(b0 + step), .weight = t->bytes / n};
        }
    } else if (rc == 0) {
        d->tasks[d->ntasks++] = (mydump_task){.table = t, .weight = t->bytes};
    }
    sl_buf_free(&sql);
    free(lo_text);
    free(hi_text);
    return rc;
}

static int
plan_tasks(mydump_ctx *d, sl_mysql *c, sl_error *err)
{
    int64_t chunk = d->opts->chunk_bytes > 0 ? d->opts->chunk_bytes : DEFAULT_CHUNK_BYTES;
    size_t cap = d->cat->ntables + 1;
    d->tasks = sl_calloc(cap, sizeof *d->tasks);
    for (size_t i = 0; i < d->cat->ntables; i++) {
        const sl_mydump_table *t = &d->cat->tables[i];
        if (t->kind != SL_MYDUMP_TABLE)
            continue;
        if (d->ntasks == cap) {
            cap *= 2;
            d->tasks = sl_realloc(d->tasks, cap * sizeof *d->tasks);
        }
        if (t->int_key && d->opts->jobs > 1 && t->bytes > chunk) {
            if (add_ranges(d, c, t, chunk, &cap, err) != 0)
                return -1;
        } else {
            d->tasks[d->ntasks++] = (mydump_task){.table = t, .weight = t->bytes};
        }
    }
    qsort(d->tasks, d->ntasks, sizeof *d->tasks, compare_weight);
    return 0;
}

typedef struct worker_arg {
    mydump_ctx *d;
    sl_mysql *conn;
    pthread_t thread;
} worker_arg;

static void *
worker_main(void *p)
{
    worker_arg *w = p;
    mydump_ctx *d = w->d;
    while (!sl__mydump_stopping(d)) {
        size_t i = atomic_fetch_add(&d->next_task, 1);
        if (i >= d->ntasks)
            break;
        sl_error err;
        sl_error_clear(&err);
        if (sl__mydump_table_rows(d, w->conn, &d->tasks[i], &err) != 0) {
            sl__mydump_fail(d, &err);
            break;
        }
        sl_progress_item_done(d->progress);
    }
    return NULL;
}

static int
run_workers(mydump_ctx *d, sl_mysql **conns, int n, sl_error *err)
{
    worker_arg *args = sl_calloc((size_t)n, sizeof *args);
    int started = 0;
    for (int i = 0; i < n; i++) {
        args[i] = (worker_arg){.d = d, .conn = conns[i]};
        if (n == 1) {
            worker_main(&args[i]);
        } else if (pthread_create(&args[i].thread, NULL, worker_main, &args[i]) == 0) {
            started++;
        } else {
            sl_error e;
            sl_error_set(&e, SL_E_INTERNAL, "could not start a worker thread");
            sl__mydump_fail(d, &e);
            break;
        }
    }
    for (int i = 0; i < started; i++)
        pthread_join(args[i].thread, NULL);
    free(args);
    if (atomic_load(&d->failed)) {
        *err = d->first_error;
        return -1;
    }
    return 0;
}

static void
iso_now(char *buf, size_t cap)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The statement size: the option, below the server's max_allowed_packet (a restore to a
 * server like this one must take every statement but a single oversized row). */
static int
settle_statement_size(mydump_ctx *d, sl_mysql *c, sl_error *err)
{
    char *packet = NULL;
    if (query_value(c, "SELECT @@max_allowed_packet", 0, &packet, err) != 0)
        return -1;
    long long p = packet ? atoll(packet) : 0;
    free(packet);
    size_t want = d->opts->max_statement > 0 ? (size_t)d->opts->max_statement
                                             : SL_MYDUMP_STATEMENT_DEFAULT;
    if (p > 4096 && (size_t)p - 1024 < want)
        want = (size_t)p - 1024;
    d->max_statement = want;
    return 0;
}

static int
backup(mydump_ctx *d, sl_mysql *leader, sl_mysql **workers, sl_mydump_summary *summary,
       sl_error *err)
{
    binlog_pos pos = {0};
    char *charset = NULL, *collation = NULL;
    char started[32];
    iso_now(started, sizeof started);
    const char *version = mysql_get_server_info(sl_mysql_handle(leader));
    int rc = -1;
    if (take_snapshot(d, leader, workers, d->opts->jobs, &pos, err) != 0 ||
        settle_statement_size(d, leader, err) != 0 ||
        read_defaults(d, leader, &charset, &collation, err) != 0 ||
        sl_mydump_catalog_read(&d->cat, leader, err) != 0 || plan_tasks(d, leader, err) != 0)
        goto done;
    int64_t bytes = 0, tables = 0;
    for (size_t i = 0; i < d->cat->ntables; i++) {
        bytes += d->cat->tables[i].kind == SL_MYDUMP_TABLE ? d->cat->tables[i].bytes : 0;
        tables += d->cat->tables[i].kind == SL_MYDUMP_TABLE;
    }
    sl_progress_set_totals(d->progress, (int64_t)d->ntasks, bytes);
    SL_INFO("backing up %s (%lld tables, %d jobs%s)", sl_mysql_describe(leader),
            (long long)tables, d->opts->jobs, d->opts->no_lock ? ", no lock" : "");
    sl_progress_start(d->progress);
    rc = sl__mydump_preamble(d, version ? version : "", started, err);
    if (rc == 0)
        rc = sl__mydump_pre_data(d, leader, err);
    if (rc == 0)
        rc = run_workers(d, workers, d->opts->jobs, err);
    if (rc == 0)
        rc = sl__mydump_sequence_values(d, leader, err);
    if (rc == 0)
        rc = sl__mydump_post_data(d, leader, err);
    sl_progress_set_bytes_out(d->progress, (int64_t)sl_bfile_writer_bytes(d->writer));
    sl_progress_stop(d->progress);
    if (rc == 0 && atomic_load(&interrupted)) {
        sl_error_set(err, SL_E_CANCELED, "backup interrupted by a signal");
        rc = -1;
    }
    if (rc == 0) {
        sl_bfile_header hdr = {.database = d->database, .server_version = version,
                               .started_at = started, .sluice_version = SL_VERSION,
                               .engine = "mysql", .binlog_file = pos.file,
                               .binlog_position = pos.position, .gtid_executed = pos.gtid,
                               .character_set = charset, .collation = collation};
        sl_bfile_writer *w = d->writer;
        d->writer = NULL;  /* close frees it, success or not */
        rc = sl_bfile_writer_close(w, &hdr, err);
        summary->tables = tables;
    }
done:
    free(pos.file);
    free(pos.position);
    free(pos.gtid);
    free(charset);
    free(collation);
    return rc;
}

int
sl_mydump_run(const sl_mysql_target *target, const sl_mydump_opts *opts,
              sl_mydump_summary *summary, sl_error *err)
{
    mydump_ctx d = {.opts = opts, .database = target->database};
    canceler k = {0};
    int n = opts->jobs > 0 ? opts->jobs : 1;
    sl_mysql *leader = NULL, **workers = sl_calloc((size_t)n, sizeof *workers);
    int rc = -1;
    memset(summary, 0, sizeof *summary);
    pthread_mutex_init(&d.lock, NULL);
    pthread_once(&wake_once, make_wake_pipe);
    char stale[64];
    while (wake_pipe[0] >= 0 && read(wake_pipe[0], stale, sizeof stale) > 0)
        ;
    atomic_store(&interrupted, false);
    atomic_store(&running, true);
    if (opts->no_lock)
        SL_WARN("--no-lock: no FLUSH TABLES WITH READ LOCK, so the workers' snapshots may "
                "differ, non-InnoDB tables and DDL during the backup are not consistent, and "
                "the binary log position is approximate");
    if (!target->database || !*target->database) {
        sl_error_set(err, SL_E_USAGE, "missing the database name");
        goto done;
    }
    leader = connect_one(target, err);
    for (int i = 0; leader && i < n; i++)
        if (!(workers[i] = connect_one(target, err)))
            goto done;
    if (!leader || sl_bfile_writer_open(&d.writer, opts->output, &opts->codec, err) != 0)
        goto done;
    d.progress = sl_progress_new(&(sl_progress_opts){
        .label = "backup", .tty = opts->progress_tty, .quiet = opts->quiet,
        .interval_s = opts->progress_interval_s});
    canceler_start(&k, &d, target, leader, workers, n);
    rc = backup(&d, leader, workers, summary, err);
    canceler_stop(&k);
done:
    if (rc != 0 && atomic_load(&interrupted))
        sl_error_set(err, SL_E_CANCELED, "backup interrupted by a signal");
    sl_bfile_writer_abort(d.writer);  /* NULL after a successful close */
    if (d.progress) {
        sl_progress_figures fig;
        sl_progress_read(d.progress, &fig);
        summary->rows = fig.rows;
        summary->bytes_in = fig.bytes_in;
        summary->bytes_out = fig.bytes_out;
        summary->elapsed_s = fig.elapsed_s;
    }
    sl_progress_free(d.progress);
    for (int i = 0; i < n; i++)
        sl_mysql_close(workers[i]);
    free(workers);
    sl_mysql_close(leader);
    sl_mydump_catalog_free(d.cat);
    free(d.tasks);
    pthread_mutex_destroy(&d.lock);
    atomic_store(&running, false);
    return rc;
}
