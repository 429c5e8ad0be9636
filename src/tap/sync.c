/* tap/sync.c: see sync.h. A run is a plan (every stream checked, nothing emitted) and then the
 * streams one after the other on the one connection. */
#include "tap/sync.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/jsonw.h"
#include "base/log.h"
#include "base/mem.h"
#include "pg/copy.h"
#include "pg/copytext.h"
#include "tap/jsondoc.h"
#include "tap/logical.h"
#include "tap/schema.h"
#include "tap/value.h"

/* What a LOG_BASED stream does this run (pipelinewise's sync_method_for_streams). */
typedef enum {
    LOG_NONE,                /* not LOG_BASED */
    LOG_INITIAL,             /* no lsn: the initial copy in the slot's snapshot */
    LOG_RESUME,              /* lsn and xmin: the interrupted copy goes on */
    LOG_STREAM,              /* lsn alone: its changes stream */
} log_mode;

/* Messages go out when this much is waiting, and after each STATE. */
#define FLUSH_BYTES ((size_t)1 << 20)

typedef struct plan {
    const sl_tap_stream *s;
    sl_tap_relation *rel;
    size_t *want;            /* indices into rel->cols of the synced columns, by name */
    size_t nwant;
    size_t rk_pos;           /* INCREMENTAL: the key's position in want */
    bool skip;               /* no column to sync */
    log_mode log;
} plan;

typedef struct run {
    sl_conn *c;              /* reads the streams (a replica with use_secondary) */
    sl_conn *pc;             /* LOG_BASED's catalog, position and publication: the primary */
    sl_conn *own_pc;         /* pc when it is not c: opened for use_secondary */
    const sl_tap_sync_args *a;
    sl_buf out;
    sl_jsonw w;
    sl_copyrow row;
    sl_buf stream_name;      /* the current stream's "<schema>-<table>" */
    json_t *version;         /* the current stream's version */
    char time_extracted[48];
    sl_lsn initial_lsn;      /* LOG_INITIAL streams' lsn: the snapshot's position */
    plan **lplans;           /* LOG_STREAM: the plans, and what logical.c streams */
    sl_tap_logical_table *ltables;
    bool copy_tx;            /* the initial copies' transaction is open on c */
} run;

/* ---- output ----------------------------------------------------------------------------- */

static int
flush(run *r, sl_error *err)
{
    int rc = r->out.len ? r->a->emit(r->a->ctx, r->out.data, r->out.len, err) : 0;
    sl_buf_reset(&r->out);
    return rc;
}

static void
begin_message(run *r, const char *type)
{
    sl_jsonw_object_begin(&r->w);
    sl_jsonw_keyz(&r->w, "type");
    sl_jsonw_stringz(&r->w, type);
}

static void
end_message(run *r)
{
    sl_jsonw_object_end(&r->w);
    sl_buf_putc(&r->out, '\n');
}

static void
stream_member(run *r)
{
    sl_jsonw_keyz(&r->w, "stream");
    sl_jsonw_string(&r->w, r->stream_name.data, r->stream_name.len);
}

static int
emit_state(run *r, sl_error *err)
{
    begin_message(r, "STATE");
    sl_jsonw_keyz(&r->w, "value");
    sl_tap_state_write(r->a->state, &r->w);
    end_message(r);
    return flush(r, err);
}

static void
emit_activate_version(run *r)
{
    begin_message(r, "ACTIVATE_VERSION");
    stream_member(r);
    sl_jsonw_keyz(&r->w, "version");
    sl_tap_jsondoc_write(&r->w, r->version);
    end_message(r);
}

static void
write_key_properties(run *r, const plan *p)
{
    sl_jsonw_keyz(&r->w, "key_properties");
    sl_jsonw_array_begin(&r->w);
    if (p->rel->is_view) {
        for (size_t i = 0; i < p->s->n_view_key_properties; i++)
            sl_jsonw_stringz(&r->w, p->s->view_key_properties[i]);
    } else {
        for (size_t i = 0; i < p->rel->ncols; i++)
            if (p->rel->cols[i].primary_key)
                sl_jsonw_stringz(&r->w, p->rel->cols[i].name);
    }
    sl_jsonw_array_end(&r->w);
}

/* LOG_BASED streams' columns that are not the table's (pipelinewise's
 * add_automatic_properties; sluice sends them in the initial copy's SCHEMA too, so that the
 * target has them from the start). */
/* {"type": ["null", "string"][, "format": format]} as the next value. */
static void
write_nullable_string(sl_jsonw *w, const char *format)
{
    sl_jsonw_object_begin(w);
    sl_jsonw_keyz(w, "type");
    sl_jsonw_array_begin(w);
    sl_jsonw_stringz(w, "null");
    sl_jsonw_stringz(w, "string");
    sl_jsonw_array_end(w);
    if (format) {
        sl_jsonw_keyz(w, "format");
        sl_jsonw_stringz(w, format);
    }
    sl_jsonw_object_end(w);
}

static void
write_automatic_properties(run *r, const plan *p)
{
    if (p->s->method != SL_TAP_METHOD_LOG_BASED)
        return;
    sl_jsonw_keyz(&r->w, "_sdc_deleted_at");
    write_nullable_string(&r->w, "date-time");
    if (!r->a->cfg->debug_lsn)
        return;
    sl_jsonw_keyz(&r->w, "_sdc_lsn");
    write_nullable_string(&r->w, NULL);
}

static void
emit_schema(run *r, const plan *p)
{
    sl_tap_column *cols = sl_calloc(p->nwant + 1, sizeof *cols);
    for (size_t i = 0; i < p->nwant; i++)
        cols[i] = p->rel->cols[p->want[i]];
    begin_message(r, "SCHEMA");
    stream_member(r);
    sl_jsonw_keyz(&r->w, "schema");
    sl_jsonw_object_begin(&r->w);
    sl_jsonw_keyz(&r->w, "type");
    sl_jsonw_stringz(&r->w, "object");
    sl_jsonw_keyz(&r->w, "properties");
    sl_jsonw_object_begin(&r->w);
    for (size_t i = 0; i < p->nwant; i++) {
        sl_jsonw_keyz(&r->w, cols[i].name);
        sl_tap_schema_write(&r->w, &cols[i]);
    }
    write_automatic_properties(r, p);
    sl_jsonw_object_end(&r->w);
    sl_jsonw_keyz(&r->w, "definitions");
    sl_tap_schema_definitions(&r->w, cols, p->nwant);
    sl_jsonw_object_end(&r->w);
    write_key_properties(r, p);
    sl_jsonw_keyz(&r->w, "bookmark_properties");
    sl_jsonw_array_begin(&r->w);
    if (p->s->method == SL_TAP_METHOD_INCREMENTAL)
        sl_jsonw_stringz(&r->w, p->s->replication_key);
    if (p->log == LOG_STREAM)
        sl_jsonw_stringz(&r->w, "lsn");
    sl_jsonw_array_end(&r->w);
    end_message(r);
    free(cols);
}

/* One RECORD from the first nwant fields of the row. The text of the key's value (INCREMENTAL)
 * is copied to key_json when the field is not NULL. */
