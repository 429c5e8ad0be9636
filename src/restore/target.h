/* restore/target.h: getting the target database ready before anything is restored into it.
 * sl__restore_create(): on the maintenance database "postgres", CREATE DATABASE "db" TEMPLATE
 *   template0 (with the options `with` gives: NULL-terminated name/value pairs such as
 *   "ENCODING", "UTF8", or NULL); when it exists: SL_E_REFUSED, or with drop_existing DROP
 *   DATABASE first.
 * sl__restore_check_empty(): SL_E_REFUSED when the database holds any user object (a schema
 *   other than public, an extension other than plpgsql, anything in public, large objects,
 *   event triggers, publications, foreign data wrappers or servers), naming one of them.
 * sl__restore_clean(): empties the database in one transaction: event triggers, publications,
 *   large objects, extensions but plpgsql, foreign data wrappers and every non-system schema
 *   (CASCADE), then recreates public as PostgreSQL 15 makes it: owned by pg_database_owner,
 *   with its standard comment and USAGE for PUBLIC. Roles and database settings stay.
 * sl__restore_check_tables_empty(): for a data-only backup: SL_E_REFUSED when one of the
 *   backup's tables is missing from the database, or already holds rows.
 * All take a connection the caller owns; -1 with err set, 0 on success. */
#ifndef SL_RESTORE_TARGET_H
#define SL_RESTORE_TARGET_H

#include <stdbool.h>

#include "base/error.h"
#include "io/bfile.h"
#include "pg/conn.h"

SL_MUSTCHECK int sl__restore_create(const sl_conninfo *ci, const sl_conn_opts *conn_opts,
                                    const char *dbname, bool drop_existing,
                                    const char *const *with, sl_error *err);
SL_MUSTCHECK int sl__restore_check_empty(sl_conn *c, const char *dbname, sl_error *err);
SL_MUSTCHECK int sl__restore_clean(sl_conn *c, sl_error *err);
SL_MUSTCHECK int sl__restore_check_tables_empty(sl_conn *c, const sl_bfile_reader *r,
                                                const char *dbname, sl_error *err);

#endif
