/* pg/catalog.h: what the engines that read a database's catalogs share: the list of tables
 * whose rows are taken (with what COPY needs to take them), the SQL fragment that prints a
 * qualified name, and the catalog OIDs that name an object's kind. dump/ builds its schema
 * items on top (dump/catalog.h); a reader of rows only (tap/) needs no more than this,
 * pg/pattern.h and pg/widerow.h.
 * Calling order: inside the reading transaction, sl_pattern_filter_resolve() (which leaves
 * search_path = '', so that every name the server prints is qualified), then
 * sl_catalog_read_tables().
 * Ownership: the table array and its strings are the caller's (sl_catalog_tables_free, which
 * accepts NULL). Errors: -1 with *err set and *out untouched; 0 on success. */
#ifndef SL_PG_CATALOG_H
#define SL_PG_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "pg/conn.h"
#include "pg/pattern.h"

/* Catalog OIDs used as classids (pg_depend, pg_description, pg_init_privs...): fixed in
 * PostgreSQL's catalogs. The one list of them; SQL text may still spell a number where a
 * query compares with it (1259 is pg_class). */
enum {
    SL_CLASS_DEFAULT_ACL = 826,       /* pg_default_acl */
    SL_CLASS_TYPE = 1247,             /* pg_type */
    SL_CLASS_PROC = 1255,             /* pg_proc */
    SL_CLASS_RELATION = 1259,         /* pg_class */
    SL_CLASS_ATTRDEF = 2604,          /* pg_attrdef */
    SL_CLASS_CONSTRAINT = 2606,       /* pg_constraint */
    SL_CLASS_LARGEOBJECT = 2613,      /* pg_largeobject */
    SL_CLASS_NAMESPACE = 2615,        /* pg_namespace */
    SL_CLASS_REWRITE = 2618,          /* pg_rewrite */
    SL_CLASS_TRIGGER = 2620,          /* pg_trigger */
    SL_CLASS_EXTENSION = 3079,        /* pg_extension */
    SL_CLASS_POLICY = 3256,           /* pg_policy */
    SL_CLASS_STATISTIC_EXT = 3381,    /* pg_statistic_ext */
    SL_CLASS_COLLATION = 3456,        /* pg_collation */
    SL_CLASS_SUBSCRIPTION = 6100,     /* pg_subscription */
    SL_CLASS_PUBLICATION = 6104,      /* pg_publication */
    SL_CLASS_PUBLICATION_REL = 6106,  /* pg_publication_rel */
};

/* SQL (a string literal, for concatenation): the quoted, qualified name "s"."t" of the object
 * named by the expression name in the schema that the pg_namespace alias nsp stands for. The
 * functions are pg_catalog's by name, so it works whatever the search_path. */
#define SL_CATALOG_QNAME(nsp, name) \
    "(pg_catalog.quote_ident(" nsp ".nspname) || '.' || pg_catalog.quote_ident(" name "))"

/* An oid as the server prints one in text: 1 to 10 ASCII digits, no sign, no blank, at most
 * 4294967295. The one parser of oids in catalog rows: a row that does not hold one is the
 * server's (or the query's) fault and is reported, never read as 0. NULL text is false. */
bool sl_catalog_parse_oid(const char *text, uint32_t *out);
#define SL_CATALOG_TYPE_OID 26u  /* pg_type's oid of the type oid (PQftype of an oid column) */

typedef struct sl_catalog_table {
    uint32_t oid;
    char *schema, *name;   /* unquoted */
    char *qualified;       /* schema-qualified, quoted: "s"."t" */
    char *copy_columns;    /* "(a, b, \"C\")": quoted, no generated columns, in attnum order */
    int64_t pages;         /* relpages of the main fork (for splitting into ctid ranges) */
    int64_t bytes;         /* pg_relation_size, for scheduling big tables first */
    bool is_heap;          /* an ordinary heap table that can be scanned by ctid ranges */
    char *where;           /* NULL, or for an extension configuration table the condition its
                            * extension gave pg_extension_config_dump() without the leading
                            * WHERE: only the rows matching it are copied, with
                            * COPY (SELECT cols FROM ONLY t WHERE (where) [AND ctid range]) */
} sl_catalog_table;

/* The tables whose rows are copied (f->data_table_oids: ordinary and unlogged tables and
 * partitions, extension configuration tables too), in one query, ordered by schema and name.
 * *out is malloc'd. An extension configuration table whose condition is not a WHERE clause is
 * refused with SL_E_UNSUPPORTED. */
SL_MUSTCHECK int sl_catalog_read_tables(sl_conn *c, const sl_pattern_filter *f,
                                        sl_catalog_table **out, size_t *n, sl_error *err);
void sl_catalog_tables_free(sl_catalog_table *t, size_t n);

#endif
