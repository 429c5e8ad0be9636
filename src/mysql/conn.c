/* mysql/conn.c: connecting through libmariadb and reading its errors (see conn.h). */
#include "mysql/conn.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"

struct sl_mysql {
    MYSQL *h;
    char describe[512];
};

static pthread_once_t library_once = PTHREAD_ONCE_INIT;
static int library_rc;

/* mysql_library_init is not thread-safe; the first connection of any thread runs it. */
static void
library_init(void)
{
    library_rc = mysql_library_init(0, NULL, NULL);
}

static int
parse_port(const char *text, unsigned *out, sl_error *err)
{
    char *end = NULL;
    errno = 0;
    long v = text ? strtol(text, &end, 10) : 0;
    if (!text || errno || end == text || *end || v < 1 || v > 65535) {
        sl_error_set(err, SL_E_USAGE, "invalid port \"%s\": a number from 1 to 65535 expected",
                     text ? text : "");
        return -1;
    }
    *out = (unsigned)v;
    return 0;
}

/* The connector's TLS options for a mode name. */
static int
set_ssl_mode(MYSQL *h, const sl_mysql_target *t, sl_error *err)
{
    if (!t->ssl_mode)
        return 0;
    my_bool yes = 1, no = 0;
    const char *m = t->ssl_mode;
    if (strcasecmp(m, "DISABLED") == 0) {
        /* The connector only uses TLS when an option asks for it. */
        return 0;
    }
    if (strcasecmp(m, "PREFERRED") == 0) {
        /* Asking for TLS without enforcing it: used when the server offers it. */
        mysql_ssl_set(h, NULL, NULL, t->ssl_ca, NULL, NULL);
        return 0;
    }
    bool verify_ca = strcasecmp(m, "VERIFY_CA") == 0;
    bool verify_id = strcasecmp(m, "VERIFY_IDENTITY") == 0;
    if (!verify_ca && !verify_id && strcasecmp(m, "REQUIRED") != 0) {
        sl_error_set(err, SL_E_USAGE,
                     "invalid ssl mode \"%s\": DISABLED, PREFERRED, REQUIRED, VERIFY_CA or "
                     "VERIFY_IDENTITY expected", m);
        return -1;
    }
    /* With a CA file the connector checks the server's chain against it; its own server-cert
     * verification adds the host name check (and, with no CA file, the system's CAs), so
     * VERIFY_CA without a CA file checks the name as well: stricter, never weaker. */
    bool check_name = verify_id || (verify_ca && !t->ssl_ca);
    mysql_optionsv(h, MYSQL_OPT_SSL_ENFORCE, &yes);
    mysql_optionsv(h, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, check_name ? &yes : &no);
    if (t->ssl_ca)
        mysql_optionsv(h, MYSQL_OPT_SSL_CA, t->ssl_ca);
    return 0;
}

/* REQUIRED, VERIFY_CA or VERIFY_IDENTITY (set_ssl_mode refused other names). */
static bool
requires_tls(const sl_mysql_target *t)
{
    return t->ssl_mode && strcasecmp(t->ssl_mode, "DISABLED") != 0 &&
           strcasecmp(t->ssl_mode, "PREFERRED") != 0;
}

static void
describe(sl_mysql *c, const sl_mysql_target *t, const char *host, const char *socket)
{
    char where[300];
    if (socket)
        snprintf(where, sizeof where, "socket %s", socket);
    else if (host)
        snprintf(where, sizeof where, "%s:%s", host, t->port ? t->port : "3306");
    else
        snprintf(where, sizeof where, "the default server");
    int n = snprintf(c->describe, sizeof c->describe, "%s", where);
    if (t->database && n >= 0 && (size_t)n < sizeof c->describe)
        n += snprintf(c->describe + n, sizeof c->describe - (size_t)n, " database \"%s\"",
                      t->database);
    if (t->user && n >= 0 && (size_t)n < sizeof c->describe)
        snprintf(c->describe + n, sizeof c->describe - (size_t)n, " as user \"%s\"", t->user);
}

