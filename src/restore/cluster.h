/* restore/cluster.h: a cluster archive (dump/cluster.h) restored onto a server.
 * In order: the archive is opened and checked against its manifest (restore/archive.h); every
 * database asked for that the target has already is refused unless clean (then dropped
 * first), before anything changes; globals.sql runs statement by statement (a tablespace that
 * exists already is not an error: every other failure stops the run); each database is
 * created (CREATE DATABASE from the manifest, or ALTER DATABASE for one the target keeps,
 * such as postgres); then the databases' backups are restored by child processes (the
 * caller's start(), "sluice restore ARCHIVE --archive-member M"), dump_jobs at a time, each
 * getting its connection through a pipe. A database whose restore fails is reported and the
 * others go on; the summary has one result per database.
 * Archives of other tools, told apart by content: a pg_dumpall script (plain, gzip or zstd)
 * is scanned for the databases it creates (refused when they exist, dropped with clean),
 * then run in this process as psql would (restore/restore.h, roles that exist kept); a
 * compressed tar in dbbackup's layout (globals.sql, dumps/NAME.sql[.gz|.zst] or NAME.dump, a
 * pg_dump custom archive) is extracted
 * into a private temporary directory (io/tarstream.h), its globals run in this process, and
 * each database created and restored by a child as above.
 * Errors: -1 with err set for what stops the whole run (a bad archive, a database that
 * exists, a failed global statement, a signal: SL_E_CANCELED); a failed database is not an
 * error of the run but a result. */
#ifndef SL_RESTORE_CLUSTER_H
#define SL_RESTORE_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "pg/conn.h"

typedef pid_t (*sl_cluster_restore_start_fn)(void *ctx, int conninfo_fd, const char *archive,
                                              const char *member, sl_error *err);

typedef struct sl_cluster_restore_opts {
    const char *archive;
    const char *const *databases;  /* NULL: every database the archive holds */
    int dump_jobs;                 /* databases restored at the same time (>= 1) ... */
    int jobs;                      /* ... each on this many connections (>= 1) ... */
    int max_connections;           /* ... within this budget (0: pg/conn.h's default) */
    bool clean;                    /* drop a database that exists, then restore it */
    sl_cluster_restore_start_fn start;
    void *start_ctx;
} sl_cluster_restore_opts;

typedef struct sl_cluster_restore_result {
    char *name;
    bool ok;
    int exit_code;     /* the child's, when it failed */
    double seconds;
} sl_cluster_restore_result;

typedef struct sl_cluster_restore_summary {
    sl_cluster_restore_result *dbs;
    size_t n;
    int failed;
    int exit_code;     /* the first failed database's */
    int global_statements, tablespaces_existing;
    double elapsed_s;
} sl_cluster_restore_summary;

/* What another tool's cluster backup holds, for "sluice list": read without restoring or
 * extracting anything. */
typedef struct sl_cluster_listing_db {
    char *name;
    uint64_t size;       /* stored bytes of its member (0 for a pg_dumpall script) */
    const char *format;  /* "SQL script" or "pg_dump custom format" */
} sl_cluster_listing_db;

typedef struct sl_cluster_listing {
    const char *kind;    /* "pg_dumpall script" or "dbbackup archive" */
    bool globals;        /* roles and tablespaces are in it */
    sl_cluster_listing_db *dbs;
    size_t n;
} sl_cluster_listing;

SL_MUSTCHECK int sl_cluster_list_foreign(const char *path, sl_cluster_listing *out,
                                         sl_error *err);
void sl_cluster_listing_free(sl_cluster_listing *l);

/* From a signal handler (async-signal-safe). */
void sl_cluster_restore_interrupt(void);

SL_MUSTCHECK int sl_cluster_restore(const sl_conninfo *ci, const sl_conn_opts *conn_opts,
                                    const sl_cluster_restore_opts *opts,
                                    sl_cluster_restore_summary *summary, sl_error *err);
void sl_cluster_restore_summary_free(sl_cluster_restore_summary *s);

#endif
