/* dump/run.c: see run.h. */
#include "dump/run.h"

void
sl__dump_fail(dump_ctx *d, const sl_error *err)
{
    (void)sl_workers_fail(d->workers, err);
}

void
sl__dump_watch(dump_ctx *d, sl_conn *c)
{
    (void)sl_workers_watch(d->workers, sl_conn_pg(c));
}

/* Run on every connection of a backup before it reads anything: the settings that a database's
 * or a role's own defaults (ALTER DATABASE/ROLE ... SET) must not decide. An empty search_path
 * makes every unqualified operator and function pg_catalog's, not a look-alike some schema of
 * the database defines; the others fix how values are printed into the script (COPY rows and
 * the deparsed constants of defaults and views), as pg_dump sets them, so that the restore
 * reads them back the same whatever its own settings; large bytea values are read in slices
 * that must come as hex (pg/widerow.c). row_security = off makes a table whose policies
 * would hide rows from the backup's role an error, as with pg_dump, not a silent loss. */
static const char session_sql[] =
    "SET search_path = ''; SET DateStyle = 'ISO'; SET IntervalStyle = 'postgres'; "
    "SET extra_float_digits = 3; SET standard_conforming_strings = on; "
    "SET quote_all_identifiers = off; SET bytea_output = 'hex'; SET row_security = off";

int
sl__dump_prepare_session(sl_conn *c, sl_error *err)
{
    if (sl_conn_exec(c, session_sql, err) != 0) {
        sl_error_prefix(err, "could not set the backup's session settings");
        return -1;
    }
    return 0;
}
