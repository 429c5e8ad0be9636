/* tap/catalog.h: the streams a Singer catalog (--catalog or --properties) selects, and what its
 * metadata asks of each, read as pipelinewise-tap-postgres reads them:
 *   - a stream is selected when its stream metadata (breadcrumb []) has "selected": true;
 *   - its replication method is the metadata's "replication-method", else the config's
 *     default_replication_method; INCREMENTAL needs a "replication-key";
 *   - it names its table by "table_name" and its metadata's "schema-name"; its id is
 *     "tap_stream_id";
 *   - its columns are the names under "schema"."properties", each with the "selected" and
 *     "inclusion" of its metadata (breadcrumb ["properties", name]); which of them are synced
 *     is decided against the table's live facts (sl_tap_catalog_column_wanted). A schema
 *     without properties stands for every column of the table (pipelinewise then takes the
 *     discovered schema): all_columns is set and cols lists the columns the metadata names;
 *   - a view's key properties are its "view-key-properties" (a table's come from the server).
 * Streams come out sorted by tap_stream_id, as pipelinewise syncs them.
 * Errors: SL_E_USAGE naming the file, and the stream when one is at fault: JSON that does not
 * parse (with line and column), a document without a "streams" array, a selected stream without
 * its id, table name, schema name or replication method, an unknown method, INCREMENTAL without
 * a replication key. Streams not selected are not checked beyond being objects.
 * Ownership: sl_tap_catalog_load() hands over a catalog freed with _free(); its strings are
 * its own. */
#ifndef SL_TAP_CATALOG_H
#define SL_TAP_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "tap/config.h"

typedef enum {
    SL_TAP_SELECTED_UNSET,  /* no "selected" in the column's metadata */
    SL_TAP_SELECTED_FALSE,
    SL_TAP_SELECTED_TRUE,
} sl_tap_selected;

typedef struct sl_tap_catalog_column {
    char *name;
    sl_tap_selected selected;
    char *inclusion;             /* the catalog's; NULL when absent */
} sl_tap_catalog_column;

typedef struct sl_tap_stream {
    char *tap_stream_id;
    char *table_name;
    char *schema_name;
    sl_tap_method method;        /* never UNSET */
    char *replication_key;       /* NULL unless given */
    char **view_key_properties;  /* n_view_key_properties of them */
    size_t n_view_key_properties;
    sl_tap_catalog_column *cols; /* in the schema's order */
    size_t ncols;
    bool all_columns;            /* the schema had no properties: every live column */
} sl_tap_stream;

typedef struct sl_tap_catalog {
    sl_tap_stream *streams;      /* the selected ones, by tap_stream_id */
    size_t nstreams;
} sl_tap_catalog;

SL_MUSTCHECK int sl_tap_catalog_load(sl_tap_catalog **out, const char *path,
                                     sl_tap_method default_method, sl_error *err);
/* The same from text in memory; name is what messages call it. */
SL_MUSTCHECK int sl_tap_catalog_parse(sl_tap_catalog **out, const char *text, const char *name,
                                      sl_tap_method default_method, sl_error *err);
void sl_tap_catalog_free(sl_tap_catalog *c);
/* The stream's column of that name, or NULL. */
const sl_tap_catalog_column *sl_tap_catalog_column_find(const sl_tap_stream *s,
                                                        const char *name);
/* Whether a column is synced, by singer's should_sync_field with pipelinewise's default: the
 * live inclusion (what discovery says now: "automatic", "available" or "unsupported") wins
 * over the catalog's, then "selected" decides, and a column without one is synced. */
bool sl_tap_catalog_column_wanted(const sl_tap_catalog_column *c, const char *live_inclusion);

#endif
