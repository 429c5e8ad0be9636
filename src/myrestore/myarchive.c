/* myrestore/myarchive.c: a MySQL cluster archive restored whole (see myarchive.h). */
#include "myrestore/myarchive.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/escape.h"
#include "base/log.h"
#include "base/mem.h"
#include "io/archive.h"
#include "io/sink.h"
#include "myrestore/restore.h"
#include "mysql/quote.h"

static volatile sig_atomic_t stop_requested;

bool
sl_myarchive_interrupt(void)
{
    stop_requested = 1;
    return sl_myrestore_interrupt();
}

/* The directory the archive is in: spool files go beside it (same file system). */
static char *
archive_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return sl_strdup(".");
    if (slash == path)
        return sl_strdup("/");
    return sl_strndup(path, (size_t)(slash - path));
}

/* Copies member name of the archive into an unlinked spool file; its fd in *fd. */
static int
spool_member(const sl_archive *a, const char *name, const char *dir, int *fd, sl_error *err)
{
    uint64_t off, size;
    if (!sl_archive_find(a, name, &off, &size)) {
        sl_error_set(err, SL_E_ARCHIVE, "the archive has no member %s", name);
        return -1;
    }
    *fd = sl_spool_open(dir, err);
    if (*fd < 0)
        return -1;
    enum { CHUNK = 1 << 20 };
    char *buf = sl_malloc(CHUNK);
    int rc = 0;
    for (uint64_t done = 0; rc == 0 && done < size;) {
        size_t n = size - done < CHUNK ? (size_t)(size - done) : CHUNK;
        rc = sl_archive_pread(a, buf, n, off + done, err);
        if (rc == 0)
            rc = sl_pwrite_all(*fd, buf, n, done, name, err);
        done += n;
    }
    free(buf);
    if (rc != 0) {
        close(*fd);
        *fd = -1;
    }
    return rc;
}

/* Restores one spooled member (database NULL: a plain script such as globals.sql). */
static int
restore_member(const sl_mysql_target *t, const sl_myarchive_opts *o, const sl_archive *a,
               const char *member, const char *database, const char *dir,
               sl_myarchive_summary *s, sl_error *err)
{
    int fd = -1;
    if (spool_member(a, member, dir, &fd, err) != 0)
        return -1;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    sl_myrestore_opts mo = {.input = path, .database = database, .jobs = o->jobs,
                            .quiet = true};
    sl_myrestore_summary ms = {0};
    int rc = sl_myrestore_run(t, &mo, &ms, err);
    close(fd);
    if (rc != 0) {
        sl_error_prefix(err, "%s", member);
        return -1;
    }
    s->statements += ms.statements;
    s->rows += ms.rows;
    return 0;
}

/* A schema of the archive that the target has is refused unless clean: checked for all of
 * them before anything changes. */
static int
check_target(const sl_mysql_target *t, const sl_myarchive_opts *o, const sl_manifest *m,
             sl_error *err)
{
    if (o->clean)
        return 0;
    sl_mysql *c = sl_mysql_connect(t, err);
    if (!c)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < m->ndatabases; i++) {
        const sl_manifest_database *d = &m->databases[i];
        if (!d->ok)
            continue;
        sl_buf sql = SL_BUF_INIT;
        sl_buf_puts(&sql, "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ");
        sl_mysql_put_literal(&sql, d->name, strlen(d->name));
        MYSQL_RES *res = sl_mysql_query(c, sql.data, false, err);
        sl_buf_free(&sql);
        if (!res) {
            rc = -1;
            break;
        }
        if (mysql_num_rows(res) > 0) {
            char *shown = sl_escape_dup(d->name);
            sl_error_set(err, SL_E_REFUSED, "database \"%s\" exists on the target: nothing "
                         "was restored (--clean drops and restores it)", shown);
            free(shown);
            rc = -1;
        }
        mysql_free_result(res);
    }
    sl_mysql_close(c);
    return rc;
}

/* The schema, empty, as the source had it: dropped first with clean, then the manifest's
 * CREATE DATABASE IF NOT EXISTS (SHOW CREATE DATABASE of the source: character set and
 * collation). */
static int
create_database(const sl_mysql_target *t, const sl_myarchive_opts *o,
                const sl_manifest_database *d, sl_error *err)
{
    sl_mysql *c = sl_mysql_connect(t, err);
    if (!c)
        return -1;
    int rc = 0;
    if (o->clean) {
        sl_buf sql = SL_BUF_INIT;
        sl_buf_puts(&sql, "DROP DATABASE IF EXISTS ");
        sl_mysql_put_ident(&sql, d->name);
        rc = sl_mysql_exec(c, sql.data, err);
        sl_buf_free(&sql);
    }
    if (rc == 0)
        rc = sl_mysql_exec(c, d->create_sql, err);
    sl_mysql_close(c);
    return rc;
}

int
sl_myarchive_restore(const sl_mysql_target *t, const sl_myarchive_opts *o,
                     sl_myarchive_summary *s, sl_error *err)
{
    memset(s, 0, sizeof *s);
    stop_requested = 0;
    double t0 = sl_clock_s();
    sl_archive *a = NULL;
    char *dir = archive_dir(o->archive);
    int rc = -1;
    if (sl_archive_open(&a, o->archive, err) != 0)
        goto out;
    const sl_manifest *m = sl_archive_manifest(a);
    if (!m->mysql) {
        sl_error_set(err, SL_E_USAGE, "\"%s\" is the cluster archive of a PostgreSQL server: "
                     "restore it with \"sluice restore cluster\"", o->archive);
        goto out;
    }
    if (check_target(t, o, m, err) != 0 ||
        restore_member(t, o, a, "globals.sql", NULL, dir, s, err) != 0)
        goto out;
    if (!o->quiet)
        SL_INFO("accounts restored (globals.sql)");
    for (size_t i = 0; i < m->ndatabases; i++) {
        const sl_manifest_database *d = &m->databases[i];
        char *shown = sl_escape_dup(d->name);
        if (!d->ok) {
            SL_WARN("database \"%s\" is not in the archive (its backup failed): skipped",
                    shown);
        } else if (stop_requested) {
            sl_error_set(err, SL_E_CANCELED, "cluster restore interrupted");
        } else if (create_database(t, o, d, err) == 0 &&
                   restore_member(t, o, a, d->member, d->name, dir, s, err) == 0) {
            s->databases++;
            if (!o->quiet)
                SL_INFO("database \"%s\" restored", shown);
        }
        free(shown);
        if (err->kind != SL_E_NONE)
            goto out;
    }
    rc = 0;
out:
    sl_archive_close(a);
    free(dir);
    s->elapsed_s = sl_clock_s() - t0;
    return rc;
}
