/* mysql/url.c: parsing mysql:// and mariadb:// URLs (see url.h). */
#include "mysql/url.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"

static const char *const schemes[] = {"mysql://", "mariadb://"};

/* The length of the scheme and "://" text starts with, 0 if none of ours. */
static size_t
scheme_len(const char *s)
{
    for (size_t i = 0; i < sizeof schemes / sizeof *schemes; i++) {
        size_t n = strlen(schemes[i]);
        if (strncasecmp(s, schemes[i], n) == 0)
            return n;
    }
    return 0;
}

bool
sl_mysql_url_is(const char *s)
{
    return s && scheme_len(s) > 0;
}

static int
hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A percent-decoded copy of s[0..n) in *out; -1 on a bad escape or a decoded NUL (what names
 * the part in messages; the text itself is never shown: it may be a password). */
static int
decode(const char *s, size_t n, const char *what, char **out, sl_error *err)
{
    char *d = sl_malloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            d[k++] = s[i];
            continue;
        }
        int hi = i + 1 < n ? hex_value(s[i + 1]) : -1;
        int lo = hi >= 0 && i + 2 < n ? hex_value(s[i + 2]) : -1;
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            explicit_bzero(d, n + 1);
            free(d);
            sl_error_set(err, SL_E_USAGE, "invalid mysql:// URL: bad percent-escape in the %s",
                         what);
            return -1;
        }
        d[k++] = (char)(hi * 16 + lo);
        i += 2;
    }
    d[k] = '\0';
    *out = d;
    return 0;
}

static int
check_port(const char *p, sl_error *err)
{
    char *end = NULL;
    long v = strtol(p, &end, 10);
    if (!isdigit((unsigned char)p[0]) || *end || v < 1 || v > 65535) {
        sl_error_set(err, SL_E_USAGE,
                     "invalid mysql:// URL: the port must be a number from 1 to 65535");
        return -1;
    }
    return 0;
}

/* [USER[:PASSWORD]@]: the last '@' before the host ends it, so a raw '@' in a password is
 * still taken as the password's. */
static int
parse_userinfo(const char *s, size_t n, sl_mysql_url *u, sl_error *err)
{
    const char *colon = memchr(s, ':', n);
    size_t ulen = colon ? (size_t)(colon - s) : n;
    if (ulen > 0 && decode(s, ulen, "user name", &u->user, err) != 0)
        return -1;
    if (colon && decode(colon + 1, n - ulen - 1, "password", &u->password, err) != 0)
        return -1;
    return 0;
}

/* HOST[:PORT], HOST an IPv6 address in brackets or a name. */
static int
parse_hostport(const char *s, size_t n, sl_mysql_url *u, sl_error *err)
{
    const char *port = NULL;
    size_t hlen = n;
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close || (close + 1 < s + n && close[1] != ':')) {
            sl_error_set(err, SL_E_USAGE, "invalid mysql:// URL: bad bracketed host address");
            return -1;
        }
        if (decode(s + 1, (size_t)(close - s) - 1, "host", &u->host, err) != 0)
            return -1;
        port = close + 1 < s + n ? close + 2 : NULL;
    } else {
        const char *colon = memchr(s, ':', n);
        hlen = colon ? (size_t)(colon - s) : n;
        port = colon ? colon + 1 : NULL;
        if (hlen > 0 && decode(s, hlen, "host", &u->host, err) != 0)
            return -1;
    }
    if (port) {
        if (decode(port, (size_t)(s + n - port), "port", &u->port, err) != 0 ||
            check_port(u->port, err) != 0)
            return -1;
    }
    return 0;
}

/* One KEY=VALUE of the query. */
static int
parse_param(const char *s, size_t n, sl_mysql_url *u, sl_error *err)
{
    const char *eq = memchr(s, '=', n);
    if (!eq) {
        sl_error_set(err, SL_E_USAGE, "invalid mysql:// URL: a query parameter without '='");
        return -1;
    }
    char key[32];
    size_t klen = (size_t)(eq - s);
    if (klen >= sizeof key)
        klen = sizeof key - 1;
    for (size_t i = 0; i < klen; i++)
        key[i] = s[i] == '_' ? '-' : (char)tolower((unsigned char)s[i]);
    key[klen] = '\0';
    char **slot = strcmp(key, "socket") == 0     ? &u->socket
                  : strcmp(key, "ssl-mode") == 0 ? &u->ssl_mode
                  : strcmp(key, "ssl-ca") == 0   ? &u->ssl_ca
                                                 : NULL;
    if (!slot) {
        /* The key is not shown: a URL gone wrong may have its password there. */
        sl_error_set(err, SL_E_USAGE,
                     "invalid mysql:// URL: unknown query parameter (known: socket, ssl-mode, "
                     "ssl-ca)");
        return -1;
    }
    free(*slot);
    *slot = NULL;
    return decode(eq + 1, (size_t)(s + n - eq - 1), key, slot, err);
}

