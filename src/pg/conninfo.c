/* pg/conninfo.c: the connection target as keyword/value pairs, its description, the redaction
 * of secrets from text bound for messages, and the reading of connection failures.
 *
 * Pairs: -d may be a URL or conninfo string; libpq expands it when connecting (expand_dbname),
 * and PQconninfoParse() gives the keywords it carries, so that get() and with_dbname() see
 * them. A string libpq cannot parse is never taken for a database name.
 *
 * Redaction works on spans: byte ranges of the input that hold a secret. A small SQL lexer
 * (literals with their E'' and dollar-quote forms, quoted identifiers, comments, words) finds
 * the token that follows a password keyword, decodes every literal, identifier and comment and
 * looks inside for conninfo "password=" values and postgres:// (and mysql://) URL passwords;
 * dollar-quoted bodies are lexed again as SQL. Spans found in decoded text are mapped back to
 * the raw input through a table of offsets, so that the output is the input with only the
 * spans replaced.
 * The lexer never fails: text that ends inside a token is taken to run to the end, so that a
 * statement cut short for a message is redacted as safely as a whole one. */
#include "pg/conninfo.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"

/* Dollar-quoted bodies inside dollar-quoted bodies are lexed this deep. */
#define MAX_NESTING 4
/* A secret shorter than this is not searched for in free text (it would match common words);
 * quoted fragments are still compared with it. */
#define MIN_FREE_TEXT_SECRET 3

typedef struct kv {
    char *key;
    char *val;
} kv;

struct sl_conninfo {
    kv *v;
    size_t n;
    size_t cap;
    /* The parsed form of "dbname" when it is a URL or conninfo string (NULL otherwise, and
     * when it does not parse), so that get() and with_dbname() see the keywords it carries. */
    PQconninfoOption *parsed;
};

/* ---- keyword/value pairs ---------------------------------------------------------------- */

sl_conninfo *
sl_conninfo_new(void)
{
    return sl_calloc(1, sizeof(sl_conninfo));
}

static void
free_value(const char *key, char *val)
{
    /* A password should not linger in freed heap memory. */
    if (val && strcmp(key, "password") == 0)
        explicit_bzero(val, strlen(val));
    free(val);
}

void
sl_conninfo_free(sl_conninfo *ci)
{
    if (!ci)
        return;
    for (size_t i = 0; i < ci->n; i++) {
        free_value(ci->v[i].key, ci->v[i].val);
        free(ci->v[i].key);
    }
    free(ci->v);
    PQconninfoFree(ci->parsed);
    free(ci);
}

static bool is_url(const char *s);

/* The test libpq itself applies (recognized_connection_string in fe-connect.c). */
static bool
looks_like_conninfo(const char *s)
{
    return is_url(s) || strchr(s, '=') != NULL;
}

static kv *
find(const sl_conninfo *ci, const char *keyword)
{
    for (size_t i = 0; i < ci->n; i++)
        if (strcmp(ci->v[i].key, keyword) == 0)
            return &ci->v[i];
    return NULL;
}

static bool
is_url(const char *s)
{
    return strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0;
}

/* libpq ends a URL's user part at the first '/' or '@': a password holding a raw '/' becomes
 * the host, the port and the start of the database name. An '@' after that '/' (before the
 * query) gives it away. */
static bool
url_user_part_broken(const char *url)
{
    const char *slash = strchr(strstr(url, "://") + 3, '/');
    if (!slash)
        return false;
    size_t path = strcspn(slash, "?");
    return memchr(slash, '@', path) != NULL;
}

/* Every port of a comma-separated list is a number (or empty: the default). libpq checks them
 * only when connecting, and then quotes the value, which may be a misplaced password. */
static bool
ports_numeric(const char *ports)
{
    for (const char *p = ports; *p; p++)
        if (*p != ',' && (*p < '0' || *p > '9'))
            return false;
    return true;
}

/* Why a URL/conninfo dbname that libpq parses must still be refused, or NULL. */
static const char *
parsed_dbname_problem(const sl_conninfo *ci, const char *dbname)
{
    if (is_url(dbname) && url_user_part_broken(dbname))
        return "an \"@\" after the host part: percent-encode \"/\" and \"@\" in a user name "
               "or password (%2F, %40)";
    for (PQconninfoOption *o = ci->parsed; o && o->keyword; o++)
        if (strcmp(o->keyword, "port") == 0 && o->val && !ports_numeric(o->val))
            return "its port is not a number";
    return NULL;
}

static void
reparse_dbname(sl_conninfo *ci)
{
    PQconninfoFree(ci->parsed);
    ci->parsed = NULL;
    kv *d = find(ci, "dbname");
    if (d && looks_like_conninfo(d->val)) {
        char *msg = NULL;
        ci->parsed = PQconninfoParse(d->val, &msg);  /* NULL if invalid: check() says why */
        PQfreemem(msg);
        if (ci->parsed && parsed_dbname_problem(ci, d->val)) {
            PQconninfoFree(ci->parsed);
            ci->parsed = NULL;
        }
    }
}

static void set_value(sl_conninfo *ci, const char *keyword, const char *value);

