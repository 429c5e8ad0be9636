/* proxy/cacheflow.c: settings, the catalog query and the key of a cached simple Query (see
 * cacheflow.h). */
#include "proxy/cacheflow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "pg/proto.h"

static char *
prefixed(char source, const char *name)
{
    size_t n = strlen(name);
    char *p = sl_malloc(n + 3);
    p[0] = source;
    p[1] = ':';
    memcpy(p + 2, name, n + 1);
    return p;
}

static size_t
find(const sl_cacheflow_settings *s, const char *full)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->names[i], full) == 0)
            return i;
    return s->n;
}

void
sl_cacheflow_settings_set(sl_cacheflow_settings *s, char source, const char *name,
                          const char *value)
{
    char *full = prefixed(source, name);
    size_t i = find(s, full);
    if (i < s->n && (s->values[i] && value ? strcmp(s->values[i], value) == 0
                                           : s->values[i] == value)) {
        free(full);  /* the same value: the sorted copy stands */
        return;
    }
    s->sorted_ok = false;
    if (i < s->n) {
        free(full);
        free(s->values[i]);
    } else {
        if (s->n == s->cap) {
            s->cap = s->cap ? 2 * s->cap : 8;
            s->names = sl_realloc(s->names, s->cap * sizeof *s->names);
            s->values = sl_realloc(s->values, s->cap * sizeof *s->values);
        }
        s->names[s->n++] = full;
    }
    s->values[i] = value ? sl_strdup(value) : NULL;
}

const char *
sl_cacheflow_settings_get(const sl_cacheflow_settings *s, char source, const char *name)
{
    char *full = prefixed(source, name);
    size_t i = find(s, full);
    free(full);
    return i < s->n ? s->values[i] : NULL;
}

void
sl_cacheflow_settings_free(sl_cacheflow_settings *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->names[i]);
        free(s->values[i]);
    }
    free(s->names);
    free(s->values);
    free(s->sorted);
    memset(s, 0, sizeof *s);
}

/* A name as an SQL expression of type text that holds no byte of the name: hex digits the
 * server decodes in the client's encoding. */
static void
append_name(sl_buf *b, const char *name)
{
    static const char hex[] = "0123456789abcdef";
    if (!name) {
        sl_buf_puts(b, "CAST(NULL AS pg_catalog.text)");
        return;
    }
    sl_buf_puts(b, "pg_catalog.convert_from(pg_catalog.decode('");
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        char two[2] = {hex[*p >> 4], hex[*p & 15]};
        sl_buf_append(b, two, 2);
    }
    sl_buf_puts(b, "', 'hex'), pg_catalog.pg_client_encoding())");
}

void
sl_cacheflow_catalog_query(sl_buf *out, const sl_sql_name *names, size_t n)
{
    sl_buf q = SL_BUF_INIT;
    sl_buf_puts(&q, "SELECT 0, pg_catalog.current_setting('search_path'), "
                    "CASE WHEN pg_catalog.pg_my_temp_schema() OPERATOR(pg_catalog.<>) 0 "
                    "THEN 't' END");
    if (n > 0) {
        sl_buf_puts(
            &q, " UNION ALL SELECT 1, pg_catalog.textcat(pg_catalog.textcat(pg_catalog.textcat("
                "c.relkind::pg_catalog.text, c.relpersistence::pg_catalog.text), "
                "CASE WHEN c.relrowsecurity THEN 'y' ELSE 'n' END), "
                "CASE WHEN c.oid OPERATOR(pg_catalog.<) 16384 THEN 's' ELSE 'u' END), "
                "CASE WHEN pg_catalog.texteq(c.relkind::pg_catalog.text, 'v') "
                "THEN pg_catalog.pg_get_viewdef(c.oid) END "
                "FROM (VALUES ");
        for (size_t i = 0; i < n; i++) {
            sl_buf_puts(&q, i ? ", (" : "(");
            append_name(&q, names[i].schema);
            sl_buf_puts(&q, ", ");
            append_name(&q, names[i].name);
            sl_buf_puts(&q, ")");
        }
        sl_buf_puts(
            &q, ") AS v(s, n) LEFT JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) "
                "pg_catalog.to_regclass(CASE WHEN v.s IS NULL THEN pg_catalog.quote_ident(v.n) "
                "ELSE pg_catalog.textcat(pg_catalog.textcat(pg_catalog.quote_ident(v.s), '.'), "
                "pg_catalog.quote_ident(v.n)) END)");
    }
    sl_proto_writer w;
    sl_proto_begin(&w, out, 'Q', 0);
    sl_proto_put_bytes(&w, q.data, q.len);
    sl_proto_put_byte(&w, 0);
    if (sl_proto_end(&w) != 0)  /* over 1 GB of names: cannot be; send a query that fails */
        sl_buf_append(out, "Q\0\0\0\5\0", 6);
    sl_buf_free(&q);
}

const char *
sl_cacheflow_refusal(const char *verdict)
{
    if (!verdict || strlen(verdict) != 4)
        return "a relation does not resolve";
    if (verdict[0] == 'S')
        return "reads a sequence";
    if (verdict[0] == 'f')
        return "reads a foreign table";
    if (verdict[0] != 'r' && verdict[0] != 'p' && verdict[0] != 'm' && verdict[0] != 'v')
        return "reads a relation that is no table";
    if (verdict[1] == 't')
        return "reads a temporary table";
    if (verdict[2] != 'n')
        return "reads a table with row-level security";
    if (verdict[3] != 'u')
        return "reads a system catalog";
    return NULL;
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(((const sl_cachekey_setting *)a)->name, ((const sl_cachekey_setting *)b)->name);
}

int
sl_cacheflow_key(sl_cachekey *out, const char *database, const char *user, const char *sql,
                 sl_cacheflow_settings *settings, const char *suffix, sl_error *err)
{
    sl_cacheflow_settings *s = settings;
    if (!s->sorted_ok) {
        free(s->sorted);
        s->sorted = sl_calloc(s->n + 1, sizeof *s->sorted);
        for (size_t i = 0; i < s->n; i++)
            s->sorted[i] = (sl_cachekey_setting){s->names[i], s->values[i]};
        qsort(s->sorted, s->n, sizeof *s->sorted, by_name);
        s->sorted_ok = true;
    }
    sl_cachekey_input in = {.database = database, .user = user, .protocol = SL_CACHEKEY_SIMPLE,
                            .sql = sql, .sql_len = strlen(sql), .extra = s->sorted,
                            .n_extra = s->n, .suffix = suffix};
    return sl_cachekey_make(out, &in, err);
}

static void
put_field(sl_buf *b, const char *s)
{
    uint32_t n = s ? (uint32_t)strlen(s) : UINT32_MAX;
    unsigned char len[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16),
                            (unsigned char)(n >> 8), (unsigned char)n};
    sl_buf_append(b, len, 4);
    if (s)
        sl_buf_append(b, s, strlen(s));
}

void
sl_cacheflow_verdict_key(sl_buf *out, const char *database, const char *user,
                         const char *search_path, const sl_sql_name *names, size_t n)
{
    put_field(out, "v1");
    put_field(out, database);
    put_field(out, user);
    put_field(out, search_path);
    for (size_t i = 0; i < n; i++) {
        put_field(out, names[i].schema);
        put_field(out, names[i].name);
    }
}

uint64_t
sl_cacheflow_fingerprint(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}