static int
emit_record(run *r, const plan *p, const sl_copyrow *row, sl_buf *key_json, sl_error *err)
{
    size_t line = r->out.len;
    begin_message(r, "RECORD");
    stream_member(r);
    sl_jsonw_keyz(&r->w, "record");
    sl_jsonw_object_begin(&r->w);
    for (size_t i = 0; i < p->nwant; i++) {
        const sl_tap_column *col = &p->rel->cols[p->want[i]];
        const sl_copyfield *f = &row->fields[i];
        sl_jsonw_keyz(&r->w, col->name);
        if (f->is_null) {
            sl_tap_value_write_null(&r->w, col);
            continue;
        }
        size_t at = r->out.len;
        if (sl_tap_value_write(&r->w, col, f->data, f->len, err) != 0) {
            r->out.len = line;  /* only whole messages are ever emitted */
            sl_jsonw_init(&r->w, &r->out);
            return -1;
        }
        if (key_json && i == p->rk_pos) {
            sl_buf_reset(key_json);
            sl_buf_append(key_json, r->out.data + at, r->out.len - at);
        }
    }
    sl_jsonw_object_end(&r->w);
    sl_jsonw_keyz(&r->w, "version");
    sl_tap_jsondoc_write(&r->w, r->version);
    sl_jsonw_keyz(&r->w, "time_extracted");
    sl_jsonw_stringz(&r->w, r->time_extracted);
    end_message(r);
    return 0;
}

/* ---- time ------------------------------------------------------------------------------- */

/* singer's utils.strftime of utils.now(): UTC with microseconds and "Z". */
static void
set_time_extracted(run *r)
{
    int64_t us = sl_clock_wall_us();
    time_t secs = (time_t)(us / 1000000);
    struct tm tm;
    char date[32];
    gmtime_r(&secs, &tm);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(r->time_extracted, sizeof r->time_extracted, "%.20s.%06dZ", date,
             (int)(us % 1000000));
}

/* ---- plan ------------------------------------------------------------------------------- */

static const sl_tap_column *
live_column(const sl_tap_relation *rel, const char *name, size_t *index)
{
    for (size_t i = 0; i < rel->ncols; i++) {
        if (strcmp(rel->cols[i].name, name) == 0) {
            if (index)
                *index = i;
            return &rel->cols[i];
        }
    }
    return NULL;
}

static int
by_name(const void *a, const void *b, void *ctx)
{
    const sl_tap_relation *rel = ctx;
    return strcmp(rel->cols[*(const size_t *)a].name, rel->cols[*(const size_t *)b].name);
}

/* A catalog whose schema has no properties: every live column, with the catalog's metadata
 * where it has some. */
static void
choose_all_columns(plan *p)
{
    const sl_tap_relation *rel = p->rel;
    for (size_t i = 0; i < rel->ncols; i++) {
        const sl_tap_column *live = &rel->cols[i];
        const sl_tap_catalog_column *cc = sl_tap_catalog_column_find(p->s, live->name);
        sl_tap_catalog_column bare = {NULL, SL_TAP_SELECTED_UNSET, NULL};
        bool is_key = p->s->method == SL_TAP_METHOD_INCREMENTAL &&
                      strcmp(live->name, p->s->replication_key) == 0;
        if (is_key || (sl_tap_schema_supported(live) &&
                       sl_tap_catalog_column_wanted(cc ? cc : &bare,
                                                    sl_tap_schema_inclusion(live))))
            p->want[p->nwant++] = i;
    }
}

/* The synced columns: the catalog's, as should_sync_column decides with the live inclusion,
 * and the replication key always (the state needs its value); sorted by name as pipelinewise
 * sorts desired_columns. */
static int
choose_columns(plan *p, const char *catalog, sl_error *err)
{
    const sl_tap_stream *s = p->s;
    const sl_tap_relation *rel = p->rel;
    p->want = sl_calloc(rel->ncols + 1, sizeof *p->want);
    if (s->all_columns)
        choose_all_columns(p);
    for (size_t i = 0; !s->all_columns && i < s->ncols; i++) {
        size_t at = 0;
        const sl_tap_column *live = live_column(rel, s->cols[i].name, &at);
        bool is_key = s->replication_key && strcmp(s->cols[i].name, s->replication_key) == 0 &&
                      s->method == SL_TAP_METHOD_INCREMENTAL;
        if (!is_key && !sl_tap_catalog_column_wanted(&s->cols[i],
                                                     live ? sl_tap_schema_inclusion(live) : NULL))
            continue;
        if (!live) {
            sl_error_set(err, SL_E_USAGE, "catalog \"%s\": stream \"%s\": column \"%s\" is not "
                         "in \"%s\".\"%s\" (or this user may not read it)", catalog,
                         s->tap_stream_id, s->cols[i].name, s->schema_name, s->table_name);
            return -1;
        }
        if (!is_key && !sl_tap_schema_supported(live))
            continue;
        bool dup = false;
        for (size_t k = 0; k < p->nwant; k++)
            dup = dup || p->want[k] == at;
        if (!dup)
            p->want[p->nwant++] = at;
    }
    qsort_r(p->want, p->nwant, sizeof *p->want, by_name, (void *)rel);
    return 0;
}

/* LOG_BASED: the live columns the catalog does not name (added to the table since discovery)
 * are synced too, as they are when a change shows one mid-stream: pipelinewise re-discovers
 * the table then and selects new columns by default. */
static void
add_unnamed_columns(plan *p)
{
    if (p->s->all_columns || p->s->method != SL_TAP_METHOD_LOG_BASED)
        return;
    for (size_t k = 0; k < p->rel->ncols; k++) {
        const sl_tap_column *col = &p->rel->cols[k];
        if (!sl_tap_catalog_column_find(p->s, col->name) && sl_tap_schema_supported(col))
            p->want[p->nwant++] = k;
    }
    qsort_r(p->want, p->nwant, sizeof *p->want, by_name, (void *)p->rel);
}

static int
find_key(plan *p, const char *catalog, sl_error *err)
{
    const sl_tap_stream *s = p->s;
    size_t at = 0;
    if (!live_column(p->rel, s->replication_key, &at)) {
        sl_error_set(err, SL_E_USAGE, "catalog \"%s\": stream \"%s\": replication-key \"%s\" is "
                     "not a column of \"%s\".\"%s\"", catalog, s->tap_stream_id,
                     s->replication_key, s->schema_name, s->table_name);
        return -1;
    }
    bool in_schema = false;
    for (size_t i = 0; i < p->nwant; i++) {
        if (p->want[i] == at) {
            p->rk_pos = i;
            in_schema = true;
        }
    }
    if (!in_schema) {
        sl_error_set(err, SL_E_USAGE, "catalog \"%s\": stream \"%s\": replication-key \"%s\" is "
                     "not among the properties of its schema", catalog, s->tap_stream_id,
                     s->replication_key);
        return -1;
    }
    return 0;
}

