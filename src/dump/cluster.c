/* dump/cluster.c: a whole cluster into one tar archive (cluster.h).
 * Order of work: the globals and the list of databases on one connection; the archive opened
 * as .partial with globals.sql and databases.sql; then the children, dump_jobs at a time, each
 * database's file appended when its child ends well; the manifest; the end blocks; rename. */
#include "dump/cluster.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/escape.h"
#include "base/hex.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/procs.h"
#include "dump/fallback.h"
#include "dump/globals.h"
#include "dump/preamble.h"
#include "io/bfile.h"
#include "io/sink.h"
#include "io/tarwrite.h"
#include "pg/pattern.h"

static volatile sig_atomic_t stop_requested;

void
sl_cluster_interrupt(void)
{
    stop_requested = 1;
}

/* One database of the run. */
typedef struct job {
    sl_globals_database *db;
    char member[64];
    char *path;         /* the child's file */
    bool done, failed;
    bool by_pg_dump;    /* --fallback-tools backed it up */
    int exit_code;      /* the child's, when it failed */
    char error[256];
    char started_at[32], finished_at[32];
    int64_t rows;
} job;

typedef struct run {
    const sl_cluster_opts *o;
    sl_conn *conn;
    sl_sink *sink;
    char *spool_dir;    /* ARCHIVE.partial.d */
    json_t *members;    /* manifest: [{"name", "size", "sha256"}] */
    json_t *skipped;
    sl_globals_database *dbs;
    size_t ndbs;
    job *jobs;
    size_t njobs;
    sl_buf globals, creates;
    sl_globals_summary gsum;
    char server_version[64];
    char started_at[32];
} run;

/* ---- what the cluster holds ---- */

