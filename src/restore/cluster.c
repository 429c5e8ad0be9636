/* restore/cluster.c: a cluster archive restored onto a server (cluster.h). */
#include "restore/cluster.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/escape.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/procs.h"
#include "io/archive.h"
#include "io/bfile.h"
#include "io/tar.h"
#include "io/tarstream.h"
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
    const char *file;   /* its backup as a file of its own (extracted), or NULL: in the archive */
    bool exists;
    double started;  /* sl_clock_s() */
} target;

typedef struct run {
    const sl_cluster_restore_opts *o;
    sl_archive *archive;
    sl_conn *conn;
    target *targets;
    size_t n;
    sl_cluster_restore_summary *sum;
} run;

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
    const char *sql = t->exists ? t->db->alter_sql : t->db->create_sql;
    return sql ? sl_conn_exec(r->conn, sql, err) : 0;
}

static pid_t
start_one(void *ctx, size_t i, sl_error *err)
{
    run *r = ctx;
    target *t = &r->targets[i];
    int fd = -1;
    if (sl_conn_conninfo_pipe(r->conn, t->db->name, &fd, err) != 0)
        return -1;
    t->started = sl_clock_s();
    pid_t pid = t->file ? r->o->start(r->o->start_ctx, fd, t->file, NULL, err)
                        : r->o->start(r->o->start_ctx, fd, r->o->archive, t->db->member, err);
    close(fd);
    return pid;
}

