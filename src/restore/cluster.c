/* restore/cluster.c: a cluster archive restored onto a server (cluster.h). */
#include "restore/cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/escape.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/procs.h"
#include "io/archive.h"
#include "io/bfile.h"
#include "restore/restore.h"
#include "restore/splitter.h"

static volatile sig_atomic_t stop_requested;

void
sl_cluster_restore_interrupt(void)
{
    stop_requested = 1;
    (void)sl_restore_interrupt();  /* a pg_dumpall script runs in this process */
}

typedef struct target {
    const sl_manifest_database *db;
    bool exists;
    struct timespec started;
} target;

typedef struct run {
    const sl_cluster_restore_opts *o;
    sl_archive *archive;
    sl_conn *conn;
    target *targets;
    size_t n;
    sl_cluster_restore_summary *sum;
} run;

static double
since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static bool
wanted(const sl_cluster_restore_opts *o, const char *name)
{
    if (!o->databases)
        return true;
    for (size_t i = 0; o->databases[i]; i++)
        if (strcmp(o->databases[i], name) == 0)
            return true;
    return false;
}

/* The databases to restore: every one backed up, or those asked for (each must be in the
 * archive, and backed up). */
static int
select_targets(run *r, sl_error *err)
{
    const sl_manifest *m = sl_archive_manifest(r->archive);
    for (size_t i = 0; r->o->databases && r->o->databases[i]; i++) {
        const sl_manifest_database *found = NULL;
        for (size_t k = 0; k < m->ndatabases; k++)
            if (strcmp(m->databases[k].name, r->o->databases[i]) == 0)
                found = &m->databases[k];
        if (!found || !found->ok) {
            sl_error_set(err, SL_E_USAGE, "--databases: the archive holds no backup of it%s",
                         found ? " (its backup failed)" : "");
            sl_error_context(err, "database \"%s\"", r->o->databases[i]);
            return -1;
        }
    }
    r->targets = sl_calloc(m->ndatabases + 1, sizeof *r->targets);
    for (size_t k = 0; k < m->ndatabases; k++) {
        const sl_manifest_database *d = &m->databases[k];
        if (!wanted(r->o, d->name))
            continue;
        if (!d->ok) {
            char *name = sl_escape_dup(d->name);
            SL_WARN("database \"%s\" is not restored: its backup failed (%s)", name,
                    d->error ? d->error : "no reason given");
            free(name);
            continue;
        }
        r->targets[r->n++].db = d;
    }
    return 0;
}

/* Which targets exist on the server; those that do are refused unless clean, all of them
 * named in one message before anything changes. postgres, which every cluster has, is
 * restored into as it is: the restore itself refuses it when it holds objects. */
static int
check_existing(run *r, sl_error *err)
{
    sl_buf refused = SL_BUF_INIT;
    for (size_t i = 0; i < r->n; i++) {
        const char *params[] = {r->targets[i].db->name};
        PGresult *res = NULL;
        if (sl_conn_query(r->conn, &res,
                          "SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1", 1, params,
                          err) != 0) {
            sl_buf_free(&refused);
            return -1;
        }
        r->targets[i].exists = PQntuples(res) > 0;
        PQclear(res);
        if (r->targets[i].exists && !r->o->clean &&
            strcmp(r->targets[i].db->name, "postgres") != 0) {
            sl_buf_puts(&refused, refused.len ? ", \"" : "\"");
            sl_escape_text(&refused, r->targets[i].db->name, strlen(r->targets[i].db->name));
            sl_buf_putc(&refused, '"');
        }
    }
    if (refused.len) {
        sl_error_set(err, SL_E_REFUSED, "the target has these databases already: %s (give "
                     "--clean to drop and restore them)", refused.data);
        sl_buf_free(&refused);
        return -1;
    }
    return 0;
}

/* One statement of globals.sql. A tablespace the target has already is kept (CREATE
 * TABLESPACE cannot be made conditional: it does not run inside a DO block). */
