#include "pg/widerow.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "pg/copytext.h"

/* Bytes of a bytea, characters of a text, per query: bounds the client's memory (a slice, its
 * hex or escaped form, libpq's buffer). A compressed value is decompressed from its start up to
 * the slice's end on every query, which is what keeps slices from being smaller. */
#define SLICE_UNITS (1024 * 1024)
#define EMIT_BYTES (1024 * 1024)   /* hand the row over in pieces of about this size */

typedef enum {
    COL_OTHER = 'o',  /* taken whole */
    COL_BYTEA = 'b',  /* sliced in bytes */
    COL_TEXT = 't',   /* sliced in characters */
} col_kind;

struct sl_widerow_table {
    size_t ncols;
    char **cols;  /* quoted names, attnum order, generated columns left out (as COPY's list) */
    char *kinds;  /* col_kind per column */
};

struct sl_widerow_plan {
    int64_t threshold;
    size_t ntables;
    sl_widerow_table **by_table;  /* NULL entries: plain COPY */
};

static void
table_free(sl_widerow_table *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->ncols; i++)
        free(w->cols[i]);
    free(w->cols);
    free(w->kinds);
    free(w);
}

void
sl_widerow_plan_free(sl_widerow_plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->ntables; i++)
        table_free(p->by_table[i]);
    free(p->by_table);
    free(p);
}

const sl_widerow_table *
sl_widerow_for(const sl_widerow_plan *p, size_t table_index)
{
    return p && table_index < p->ntables ? p->by_table[table_index] : NULL;
}

static void
table_add_col(sl_widerow_table *w, const char *name, char kind)
{
    w->cols = sl_realloc(w->cols, (w->ncols + 1) * sizeof *w->cols);
    w->kinds = sl_realloc(w->kinds, w->ncols + 2);
    w->cols[w->ncols] = sl_strdup(name);
    w->kinds[w->ncols] = kind;
    w->kinds[++w->ncols] = '\0';
}

/* Only tables with something in their TOAST relation can hold a value larger than a page, and
 * only bytea and text-like columns are sliced; the others keep the plain COPY. */
static const char plan_query[] =
    "SELECT a.attrelid, pg_catalog.quote_ident(a.attname),"
    "  CASE COALESCE(NULLIF(t.typbasetype, 0), t.oid)"
    "    WHEN 'pg_catalog.bytea'::pg_catalog.regtype THEN 'b'"
    "    WHEN 'pg_catalog.text'::pg_catalog.regtype THEN 't'"
    "    WHEN 'pg_catalog.varchar'::pg_catalog.regtype THEN 't'"
    "    ELSE 'o' END"
    " FROM pg_catalog.pg_attribute a"
    " JOIN pg_catalog.pg_class c ON c.oid = a.attrelid"
    " JOIN pg_catalog.pg_type t ON t.oid = a.atttypid"
    " WHERE a.attrelid = ANY($1::pg_catalog.oid[]) AND c.reltoastrelid <> 0"
    "   AND pg_catalog.pg_relation_size(c.reltoastrelid) > 0"
    "   AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''"
    " ORDER BY a.attrelid, a.attnum";

static size_t
table_index_of(const sl_catalog_table *tables, size_t ntables, uint32_t oid)
{
    for (size_t i = 0; i < ntables; i++)
        if (tables[i].oid == oid)
            return i;
    return ntables;
}

static void
oid_array(const sl_catalog_table *tables, size_t ntables, sl_buf *out)
{
    sl_buf_putc(out, '{');
    for (size_t i = 0; i < ntables; i++)
        sl_buf_printf(out, "%s%u", i ? "," : "", tables[i].oid);
    sl_buf_putc(out, '}');
}