/* pipelinewise's clear_state_on_replication_change. */
static void
prepare_state(sl_tap_state *st, const sl_tap_stream *s)
{
    const char *method = sl_tap_method_name(s->method);
    const char *last = json_string_value(sl_tap_state_get(st, s->tap_stream_id,
                                                          "last_replication_method"));
    if (last && strcmp(last, method) != 0)
        sl_tap_state_reset(st, s->tap_stream_id);
    if (s->method == SL_TAP_METHOD_INCREMENTAL) {
        const char *key = json_string_value(sl_tap_state_get(st, s->tap_stream_id,
                                                             "replication_key"));
        if (!key || strcmp(key, s->replication_key) != 0)
            sl_tap_state_reset(st, s->tap_stream_id);
    }
    sl_tap_state_set(st, s->tap_stream_id, "last_replication_method", json_string(method));
}

/* A FULL_TABLE bookmark of sluice's own (sync.h): the last row's position and the transaction
 * horizon of the snapshot it was read in. */
#define CTID_KEY "sluice_ctid"
#define SNAPSHOT_XMIN_KEY "sluice_snapshot_xmin"

/* "(page,item)" as the server prints a tid, and nothing else: it goes into a WHERE. */
static bool
tid_text_ok(const char *t)
{
    size_t n = strlen(t);
    if (n < 5 || n > 24 || t[0] != '(' || t[n - 1] != ')')
        return false;
    size_t a = strspn(t + 1, "0123456789");
    if (a < 1 || a > 10 || t[1 + a] != ',')
        return false;
    size_t b = strspn(t + 2 + a, "0123456789");
    return b >= 1 && b <= 5 && 2 + a + b == n - 1;
}

static int
check_state(const sl_tap_sync_args *a, const sl_tap_stream *s, sl_error *err)
{
    sl_tap_state *st = a->state;
    const char *id = s->tap_stream_id;
    if (s->method == SL_TAP_METHOD_LOG_BASED) {
        if (!sl_tap_state_missing(st, id, "lsn") &&
            !json_is_integer(sl_tap_state_get(st, id, "lsn"))) {
            sl_error_set(err, SL_E_USAGE, "state: the lsn bookmark of stream \"%s\" must be an "
                         "integer", id);
            return -1;
        }
    }
    if (s->method != SL_TAP_METHOD_INCREMENTAL) {
        if (!sl_tap_state_missing(st, id, "xmin") &&
            !json_is_integer(sl_tap_state_get(st, id, "xmin"))) {
            sl_error_set(err, SL_E_USAGE, "state: the xmin bookmark of stream \"%s\" must be an "
                         "integer", id);
            return -1;
        }
        json_t *ctid = sl_tap_state_get(st, id, CTID_KEY);
        json_t *snap = sl_tap_state_get(st, id, SNAPSHOT_XMIN_KEY);
        bool ctid_set = ctid && !json_is_null(ctid), snap_set = snap && !json_is_null(snap);
        if (ctid_set != snap_set || (ctid_set && (!json_is_string(ctid) ||
                                                  !tid_text_ok(json_string_value(ctid)))) ||
            (snap_set && (!json_is_integer(snap) || json_integer_value(snap) < 0 ||
                          json_integer_value(snap) > UINT32_MAX))) {
            sl_error_set(err, SL_E_USAGE, "state: stream \"%s\": %s must be a row position "
                         "\"(page,item)\" and %s a transaction id, both or neither", id, CTID_KEY,
                         SNAPSHOT_XMIN_KEY);
            return -1;
        }
        return 0;
    }
    /* pipelinewise refuses bookmark keys INCREMENTAL does not write */
    static const char *const allowed[] = {"replication_key", "replication_key_value", "version",
                                          "last_replication_method"};
    sl_buf bad = SL_BUF_INIT;
    const char *key;
    json_t *v;
    json_object_foreach(sl_tap_state_bookmark(st, id), key, v) {
        bool ok = false;
        for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
            ok = ok || strcmp(key, allowed[i]) == 0;
        if (!ok)
            sl_buf_printf(&bad, "%s\"%s\"", bad.len ? ", " : "", key);
    }
    json_t *value = sl_tap_state_get(st, id, "replication_key_value");
    int rc = 0;
    if (bad.len) {
        sl_error_set(err, SL_E_USAGE, "state: stream \"%s\" is INCREMENTAL but its bookmark has "
                     "keys INCREMENTAL does not use: %s", id, bad.data);
        rc = -1;
    } else if (value && !json_is_null(value) && !json_is_string(value) &&
               !json_is_number(value) && !json_is_boolean(value)) {
        sl_error_set(err, SL_E_USAGE, "state: the replication_key_value of stream \"%s\" must be "
                     "a string, a number or a boolean", id);
        rc = -1;
    }
    sl_buf_free(&bad);
    return rc;
}

/* pipelinewise's sync_method_for_streams for a LOG_BASED stream. */
static int
choose_log_mode(sl_tap_state *st, plan *p, sl_error *err)
{
    const char *id = p->s->tap_stream_id;
    /* pipelinewise tests the bookmarks' truth: a 0 counts as none */
    json_t *l = sl_tap_state_get(st, id, "lsn"), *x = sl_tap_state_get(st, id, "xmin");
    bool lsn = json_is_integer(l) && json_integer_value(l) != 0;
    bool xmin = json_is_integer(x) && json_integer_value(x) != 0;
    if (xmin && !lsn) {
        sl_error_set(err, SL_E_USAGE, "state: LOG_BASED stream \"%s\" has an xmin bookmark (an "
                     "initial copy under way) but no lsn", id);
        return -1;
    }
    p->log = !lsn ? LOG_INITIAL : xmin ? LOG_RESUME : LOG_STREAM;
    return 0;
}

static int
plan_stream(run *r, plan *p, sl_error *err)
{
    const sl_tap_stream *s = p->s;
    const char *catalog = r->a->catalog_name;
    if (sl_tap_discover_relation(r->c, s->schema_name, s->table_name, &p->rel, err) != 0)
        return -1;
    if (!p->rel) {
        sl_error_set(err, SL_E_USAGE, "catalog \"%s\": stream \"%s\": no table or view "
                     "\"%s\".\"%s\" in this database (or none with a column this user may "
                     "read)", catalog, s->tap_stream_id, s->schema_name, s->table_name);
        return -1;
    }
    if (s->method == SL_TAP_METHOD_LOG_BASED && p->rel->is_view) {
        sl_error_set(err, SL_E_USAGE, "stream \"%s\": LOG_BASED replication is not supported "
                     "for views; use FULL_TABLE or INCREMENTAL", s->tap_stream_id);
        return -1;
    }
    for (size_t i = 0; i < p->rel->ncols; i++)
        sl_tap_value_prepare(&p->rel->cols[i]);
    if (choose_columns(p, catalog, err) != 0)
        return -1;
    add_unnamed_columns(p);
    if (s->method == SL_TAP_METHOD_INCREMENTAL && find_key(p, catalog, err) != 0)
        return -1;
    prepare_state(r->a->state, s);
    if (p->nwant == 0) {
        SL_WARN("there are no columns selected for stream \"%s\", skipping it",
                s->tap_stream_id);
        p->skip = true;
        return 0;
    }
    if (check_state(r->a, s, err) != 0)
        return -1;
    return s->method == SL_TAP_METHOD_LOG_BASED ? choose_log_mode(r->a->state, p, err) : 0;
}