/* Turns the keywords a URL/conninfo dbname carries into explicit ones, except those already
 * set explicitly (which override the URL anyway), so that the dbname can be replaced by a
 * plain name without losing where the URL pointed. */
static void
keep_dbname_keywords(sl_conninfo *ci)
{
    PQconninfoOption *parsed = ci->parsed;
    ci->parsed = NULL;  /* set_value() below must not reparse while we walk it */
    for (PQconninfoOption *o = parsed; o && o->keyword; o++)
        if (o->val && strcmp(o->keyword, "dbname") != 0 && !find(ci, o->keyword))
            set_value(ci, o->keyword, o->val);
    ci->parsed = parsed;
}

void
sl_conninfo_set(sl_conninfo *ci, const char *keyword, const char *value)
{
    if (value && ci->parsed && strcmp(keyword, "dbname") == 0 && !looks_like_conninfo(value))
        keep_dbname_keywords(ci);
    set_value(ci, keyword, value);
}

static void
set_value(sl_conninfo *ci, const char *keyword, const char *value)
{
    kv *e = find(ci, keyword);
    if (e) {
        free_value(e->key, e->val);
        e->val = NULL;
        if (!value) {
            free(e->key);
            *e = ci->v[--ci->n];
        }
    }
    if (value) {
        if (!e) {
            if (ci->n == ci->cap) {
                ci->cap = ci->cap ? ci->cap * 2 : 8;
                ci->v = sl_realloc(ci->v, ci->cap * sizeof *ci->v);
            }
            e = &ci->v[ci->n++];
            e->key = sl_strdup(keyword);
        }
        e->val = sl_strdup(value);
    }
    if (strcmp(keyword, "dbname") == 0)
        reparse_dbname(ci);
}

/* libpq's parse errors end in a newline and may hold several lines: one line for a message. */
static void
one_line(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
        s[--n] = '\0';
    for (char *p = s; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

int
sl_conninfo_check(const sl_conninfo *ci, sl_error *err)
{
    kv *d = find(ci, "dbname");
    if (!d || !looks_like_conninfo(d->val) || ci->parsed)
        return 0;
    char *msg = NULL;
    PQconninfoOption *o = PQconninfoParse(d->val, &msg);
    char text[512];
    if (o) {
        sl_conninfo probe = {.parsed = o};
        snprintf(text, sizeof text, "%s", parsed_dbname_problem(&probe, d->val));
    } else {
        snprintf(text, sizeof text, "%s", msg ? msg : "out of memory");
        one_line(text);
        sl_conninfo_redact_message(text, sizeof text, d->val, strlen(d->val), false);
    }
    sl_error_set(err, SL_E_USAGE, "invalid connection URL or string given as the database: %s",
                 text);
    PQconninfoFree(o);
    PQfreemem(msg);
    return -1;
}

static const char *
parsed_value(const sl_conninfo *ci, const char *keyword)
{
    for (PQconninfoOption *o = ci->parsed; o && o->keyword; o++)
        if (strcmp(o->keyword, keyword) == 0)
            return o->val;
    return NULL;
}

const char *
sl_conninfo_get(const sl_conninfo *ci, const char *keyword)
{
    kv *d = find(ci, "dbname");
    bool expanded = d && looks_like_conninfo(d->val);
    if (expanded && strcmp(keyword, "dbname") == 0)
        return parsed_value(ci, "dbname");  /* the URL's database; NULL if it does not parse */
    kv *e = find(ci, keyword);
    if (e)
        return e->val;
    return expanded ? parsed_value(ci, keyword) : NULL;
}

/* A dbname that libpq would expand is wrapped as a conninfo string naming only that
 * database, so that a database called "a=b" stays a database name. */
static char *
plain_dbname(const char *dbname)
{
    if (!looks_like_conninfo(dbname))
        return sl_strdup(dbname);
    sl_buf b = SL_BUF_INIT;
    sl_buf_puts(&b, "dbname='");
    for (const char *p = dbname; *p; p++) {
        if (*p == '\'' || *p == '\\')
            sl_buf_putc(&b, '\\');
        sl_buf_putc(&b, *p);
    }
    sl_buf_putc(&b, '\'');
    return sl_buf_steal(&b);
}

sl_conninfo *
sl_conninfo_with_dbname(const sl_conninfo *ci, const char *dbname)
{
    sl_conninfo *out = sl_conninfo_new();
    for (size_t i = 0; i < ci->n; i++)
        set_value(out, ci->v[i].key, ci->v[i].val);
    if (!dbname)
        return out;
    if (out->parsed)
        keep_dbname_keywords(out);
    char *d = plain_dbname(dbname);
    set_value(out, "dbname", d);
    free(d);
    return out;
}

size_t
sl_conninfo_count(const sl_conninfo *ci)
{
    return ci->n;
}

void
sl_conninfo_params(const sl_conninfo *ci, const char **keys, const char **vals)
{
    /* libpq applies the pairs in order, the last value winning: the dbname (expanded) first,
     * so that the explicit keywords after it override what a URL says. */
    size_t n = 0;
    kv *d = find(ci, "dbname");
    if (d) {
        keys[n] = d->key;
        vals[n++] = d->val;
    }
    for (size_t i = 0; i < ci->n; i++) {
        if (&ci->v[i] == d)
            continue;
        keys[n] = ci->v[i].key;
        vals[n++] = ci->v[i].val;
    }
}

/* ---- describing a target ---------------------------------------------------------------- */

static const char *
known(const char *s)
{
    return s && *s ? s : NULL;
}

static const char *
pick(const sl_conninfo *ci, const char *resolved, const char *keyword)
{
    if (known(resolved))
        return resolved;
    return ci ? known(sl_conninfo_get(ci, keyword)) : NULL;
}

/* A name as a message shows it: a database "name" that is really a URL or conninfo string
 * (PGDATABASE is never expanded by libpq) loses its password. */
static void
put_name(sl_buf *b, const char *what, const char *name)
{
    sl_buf_printf(b, "%s \"", what);
    if (strstr(name, "://") || strchr(name, '='))
        sl_conninfo_redact_sql(name, strlen(name), b);
    else
        sl_buf_puts(b, name);
    sl_buf_putc(b, '"');
}

const char *
sl_conninfo_describe(const sl_conninfo *ci, const sl_conninfo_target *resolved, char *out,
                     size_t cap)
{
    static const sl_conninfo_target none = {0};
    const sl_conninfo_target *r = resolved ? resolved : &none;
    const char *host = pick(ci, r->host, "host");
    const char *port = pick(ci, r->port, "port");
    const char *db = pick(ci, r->dbname, "dbname");
    const char *user = pick(ci, r->user, "user");
    sl_buf b = SL_BUF_INIT;
    if (host && port)
        sl_buf_printf(&b, "%s:%s", host, port);
    else if (host || port)
        sl_buf_printf(&b, host ? "%s" : "port %s", host ? host : port);
    if (db)
        put_name(&b, b.len ? " database" : "database", db);
    if (user)
        put_name(&b, b.len ? " as user" : "user", user);
    snprintf(out, cap, "%s", b.len ? b.data : "the default server");
    sl_buf_free(&b);
    return out;
}

/* ---- finding secrets -------------------------------------------------------------------- */

typedef struct span {
    size_t a, b;   /* [a, b) of the raw input */
    char *secret;  /* the secret as the server would see it (decoded), or NULL */
} span;

typedef struct spans {
    span *v;
    size_t n, cap;
    bool keep_secrets;  /* fill span.secret (for scrubbing messages) */
} spans;

static void
spans_add(spans *s, size_t a, size_t b, const char *decoded, size_t dlen)
{
    if (b <= a)
        return;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->v = sl_realloc(s->v, s->cap * sizeof *s->v);
    }
    span *sp = &s->v[s->n++];
    sp->a = a;
    sp->b = b;
    sp->secret = NULL;
    if (s->keep_secrets && dlen > 0) {
        sp->secret = sl_malloc(dlen + 1);
        memcpy(sp->secret, decoded, dlen);
        sp->secret[dlen] = '\0';
    }
}

static void
spans_free(spans *s)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i].secret)
            explicit_bzero(s->v[i].secret, strlen(s->v[i].secret));
        free(s->v[i].secret);
    }
    free(s->v);
}