static int
query_text(sl_conn *c, const char *sql, char *out, size_t cap, sl_error *err)
{
    PGresult *res = NULL;
    if (sl_conn_query(c, &res, sql, 0, NULL, err) != 0)
        return -1;
    snprintf(out, cap, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

static bool
listed(const char *const *names, const char *name)
{
    for (size_t i = 0; names && names[i]; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

/* The names --exclude-database's patterns match, matched by the server (pg/pattern.h). */
static int
excluded_names(run *r, char ***out, size_t *n, sl_error *err)
{
    *out = NULL;
    *n = 0;
    if (!r->o->exclude || !r->o->exclude[0])
        return 0;
    char *schemas = NULL, *names = NULL;
    if (sl_pattern_arrays((const char **)r->o->exclude, false, &schemas, &names, err) != 0)
        return -1;
    const char *params[] = {names};
    PGresult *res = NULL;
    int rc = sl_conn_query(r->conn, &res,
                           "SELECT datname FROM pg_catalog.pg_database "
                           "WHERE datname OPERATOR(pg_catalog.~) ANY ($1::pg_catalog.text[])",
                           1, params, err);
    free(schemas);
    free(names);
    if (rc != 0)
        return -1;
    *n = (size_t)PQntuples(res);
    *out = sl_calloc(*n + 1, sizeof **out);
    for (size_t i = 0; i < *n; i++)
        (*out)[i] = sl_strdup(PQgetvalue(res, (int)i, 0));
    PQclear(res);
    return 0;
}

static void
skip(run *r, const char *name, const char *reason)
{
    sl_buf shown = SL_BUF_INIT;
    sl_escape_text(&shown, name, strlen(name));
    SL_WARN("database \"%s\" is not backed up: %s", shown.data, reason);
    sl_buf_free(&shown);
    json_array_append_new(r->skipped, json_pack("{s:o, s:s}", "name",
                                                sl_escape_json_string(name), "reason", reason));
}

/* The jobs: every database asked for that a backup can connect to. */
static int
plan(run *r, sl_error *err)
{
    char **excluded = NULL;
    size_t nex = 0;
    if (excluded_names(r, &excluded, &nex, err) != 0)
        return -1;
    for (size_t i = 0; r->o->databases && r->o->databases[i]; i++) {
        bool found = false;
        for (size_t k = 0; k < r->ndbs; k++)
            found |= strcmp(r->dbs[k].name, r->o->databases[i]) == 0;
        if (!found) {
            sl_error_set(err, SL_E_USAGE, "--databases names a database that does not exist");
            sl_error_context(err, "database \"%s\"", r->o->databases[i]);
            goto fail;
        }
    }
    r->jobs = sl_calloc(r->ndbs ? r->ndbs : 1, sizeof *r->jobs);
    for (size_t k = 0; k < r->ndbs; k++) {
        sl_globals_database *db = &r->dbs[k];
        if ((r->o->databases && !listed(r->o->databases, db->name)) ||
            listed((const char *const *)excluded, db->name))
            continue;
        if (!db->allow_connections) {
            skip(r, db->name, "it does not allow connections (ALLOW_CONNECTIONS false)");
            continue;
        }
        job *j = &r->jobs[r->njobs++];
        j->db = db;
        snprintf(j->member, sizeof j->member, "databases/%04zu%s", r->njobs,
                 r->o->member_suffix);
        j->path = sl_asprintf("%s/%04zu%s", r->spool_dir, r->njobs, r->o->member_suffix);
        /* every cluster has a database postgres already */
        sl_buf_puts(&r->creates,
                    strcmp(db->name, "postgres") == 0 ? db->alter_sql : db->create_sql);
    }
    for (size_t i = 0; i < nex; i++)
        free(excluded[i]);
    free(excluded);
    return 0;
fail:
    for (size_t i = 0; i < nex; i++)
        free(excluded[i]);
    free(excluded);
    return -1;
}

/* ---- the children ---- */

static pid_t
start_job(void *ctx, size_t i, sl_error *err)
{
    run *r = ctx;
    job *j = &r->jobs[i];
    int fd = -1;
    if (sl_conn_conninfo_pipe(r->conn, j->db->name, &fd, err) != 0)
        return -1;
    sl__dump_iso_now(j->started_at, sizeof j->started_at);
    pid_t pid = r->o->start(r->o->start_ctx, fd, j->path, err);
    close(fd);
    return pid;
}

/* Rows in a finished child's file, from its index. */
static int64_t
count_rows(const char *path)
{
    sl_bfile_reader *br = NULL;
    sl_error ignored;
    sl_error_clear(&ignored);
    if (sl_bfile_reader_open(&br, path, &ignored) != 0)
        return -1;
    int64_t rows = 0;
    for (size_t i = 0; i < sl_bfile_reader_count(br); i++) {
        const sl_bfile_entry *e = sl_bfile_reader_entry(br, i);
        if (e->rows > 0)
            rows += e->rows;
    }
    sl_bfile_reader_close(br);
    return rows;
}

/* The error kind a child's exit code stands for (base/error_kinds.def). */
static sl_error_kind
kind_of_exit(int code)
{
    for (int k = SL_E_INTERNAL; k <= SL_E_CANCELED; k++)
        if (sl_error_exit_code((sl_error_kind)k) == code)
            return (sl_error_kind)k;
    return SL_E_SERVER;
}

/* --fallback-tools: a database with objects sluice cannot back up (its backup said which and
 * exited with SL_E_UNSUPPORTED's code) is backed up by pg_dump, as a gzip script; true when
 * that worked (the job's member and path then name pg_dump's file). */
static bool
fall_back(run *r, job *j, const char *shown)
{
    SL_WARN("database \"%s\" holds objects sluice cannot back up (named above): backing it "
            "up with pg_dump instead (--fallback-tools)", shown);
    unlink(j->path);
    char *dot = strstr(j->member, ".sql");
    if (dot)
        snprintf(dot, sizeof j->member - (size_t)(dot - j->member), ".sql.gz");
    char *path = sl_asprintf("%s/%s.pg_dump.sql.gz", r->spool_dir, j->member + 10);
    free(j->path);
    j->path = path;
    sl_error ferr;
    sl_error_clear(&ferr);
    if (sl_fallback_pg_dump(r->conn, j->db->name, j->path, &ferr) != 0) {
        sl_log_error(&ferr);
        return false;
    }
    j->by_pg_dump = true;
    SL_INFO("database \"%s\" backed up by pg_dump", shown);
    return true;
}

/* A child ended: its file goes into the archive, or the database is marked failed. */
static int
finish_job(run *r, job *j, int status, sl_error *err)
{
    j->done = true;
    sl__dump_iso_now(j->finished_at, sizeof j->finished_at);
    sl_buf shown = SL_BUF_INIT;
    sl_escape_text(&shown, j->db->name, strlen(j->db->name));
    int rc = 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        j->rows = count_rows(j->path);
        rc = sl_tarwrite_file(r->sink, j->member, j->path, r->members, err);
        if (rc == 0)
            SL_INFO("database \"%s\" backed up (%lld rows)", shown.data, (long long)j->rows);
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == sl_error_exit_code(SL_E_UNSUPPORTED) &&
               r->o->fallback_tools && !stop_requested && fall_back(r, j, shown.data)) {
        rc = sl_tarwrite_file(r->sink, j->member, j->path, r->members, err);
    } else {
        j->failed = true;
        j->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
        if (WIFEXITED(status))
            snprintf(j->error, sizeof j->error, "its backup exited with code %d",
                     WEXITSTATUS(status));
        else
            snprintf(j->error, sizeof j->error, "its backup was killed by signal %d",
                     WTERMSIG(status));
        if (!r->o->keep_going && !stop_requested) {
            sl_error_set(err, kind_of_exit(j->exit_code),
                         "the backup of database \"%s\" failed: %s", shown.data, j->error);
            rc = -1;
        } else if (!stop_requested) {
            SL_WARN("the backup of database \"%s\" failed (%s); going on (--continue)",
                    shown.data, j->error);
        }
    }
    unlink(j->path);
    sl_buf_free(&shown);
    return rc;
}

static int
job_finished(void *ctx, size_t i, int status, sl_error *err)
{
    run *r = ctx;
    return finish_job(r, &r->jobs[i], status, err);
}

static int
run_children(run *r, sl_error *err)
{
    /* a child: its workers and the connection that reads the catalog first */
    int parallel = 1;
    if (sl_conn_fit_children(r->conn, r->o->max_connections, r->o->jobs + 1, r->o->dump_jobs,
                             &parallel, err) != 0)
        return -1;
    if (parallel < r->o->dump_jobs)
        SL_INFO("backing up %d databases at a time, not %d: the connection budget allows no "
                "more (--max-connections)", parallel, r->o->dump_jobs);
    const sl_procs_ops ops = {.start = start_job, .finished = job_finished};
    if (sl_procs_run(r->njobs, parallel, &ops, r, &stop_requested, err) == 0)
        return 0;
    if (err->kind == SL_E_CANCELED)
        sl_error_set(err, SL_E_CANCELED, "cluster backup interrupted");
    return -1;
}

/* ---- the manifest ---- */

static json_t *
database_json(const job *j)
{
    char hex[2 * 256 + 1];
    size_t len = strlen(j->db->name);
    len = len < 256 ? len : 256;  /* NAMEDATALEN is 64: never cut */
    sl_hex_encode(hex, (const unsigned char *)j->db->name, len);
    hex[2 * len] = '\0';
    json_t *o = json_pack("{s:o, s:s, s:s, s:s, s:I, s:I, s:o, s:o, s:s, s:s}", "name",
                          sl_escape_json_string(j->db->name), "name_hex", hex, "member",
                          j->member, "status", j->failed ? "failed" : "ok", "database_size",
                          (json_int_t)j->db->size, "rows", (json_int_t)j->rows, "create_sql",
                          sl_escape_json_string(j->db->create_sql), "alter_sql",
                          sl_escape_json_string(j->db->alter_sql), "started_at",
                          j->started_at, "finished_at", j->finished_at);
    if (j->failed)
        json_object_set_new(o, "error", json_string(j->error));
    json_object_set_new(o, "tool", json_string(j->by_pg_dump ? "pg_dump" : "sluice"));
    return o;
}

static int
put_manifest(run *r, sl_error *err)
{
    char finished[32];
    sl__dump_iso_now(finished, sizeof finished);
    json_t *dbs = json_array();
    for (size_t i = 0; i < r->njobs; i++)
        if (r->jobs[i].done)
            json_array_append_new(dbs, database_json(&r->jobs[i]));
    json_t *doc = json_pack(
        "{s:s, s:i, s:s, s:s, s:s, s:s, s:O, s:{s:i, s:i, s:i, s:b}, s:o, s:O}", "format",
        "sluice-cluster", "format_version", 1, "sluice_version", SL_VERSION,
        "server_version", r->server_version,
        "started_at", r->started_at, "finished_at", finished, "members", r->members, "globals",
        "roles", r->gsum.roles, "memberships", r->gsum.memberships, "tablespaces",
        r->gsum.tablespaces, "passwords_saved", r->gsum.passwords_saved, "databases", dbs,
        "skipped", r->skipped);
    char *text = doc ? sl_escape_json_dumps(doc, JSON_INDENT(1)) : NULL;
    json_decref(doc);
    if (!text) {
        sl_error_set(err, SL_E_INTERNAL, "cannot write the manifest");
        return -1;
    }
    int rc = sl_tarwrite_text(r->sink, "manifest.json", text, strlen(text), NULL, err);
    free(text);
    return rc;
}

/* ---- the run ---- */

static int
read_cluster(run *r, const sl_conninfo *ci, const sl_conn_opts *conn_opts, sl_error *err)
{
    sl_conninfo *maint = sl_conninfo_get(ci, "dbname") ? sl_conninfo_with_dbname(ci, NULL)
                                                        : sl_conninfo_with_dbname(ci, "postgres");
    int rc = sl_conn_open(&r->conn, maint, conn_opts, err);
    sl_conninfo_free(maint);
    if (rc != 0)
        return -1;
    /* one snapshot: the databases listed are the ones whose owners and tablespaces exist */
    if (sl_conn_exec(r->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err) != 0 ||
        query_text(r->conn, "SELECT pg_catalog.current_setting('server_version')",
                   r->server_version, sizeof r->server_version, err) != 0 ||
        sl_globals_read(r->conn, &r->globals, &r->gsum, err) != 0 ||
        sl_globals_databases(r->conn, &r->dbs, &r->ndbs, err) != 0 ||
        sl_conn_exec(r->conn, "COMMIT", err) != 0)
        return -1;
    if (!r->gsum.passwords_saved)
        SL_WARN("role password hashes are not saved: reading them (pg_authid) needs a "
                "superuser; the roles are restored without passwords");
    return 0;
}

static int
open_archive(run *r, sl_error *err)
{
    if (sl_sink_open(&r->sink, r->o->output, err) != 0)
        return -1;
    r->spool_dir = sl_asprintf("%s.d", sl_sink_partial(r->sink));
    if (mkdir(r->spool_dir, 0700) != 0 && errno != EEXIST) {
        sl_error_errno(err, SL_E_IO, errno, "cannot create %s", r->spool_dir);
        return -1;
    }
    return 0;
}

static void
free_run(run *r)
{
    for (size_t i = 0; i < r->njobs; i++) {
        if (r->jobs[i].path)
            unlink(r->jobs[i].path);
        free(r->jobs[i].path);
    }
    free(r->jobs);
    if (r->spool_dir)
        rmdir(r->spool_dir);
    free(r->spool_dir);
    sl_globals_databases_free(r->dbs, r->ndbs);
    sl_buf_free(&r->globals);
    sl_buf_free(&r->creates);
    json_decref(r->members);
    json_decref(r->skipped);
    sl_conn_close(r->conn);
}

static void
summarize(const run *r, sl_cluster_summary *s)
{
    s->roles = r->gsum.roles;
    s->tablespaces = r->gsum.tablespaces;
    s->passwords_saved = r->gsum.passwords_saved;
    s->skipped = (int)json_array_size(r->skipped);
    for (size_t i = 0; i < r->njobs; i++) {
        const job *j = &r->jobs[i];
        s->databases += j->done && !j->failed;
        s->failed += j->failed;
        if (j->failed && !s->exit_code)
            s->exit_code = j->exit_code;
        s->rows += j->rows > 0 ? j->rows : 0;
    }
    struct stat st;
    s->bytes = fstat(sl_sink_fd(r->sink), &st) == 0 ? (int64_t)st.st_size : 0;
}

int
sl_cluster_backup(const sl_conninfo *ci, const sl_conn_opts *conn_opts,
                  const sl_cluster_opts *opts, sl_cluster_summary *summary, sl_error *err)
{
    memset(summary, 0, sizeof *summary);
    stop_requested = 0;
    double t0 = sl_clock_s();
    run r = {.o = opts, .members = json_array(), .skipped = json_array()};
    sl__dump_iso_now(r.started_at, sizeof r.started_at);
    int rc = -1;
    if (read_cluster(&r, ci, conn_opts, err) != 0 || open_archive(&r, err) != 0 ||
        plan(&r, err) != 0)
        goto out;
    if (sl_tarwrite_text(r.sink, "globals.sql", r.globals.data ? r.globals.data : "",
                         r.globals.len, r.members, err) != 0 ||
        sl_tarwrite_text(r.sink, "databases.sql", r.creates.data ? r.creates.data : "",
                         r.creates.len, r.members, err) != 0 ||
        run_children(&r, err) != 0 || put_manifest(&r, err) != 0 ||
        sl_tarwrite_end(r.sink, err) != 0)
        goto out;
    summarize(&r, summary);
    if (sl_sink_close(r.sink, err) != 0) {
        r.sink = NULL;
        goto out;
    }
    r.sink = NULL;
    rc = 0;
out:
    if (rc != 0 && stop_requested && err->kind != SL_E_CANCELED)
        sl_error_set(err, SL_E_CANCELED, "cluster backup interrupted");
    sl_sink_abort(r.sink);
    free_run(&r);
    summary->elapsed_s = sl_clock_s() - t0;
    return rc;
}