/* ---- COPY ------------------------------------------------------------------------------- */

static int
quote_into(run *r, sl_buf *sql, const char *ident, sl_error *err)
{
    char *q = sl_conn_quote_ident(r->c, ident);
    if (!q) {
        sl_error_set(err, SL_E_USAGE, "could not quote the name \"%s\" (not valid in the "
                     "connection's encoding)", ident);
        return -1;
    }
    sl_buf_puts(sql, q);
    free(q);
    return 0;
}

/* "COPY (SELECT <columns>[, <extra>] FROM [ONLY] "s"."t" AS t" */
static int
copy_head(run *r, const plan *p, const char *extra, sl_buf *sql, sl_error *err)
{
    sl_buf_puts(sql, "COPY (SELECT ");
    for (size_t i = 0; i < p->nwant; i++) {
        const sl_tap_column *col = &p->rel->cols[p->want[i]];
        char *q = sl_conn_quote_ident(r->c, col->name);
        if (!q) {
            sl_error_set(err, SL_E_USAGE, "could not quote the column name \"%s\"", col->name);
            return -1;
        }
        if (i)
            sl_buf_puts(sql, ", ");
        sl_tap_value_select(sql, col, q);
        free(q);
    }
    if (extra)
        sl_buf_printf(sql, ", %s", extra);
    sl_buf_puts(sql, " FROM ");
    if (!p->rel->is_view && !p->rel->partitioned)
        sl_buf_puts(sql, "ONLY ");
    if (quote_into(r, sql, p->rel->schema, err) != 0)
        return -1;
    sl_buf_putc(sql, '.');
    if (quote_into(r, sql, p->rel->table, err) != 0)
        return -1;
    sl_buf_puts(sql, " AS t");
    return 0;
}

/* The bookmark as the text a WHERE compares with; 1 when pipelinewise would have none (a value
 * Python finds false: null, "", 0, false). */
static int
key_literal(const json_t *v, sl_buf *out)
{
    if (!v || json_is_null(v) || json_is_false(v))
        return 1;
    if (json_is_true(v)) {
        sl_buf_puts(out, "true");
    } else if (json_is_string(v)) {
        if (json_string_length(v) == 0)
            return 1;
        sl_buf_append(out, json_string_value(v), json_string_length(v));
    } else if (json_is_integer(v)) {
        if (json_integer_value(v) == 0)
            return 1;
        sl_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else {
        if (json_real_value(v) == 0)
            return 1;
        sl_tap_jsondoc_real(out, json_real_value(v));
    }
    return 0;
}

/* ---- streams ---------------------------------------------------------------------------- */

/* How a full table is read (sync.h): a view whole; a plain table in its physical order with
 * the last row's position as the bookmark; a partitioned table (its partitions' positions
 * repeat) or one resumed from an xmin bookmark in transaction order. */
typedef enum { FULL_WHOLE, FULL_CTID, FULL_XMIN } full_mode;

typedef struct pass {
    int64_t rows;
    int64_t since_state;     /* rows since the last STATE */
    full_mode mode;          /* FULL_TABLE */
    int64_t xmin;            /* FULL_XMIN: the last row's */
    char ctid[32];           /* FULL_CTID: the last row's position */
    int64_t snapshot_xmin;   /* FULL_CTID: the horizon of the snapshot the rows are read in */
    sl_buf key_json;         /* INCREMENTAL: the last non-NULL key's JSON */
} pass;

/* Whether the JSON number text[0..len) would change in the state's jansson document: an
 * integer beyond int64, or more than 15 significant digits (what a double holds). Such a
 * bookmark goes into the state as a string of its exact digits (the next run's WHERE takes it
 * as a literal of the key's type): a value rounded up would skip the rows between. */
static bool
number_loses_digits(const char *text, size_t len)
{
    if (len == 0 || !(text[0] == '-' || (text[0] >= '0' && text[0] <= '9')))
        return false;  /* not a number: a string, true/false */
    size_t digits = 0;
    bool integer = true, leading = true;
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        if (ch == '.' || ch == 'e' || ch == 'E')
            integer = false;
        if (ch == 'e' || ch == 'E')
            break;
        if (ch < '0' || ch > '9' || (leading && ch == '0'))
            continue;
        leading = false;
        digits++;
    }
    if (integer)
        return digits > 18;  /* int64 holds every 18-digit integer */
    return digits > 15;
}

/* The bookmark a STATE carries while rows stream. */
static int
bookmark_progress(run *r, const plan *p, pass *ps, sl_error *err)
{
    const char *id = p->s->tap_stream_id;
    if (p->s->method != SL_TAP_METHOD_INCREMENTAL) {  /* a full table, or a LOG_BASED copy */
        if (ps->mode == FULL_XMIN)
            sl_tap_state_set(r->a->state, id, "xmin", json_integer(ps->xmin));
        if (ps->mode == FULL_CTID && ps->rows > 0) {
            sl_tap_state_set(r->a->state, id, CTID_KEY, json_string(ps->ctid));
            sl_tap_state_set(r->a->state, id, SNAPSHOT_XMIN_KEY,
                             json_integer(ps->snapshot_xmin));
        }
        return 0;
    }
    if (!ps->key_json.len)
        return 0;
    json_error_t jerr;
    json_t *v;
    if (number_loses_digits(ps->key_json.data, ps->key_json.len))
        v = json_stringn(ps->key_json.data, ps->key_json.len);
    else
        v = json_loadb(ps->key_json.data, ps->key_json.len, JSON_DECODE_ANY, &jerr);
    if (!v) {
        sl_error_set(err, SL_E_INTERNAL, "stream \"%s\": the replication key's value is not JSON: "
                     "%s", id, jerr.text);
        return -1;
    }
    sl_tap_state_set(r->a->state, id, "replication_key_value", v);
    return 0;
}

