/* tap/catalog.c: see catalog.h. The document is read whole by jansson (a catalog is a few MB
 * at most) and only what sync needs is copied out of it. */
#include "tap/catalog.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "tap/jsondoc.h"

#define CATALOG_MAX_BYTES ((size_t)256 << 20)

static void
stream_free(sl_tap_stream *s)
{
    free(s->tap_stream_id);
    free(s->table_name);
    free(s->schema_name);
    free(s->replication_key);
    for (size_t i = 0; i < s->n_view_key_properties; i++)
        free(s->view_key_properties[i]);
    free(s->view_key_properties);
    for (size_t i = 0; i < s->ncols; i++) {
        free(s->cols[i].name);
        free(s->cols[i].inclusion);
    }
    free(s->cols);
}

void
sl_tap_catalog_free(sl_tap_catalog *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nstreams; i++)
        stream_free(&c->streams[i]);
    free(c->streams);
    free(c);
}

static char *
string_or_null(json_t *v)
{
    return json_is_string(v) ? sl_strndup(json_string_value(v), json_string_length(v)) : NULL;
}

/* The metadata entry whose breadcrumb is [] (column NULL) or ["properties", column]. */
static json_t *
metadata_for(json_t *stream, const char *column)
{
    json_t *list = json_object_get(stream, "metadata"), *entry;
    size_t i;
    json_array_foreach(list, i, entry) {
        json_t *crumb = json_object_get(entry, "breadcrumb");
        if (!json_is_array(crumb))
            continue;
        bool match = column ? json_array_size(crumb) == 2 &&
                                  json_is_string(json_array_get(crumb, 0)) &&
                                  strcmp(json_string_value(json_array_get(crumb, 0)),
                                         "properties") == 0 &&
                                  json_is_string(json_array_get(crumb, 1)) &&
                                  strcmp(json_string_value(json_array_get(crumb, 1)), column) == 0
                            : json_array_size(crumb) == 0;
        if (match) {
            json_t *md = json_object_get(entry, "metadata");
            return json_is_object(md) ? md : NULL;
        }
    }
    return NULL;
}

static int
read_method(sl_tap_stream *s, json_t *md, sl_tap_method dflt, const char *name, sl_error *err)
{
    json_t *m = json_object_get(md, "replication-method");
    if (!m || json_is_null(m)) {
        if (dflt == SL_TAP_METHOD_UNSET) {
            sl_error_set(err, SL_E_USAGE, "catalog \"%s\": stream \"%s\" has no "
                         "replication-method in its metadata and the config has no "
                         "default_replication_method", name, s->tap_stream_id);
            return -1;
        }
        s->method = dflt;
        return 0;
    }
    static const sl_tap_method methods[] = {SL_TAP_METHOD_FULL_TABLE, SL_TAP_METHOD_INCREMENTAL,
                                            SL_TAP_METHOD_LOG_BASED};
    const char *text = json_is_string(m) ? json_string_value(m) : "";
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        if (strcmp(text, sl_tap_method_name(methods[i])) == 0) {
            s->method = methods[i];
            return 0;
        }
    }
    sl_error_set(err, SL_E_USAGE, "catalog \"%s\": stream \"%s\": replication-method must be "
                 "FULL_TABLE, INCREMENTAL or LOG_BASED", name, s->tap_stream_id);
    return -1;
}

static void
add_column(sl_tap_stream *s, json_t *stream, const char *name)
{
    sl_tap_catalog_column *c = &s->cols[s->ncols++];
    json_t *md = metadata_for(stream, name);
    json_t *sel = json_object_get(md, "selected");
    c->name = sl_strdup(name);
    c->selected = json_is_boolean(sel) ? (json_is_true(sel) ? SL_TAP_SELECTED_TRUE
                                                            : SL_TAP_SELECTED_FALSE)
                                       : SL_TAP_SELECTED_UNSET;
    c->inclusion = string_or_null(json_object_get(md, "inclusion"));
}

static void
read_columns(sl_tap_stream *s, json_t *stream)
{
    json_t *props = json_object_get(json_object_get(stream, "schema"), "properties");
    json_t *list = json_object_get(stream, "metadata"), *v;
    const char *key;
    size_t i;
    s->all_columns = json_object_size(props) == 0;
    s->cols = sl_calloc(json_object_size(props) + json_array_size(list) + 1, sizeof *s->cols);
    if (!s->all_columns) {
        json_object_foreach(props, key, v)
            add_column(s, stream, key);
        return;
    }
    json_array_foreach(list, i, v) {
        json_t *crumb = json_object_get(v, "breadcrumb");
        if (json_array_size(crumb) == 2 && json_is_string(json_array_get(crumb, 1)) &&
            !sl_tap_catalog_column_find(s, json_string_value(json_array_get(crumb, 1))))
            add_column(s, stream, json_string_value(json_array_get(crumb, 1)));
    }
}

static void
read_view_keys(sl_tap_stream *s, json_t *md)
{
    json_t *keys = json_object_get(md, "view-key-properties"), *k;
    size_t i;
    if (!json_is_array(keys))
        return;
    s->view_key_properties = sl_calloc(json_array_size(keys) + 1, sizeof(char *));
    json_array_foreach(keys, i, k) {
        if (json_is_string(k))
            s->view_key_properties[s->n_view_key_properties++] = string_or_null(k);
    }
}

