/* dump/cluster.h: back up a whole cluster into one tar archive (io/tar.h):
 *   globals.sql        roles, memberships, tablespaces (dump/globals.h); psql-restorable
 *   databases.sql      CREATE DATABASE for every database in the archive, for psql users
 *   databases/NNNN.sql.gz (or .sql.zst, .sql)  one sluice backup per database (dump/dump.h)
 *   manifest.json      what the archive holds, written last (see below)
 * Each database is backed up by a child process (a "sluice backup single" that the caller's
 * start() starts), dump_jobs at a time; a child gets its connection through a pipe, as the
 * parent's own connection was made (pg/conn.h sl_conn_conninfo_pipe), never in argv. A child
 * writes its file beside the archive (ARCHIVE.partial.d/), the parent appends it to the
 * archive as it finishes and removes it. One engine's workers share a process's signal
 * handling, so separate processes are what lets backups of several databases run at once.
 * manifest.json: {"format": "sluice-cluster", "format_version": 1, "sluice_version",
 *   "server_version", "started_at", "finished_at" (ISO 8601 UTC), "members": [{"name",
 *   "size", "sha256"}]
 *   (every other member), "globals": {"roles", "memberships", "tablespaces",
 *   "passwords_saved"}, "databases": [{"name", "name_hex" (the exact bytes), "member",
 *   "status" ("ok" or "failed"), "error", "database_size", "rows", "create_sql", "alter_sql",
 *   "tool" ("sluice", or "pg_dump" with fallback_tools: a plain gzip script), "started_at",
 *   "finished_at"}], "skipped": [{"name", "reason"}]}.
 * The archive is ARCHIVE.partial until the manifest is in and it is fsynced and renamed: an
 * interrupted run (signal, lost server, a failed database without keep_going) leaves no
 * ARCHIVE, and removes its .partial and the children's files.
 * Errors: -1 with err set; SL_E_CANCELED after SIGINT/SIGTERM (sl_cluster_interrupt). */
#ifndef SL_DUMP_CLUSTER_H
#define SL_DUMP_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "pg/conn.h"

/* Starts the backup of one database: a process that reads its conninfo string from
 * conninfo_fd (to be inherited, then closed by the parent) and writes the backup to path.
 * Returns the child's pid, or -1 with err set. */
typedef pid_t (*sl_cluster_start_fn)(void *ctx, int conninfo_fd, const char *path,
                                     sl_error *err);

typedef struct sl_cluster_opts {
    const char *output;               /* the archive; ARCHIVE.partial while writing */
    const char *member_suffix;        /* ".sql.gz", ".sql.zst" or ".sql": the children's codec */
    const char *const *databases;     /* NULL: all; else exactly these names */
    const char *const *exclude;       /* NULL, or psql patterns of names left out */
    int dump_jobs;                    /* databases at a time (>= 1) ... */
    int jobs;                         /* ... each with this many workers (>= 1) ... */
    int max_connections;              /* ... within this budget (0: pg/conn.h's default) */
    bool keep_going;                  /* --continue: a failed database is marked, not fatal */
    bool fallback_tools;              /* a database with objects sluice cannot back up is
                                       * backed up by pg_dump (dump/fallback.h) */
    sl_cluster_start_fn start;
    void *start_ctx;
} sl_cluster_opts;

typedef struct sl_cluster_summary {
    int databases, failed, skipped, roles, tablespaces;
    int exit_code;  /* the first failed database's backup's exit code (with keep_going) */
    bool passwords_saved;
    int64_t bytes, rows;
    double elapsed_s;
} sl_cluster_summary;

/* From a signal handler: stops the run (async-signal-safe). */
void sl_cluster_interrupt(void);

SL_MUSTCHECK int sl_cluster_backup(const sl_conninfo *ci, const sl_conn_opts *conn_opts,
                                   const sl_cluster_opts *opts, sl_cluster_summary *summary,
                                   sl_error *err);

#endif
