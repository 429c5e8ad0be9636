/* myrestore/restore.h: restore a sluice MySQL backup file (header engine "mysql") or a plain
 * mysql-client script (mysqldump / mariadb-dump, plain, gzip or zstd) into MySQL or MariaDB.
 * sl_myrestore_run() opens the file first (a truncated file, a damaged index or a file of
 * another engine fails before any connection is made), connects, reads the whole file once
 * (every segment's SHA-256, every statement cut: a damaged segment, a client command, an
 * unterminated string or an over-long statement fails before anything changes), gets the
 * target database ready (myrestore/target.h: --create, --clean, refusal of a non-empty
 * database), then runs:
 *   plain script: every statement in order on one connection, as the mysql client would
 *                 (USE in the script switches database; client commands are refused);
 *   sluice file:  the PREAMBLE segment on every connection, then the phases in order: the
 *                 DATA segments marked parallel on `jobs` connections, the biggest first; the
 *                 INDEX segments marked parallel likewise, never two on the same table at once
 *                 (each ALTER TABLE rebuilds its table); every other segment in file order on
 *                 the first connection.
 * Statements are cut by mysql/script.h; each is held whole, at most max_statement bytes
 * (per connection).
 * --single-transaction (jobs 1): the session runs with autocommit off, so the rows between
 * two statements that commit implicitly (DDL does in MySQL) are committed together, and a
 * failure rolls back what was not committed yet; it cannot make the DDL atomic.
 * Errors: -1 with err set. The first failing statement stops the run: SL_E_SERVER with the
 * server's error number, message and SQLSTATE, the context naming the segment, the
 * statement's line in it and its first bytes (secrets redacted). A lost connection is
 * SL_E_CONNECT; a corrupt or truncated file SL_E_ARCHIVE naming the offset; a non-empty target
 * without --clean SL_E_REFUSED.
 * Signals: sl_myrestore_interrupt() (async-signal-safe) makes every connection stop after its
 * current statement; the run then fails with SL_E_CANCELED.
 * Threads: one per extra connection while a parallel phase runs; all joined before return. */
#ifndef SL_MYRESTORE_RESTORE_H
#define SL_MYRESTORE_RESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "mysql/conn.h"

typedef struct sl_myrestore_opts {
    const char *input;        /* the file */
    const char *database;     /* target database; NULL: the file header's (a plain script:
                               * none selected, the script's USE decides) */
    bool create;              /* CREATE DATABASE first (refused when it exists, unless clean) */
    bool clean;               /* drop the target database and create it again, empty */
    int jobs;                 /* connections for parallel segments (>= 1) */
    bool single_transaction;  /* autocommit off, one connection (jobs must be 1) */
    size_t max_statement;     /* 0: the server's max_allowed_packet */
    bool skip_binlog;         /* SET SESSION sql_log_bin = 0 on every connection (needs the
                               * privilege; replicas then do not get the restored data) */
    bool progress_tty;
    bool quiet;
    int progress_interval_s;
} sl_myrestore_opts;

typedef struct sl_myrestore_summary {
    int64_t segments, statements, rows, bytes;
    double elapsed_s;
} sl_myrestore_summary;

/* Whether path is a sluice backup whose header names engine "mysql": 1 yes, 0 no (another
 * engine's sluice file, or a plain script: *indexed says which), -1 when the file cannot be
 * read as a sluice file or plain script (err set). */
SL_MUSTCHECK int sl_myrestore_probe(const char *path, bool *indexed, sl_error *err);

/* t: where to connect (its database is ignored: opts->database names the target). */
SL_MUSTCHECK int sl_myrestore_run(const sl_mysql_target *t, const sl_myrestore_opts *opts,
                                  sl_myrestore_summary *summary, sl_error *err);

bool sl_myrestore_interrupt(void);

#endif