static int
take_row(run *r, const plan *p, pass *ps, const char *data, size_t len, sl_error *err)
{
    bool extra = p->s->method != SL_TAP_METHOD_INCREMENTAL && ps->mode != FULL_WHOLE;
    if (sl_copyrow_parse(&r->row, data, len, p->nwant + (extra ? 1 : 0), err) != 0) {
        sl_error_prefix(err, "stream \"%s\", row %" PRId64, p->s->tap_stream_id, ps->rows + 1);
        return -1;
    }
    if (extra) {
        const sl_copyfield *f = &r->row.fields[p->nwant];
        char text[sizeof ps->ctid];
        if (f->is_null || f->len == 0 || f->len >= sizeof text) {
            sl_error_set(err, SL_E_SERVER, "stream \"%s\": the server sent no %s for row %"
                         PRId64, p->s->tap_stream_id, ps->mode == FULL_CTID ? "ctid" : "xmin",
                         ps->rows + 1);
            return -1;
        }
        memcpy(text, f->data, f->len);
        text[f->len] = '\0';
        if (ps->mode == FULL_XMIN) {
            ps->xmin = strtoll(text, NULL, 10);
        } else if (tid_text_ok(text)) {
            memcpy(ps->ctid, text, f->len + 1);
        } else {
            sl_error_set(err, SL_E_SERVER, "stream \"%s\": the server sent \"%s\" as the "
                         "position of row %" PRId64, p->s->tap_stream_id, text, ps->rows + 1);
            return -1;
        }
    }
    sl_buf *key = p->s->method == SL_TAP_METHOD_INCREMENTAL ? &ps->key_json : NULL;
    if (emit_record(r, p, &r->row, key, err) != 0) {
        sl_error_prefix(err, "stream \"%s\", row %" PRId64, p->s->tap_stream_id, ps->rows + 1);
        return -1;
    }
    ps->rows++;
    if (++ps->since_state >= r->a->cfg->itersize) {
        ps->since_state = 0;
        if (bookmark_progress(r, p, ps, err) != 0 || emit_state(r, err) != 0)
            return -1;
    } else if (r->out.len >= FLUSH_BYTES && flush(r, err) != 0) {
        return -1;
    }
    return 0;
}

static int
copy_rows(run *r, const plan *p, const char *sql, pass *ps, sl_error *err)
{
    sl_copy_reader *reader = NULL;
    sl_conn_log_statement("COPY", sql);
    if (sl_copy_reader_open(&reader, r->c, sql, err) != 0) {
        sl_error_prefix(err, "stream \"%s\"", p->s->tap_stream_id);
        return -1;
    }
    int rc = -1;
    for (;;) {
        const char *data;
        size_t len;
        int got = sl_copy_reader_next(reader, &data, &len, err);
        if (got < 0) {
            sl_error_prefix(err, "stream \"%s\"", p->s->tap_stream_id);
            goto done;
        }
        if (got == 0)
            break;
        if (take_row(r, p, ps, data, len, err) != 0)
            goto done;
    }
    rc = 0;
done:
    sl_copy_reader_close(reader);
    return rc;
}

/* The version a stream's messages carry: the bookmark's when keep is set and there is one. */
static void
choose_version(run *r, const plan *p, bool keep)
{
    json_t *v = sl_tap_state_get(r->a->state, p->s->tap_stream_id, "version");
    json_decref(r->version);
    r->version = keep && v && !json_is_null(v) ? json_deep_copy(v)
                                                : json_integer(sl_clock_wall_us() / 1000);
    sl_tap_state_set(r->a->state, p->s->tap_stream_id, "version", json_deep_copy(r->version));
}

/* Opens the transaction a FULL_CTID read runs in (unless one is open: a snapshot the caller
 * set) and reads its snapshot's horizon: every row version not visible to the snapshot has an
 * xmin at or after it. A seq scan then returns rows in their physical order only when it
 * starts at the table's first page and runs in one process: synchronized scans and parallel
 * workers are turned off for the transaction. *began: whether the caller commits it. */
