/* tap/logical.c: see logical.h.
 * Design: one replication connection streams; one loop reads a message at a time and keeps
 * three facts: whether it is inside a transaction (between wal2json's B and C), the end of the
 * last commit seen (everything before it is emitted: the next "lsn") and how many changes
 * passed since the last STATE. Stops (time, end position) are only taken between
 * transactions, so a STATE's lsn always follows whole transactions. The connection the run
 * started from is the only position the server is ever told. */
#include "tap/logical.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "pg/pgoutput.h"
#include "tap/jsondoc.h"
#include "tap/schema.h"
#include "tap/value.h"
#include "tap/wal2json.h"

/* How long the stream may be quiet before what is emitted is flushed and the server is asked how
 * far it has decoded: a run that has caught up stops within about this much. */
#define POLL_MS 100
/* A long stream logs its progress this often (seconds), and once at the end. */
#define METRICS_INTERVAL_S 60.0

/* ---- server ----------------------------------------------------------------------------- */

static int
query_one(sl_conn *c, const char *sql, char *out, size_t outlen, sl_error *err)
{
    PGresult *res = NULL;
    if (sl_conn_query(c, &res, sql, 0, NULL, err) != 0)
        return -1;
    snprintf(out, outlen, "%s", PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
    return 0;
}

int
sl_tap_logical_check_server(sl_conn *c, sl_error *err)
{
    char level[64];
    if (query_one(c, "SELECT pg_catalog.current_setting('wal_level')", level, sizeof level,
                  err) != 0)
        return -1;
    if (strcmp(level, "logical") != 0) {
        sl_error_set(err, SL_E_USAGE, "LOG_BASED replication needs the server's wal_level to be "
                     "logical, and it is %s: set wal_level = logical in postgresql.conf (or ALTER "
                     "SYSTEM SET wal_level = logical) and restart the server", level);
        return -1;
    }
    return 0;
}

int
sl_tap_logical_current_lsn(sl_conn *c, sl_lsn *out, sl_error *err)
{
    char text[64];
    if (query_one(c, "SELECT pg_catalog.pg_current_wal_insert_lsn()", text, sizeof text,
                  err) != 0)
        return -1;
    if (!sl_lsn_parse(text, out)) {
        sl_error_set(err, SL_E_SERVER, "the server sent \"%.40s\" as its WAL position", text);
        return -1;
    }
    /* At the start of a page the insert position is past the page header, where no record
     * ends: the record before ends at the page boundary, which is what the server reports
     * as decoded (8 kB pages and 16 MB segments, the defaults). */
    if (*out % (16u << 20) == 40)
        *out -= 40;
    else if (*out % 8192 == 24)
        *out -= 24;
    return 0;
}

/* pipelinewise's generate_replication_slot_name(): lowercase, anything else is "_" (one per
 * character, as Python's re.sub counts them). */
static char *
pipelinewise_name(const char *dbname, const char *tap_id)
{
    sl_buf raw = SL_BUF_INIT, out = SL_BUF_INIT;
    sl_buf_printf(&raw, "pipelinewise_%s%s%s", dbname, tap_id ? "_" : "", tap_id ? tap_id : "");
    for (size_t i = 0; i < raw.len; i++) {
        unsigned char ch = (unsigned char)raw.data[i];
        if (ch >= 0x80 && ch < 0xc0)
            continue;  /* a UTF-8 continuation byte: its character is already a "_" */
        if (ch >= 'A' && ch <= 'Z')
            ch = (unsigned char)(ch - 'A' + 'a');
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
        sl_buf_putc(&out, ok ? (char)ch : '_');
    }
    sl_buf_free(&raw);
    return sl_buf_steal(&out);
}

int
sl_tap_logical_slot_name(sl_conn *lookup, const sl_tap_config *cfg, char **out, sl_error *err)
{
    *out = NULL;
    if (cfg->replication_slot_name) {
        *out = sl_strdup(cfg->replication_slot_name);
        return 0;
    }
    char *old = pipelinewise_name(cfg->dbname, NULL);
    if (lookup && cfg->tap_id) {
        sl_repl_slot_info info;
        if (sl_repl_slot_read(lookup, old, &info, err) != 0) {
            free(old);
            return -1;
        }
        if (info.exists) {
            *out = old;
            return 0;
        }
    }
    free(old);
    *out = pipelinewise_name(cfg->dbname, cfg->tap_id);
    return 0;
}

static int
open_replication(sl_conn **out, const sl_tap_logical_conn *rc, sl_error *err)
{
    sl_conn_opts opts = *rc->opts;
    opts.replication = true;
    if (sl_conn_open(out, rc->ci, &opts, err) != 0)
        return -1;
    /* the walsender prints values with these settings, as a COPY of the sync would */
    if (sl_conn_exec(*out, sl_tap_value_session_sql(), err) != 0) {
        sl_conn_close(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

static const char *
plugin_name(const sl_tap_config *cfg)
{
    return cfg->logical_decoding_plugin == SL_TAP_PLUGIN_PGOUTPUT ? "pgoutput" : "wal2json";
}

static int
check_plugin(const sl_repl_slot_info *info, const char *slot, const sl_tap_config *cfg,
             sl_error *err)
{
    if (strcmp(info->plugin, plugin_name(cfg)) != 0) {
        sl_error_set(err, SL_E_USAGE, "replication slot %s decodes with %s: LOG_BASED streams "
                     "read a slot of %s (logical_decoding_plugin)", slot, info->plugin,
                     plugin_name(cfg));
        return -1;
    }
    return 0;
}

/* ---- pgoutput's publication ------------------------------------------------------------- */

char *
sl_tap_logical_publication_name(const sl_tap_config *cfg)
{
    return cfg->publication_name ? sl_strdup(cfg->publication_name)
                                 : pipelinewise_name(cfg->dbname, cfg->tap_id);
}

static int
publication_exists(sl_conn *c, const char *name, bool *out, sl_error *err)
{
    const char *params[] = {name};
    PGresult *res = NULL;
    if (sl_conn_query(c, &res, "SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = $1", 1,
                      params, err) != 0)
        return -1;
    *out = PQntuples(res) == 1;
    PQclear(res);
    return 0;
}

/* Appends to missing the tables (schema.table, quoted) the publication does not publish. A
 * partitioned table is published as itself (publish_via_partition_root) or as all its leaf
 * partitions (without it: pg_publication_tables lists the leaves, whose changes come under
 * their own names and are mapped to their root while streaming). */
static int
publication_lacks(sl_conn *c, const char *name, const sl_tap_logical_table *t, size_t n,
                  sl_buf *missing, sl_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const char *params[] = {name, t[i].s->schema_name, t[i].s->table_name};
        PGresult *res = NULL;
        if (sl_conn_query(c, &res, "SELECT pg_catalog.format('%I.%I', $2::text, $3::text),"
                          " EXISTS (SELECT FROM pg_catalog.pg_publication_tables"
                          " WHERE pubname = $1 AND schemaname = $2 AND tablename = $3)"
                          " OR (SELECT relkind FROM pg_catalog.pg_class WHERE oid ="
                          " pg_catalog.format('%I.%I', $2::text, $3::text)::pg_catalog.regclass)"
                          " = 'p' AND NOT EXISTS (SELECT FROM pg_catalog.pg_partition_tree("
                          "pg_catalog.format('%I.%I', $2::text, $3::text)::pg_catalog.regclass) l"
                          " WHERE l.isleaf AND NOT EXISTS (SELECT FROM"
                          " pg_catalog.pg_publication_tables p WHERE p.pubname = $1 AND"
                          " pg_catalog.format('%I.%I', p.schemaname, p.tablename)"
                          "::pg_catalog.regclass = l.relid))",
                          3, params, err) != 0)
            return -1;
        if (PQgetvalue(res, 0, 1)[0] != 't')
            sl_buf_printf(missing, "%s%s", missing->len ? ", " : "", PQgetvalue(res, 0, 0));
        PQclear(res);
    }
    return 0;
}

static int
publication_create(sl_conn *c, const char *name, const sl_tap_logical_table *t, size_t n,
                   sl_error *err)
{
    sl_buf sql = SL_BUF_INIT;
    char *q = sl_conn_quote_ident(c, name);
    sl_buf_printf(&sql, "CREATE PUBLICATION %s FOR TABLE ", q ? q : "\"\"");
    free(q);
    for (size_t i = 0; i < n; i++) {
        char *sq = sl_conn_quote_ident(c, t[i].s->schema_name);
        char *tq = sl_conn_quote_ident(c, t[i].s->table_name);
        sl_buf_printf(&sql, "%s%s.%s", i ? ", " : "", sq ? sq : "\"\"", tq ? tq : "\"\"");
        free(sq);
        free(tq);
    }
    /* a partitioned table's changes then come as its own, whichever partition holds the row
     * (those attached later too) */
    sl_buf_puts(&sql, " WITH (publish_via_partition_root = true)");
    SL_INFO("creating publication %s", name);
    int rc = sl_conn_exec(c, sql.data, err);
    sl_buf_free(&sql);
    return rc;
}

int
sl_tap_logical_publication(sl_conn *c, const sl_tap_config *cfg, const sl_tap_logical_table *t,
                           size_t n, sl_error *err)
{
    char *name = sl_tap_logical_publication_name(cfg);
    sl_buf missing = SL_BUF_INIT;
    bool exists = false;
    int rc = -1;
    if (publication_exists(c, name, &exists, err) != 0)
        goto done;
    if (!exists) {
        rc = n ? publication_create(c, name, t, n, err) : 0;
        goto done;
    }
    if (publication_lacks(c, name, t, n, &missing, err) != 0)
        goto done;
    if (missing.len) {
        sl_error_set(err, SL_E_USAGE, "publication %s does not publish %s: add them (ALTER "
                     "PUBLICATION ... ADD TABLE) or name another publication_name", name,
                     missing.data);
        goto done;
    }
    rc = 0;
done:
    sl_buf_free(&missing);
    free(name);
    return rc;
}

/* ---- the initial copy's snapshot --------------------------------------------------------- */

struct sl_tap_logical_snapshot {
    sl_conn *c;
    char *name;
};

int
sl_tap_logical_snapshot_open(sl_tap_logical_snapshot **out, const sl_tap_config *cfg,
                             const sl_tap_logical_conn *rc, bool create_slot, sl_lsn *lsn,
                             sl_error *err)
{
    sl_tap_logical_snapshot *s = sl_calloc(1, sizeof *s);
    char *slot = NULL;
    sl_repl_slot_info info;
    int ret = -1;
    *out = NULL;
    if (open_replication(&s->c, rc, err) != 0 ||
        sl_tap_logical_slot_name(s->c, cfg, &slot, err) != 0 ||
        sl_repl_slot_read(s->c, slot, &info, err) != 0)
        goto done;
    if (info.exists) {
        char temp[64];
        if (check_plugin(&info, slot, cfg, err) != 0)
            goto done;
        snprintf(temp, sizeof temp, "sluice_tap_%ld_%ld", (long)getpid(), (long)time(NULL));
        SL_INFO("replication slot %s exists: the initial copy takes the snapshot of a "
                "temporary slot", slot);
        if (sl_repl_slot_create_temporary(s->c, temp, plugin_name(cfg), lsn, &s->name, err) != 0)
            goto done;
    } else if (!create_slot) {
        sl_error_set(err, SL_E_USAGE, "replication slot %s does not exist (and --no-create-slot "
                     "was given): create it with SELECT pg_create_logical_replication_slot('%s', "
                     "'%s')", slot, slot, plugin_name(cfg));
        goto done;
    } else {
        SL_INFO("creating replication slot %s (%s)", slot, plugin_name(cfg));
        if (sl_repl_slot_create(s->c, slot, plugin_name(cfg), true, lsn, &s->name, err) != 0)
            goto done;
    }
    if (!s->name) {
        sl_error_set(err, SL_E_SERVER, "the server exported no snapshot for slot %s", slot);
        goto done;
    }
    char text[SL_LSN_TEXT];
    sl_lsn_format(*lsn, text);
    SL_INFO("initial copy of LOG_BASED streams as of WAL position %s (snapshot %s)", text,
            s->name);
    *out = s;
    s = NULL;
    ret = 0;
done:
    free(slot);
    sl_tap_logical_snapshot_close(s);
    return ret;
}

const char *
sl_tap_logical_snapshot_name(const sl_tap_logical_snapshot *s)
{
    return s->name;
}

void
sl_tap_logical_snapshot_close(sl_tap_logical_snapshot *s)
{
    if (!s)
        return;
    sl_conn_close(s->c);
    free(s->name);
    free(s);
}

/* ---- wal2json's text ---------------------------------------------------------------------- */

void
sl_tap_logical_add_tables(sl_buf *out, const sl_tap_logical_table *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *parts[2] = {t[i].s->schema_name, t[i].s->table_name};
        if (i)
            sl_buf_putc(out, ',');
        for (int k = 0; k < 2; k++) {
            if (k)
                sl_buf_putc(out, '.');
            for (const char *p = parts[k]; *p; p++) {
                if (strchr(" ',.*\\", *p))
                    sl_buf_putc(out, '\\');
                sl_buf_putc(out, *p);
            }
        }
    }
}

/* ---- streaming ---------------------------------------------------------------------------- */

/* One column of a change: its value's output text (NULL: null). */
typedef struct change_col {
    const char *name;
    const char *text;
    size_t len;
    bool from_old;             /* unchanged in the new row (out of line): the old row's */
} change_col;

/* One insert, update or delete of a streamed table, whatever the plugin. */
typedef struct change {
    char action;               /* 'I', 'U', 'D' */
    size_t table;              /* into the args' tables */
    change_col *cols;
    size_t ncols;
    size_t nold;               /* of them from_old */
    const char *commit_time;   /* the server's timestamptz text, UTC ("+00") */
    sl_lsn lsn;
} change;

/* A relation changes came from that is not a stream's own table: the stream whose
 * partitioned table it is a partition of, or -1. */
typedef struct other_rel {
    char *schema;
    char *table;
    ssize_t index;
} other_rel;

typedef struct stream {
    const sl_tap_logical_args *a;
    bool partitioned;          /* a streamed table is partitioned: partitions are looked up */
    other_rel *others;         /* the relations looked up so far */
    size_t nothers;
    sl_pgoutput *pgo;          /* the decoder of a pgoutput slot; NULL for wal2json */
    sl_tap_wal2json *w2j;      /* the decoder of a wal2json slot; NULL for pgoutput */
    change ch;
    size_t ch_cap;
    sl_buf commit_time;        /* pgoutput: the current transaction's */
    bool in_tx;
    sl_lsn committed;          /* end of the last commit seen: all before it is emitted */
    sl_lsn start;
    int64_t since_state;
    int64_t changes;
    int64_t *table_changes;    /* per table: the RECORDs emitted */
    double now;                /* monotonic seconds, read once per message outside a
                                * transaction and every 64 messages inside one */
    unsigned since_clock;      /* messages since now was read */
    char **stream_names;       /* per table: "schema-table", made on its first RECORD */
    char last_ts[40];          /* the last commit time made a time_extracted, and that */
    char last_extracted[32];
    double last_change;        /* monotonic seconds */
    double started;            /* when the stream began */
    double last_metrics;       /* when progress was last logged */
} stream;

/* "2026-12-03 14:43:02.867396+00" (DateStyle ISO, TimeZone UTC) as singer's strftime writes
 * it: "2026-12-03T14:43:02.867396Z". false for any other text. */
static bool
singer_time(const char *ts, char out[32])
{
    size_t len = strlen(ts);
    if (len < 22 || ts[10] != ' ' || strcmp(ts + len - 3, "+00") != 0)
        return false;
    char frac[7] = "000000";
    size_t body = len - 3;
    if (body > 19) {
        if (ts[19] != '.' || body - 20 > 6 || body - 20 == 0)
            return false;
        memcpy(frac, ts + 20, body - 20);
    } else if (body != 19) {
        return false;
    }
    snprintf(out, 32, "%.10sT%.8s.%sZ", ts, ts + 11, frac);
    return true;
}

/* The commit time's time_extracted: a transaction's changes share it, so the last is kept. */
static bool
extracted_time(stream *st, const char *ts)
{
    if (strcmp(ts, st->last_ts) == 0)
        return true;
    if (strlen(ts) >= sizeof st->last_ts || !singer_time(ts, st->last_extracted)) {
        st->last_ts[0] = '\0';
        return false;
    }
    strcpy(st->last_ts, ts);
    return true;
}

/* The column of rel with that name (*at its index), or NULL. A change's columns come in the
 * relation's order: the one at hint is tried first. */
static const sl_tap_column *
column_named(const sl_tap_relation *rel, const char *name, size_t hint, size_t *at)
{
    if (hint < rel->ncols && strcmp(rel->cols[hint].name, name) == 0) {
        *at = hint;
        return &rel->cols[hint];
    }
    for (size_t i = 0; i < rel->ncols; i++) {
        if (strcmp(rel->cols[i].name, name) == 0) {
            *at = i;
            return &rel->cols[i];
        }
    }
    return NULL;
}

static bool
wanted(const sl_tap_logical_table *t, size_t at)
{
    for (size_t i = 0; i < t->nwant; i++)
        if (t->want[i] == at)
            return true;
    return false;
}

static const sl_tap_column deleted_at_col = {.name = "_sdc_deleted_at",
                                             .sql_type = "timestamp with time zone"};

static const change_col *
change_col_named(const change *ch, const char *name, bool from_old)
{
    for (size_t i = 0; i < ch->ncols; i++)
        if (ch->cols[i].from_old == from_old && strcmp(ch->cols[i].name, name) == 0)
            return &ch->cols[i];
    return NULL;
}

static int
write_value(stream *st, const sl_tap_column *col, const change_col *v, sl_error *err)
{
    if (!v->text) {
        sl_tap_value_write_null(st->a->w, col);
        return 0;
    }
    return sl_tap_value_write(st->a->w, col, v->text, v->len, err);
}

/* The "record" object of a change: the wanted columns of the new row in its order, then the
 * unchanged out-of-line ones the old row has (REPLICA IDENTITY FULL). */
static int
write_columns(stream *st, const sl_tap_logical_table *t, const change *ch, sl_error *err)
{
    sl_jsonw *w = st->a->w;
    for (size_t i = 0; i < ch->ncols; i++) {
        size_t at;
        if (ch->cols[i].from_old)
            continue;
        const sl_tap_column *col = column_named(t->rel, ch->cols[i].name, i, &at);
        if (!col || !wanted(t, at))
            continue;
        sl_jsonw_keyz(w, col->name);
        if (write_value(st, col, &ch->cols[i], err) != 0)
            return -1;
    }
    for (size_t k = 0; ch->nold && k < t->nwant; k++) {
        const sl_tap_column *col = &t->rel->cols[t->want[k]];
        const change_col *o = change_col_named(ch, col->name, true);
        if (!o || change_col_named(ch, col->name, false))
            continue;
        sl_jsonw_keyz(w, col->name);
        if (write_value(st, col, o, err) != 0)
            return -1;
    }
    return 0;
}

/* Whether an insert's or update's columns name one the stream's relation does not have. */
static bool
has_new_column(const sl_tap_logical_table *t, const change *ch)
{
    size_t at;
    for (size_t i = 0; i < ch->ncols; i++)
        if (!ch->cols[i].from_old && !column_named(t->rel, ch->cols[i].name, i, &at))
            return true;
    return false;
}

static json_t *
bookmark_version(stream *st, const sl_tap_logical_table *t, sl_error *err)
{
    json_t *v = sl_tap_state_get(st->a->state, t->s->tap_stream_id, "version");
    if (!v || json_is_null(v))
        sl_error_set(err, SL_E_USAGE, "state: LOG_BASED stream \"%s\" has an lsn but no version",
                     t->s->tap_stream_id);
    return v && !json_is_null(v) ? v : NULL;
}

static int
write_record(stream *st, const change *ch, sl_error *err)
{
    const sl_tap_logical_args *a = st->a;
    size_t ti = ch->table;
    sl_tap_logical_table *t = &a->tables[ti];
    const char *ts = ch->commit_time;
    if (!ts || !extracted_time(st, ts)) {
        sl_error_set(err, SL_E_SERVER, "the replication slot sent a change of stream \"%s\" "
                     "without its commit time", t->s->tap_stream_id);
        return -1;
    }
    if (ch->action != 'D' && has_new_column(t, ch)) {
        SL_INFO("stream \"%s\": a change names a new column, reading the table again",
                t->s->tap_stream_id);
        if (a->replan(a->ctx, ti, err) != 0)
            return -1;
        a->schema(a->ctx, ti);
    }
    json_t *version = bookmark_version(st, t, err);
    if (!version)
        return -1;
    sl_jsonw *w = a->w;
    size_t line = a->out->len;
    if (!st->stream_names[ti]) {
        sl_buf name = SL_BUF_INIT;
        sl_buf_printf(&name, "%s-%s", t->s->schema_name, t->s->table_name);
        st->stream_names[ti] = sl_buf_steal(&name);
    }
    sl_jsonw_object_begin(w);
    sl_jsonw_keyz(w, "type");
    sl_jsonw_stringz(w, "RECORD");
    sl_jsonw_keyz(w, "stream");
    sl_jsonw_stringz(w, st->stream_names[ti]);
    sl_jsonw_keyz(w, "record");
    sl_jsonw_object_begin(w);
    int rc = write_columns(st, t, ch, err);
    if (rc == 0) {
        sl_jsonw_keyz(w, "_sdc_deleted_at");
        if (ch->action == 'D')
            rc = sl_tap_value_write(w, &deleted_at_col, ts, strlen(ts), err);
        else
            sl_jsonw_null(w);
    }
    if (rc != 0) {
        sl_error_prefix(err, "stream \"%s\"", t->s->tap_stream_id);
        a->out->len = line;  /* only whole messages are emitted */
        sl_jsonw_init(w, a->out);
        return -1;
    }
    if (a->cfg->debug_lsn) {
        char text[24];
        snprintf(text, sizeof text, "%" PRIu64, ch->lsn);
        sl_jsonw_keyz(w, "_sdc_lsn");
        sl_jsonw_stringz(w, text);
    }
    sl_jsonw_object_end(w);
    sl_jsonw_keyz(w, "version");
    sl_tap_jsondoc_write(w, version);
    sl_jsonw_keyz(w, "time_extracted");
    sl_jsonw_stringz(w, st->last_extracted);
    sl_jsonw_object_end(w);
    sl_buf_putc(a->out, '\n');
    return 0;
}

static int
emit_state(stream *st, sl_error *err)
{
    const sl_tap_logical_args *a = st->a;
    for (size_t i = 0; i < a->ntables; i++) {
        /* never back: a stream whose initial copy is newer than the others' bookmarks keeps
         * its own until the stream passes it */
        const char *id = a->tables[i].s->tap_stream_id;
        json_t *own = sl_tap_state_get(a->state, id, "lsn");
        if (!json_is_integer(own) || (sl_lsn)json_integer_value(own) < st->committed)
            sl_tap_state_set(a->state, id, "lsn", json_integer((json_int_t)st->committed));
    }
    sl_jsonw_object_begin(a->w);
    sl_jsonw_keyz(a->w, "type");
    sl_jsonw_stringz(a->w, "STATE");
    sl_jsonw_keyz(a->w, "value");
    sl_tap_state_write(a->state, a->w);
    sl_jsonw_object_end(a->w);
    sl_buf_putc(a->out, '\n');
    st->since_state = 0;
    return a->flush(a->ctx, err);
}

static ssize_t
table_named(const stream *st, const char *schema, const char *table)
{
    for (size_t i = 0; schema && table && i < st->a->ntables; i++) {
        const sl_tap_stream *s = st->a->tables[i].s;
        if (strcmp(s->schema_name, schema) == 0 && strcmp(s->table_name, table) == 0)
            return (ssize_t)i;
    }
    return -1;
}

/* The stream of the partitioned table that schema.table is a partition of (at any depth), as
 * the catalog has it now: -1 when it is none's. A relation gone since its changes were
 * written cannot be told: it is skipped with a warning, never silently. */
static int
lookup_root(stream *st, const char *schema, const char *table, ssize_t *out, sl_error *err)
{
    const char *params[] = {schema, table};
    PGresult *res = NULL;
    *out = -1;
    if (sl_conn_query(st->a->lookup, &res,
                      "SELECT rn.nspname, r.relname FROM pg_catalog.pg_class c"
                      " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                      " LEFT JOIN pg_catalog.pg_class r ON c.relispartition AND"
                      " r.oid = pg_catalog.pg_partition_root(c.oid)"
                      " LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace"
                      " WHERE n.nspname = $1 AND c.relname = $2", 2, params, err) != 0) {
        sl_error_prefix(err, "looking up the table of a change, \"%s\".\"%s\"", schema, table);
        return -1;
    }
    if (PQntuples(res) == 0)
        SL_WARN("changes of table \"%s\".\"%s\", which no longer exists, are skipped: if it was "
                "a partition of a LOG_BASED stream's table, that stream misses them", schema,
                table);
    else if (!PQgetisnull(res, 0, 0))
        *out = table_named(st, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
    if (*out >= 0)
        SL_INFO("changes of partition \"%s\".\"%s\" go to stream \"%s\"", schema, table,
                st->a->tables[*out].s->tap_stream_id);
    PQclear(res);
    return 0;
}

/* The stream a change of schema.table belongs to (-1: none): its own table's, else, when a
 * streamed table is partitioned, its partitioned table's (the name is looked up once). */
static int
change_table(stream *st, const char *schema, const char *table, ssize_t *out, sl_error *err)
{
    *out = table_named(st, schema, table);
    if (*out >= 0 || !st->partitioned || !schema || !table)
        return 0;
    for (size_t i = 0; i < st->nothers; i++) {
        if (strcmp(st->others[i].schema, schema) == 0 && strcmp(st->others[i].table, table) == 0) {
            *out = st->others[i].index;
            return 0;
        }
    }
    if (lookup_root(st, schema, table, out, err) != 0)
        return -1;
    st->others = sl_realloc(st->others, (st->nothers + 1) * sizeof *st->others);
    st->others[st->nothers++] = (other_rel){sl_strdup(schema), sl_strdup(table), *out};
    return 0;
}

static void
change_reset(stream *st, char action, size_t ti, sl_lsn lsn, const char *commit_time)
{
    st->ch.action = action;
    st->ch.table = ti;
    st->ch.lsn = lsn;
    st->ch.commit_time = commit_time;
    st->ch.ncols = 0;
    st->ch.nold = 0;
}

static void
change_add(stream *st, const char *name, const char *text, size_t len, bool from_old)
{
    if (st->ch.ncols == st->ch_cap) {
        st->ch_cap = st->ch_cap ? 2 * st->ch_cap : 16;
        st->ch.cols = sl_realloc(st->ch.cols, st->ch_cap * sizeof *st->ch.cols);
    }
    st->ch.cols[st->ch.ncols++] = (change_col){name, text, len, from_old};
    st->ch.nold += from_old;
}

/* The change in st->ch: its RECORD, counted. */
static int
take_change(stream *st, sl_error *err)
{
    int rc = write_record(st, &st->ch, err);
    st->since_state++;
    st->changes++;
    st->table_changes[st->ch.table]++;
    st->last_change = st->now;
    if (rc == 0 && st->a->out->len >= ((size_t)1 << 20))
        rc = st->a->flush(st->a->ctx, err);
    return rc;
}

/* A commit ending at end: what came before is emitted. */
static int
take_commit(stream *st, sl_lsn end, sl_error *err)
{
    st->in_tx = false;
    st->committed = end;
    return st->since_state >= st->a->cfg->itersize ? emit_state(st, err) : 0;
}

static bool
col_listed(const sl_tap_wal2json_col *list, size_t n, const sl_tap_wal2json_col *c)
{
    for (size_t i = 0; i < n; i++)
        if (list[i].name_len == c->name_len && memcmp(list[i].name, c->name, c->name_len) == 0)
            return true;
    return false;
}

/* The entries of a wal2json column list, those also named in skip left out (NULL: none). */
static void
wal2json_add(stream *st, const sl_tap_wal2json_col *cols, size_t n,
             const sl_tap_wal2json_col *skip, size_t nskip)
{
    for (size_t i = 0; i < n; i++)
        if (!skip || !col_listed(skip, nskip, &cols[i]))
            change_add(st, cols[i].name, cols[i].text, cols[i].len, skip != NULL);
}

/* A wal2json change: the new row's columns ("identity" for a delete), then the old row's
 * that the new one lacks (its unchanged out-of-line values under REPLICA IDENTITY FULL). */
static int
wal2json_change(stream *st, const sl_tap_wal2json_msg *msg, sl_lsn lsn, sl_error *err)
{
    ssize_t ti;
    if (change_table(st, msg->schema, msg->table, &ti, err) != 0)
        return -1;
    if (ti < 0)
        return 0;
    bool del = msg->action == 'D';
    if (!(del ? msg->has_identity : msg->has_columns)) {
        sl_error_set(err, SL_E_SERVER, "wal2json sent a change of stream \"%s\" without its "
                     "columns", st->a->tables[ti].s->tap_stream_id);
        return -1;
    }
    change_reset(st, msg->action, (size_t)ti, lsn, msg->timestamp);
    if (del) {
        wal2json_add(st, msg->identity, msg->nidentity, NULL, 0);
    } else {
        wal2json_add(st, msg->columns, msg->ncolumns, NULL, 0);
        wal2json_add(st, msg->identity, msg->nidentity, msg->columns, msg->ncolumns);
    }
    return take_change(st, err);
}

/* One wal2json message. */
static int
take_wal2json(stream *st, const sl_repl_msg *m, sl_error *err)
{
    if (m->len > SL_TAP_LOGICAL_MAX_MESSAGE) {
        sl_error_set(err, SL_E_UNSUPPORTED, "a wal2json message of %zu bytes is over the %zu "
                     "bytes sluice reads at once", m->len, SL_TAP_LOGICAL_MAX_MESSAGE);
        return -1;
    }
    sl_tap_wal2json_msg msg;
    if (sl_tap_wal2json_decode(st->w2j, m->data, m->len, &msg, err) != 0) {
        sl_error_prefix(err, "the replication slot sent a message that is not wal2json's "
                        "format-version 2 (is the slot's plugin wal2json?)");
        return -1;
    }
    switch (msg.action) {
    case 'B':
        st->in_tx = true;
        return 0;
    case 'C':
        return take_commit(st, m->start, err);
    case 'I':
    case 'U':
    case 'D':
        return wal2json_change(st, &msg, m->start, err);
    default:
        return 0;  /* messages, truncates: not asked for */
    }
}

/* A commit time as the server prints a timestamptz in UTC ("2026-12-03 14:43:02.8673+00"),
 * the text wal2json sends. */
static void
format_commit_time(int64_t us_since_2000, sl_buf *out)
{
    int64_t secs = us_since_2000 / 1000000, frac = us_since_2000 % 1000000;
    if (frac < 0) {
        frac += 1000000;
        secs--;
    }
    time_t t = (time_t)(secs + 946684800);
    struct tm tm;
    gmtime_r(&t, &tm);
    sl_buf_reset(out);
    sl_buf_printf(out, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (frac) {
        char digits[8];
        snprintf(digits, sizeof digits, "%06d", (int)frac);
        for (size_t n = 6; digits[n - 1] == '0'; n--)
            digits[n - 1] = '\0';
        sl_buf_printf(out, ".%s", digits);
    }
    sl_buf_printf(out, "+00");
}

/* A pgoutput change: the new row's columns (the old row's for a delete: its key columns when
 * it is only the replica identity), an unchanged out-of-line one taken from the old row when
 * that has it. */
static int
pgoutput_change(stream *st, const sl_pgoutput_msg *pm, sl_lsn lsn, sl_error *err)
{
    const sl_pgoutput_relation *rel = pm->rel;
    ssize_t ti;
    if (change_table(st, rel->schema, rel->name, &ti, err) != 0)
        return -1;
    if (ti < 0)
        return 0;
    change_reset(st, pm->type, (size_t)ti, lsn, st->commit_time.len ? st->commit_time.data
                                                                     : NULL);
    for (size_t i = 0; i < rel->ncols; i++) {
        const sl_pgoutput_value *v = pm->type == 'D' ? &pm->old[i] : &pm->new_row[i];
        bool from_old = false;
        if (pm->type == 'D' && pm->old_kind == 'K' && !rel->cols[i].key)
            continue;  /* not sent: a null that is no value */
        if (v->kind == 'u') {
            if (!pm->old || (pm->old_kind != 'O' && !rel->cols[i].key) ||
                pm->old[i].kind == 'u')
                continue;
            v = &pm->old[i];
            from_old = true;
        }
        change_add(st, rel->cols[i].name, v->kind == 't' ? v->text : NULL, v->len, from_old);
    }
    return take_change(st, err);
}

/* One pgoutput message. */
static int
take_pgoutput(stream *st, const sl_repl_msg *m, sl_error *err)
{
    sl_pgoutput_msg pm;
    if (sl_pgoutput_decode(st->pgo, m->data, m->len, &pm, err) != 0)
        return -1;
    switch (pm.type) {
    case 'B':
        st->in_tx = true;
        format_commit_time(pm.commit_time, &st->commit_time);
        return 0;
    case 'C':
        return take_commit(st, m->start, err);
    case 'I':
    case 'U':
    case 'D':
        return pgoutput_change(st, &pm, m->start, err);
    default:
        return 0;  /* relations (kept by the decoder), types, origins, truncates */
    }
}

static int
take(stream *st, const sl_repl_msg *m, sl_error *err)
{
    return st->pgo ? take_pgoutput(st, m, err) : take_wal2json(st, m, err);
}

/* The options of START_REPLICATION; text holds what they point to. */
static void
start_options(const sl_tap_logical_args *a, sl_conn *c, sl_buf *text, const char *opts[16])
{
    if (a->cfg->logical_decoding_plugin == SL_TAP_PLUGIN_PGOUTPUT) {
        /* publication_names is a list of identifiers: the name goes quoted */
        char *name = sl_tap_logical_publication_name(a->cfg);
        char *q = sl_conn_quote_ident(c, name);
        sl_buf_printf(text, "%s", q ? q : "\"\"");
        free(q);
        free(name);
        const char *o[] = {"proto_version", "1", "publication_names", text->data, NULL};
        memcpy(opts, o, sizeof o);
        return;
    }
    /* wal2json names a change by its partition and add-tables matches that name: a partition
     * attached later would be filtered out unseen. With a partitioned table every change
     * comes, and the relations that are no stream's are looked up once each. */
    bool filter = true;
    for (size_t i = 0; i < a->ntables; i++)
        filter = filter && !a->tables[i].rel->partitioned;
    sl_tap_logical_add_tables(text, a->tables, a->ntables);
    const char *o[] = {"format-version", "2", "include-transaction", "1", "include-timestamp",
                       "1", "include-types", "0", "actions", "insert,update,delete",
                       filter ? "add-tables" : NULL, text->data, NULL};
    memcpy(opts, o, sizeof o);
}

/* One line: the RECORDs so far and their rate, overall and per stream. */
static void
log_metrics(stream *st, const char *when)
{
    double now = sl_clock_s(), secs = now - st->started;
    sl_buf line = SL_BUF_INIT;
    sl_buf_printf(&line, "LOG_BASED %s: %" PRId64 " messages in %.1f s, %.1f msg/s", when,
                  st->changes, secs, secs > 0 ? (double)st->changes / secs : 0.0);
    for (size_t i = 0; i < st->a->ntables; i++) {
        int64_t n = st->table_changes[i];
        sl_buf_printf(&line, "; stream \"%s\": %" PRId64 " messages, %.1f msg/s",
                      st->a->tables[i].s->tap_stream_id, n, secs > 0 ? (double)n / secs : 0.0);
    }
    SL_INFO("%s", line.data);
    sl_buf_free(&line);
    st->last_metrics = now;
}

/* Whether the loop stops before the next message; says why. */
static bool
time_to_stop(stream *st, sl_repl_stream *rs, double started)
{
    const sl_tap_config *cfg = st->a->cfg;
    double now = st->now;
    double poll_total = cfg->logical_poll_total_seconds > 0 ? cfg->logical_poll_total_seconds
                                                            : 10800.0;
    if (st->in_tx)
        return false;
    if (cfg->break_at_end_lsn && sl_repl_server_end(rs) >= st->a->end_lsn) {
        SL_INFO("stopping: the server has decoded past the WAL position the run started at");
        return true;
    }
    if (now - st->last_change > poll_total) {
        SL_INFO("stopping: %.0f seconds without a change", now - st->last_change);
        return true;
    }
    if (now - started >= (double)cfg->max_run_seconds) {
        SL_INFO("stopping: max_run_seconds (%" PRId64 ") reached", cfg->max_run_seconds);
        return true;
    }
    return false;
}

static sl_lsn
smallest_lsn(const sl_tap_logical_args *a)
{
    sl_lsn min = 0;
    for (size_t i = 0; i < a->ntables; i++) {
        json_t *v = sl_tap_state_get(a->state, a->tables[i].s->tap_stream_id, "lsn");
        sl_lsn l = json_is_integer(v) ? (sl_lsn)json_integer_value(v) : 0;
        if (i == 0 || l < min)
            min = l;
    }
    return min;
}

static int
open_stream(stream *st, sl_conn **conn, sl_repl_stream **rs, sl_error *err)
{
    const sl_tap_logical_args *a = st->a;
    char *slot = NULL;
    sl_repl_slot_info info;
    sl_buf tables = SL_BUF_INIT;
    const char *opts[16];
    int rc = -1;
    if (open_replication(conn, &a->conn, err) != 0 ||
        sl_tap_logical_slot_name(*conn, a->cfg, &slot, err) != 0 ||
        sl_repl_slot_read(*conn, slot, &info, err) != 0)
        goto done;
    if (!info.exists) {
        sl_error_set(err, SL_E_USAGE, "replication slot %s does not exist: the LOG_BASED "
                     "bookmarks of the state point into it (was it dropped?)", slot);
        goto done;
    }
    if (check_plugin(&info, slot, a->cfg, err) != 0)
        goto done;
    char from[SL_LSN_TEXT], to[SL_LSN_TEXT], confirmed[SL_LSN_TEXT];
    sl_lsn_format(st->start, from);
    sl_lsn_format(a->end_lsn, to);
    sl_lsn_format(info.confirmed, confirmed);
    if (info.confirmed > st->start)
        SL_WARN("replication slot %s has confirmed %s, past the state's lsn %s: the changes "
                "between are no longer on the server", slot, confirmed, from);
    SL_INFO("streaming %zu LOG_BASED streams from slot %s at %s (the run started at %s)",
            a->ntables, slot, from, to);
    start_options(a, *conn, &tables, opts);
    rc = sl_repl_start(rs, *conn, slot, st->start, opts,
                       (int)(a->cfg->poll_interval * 1000), err);
done:
    sl_buf_free(&tables);
    free(slot);
    return rc;
}

static int
stream_loop(stream *st, sl_repl_stream *rs, sl_error *err)
{
    double started = st->started = st->last_metrics = sl_clock_s();
    st->now = started;
    bool idle = false;
    for (;;) {
        /* a clock read costs as much as a small change: inside a transaction, where nothing
         * stops, it is read every 64 messages (and after a wait) */
        if (!st->in_tx || idle || ++st->since_clock % 64 == 0)
            st->now = sl_clock_s();
        if (time_to_stop(st, rs, started))
            return 0;
        if (st->now - st->last_metrics >= METRICS_INTERVAL_S)
            log_metrics(st, "so far");
        sl_repl_msg m;
        int got = sl_repl_next(rs, POLL_MS, &m, err);
        if (got < 0)
            return -1;
        if (got == 2) {
            sl_error_set(err, SL_E_SERVER, "the server ended the replication stream");
            return -1;
        }
        idle = got == 0;
        if (got == 1 && take(st, &m, err) != 0)
            return -1;
        /* idle: what is emitted goes out now, not with the next STATE; and how far the
         * server has decoded is asked (break_at_end_lsn) */
        if (got == 0 && (st->a->flush(st->a->ctx, err) != 0 ||
                         sl_repl_ask_position(rs, err) != 0))
            return -1;
    }
}

int
sl_tap_logical_stream(const sl_tap_logical_args *a, sl_error *err)
{
    stream st = {.a = a, .table_changes = sl_calloc(a->ntables + 1, sizeof(int64_t)),
                 .stream_names = sl_calloc(a->ntables + 1, sizeof(char *))};
    sl_conn *conn = NULL;
    sl_repl_stream *rs = NULL;
    int rc = -1;
    if (a->cfg->logical_decoding_plugin == SL_TAP_PLUGIN_PGOUTPUT)
        st.pgo = sl_pgoutput_new();
    else
        st.w2j = sl_tap_wal2json_new();
    for (size_t i = 0; i < a->ntables; i++)
        st.partitioned = st.partitioned || a->tables[i].rel->partitioned;
    st.start = st.committed = smallest_lsn(a);
    st.last_change = sl_clock_s();
    for (size_t i = 0; i < a->ntables; i++)
        a->schema(a->ctx, i);
    if (a->flush(a->ctx, err) != 0 || open_stream(&st, &conn, &rs, err) != 0)
        goto done;
    if (stream_loop(&st, rs, err) != 0)
        goto done;
    rc = emit_state(&st, err);
    log_metrics(&st, "done");
done:
    if (rs) {
        sl_error stop_err;
        sl_error_clear(&stop_err);
        if (sl_repl_stop(rs, &stop_err) != 0 && rc == 0) {
            *err = stop_err;
            rc = -1;
        }
    }
    sl_conn_close(conn);
    for (size_t i = 0; i < a->ntables; i++)
        free(st.stream_names[i]);
    free(st.stream_names);
    sl_buf_free(&st.commit_time);
    sl_pgoutput_free(st.pgo);
    sl_tap_wal2json_free(st.w2j);
    free(st.ch.cols);
    free(st.table_changes);
    for (size_t i = 0; i < st.nothers; i++) {
        free(st.others[i].schema);
        free(st.others[i].table);
    }
    free(st.others);
    return rc;
}
