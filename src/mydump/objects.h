/* mydump/objects.h: every segment of a MySQL backup that is not table rows (internal).
 * Called by the leader in this order, on the leader's connection (the database selected, in
 * the snapshot): _preamble, _pre_data (fills each table's moved index and foreign-key clauses),
 * [the rows], _sequence_values, _post_data.
 * Objects that keep the session they were created in (routines, triggers, views, events) are
 * written as mysqldump writes them: their sql_mode, character_set_client/results and
 * collation_connection set before, the preamble's settings back after; routines, triggers and
 * events between "DELIMITER ;;" and "DELIMITER ;" lines. Their text is the server's SHOW CREATE
 * output, unchanged: definers stay, as with mysqldump. A routine or trigger body that names
 * the source database itself (written so by its author) keeps naming it.
 * -1 with err set. */
#ifndef SL_MYDUMP_OBJECTS_H
#define SL_MYDUMP_OBJECTS_H

#include "mydump/run.h"

SL_MUSTCHECK int sl__mydump_preamble(mydump_ctx *d, const char *version, const char *started,
                                     sl_error *err);
SL_MUSTCHECK int sl__mydump_pre_data(mydump_ctx *d, sl_mysql *c, sl_error *err);
SL_MUSTCHECK int sl__mydump_sequence_values(mydump_ctx *d, sl_mysql *c, sl_error *err);
SL_MUSTCHECK int sl__mydump_post_data(mydump_ctx *d, sl_mysql *c, sl_error *err);

#endif
