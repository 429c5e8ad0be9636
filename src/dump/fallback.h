/* dump/fallback.h: a database that sluice cannot back up natively, backed up with pg_dump
 * instead (backup cluster --fallback-tools). pg_dump is looked for on PATH, then in
 * /usr/lib/postgresql/MAJOR/bin for the server's major version. It writes a plain script
 * compressed with gzip (-Fp -Z 1), which sluice restore and gunzip | psql both read. It
 * connects as the given connection did: the settings in argv without the password, which goes
 * through a passfile of its own (mode 0600, removed afterwards), never argv or the
 * environment.
 * Errors: SL_E_UNSUPPORTED when pg_dump is not installed; SL_E_SERVER naming its exit code
 * (its own messages go to stderr); SL_E_IO for the system. */
#ifndef SL_DUMP_FALLBACK_H
#define SL_DUMP_FALLBACK_H

#include "base/error.h"
#include "pg/conn.h"

SL_MUSTCHECK int sl_fallback_pg_dump(sl_conn *c, const char *dbname, const char *path,
                                     sl_error *err);

#endif
