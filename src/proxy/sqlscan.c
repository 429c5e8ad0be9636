/* proxy/sqlscan.c: pg_query_scan's answer is a protobuf ScanResult (pg_query.proto:
 * `ScanResult { int32 version = 1; repeated ScanToken tokens = 2; }` and
 * `ScanToken { int32 start = 1; int32 end = 2; Token token = 4; KeywordKind keyword_kind = 5; }`).
 * Debian ships no protobuf-c headers with libpg-query-dev, and four varint fields do not need
 * them: the reader below decodes the wire format itself, bounded by the buffer, and skips
 * fields it does not know so that a later libpg_query adding some stays readable. */
#include "proxy/sqlscan.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pg_query.h>

typedef struct {
    const uint8_t *p;
    const uint8_t *end;
} pb_reader;

static bool
pb_varint(pb_reader *r, uint64_t *v)
{
    uint64_t out = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end)
            return false;
        uint8_t b = *r->p++;
        out |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = out;
            return true;
        }
    }
    return false; /* more than 10 bytes */
}

/* Skips one field's value of wire type wt. */
static bool
pb_skip(pb_reader *r, unsigned wt)
{
    uint64_t v;
    switch (wt) {
    case 0:
        return pb_varint(r, &v);
    case 1:
        if (r->end - r->p < 8)
            return false;
        r->p += 8;
        return true;
    case 2:
        if (!pb_varint(r, &v) || v > (uint64_t)(r->end - r->p))
            return false;
        r->p += v;
        return true;
    case 5:
        if (r->end - r->p < 4)
            return false;
        r->p += 4;
        return true;
    default:
        return false;
    }
}

/* int32 fields: a negative value is sent as a 10-byte varint; keep the low 32 bits. */
static int
pb_int32(uint64_t v)
{
    return (int)(int32_t)(uint32_t)v;
}

static bool
read_token(pb_reader *r, sl_sqlscan_token *t)
{
    memset(t, 0, sizeof *t);
    while (r->p < r->end) {
        uint64_t key, v;
        if (!pb_varint(r, &key))
            return false;
        unsigned field = (unsigned)(key >> 3), wt = (unsigned)(key & 7);
        if (wt == 0 && (field == 1 || field == 2 || field == 4)) {
            if (!pb_varint(r, &v))
                return false;
            if (field == 1)
                t->start = pb_int32(v);
            else if (field == 2)
                t->end = pb_int32(v);
            else
                t->token = pb_int32(v);
        } else if (!pb_skip(r, wt)) {
            return false;
        }
    }
    return true;
}

static int
decode(const uint8_t *data, size_t len, size_t sql_len, sl_sqlscan *out)
{
    pb_reader r = {data, data + len};
    size_t cap = 0;
    while (r.p < r.end) {
        uint64_t key, v;
        if (!pb_varint(&r, &key))
            return -1;
        if (key != ((2 << 3) | 2)) { /* not a token: version, or a field added later */
            if (!pb_skip(&r, (unsigned)(key & 7)))
                return -1;
            continue;
        }
        if (!pb_varint(&r, &v) || v > (uint64_t)(r.end - r.p))
            return -1;
        pb_reader sub = {r.p, r.p + v};
        r.p += v;
        if (out->n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            sl_sqlscan_token *nt = realloc(out->tokens, ncap * sizeof *nt);
            if (!nt)
                return -1;
            out->tokens = nt;
            cap = ncap;
        }
        sl_sqlscan_token *t = &out->tokens[out->n];
        if (!read_token(&sub, t) || t->start < 0 || t->end < t->start
            || (size_t)t->end > sql_len)
            return -1;
        out->n++;
    }
    return 0;
}

int
sl_sqlscan_run(const char *sql, sl_sqlscan *out, char **error)
{
    memset(out, 0, sizeof *out);
    *error = NULL;
    PgQueryScanResult res = pg_query_scan(sql);
    int rc = -1;
    if (res.error) {
        *error = strdup(res.error->message ? res.error->message : "scanner error");
        goto done;
    }
    if (decode((const uint8_t *)res.pbuf.data, res.pbuf.len, strlen(sql), out) != 0) {
        *error = strdup("unreadable scanner output");
        goto done;
    }
    rc = 0;
done:
    pg_query_free_scan_result(res);
    if (rc != 0)
        sl_sqlscan_free(out);
    return rc;
}

void
sl_sqlscan_free(sl_sqlscan *s)
{
    if (!s)
        return;
    free(s->tokens);
    s->tokens = NULL;
    s->n = 0;
}

size_t
sl_sqlscan_depth_bound(const sl_sqlscan *s)
{
    /* counts[i]: tokens of the current list item at bracket level i; sum: their total. */
    size_t *counts = NULL, levels = 0, cap = 0, sum = 0, max = 0;
    for (size_t i = 0; i < s->n; i++) {
        int tok = s->tokens[i].token;
        if (tok == SL_SQLSCAN_T_SQL_COMMENT || tok == SL_SQLSCAN_T_C_COMMENT)
            continue;
        if (levels == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            size_t *nc = realloc(counts, ncap * sizeof *nc);
            if (!nc) {
                free(counts);
                return SIZE_MAX; /* unknown: as deep as can be */
            }
            counts = nc;
            cap = ncap;
            if (levels == 0)
                counts[levels++] = 0;
        }
        if (tok == '(' || tok == '[') {
            counts[levels - 1]++;
            sum++;
            counts[levels++] = 0;
        } else if ((tok == ')' || tok == ']') && levels > 1) {
            sum -= counts[--levels];
        } else if (tok == ',' || (tok == ';' && levels == 1)) {
            sum -= counts[levels - 1];
            counts[levels - 1] = 0;
        } else {
            counts[levels - 1]++;
            sum++;
        }
        if (sum > max)
            max = sum;
    }
    free(counts);
    return max;
}
