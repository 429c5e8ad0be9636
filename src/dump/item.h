/* dump/item.h: one dumpable object as SQL text, and the list the catalog readers fill.
 * Every catalog reader (relation.c, routine.c, decor.c, ...) appends items for the objects it
 * found with sl_dump_items_add(); sort.c then orders them by pg_depend with the kind priority as
 * tie-break; emit.c writes them into the backup file by phase (io/bfile.h SL_PHASE_*).
 * An item is identified in the catalogs by (classid, objid, objsubid) as in pg_depend, so
 * dependencies between items of different readers are found without the readers knowing each
 * other. Ownership: the list owns every string of every item (sl_dump_items_free). */
#ifndef SL_DUMP_ITEM_H
#define SL_DUMP_ITEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sl_dump_item {
    int phase;          /* SL_PHASE_PRE_DATA, _INDEX, _POST, _FINAL (io/bfile.h) */
    int priority;       /* order of kinds inside a phase when no dependency decides (lower first) */
    const char *kind;   /* static string: "SCHEMA", "TABLE", "FUNCTION", "INDEX", "ACL", ... */
    char *schema;       /* NULL for objects outside schemas */
    char *name;         /* object name as the user sees it (unquoted), for messages and the index */
    char *sql;          /* complete statements, each ending in ";\n" */
    uint32_t classid;   /* pg_class oid of the catalog holding the object (e.g. 1259 pg_class) */
    uint32_t objid;     /* the object's oid in that catalog */
    int32_t objsubid;   /* column number for column-level items, else 0 */
    /* Items that decorate another object (comment, owner, ACL) name it here so they sort after
     * it; 0 when the item stands alone. */
    uint32_t ref_classid;
    uint32_t ref_objid;
} sl_dump_item;

typedef struct sl_dump_items {
    sl_dump_item *v;
    size_t n;
    size_t cap;
} sl_dump_items;

#define SL_DUMP_ITEMS_INIT {NULL, 0, 0}

/* Appends a copy of it (all strings are duplicated). */
sl_dump_item *sl_dump_items_add(sl_dump_items *list, const sl_dump_item *it);
void sl_dump_items_free(sl_dump_items *list);

#endif
