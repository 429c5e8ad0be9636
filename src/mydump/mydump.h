/* mydump/mydump.h: back up one MySQL/MariaDB database into a sluice backup file (io/bfile.h)
 * whose text is a script for the mysql client.
 * sl_mydump_run() takes one consistent snapshot on every connection (FLUSH TABLES WITH READ
 * LOCK held only while each opens START TRANSACTION WITH CONSISTENT SNAPSHOT, the binary log
 * position read under it), then writes, as segments:
 *   PREAMBLE  the signature, the client's sandbox line, the session settings;
 *   PRE-DATA  tables without their secondary indexes and foreign keys (mydump/createtable.h),
 *             sequences, routines, a stand-in view per view;
 *   DATA      one segment per table or primary-key range of one: multi-row INSERTs streamed
 *             from the server (mydump/rows.h); sequence values;
 *   INDEX     one ALTER TABLE ... ADD KEY per table;  POST: foreign keys, triggers;
 *   FINAL     the real views (replacing the stand-ins, so any order of dependencies works),
 *             events.
 * The file never names the source database (no USE, no CREATE DATABASE, names unqualified:
 * the catalog is read with the database selected, so SHOW CREATE leaves the database's own
 * objects unqualified and qualifies only other databases'), so it restores into any database.
 * Memory is bounded by one row and one statement per worker plus compression blocks.
 * Errors: -1 with err set; the output file is then removed (no NAME, no NAME.partial).
 * Cancel: sl_mydump_interrupt() (from SIGINT/SIGTERM) stops every worker at its next row and
 * fails the run with SL_E_CANCELED. */
#ifndef SL_MYDUMP_MYDUMP_H
#define SL_MYDUMP_MYDUMP_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "io/codec.h"
#include "mysql/conn.h"

#define SL_MYDUMP_STATEMENT_DEFAULT (1 << 20)

typedef struct sl_mydump_opts {
    const char *output;          /* file name; NAME.partial while writing */
    sl_codec codec;
    int jobs;                    /* worker connections (>= 1) */
    int64_t chunk_bytes;         /* split tables larger than this into key ranges (0: 64 MiB) */
    int64_t max_statement;       /* bytes per INSERT (0: 1 MiB); capped by max_allowed_packet */
    bool no_lock;                /* no FLUSH TABLES WITH READ LOCK */
    bool progress_tty;
    bool quiet;
    int progress_interval_s;
} sl_mydump_opts;

typedef struct sl_mydump_summary {
    int64_t tables, rows, bytes_in, bytes_out;
    double elapsed_s;
} sl_mydump_summary;

/* For a signal handler (async-signal-safe: sets a flag). False when no backup is running. */
bool sl_mydump_interrupt(void);

SL_MUSTCHECK int sl_mydump_run(const sl_mysql_target *target, const sl_mydump_opts *opts,
                               sl_mydump_summary *summary, sl_error *err);

#endif
