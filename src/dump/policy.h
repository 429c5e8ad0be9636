/* dump/policy.h: row-level security of the dumped tables: ALTER TABLE ... ENABLE / FORCE ROW
 * LEVEL SECURITY (kind "ROW SECURITY", following the table) and CREATE POLICY (kind "POLICY",
 * identity pg_policy), both in SL_PHASE_POST. Expressions come from pg_get_expr() against the
 * table, so they are qualified as the backup's search_path requires. One query. */
#ifndef SL_DUMP_POLICY_H
#define SL_DUMP_POLICY_H

#include "base/error.h"
#include "dump/decor.h"

SL_MUSTCHECK int sl__policy_read(const sl__decor_ctx *ctx, sl_dump_items *out, sl_error *err);

#endif
