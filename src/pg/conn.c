/* pg/conn.c: conninfo handling, connecting with retries, session settings, server errors.
 *
 * Where to connect is a list of libpq keyword/value pairs handed to PQconnectdbParams() with
 * expand_dbname=1, so -d may be a plain name, a postgres:// URL or a conninfo string, and
 * everything left unset falls through to libpq (PG* variables, .pgpass, service files, sslmode,
 * connect_timeout). libpq applies the pairs in array order, the last value winning, so the
 * array is built as: application_name, dbname (expanded), then the explicit keywords. That way
 * -h/-p/-U override what a URL says, and a URL's application_name overrides sluice's default.
 *
 * Retrying: libpq gives no PGresult (hence no SQLSTATE) for a failed connection attempt; only
 * PQerrorMessage() text. The error verbosity that would add the SQLSTATE cannot be set before
 * PQconnectdbParams() returns, and driving PQconnectPoll() ourselves would mean re-implementing
 * connect_timeout and multi-host handling. So failures are classified by the text libpq and the
 * server produce for the transient cases (class 08, 57P03, 53300). The server's texts are the
 * untranslated English ones unless lc_messages says otherwise; an unrecognised (e.g. localised)
 * message is treated as permanent, which fails fast rather than retrying forever. */
#include "pg/conn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"

#define BACKOFF_START_MS 200
#define BACKOFF_CAP_MS 5000
#define PASSWORD_MAX 1024

typedef struct kv {
    char *key;
    char *val;
} kv;

struct sl_conninfo {
    kv *v;
    size_t n;
    size_t cap;
    /* The parsed form of "dbname" when it is a URL or conninfo string (NULL otherwise), so
     * that get() and with_dbname() see the keywords it carries. */
    PQconninfoOption *parsed;
};

struct sl_conn {
    PGconn *pg;
    PGcancel *cancel;
    char *desc;
};

/* ---- sl_conninfo ------------------------------------------------------------------------ */

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

/* The test libpq itself applies (recognized_connection_string in fe-connect.c). */
static bool
looks_like_conninfo(const char *s)
{
    return strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0 ||
           strchr(s, '=') != NULL;
}

static kv *
find(const sl_conninfo *ci, const char *keyword)
{
    for (size_t i = 0; i < ci->n; i++)
        if (strcmp(ci->v[i].key, keyword) == 0)
            return &ci->v[i];
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
        ci->parsed = PQconninfoParse(d->val, &msg);  /* NULL if invalid: sl_conn_open says so */
        PQfreemem(msg);
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
    if (ci->parsed) {
        /* dbname is a URL/conninfo: its dbname is the database; other explicit keywords win. */
        if (strcmp(keyword, "dbname") == 0)
            return parsed_value(ci, "dbname");
        kv *e = find(ci, keyword);
        return e ? e->val : parsed_value(ci, keyword);
    }
    kv *e = find(ci, keyword);
    return e ? e->val : NULL;
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

int
sl_conninfo_prompt_password(sl_conninfo *ci, sl_error *err)
{
    char pw[PASSWORD_MAX];
    struct termios saved, quiet;
    size_t len = 0;
    int rc = -1;
    bool restore = false;
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        sl_error_errno(err, SL_E_USAGE, errno, "-W: cannot ask for the password: no terminal");
        return -1;
    }
    if (tcgetattr(fd, &saved) == 0) {
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        quiet.c_lflag |= ECHONL;  /* the user still sees the line end */
        restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
    }
    static const char prompt[] = "Password: ";
    if (write(fd, prompt, sizeof prompt - 1) < 0) {
        sl_error_errno(err, SL_E_IO, errno, "-W: could not write the password prompt");
        goto done;
    }
    for (;;) {
        char c;
        ssize_t n = read(fd, &c, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            sl_error_errno(err, SL_E_IO, errno, "-W: could not read the password");
            goto done;
        }
        if (n == 0 || c == '\n' || c == '\r')
            break;
        if (len + 1 >= sizeof pw) {
            sl_error_set(err, SL_E_USAGE, "-W: password longer than %d bytes", PASSWORD_MAX - 1);
            goto done;
        }
        pw[len++] = c;
    }
    pw[len] = '\0';
    sl_conninfo_set(ci, "password", pw);
    rc = 0;
done:
    if (restore)
        tcsetattr(fd, TCSAFLUSH, &saved);
    close(fd);
    explicit_bzero(pw, sizeof pw);
    return rc;
}

/* ---- failure classification ------------------------------------------------------------- */

/* Texts of transient failures, as libpq (client side, class 08) and the server (57P03, 53300)
 * word them. */