static int
run_global(run *r, const sl_split_item *it, sl_error *err)
{
    if (it->kind != SL_SPLIT_STATEMENT) {
        sl_error_set(err, SL_E_ARCHIVE, "globals.sql: line %llu is not a SQL statement",
                     (unsigned long long)it->line);
        return -1;
    }
    if (sl_conn_exec(r->conn, it->text, err) == 0) {
        r->sum->global_statements++;
        return 0;
    }
    const char *p = it->text;
    while (*p == ' ' || *p == '\n')
        p++;
    if (strcmp(err->sqlstate, "42710") == 0 && strncmp(p, "CREATE TABLESPACE ", 18) == 0) {
        SL_INFO("%s: kept as it is", err->message);
        r->sum->tablespaces_existing++;
        sl_error_clear(err);
        return 0;
    }
    sl_error_context(err, "globals.sql line %llu", (unsigned long long)it->line);
    return -1;
}

static int
restore_globals(run *r, sl_error *err)
{
    uint64_t off = 0, size = 0;
    if (!sl_archive_find(r->archive, "globals.sql", &off, &size)) {
        sl_error_set(err, SL_E_ARCHIVE, "the archive has no globals.sql");
        return -1;
    }
    sl_splitter *sp = sl_splitter_new(NULL);
    enum { CHUNK = 64 * 1024 };
    char *buf = sl_malloc(CHUNK);
    int rc = 0;
    for (uint64_t at = 0; rc == 0 && at <= size; at += CHUNK) {
        size_t n = size - at < CHUNK ? (size_t)(size - at) : CHUNK;
        if (n == 0)
            sl_splitter_finish(sp);
        else if ((rc = sl_archive_pread(r->archive, buf, n, off + at, err)) != 0)
            break;
        else
            sl_splitter_feed(sp, buf, n);
        sl_split_item it;
        int got;
        while (rc == 0 && (got = sl_splitter_next(sp, &it, err)) == 1)
            rc = run_global(r, &it, err);
        if (rc == 0 && got < 0)
            rc = -1;
        if (n == 0)
            break;
        if (at + n == size) {
            sl_splitter_finish(sp);
            while (rc == 0 && (got = sl_splitter_next(sp, &it, err)) == 1)
                rc = run_global(r, &it, err);
            if (rc == 0 && got < 0)
                rc = -1;
            break;
        }
    }
    free(buf);
    sl_splitter_free(sp);
    return rc;
}

/* Drops a database that clean asked to replace, then creates it; or sets the owner of one
 * that is kept (postgres). */
static int
prepare_database(run *r, target *t, sl_error *err)
{
    if (t->exists && r->o->clean) {
        char *q = sl_conn_quote_ident(r->conn, t->db->name);
        char *sql = sl_asprintf("DROP DATABASE %s WITH (FORCE)", q);
        int rc = sl_conn_exec(r->conn, sql, err);
        free(sql);
        free(q);
        if (rc != 0)
            return -1;
        t->exists = false;
    }
    return sl_conn_exec(r->conn, t->exists ? t->db->alter_sql : t->db->create_sql, err);
}

static pid_t
start_one(void *ctx, size_t i, sl_error *err)
{
    run *r = ctx;
    target *t = &r->targets[i];
    char *conninfo = sl_conn_conninfo_for(r->conn, t->db->name);
    size_t len = strlen(conninfo);
    int fd = -1;
    int rc = sl_procs_pipe_text(conninfo, len, &fd, err);
    explicit_bzero(conninfo, len);
    free(conninfo);
    if (rc != 0)
        return -1;
    clock_gettime(CLOCK_MONOTONIC, &t->started);
    pid_t pid = r->o->start(r->o->start_ctx, fd, r->o->archive, t->db->member, err);
    close(fd);
    return pid;
}

static int
finished_one(void *ctx, size_t i, int status, sl_error *err)
{
    (void)err;
    run *r = ctx;
    sl_cluster_restore_result *res = &r->sum->dbs[i];
    res->seconds = since(&r->targets[i].started);
    res->ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!res->ok) {
        res->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
        r->sum->failed++;
        if (!r->sum->exit_code)
            r->sum->exit_code = res->exit_code;
        char *name = sl_escape_dup(res->name);
        SL_WARN("the restore of database \"%s\" failed (exit code %d); the others go on", name,
                res->exit_code);
        free(name);
    }
    return 0;
}