static int
parse_query(const char *s, sl_mysql_url *u, sl_error *err)
{
    while (*s) {
        size_t n = strcspn(s, "&");
        if (n > 0 && parse_param(s, n, u, err) != 0)
            return -1;
        s += n;
        if (*s == '&')
            s++;
    }
    return 0;
}

int
sl_mysql_url_parse(const char *text, sl_mysql_url *out, sl_error *err)
{
    memset(out, 0, sizeof *out);
    size_t skip = scheme_len(text);
    if (skip == 0) {
        sl_error_set(err, SL_E_USAGE, "invalid URL: mysql:// or mariadb:// expected");
        return -1;
    }
    const char *s = text + skip;
    /* The user part ends at the last '@' before the query (a raw '@' or '/' in a password
     * stays the password's; a '?' in one must be written %3F). The host part runs to the
     * first '/' or '?' after it. */
    size_t alen = strcspn(s, "?/");
    const char *at = NULL;
    for (const char *p = s; *p && *p != '?'; p++)
        if (*p == '@')
            at = p;
    if (at) {
        if (parse_userinfo(s, (size_t)(at - s), out, err) != 0)
            goto fail;
        s = at + 1;
        alen = strcspn(s, "?/");
    }
    if (parse_hostport(s, alen, out, err) != 0)
        goto fail;
    s += alen;
    if (*s == '/') {
        size_t dlen = strcspn(++s, "?");
        if (dlen > 0 && decode(s, dlen, "database name", &out->database, err) != 0)
            goto fail;
        s += dlen;
    }
    if (*s == '?' && parse_query(s + 1, out, err) != 0)
        goto fail;
    return 0;
fail:
    sl_mysql_url_free(out);
    return -1;
}

void
sl_mysql_url_free(sl_mysql_url *u)
{
    if (u->password)
        explicit_bzero(u->password, strlen(u->password));
    char **fields[] = {&u->user,     &u->password, &u->host,     &u->port,
                       &u->database, &u->socket,   &u->ssl_mode, &u->ssl_ca};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        free(*fields[i]);
        *fields[i] = NULL;
    }
}

/* Percent-encodes all but RFC 3986's unreserved characters (and '/' when keep_slash). */
static void
put_encoded(sl_buf *out, const char *s, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || strchr("-._~", *p) || (keep_slash && *p == '/')) {
            sl_buf_putc(out, (char)*p);
        } else {
            sl_buf_putc(out, '%');
            sl_buf_putc(out, hex[*p >> 4]);
            sl_buf_putc(out, hex[*p & 15]);
        }
    }
}

static void
put_param(sl_buf *out, bool *first, const char *key, const char *value)
{
    if (!value)
        return;
    sl_buf_printf(out, "%c%s=", *first ? '?' : '&', key);
    put_encoded(out, value, true);
    *first = false;
}

void
sl_mysql_url_format(const sl_mysql_target *t, const char *database, sl_buf *out)
{
    sl_buf_puts(out, "mysql://");
    if (t->user || t->password) {
        put_encoded(out, t->user ? t->user : "", false);
        if (t->password) {
            sl_buf_putc(out, ':');
            put_encoded(out, t->password, false);
        }
        sl_buf_putc(out, '@');
    }
    /* a host that is a socket path travels as the socket parameter */
    bool host_socket = t->host && t->host[0] == '/';
    if (t->host && !host_socket) {
        bool v6 = strchr(t->host, ':') != NULL;
        sl_buf_puts(out, v6 ? "[" : "");
        put_encoded(out, t->host, false);
        sl_buf_puts(out, v6 ? "]" : "");
    }
    if (t->port)
        sl_buf_printf(out, ":%s", t->port);
    const char *db = database ? database : t->database;
    sl_buf_putc(out, '/');
    if (db)
        put_encoded(out, db, false);
    bool first = true;
    put_param(out, &first, "socket", host_socket ? t->host : t->socket);
    put_param(out, &first, "ssl-mode", t->ssl_mode);
    put_param(out, &first, "ssl-ca", t->ssl_ca);
}
