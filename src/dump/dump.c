/* dump/dump.c: the backup of one database: the pool, the writer and the catalog facts the
 * engine needs itself (encoding, table locks, large-object oids), and the order of the steps
 * that dump/run.h's modules carry out (preamble.c, emit.c, task.c with tabledata.c and
 * blobdata.c); progress may go out as NOTIFY (pg/notifier.h).
 *
 * Design note.
 * States: (1) a probe connection reads the database encoding; (2) the pool opens `jobs`
 *   connections that share one exported snapshot; (3) the leader (the caller's thread) reads
 *   the catalog inside the snapshot, locks the tables whose rows are copied (ACCESS SHARE, with
 *   lock_timeout) and writes the preamble and pre-data segments; (4) `jobs` worker threads pull
 *   tasks (a table, a ctid range of a large table, a batch of large objects) from one array,
 *   biggest first, each streaming COPY TO STDOUT into its own segment; (5) the leader writes the
 *   sequence values and one segment per post-data item, the \unrestrict segment, then the
 *   index and trailer. Every connection first runs the session settings (dump/run.c), so
 *   that the database's own settings (search_path, DateStyle, ...) neither pick the operators
 *   and functions the backup calls nor change how values are printed.
 * Invariants: every connection reads the same snapshot; a segment holds whole statements; the
 *   file's phases never go backwards because the leader commits pre-data before the workers
 *   start and post-data after they are joined.
 * Cancel: threads, the first error, cancel and signals are pg/workers.h's. The first failure
 *   stops the run and cancels the pool (every busy connection gets a cancel request and the
 *   pool lends no more), so workers blocked in COPY return at once. A signal's handler only
 *   stops the run and cancels the watched connections' statements. When the run ends after a
 *   signal, its error is "interrupted by a signal" whatever the canceled statements reported.
 *   The writer is then aborted: no NAME and no NAME.partial remain. */
#include "dump/dump.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/progress.h"
#include "dump/emit.h"
#include "dump/preamble.h"
#include "dump/run.h"
#include "dump/task.h"
#include "pg/notifier.h"

#define DEFAULT_LARGE_VALUE_BYTES (4LL * 1024 * 1024)

bool
sl_dump_interrupt(void)
{
    return sl_workers_interrupt();
}

/* The first failure cancels every busy connection (the pool lent them all) and makes the pool
 * lend no more. */
static void
cancel_pool(void *arg)
{
    dump_ctx *d = arg;
    if (d->pool)
        sl_pool_cancel_all(d->pool);
}