static int
restore_databases(run *r, sl_error *err)
{
    r->sum->dbs = sl_calloc(r->n + 1, sizeof *r->sum->dbs);
    r->sum->n = r->n;
    for (size_t i = 0; i < r->n; i++) {
        r->sum->dbs[i].name = sl_strdup(r->targets[i].db->name);
        if (prepare_database(r, &r->targets[i], err) != 0) {
            sl_error_context(err, "database \"%s\"", r->targets[i].db->name);
            return -1;
        }
    }
    const sl_procs_ops ops = {.start = start_one, .finished = finished_one};
    if (sl_procs_run(r->n, r->o->dump_jobs, &ops, r, &stop_requested, err) != 0) {
        if (err->kind == SL_E_CANCELED)
            sl_error_set(err, SL_E_CANCELED, "cluster restore interrupted");
        return -1;
    }
    return 0;
}

/* The maintenance connection: postgres, or template1 when postgres itself is to be dropped. */
static int
connect_target(run *r, const sl_conninfo *ci, const sl_conn_opts *conn_opts, sl_error *err)
{
    bool drop_postgres = r->o->clean && wanted(r->o, "postgres");
    const char *given = sl_conninfo_get(ci, "dbname");
    sl_conninfo *maint = sl_conninfo_with_dbname(
        ci, drop_postgres ? "template1" : given && *given ? NULL : "postgres");
    int rc = sl_conn_open(&r->conn, maint, conn_opts, err);
    sl_conninfo_free(maint);
    return rc;
}

/* ---- pg_dumpall scripts ---- */

/* The name a "CREATE DATABASE name ..." statement creates (pg_dumpall writes it quoted when
 * it must be), malloc'd; NULL for any other statement. */
static char *
created_database(const char *sql)
{
    while (*sql == ' ' || *sql == '\n' || *sql == '\t')
        sql++;
    if (strncmp(sql, "CREATE DATABASE ", 16) != 0)
        return NULL;
    const char *p = sql + 16;
    sl_buf name = SL_BUF_INIT;
    if (*p == '"') {
        for (p++; *p; p++) {
            if (*p == '"' && p[1] == '"')
                p++;
            else if (*p == '"')
                break;
            sl_buf_putc(&name, *p);
        }
    } else {
        for (; *p && *p != ' ' && *p != ';' && *p != '\n'; p++)
            sl_buf_putc(&name, *p);
    }
    return name.data ? sl_buf_steal(&name) : NULL;
}

typedef struct script_scan {
    char **names;
    size_t n;
    bool cluster_dump;  /* pg_dumpall's header comment was seen */
} script_scan;

static void
scan_item(script_scan *sc, const sl_split_item *it)
{
    if (it->kind != SL_SPLIT_STATEMENT)
        return;
    char *name = created_database(it->text);
    if (!name)
        return;
    sc->names = sl_realloc(sc->names, (sc->n + 1) * sizeof *sc->names);
    sc->names[sc->n++] = name;
}

/* One pass over the script (any compression) before anything runs: is it a pg_dumpall
 * script, and which databases does it create? */
static int
scan_script(const char *path, script_scan *sc, sl_error *err)
{
    sl_bfile_reader *br = NULL;
    sl_bfile_stream *st = NULL;
    sl_splitter *sp = sl_splitter_new(NULL);
    int rc = -1, got = 0;
    if (sl_bfile_reader_open(&br, path, err) != 0)
        goto out;
    if (sl_bfile_reader_indexed(br)) {
        sl_error_set(err, SL_E_USAGE, "%s is a backup of one database: restore it with "
                     "\"sluice restore\"", path);
        goto out;
    }
    if (sl_bfile_stream_open(&st, br, NULL, false, err) != 0)
        goto out;
    const char *data = NULL;
    size_t len = 0;
    sl_split_item it;
    bool first = true;
    while ((got = sl_bfile_stream_read(st, &data, &len, err)) == 1) {
        if (first && memmem(data, len, "-- PostgreSQL database cluster dump", 35))
            sc->cluster_dump = true;
        first = false;
        sl_splitter_feed(sp, data, len);
        while ((got = sl_splitter_next(sp, &it, err)) == 1)
            scan_item(sc, &it);
        if (got < 0)
            goto out;
    }
    if (got < 0)
        goto out;
    sl_splitter_finish(sp);
    while ((got = sl_splitter_next(sp, &it, err)) == 1)
        scan_item(sc, &it);
    if (got < 0)
        goto out;
    if (!sc->cluster_dump) {
        sl_error_set(err, SL_E_USAGE, "%s is neither a cluster archive (sluice backup cluster) "
                     "nor a pg_dumpall script", path);
        goto out;
    }
    rc = 0;
out:
    sl_bfile_stream_close(st);
    sl_bfile_reader_close(br);
    sl_splitter_free(sp);
    return rc;
}