/* What names the stream in messages before its id is known to be a string. */
static const char *
stream_label(json_t *stream, size_t index, char *buf, size_t cap)
{
    json_t *id = json_object_get(stream, "tap_stream_id");
    if (json_is_string(id))
        return json_string_value(id);
    snprintf(buf, cap, "#%zu", index + 1);
    return buf;
}

static int
read_stream(sl_tap_stream *s, json_t *stream, size_t index, sl_tap_method dflt,
            const char *name, sl_error *err)
{
    char label[32];
    json_t *md = metadata_for(stream, NULL);
    const char *what = NULL;
    s->tap_stream_id = string_or_null(json_object_get(stream, "tap_stream_id"));
    s->table_name = string_or_null(json_object_get(stream, "table_name"));
    if (!s->table_name)  /* older catalogs name the table by "stream" alone */
        s->table_name = string_or_null(json_object_get(stream, "stream"));
    s->schema_name = string_or_null(json_object_get(md, "schema-name"));
    if (!s->tap_stream_id)
        what = "a tap_stream_id";
    else if (!s->table_name)
        what = "a table_name";
    else if (!s->schema_name)
        what = "a schema-name in its metadata";
    if (what) {
        sl_error_set(err, SL_E_USAGE, "catalog \"%s\": selected stream \"%s\" has no %s", name,
                     stream_label(stream, index, label, sizeof label), what);
        return -1;
    }
    if (read_method(s, md, dflt, name, err) != 0)
        return -1;
    s->replication_key = string_or_null(json_object_get(md, "replication-key"));
    if (s->method == SL_TAP_METHOD_INCREMENTAL && !s->replication_key) {
        sl_error_set(err, SL_E_USAGE, "catalog \"%s\": stream \"%s\" is INCREMENTAL but has no "
                     "replication-key in its metadata", name, s->tap_stream_id);
        return -1;
    }
    read_view_keys(s, md);
    read_columns(s, stream);
    return 0;
}

static int
by_id(const void *a, const void *b)
{
    return strcmp(((const sl_tap_stream *)a)->tap_stream_id,
                  ((const sl_tap_stream *)b)->tap_stream_id);
}

static int
read_streams(sl_tap_catalog *c, json_t *doc, const char *name, sl_tap_method dflt,
             sl_error *err)
{
    json_t *streams = json_object_get(doc, "streams"), *stream;
    size_t i;
    if (!json_is_object(doc) || !json_is_array(streams)) {
        sl_error_set(err, SL_E_USAGE, "catalog \"%s\": expected an object with a \"streams\" "
                     "array", name);
        return -1;
    }
    c->streams = sl_calloc(json_array_size(streams) + 1, sizeof *c->streams);
    json_array_foreach(streams, i, stream) {
        if (!json_is_object(stream)) {
            sl_error_set(err, SL_E_USAGE, "catalog \"%s\": stream #%zu is not an object", name,
                         i + 1);
            return -1;
        }
        if (!json_is_true(json_object_get(metadata_for(stream, NULL), "selected")))
            continue;
        if (read_stream(&c->streams[c->nstreams++], stream, i, dflt, name, err) != 0)
            return -1;
    }
    qsort(c->streams, c->nstreams, sizeof *c->streams, by_id);
    for (size_t k = 1; k < c->nstreams; k++) {
        if (strcmp(c->streams[k - 1].tap_stream_id, c->streams[k].tap_stream_id) == 0) {
            sl_error_set(err, SL_E_USAGE, "catalog \"%s\": stream \"%s\" is selected twice", name,
                         c->streams[k].tap_stream_id);
            return -1;
        }
    }
    return 0;
}

static int
from_doc(sl_tap_catalog **out, json_t *doc, const char *name, sl_tap_method dflt, sl_error *err)
{
    sl_tap_catalog *c = sl_calloc(1, sizeof *c);
    if (read_streams(c, doc, name, dflt, err) != 0) {
        sl_tap_catalog_free(c);
        return -1;
    }
    *out = c;
    return 0;
}

int
sl_tap_catalog_parse(sl_tap_catalog **out, const char *text, const char *name,
                     sl_tap_method default_method, sl_error *err)
{
    json_t *doc = NULL;
    if (sl_tap_jsondoc_parse(&doc, text, strlen(text), "catalog", name, JSON_DECODE_INT_AS_REAL,
                             err) != 0)
        return -1;
    int rc = from_doc(out, doc, name, default_method, err);
    json_decref(doc);
    return rc;
}

int
sl_tap_catalog_load(sl_tap_catalog **out, const char *path, sl_tap_method default_method,
                    sl_error *err)
{
    json_t *doc = NULL;
    if (sl_tap_jsondoc_load(&doc, path, "catalog", CATALOG_MAX_BYTES, JSON_DECODE_INT_AS_REAL,
                            err) != 0)
        return -1;
    int rc = from_doc(out, doc, path, default_method, err);
    json_decref(doc);
    return rc;
}

const sl_tap_catalog_column *
sl_tap_catalog_column_find(const sl_tap_stream *s, const char *name)
{
    for (size_t i = 0; i < s->ncols; i++)
        if (strcmp(s->cols[i].name, name) == 0)
            return &s->cols[i];
    return NULL;
}

bool
sl_tap_catalog_column_wanted(const sl_tap_catalog_column *c, const char *live_inclusion)
{
    const char *inclusion = live_inclusion ? live_inclusion : c->inclusion;
    if (inclusion && strcmp(inclusion, "automatic") == 0)
        return true;
    if (inclusion && strcmp(inclusion, "unsupported") == 0)
        return false;
    return c->selected != SL_TAP_SELECTED_FALSE;
}
