/* dump/database.h: the properties of the dumped database itself: its owner, privileges
 * (GRANT/REVOKE relative to the default of its owner), settings (ALTER DATABASE ... SET and
 * ALTER ROLE ... IN DATABASE ... SET), comment and security labels.
 * They belong to whatever database the backup is restored into, under any name, and only when
 * the restore made that database: one item (kind "DATABASE PROPERTIES", SL_PHASE_FINAL, last
 * of all) holding a DO block that names the database with current_database() at restore time
 * and does nothing unless the session has SL_CONN_DATABASE_PROPERTIES set to "on", as `sluice
 * restore --create` sets it (pg/conn.h database_properties). A plain psql run of the script
 * leaves the properties of the database it runs in alone, as pg_dump without --create does.
 * Every name and value is quoted by the server: in the DO block they are string literals
 * (quote_literal) that format() quotes again at restore time (%I, %L).
 * Read only for a backup of the whole database (no -n/-t), and not with data_only; no_owner,
 * no_privileges and no_comments leave out their part. One query.
 * Errors: -1 with err set (SL_E_SERVER), 0 on success (no item when there is nothing to set). */
#ifndef SL_DUMP_DATABASE_H
#define SL_DUMP_DATABASE_H

#include "base/error.h"
#include "dump/item.h"
#include "pg/conn.h"
#include "pg/pattern.h"

SL_MUSTCHECK int sl_dump_read_database(sl_conn *c, const sl_pattern_filter *f,
                                       sl_dump_items *out, sl_error *err);

/* The DO block around the PL/pgSQL statements `body` (each ending in ";\n"), as a malloc'd
 * string: dollar-quoted with a tag that body does not contain. */
char *sl__database_do_block(const char *body);

#endif
