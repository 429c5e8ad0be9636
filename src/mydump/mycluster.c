/* mydump/mycluster.c: a whole MySQL/MariaDB server into one tar archive (mycluster.h).
 * Order of work: the accounts, the schemas and their CREATE DATABASE on one connection; the
 * archive opened as .partial with globals.sql and databases.sql; then one child per schema,
 * its file appended when it ends well; the manifest; the end blocks; rename. */
#include "mydump/mycluster.h"

#include <errno.h>
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
#include "io/bfile.h"
#include "io/sink.h"
#include "io/tarwrite.h"
#include "mydump/accounts.h"
#include "mysql/quote.h"
#include "mysql/status.h"
#include "mysql/url.h"

static volatile sig_atomic_t stop_requested;

void
sl_mycluster_interrupt(void)
{
    stop_requested = 1;
}

/* One schema of the run. */
typedef struct job {
    char *name;
    char *create_sql;
    char member[64];
    char *path;  /* the child's file */
    bool done, failed;
    int exit_code;
    char error[256];
    char started_at[32], finished_at[32];
    int64_t rows;
} job;

typedef struct run {
    const sl_mycluster_opts *o;
    const sl_mysql_target *target;
    sl_mysql *conn;
    sl_sink *sink;
    char *spool_dir;  /* ARCHIVE.partial.d */
    json_t *members;
    job *jobs;
    size_t njobs;
    sl_buf accounts, creates;
    sl_accounts_summary asum;
    char server_version[128];
    char started_at[32];
} run;

static void
iso_now(char *buf, size_t cap)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- what the server holds ---- */

static bool
listed(const char *const *names, const char *name)
{
    for (size_t i = 0; names && names[i]; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

/* CREATE DATABASE IF NOT EXISTS, from the server's SHOW CREATE DATABASE. */
static int
create_sql(run *r, job *j, sl_error *err)
{
    static const char prefix[] = "CREATE DATABASE ";
    sl_buf sql = SL_BUF_INIT;
    sl_buf_puts(&sql, "SHOW CREATE DATABASE ");
    sl_mysql_put_ident(&sql, j->name);
    MYSQL_RES *res = sl_mysql_query(r->conn, sql.data, false, err);
    sl_buf_free(&sql);
    if (!res)
        return -1;
    MYSQL_ROW row = mysql_fetch_row(res);
    int rc = -1;
    if (!row || mysql_num_fields(res) < 2 || !row[1] ||
        strncmp(row[1], prefix, sizeof prefix - 1) != 0) {
        sl_error_set(err, SL_E_SERVER, "SHOW CREATE DATABASE gave no CREATE DATABASE");
    } else {
        j->create_sql = sl_asprintf("CREATE DATABASE IF NOT EXISTS %s;\n",
                                    row[1] + sizeof prefix - 1);
        sl_buf_puts(&r->creates, j->create_sql);
        rc = 0;
    }
    mysql_free_result(res);
    return rc;
}

static int
plan(run *r, sl_error *err)
{
    MYSQL_RES *res = sl_mysql_query(
        r->conn, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME",
        false, err);
    if (!res)
        return -1;
    r->jobs = sl_calloc(mysql_num_rows(res) + 1, sizeof *r->jobs);
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) != NULL) {
        if (!row[0] || sl_mysql_status_system_schema(row[0]))
            continue;
        if (r->o->databases && !listed(r->o->databases, row[0]))
            continue;
        job *j = &r->jobs[r->njobs++];
        j->name = sl_strdup(row[0]);
        snprintf(j->member, sizeof j->member, "databases/%04zu%s", r->njobs,
                 r->o->member_suffix);
        j->path = sl_asprintf("%s/%04zu%s", r->spool_dir, r->njobs, r->o->member_suffix);
    }
    mysql_free_result(res);
    for (size_t i = 0; r->o->databases && r->o->databases[i]; i++) {
        bool known = false;
        for (size_t k = 0; k < r->njobs; k++)
            known |= strcmp(r->jobs[k].name, r->o->databases[i]) == 0;
        if (!known) {
            sl_error_set(err, SL_E_USAGE,
                         "--databases names a schema that does not exist (or is a system one)");
            sl_error_context(err, "database \"%s\"", r->o->databases[i]);
            return -1;
        }
    }
    for (size_t i = 0; i < r->njobs; i++)
        if (create_sql(r, &r->jobs[i], err) != 0) {
            sl_error_context(err, "database \"%s\"", r->jobs[i].name);
            return -1;
        }
    return 0;
}

static int
read_server(run *r, sl_error *err)
{
    sl_buf_puts(&r->creates, "-- sluice MySQL databases 1\n"
                             "/*M!999999\\- enable the sandbox mode */\n");
    r->conn = sl_mysql_connect(r->target, err);
    if (!r->conn)
        return -1;
    MYSQL_RES *res = sl_mysql_query(r->conn, "SELECT VERSION()", false, err);
    if (!res)
        return -1;
    MYSQL_ROW row = mysql_fetch_row(res);
    snprintf(r->server_version, sizeof r->server_version, "%s",
             row && row[0] ? row[0] : "");
    mysql_free_result(res);
    if (sl_accounts_read(r->conn, &r->accounts, &r->asum, err) != 0) {
        sl_error_prefix(err, "could not read the server's accounts (a cluster backup needs "
                             "SELECT on mysql.user and SHOW GRANTS of every account)");
        return -1;
    }
    return 0;
}

