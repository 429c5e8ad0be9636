/* dump/preamble.h: the backup's first segment (internal): sluice's signature, \restrict KEY
 * (before any text taken from the database), a comment saying what was backed up, and the
 * session settings every restore connection runs (phase SL_PHASE_PREAMBLE).
 * sl__dump_iso_now(): the current UTC time as 2024-01-31T12:00:00Z. */
#ifndef SL_DUMP_PREAMBLE_H
#define SL_DUMP_PREAMBLE_H

#include <stddef.h>

#include "dump/run.h"

void sl__dump_iso_now(char *buf, size_t cap);
SL_MUSTCHECK int sl__dump_write_preamble(dump_ctx *d, const char *dbname, const char *encoding,
                                         const char *version, sl_error *err);

#endif