static int
begin_ctid_read(run *r, int64_t *snapshot_xmin, bool *began, sl_error *err)
{
    *began = PQtransactionStatus(sl_conn_pg(r->c)) == PQTRANS_IDLE;
    if (*began && sl_conn_exec(r->c, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", err) != 0)
        return -1;
    PGresult *res = NULL;
    if (sl_conn_exec(r->c, "SET LOCAL synchronize_seqscans = off;"
                           " SET LOCAL max_parallel_workers_per_gather = 0", err) != 0 ||
        sl_conn_query(r->c, &res,
                      "SELECT pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())"
                      "::pg_catalog.text::pg_catalog.int8 % 4294967296", 0, NULL, err) != 0)
        return -1;
    *snapshot_xmin = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}

/* The WHERE of a resumed read: what the bookmark's run had not sent. Rows after its position,
 * and every row version its snapshot may not have seen (an xmin at or after its horizon:
 * inserted or updated since, wherever the row now lies). Rows sent before and changed since
 * come again, which Singer allows; none is missed. */
static void
ctid_resume_where(const char *ctid, int64_t snapshot_xmin, sl_buf *sql)
{
    sl_buf_printf(sql, " WHERE t.ctid > '%s'::pg_catalog.tid OR pg_catalog.age(t.xmin) <="
                       " pg_catalog.age('%" PRId64 "'::pg_catalog.xid)", ctid, snapshot_xmin);
}

static int
sync_full_table(run *r, const plan *p, pass *ps, sl_error *err)
{
    const char *id = p->s->tap_stream_id;
    sl_tap_state *st = r->a->state;
    bool first_run = sl_tap_state_missing(st, id, "version");
    json_t *xmin = sl_tap_state_get(st, id, "xmin");
    json_t *ctid = sl_tap_state_get(st, id, CTID_KEY);
    bool xmin_resume = !p->rel->is_view && xmin && json_is_integer(xmin);
    bool ctid_resume = !p->rel->is_view && !xmin_resume && ctid && json_is_string(ctid);
    bool log_copy = p->s->method == SL_TAP_METHOD_LOG_BASED;  /* its resume keys on xmin */
    /* fast_sync: a partitioned table read as it comes, no sort, no bookmark (a bookmark an
     * earlier run left is still honoured: it saves the rows sent) */
    bool unsorted = r->a->cfg->fast_sync && p->rel->partitioned && !xmin_resume && !log_copy;
    ps->mode = p->rel->is_view || unsorted ? FULL_WHOLE
               : p->rel->partitioned || xmin_resume || log_copy ? FULL_XMIN
                                                                : FULL_CTID;
    if (ps->mode != FULL_CTID)  /* a partitioned table resumed from a position starts over */
        ctid_resume = false;
    sl_buf sql = SL_BUF_INIT;
    bool began = false;
    int rc = -1;
    choose_version(r, p, xmin_resume || ctid_resume);
    if (emit_state(r, err) != 0)
        goto done;
    if (first_run)
        emit_activate_version(r);
    if (ps->mode == FULL_CTID && begin_ctid_read(r, &ps->snapshot_xmin, &began, err) != 0)
        goto done;
    if (copy_head(r, p, ps->mode == FULL_CTID ? "t.ctid" : ps->mode == FULL_XMIN ? "t.xmin" : NULL,
                  &sql, err) != 0)
        goto done;
    if (xmin_resume) {
        SL_INFO("stream \"%s\": resuming the full table from xmin %" JSON_INTEGER_FORMAT, id,
                json_integer_value(xmin));
        sl_buf_printf(&sql, " WHERE pg_catalog.age(t.xmin) <= pg_catalog.age('%"
                      JSON_INTEGER_FORMAT "'::pg_catalog.xid)", json_integer_value(xmin));
    } else if (ctid_resume) {
        int64_t snap = json_integer_value(sl_tap_state_get(st, id, SNAPSHOT_XMIN_KEY));
        SL_INFO("stream \"%s\": resuming the full table after row %s (changes since "
                "transaction %" PRId64 " too)", id, json_string_value(ctid), snap);
        ctid_resume_where(json_string_value(ctid), snap, &sql);
    }
    if (ps->mode == FULL_XMIN)
        sl_buf_puts(&sql, " ORDER BY pg_catalog.age(t.xmin) DESC");
    sl_buf_puts(&sql, ") TO STDOUT");
    if (copy_rows(r, p, sql.data, ps, err) != 0)
        goto done;
    if (began && sl_conn_exec(r->c, "COMMIT", err) != 0)
        goto done;
    began = false;
    if (!p->rel->is_view)
        sl_tap_state_set(st, id, "xmin", json_null());
    if (ps->mode == FULL_CTID || ctid) {
        sl_tap_state_set(st, id, CTID_KEY, json_null());
        sl_tap_state_set(st, id, SNAPSHOT_XMIN_KEY, json_null());
    }
    emit_activate_version(r);
    rc = 0;
done:
    if (began)
        PQclear(PQexec(sl_conn_pg(r->c), "ROLLBACK"));
    sl_buf_free(&sql);
    return rc;
}

static int
sync_incremental(run *r, const plan *p, pass *ps, sl_error *err)
{
    const sl_tap_stream *s = p->s;
    sl_tap_state *st = r->a->state;
    sl_buf sql = SL_BUF_INIT, literal = SL_BUF_INIT, key = SL_BUF_INIT;
    int rc = -1;
    sl_tap_state_set(st, s->tap_stream_id, "replication_key", json_string(s->replication_key));
    choose_version(r, p, true);
    if (emit_state(r, err) != 0)
        goto done;
    emit_activate_version(r);
    if (copy_head(r, p, NULL, &sql, err) != 0)
        goto done;
    if (quote_into(r, &key, s->replication_key, err) != 0)
        goto done;
    if (key_literal(sl_tap_state_get(st, s->tap_stream_id, "replication_key_value"),
                    &literal) == 0) {
        char *q = sl_conn_quote_literal(r->c, literal.data);
        if (!q) {
            sl_error_set(err, SL_E_USAGE, "stream \"%s\": could not quote the "
                         "replication_key_value of the state", s->tap_stream_id);
            goto done;
        }
        sl_buf_printf(&sql, " WHERE t.%s >= %s", key.data, q);
        free(q);
    }
    sl_buf_printf(&sql, " ORDER BY t.%s) TO STDOUT", key.data);
    if (copy_rows(r, p, sql.data, ps, err) != 0 || bookmark_progress(r, p, ps, err) != 0)
        goto done;
    rc = 0;
done:
    sl_buf_free(&sql);
    sl_buf_free(&literal);
    sl_buf_free(&key);
    return rc;
}

static int
sync_stream(run *r, const plan *p, sl_error *err)
{
    const sl_tap_stream *s = p->s;
    sl_tap_state *st = r->a->state;
    pass ps = {.key_json = SL_BUF_INIT};
    double t0 = sl_clock_s();
    int rc = -1;
    sl_buf_reset(&r->stream_name);
    sl_buf_printf(&r->stream_name, "%s-%s", s->schema_name, s->table_name);
    set_time_extracted(r);
    SL_INFO("stream \"%s\": %s%s%s%s", s->tap_stream_id, sl_tap_method_name(s->method),
            p->log == LOG_INITIAL ? " (initial copy)" : p->log == LOG_RESUME ?
            " (initial copy, resumed)" : "",
            s->method == SL_TAP_METHOD_INCREMENTAL ? " by " : "",
            s->method == SL_TAP_METHOD_INCREMENTAL ? s->replication_key : "");
    sl_tap_state_set_currently_syncing(st, s->tap_stream_id);
    emit_schema(r, p);
    if (p->log == LOG_INITIAL)
        sl_tap_state_set(st, s->tap_stream_id, "lsn", json_integer((json_int_t)r->initial_lsn));
    if (s->method == SL_TAP_METHOD_INCREMENTAL)
        rc = sync_incremental(r, p, &ps, err);
    else
        rc = sync_full_table(r, p, &ps, err);
    if (rc == 0) {
        sl_tap_state_set_currently_syncing(st, NULL);
        rc = emit_state(r, err);
    }
    if (rc == 0) {
        double secs = sl_clock_s() - t0;
        SL_INFO("stream \"%s\": %" PRId64 " rows in %.3f s (%.0f rows/s)", s->tap_stream_id,
                ps.rows, secs, secs > 0 ? (double)ps.rows / secs : 0.0);
    }
    sl_buf_free(&ps.key_json);
    return rc;
}

/* ---- run -------------------------------------------------------------------------------- */

static void
plans_free(plan *plans, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sl_tap_relation_free(plans[i].rel);
        free(plans[i].want);
    }
    free(plans);
}

/* The order streams sync in: by tap_stream_id, currently_syncing's first. */
static void
order_plans(plan *plans, size_t n, const char *current)
{
    if (!current)
        return;
    for (size_t i = 0; i < n; i++) {
        if (!plans[i].skip && strcmp(plans[i].s->tap_stream_id, current) == 0) {
            plan first = plans[i];
            memmove(plans + 1, plans, i * sizeof *plans);
            plans[0] = first;
            SL_INFO("resuming with stream \"%s\" (currently_syncing in the state)", current);
            return;
        }
    }
    SL_WARN("currently_syncing \"%s\" of the state is not among the selected streams: ignored",
            current);
}

/* ---- LOG_BASED -------------------------------------------------------------------------- */

static int
hook_flush(void *ctx, sl_error *err)
{
    return flush(ctx, err);
}

static void
hook_schema(void *ctx, size_t i)
{
    run *r = ctx;
    sl_buf_reset(&r->stream_name);
    sl_buf_printf(&r->stream_name, "%s-%s", r->lplans[i]->s->schema_name,
                  r->lplans[i]->s->table_name);
    emit_schema(r, r->lplans[i]);
}

/* A change named a column the plan does not know: the relation is read again, and its new
 * columns (the catalog does not name them) are synced as pipelinewise's re-discovery would
 * select them (selected by default when their type is supported). */
static int
hook_replan(void *ctx, size_t i, sl_error *err)
{
    run *r = ctx;
    plan *p = r->lplans[i];
    plan fresh = {.s = p->s, .log = p->log};
    if (sl_tap_discover_relation(r->pc, p->s->schema_name, p->s->table_name, &fresh.rel,
                                 err) != 0)
        return -1;
    if (!fresh.rel) {
        sl_error_set(err, SL_E_USAGE, "stream \"%s\": table \"%s\".\"%s\" is gone",
                     p->s->tap_stream_id, p->s->schema_name, p->s->table_name);
        return -1;
    }
    for (size_t k = 0; k < fresh.rel->ncols; k++)
        sl_tap_value_prepare(&fresh.rel->cols[k]);
    if (choose_columns(&fresh, r->a->catalog_name, err) != 0) {
        sl_tap_relation_free(fresh.rel);
        free(fresh.want);
        return -1;
    }
    add_unnamed_columns(&fresh);
    sl_tap_relation_free(p->rel);
    free(p->want);
    *p = fresh;
    r->ltables[i] = (sl_tap_logical_table){p->s, p->rel, p->want, p->nwant};
    return 0;
}

static int
stream_logical(run *r, plan *plans, size_t n, sl_lsn end_lsn, sl_error *err)
{
    size_t m = 0;
    r->lplans = sl_calloc(n + 1, sizeof *r->lplans);
    r->ltables = sl_calloc(n + 1, sizeof *r->ltables);
    for (size_t i = 0; i < n; i++) {
        plan *p = &plans[i];
        if (p->skip || p->log != LOG_STREAM)
            continue;
        r->lplans[m] = p;
        r->ltables[m++] = (sl_tap_logical_table){p->s, p->rel, p->want, p->nwant};
    }
    if (m == 0)
        return 0;
    const sl_tap_logical_args la = {
        .cfg = r->a->cfg, .conn = r->a->logical, .state = r->a->state, .tables = r->ltables,
        .ntables = m, .end_lsn = end_lsn, .lookup = r->pc, .out = &r->out, .w = &r->w,
        .flush = hook_flush, .schema = hook_schema, .replan = hook_replan, .ctx = r};
    return sl_tap_logical_stream(&la, err);
}

/* use_secondary: the secondary is a standby (in recovery), else there is no replay to wait
 * for and no telling that it holds the primary's data. */
static int
check_standby(sl_conn *c, bool standby, sl_error *err)
{
    if (standby)
        return 0;
    sl_error_set(err, SL_E_USAGE, "secondary %s is not a standby (pg_is_in_recovery() is false): "
                 "LOG_BASED streams with use_secondary copy from a replica of the primary",
                 sl_conn_describe(c));
    return -1;
}

/* use_secondary: the replica has replayed the primary's WAL up to lsn, so that a snapshot
 * taken on it from now on sees every transaction committed before lsn (replay only moves
 * forward). Polled, up to secondary_catchup_seconds. */
static int
wait_for_replay(run *r, sl_lsn lsn, sl_error *err)
{
    const sl_tap_config *cfg = r->a->cfg;
    char want[SL_LSN_TEXT];
    sl_lsn_format(lsn, want);
    double t0 = sl_clock_s();
    bool told = false;
    for (;;) {
        PGresult *res = NULL;
        if (sl_conn_query(r->c, &res, "SELECT pg_catalog.pg_is_in_recovery(),"
                                      " pg_catalog.pg_last_wal_replay_lsn()",
                          0, NULL, err) != 0) {
            sl_error_prefix(err, "secondary %s", sl_conn_describe(r->c));
            return -1;
        }
        bool standby = PQgetvalue(res, 0, 0)[0] == 't';
        sl_lsn at = 0;
        bool known = !PQgetisnull(res, 0, 1) && sl_lsn_parse(PQgetvalue(res, 0, 1), &at);
        char have[SL_LSN_TEXT];
        snprintf(have, sizeof have, "%s", known ? PQgetvalue(res, 0, 1) : "none");
        PQclear(res);
        if (check_standby(r->c, standby, err) != 0)
            return -1;
        if (known && at >= lsn) {
            SL_INFO("secondary %s has replayed up to %s, past the slot's position %s: the "
                    "initial copy reads it", sl_conn_describe(r->c), have, want);
            return 0;
        }
        double waited = sl_clock_s() - t0;
        if (waited >= cfg->secondary_catchup_seconds) {
            sl_error_set(err, SL_E_USAGE, "secondary %s has replayed the primary's WAL only up "
                         "to %s after %.0f s, short of the replication slot's position %s that "
                         "the initial copy must include (secondary_catchup_seconds): is it "
                         "streaming from the primary, is replay paused?",
                         sl_conn_describe(r->c), have, waited, want);
            return -1;
        }
        if (!told)
            SL_INFO("waiting for secondary %s to replay up to %s (it is at %s)",
                    sl_conn_describe(r->c), want, have);
        told = true;
        sl_clock_sleep_ms(100, NULL, NULL);
    }
}

/* The copies' transaction: the exported snapshot on the primary; with use_secondary a
 * snapshot of the replica once it has replayed past the slot's position (the snapshot exists
 * on the primary only). The replica's snapshot may then also show transactions committed
 * after the position, which the stream sends again: at least once, never lost. */
static int
begin_copy_transaction(run *r, const char *snapshot, sl_error *err)
{
    if (r->a->cfg->use_secondary) {
        if (wait_for_replay(r, r->initial_lsn, err) != 0)
            return -1;
        return sl_conn_exec(r->c, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", err);
    }
    char *q = sl_conn_quote_literal(r->c, snapshot);
    sl_buf sql = SL_BUF_INIT;
    sl_buf_printf(&sql, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; "
                  "SET TRANSACTION SNAPSHOT %s", q ? q : "''");
    free(q);
    int rc = sl_conn_exec(r->c, sql.data, err);
    sl_buf_free(&sql);
    return rc;
}

/* The initial copies of LOG_BASED streams read the slot's exported snapshot: the whole run of
 * copies is one transaction that takes it (the other streams' copies see it too: a
 * consistent view of the database, a few moments old). */
static int
begin_snapshot(run *r, sl_tap_logical_snapshot **snap, sl_error *err)
{
    if (sl_tap_logical_snapshot_open(snap, r->a->cfg, &r->a->logical, r->a->create_slot,
                                     &r->initial_lsn, err) != 0)
        return -1;
    if (r->a->cfg->use_secondary) {
        /* only its position is of use: the primary's snapshot goes, and the horizon it held */
        sl_tap_logical_snapshot_close(*snap);
        *snap = NULL;
    }
    if (begin_copy_transaction(r, *snap ? sl_tap_logical_snapshot_name(*snap) : NULL, err) != 0)
        return -1;
    r->copy_tx = true;
    return 0;
}

static bool
any_log(const plan *plans, size_t n, log_mode mode)
{
    for (size_t i = 0; i < n; i++)
        if (!plans[i].skip && plans[i].s->method == SL_TAP_METHOD_LOG_BASED &&
            (mode == LOG_NONE || plans[i].log == mode))
            return true;
    return false;
}

/* use_secondary: LOG_BASED's position, slot and publication are the primary's; a connection
 * of its own goes there (the streams' rows are still read on the replica). */
static int
open_primary(run *r, sl_error *err)
{
    if (!r->a->cfg->use_secondary)
        return 0;
    if (sl_conn_open(&r->own_pc, r->a->logical.ci, r->a->logical.opts, err) != 0 ||
        sl_conn_exec(r->own_pc, sl_tap_value_session_sql(), err) != 0) {
        sl_error_prefix(err, "LOG_BASED with use_secondary: the primary");
        return -1;
    }
    SL_INFO("LOG_BASED: the replication slot and WAL positions are the primary's (%s)",
            sl_conn_describe(r->own_pc));
    r->pc = r->own_pc;
    /* before any slot is made for a copy that could not be read */
    PGresult *res = NULL;
    if (sl_conn_query(r->c, &res, "SELECT pg_catalog.pg_is_in_recovery()", 0, NULL, err) != 0) {
        sl_error_prefix(err, "secondary %s", sl_conn_describe(r->c));
        return -1;
    }
    bool standby = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return check_standby(r->c, standby, err);
}

/* use_secondary: an interrupted initial copy goes on on the replica once it has replayed up
 * to the stream's position, as a new one does. */
static int
wait_for_resumed(run *r, const plan *plans, size_t n, sl_error *err)
{
    sl_lsn need = 0;
    for (size_t i = 0; i < n; i++) {
        if (plans[i].skip || plans[i].log != LOG_RESUME)
            continue;
        json_t *v = sl_tap_state_get(r->a->state, plans[i].s->tap_stream_id, "lsn");
        if (json_is_integer(v) && (sl_lsn)json_integer_value(v) > need)
            need = (sl_lsn)json_integer_value(v);
    }
    return r->a->cfg->use_secondary && need ? wait_for_replay(r, need, err) : 0;
}

/* pgoutput streams what its publication publishes: every LOG_BASED table of the run. */
static int
ensure_publication(sl_conn *c, const sl_tap_config *cfg, const plan *plans, size_t n,
                   sl_error *err)
{
    if (cfg->logical_decoding_plugin != SL_TAP_PLUGIN_PGOUTPUT)
        return 0;
    sl_tap_logical_table *t = sl_calloc(n + 1, sizeof *t);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!plans[i].skip && plans[i].log != LOG_NONE)
            t[m++] = (sl_tap_logical_table){plans[i].s, plans[i].rel, NULL, 0};
    int rc = sl_tap_logical_publication(c, cfg, t, m, err);
    free(t);
    return rc;
}

/* ---- diagnostic_mode -------------------------------------------------------------------- */

/* The server and the settings that bound how fast it reads and sorts, as this session has
 * them (the config's work_mem included). */
static int
log_server_diagnostics(sl_conn *c, sl_error *err)
{
    PGresult *res = NULL;
    if (sl_conn_query(c, &res, "SELECT pg_catalog.current_setting('server_version'),"
                               " pg_catalog.current_setting('work_mem'),"
                               " pg_catalog.current_setting('shared_buffers'),"
                               " pg_catalog.current_setting('effective_cache_size')",
                      0, NULL, err) != 0)
        return -1;
    SL_INFO("diagnostic: server version %s, work_mem %s, shared_buffers %s, "
            "effective_cache_size %s", PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
            PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3));
    PQclear(res);
    return 0;
}

