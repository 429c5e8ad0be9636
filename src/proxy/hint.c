/* proxy/hint.c: pgproxy's parameter hook and sluice's comment hints (rules in hint.h). */
#include "proxy/hint.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- pgproxy's parameter hook ---- */

/* UTF-8 as Go's utf8.Valid accepts it: no overlong forms, no surrogates, nothing past
 * U+10FFFF. */
static bool
utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (len - i - 1 < n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

static bool
has_prefix(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(s, prefix, n) == 0;
}

/* Replaces *slot by a copy of s[0..len). */
static int
set_copy(char **slot, const char *s, size_t len)
{
    char *c = malloc(len + 1);
    if (!c)
        return -1;
    memcpy(c, s, len);
    c[len] = '\0';
    free(*slot);
    *slot = c;
    return 0;
}

static void
ignore_part(sl_hint_param *h, const char *part, size_t len)
{
    if (h->n_ignored++ == 0)
        snprintf(h->reason, sizeof h->reason, "unknown hook \"%.*s\"", (int)(len > 60 ? 60 : len),
                 part);
}

int
sl_hint_param_parse(const char *value, size_t len, sl_hint_param *out, sl_error *err)
{
    memset(out, 0, sizeof *out);
    if (!value) {
        snprintf(out->reason, sizeof out->reason, "NULL is no hook");
        return 0;
    }
    if (!utf8_valid((const unsigned char *)value, len) || memchr(value, '\0', len)) {
        snprintf(out->reason, sizeof out->reason, "not UTF-8 text");
        return 0;
    }
    if (!has_prefix(value, len, SL_HINT_PGPROXY_PREFIX)) {
        snprintf(out->reason, sizeof out->reason, "no \"" SL_HINT_PGPROXY_PREFIX "\" prefix");
        return 0;
    }
    out->is_hook = true;
    /* The first part is "PGPROXY" itself (pgproxy logs it as unknown; sluice does not). */
    size_t pos = strlen(SL_HINT_PGPROXY_PREFIX);
    for (;;) {
        const char *part = value + pos, *comma = memchr(part, ',', len - pos);
        size_t plen = comma ? (size_t)(comma - part) : len - pos;
        int rc = 0;
        if (plen == 8 && memcmp(part, "NO_CACHE", 8) == 0)
            out->no_cache = true;
        else if (has_prefix(part, plen, "CACHE_KEY:"))
            rc = set_copy(&out->cache_key, part + 10, plen - 10);
        else if (has_prefix(part, plen, "INVALIDATE:"))
            rc = set_copy(&out->invalidate, part + 11, plen - 11);
        else
            ignore_part(out, part, plen);
        if (rc != 0) {
            sl_hint_param_free(out);
            sl_error_set(err, SL_E_INTERNAL, "out of memory reading a cache hook");
            return -1;
        }
        if (!comma)
            break;
        pos += plen + 1;
    }
    return 0;
}

void
sl_hint_param_free(sl_hint_param *h)
{
    if (!h)
        return;
    free(h->cache_key);
    free(h->invalidate);
    h->cache_key = h->invalidate = NULL;
}

int
sl_hint_position_parse(const char *s, sl_hint_position *out)
{
    if (s && strcmp(s, "first") == 0)
        *out = SL_HINT_FIRST;
    else if (s && strcmp(s, "last") == 0)
        *out = SL_HINT_LAST;
    else
        return -1;
    return 0;
}

size_t
sl_hint_position_index(sl_hint_position pos, size_t n)
{
    return pos == SL_HINT_LAST && n > 0 ? n - 1 : 0;
}

size_t
sl_hint_redis_key(char *buf, size_t cap, const char *suffix, const char *hash)
{
    int n = snprintf(buf, cap, "PGPROXY:%s:%s", suffix ? suffix : SL_HINT_DEFAULT_KEY, hash);
    return n < 0 ? 0 : (size_t)n;
}

/* ---- comment hints ---- */

static void
malformed(sl_hint_comment *h, const char *d, size_t len, const char *why)
{
    if (h->n_ignored++ == 0)
        snprintf(h->reason, sizeof h->reason, "ignored hint \"%.*s\": %s",
                 (int)(len > 60 ? 60 : len), d, why);
}

static bool
key_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == ':' || c == '.' || c == '-';
}