static int
set_options(MYSQL *h, const sl_mysql_target *t, sl_error *err)
{
    unsigned timeout = t->connect_timeout ? t->connect_timeout : 30;
    my_bool no = 0;
    /* The mysql client takes MYSQL_HOST when neither a flag nor an option file names the
     * host: set as an option, the option files read at connect time override it. (The
     * connector itself reads MYSQL_TCP_PORT, MYSQL_UNIX_PORT and MYSQL_PWD the same way.) */
    const char *env_host = getenv("MYSQL_HOST");
    if (!t->host && !t->socket && env_host && env_host[0])
        mysql_optionsv(h, MARIADB_OPT_HOST, env_host);
    if (!t->no_option_files)
        mysql_optionsv(h, MYSQL_READ_DEFAULT_GROUP, "client");
    mysql_optionsv(h, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_optionsv(h, MYSQL_OPT_LOCAL_INFILE, &no);
    mysql_optionsv(h, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    return set_ssl_mode(h, t, err);
}

sl_mysql *
sl_mysql_connect(const sl_mysql_target *t, sl_error *err)
{
    pthread_once(&library_once, library_init);
    if (library_rc != 0) {
        sl_error_set(err, SL_E_INTERNAL, "could not initialize the MySQL client library");
        return NULL;
    }
    unsigned port = 0;
    if (t->port && parse_port(t->port, &port, err) != 0)
        return NULL;
    const char *host = t->host, *socket = t->socket;
    if (host && host[0] == '/') {
        socket = host;
        host = "localhost";
    }
    /* A socket given without a host: "localhost" makes the connector use it, where an option
     * file's host would otherwise take the connection to TCP. */
    if (socket && !host)
        host = "localhost";
    sl_mysql *c = sl_calloc(1, sizeof *c);
    describe(c, t, host, socket);
    c->h = mysql_init(NULL);
    if (!c->h) {
        sl_error_set(err, SL_E_INTERNAL, "out of memory for a MySQL connection");
        free(c);
        return NULL;
    }
    if (set_options(c->h, t, err) != 0)
        goto fail;
    if (!mysql_real_connect(c->h, host, t->user, t->password, t->database, port, socket,
                            CLIENT_MULTI_STATEMENTS | CLIENT_MULTI_RESULTS)) {
        sl_mysql_error(c, SL_E_CONNECT, NULL, err);
        sl_error_prefix(err, "could not connect to %s", c->describe);
        goto fail;
    }
    if (requires_tls(t) && !mysql_get_ssl_cipher(c->h)) {
        /* The connector enforces TLS only when it also verifies the certificate: a server
         * without TLS is refused here, before any statement is sent. */
        sl_error_set(err, SL_E_CONNECT,
                     "could not connect to %s: ssl-mode %s, but the server does not support "
                     "TLS", c->describe, t->ssl_mode);
        goto fail;
    }
    return c;
fail:
    sl_mysql_close(c);
    return NULL;
}

void
sl_mysql_close(sl_mysql *c)
{
    if (!c)
        return;
    if (c->h)
        mysql_close(c->h);
    free(c);
}

MYSQL *
sl_mysql_handle(sl_mysql *c)
{
    return c->h;
}

const char *
sl_mysql_describe(const sl_mysql *c)
{
    return c->describe;
}

unsigned long
sl_mysql_server_version(const sl_mysql *c)
{
    return mysql_get_server_version(c->h);
}

bool
sl_mysql_is_mariadb(const sl_mysql *c)
{
    const char *v = mysql_get_server_info(c->h);
    return v && strstr(v, "MariaDB") != NULL;
}

void
sl_mysql_error(sl_mysql *c, sl_error_kind kind, const char *what, sl_error *err)
{
    unsigned n = mysql_errno(c->h);
    const char *state = mysql_sqlstate(c->h);
    const char *text = mysql_error(c->h);
    /* The SQLSTATE goes in its own field (sl_error_format shows it), the number here. */
    if (what)
        sl_error_set(err, kind, "%s: ERROR %u: %s", what, n, text);
    else
        sl_error_set(err, kind, "ERROR %u: %s", n, text);
    if (state && strlen(state) == 5 && strcmp(state, "00000") != 0)
        sl_error_set_sqlstate(err, state);
}

/* Reads and drops every result of the statements just sent. */
static int
drain_results(sl_mysql *c, sl_error *err)
{
    for (;;) {
        MYSQL_RES *res = mysql_store_result(c->h);
        if (res)
            mysql_free_result(res);
        else if (mysql_field_count(c->h) != 0) {
            sl_mysql_error(c, SL_E_SERVER, NULL, err);
            return -1;
        }
        int more = mysql_next_result(c->h);
        if (more > 0) {
            sl_mysql_error(c, SL_E_SERVER, NULL, err);
            return -1;
        }
        if (more < 0)
            return 0;
    }
}

int
sl_mysql_exec(sl_mysql *c, const char *sql, sl_error *err)
{
    return sl_mysql_exec_len(c, sql, strlen(sql), err);
}

int
sl_mysql_exec_len(sl_mysql *c, const char *sql, size_t len, sl_error *err)
{
    if (mysql_real_query(c->h, sql, (unsigned long)len) != 0) {
        sl_mysql_error(c, SL_E_SERVER, NULL, err);
        return -1;
    }
    return drain_results(c, err);
}

bool
sl_mysql_error_is_client(sl_mysql *c)
{
    unsigned n = mysql_errno(c->h);
    return n >= 2000 && n < 3000;
}

MYSQL_RES *
sl_mysql_query(sl_mysql *c, const char *sql, bool stream, sl_error *err)
{
    if (mysql_real_query(c->h, sql, (unsigned long)strlen(sql)) != 0) {
        sl_mysql_error(c, SL_E_SERVER, NULL, err);
        return NULL;
    }
    MYSQL_RES *res = stream ? mysql_use_result(c->h) : mysql_store_result(c->h);
    if (!res) {
        if (mysql_errno(c->h))
            sl_mysql_error(c, SL_E_SERVER, NULL, err);
        else
            sl_error_set(err, SL_E_INTERNAL, "a query returned no result set");
        return NULL;
    }
    return res;
}

int
sl_mysql_next_row(sl_mysql *c, MYSQL_RES *res, MYSQL_ROW *row, unsigned long **lengths,
                  sl_error *err)
{
    *row = mysql_fetch_row(res);
    if (!*row) {
        if (mysql_errno(c->h)) {
            sl_mysql_error(c, SL_E_SERVER, NULL, err);
            return -1;
        }
        return 0;
    }
    *lengths = mysql_fetch_lengths(res);
    return 1;
}
