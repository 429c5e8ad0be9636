/* dump/emit.h: the catalog's items as segments of the backup file (internal).
 * sl__dump_write_phase(): all items of one phase as one sequential segment, each after a
 *   "-- KIND schema.name" comment line (the pre-data, the sequence values, the final phase).
 * sl__dump_write_post_data(): the phases after the data in order; those before the final one
 *   as one parallel segment per group (an object with the items that decorate it), so a
 *   restore spreads index builds and foreign keys over its workers.
 * sl__dump_write_unrestrict(): the last segment, "\unrestrict KEY".
 * sl__dump_write_text(): one committed segment of text; sl__dump_meta_names(): an object's
 *   names as the index holds them (UTF-8).
 * Called by the leader only, never while the workers run. -1 with err set, else 0. */
#ifndef SL_DUMP_EMIT_H
#define SL_DUMP_EMIT_H

#include "base/buf.h"
#include "dump/run.h"

void sl__dump_meta_names(sl_bfile_meta *meta, const char *schema, const char *name, sl_buf *buf);
SL_MUSTCHECK int sl__dump_write_text(dump_ctx *d, const char *text, size_t len,
                                     const sl_bfile_meta *meta, sl_error *err);
SL_MUSTCHECK int sl__dump_write_phase(dump_ctx *d, const sl_dump_items *items, int phase,
                                      const char *kind, sl_error *err);
SL_MUSTCHECK int sl__dump_write_unrestrict(dump_ctx *d, sl_error *err);
SL_MUSTCHECK int sl__dump_write_post_data(dump_ctx *d, const sl_dump_items *items,
                                          sl_error *err);

#endif
