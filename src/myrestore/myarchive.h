/* myrestore/myarchive.h: restore a MySQL cluster archive (mydump/mycluster.h) into a MySQL or
 * MariaDB server: `sluice restore FILE.tar --engine mysql`.
 * Order:     the archive and its manifest are checked (engine mysql), then the target is
 *            checked before anything changes: a schema of the archive that exists there is
 *            refused (SL_E_REFUSED) unless clean; then globals.sql (roles, users, grants:
 *            accounts the target has already are kept as they are and get the backup's grants
 *            added, see mydump/accounts.h), then every schema backed up, in the manifest's
 *            order, each created with its character set and collation and restored as
 *            `sluice restore --engine mysql --create` does (myrestore/restore.h), with jobs
 *            connections.
 * Members are copied one at a time to an unlinked spool file beside the archive (never
 * extracted under a name), which the single restore reads.
 * Errors: -1 with err set; the first failure stops the run (schemas restored before it stay).
 * Cancel: sl_myarchive_interrupt() (async-signal-safe). */
#ifndef SL_MYRESTORE_MYARCHIVE_H
#define SL_MYRESTORE_MYARCHIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "mysql/conn.h"

typedef struct sl_myarchive_opts {
    const char *archive;
    bool clean;         /* drop a schema the target has already, then restore it */
    int jobs;           /* connections for each schema's parallel segments (>= 1) */
    bool quiet;
} sl_myarchive_opts;

typedef struct sl_myarchive_summary {
    int databases;
    int64_t statements, rows;
    double elapsed_s;
} sl_myarchive_summary;

bool sl_myarchive_interrupt(void);

SL_MUSTCHECK int sl_myarchive_restore(const sl_mysql_target *target,
                                      const sl_myarchive_opts *opts,
                                      sl_myarchive_summary *summary, sl_error *err);

#endif
