/* dump/decorations.h: the decorations of the objects a backup holds: owners, comments, security
 * labels, privileges (GRANT/REVOKE and default privileges), row-level security and policies,
 * large objects' metadata, publications and subscriptions.
 *
 * Calling order: the catalog core runs every object reader first, then hands their items to
 * sl_dump_read_decorations(), which appends the decoration items to `out`. Objects are named
 * generically with pg_identify_object(), so one query per family covers every object kind; the
 * objects' (classid, objid) pairs travel to the server as two oid arrays. The number of queries
 * is fixed (at most 7) whatever the number of objects.
 *
 * What is decorated: exactly the items of `objects` whose objsubid is 0 (columns, constraints,
 * indexes, triggers, rules and policies of those objects are reached through them), plus, when
 * no -n/-t filter is given, large objects, publications, subscriptions and default privileges
 * that are not tied to a schema. The database's own properties are dump/database.h's.
 *
 * Items (item.h): decorations carry classid/objid 0 and ref_classid/ref_objid of the object they
 * decorate, so the sorter puts them after it. Owners go to the object's phase (at least
 * SL_PHASE_PRE_DATA); comments and security labels to the object's phase (SL_PHASE_FINAL for
 * parts that have no item of their own, such as a CHECK constraint written inside CREATE
 * TABLE; but the index of a primary key, unique or exclusion constraint goes with that
 * constraint's item, which makes it); privileges to SL_PHASE_FINAL; row security and
 * policies to SL_PHASE_POST; large objects (kind "BLOB") to SL_PHASE_PRE_DATA; publications
 * and subscriptions to SL_PHASE_FINAL.
 * Policies, large objects, publications (and their members), subscriptions and default
 * privileges are objects of their own: their items carry their catalog identity.
 *
 * Filter: data_only emits nothing; no_owner, no_privileges and no_comments drop their family
 * (grants made by a role other than the owner keep their SET SESSION AUTHORIZATION even with
 * no_owner, as pg_dump does: that role holds the grant option whoever owns the object).
 *
 * Ownership: `objects` is only read; `out` receives copies (sl_dump_items_add). On failure some
 * items may already have been appended to `out`; the caller frees the list either way.
 * Errors: -1 with err set (SL_E_SERVER naming the family being read), 0 on success. */
#ifndef SL_DUMP_DECORATIONS_H
#define SL_DUMP_DECORATIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "dump/item.h"
#include "pg/conn.h"
#include "pg/pattern.h"

SL_MUSTCHECK int sl_dump_read_decorations(sl_conn *c, const sl_pattern_filter *f,
                                          const sl_dump_items *objects, sl_dump_items *out,
                                          sl_error *err);

#endif