static int
finished_one(void *ctx, size_t i, int status, sl_error *err)
{
    (void)err;
    run *r = ctx;
    sl_cluster_restore_result *res = &r->sum->dbs[i];
    res->seconds = sl_clock_s() - r->targets[i].started;
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
    int parallel = 1;
    if (sl_conn_fit_children(r->conn, r->o->max_connections, r->o->jobs + 1, r->o->dump_jobs,
                             &parallel, err) != 0)
        return -1;
    if (parallel < r->o->dump_jobs)
        SL_INFO("restoring %d databases at a time, not %d: the connection budget allows no "
                "more (--max-connections)", parallel, r->o->dump_jobs);
    const sl_procs_ops ops = {.start = start_one, .finished = finished_one};
    if (sl_procs_run(r->n, parallel, &ops, r, &stop_requested, err) != 0) {
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

static int run_script(const sl_conninfo *ci, const sl_conn_opts *conn_opts, const char *path,
                      int64_t *statements, sl_error *err);

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
        int64_t statements = 0;
        rc = run_script(ci, conn_opts, r->o->archive, &statements, err);
        r->sum->global_statements = (int)statements;
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

/* ---- other tools' cluster archives: a compressed tar of globals.sql and dumps/NAME.sql.gz
 * (dbbackup's layout) ---- */

typedef struct tball_db {
    char *name;
    char *path;
} tball_db;

typedef struct tball {
    char *dir;          /* private extraction directory (0700) */
    char *globals;      /* its globals.sql, or NULL */
    tball_db *dbs;
    size_t n;
    int fd;             /* the member being written, or -1 (skipped) */
    const char *label;  /* the archive, for messages */
} tball;

static bool
strip_suffix(char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    if (n <= k || strcmp(s + n - k, suffix) != 0)
        return false;
    s[n - k] = '\0';
    return true;
}

static int
tball_member(void *ctx, const char *name, uint64_t size, sl_error *err)
{
    (void)size;
    tball *tb = ctx;
    if (tb->fd >= 0)
        close(tb->fd);
    tb->fd = -1;
    char *path = NULL;
    if (strcmp(name, "globals.sql") == 0 && !tb->globals) {
        path = tb->globals = sl_asprintf("%s/globals.sql", tb->dir);
    } else if (strncmp(name, "dumps/", 6) == 0 && name[6] && !strchr(name + 6, '/')) {
        char *db = sl_strdup(name + 6);
        bool custom = strip_suffix(db, ".dump");
        const char *ext = custom ? ".dump" : strip_suffix(db, ".sql.gz") ? ".sql.gz"
                                             : strip_suffix(db, ".sql.zst") ? ".sql.zst"
                                             : strip_suffix(db, ".sql") ? ".sql" : NULL;
        if (!ext) {
            free(db);
            return 0;
        }
        tb->dbs = sl_realloc(tb->dbs, (tb->n + 1) * sizeof *tb->dbs);
        path = sl_asprintf("%s/%04zu%s", tb->dir, tb->n + 1, ext);
        tb->dbs[tb->n++] = (tball_db){.name = db, .path = path};
    }
    if (!path)
        return 0;
    tb->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (tb->fd < 0) {
        sl_error_errno(err, SL_E_IO, errno, "cannot create %s", path);
        return -1;
    }
    return 0;
}

static int
tball_data(void *ctx, const void *data, size_t len, sl_error *err)
{
    tball *tb = ctx;
    if (tb->fd < 0)
        return 0;
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(tb->fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            sl_error_errno(err, SL_E_IO, errno, "cannot write into %s", tb->dir);
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Decompresses path (gzip, zstd or none: by content) into a tar stream with these
 * callbacks. */
static int
read_tarball(const char *path, const sl_tarstream_ops *ops, void *ctx, sl_error *err)
{
    sl_tarstream *ts = sl_tarstream_new(ops, ctx);
    sl_bfile_reader *br = NULL;
    sl_bfile_stream *st = NULL;
    int rc = -1, got = 0;
    const char *data = NULL;
    size_t len = 0;
    if (sl_bfile_reader_open(&br, path, err) != 0 ||
        sl_bfile_stream_open(&st, br, NULL, false, err) != 0)
        goto out;
    while ((got = sl_bfile_stream_read(st, &data, &len, err)) == 1)
        if (sl_tarstream_feed(ts, data, len, err) != 0)
            goto out;
    rc = got < 0 ? -1 : sl_tarstream_finish(ts, err);
out:
    sl_bfile_stream_close(st);
    sl_bfile_reader_close(br);
    sl_tarstream_free(ts);
    return rc;
}

/* Extracts what the archive holds that a restore knows. */
static int
tball_extract(tball *tb, const char *path, sl_error *err)
{
    const char *tmp = getenv("TMPDIR");
    char *templ = sl_asprintf("%s/sluice-restore-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(templ)) {
        sl_error_errno(err, SL_E_IO, errno, "cannot create a directory like %s", templ);
        free(templ);
        return -1;
    }
    tb->dir = templ;
    const sl_tarstream_ops ops = {.member = tball_member, .data = tball_data};
    int rc = read_tarball(path, &ops, tb, err);
    if (tb->fd >= 0)
        close(tb->fd);
    tb->fd = -1;
    if (rc != 0)
        sl_error_context(err, "%s", path);
    return rc;
}

static void
tball_free(tball *tb)
{
    for (size_t i = 0; i < tb->n; i++) {
        unlink(tb->dbs[i].path);
        free(tb->dbs[i].path);
        free(tb->dbs[i].name);
    }
    free(tb->dbs);
    if (tb->globals)
        unlink(tb->globals);
    free(tb->globals);
    if (tb->dir)
        rmdir(tb->dir);
    free(tb->dir);
}

/* A script restored in this process (a pg_dumpall or globals script: roles may exist). */
static int
run_script(const sl_conninfo *ci, const sl_conn_opts *conn_opts, const char *path,
           int64_t *statements, sl_error *err)
{
    sl_restore_opts ro = {.input = path, .database = "postgres", .jobs = 1,
                          .existing_roles_ok = true, .quiet = true};
    sl_restore_summary rs = {0};
    sl_conninfo *target = sl_conninfo_with_dbname(ci, "postgres");
    int rc = sl_restore_run(target, conn_opts, &ro, &rs, err);
    sl_conninfo_free(target);
    *statements = rs.statements;
    return rc;
}

/* Whether path, decompressed, starts with a tar header (another tool's .tar.gz/.tar.zst). */
static bool
is_compressed_tar(const char *path)
{
    sl_bfile_reader *br = NULL;
    sl_bfile_stream *st = NULL;
    sl_error ignored;
    sl_error_clear(&ignored);
    bool yes = false;
    const char *data = NULL;
    size_t len = 0;
    if (sl_bfile_reader_open(&br, path, &ignored) == 0 && !sl_bfile_reader_indexed(br) &&
        sl_bfile_reader_codec(br) != SL_CODEC_NONE &&
        sl_bfile_stream_open(&st, br, NULL, false, &ignored) == 0 &&
        sl_bfile_stream_read(st, &data, &len, &ignored) == 1)
        yes = len >= SL_TAR_BLOCK && memcmp(data + 257, "ustar", 5) == 0;
    sl_bfile_stream_close(st);
    sl_bfile_reader_close(br);
    return yes;
}

static int
restore_tarball(run *r, const sl_conninfo *ci, const sl_conn_opts *conn_opts, sl_error *err)
{
    tball tb = {.fd = -1};
    sl_manifest_database *dbs = NULL;
    int rc = -1;
    if (tball_extract(&tb, r->o->archive, err) != 0)
        goto out;
    if (!tb.globals && tb.n == 0) {
        sl_error_set(err, SL_E_USAGE, "%s is neither a cluster archive of sluice nor a "
                     "pg_dumpall script, and holds no globals.sql or dumps/*.sql.gz",
                     r->o->archive);
        goto out;
    }
    dbs = sl_calloc(tb.n + 1, sizeof *dbs);
    r->targets = sl_calloc(tb.n + 1, sizeof *r->targets);
    for (size_t i = 0; i < tb.n; i++) {
        if (!wanted(r->o, tb.dbs[i].name))
            continue;
        dbs[r->n].name = tb.dbs[i].name;
        dbs[r->n].ok = true;
        r->targets[r->n].file = tb.dbs[i].path;
        r->targets[r->n].db = &dbs[r->n];
        r->n++;
    }
    int64_t statements = 0;
    if (connect_target(r, ci, conn_opts, err) != 0 || check_existing(r, err) != 0 ||
        (tb.globals && run_script(ci, conn_opts, tb.globals, &statements, err) != 0))
        goto out;
    r->sum->global_statements = (int)statements;
    for (size_t i = 0; i < r->n; i++) {
        char *q = sl_conn_quote_ident(r->conn, dbs[i].name);
        dbs[i].create_sql = sl_asprintf("CREATE DATABASE %s TEMPLATE template0", q);
        free(q);
    }
    rc = restore_databases(r, err);
out:
    for (size_t i = 0; dbs && i < r->n; i++) {
        free(dbs[i].create_sql);
    }
    free(dbs);
    tball_free(&tb);
    return rc;
}

/* ---- listing ---- */

static void
listing_add(sl_cluster_listing *l, const char *name, uint64_t size, const char *format)
{
    l->dbs = sl_realloc(l->dbs, (l->n + 1) * sizeof *l->dbs);
    l->dbs[l->n++] = (sl_cluster_listing_db){.name = sl_strdup(name), .size = size,
                                             .format = format};
}

static int
list_member(void *ctx, const char *name, uint64_t size, sl_error *err)
{
    (void)err;
    sl_cluster_listing *l = ctx;
    if (strcmp(name, "globals.sql") == 0) {
        l->globals = true;
        return 0;
    }
    if (strncmp(name, "dumps/", 6) != 0 || !name[6] || strchr(name + 6, '/'))
        return 0;
    char *db = sl_strdup(name + 6);
    if (strip_suffix(db, ".dump"))
        listing_add(l, db, size, "pg_dump custom format");
    else if (strip_suffix(db, ".sql.gz") || strip_suffix(db, ".sql.zst") ||
             strip_suffix(db, ".sql"))
        listing_add(l, db, size, "SQL script");
    free(db);
    return 0;
}

static int
list_data(void *ctx, const void *data, size_t len, sl_error *err)
{
    (void)ctx;
    (void)data;
    (void)len;
    (void)err;
    return 0;
}

static int
list_tarball(const char *path, sl_cluster_listing *l, sl_error *err)
{
    const sl_tarstream_ops ops = {.member = list_member, .data = list_data};
    return read_tarball(path, &ops, l, err);
}

int
sl_cluster_list_foreign(const char *path, sl_cluster_listing *l, sl_error *err)
{
    memset(l, 0, sizeof *l);
    if (is_compressed_tar(path)) {
        l->kind = "dbbackup archive";
        if (list_tarball(path, l, err) != 0)
            goto fail;
        return 0;
    }
    script_scan sc = {0};
    int rc = scan_script(path, &sc, err);
    l->kind = "pg_dumpall script";
    l->globals = rc == 0;
    for (size_t i = 0; i < sc.n; i++) {
        if (rc == 0)
            listing_add(l, sc.names[i], 0, "SQL script");
        free(sc.names[i]);
    }
    free(sc.names);
    if (rc == 0)
        return 0;
fail:
    sl_cluster_listing_free(l);
    return -1;
}

void
sl_cluster_listing_free(sl_cluster_listing *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->dbs[i].name);
    free(l->dbs);
    l->dbs = NULL;
    l->n = 0;
}

int
sl_cluster_restore(const sl_conninfo *ci, const sl_conn_opts *conn_opts,
                   const sl_cluster_restore_opts *opts, sl_cluster_restore_summary *sum,
                   sl_error *err)
{
    memset(sum, 0, sizeof *sum);
    stop_requested = 0;
    double t0 = sl_clock_s();
    run r = {.o = opts, .sum = sum};
    int rc = -1;
    if (!sl_archive_is_tar(opts->archive)) {
        rc = is_compressed_tar(opts->archive) ? restore_tarball(&r, ci, conn_opts, err)
                                              : restore_script(&r, ci, conn_opts, err);
        goto out;
    }
    if (sl_archive_open(&r.archive, opts->archive, err) != 0)
        goto out;
    if (sl_archive_manifest(r.archive)->mysql) {
        sl_error_set(err, SL_E_USAGE, "\"%s\" is the cluster archive of a MySQL server: "
                     "PostgreSQL cannot restore it", opts->archive);
        goto out;
    }
    if (select_targets(&r, err) != 0 ||
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
    sum->elapsed_s = sl_clock_s() - t0;
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