/* A stream's size on disk (indexes and TOAST included) and the planner's row estimate; a
 * partitioned table's are its partitions' sum. No estimate before the first ANALYZE. */
static int
log_stream_diagnostics(sl_conn *c, const plan *p, sl_error *err)
{
    const char *params[] = {p->rel->schema, p->rel->table};
    PGresult *res = NULL;
    if (sl_conn_query(c, &res,
                      "WITH r(oid) AS (SELECT pg_catalog.format('%I.%I', $1::text, $2::text)"
                      "::pg_catalog.regclass::pg_catalog.oid)"
                      " SELECT pg_catalog.pg_size_pretty(pg_catalog.sum("
                      "pg_catalog.pg_total_relation_size(c.oid))),"
                      " pg_catalog.sum(c.reltuples) FILTER (WHERE c.reltuples >= 0)::int8"
                      " FROM pg_catalog.pg_class c, r WHERE c.oid = r.oid OR c.oid IN"
                      " (SELECT relid FROM pg_catalog.pg_partition_tree(r.oid))",
                      2, params, err) != 0) {
        sl_error_prefix(err, "stream \"%s\"", p->s->tap_stream_id);
        return -1;
    }
    SL_INFO("diagnostic: stream \"%s\": size %s, estimated rows %s", p->s->tap_stream_id,
            PQgetvalue(res, 0, 0), PQgetisnull(res, 0, 1) ? "unknown (never analyzed)"
                                                          : PQgetvalue(res, 0, 1));
    PQclear(res);
    return 0;
}

