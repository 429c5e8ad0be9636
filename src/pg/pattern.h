/* pg/pattern.h: which objects a catalog reader takes, as pg_dump's -n/-N/-t/-T and
 * --exclude-table-data say (shared by the engines that read catalogs: dump/, later tap/).
 * Patterns follow psql's rules: * and ? wildcards, "quoted" parts match literally and keep
 * case, unquoted parts are folded to lower case, and "schema.table" qualifies a table pattern.
 * sl_pattern_filter_resolve() turns the patterns into OID sets once, inside the backup's
 * snapshot;
 * catalog readers then pass them to their queries as text arrays ('{1,2,3}') and filter with
 * "= ANY($1::oid[])", so no reader re-implements pattern matching. A pattern that matches
 * nothing is an error (SL_E_USAGE), as with pg_dump --strict-names.
 * Extension members are never in table_oids: CREATE EXTENSION makes them. The tables and
 * sequences an extension marked with pg_extension_config_dump() hold user data, though: like
 * pg_dump, the backup carries their rows (data_table_oids) and values (config_sequence_oids)
 * when the extension is dumped, when -t names the table or when -n names its schema, unless
 * -T, -N or --exclude-table-data leave it out. */
#ifndef SL_PG_PATTERN_H
#define SL_PG_PATTERN_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "pg/conn.h"

typedef struct sl_pattern_filter {
    /* Given by the user (arrays of patterns, NULL-terminated or NULL). */
    const char **include_schemas;    /* -n */
    const char **exclude_schemas;    /* -N */
    const char **include_tables;     /* -t: only these relations (and their indexes,
                                      * constraints, triggers, ...) are dumped */
    const char **exclude_tables;     /* -T */
    const char **exclude_table_data; /* --exclude-table-data */
    bool schema_only;
    bool data_only;
    bool no_owner;
    bool no_privileges;
    bool no_comments;

    /* Filled by sl_pattern_filter_resolve(): oid[] literals such as "{2200,16384}". */
    char *schema_oids;      /* schemas whose objects are dumped */
    char *table_oids;       /* relations (tables, views, sequences, ...) that are dumped */
    char *data_table_oids;  /* tables whose rows are dumped, extension configuration tables
                             * included (see below) */
    char *config_sequence_oids; /* extension configuration sequences whose values are dumped */
    bool tables_only;       /* -t given: no schema-level objects other than the relations */
} sl_pattern_filter;

/* Leaves the connection's search_path at '' (the catalog readers count on it). */
SL_MUSTCHECK int sl_pattern_filter_resolve(sl_pattern_filter *f, sl_conn *c, sl_error *err);
void sl_pattern_filter_clear(sl_pattern_filter *f);  /* frees the resolved arrays */

/* The pattern syntax alone (the resolver's building blocks, for a reader that matches names
 * itself, and for the tests). One psql pattern as anchored POSIX regular
 * expressions: *schema_re for the part before the dot (NULL when there is none; with
 * allow_schema false a dot is a usage error) and *name_re, both "^(...)$", malloc'd. Outside
 * double quotes * is .*, ? is ., ASCII letters are folded to lower case; inside them (and "" for
 * a quote) every character matches itself. Every regex metacharacter that is to match itself
 * is escaped. -1 with SL_E_USAGE for a malformed pattern. */
SL_MUSTCHECK int sl_pattern_regex(const char *pattern, bool allow_schema, char **schema_re,
                                  char **name_re, sl_error *err);
/* The regexes of a NULL-terminated pattern list as two text[] literals ("{...}", elements
 * double-quoted with " and \ escaped; NULL for a missing schema part), sent as parameters. */
SL_MUSTCHECK int sl_pattern_arrays(const char **pats, bool allow_schema, char **schema_arr,
                                   char **name_arr, sl_error *err);

#endif