static int
query_value(sl_conn *c, const char *sql, char **out, sl_error *err)
{
    PGresult *res = NULL;
    if (sl_conn_query(c, &res, sql, 0, NULL, err) != 0)
        return -1;
    *out = sl_strdup(PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
    return 0;
}

static int
read_blob_oids(sl_conn *c, const sl_pattern_filter *f, uint32_t **oids, size_t *n, sl_error *err)
{
    *oids = NULL;
    *n = 0;
    if (f->schema_only || f->tables_only || (f->include_schemas && f->include_schemas[0]))
        return 0;
    PGresult *res = NULL;
    if (sl_conn_query(c, &res, "SELECT oid FROM pg_catalog.pg_largeobject_metadata ORDER BY oid",
                      0, NULL, err) != 0)
        return -1;
    *n = (size_t)PQntuples(res);
    *oids = sl_calloc(*n ? *n : 1, sizeof **oids);
    for (size_t i = 0; i < *n; i++)
        (*oids)[i] = (uint32_t)strtoul(PQgetvalue(res, (int)i, 0), NULL, 10);
    PQclear(res);
    return 0;
}

/* ACCESS SHARE locks on every table whose rows are copied, so that none can be dropped or
 * altered while the backup runs; lock_timeout (30s by default) keeps a busy table from
 * stalling the backup forever. Batched to keep statements short. */
static int
lock_tables(sl_conn *c, const sl_dump_catalog *cat, sl_error *err)
{
    sl_buf sql = SL_BUF_INIT;
    int rc = 0;
    for (size_t i = 0; i < cat->ntables && rc == 0; i++) {
        sl_buf_puts(&sql, sql.len ? ", " : "LOCK TABLE ONLY ");
        sl_buf_puts(&sql, cat->tables[i].qualified);
        if ((i + 1) % 500 == 0 || i + 1 == cat->ntables) {
            sl_buf_puts(&sql, " IN ACCESS SHARE MODE");
            rc = sl_conn_exec(c, sql.data, err);
            sl_buf_reset(&sql);
        }
    }
    sl_buf_free(&sql);
    if (rc != 0)
        sl_error_prefix(err, "could not lock the tables to back up");
    return rc;
}

static int
open_pool(dump_ctx *d, const sl_conninfo *ci, const sl_conn_opts *copts, char **encoding,
          char **version, sl_pool **pool, sl_error *err)
{
    sl_conn *probe = NULL;
    int rc = -1;
    if (sl_conn_open(&probe, ci, copts, err) != 0)
        return -1;
    if (sl__dump_prepare_session(probe, err) != 0 ||
        query_value(probe,
                    "SELECT pg_catalog.pg_encoding_to_char(encoding) FROM pg_catalog.pg_database"
                    " WHERE datname = pg_catalog.current_database()",
                    encoding, err) != 0 ||
        query_value(probe, "SELECT pg_catalog.current_setting('server_version')", version, err)
            != 0)
        goto done;
    /* written into the preamble's SET client_encoding = '...' */
    if (!sl_script_is_word(*encoding)) {
        sl_error_set(err, SL_E_SERVER, "the server sent a malformed encoding name for the "
                     "database (not 1 to 63 letters, digits or underscores)");
        goto done;
    }
    sl_conninfo *wci = sl_conninfo_with_dbname(ci, NULL);
    sl_conninfo_set(wci, "client_encoding", *encoding);
    rc = sl_pool_open(pool, wci, copts,
                      SL_POOL_OPTS(.min = 1, .max = d->opts->jobs, .snapshot = true), err);
    sl_conninfo_free(wci);
done:
    sl_conn_close(probe);
    return rc;
}

static int
write_schema_and_data(dump_ctx *d, const sl_dump_catalog *cat,
                      const char *dbname, const char *encoding, const char *version,
                      sl_error *err)
{
    const sl_pattern_filter *f = d->opts->filter;
    if (sl__dump_write_preamble(d, dbname, encoding, version, err) != 0)
        return -1;
    if (sl__dump_write_phase(d, &cat->items, SL_PHASE_PRE_DATA, "PRE-DATA", err) != 0)
        return -1;
    if (!f->schema_only && d->ntasks > 0 && sl__dump_run_tasks(d, d->opts->jobs, err) != 0)
        return -1;
    if (sl__dump_write_phase(d, &cat->items, SL_PHASE_DATA, SL_BFILE_KIND_SEQUENCE_SET, err) != 0 ||
        sl__dump_write_post_data(d, &cat->items, err) != 0 ||
        sl__dump_write_unrestrict(d, err) != 0)
        return -1;
    return 0;
}

static int
dump_in_snapshot(dump_ctx *d, sl_conn **leaderp, const char *encoding, const char *version,
                 sl_dump_summary *summary, sl_error *err)
{
    sl_pattern_filter *f = d->opts->filter;
    sl_dump_catalog *cat = NULL;
    uint32_t *blobs = NULL;
    size_t nblobs = 0;
    char *dbname = NULL, *block = NULL;
    sl_conn *leader = *leaderp;
    int rc = -1;
    if (sl__dump_prepare_session(leader, err) != 0 ||
        query_value(leader, "SELECT pg_catalog.current_database()", &dbname, err) != 0 ||
        query_value(leader, "SELECT pg_catalog.current_setting('block_size')", &block, err) != 0)
        goto done;
    if (sl_pattern_filter_resolve(f, leader, err) != 0 ||
        sl_dump_catalog_read(&cat, leader, f, err) != 0)
        goto done;
    if (read_blob_oids(leader, f, &blobs, &nblobs, err) != 0)
        goto done;
    if (!f->schema_only && lock_tables(leader, cat, err) != 0)
        goto done;
    if (!f->schema_only) {
        int64_t large = d->opts->large_value_bytes > 0 ? d->opts->large_value_bytes
                                                       : DEFAULT_LARGE_VALUE_BYTES;
        if (sl_widerow_plan_read(&d->wide, leader, cat->tables, cat->ntables, large, err) != 0)
            goto done;
        sl__dump_plan_tasks(d, cat, blobs, nblobs, atoll(block) > 0 ? atoll(block) : 8192);
    }
    d->cat = cat;
    int64_t total_bytes = 0;
    for (size_t i = 0; i < cat->ntables; i++)
        total_bytes += cat->tables[i].bytes;
    sl_progress_set_totals(d->progress, f->schema_only ? 0 : (int64_t)cat->ntables,
                           f->schema_only ? 0 : total_bytes);
    SL_INFO("backing up database \"%s\" (%zu tables, %zu large objects, snapshot %s, %d jobs)",
            dbname, cat->ntables, nblobs, sl_pool_snapshot(d->pool), d->opts->jobs);
    /* The workers take every connection of the pool, this one included: its transaction, and
     * so the locks, stay open while it is idle in the pool. */
    sl_pool_release(d->pool, leader);
    *leaderp = NULL;
    sl_progress_start(d->progress);
    rc = write_schema_and_data(d, cat, dbname, encoding, version, err);
    sl_progress_set_bytes_out(d->progress, (int64_t)sl_bfile_writer_bytes(d->writer));
    sl_progress_stop(d->progress);
    if (rc == 0 && sl_workers_signaled(d->workers))
        rc = -1;  /* a signal while the leader was between statements: no file either */
    if (rc == 0) {
        char started[32];
        sl__dump_iso_now(started, sizeof started);
        sl_buf db = SL_BUF_INIT;
        sl_script_put_utf8(&db, dbname);
        sl_buf_putc(&db, '\0');  /* data is never NULL, even for an empty name */
        sl_bfile_header hdr = {.database = db.data, .server_version = version,
                               .snapshot = sl_pool_snapshot(d->pool), .started_at = started,
                               .sluice_version = SL_VERSION};
        sl_bfile_writer *w = d->writer;
        d->writer = NULL;  /* close frees it, success or not */
        rc = sl_bfile_writer_close(w, &hdr, err);
        sl_buf_free(&db);
        summary->tables = (int64_t)cat->ntables;
        summary->blobs = (int64_t)nblobs;
    }
done:
    sl_widerow_plan_free(d->wide);
    d->wide = NULL;
    sl_dump_catalog_free(cat);
    free(blobs);
    free(dbname);
    free(block);
    return rc;
}

int
sl_dump_run(const sl_conninfo *ci, const sl_conn_opts *conn_opts, const sl_dump_opts *opts,
            sl_dump_summary *summary, sl_error *err)
{
    dump_ctx d = {.opts = opts};
    sl_notifier *note = NULL;
    char *encoding = NULL, *version = NULL;
    sl_conn *leader = NULL;
    int rc = -1;
    memset(summary, 0, sizeof *summary);
    d.workers = sl_workers_new(SL_WORKERS_OPTS(.cancel = cancel_pool, .cancel_arg = &d));
    if (sl_script_restrict_key(d.restrict_key, err) != 0)
        goto done;
    if (opts->notify_channel &&
        sl_notifier_open(&note, ci, conn_opts, opts->notify_channel, err) != 0)
        goto done;
    if (open_pool(&d, ci, conn_opts, &encoding, &version, &d.pool, err) != 0)
        goto done;
    if (sl_bfile_writer_open(&d.writer, opts->output, &opts->codec, err) != 0)
        goto done;
    d.progress = sl_progress_new(&(sl_progress_opts){
        .label = "backup", .tty = opts->progress_tty, .quiet = opts->quiet,
        .interval_s = opts->progress_interval_s,
        .callback = note ? sl_notifier_send : NULL, .callback_arg = note});
    if (sl_pool_acquire(d.pool, &leader, err) != 0)
        goto done;
    sl__dump_watch(&d, leader);
    rc = dump_in_snapshot(&d, &leader, encoding, version, summary, err);
done:
    if (rc != 0 && sl_workers_signaled(d.workers))
        sl_error_set(err, SL_E_CANCELED, "backup interrupted by a signal");
    if (leader)
        sl_pool_release(d.pool, leader);
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
    sl_pool_close(d.pool);
    sl_notifier_close(note);
    sl_workers_free(d.workers);  /* disarms: signals no longer reach this run */
    free(d.tasks);
    free(encoding);
    free(version);
    return rc;
}