int
sl_widerow_plan_read(sl_widerow_plan **out, sl_conn *c, const sl_catalog_table *tables,
                     size_t ntables, int64_t threshold_bytes, sl_error *err)
{
    sl_widerow_plan *p = sl_calloc(1, sizeof *p);
    p->threshold = threshold_bytes;
    p->ntables = ntables;
    p->by_table = sl_calloc(ntables ? ntables : 1, sizeof *p->by_table);
    sl_buf oids = SL_BUF_INIT;
    oid_array(tables, ntables, &oids);
    const char *params[1] = {oids.data};
    PGresult *res = NULL;
    int rc = sl_conn_query(c, &res, plan_query, 1, params, err);
    sl_buf_free(&oids);
    if (rc != 0) {
        sl_error_prefix(err, "could not read the columns of tables with large values");
        sl_widerow_plan_free(p);
        return -1;
    }
    uint32_t last_oid = 0;
    size_t idx = ntables;
    for (int r = 0; r < PQntuples(res); r++) {
        uint32_t oid;
        if (!sl_catalog_parse_oid(PQgetvalue(res, r, 0), &oid)) {
            sl_error_set(err, SL_E_SERVER, "could not read the columns of tables with large "
                         "values: the server sent \"%s\" as an oid", PQgetvalue(res, r, 0));
            PQclear(res);
            sl_widerow_plan_free(p);
            return -1;
        }
        if (oid != last_oid) {
            idx = table_index_of(tables, ntables, oid);
            last_oid = oid;
            if (idx < ntables)
                p->by_table[idx] = sl_calloc(1, sizeof(sl_widerow_table));
        }
        if (idx < ntables)
            table_add_col(p->by_table[idx], PQgetvalue(res, r, 1), PQgetvalue(res, r, 2)[0]);
    }
    PQclear(res);
    /* A table without a sliceable column gains nothing from the wide path. */
    for (size_t i = 0; i < p->ntables; i++) {
        sl_widerow_table *w = p->by_table[i];
        if (w && !strchr(w->kinds, COL_BYTEA) && !strchr(w->kinds, COL_TEXT)) {
            table_free(w);
            p->by_table[i] = NULL;
        }
    }
    *out = p;
    return 0;
}

void
sl_widerow_copy_sql(const sl_widerow_plan *p, const sl_widerow_table *w, const sl_catalog_table *t,
                    const char *where, sl_buf *sql)
{
    sl_buf_puts(sql, "COPY (SELECT ");
    for (size_t i = 0; i < w->ncols; i++) {
        if (w->kinds[i] == COL_OTHER)
            sl_buf_printf(sql, "t.%s, ", w->cols[i]);
        else
            sl_buf_printf(sql, "CASE WHEN x.w THEN NULL ELSE t.%s END, ", w->cols[i]);
    }
    sl_buf_printf(sql, "x.w, t.ctid FROM ONLY %s t CROSS JOIN LATERAL (SELECT (false",
                  t->qualified);
    for (size_t i = 0; i < w->ncols; i++)
        if (w->kinds[i] != COL_OTHER)
            sl_buf_printf(sql, " OR COALESCE(pg_catalog.octet_length(t.%s), 0) > %lld",
                          w->cols[i], (long long)p->threshold);
    sl_buf_printf(sql, ") AS w) x%s%s) TO STDOUT", where[0] ? " WHERE " : "", where);
}

/* "(page,item)" as the server prints a tid. */
static bool
is_tid(const char *p, size_t n)
{
    if (n < 5 || p[0] != '(' || p[n - 1] != ')')
        return false;
    size_t a = strspn(p + 1, "0123456789");
    if (a < 1 || a > 10 || p[1 + a] != ',')
        return false;
    size_t b = strspn(p + 2 + a, "0123456789");
    return b >= 1 && b <= 5 && 2 + a + b == n - 1;
}

int
sl_widerow_split_line(const char *line, size_t len, size_t *keep, sl_buf *ctid, sl_error *err)
{
    if (len && line[len - 1] == '\n')
        len--;
    const char *tab2 = memrchr(line, '\t', len);
    const char *tab1 = tab2 ? memrchr(line, '\t', (size_t)(tab2 - line)) : NULL;
    const char *tid = tab2 ? tab2 + 1 : NULL;
    if (!tab1 || tab2 - tab1 != 2 || (tab1[1] != 't' && tab1[1] != 'f') ||
        !is_tid(tid, len - (size_t)(tid - line))) {
        sl_error_set(err, SL_E_SERVER, "the server sent a malformed row for the large-value "
                     "COPY (not: columns, a t/f flag and a tid)");
        return -1;
    }
    if (tab1[1] == 'f') {
        *keep = (size_t)(tab1 - line);
        return 0;
    }
    sl_buf_reset(ctid);
    sl_buf_append(ctid, tid, len - (size_t)(tid - line));
    return 1;
}

/* ---- one wide row ----------------------------------------------------------------------- */

typedef struct row_out {
    sl_buf buf;
    sl_widerow_emit emit;
    void *arg;
} row_out;

static int
flush_if_full(row_out *o, bool force, sl_error *err)
{
    if (!o->buf.len || (!force && o->buf.len < EMIT_BYTES))
        return 0;
    int rc = o->emit(o->arg, o->buf.data, o->buf.len, err);
    sl_buf_reset(&o->buf);
    return rc;
}