static const char *const transient_texts[] = {
    /* class 08: the server could not be reached (yet) */
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
    /* 57P03 cannot_connect_now */
    "the database system is starting up",
    "the database system is shutting down",
    "the database system is in recovery mode",
    "the database system is not yet accepting connections",
    "the database system is not accepting connections",
    /* 53300 too_many_connections */
    "too many clients already",
    "remaining connection slots are reserved",
    "too many connections for",
};

static bool
line_is_transient(const char *line, size_t len)
{
    for (size_t i = 0; i < sizeof transient_texts / sizeof transient_texts[0]; i++)
        if (memmem(line, len, transient_texts[i], strlen(transient_texts[i])))
            return true;
    /* A unix socket that does not exist (yet) is the socket form of "connection refused". */
    return memmem(line, len, "on socket", 9) && memmem(line, len, "No such file or directory", 25);
}

/* libpq writes one line per host it tried ("connection to server at ... failed: REASON"),
 * followed by indented hints and DETAIL/HINT lines. The failure is transient only if every
 * attempt failed for a transient reason: a wrong password on any host is not worth a retry. */
bool
sl_conn_failure_is_transient(const char *message)
{
    bool any = false;
    const char *p = message ? message : "";
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        bool skip = len == 0 || p[0] == ' ' || p[0] == '\t' || strncmp(p, "DETAIL:", 7) == 0 ||
                    strncmp(p, "HINT:", 5) == 0 || strncmp(p, "CONTEXT:", 8) == 0;
        if (!skip) {
            if (!line_is_transient(p, len))
                return false;
            any = true;
        }
        p += len + (eol ? 1 : 0);
    }
    return any;
}

/* The reason of the first attempt, without libpq's "connection to server at ... failed: "
 * prefix and the "FATAL:  " severity, on one line. */
static void
first_reason(const char *message, char *out, size_t cap)
{
    const char *p = message ? message : "";
    if (strncmp(p, "connection to server ", 21) == 0) {
        const char *f = strstr(p, " failed: ");
        const char *eol = strchr(p, '\n');
        if (f && (!eol || f < eol))
            p = f + 9;
    }
    if (strncmp(p, "FATAL:  ", 8) == 0)
        p += 8;
    size_t len = strcspn(p, "\n");
    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\r'))
        len--;
    if (len == 0) {
        p = "unknown error";
        len = strlen(p);
    }
    snprintf(out, cap, "%.*s", (int)len, p);
}

/* ---- connecting ------------------------------------------------------------------------- */

static const char *
nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

/* Where the attempt went, for messages: libpq's resolved values when it got that far,
 * otherwise what the caller asked for, otherwise libpq's defaults. */
static void
describe_target(const PGconn *pg, const sl_conninfo *ci, char *out, size_t cap)
{
    const char *host = pg ? nonempty(PQhost(pg)) : NULL;
    const char *port = pg ? nonempty(PQport(pg)) : NULL;
    const char *db = pg ? nonempty(PQdb(pg)) : NULL;
    const char *user = pg ? nonempty(PQuser(pg)) : NULL;
    host = host ? host : nonempty(sl_conninfo_get(ci, "host"));
    port = port ? port : nonempty(sl_conninfo_get(ci, "port"));
    db = db ? db : nonempty(sl_conninfo_get(ci, "dbname"));
    user = user ? user : nonempty(sl_conninfo_get(ci, "user"));
    snprintf(out, cap, "%s:%s database \"%s\" as user \"%s\"", host ? host : "(default)",
             port ? port : "(default)", db ? db : "(default)", user ? user : "(default)");
}

/* A libpq parse error may quote a fragment of the string, and the string may hold a password:
 * every double-quoted fragment of in becomes "..." in out. */
static void
redact_quoted(const char *in, char *out, size_t cap)
{
    sl_buf b = SL_BUF_INIT;
    bool inside = false;
    for (const char *r = in; *r; r++) {
        if (*r == '"') {
            sl_buf_puts(&b, inside ? "\"" : "\"...");
            inside = !inside;
        } else if (!inside && *r != '\n') {
            sl_buf_putc(&b, *r);
        }
    }
    snprintf(out, cap, "%s", b.data ? b.data : "");
    sl_buf_free(&b);
}

static int
check_dbname_syntax(const sl_conninfo *ci, sl_error *err)
{
    kv *d = find(ci, "dbname");
    if (!d || !looks_like_conninfo(d->val) || ci->parsed)
        return 0;
    char *msg = NULL;
    PQconninfoOption *o = PQconninfoParse(d->val, &msg);
    char text[512];
    redact_quoted(msg ? msg : "syntax error", text, sizeof text);
    sl_error_set(err, SL_E_USAGE, "invalid connection URL or string given as the database: %s",
                 text);
    PQconninfoFree(o);
    PQfreemem(msg);
    return -1;
}