/* A pg_dumpall script, run as psql would run it (\connect switches database), in this
 * process; the databases it creates that exist already are refused first, or dropped with
 * clean. */
static int
restore_script(run *r, const sl_conninfo *ci, const sl_conn_opts *conn_opts, sl_error *err)
{
    if (r->o->databases) {
        sl_error_set(err, SL_E_USAGE, "--databases: a pg_dumpall script is restored whole");
        return -1;
    }
    script_scan sc = {0};
    int rc = -1;
    if (scan_script(r->o->archive, &sc, err) != 0 || connect_target(r, ci, conn_opts, err) != 0)
        goto out;
    sl_manifest_database *dbs = sl_calloc(sc.n + 1, sizeof *dbs);
    r->targets = sl_calloc(sc.n + 1, sizeof *r->targets);
    for (size_t i = 0; i < sc.n; i++) {
        dbs[i].name = sc.names[i];
        dbs[i].ok = true;
        r->targets[i].db = &dbs[i];
    }
    r->n = sc.n;
    rc = check_existing(r, err);
    for (size_t i = 0; rc == 0 && i < r->n && r->o->clean; i++) {
        if (!r->targets[i].exists)
            continue;
        char *q = sl_conn_quote_ident(r->conn, r->targets[i].db->name);
        char *sql = sl_asprintf("DROP DATABASE %s WITH (FORCE)", q);
        rc = sl_conn_exec(r->conn, sql, err);
        free(sql);
        free(q);
    }
    sl_conn_close(r->conn);
    r->conn = NULL;
    if (rc == 0) {
        sl_restore_opts ro = {.input = r->o->archive, .database = "postgres", .jobs = 1,
                              .existing_roles_ok = true, .quiet = true};
        sl_restore_summary rs;
        sl_conninfo *target = sl_conninfo_with_dbname(ci, "postgres");
        rc = sl_restore_run(target, conn_opts, &ro, &rs, err);
        sl_conninfo_free(target);
        r->sum->global_statements = (int)rs.statements;
        r->sum->dbs = sl_calloc(r->n + 1, sizeof *r->sum->dbs);
        r->sum->n = r->n;
        for (size_t i = 0; i < r->n; i++) {
            r->sum->dbs[i].name = sl_strdup(sc.names[i]);
            r->sum->dbs[i].ok = rc == 0;
        }
    }
    free(dbs);
out:
    for (size_t i = 0; i < sc.n; i++)
        free(sc.names[i]);
    free(sc.names);
    return rc;
}

int
sl_cluster_restore(const sl_conninfo *ci, const sl_conn_opts *conn_opts,
                   const sl_cluster_restore_opts *opts, sl_cluster_restore_summary *sum,
                   sl_error *err)
{
    memset(sum, 0, sizeof *sum);
    stop_requested = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    run r = {.o = opts, .sum = sum};
    int rc = -1;
    if (!sl_archive_is_tar(opts->archive)) {
        rc = restore_script(&r, ci, conn_opts, err);
        goto out;
    }
    if (sl_archive_open(&r.archive, opts->archive, err) != 0 || select_targets(&r, err) != 0 ||
        connect_target(&r, ci, conn_opts, err) != 0 || check_existing(&r, err) != 0 ||
        restore_globals(&r, err) != 0 || restore_databases(&r, err) != 0)
        goto out;
    rc = 0;
out:
    if (rc != 0 && stop_requested && err->kind != SL_E_CANCELED)
        sl_error_set(err, SL_E_CANCELED, "cluster restore interrupted");
    sl_conn_close(r.conn);
    free(r.targets);
    sl_archive_close(r.archive);
    sum->elapsed_s = since(&t0);
    return rc;
}

void
sl_cluster_restore_summary_free(sl_cluster_restore_summary *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->dbs[i].name);
    free(s->dbs);
    s->dbs = NULL;
    s->n = 0;
}
