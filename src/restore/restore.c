/* restore/restore.c: the whole restore run (restore/restore.h): the engine's setup (the
 * preamble, the target, the connections), then restore/schedule.h, then the commit of
 * --single-transaction and one durable flush; the summary, and a signal's report
 * (restore/report.h). restore/engine.h says which module owns which step. */
#include "restore/restore.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "restore/engine.h"
#include "restore/report.h"
#include "restore/runner.h"
#include "restore/schedule.h"
#include "restore/target.h"

#define PREAMBLE_MAX ((size_t)1 << 20)  /* session settings: a few hundred bytes */
#define DEFAULT_MAINTENANCE_WORK_MEM "256MB"

static int
open_worker(engine *eng, worker *w, sl_error *err)
{
    if (sl_conn_open(&w->conn, eng->target, &eng->conn_opts, err) != 0)
        return -1;
    sl__restore_watch(w);
    if (eng->preamble.len == 0)
        return 0;
    source src = {.mem = eng->preamble.data, .mem_len = eng->preamble.len};
    where wh = {.label = "the preamble"};
    uint64_t unused = 0;
    return sl__restore_run_text(w, &src, &wh, false, false, 0, &unused, err) == RUN_OK ? 0 : -1;
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

/* A backup without pre-data (backup --data-only) holds rows for tables that must exist. */
static bool
data_only_backup(const engine *eng)
{
    if (eng->archive)
        return eng->opts->data_only;
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
    if (eng->reader &&
        sl__restore_check_tables_empty(c, eng->reader, eng->opts->database, err) != 0)
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
                     "%s\"%s\"%s: its tables must already exist in \"%s\", so --create and "
                     "--clean do not apply (restore the schema first)",
                     eng->archive ? "--data-only restore of " : "", o->input,
                     eng->archive ? "" : " is a data-only backup", o->database);
        return -1;
    }
    if (o->create &&
        sl__restore_create(ci, &eng->conn_opts, o->database, o->clean,
                           (const char *const *)eng->plan.create_with, err) != 0)
        return -1;
    if (sl_conn_open(&eng->workers[0].conn, eng->target, &eng->conn_opts, err) != 0)
        return -1;
    sl__restore_watch(&eng->workers[0]);
    if (o->create)
        return 0;
    if (o->clean) {
        SL_INFO("--clean: dropping every schema, extension and large object of \"%s\"",
                o->database);
        return sl__restore_clean(eng->workers[0].conn, err);
    }
    if (data_only)
        return prepare_data_only(eng, err);
    /* a few schemas or tables of an archive go into a database that has others (pg_restore
     * -n needs the schema there already); what exists already fails by name */
    if (eng->archive && (o->schemas || o->exclude_schemas || o->tables))
        return 0;
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
        if (sl__restore_run_text(&eng->workers[0], &src, &wh, false, false, 0, &unused, err) !=
            RUN_OK)
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
    if (eng->archive) {
        items = (int64_t)eng->plan.n;  /* an archive does not say its data's size */
    } else if (indexed) {
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
    if (!sl__restore_stopping(eng))
        return false;
    sl_error_set(err, SL_E_CANCELED, "restore stopped");
    return true;
}

/* A pg_dump archive: its TOC read and what of it is restored chosen before any connection. */
static int
open_archive(engine *eng, sl_error *err)
{
    const sl_restore_opts *o = eng->opts;
    if (sl_pgarchive_open(&eng->archive, o->input, err) != 0)
        return -1;
    eng->toc = (sl_toc_opts){.schemas = o->schemas,
                             .exclude_schemas = o->exclude_schemas,
                             .tables = o->tables,
                             .schema_only = o->schema_only,
                             .data_only = o->data_only,
                             .no_owner = o->no_owner,
                             .no_privileges = o->no_privileges,
                             .no_comments = o->no_comments,
                             .single_transaction = o->single_transaction};
    if (sl_toc_plan_make(eng->archive, &eng->toc, &eng->plan, err) != 0)
        return -1;
    sl_buf_append(&eng->preamble, eng->plan.preamble.data, eng->plan.preamble.len);
    eng->done = sl_calloc(eng->plan.n + 1, sizeof *eng->done);
    return 0;
}

/* -n/-N/-t/--schema-only/--data-only/--no-comments choose entries of a pg_dump archive. */
static bool
selects(const sl_restore_opts *o)
{
    return o->schemas || o->exclude_schemas || o->tables || o->schema_only || o->data_only ||
           o->no_comments;
}

static int
open_input(engine *eng, bool *indexed, sl_error *err)
{
    const sl_restore_opts *o = eng->opts;
    if (o->input_length == 0 && sl_pgarchive_detect(o->input)) {
        *indexed = true;
        return open_archive(eng, err);
    }
    if (selects(o)) {
        sl_error_set(err, SL_E_USAGE, "-n, -N, -t, --schema-only, --data-only and "
                     "--no-comments choose what of a pg_dump archive (-Fc, -Fd) is restored; "
                     "\"%s\" is not one", o->input);
        return -1;
    }
    if (sl_bfile_reader_open_range(&eng->reader, o->input, o->input_base,
                                   o->input_length ? o->input_length : UINT64_MAX, err) != 0)
        return -1;
    *indexed = sl_bfile_reader_indexed(eng->reader);
    if (*indexed && load_preamble(eng, err) != 0)
        return -1;
    eng->done = sl_calloc(sl_bfile_reader_count(eng->reader) + 1, sizeof *eng->done);
    return 0;
}

static const char *
input_kind(const engine *eng, bool indexed)
{
    if (!eng->archive)
        return indexed ? "sluice backup" : "plain script";
    return sl_pgarchive_format_of(eng->archive) == SL_PGARCHIVE_CUSTOM
               ? "pg_dump custom archive"
               : "pg_dump directory archive";
}

static const char *
input_codec(const engine *eng)
{
    if (!eng->archive)
        return sl_codec_name(sl_bfile_reader_codec(eng->reader));
    static const char *const names[] = {"none", "gzip", "lz4", "zstd"};
    return names[sl_pgarchive_compression(eng->archive)];
}

static int
restore_body(engine *eng, const sl_conninfo *ci, sl_error *err)
{
    const sl_restore_opts *o = eng->opts;
    bool indexed = false;
    if (open_input(eng, &indexed, err) != 0)
        return -1;
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
            input_kind(eng, indexed), input_codec(eng), o->database, eng->nworkers,
            eng->nworkers == 1 ? "" : "s");
    set_totals(eng, indexed);
    sl_progress_start(eng->progress);
    int rc = eng->archive ? sl__restore_run_archive(eng, err)
             : indexed    ? sl__restore_run_graph(eng, err)
                          : sl__restore_run_plain(eng, err);
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
    /* the database is the backup's own only when the restore made it (dump/database.h) */
    eng.conn_opts.database_properties = opts->create || opts->database_properties;
    eng.target = sl_conninfo_with_dbname(ci, opts->database);
    eng.budget = sl_splitter_budget_new(opts->max_statement ? opts->max_statement
                                                            : SL_SPLITTER_MAX_STATEMENT);
    pthread_mutex_init(&eng.lock, NULL);
    pthread_cond_init(&eng.changed, NULL);
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
        sl__restore_interrupted(&eng, err);
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
    sl__restore_engine_free(&eng);
    return rc;
}