static void
directive(sl_hint_comment *h, const char *d, size_t len)
{
    if (len == 8 && strncasecmp(d, "no_cache", 8) == 0) {
        h->no_cache = true;
    } else if (len > 4 && strncasecmp(d, "ttl=", 4) == 0) {
        long v = 0;
        size_t i = 4;
        for (; i < len && isdigit((unsigned char)d[i]) && v <= SL_HINT_MAX_TTL; i++)
            v = v * 10 + (d[i] - '0');
        if (i < len || v < 1 || v > SL_HINT_MAX_TTL)
            malformed(h, d, len, "ttl takes 1 to 31536000 seconds");
        else
            h->ttl = (int)v;
    } else if (len > 4 && strncasecmp(d, "key=", 4) == 0) {
        size_t i = 4;
        while (i < len && key_char(d[i]))
            i++;
        if (i < len || len - 4 > SL_HINT_MAX_KEY)
            malformed(h, d, len, "key takes 1 to 200 of A-Z a-z 0-9 _ : . -");
        else
            snprintf(h->key, sizeof h->key, "%.*s", (int)(len - 4), d + 4);
    } else {
        malformed(h, d, len, "unknown directive");
    }
}

/* One comment's text, markers stripped: directives after "sluice:". */
static void
comment_hints(sl_hint_comment *h, const char *s, size_t len)
{
    while (len > 0 && isspace((unsigned char)*s))
        s++, len--;
    if (len < 7 || strncasecmp(s, "sluice:", 7) != 0)
        return; /* an ordinary comment */
    s += 7, len -= 7;
    size_t i = 0;
    while (i < len) {
        while (i < len && (isspace((unsigned char)s[i]) || s[i] == ','))
            i++;
        size_t start = i;
        while (i < len && !isspace((unsigned char)s[i]) && s[i] != ',')
            i++;
        if (i > start)
            directive(h, s + start, i - start);
    }
}

void
sl_hint_comments_scan(const char *sql, const sl_sqlscan *scan, sl_hint_comment *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < scan->n; i++) {
        const sl_sqlscan_token *t = &scan->tokens[i];
        const char *s = sql + t->start;
        size_t len = (size_t)(t->end - t->start);
        if (t->token == SL_SQLSCAN_T_SQL_COMMENT && len >= 2)
            comment_hints(out, s + 2, len - 2);
        else if (t->token == SL_SQLSCAN_T_C_COMMENT && len >= 4)
            comment_hints(out, s + 2, len - 4);
    }
}

int
sl_hint_comments(const char *sql, bool non_standard_strings, sl_hint_comment *out,
                 sl_error *err)
{
    sl_sqlscan scan;
    char *scan_error = NULL;
    if (non_standard_strings && strchr(sql, '\\')) {
        memset(out, 0, sizeof *out);
        snprintf(out->reason, sizeof out->reason,
                 "no hints: a backslash while standard_conforming_strings is off");
        return 0;
    }
    if (sl_sqlscan_run(sql, &scan, &scan_error) != 0) {
        memset(out, 0, sizeof *out);
        if (!scan_error) {
            sl_error_set(err, SL_E_INTERNAL, "out of memory scanning a statement");
            return -1;
        }
        snprintf(out->reason, sizeof out->reason, "no hints: the string does not scan (%.100s)",
                 scan_error);
        free(scan_error);
        return 0;
    }
    sl_hint_comments_scan(sql, &scan, out);
    sl_sqlscan_free(&scan);
    return 0;
}