/* ---- the children ---- */

static pid_t
start_job(void *ctx, size_t i, sl_error *err)
{
    run *r = ctx;
    job *j = &r->jobs[i];
    sl_buf url = SL_BUF_INIT;
    sl_mysql_url_format(r->target, j->name, &url);
    int fd = -1;
    int rc = sl_procs_pipe_text(url.data, url.len, &fd, err);
    explicit_bzero(url.data, url.len);
    sl_buf_free(&url);
    if (rc != 0)
        return -1;
    iso_now(j->started_at, sizeof j->started_at);
    pid_t pid = r->o->start(r->o->start_ctx, fd, j->name, j->path, err);
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

static sl_error_kind
kind_of_exit(int code)
{
    for (int k = SL_E_INTERNAL; k <= SL_E_CANCELED; k++)
        if (sl_error_exit_code((sl_error_kind)k) == code)
            return (sl_error_kind)k;
    return SL_E_SERVER;
}

static int
job_finished(void *ctx, size_t i, int status, sl_error *err)
{
    run *r = ctx;
    job *j = &r->jobs[i];
    j->done = true;
    iso_now(j->finished_at, sizeof j->finished_at);
    sl_buf shown = SL_BUF_INIT;
    sl_escape_text(&shown, j->name, strlen(j->name));
    int rc = 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        j->rows = count_rows(j->path);
        rc = sl_tarwrite_file(r->sink, j->member, j->path, r->members, err);
        if (rc == 0)
            SL_INFO("database \"%s\" backed up (%lld rows)", shown.data, (long long)j->rows);
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
run_children(run *r, sl_error *err)
{
    const sl_procs_ops ops = {.start = start_job, .finished = job_finished};
    if (sl_procs_run(r->njobs, 1, &ops, r, &stop_requested, err) == 0)
        return 0;
    if (err->kind == SL_E_CANCELED)
        sl_error_set(err, SL_E_CANCELED, "cluster backup interrupted");
    return -1;
}

/* ---- the manifest ---- */

static json_t *
database_json(const job *j)
{
    size_t len = strlen(j->name);
    char *hex = sl_malloc(2 * len + 1);
    sl_hex_encode(hex, (const unsigned char *)j->name, len);
    hex[2 * len] = '\0';
    json_t *o = json_pack("{s:o, s:s, s:s, s:s, s:I, s:I, s:o, s:s, s:s, s:s, s:s}", "name",
                          sl_escape_json_string(j->name), "name_hex", hex, "member", j->member,
                          "status", j->failed ? "failed" : "ok", "database_size",
                          (json_int_t)0, "rows", (json_int_t)(j->rows > 0 ? j->rows : 0),
                          "create_sql", sl_escape_json_string(j->create_sql), "alter_sql", "",
                          "started_at", j->started_at, "finished_at", j->finished_at, "tool",
                          "sluice");
    free(hex);
    if (j->failed)
        json_object_set_new(o, "error", json_string(j->error));
    return o;
}

static int
put_manifest(run *r, sl_error *err)
{
    char finished[32];
    iso_now(finished, sizeof finished);
    json_t *dbs = json_array();
    for (size_t i = 0; i < r->njobs; i++)
        if (r->jobs[i].done)
            json_array_append_new(dbs, database_json(&r->jobs[i]));
    json_t *doc = json_pack(
        "{s:s, s:i, s:s, s:s, s:o, s:s, s:s, s:O,"
        " s:{s:i, s:i, s:i, s:b, s:i, s:i, s:i}, s:o, s:[]}",
        "format", "sluice-cluster", "format_version", 1, "engine", "mysql", "sluice_version",
        SL_VERSION, "server_version", sl_escape_json_string(r->server_version), "started_at",
        r->started_at, "finished_at", finished, "members", r->members, "globals", "roles",
        r->asum.roles, "memberships", 0, "tablespaces", 0, "passwords_saved", true, "users",
        r->asum.users, "grants", r->asum.grants, "accounts_skipped", r->asum.skipped,
        "databases", dbs, "skipped");
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
        free(r->jobs[i].name);
        free(r->jobs[i].create_sql);
    }
    free(r->jobs);
    if (r->spool_dir)
        rmdir(r->spool_dir);
    free(r->spool_dir);
    if (r->accounts.data)
        explicit_bzero(r->accounts.data, r->accounts.len);  /* password hashes */
    sl_buf_free(&r->accounts);
    sl_buf_free(&r->creates);
    json_decref(r->members);
    sl_mysql_close(r->conn);
}

static void
summarize(const run *r, sl_mycluster_summary *s)
{
    s->roles = r->asum.roles;
    s->users = r->asum.users;
    s->grants = r->asum.grants;
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
sl_mycluster_backup(const sl_mysql_target *target, const sl_mycluster_opts *opts,
                    sl_mycluster_summary *summary, sl_error *err)
{
    memset(summary, 0, sizeof *summary);
    stop_requested = 0;
    double t0 = sl_clock_s();
    run r = {.o = opts, .target = target, .members = json_array()};
    iso_now(r.started_at, sizeof r.started_at);
    int rc = -1;
    if (read_server(&r, err) != 0 || open_archive(&r, err) != 0 || plan(&r, err) != 0)
        goto out;
    if (sl_tarwrite_text(r.sink, "globals.sql", r.accounts.data ? r.accounts.data : "",
                         r.accounts.len, r.members, err) != 0 ||
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
