/* restore/restore.h: restore a sluice backup file, a pg_dump archive (-Fc, -Fd) or a plain
 * pg_dump -Fp script into a database.
 * sl_restore_run() opens the file first (a bad index or trailer fails with SL_E_ARCHIVE before
 * any connection is made), then prepares the target (--create / --clean / refusal of a
 * non-empty database, restore/target.h), then runs the script:
 *   plain script: every statement in order on one connection (\connect switches database);
 *   sluice file:  the preamble (phase 0) on every connection, then the segments on `jobs`
 *                 connections, each as soon as what it needs is in (restore/schedule.h): the
 *                 segments not marked parallel in file order, each after every segment of the
 *                 earlier phases; a parallel one after those of the earlier phases too, or,
 *                 when it names its tables (an index, a constraint, a trigger...), only after
 *                 those tables' rows (and indexes); the biggest runnable segment first. With
 *                 --single-transaction every segment runs in file order on one connection.
 *   pg_dump archive: the entries restore/toc.h selects, their SQL as pg_restore sends it,
 *                 the preamble on every connection, then the entries on `jobs` connections
 *                 by the archive's own dependencies (restore/schedule.h).
 * COPY data is streamed to the server in bounded chunks (pg/copy.h): memory does not grow with
 * the size of a table or of the file. Statements are held whole, at most max_statement bytes
 * for all connections together (restore/splitter.h: a shared budget), so a hostile file (an
 * unterminated quote in every parallel segment) costs that much whatever -j is.
 * Errors: -1 with err set. By default the first failing statement stops the restore
 * (SL_E_SERVER with the server's message and SQLSTATE, the context naming the statement's line
 * and offset, the segment and its object). With continue_on_error each failure is logged and
 * counted in summary->errors and the run goes on; it then returns -1 with SL_E_SERVER when
 * any failed. A corrupt or truncated file is SL_E_ARCHIVE naming the offset.
 * Signals: sl_restore_interrupt(), from a SIGINT/SIGTERM handler, cancels the statements
 * running on every connection; no further segment or statement starts, and the run fails with
 * SL_E_CANCELED saying what had been restored: how many segments, which tables' data is
 * complete (with --single-transaction: nothing, the transaction is rolled back).
 * Threads: one thread per connection while the segments run; all joined before returning. */
#ifndef SL_RESTORE_RESTORE_H
#define SL_RESTORE_RESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "pg/conn.h"

typedef struct sl_restore_opts {
    const char *input;           /* file to restore */
    uint64_t input_base;         /* where the backup starts in it (an archive member) ... */
    uint64_t input_length;       /* ... and its length; 0: the whole file */
    const char *database;        /* target database (a plain name) */
    bool create;                 /* CREATE DATABASE first (refused when it exists, unless clean) */
    bool database_properties;    /* the backup's database properties apply to the target (as
                                  * with create: for a database made for this restore) */
    bool clean;                  /* empty the target first (drop and recreate with create) */
    int jobs;                    /* connections for parallel segments (>= 1) */
    bool single_transaction;     /* one connection, BEGIN ... COMMIT, COPY FREEZE when allowed */
    bool continue_on_error;      /* log failed statements and go on (not with single_transaction) */
    bool no_owner;               /* skip ALTER ... OWNER TO and SET SESSION AUTHORIZATION */
    bool no_privileges;          /* skip GRANT, REVOKE and ALTER DEFAULT PRIVILEGES */
    bool existing_roles_ok;      /* a CREATE ROLE of a role that exists is not an error (a
                                  * pg_dumpall script creates every role, the restoring one's
                                  * too, and sets its attributes with ALTER ROLE after) */
    /* pg_dump archives only (restore/toc.h): what of the archive is restored */
    const char *const *schemas;          /* -n: psql patterns, NULL-terminated, or NULL */
    const char *const *exclude_schemas;  /* -N */
    const char *const *tables;           /* -t */
    bool schema_only;
    bool data_only;
    bool no_comments;
    size_t max_statement;        /* bytes the statements read at once may hold together (all
                                  * connections); 0: SL_SPLITTER_MAX_STATEMENT */
    bool progress_tty;           /* draw a progress bar */
    bool quiet;
    int progress_interval_s;
} sl_restore_opts;

/* segments and rows count what stays restored: 0 after a failed --single-transaction run. */
typedef struct sl_restore_summary {
    int64_t segments, statements, rows, bytes, errors;
    double elapsed_s;
} sl_restore_summary;

/* Async-signal-safe (pg/workers.h); false when no restore is running. */
bool sl_restore_interrupt(void);

SL_MUSTCHECK int sl_restore_run(const sl_conninfo *ci, const sl_conn_opts *conn_opts,
                                const sl_restore_opts *opts, sl_restore_summary *summary,
                                sl_error *err);

#endif