static bool
is_word(char c)
{
    return isalnum((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80;
}

static bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool
contains_ci(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (strncasecmp(s + i, needle, k) == 0)
            return true;
    return false;
}

/* An option or keyword whose value is a secret: password, sslpassword, passwd, PASSWORD of
 * CREATE ROLE, an FDW's "secret" option... */
static bool
secret_key(const char *w, size_t n)
{
    return contains_ci(w, n, "passw") || contains_ci(w, n, "secret");
}

/* Text that was decoded from raw input: text[i] came from raw offset map[i]; the decoded text
 * ends where the raw text ends at raw_end. */
typedef struct decoded {
    const char *text;
    size_t len;
    const size_t *map;  /* NULL: text is the raw input itself, at raw offset `base` */
    size_t base;
    size_t raw_end;
    bool cut;           /* the text ends because the input does (it may be cut short) */
    bool code;          /* SQL around literals (a dollar-quoted body): a quote, ';', ')' or a
                         * line end closes an unquoted value */
} decoded;

static void
add_decoded_span(spans *out, const decoded *d, size_t da, size_t db)
{
    if (db <= da)
        return;
    size_t a = d->map ? d->map[da] : d->base + da;
    size_t b = d->map ? (db < d->len ? d->map[db] : d->raw_end) : d->base + db;
    spans_add(out, a, b, d->text + da, db - da);
}

/* The end of an unquoted conninfo value starting at i: the value runs up to the blank before
 * the next "keyword =", or to the end (a value with an unescaped blank in a string libpq
 * refuses is taken whole). Trailing blanks are left out. */
static size_t
unquoted_value_end(const char *t, size_t n, size_t i, bool code)
{
    size_t end = i;
    while (i < n) {
        if (code && strchr("'\";)\n", t[i]))
            break;
        if (is_space(t[i])) {
            size_t w = i;
            while (w < n && is_space(t[w]))
                w++;
            size_t e = w;
            while (e < n && is_word(t[e]))
                e++;
            size_t eq = e;
            while (eq < n && is_space(t[eq]))
                eq++;
            if (e > w && eq < n && t[eq] == '=')
                break;
            i = w;
            continue;
        }
        if (t[i] == '\\' && i + 1 < n)
            i++;
        end = ++i;
    }
    return end;
}

/* "password = value" pairs of a conninfo string, wherever they are in d. */
static void
find_conninfo_secrets(const decoded *d, spans *out)
{
    const char *t = d->text;
    size_t n = d->len;
    size_t i = 0;
    while (i < n) {
        if (!is_word(t[i]) || (i > 0 && is_word(t[i - 1]))) {
            i++;
            continue;
        }
        size_t ks = i;
        while (i < n && is_word(t[i]))
            i++;
        /* a URL's query parameter: the URL's own rules apply (find_url_secrets) */
        bool url_query = ks > 0 && (t[ks - 1] == '?' || t[ks - 1] == '&');
        if (url_query || !secret_key(t + ks, i - ks))
            continue;
        size_t j = i;
        while (j < n && is_space(t[j]))
            j++;
        if (j >= n || t[j] != '=')
            continue;
        for (j++; j < n && is_space(t[j]); j++) {
        }
        if (j < n && t[j] == '\'') {
            size_t k = j + 1;
            while (k < n && t[k] != '\'')
                k += t[k] == '\\' && k + 1 < n ? 2 : 1;
            add_decoded_span(out, d, j + 1, k);
            i = k < n ? k + 1 : n;
        } else {
            size_t end = unquoted_value_end(t, n, j, d->code);
            add_decoded_span(out, d, j, end);
            i = end > j ? end : j + 1;
        }
    }
}

/* The password of every postgres:// or postgresql:// URL in d, and the values of its query
 * parameters that name a password. The URL runs up to a blank or a quote. A URL cut short
 * before its '@' may be holding a password after its first ':'. */
static void
find_url_secrets(const decoded *d, spans *out)
{
    const char *t = d->text;
    size_t n = d->len;
    for (size_t p = 0; p + 3 <= n; p++) {
        if (memcmp(t + p, "://", 3) != 0)
            continue;
        /* mysql:// and mariadb:// URLs (the MySQL engine's -d) share the syntax. */
        bool scheme = (p >= 8 && strncasecmp(t + p - 8, "postgres", 8) == 0) ||
                      (p >= 10 && strncasecmp(t + p - 10, "postgresql", 10) == 0) ||
                      (p >= 5 && strncasecmp(t + p - 5, "mysql", 5) == 0) ||
                      (p >= 7 && strncasecmp(t + p - 7, "mariadb", 7) == 0);
        if (!scheme)
            continue;
        size_t s = p + 3, e = s;
        while (e < n && !is_space(t[e]) && t[e] != '\'' && t[e] != '"')
            e++;
        /* The last '@' ends the user part: a password with a raw '@', '/' or '?' in a URL
         * libpq refuses is still covered. */
        size_t at = e;
        for (size_t k = s; k < e; k++)
            if (t[k] == '@')
                at = k;
        if (at < e) {
            const char *colon = memchr(t + s, ':', at - s);
            if (colon)
                add_decoded_span(out, d, (size_t)(colon - t) + 1, at);
        } else if (e == n && d->cut) {
            const char *colon = memchr(t + s, ':', e - s);
            if (colon)
                add_decoded_span(out, d, (size_t)(colon - t) + 1, e);
        }
        const char *q = memchr(t + (at < e ? at : s), '?', e - (at < e ? at : s));
        for (size_t k = q ? (size_t)(q - t) + 1 : e; k < e;) {
            size_t name = k;
            while (k < e && t[k] != '=' && t[k] != '&')
                k++;
            bool secret = secret_key(t + name, k - name);
            if (k < e && t[k] == '=') {
                size_t v = ++k;
                while (k < e && t[k] != '&')
                    k++;
                if (secret)
                    add_decoded_span(out, d, v, k);
            }
            if (k < e)
                k++;
        }
        p = e > p ? e - 1 : p;
    }
}

static void
find_text_secrets(const decoded *d, spans *out)
{
    find_conninfo_secrets(d, out);
    find_url_secrets(d, out);
}

/* ---- the SQL lexer ---- */

typedef struct lexer {
    const char *s;   /* the raw input */
    size_t n;
    bool meta;       /* a psql meta-command: its arguments are words (\setenv PGPASSWORD x) */
    spans *out;
    sl_buf text;     /* scratch: decoded text */
    size_t *map;     /* scratch: raw offset of each decoded byte */
    size_t map_cap;
} lexer;

static void
map_reserve(lexer *lx, size_t n)
{
    if (n > lx->map_cap) {
        lx->map_cap = n;
        lx->map = sl_realloc(lx->map, n * sizeof *lx->map);
    }
}

/* Decodes the literal or identifier content [a, b) of lx->s: `quote` doubled stands for
 * itself; with backslashes (E''), \' and \\ stand for the quote and the backslash (other
 * escapes are kept as written). */
static decoded
decode(lexer *lx, size_t a, size_t b, char quote, bool backslashes)
{
    sl_buf_reset(&lx->text);
    map_reserve(lx, b - a + 1);
    size_t dn = 0;
    for (size_t k = a; k < b;) {
        lx->map[dn++] = k;
        if (lx->s[k] == quote && k + 1 < b && lx->s[k + 1] == quote) {
            sl_buf_putc(&lx->text, quote);
            k += 2;
        } else if (backslashes && lx->s[k] == '\\' && k + 1 < b &&
                   (lx->s[k + 1] == '\'' || lx->s[k + 1] == '\\')) {
            sl_buf_putc(&lx->text, lx->s[k + 1]);
            k += 2;
        } else {
            sl_buf_putc(&lx->text, lx->s[k]);
            k++;
        }
    }
    decoded d = {.text = lx->text.data ? lx->text.data : "", .len = dn, .map = lx->map,
                 .raw_end = b, .cut = b == lx->n};
    return d;
}

/* The end of a quoted token whose content starts at i: the offset of the closing quote, or n
 * when the text ends first. */
static size_t
quoted_end(const char *s, size_t n, size_t i, char quote, bool backslashes)
{
    while (i < n) {
        if (backslashes && s[i] == '\\') {
            i += 2;
            continue;
        }
        if (s[i] == quote) {
            if (i + 1 < n && s[i + 1] == quote) {
                i += 2;
                continue;
            }
            return i;
        }
        i++;
    }
    return n;
}

/* A dollar quote's tag at i ("$$" or "$name$"): its length, or 0 when there is none. */
static size_t
dollar_tag(const char *s, size_t n, size_t i)
{
    size_t k = i + 1;
    if (k < n && s[k] != '$' && (isdigit((unsigned char)s[k]) || !is_word(s[k])))
        return 0;
    while (k < n && is_word(s[k]))
        k++;
    return k < n && s[k] == '$' ? k + 1 - i : 0;
}

static void lex_sql(lexer *lx, size_t from, size_t to, int depth);

/* What the lexer expects after a secret keyword. */
enum { AFTER_NOTHING, AFTER_KEY, AFTER_KEY_EQUALS };

/* A string literal, identifier or dollar-quoted body [a, b): a secret as a whole when it
 * follows a secret keyword, else searched for conninfo and URL secrets. */
static void
quoted_content(lexer *lx, size_t a, size_t b, char quote, bool backslashes, int *after)
{
    if (b <= a)
        return;
    decoded d = decode(lx, a, b, quote, backslashes);
    if (*after != AFTER_NOTHING)
        add_decoded_span(lx->out, &d, 0, d.len);
    else
        find_text_secrets(&d, lx->out);
}

/* A comment at i (-- or nested slash-star), searched for conninfo and URL secrets. Returns
 * where the lexer goes on. */
static size_t
lex_comment(lexer *lx, size_t i, size_t to)
{
    const char *s = lx->s;
    size_t start = i + 2, end, next;
    if (s[i] == '-') {
        const char *nl = memchr(s + start, '\n', to - start);
        end = nl ? (size_t)(nl - s) : to;
        next = end;
    } else {
        int nest = 1;
        end = start;
        while (end < to) {
            if (end + 1 < to && s[end] == '/' && s[end + 1] == '*') {
                nest++;
                end += 2;
            } else if (end + 1 < to && s[end] == '*' && s[end + 1] == '/') {
                if (--nest == 0)
                    break;
                end += 2;
            } else {
                end++;
            }
        }
        end = end < to ? end : to;
        next = end + 2 <= to ? end + 2 : to;
    }
    decoded d = {.text = s + start, .len = end > start ? end - start : 0, .base = start,
                 .cut = end == lx->n};
    find_text_secrets(&d, lx->out);
    return next;
}

/* A dollar-quoted string at i whose tag is tag bytes long: a secret as a whole after a secret
 * keyword; otherwise its body is lexed as SQL (a function body) and searched as text. */
static size_t
lex_dollar(lexer *lx, size_t i, size_t tag, size_t to, int depth, int *after)
{
    const char *s = lx->s;
    size_t body = i + tag, end = to;
    for (size_t k = body; k + tag <= to; k++) {
        if (s[k] == '$' && memcmp(s + k, s + i, tag) == 0) {
            end = k;
            break;
        }
    }
    decoded d = {.text = s + body, .len = end - body, .base = body, .cut = end == lx->n,
                 .code = true};
    if (*after != AFTER_NOTHING) {
        add_decoded_span(lx->out, &d, 0, d.len);
    } else {
        if (depth < MAX_NESTING)
            lex_sql(lx, body, end, depth + 1);
        find_text_secrets(&d, lx->out);
    }
    *after = AFTER_NOTHING;
    return end + tag <= to ? end + tag : to;
}

/* The prefix letter of a literal (U&'', N'', B'', X''): the literal that follows keeps what a
 * secret keyword before it said. */
static size_t
literal_prefix(const char *s, size_t i, size_t to)
{
    if (i < to && s[i] == '\'')
        return i;
    if (i + 1 < to && s[i] == '&' && s[i + 1] == '\'')
        return i + 1;
    return 0;
}

/* A word at i (keyword, name, number, or the E of E''). Returns where the lexer goes on. */
static size_t
lex_word(lexer *lx, size_t i, size_t to, int *after)
{
    const char *s = lx->s;
    size_t start = i;
    while (i < to && (is_word(s[i]) || s[i] == '$'))
        i++;
    if (i - start == 1 && (s[start] == 'E' || s[start] == 'e') && i < to && s[i] == '\'') {
        size_t end = quoted_end(s, to, i + 1, '\'', true);
        quoted_content(lx, i + 1, end, '\'', true, after);
        *after = AFTER_NOTHING;
        return end < to ? end + 1 : to;
    }
    if (i - start == 1 && strchr("UuNnBbXx", s[start]) && literal_prefix(s, i, to))
        return literal_prefix(s, i, to);
    if (i + 3 <= to && memcmp(s + i, "://", 3) == 0) {
        size_t e = i;
        while (e < to && !is_space(s[e]) && s[e] != ';')
            e++;
        decoded d = {.text = s + start, .len = e - start, .base = start, .cut = e == lx->n};
        find_url_secrets(&d, lx->out);
        *after = AFTER_NOTHING;
        return e;
    }
    if (*after == AFTER_KEY_EQUALS || (lx->meta && *after == AFTER_KEY)) {
        decoded d = {.text = s + start, .len = i - start, .base = start};
        add_decoded_span(lx->out, &d, 0, d.len);
        *after = AFTER_NOTHING;
        return i;
    }
    *after = secret_key(s + start, i - start) ? AFTER_KEY : AFTER_NOTHING;
    return i;
}

static void
lex_sql(lexer *lx, size_t from, size_t to, int depth)
{
    const char *s = lx->s;
    int after = AFTER_NOTHING;
    size_t i = from;
    while (i < to) {
        char c = s[i];
        size_t tag;
        if (is_space(c)) {
            i++;
        } else if (i + 1 < to && ((c == '-' && s[i + 1] == '-') || (c == '/' && s[i + 1] == '*'))) {
            i = lex_comment(lx, i, to);
        } else if (c == '\'') {
            size_t end = quoted_end(s, to, i + 1, '\'', false);
            quoted_content(lx, i + 1, end, '\'', false, &after);
            after = AFTER_NOTHING;
            i = end < to ? end + 1 : to;
        } else if (c == '"') {
            size_t end = quoted_end(s, to, i + 1, '"', false);
            decoded d = decode(lx, i + 1, end, '"', false);
            if (after == AFTER_KEY_EQUALS) {
                add_decoded_span(lx->out, &d, 0, d.len);
                after = AFTER_NOTHING;
            } else {
                /* OPTIONS ("password" 'x'): a quoted option name is a keyword too */
                after = secret_key(d.text, d.len) ? AFTER_KEY : AFTER_NOTHING;
                find_text_secrets(&d, lx->out);
            }
            i = end < to ? end + 1 : to;
        } else if (c == '$' && (tag = dollar_tag(s, to, i)) > 0) {
            i = lex_dollar(lx, i, tag, to, depth, &after);
        } else if (is_word(c)) {
            i = lex_word(lx, i, to, &after);
        } else {
            after = c == '=' && after == AFTER_KEY ? AFTER_KEY_EQUALS : AFTER_NOTHING;
            i++;
        }
    }
}

static int
span_cmp(const void *x, const void *y)
{
    const span *a = x, *b = y;
    return a->a < b->a ? -1 : a->a > b->a ? 1 : a->b < b->b ? -1 : a->b > b->b;
}

/* Writes s with the (sorted, possibly overlapping) spans replaced; returns how many merged
 * spans were replaced. */
static size_t
write_redacted(const char *s, size_t n, spans *sp, sl_buf *out)
{
    if (sp->n > 1)
        qsort(sp->v, sp->n, sizeof *sp->v, span_cmp);
    size_t at = 0, count = 0;
    for (size_t i = 0; i < sp->n;) {
        size_t a = sp->v[i].a, b = sp->v[i].b;
        for (i++; i < sp->n && sp->v[i].a <= b; i++)
            b = sp->v[i].b > b ? sp->v[i].b : b;
        if (a < at)
            a = at;
        if (b > n)
            b = n;
        if (b <= a)
            continue;
        sl_buf_append(out, s + at, a - at);
        sl_buf_puts(out, SL_CONNINFO_REDACTED);
        at = b;
        count++;
    }
    sl_buf_append(out, s + at, n - at);
    return count;
}

static void
sql_spans(const char *sql, size_t len, spans *sp)
{
    size_t lead = 0;
    while (lead < len && is_space(sql[lead]))
        lead++;
    lexer lx = {.s = sql, .n = len, .out = sp, .meta = lead < len && sql[lead] == '\\'};
    sl_buf_init(&lx.text);
    lex_sql(&lx, 0, len, 0);
    sl_buf_free(&lx.text);
    free(lx.map);
}

size_t
sl_conninfo_redact_sql(const char *sql, size_t len, sl_buf *out)
{
    spans sp = {0};
    sql_spans(sql, len, &sp);
    size_t n = write_redacted(sql, len, &sp, out);
    spans_free(&sp);
    return n;
}

/* ---- scrubbing messages ---- */

/* Quote pairs a message may use around a fragment, the translated ones included. */
static const struct {
    const char *open, *close;
} quote_pairs[] = {
    {"\"", "\""}, {"\xc2\xbb", "\xc2\xab"}, {"\xc2\xab", "\xc2\xbb"},
    {"\xe2\x80\x9c", "\xe2\x80\x9d"}, {"\xe2\x80\x9e", "\xe2\x80\x9c"},
    {"\xe2\x80\x98", "\xe2\x80\x99"}, {"\xe3\x80\x8c", "\xe3\x80\x8d"},
};

/* Whether the fragment f of a message about source must not be shown. */
static bool
fragment_secret(const char *f, size_t flen, const char *source, size_t slen, const spans *sp,
                bool positional)
{
    if (flen == 0)
        return false;
    for (size_t i = 0; i < sp->n; i++) {
        const char *sec = sp->v[i].secret;
        if (!sec)
            continue;
        size_t sl = strlen(sec);
        if ((flen <= sl && memmem(sec, sl, f, flen)) || (sl <= flen && memmem(f, flen, sec, sl)))
            return true;
    }
    if (!positional)
        return false;
    /* A fragment of the string that overlaps a secret's bytes, or that is not in the string
     * as written (libpq decoded it: it may be anything). */
    bool found = false;
    for (const char *p = source; (p = memmem(p, slen - (size_t)(p - source), f, flen)) != NULL;
         p++) {
        found = true;
        size_t a = (size_t)(p - source), b = a + flen;
        for (size_t i = 0; i < sp->n; i++)
            if (a < sp->v[i].b && sp->v[i].a < b)
                return true;
        if ((size_t)(p - source) + flen >= slen)
            break;
    }
    return !found;
}

/* Copies msg into out with quoted fragments that are secrets replaced. */
static void
scrub_fragments(const char *msg, const char *source, size_t slen, const spans *sp,
                bool positional, sl_buf *out)
{
    const char *p = msg;
    while (*p) {
        size_t q = 0;
        const char *close = NULL, *end = NULL;
        for (; q < sizeof quote_pairs / sizeof quote_pairs[0]; q++) {
            size_t ol = strlen(quote_pairs[q].open);
            if (strncmp(p, quote_pairs[q].open, ol) == 0) {
                close = quote_pairs[q].close;
                end = strstr(p + ol, close);
                break;
            }
        }
        if (!end) {
            sl_buf_putc(out, *p++);
            continue;
        }
        size_t ol = strlen(quote_pairs[q].open);
        const char *f = p + ol;
        sl_buf_append(out, p, ol);
        if (fragment_secret(f, (size_t)(end - f), source, slen, sp, positional))
            sl_buf_puts(out, SL_CONNINFO_REDACTED);
        else
            sl_buf_append(out, f, (size_t)(end - f));
        sl_buf_puts(out, close);
        p = end + strlen(close);
    }
}

/* Replaces every occurrence of the secrets in b (long enough to be told from other words). */
static void
scrub_occurrences(sl_buf *b, const spans *sp)
{
    for (size_t i = 0; i < sp->n; i++) {
        const char *sec = sp->v[i].secret;
        if (!sec || strlen(sec) < MIN_FREE_TEXT_SECRET || !b->data)
            continue;
        size_t sl = strlen(sec);
        if (!memmem(b->data, b->len, sec, sl))
            continue;
        sl_buf out = SL_BUF_INIT;
        const char *p = b->data, *end = b->data + b->len, *hit;
        while ((hit = memmem(p, (size_t)(end - p), sec, sl)) != NULL) {
            sl_buf_append(&out, p, (size_t)(hit - p));
            sl_buf_puts(&out, SL_CONNINFO_REDACTED);
            p = hit + sl;
        }
        sl_buf_append(&out, p, (size_t)(end - p));
        sl_buf_free(b);
        *b = out;
    }
}

static void
scrub(char *msg, size_t cap, const char *source, size_t len, const spans *sp, bool positional)
{
    if (sp->n == 0)
        return;
    sl_buf b = SL_BUF_INIT;
    scrub_fragments(msg, source, len, sp, positional, &b);
    scrub_occurrences(&b, sp);
    snprintf(msg, cap, "%s", b.data ? b.data : "");
    sl_buf_free(&b);
}

void
sl_conninfo_redact_message(char *msg, size_t cap, const char *source, size_t len, bool is_sql)
{
    if (!msg || cap == 0 || !source)
        return;
    spans sp = {.keep_secrets = true};
    if (is_sql) {
        sql_spans(source, len, &sp);
    } else {
        decoded d = {.text = source, .len = len};
        find_text_secrets(&d, &sp);
    }
    scrub(msg, cap, source, len, &sp, !is_sql);
    spans_free(&sp);
}

void
sl_conninfo_redact_password(char *msg, size_t cap, const char *password)
{
    if (!msg || cap == 0 || !password || !*password)
        return;
    spans sp = {.keep_secrets = true};
    spans_add(&sp, 0, strlen(password), password, strlen(password));
    scrub(msg, cap, password, strlen(password), &sp, false);
    spans_free(&sp);
}

/* ---- connection failures ---------------------------------------------------------------- */

/* What libpq (class 08, client side) says when a server cannot be reached (yet), in the words
 * of libpq and the C library: sluice never sets a locale, so they are not translated. */
static const char *const transient_texts[] = {
    "Connection refused",
    "Network is unreachable",
    "No route to host",
    "Connection timed out",
    "Connection reset by peer",
    "timeout expired",
    "could not translate host name",
    "server closed the connection unexpectedly",
    "could not connect to server",
    "Resource temporarily unavailable",
    "could not fork new process for connection",
};

static bool
text_is_transient(const char *line, size_t len)
{
    for (size_t i = 0; i < sizeof transient_texts / sizeof transient_texts[0]; i++)
        if (memmem(line, len, transient_texts[i], strlen(transient_texts[i])))
            return true;
    /* A unix socket that does not exist (yet) is the socket form of "connection refused". */
    return memmem(line, len, "on socket", 9) && memmem(line, len, "No such file or directory", 25);
}

static bool
sqlstate_is_transient(const char *sqlstate)
{
    return strncmp(sqlstate, "08", 2) == 0 || strcmp(sqlstate, "57P03") == 0 ||
           strcmp(sqlstate, "53300") == 0;
}

static bool
is_sqlstate(const char *p)
{
    for (int i = 0; i < 5; i++)
        if (!isdigit((unsigned char)p[i]) && !isupper((unsigned char)p[i]))
            return false;
    return p[5] == ':' && p[6] == ' ';
}

/* One attempt's line: the reason without libpq's "connection to server ... failed: " and the
 * server's "SEVERITY:  " prefix, and the SQLSTATE that came with it. */
static void
read_attempt(const char *line, size_t len, char *sqlstate, const char **reason, size_t *rlen)
{
    const char *p = line, *end = line + len;
    sqlstate[0] = '\0';
    if (len > 21 && strncmp(p, "connection to server ", 21) == 0) {
        const char *f = memmem(p, len, " failed: ", 9);
        if (f)
            p = f + 9;
    }
    /* "FATAL:  53300: text": the severity is translated, its two blanks and the SQLSTATE are
     * not. */
    const char *sev = memmem(p, (size_t)(end - p), ":  ", 3);
    if (sev && sev - p <= 32 && !memchr(p, '"', (size_t)(sev - p))) {
        const char *q = sev + 3;
        if (end - q >= 7 && is_sqlstate(q)) {
            memcpy(sqlstate, q, 5);
            sqlstate[5] = '\0';
            q += 7;
        }
        p = q;
    }
    while (end > p && (end[-1] == ' ' || end[-1] == '\r'))
        end--;
    *reason = p;
    *rlen = (size_t)(end - p);
}

static bool
continuation_line(const char *p, size_t len)
{
    return len == 0 || p[0] == ' ' || p[0] == '\t' || strncmp(p, "DETAIL:", 7) == 0 ||
           strncmp(p, "HINT:", 5) == 0 || strncmp(p, "CONTEXT:", 8) == 0 ||
           strncmp(p, "LOCATION:", 9) == 0;
}

void
sl_conninfo_failure_read(const char *message, sl_conninfo_failure *f)
{
    memset(f, 0, sizeof *f);
    bool any = false, decided = false;
    const char *p = message ? message : "";
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (!continuation_line(p, len)) {
            char sqlstate[6];
            const char *reason;
            size_t rlen;
            read_attempt(p, len, sqlstate, &reason, &rlen);
            bool transient = sqlstate[0] ? sqlstate_is_transient(sqlstate)
                                         : text_is_transient(p, len);
            if (!decided && (!any || !transient)) {
                snprintf(f->reason, sizeof f->reason, "%.*s", (int)rlen, reason);
                memcpy(f->sqlstate, sqlstate, sizeof f->sqlstate);
                decided = !transient;
            }
            any = true;
        }
        p += len + (eol ? 1 : 0);
    }
    f->transient = any && !decided;
    if (!f->reason[0])
        snprintf(f->reason, sizeof f->reason, "unknown error");
}

bool
sl_conninfo_failure_is_transient(const char *message)
{
    sl_conninfo_failure f;
    sl_conninfo_failure_read(message, &f);
    return f.transient;
}

void
sl_conninfo_format(sl_buf *out, const char *const *keys, const char *const *vals, size_t n)
{
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (!vals[i] || !*vals[i])
            continue;
        sl_buf_printf(out, "%s%s='", first ? "" : " ", keys[i]);
        for (const char *p = vals[i]; *p; p++) {
            if (*p == '\\' || *p == '\'')
                sl_buf_putc(out, '\\');
            sl_buf_putc(out, *p);
        }
        sl_buf_putc(out, '\'');
        first = false;
    }
}