/* Lengths of the sliced columns and whole values of the others, in one query. */
static int
fetch_row_head(sl_conn *c, const sl_widerow_table *w, const sl_catalog_table *t, const char *ctid,
               PGresult **res, sl_error *err)
{
    sl_buf sql = SL_BUF_INIT;
    sl_buf_puts(&sql, "SELECT ");
    for (size_t i = 0; i < w->ncols; i++) {
        const char *fn = w->kinds[i] == COL_BYTEA  ? "pg_catalog.octet_length"
                         : w->kinds[i] == COL_TEXT ? "pg_catalog.length"
                                                   : "";
        sl_buf_printf(&sql, "%s%s(t.%s)", i ? ", " : "", fn, w->cols[i]);
    }
    sl_buf_printf(&sql, " FROM ONLY %s t WHERE t.ctid = $1::pg_catalog.tid", t->qualified);
    const char *params[1] = {ctid};
    int rc = sl_conn_query(c, res, sql.data, 1, params, err);
    sl_buf_free(&sql);
    if (rc == 0 && PQntuples(*res) != 1) {
        PQclear(*res);
        sl_error_set(err, SL_E_INTERNAL, "row %s of %s vanished inside the snapshot", ctid,
                     t->qualified);
        return -1;
    }
    return rc;
}

static int
write_sliced(sl_conn *c, const sl_catalog_table *t, const char *col, char kind, long long total,
             const char *ctid, row_out *o, sl_error *err)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT pg_catalog.substring(t.%s, $2::pg_catalog.int4, $3::pg_catalog.int4)"
             " FROM ONLY %s t WHERE t.ctid = $1::pg_catalog.tid",
             col, t->qualified);
    if (strlen(sql) >= sizeof sql - 1) {
        sl_error_set(err, SL_E_UNSUPPORTED, "names too long for a sliced read of %s",
                     t->qualified);
        return -1;
    }
    if (kind == COL_BYTEA)
        sl_copytext_bytea(&o->buf, NULL, 0, 0);
    for (long long from = 1; from <= total; from += SLICE_UNITS) {
        char from_s[24], count_s[24];
        snprintf(from_s, sizeof from_s, "%lld", from);
        snprintf(count_s, sizeof count_s, "%d", SLICE_UNITS);
        const char *params[3] = {ctid, from_s, count_s};
        PGresult *res = NULL;
        if (sl_conn_query(c, &res, sql, 3, params, err) != 0)
            return -1;
        const char *v = PQgetvalue(res, 0, 0);
        size_t n = (size_t)PQgetlength(res, 0, 0);
        int rc;
        if (kind == COL_BYTEA) {
            /* The server's text form is "\x" + hex (bytea_output = hex): the hex goes out as
             * it came, once checked, since it lands in the COPY data as it is. */
            if (n < 2 || v[0] != '\\' || v[1] != 'x' ||
                strspn(v + 2, "0123456789abcdefABCDEF") != n - 2) {
                PQclear(res);
                sl_error_set(err, SL_E_SERVER, "the server sent a slice of a bytea value of %s "
                             "that is not hex", t->qualified);
                return -1;
            }
            rc = flush_if_full(o, true, err);
            if (rc == 0 && n > 2)
                rc = o->emit(o->arg, v + 2, n - 2, err);
        } else {
            sl_copytext_escape(&o->buf, v, n);
            rc = flush_if_full(o, true, err);
        }
        PQclear(res);
        if (rc != 0)
            return -1;
    }
    return 0;
}

int
sl_widerow_write(sl_conn *c, const sl_widerow_table *w, const sl_catalog_table *t, const char *ctid,
                 sl_widerow_emit emit, void *arg, sl_error *err)
{
    PGresult *head = NULL;
    row_out o = {SL_BUF_INIT, emit, arg};
    int rc = -1;
    if (fetch_row_head(c, w, t, ctid, &head, err) != 0)
        goto done;
    for (size_t i = 0; i < w->ncols; i++) {
        if (i)
            sl_buf_putc(&o.buf, '\t');
        if (PQgetisnull(head, 0, (int)i)) {
            sl_buf_puts(&o.buf, SL_COPYTEXT_NULL);
        } else if (w->kinds[i] == COL_OTHER) {
            sl_copytext_escape(&o.buf, PQgetvalue(head, 0, (int)i),
                               (size_t)PQgetlength(head, 0, (int)i));
        } else if (write_sliced(c, t, w->cols[i], w->kinds[i],
                                atoll(PQgetvalue(head, 0, (int)i)), ctid, &o, err) != 0) {
            goto done;
        }
    }
    sl_buf_putc(&o.buf, '\n');
    rc = flush_if_full(&o, true, err);
done:
    if (rc != 0)
        sl_error_context(err, "row %s of %s", ctid, t->qualified);
    PQclear(head);
    sl_buf_free(&o.buf);
    return rc;
}
