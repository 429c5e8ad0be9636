/* mydump/mycluster.h: back up a whole MySQL or MariaDB server into one tar archive (io/tar.h),
 * laid out as the PostgreSQL cluster archive is (dump/cluster.h), so that list, verify and
 * restore read both alike:
 *   globals.sql        roles, users and grants (mydump/accounts.h), a mysql-client script
 *   databases.sql      CREATE DATABASE IF NOT EXISTS for every schema in the archive (SHOW
 *                      CREATE DATABASE: character set and collation), for mysql-client users
 *   databases/NNNN.sql.gz (or .sql.zst, .sql)  one sluice backup per schema
 *   manifest.json      the PostgreSQL archive's fields (dump/cluster.h; memberships and
 *                      tablespaces 0, alter_sql "") plus "engine": "mysql" and, in
 *                      "globals", "users", "grants" and "accounts_skipped"
 * Every schema but the server's own (mysql, sys, information_schema, performance_schema) is
 * backed up, or only those of opts->databases. Each by a child process ("sluice backup single
 * --engine mysql" that the caller's start() starts), one at a time, which reads where to
 * connect from a pipe (a mysql:// URL holding the password, if one was given: never in argv);
 * it writes its file beside the archive (ARCHIVE.partial.d/), appended to the archive when the
 * child ends well. Each schema's snapshot is its own: schemas are consistent one by one, not
 * with each other (as mysqldump --single-transaction of several databases is not either,
 * across servers' DDL).
 * The archive is ARCHIVE.partial until the manifest is in and it is fsynced and renamed.
 * Errors: -1 with err set; SL_E_CANCELED after sl_mycluster_interrupt(). */
#ifndef SL_MYDUMP_MYCLUSTER_H
#define SL_MYDUMP_MYCLUSTER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "mysql/conn.h"

/* Starts the backup of database into path: a process that reads a mysql:// URL from url_fd
 * (inherited, then closed by the parent). Returns its pid, or -1 with err set. */
typedef pid_t (*sl_mycluster_start_fn)(void *ctx, int url_fd, const char *database,
                                       const char *path, sl_error *err);

typedef struct sl_mycluster_opts {
    const char *output;            /* the archive; ARCHIVE.partial while writing */
    const char *member_suffix;     /* ".sql.gz", ".sql.zst" or ".sql": the children's codec */
    const char *const *databases;  /* NULL: all but the system schemas; else exactly these */
    bool keep_going;               /* a failed schema is marked in the manifest, not fatal */
    sl_mycluster_start_fn start;
    void *start_ctx;
} sl_mycluster_opts;

typedef struct sl_mycluster_summary {
    int databases, failed, roles, users, grants;
    int exit_code;  /* the first failed schema's backup's exit code (with keep_going) */
    int64_t bytes, rows;
    double elapsed_s;
} sl_mycluster_summary;

/* From a signal handler: stops the run (async-signal-safe). */
void sl_mycluster_interrupt(void);

SL_MUSTCHECK int sl_mycluster_backup(const sl_mysql_target *target,
                                     const sl_mycluster_opts *opts,
                                     sl_mycluster_summary *summary, sl_error *err);

#endif
