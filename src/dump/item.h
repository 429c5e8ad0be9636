/* dump/item.h: one dumpable object as SQL text, and the list the catalog readers fill.
 * Every catalog reader (type.c, relation.c, routine.c and the others through family.c,
 * decorations.c and its families) appends items for the objects it found with
 * sl_dump_items_add(); sort.c then orders them by pg_depend with the kind priority as
 * tie-break; emit.c writes them into the backup file by phase (io/bfile.h SL_PHASE_*).
 * An item is identified in the catalogs by (classid, objid, objsubid) as in pg_depend, so
 * dependencies between items of different readers are found without the readers knowing each
 * other. Ownership: the list owns every string of every item (sl_dump_items_free). */
#ifndef SL_DUMP_ITEM_H
#define SL_DUMP_ITEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A phase or priority macro as the text of an SQL integer literal: the family queries
 * (type.c, relation.c) return an item's phase and priority in two columns and spell them
 * with these names, so the numbers live here and in io/bfile.h only. */
#define SL_SQL_INT(macro) SL__SQL_INT(macro)
#define SL__SQL_INT(number) #number
/* "10, 410": the phase and priority columns of a family query's row, by their names'
 * endings (SL_SQL_PLACE(PRE_DATA, TABLE)). */
#define SL_SQL_PLACE(phase, prio) SL_SQL_INT(SL_PHASE_##phase) ", " SL_SQL_INT(SL_PRIO_##prio)

/* Priorities: the order of kinds inside a phase when no dependency decides (lower first). The
 * one list of them, by reader (macros, for SL_SQL_INT). */
/* schemas, extensions, collations and types (type.c); relations (relation.c) */
#define SL_PRIO_SCHEMA 100
#define SL_PRIO_EXTENSION 110
#define SL_PRIO_SHELL_TYPE 200
#define SL_PRIO_COLLATION 205
#define SL_PRIO_TYPE 210
#define SL_PRIO_DOMAIN_CONSTRAINT 215
#define SL_PRIO_SEQUENCE 400
#define SL_PRIO_TABLE 410
#define SL_PRIO_DEFAULT 420
#define SL_PRIO_CHECK 425
#define SL_PRIO_VIEW 430
#define SL_PRIO_MATVIEW 440
#define SL_PRIO_SEQUENCE_SET 500
#define SL_PRIO_INDEX 600
#define SL_PRIO_CONSTRAINT 610
#define SL_PRIO_FK 700
#define SL_PRIO_CHECK_NOT_VALID 705 /* validated after the data, with the foreign keys */
#define SL_PRIO_TRIGGER 710
#define SL_PRIO_RULE 720
#define SL_PRIO_STATISTICS 730
#define SL_PRIO_INDEX_ATTACH 740
#define SL_PRIO_TABLE_ATTACH 745   /* a partition whose parent is left out, after its indexes */
#define SL_PRIO_CLUSTER 750         /* CLUSTER ON and REPLICA IDENTITY USING INDEX */
#define SL_PRIO_MATVIEW_REFRESH 800
/* routines and what is defined with them (routine.c, operator.c, textsearch.c, fdw.c) */
#define SL_PRIO_LANGUAGE 300
#define SL_PRIO_FUNCTION 310
#define SL_PRIO_ACCESS_METHOD 315
#define SL_PRIO_AGGREGATE 320
#define SL_PRIO_OPERATOR 320
#define SL_PRIO_OPFAMILY 330
#define SL_PRIO_OPCLASS 331
#define SL_PRIO_OPFAMILY_MEMBER 332
#define SL_PRIO_CAST 340
#define SL_PRIO_TRANSFORM 340
#define SL_PRIO_CONVERSION 340
#define SL_PRIO_TS_PARSER 350
#define SL_PRIO_TS_TEMPLATE 351
#define SL_PRIO_TS_DICT 352
#define SL_PRIO_TS_CONFIG 353
#define SL_PRIO_FDW 360
#define SL_PRIO_FOREIGN_SERVER 361
#define SL_PRIO_USER_MAPPING 362
#define SL_PRIO_EVENT_TRIGGER 300 /* phase SL_PHASE_FINAL */
/* decorations (decor.c, acl.c, blob.c, policy.c, publication.c). Owners, comments and
 * labels come after every object kind of their phase (a serial sequence must be created
 * and linked to its table before the table's owner changes). The kinds that live in
 * SL_PHASE_FINAL come before the other FINAL kinds: event triggers (which must not fire
 * for the restore's own statements) and materialized view refreshes (which need the
 * privileges of the tables they read, as in pg_restore's ACL pass). */
#define SL_DECOR_PRIO_PUBLICATION 250
#define SL_DECOR_PRIO_PUBLICATION_MEMBER 255
#define SL_DECOR_PRIO_SUBSCRIPTION 260
#define SL_DECOR_PRIO_ACL 270
#define SL_DECOR_PRIO_DEFAULT_ACL 280    /* after every object the restore creates itself */
#define SL_DECOR_PRIO_BLOB 1000          /* lo_create(): before its owner and comment */
#define SL_DECOR_PRIO_ROW_SECURITY 1010  /* ENABLE/FORCE ROW LEVEL SECURITY */
#define SL_DECOR_PRIO_POLICY 1020
#define SL_DECOR_PRIO_OWNER 1100
#define SL_DECOR_PRIO_COMMENT 1110
#define SL_DECOR_PRIO_SECLABEL 1120
#define SL_DECOR_PRIO_DATABASE 1200  /* the database's own properties (database.c), last */

typedef struct sl_dump_item {
    int phase;          /* SL_PHASE_PRE_DATA, _INDEX, _POST, _FINAL (io/bfile.h) */
    int priority;       /* SL_PRIO_*, SL_DECOR_PRIO_*: order of kinds inside a phase */
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
    /* The tables whose rows the object needs in place, for a restore's schedule (io/bfile.h
     * "tables"): [0], [1] the schema and name of the table an index, constraint, trigger,
     * rule, policy or statistics object is on; [2], [3] a foreign key's referenced table.
     * NULL when none. */
    char *tables[4];
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
