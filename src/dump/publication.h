/* dump/publication.h: logical replication objects of a backup without -n/-t, all in
 * SL_PHASE_FINAL (after the tables they name):
 *   publications   CREATE PUBLICATION [FOR ALL TABLES] WITH (publish = ..., ...) (kind
 *                  "PUBLICATION", identity pg_publication);
 *   members        ALTER PUBLICATION ... ADD TABLES IN SCHEMA s (dumped schemas) and ADD TABLE
 *                  ONLY t [(columns)] [WHERE (...)] (dumped tables), following their
 *                  publication (kinds "PUBLICATION TABLES IN SCHEMA", "PUBLICATION TABLE");
 *   subscriptions  CREATE SUBSCRIPTION ... WITH (connect = false, slot_name = ...) as pg_dump
 *                  writes them, so a restore never connects to the publisher nor creates a slot
 *                  (kind "SUBSCRIPTION"); only read when the session is a superuser, since
 *                  nobody else may read their connection strings.
 * Two queries. */
#ifndef SL_DUMP_PUBLICATION_H
#define SL_DUMP_PUBLICATION_H

#include "base/error.h"
#include "dump/decor.h"

SL_MUSTCHECK int sl__publication_read(const sl__decor_ctx *ctx, sl_dump_items *out,
                                      sl_error *err);

#endif
