/* dump/sort.h: orders the items of all catalog readers so that a restore runs without errors.
 * Input: the items (dump/item.h) and the dependencies among catalog objects, as pg_depend rows
 * (plus rows the readers add for parts they emit inline, e.g. a CHECK constraint written inside
 * CREATE TABLE, recorded with deptype 'i' on the table).
 * How objects map to items: an item is found by its (classid, objid). An object that is not an
 * item itself is attributed to the object it is an internal part of (deptype 'i', followed
 * transitively: a view's _RETURN rule to the view, an array type to its element type, a table's
 * row type to the table, a constraint's index to the constraint). Members of extensions
 * (deptype 'e') are never items. A partition clone's 'P' row (on the parent's trigger, FK or
 * index) counts only when the clone is an item itself: a clone written as part of another item
 * (its partition) is made by the parent's object, which that item therefore does not wait for.
 * Item roles:
 *   primary    ref_classid == 0: the object's definition; edges to the object land here.
 *   secondary  ref_classid != 0 (comment, ACL, matview refresh, index attach, sequence set):
 *              follows its ref object; a secondary of kind K of object A also follows the
 *              secondaries of kind K of every object A depends on (matviews refresh in
 *              dependency order).
 *   shell      kind "SHELL TYPE": the early declaration of a base type; dependencies on the
 *              type of the functions the type itself names (I/O, send/receive, typmod,
 *              analyze, a range's canonical) land on the shell, all others (an SQL function
 *              taking or returning the type) on the full type, which follows its shell.
 * Phases: an item never precedes what it depends on, so when an item depends on one of a later
 * phase (a view using GROUP BY on a primary key), that one is moved to the earlier phase; a
 * secondary moves to the phase of what it follows when that is later. The phases between
 * SL_PHASE_DATA and SL_PHASE_FINAL are restored in parallel, one segment per object with the
 * items naming it as their ref (emit.c): an item that needs another item of the same such phase
 * in another segment moves to the next phase (a foreign key to a partitioned table waits there
 * for the attachments of the partitions' indexes, which finish the parent's index). A 'P' row
 * and the order among secondaries of one kind never move an item.
 * Order: topological, ties broken by (phase, priority, schema, name, kind, reader order), so the
 * same database always gives the same file. A cycle fails with SL_E_UNSUPPORTED naming its
 * objects (readers emit the parts that can close a cycle, such as column defaults, separately,
 * so real databases do not have them).
 * Memory: O(items + dependencies); time O((items + edges) log items). */
#ifndef SL_DUMP_SORT_H
#define SL_DUMP_SORT_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "dump/item.h"
#include "pg/catalog.h"

typedef struct sl_dump_dep {
    uint32_t classid, objid;          /* the dependent object */
    uint32_t ref_classid, ref_objid;  /* the object it depends on */
    char deptype;                     /* pg_depend.deptype: 'n', 'a', 'i', 'e', 'P', 'S', 'x' */
} sl_dump_dep;

typedef struct sl_dump_deps {
    sl_dump_dep *v;
    size_t n;
    size_t cap;
} sl_dump_deps;

#define SL_DUMP_DEPS_INIT {NULL, 0, 0}

void sl_dump_deps_add(sl_dump_deps *d, uint32_t classid, uint32_t objid, uint32_t ref_classid,
                      uint32_t ref_objid, char deptype);
void sl_dump_deps_free(sl_dump_deps *d);

/* Sorts items in place (and may change their phase as described above). */
SL_MUSTCHECK int sl_dump_sort(sl_dump_items *items, const sl_dump_deps *deps, sl_error *err);

/* Completeness: objs holds n (classid, objid) pairs, every object the catalogs have in what is
 * being dumped. Returns the index of the first one that no item stands for (directly, or as an
 * internal part of an item) and that is not a member of an extension; -1 when all are handled.
 * A secondary item stands for its own (classid, objid) only when that differs from its ref. */
long sl_dump_find_unhandled(const sl_dump_items *items, const sl_dump_deps *deps,
                            const uint32_t *objs, size_t n);

#endif
