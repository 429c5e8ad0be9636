/* dump/preamble.c: see preamble.h. */
#include "dump/preamble.h"

#include <time.h>

#include "base/buf.h"
#include "dump/emit.h"

void
sl__dump_iso_now(char *buf, size_t cap)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The preamble: sluice's signature, \restrict (before any text taken from the database), a
 * comment saying what was backed up and the session settings every restore connection runs.
 * The database's name and the server's version go through the comment sanitizer. */
int
sl__dump_write_preamble(dump_ctx *d, const char *dbname, const char *encoding, const char *version,
                        sl_error *err)
{
    char started[32];
    sl__dump_iso_now(started, sizeof started);
    sl_buf b = SL_BUF_INIT;
    sl_buf_puts(&b, SL_BFILE_SIGNATURE);
    sl_buf_printf(&b, "\\restrict %s\n--\n-- database: ", d->restrict_key);
    sl_script_put_comment_text(&b, dbname);
    sl_buf_puts(&b, "\n-- server version: ");
    sl_script_put_comment_text(&b, version);
    sl_buf_printf(&b,
                  "\n-- started: %s\n--\n"
                  "-- Restore with: sluice restore FILE --database DB (parallel with -j N),\n"
                  "-- or with psql: gunzip -c FILE | psql -d DB (zstd -dc for .zst).\n--\n\n",
                  started);
    sl_buf_printf(&b,
                  "SET statement_timeout = 0;\n"
                  "SET lock_timeout = 0;\n"
                  "SET idle_in_transaction_session_timeout = 0;\n"
                  "SET client_encoding = '%s';\n"
                  "SET standard_conforming_strings = on;\n"
                  "SELECT pg_catalog.set_config('search_path', '', false);\n"
                  "SET check_function_bodies = false;\n"
                  "SET xmloption = content;\n"
                  "SET client_min_messages = warning;\n"
                  "SET row_security = off;\n\n",
                  encoding);
    sl_bfile_meta meta = {.phase = SL_PHASE_PREAMBLE, .kind = "PREAMBLE", .rows = -1};
    int rc = sl__dump_write_text(d, b.data, b.len, &meta, err);
    sl_buf_free(&b);
    return rc;
}
