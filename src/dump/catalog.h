/* dump/catalog.h: everything a backup of one database needs to know about its schema.
 * sl_dump_catalog_read() runs inside the backup's REPEATABLE READ snapshot transaction and:
 *   1. resolves the filter (pg/pattern.h) unless the caller already did, then sets
 *      search_path = '' on the connection so that the server's deparsers qualify every name;
 *   2. runs the catalog readers: schemas, extensions, collations and types (type.c), relations
 *      and everything attached to them (relation.c), routines (routine.c), decorations
 *      (decorations.c) and the database's own properties (database.c), through
 *      dump/family.h and dump/decor.h: a fixed number of set-based queries, whatever the
 *      number of objects;
 *   3. checks completeness: every object the catalogs hold in what is being dumped must be
 *      stood for by an item (or be part of one, or belong to an extension); otherwise the read
 *      fails with SL_E_UNSUPPORTED naming the object (pg_describe_object), never skipping it;
 *   4. sorts the items by dependency (dump/sort.h).
 * With f->data_only only the DATA items (sequence values) and the tables are returned; with
 * f->schema_only the table list is empty.
 * Ownership: the catalog owns its items and tables (sl_dump_catalog_free, which accepts NULL).
 * The connection is borrowed. Errors: -1 with *err set, *out untouched; 0 on success. */
#ifndef SL_DUMP_CATALOG_H
#define SL_DUMP_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "dump/item.h"
#include "pg/catalog.h"
#include "pg/conn.h"
#include "pg/pattern.h"

typedef struct sl_dump_catalog {
    sl_dump_items items;        /* every schema item, topologically sorted (phases PRE_DATA,
                                 * DATA (sequence set), INDEX, POST, FINAL) */
    sl_catalog_table *tables;   /* tables whose rows are copied (pg/catalog.h): ordinary and
                                 * unlogged tables and partitions; not views, matviews,
                                 * partitioned parents, foreign tables, nor those excluded by
                                 * --exclude-table-data; extension configuration tables too
                                 * (pg/pattern.h), whose CREATE EXTENSION comes before the rows */
    size_t ntables;
} sl_dump_catalog;

SL_MUSTCHECK int sl_dump_catalog_read(sl_dump_catalog **out, sl_conn *c, sl_pattern_filter *f,
                                      sl_error *err);
void sl_dump_catalog_free(sl_dump_catalog *cat);

#endif