static void
sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static PGconn *
connect_once(const sl_conninfo *ci, const sl_conn_opts *opts)
{
    size_t n = 0, cap = ci->n + 4;
    const char **keys = sl_calloc(cap, sizeof *keys);
    const char **vals = sl_calloc(cap, sizeof *vals);
    keys[n] = "application_name";
    vals[n++] = opts->app_name ? opts->app_name : "sluice";
    kv *d = find(ci, "dbname");
    if (d) {
        keys[n] = "dbname";
        vals[n++] = d->val;
    }
    for (size_t i = 0; i < ci->n; i++) {
        if (&ci->v[i] == d)
            continue;
        keys[n] = ci->v[i].key;
        vals[n++] = ci->v[i].val;
    }
    if (opts->replication) {
        keys[n] = "replication";
        vals[n++] = "database";
    }
    keys[n] = NULL;
    vals[n] = NULL;
    PGconn *pg = PQconnectdbParams(keys, vals, /*expand_dbname=*/1);
    free(keys);
    free(vals);
    return pg;
}

static int
apply_settings(sl_conn *c, const sl_conn_opts *opts, sl_error *err)
{
    const struct {
        const char *name;
        const char *value;
    } settings[] = {
        {"statement_timeout", "0"},
        {"work_mem", opts->work_mem},
        {"maintenance_work_mem", opts->maintenance_work_mem},
        {"lock_timeout", opts->lock_timeout},
        {"synchronous_commit", opts->synchronous_commit},
    };
    sl_buf sql = SL_BUF_INIT;
    int rc = -1;
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        if (!settings[i].value)
            continue;
        char *lit = PQescapeLiteral(c->pg, settings[i].value, strlen(settings[i].value));
        if (!lit) {
            sl_error_set(err, SL_E_USAGE, "invalid value for %s: %s", settings[i].name,
                         PQerrorMessage(c->pg));
            goto done;
        }
        sl_buf_printf(&sql, "SET %s = %s;", settings[i].name, lit);
        PQfreemem(lit);
    }
    if (sl_conn_exec(c, sql.data, err) != 0) {
        sl_error_prefix(err, "could not apply session settings on %s", c->desc);
        goto done;
    }
    rc = 0;
done:
    sl_buf_free(&sql);
    return rc;
}

/* Server notices go through the logger instead of libpq's bare stderr lines: WARNINGs are
 * shown, NOTICE and below ("table does not exist, skipping") only with -v. */
static void
receive_notice(void *arg, const PGresult *res)
{
    (void)arg;
    const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    bool warning = severity && strcmp(severity, "WARNING") == 0;
    sl_log(warning ? SL_LOG_WARN : SL_LOG_DEBUG, "server %s: %s", warning ? "warning" : "notice",
           msg ? msg : PQresultErrorMessage(res));
}

static sl_conn *
wrap(PGconn *pg)
{
    sl_conn *c = sl_calloc(1, sizeof *c);
    c->pg = pg;
    PQsetNoticeReceiver(pg, receive_notice, NULL);
    c->cancel = PQgetCancel(pg);
    c->desc = sl_asprintf("host=%s port=%s user=%s dbname=%s", PQhost(pg), PQport(pg),
                          PQuser(pg), PQdb(pg));
    return c;
}

int
sl_conn_open(sl_conn **out, const sl_conninfo *ci, const sl_conn_opts *opts, sl_error *err)
{
    static const sl_conn_opts defaults = {.connect_retries = 0};
    opts = opts ? opts : &defaults;
    if (check_dbname_syntax(ci, err) != 0)
        return -1;
    int delay = BACKOFF_START_MS;
    for (int attempt = 0;; attempt++) {
        PGconn *pg = connect_once(ci, opts);
        if (!pg) {
            sl_error_set(err, SL_E_INTERNAL, "libpq could not allocate a connection");
            return -1;
        }
        if (PQstatus(pg) == CONNECTION_OK) {
            sl_conn *c = wrap(pg);
            if (apply_settings(c, opts, err) != 0) {
                sl_conn_close(c);
                return -1;
            }
            SL_DEBUG("connected to %s (server %d)", c->desc, PQserverVersion(pg));
            *out = c;
            return 0;
        }
        char target[512], reason[512];
        describe_target(pg, ci, target, sizeof target);
        first_reason(PQerrorMessage(pg), reason, sizeof reason);
        bool transient = sl_conn_failure_is_transient(PQerrorMessage(pg));
        PQfinish(pg);
        if (!transient || attempt >= opts->connect_retries) {
            sl_error_set(err, SL_E_CONNECT, "could not connect to %s: %s", target, reason);
            if (transient && attempt > 0)
                sl_error_context(err, "gave up after %d retries", attempt);
            return -1;
        }
        sl_log(SL_LOG_WARN, "could not connect to %s: %s; retry %d of %d in %.1f s", target,
               reason, attempt + 1, opts->connect_retries, delay / 1000.0);
        sleep_ms(delay);
        delay = delay * 2 > BACKOFF_CAP_MS ? BACKOFF_CAP_MS : delay * 2;
    }
}