static int
log_diagnostics(sl_conn *c, const plan *plans, size_t n, sl_error *err)
{
    if (log_server_diagnostics(c, err) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!plans[i].skip && log_stream_diagnostics(c, &plans[i], err) != 0)
            return -1;
    return 0;
}

int
sl_tap_sync(sl_conn *c, const sl_tap_sync_args *a, sl_error *err)
{
    run r = {.c = c, .pc = c, .a = a, .out = SL_BUF_INIT, .row = SL_COPYROW_INIT,
             .stream_name = SL_BUF_INIT};
    size_t n = a->catalog->nstreams;
    plan *plans = sl_calloc(n + 1, sizeof *plans);
    sl_tap_logical_snapshot *snap = NULL;
    char *current = a->state && sl_tap_state_currently_syncing(a->state)
                        ? sl_strdup(sl_tap_state_currently_syncing(a->state))
                        : NULL;
    int rc = -1;
    sl_jsonw_init(&r.w, &r.out);
    if (n == 0)
        SL_WARN("catalog \"%s\" selects no stream: nothing to sync", a->catalog_name);
    /* first: the names the plan reads must come in the encoding the catalog's are compared in */
    if (sl_conn_exec(c, sl_tap_value_session_sql(), err) != 0)
        goto done;
    for (size_t i = 0; i < n; i++) {
        plans[i].s = &a->catalog->streams[i];
        if (plan_stream(&r, &plans[i], err) != 0)
            goto done;
    }
    if (a->cfg->diagnostic_mode && log_diagnostics(c, plans, n, err) != 0)
        goto done;
    sl_lsn end_lsn = 0;
    if (any_log(plans, n, LOG_NONE) && (open_primary(&r, err) != 0 ||
                                        sl_tap_logical_check_server(r.pc, err) != 0 ||
                                        sl_tap_logical_current_lsn(r.pc, &end_lsn, err) != 0 ||
                                        ensure_publication(r.pc, a->cfg, plans, n, err) != 0 ||
                                        wait_for_resumed(&r, plans, n, err) != 0))
        goto done;
    if (any_log(plans, n, LOG_INITIAL) && begin_snapshot(&r, &snap, err) != 0)
        goto done;
    order_plans(plans, n, current);
    for (size_t i = 0; i < n; i++)
        if (!plans[i].skip && plans[i].log != LOG_STREAM && sync_stream(&r, &plans[i], err) != 0)
            goto done;
    if (r.copy_tx) {
        if (sl_conn_exec(c, "COMMIT", err) != 0)
            goto done;
        r.copy_tx = false;
        sl_tap_logical_snapshot_close(snap);
        snap = NULL;
    }
    if (flush(&r, err) != 0 || stream_logical(&r, plans, n, end_lsn, err) != 0)
        goto done;
    rc = flush(&r, err);
done:
    sl_tap_logical_snapshot_close(snap);
    sl_conn_close(r.own_pc);
    free(r.lplans);
    free(r.ltables);
    free(current);
    json_decref(r.version);
    sl_copyrow_free(&r.row);
    sl_buf_free(&r.out);
    sl_buf_free(&r.stream_name);
    plans_free(plans, n);
    return rc;
}