void
sl_conn_close(sl_conn *c)
{
    if (!c)
        return;
    PQfreeCancel(c->cancel);
    PQfinish(c->pg);
    free(c->desc);
    free(c);
}

const char *
sl_conn_describe(const sl_conn *c)
{
    return c->desc;
}

PGconn *
sl_conn_pg(sl_conn *c)
{
    return c->pg;
}

int
sl_conn_server_version(const sl_conn *c)
{
    return PQserverVersion(c->pg);
}

/* ---- statements ------------------------------------------------------------------------- */

void
sl_conn_error_from_result(sl_error *err, const PGresult *res)
{
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
    const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;
    const char *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    char fallback[512];
    if (!primary) {
        /* A client-side failure (lost connection, protocol error) has only the full text. */
        first_reason(res ? PQresultErrorMessage(res) : NULL, fallback, sizeof fallback);
        primary = fallback;
    }
    sl_buf b = SL_BUF_INIT;
    sl_buf_puts(&b, primary);
    if (detail)
        sl_buf_printf(&b, "; detail: %s", detail);
    if (hint)
        sl_buf_printf(&b, "; hint: %s", hint);
    sl_error_set(err, SL_E_SERVER, "%s", b.data);
    sl_error_set_sqlstate(err, sqlstate);
    sl_buf_free(&b);
}

/* A failed result on a connection that is gone is a connection failure, not a server verdict
 * on the statement. */
void
sl_conn_error_from(sl_conn *c, const PGresult *res, sl_error *err)
{
    if (PQstatus(c->pg) == CONNECTION_BAD) {
        char reason[512];
        first_reason(res ? PQresultErrorMessage(res) : PQerrorMessage(c->pg), reason,
                     sizeof reason);
        sl_error_set(err, SL_E_CONNECT, "lost the connection to %s: %s", c->desc, reason);
        return;
    }
    if (!res) {
        char reason[512];
        first_reason(PQerrorMessage(c->pg), reason, sizeof reason);
        sl_error_set(err, SL_E_SERVER, "%s", reason);
        return;
    }
    sl_conn_error_from_result(err, res);
}

int
sl_conn_exec(sl_conn *c, const char *sql, sl_error *err)
{
    PGresult *res = PQexec(c->pg, sql);
    ExecStatusType st = PQresultStatus(res);
    int rc = 0;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        if (res && (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH))
            sl_error_set(err, SL_E_INTERNAL, "unexpected COPY from a statement run with exec");
        else
            sl_conn_error_from(c, res, err);
        rc = -1;
    }
    PQclear(res);
    SL_DEBUG("exec%s: %.200s", rc ? " failed" : "", sql);
    return rc;
}

int
sl_conn_query(sl_conn *c, PGresult **res, const char *sql, int nparams, const char *const *params,
              sl_error *err)
{
    PGresult *r = PQexecParams(c->pg, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    SL_DEBUG("query: %.200s", sql);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        sl_conn_error_from(c, r, err);
        PQclear(r);
        return -1;
    }
    *res = r;
    return 0;
}

static char *
own(char *libpq_string)
{
    if (!libpq_string)
        return NULL;
    char *s = sl_strdup(libpq_string);
    PQfreemem(libpq_string);
    return s;
}

char *
sl_conn_quote_ident(sl_conn *c, const char *ident)
{
    return own(PQescapeIdentifier(c->pg, ident, strlen(ident)));
}

char *
sl_conn_quote_literal(sl_conn *c, const char *text)
{
    return own(PQescapeLiteral(c->pg, text, strlen(text)));
}

void
sl_conn_cancel(sl_conn *c)
{
    char buf[256];
    if (c && c->cancel && !PQcancel(c->cancel, buf, (int)sizeof buf))
        sl_log(SL_LOG_WARN, "could not cancel the statement on %s: %s", c->desc, buf);
}
