/* pg/conn.c: connecting with retries, session settings, statements and server errors.
 *
 * Connecting: the keyword/value pairs of the sl_conninfo go to PQconnectStartParams() with
 * expand_dbname=1, so -d may be a plain name, a postgres:// URL or a conninfo string, and
 * everything left unset falls through to libpq (PG* variables, .pgpass, service files, sslmode,
 * connect_timeout). application_name comes first so that a URL's own overrides sluice's.
 *
 * Retrying: libpq keeps the SQLSTATE of a server's refusal during startup to itself (no
 * PGresult survives a failed connection). What it does use is the connection's error
 * verbosity when it formats that refusal, so each attempt is driven here with PQconnectPoll()
 * on a connection whose verbosity is PQERRORS_VERBOSE from the start: the message then reads
 * "FATAL:  53300: ..." and the SQLSTATE decides (pg/conninfo.h), whatever language the server's
 * lc_messages gives the text. Failures on the client side (refused, unreachable, timeout) have
 * no SQLSTATE; libpq's own words judge them, untranslated since sluice sets no locale.
 * Driving the poll loop means applying connect_timeout here as PQconnectdb does: per host,
 * at least 2 s. libpq gives no way to say "try the next host" from outside, so a timeout shuts
 * the socket down: while the TCP connection is being made, libpq takes that as this address
 * failing and goes on to the next address or host, as PQconnectdb does; once the server has
 * answered, it ends the attempt, which is then reported as a timeout and retried. */
#include "pg/conn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/procs.h"
#include "pg/interrupt.h"

#define BACKOFF_START_MS 200
#define BACKOFF_CAP_MS 5000
#define PASSWORD_MAX 1024
/* How much of a statement a debug line shows, and how much is redacted to show it. */
#define LOG_STATEMENT_CHARS 200
#define LOG_STATEMENT_SCAN 4096
/* How much of a failed statement is searched for the secrets its error must not show. */
#define ERROR_STATEMENT_SCAN (64 * 1024)

struct sl_conn {
    PGconn *pg;
    PGcancel *cancel;
    char *desc;
};

/* ---- the password prompt ---------------------------------------------------------------- */

int
sl_conn_prompt_password(sl_conninfo *ci, sl_error *err)
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

/* ---- connecting ------------------------------------------------------------------------- */

/* Where the attempt went, for messages: libpq's resolved values when it got that far,
 * otherwise what the caller asked for. */
static void
describe_target(const PGconn *pg, const sl_conninfo *ci, char *out, size_t cap)
{
    sl_conninfo_target t = {0};
    if (pg)
        t = (sl_conninfo_target){PQhost(pg), PQport(pg), PQdb(pg), PQuser(pg)};
    sl_conninfo_describe(ci, &t, out, cap);
}

/* A SIGINT/SIGTERM that reached an armed engine (pg/interrupt.h) ends the attempts at once:
 * the signal's cancel requests have no statement to cancel while sluice is still connecting. */
static bool
interrupted(sl_error *err)
{
    if (!sl_interrupt_fired())
        return false;
    sl_error_set(err, SL_E_CANCELED, "interrupted by a signal while connecting");
    return true;
}

/* For sl_clock_sleep_ms(): a signal that reached an armed engine cuts the wait short. */
static bool
signal_came(void *arg)
{
    (void)arg;
    return sl_interrupt_fired();
}

static PGconn *
start_connect(const sl_conninfo *ci, const sl_conn_opts *opts)
{
    size_t n = 0, cap = sl_conninfo_count(ci) + 3;
    const char **keys = sl_calloc(cap, sizeof *keys);
    const char **vals = sl_calloc(cap, sizeof *vals);
    keys[n] = "application_name";
    vals[n++] = opts->app_name ? opts->app_name : "sluice";
    sl_conninfo_params(ci, keys + n, vals + n);
    n += sl_conninfo_count(ci);
    if (opts->replication) {
        keys[n] = "replication";
        vals[n++] = "database";
    }
    PGconn *pg = PQconnectStartParams(keys, vals, /*expand_dbname=*/1);  /* copies them */
    free(keys);
    free(vals);
    return pg;
}

/* connect_timeout as libpq reads it (URL, keyword, PGCONNECT_TIMEOUT, service file), in
 * seconds: 0 for none, at least 2 otherwise (as PQconnectdb rounds it). */
static int
connect_timeout_of(PGconn *pg, sl_error *err)
{
    PQconninfoOption *opts = PQconninfo(pg);
    int rc = 0;
    for (PQconninfoOption *o = opts; o && o->keyword; o++) {
        if (strcmp(o->keyword, "connect_timeout") != 0 || !o->val || !*o->val)
            continue;
        char *end = NULL;
        errno = 0;
        long v = strtol(o->val, &end, 10);
        while (end && *end == ' ')
            end++;
        if (errno || end == o->val || *end || v > 1000000) {
            sl_error_set(err, SL_E_USAGE, "invalid connect_timeout \"%s\": expected seconds",
                         o->val);
            rc = -1;
        } else {
            rc = v <= 0 ? 0 : v < 2 ? 2 : (int)v;
        }
        break;
    }
    PQconninfoFree(opts);
    return rc;
}

/* Waits until the socket is ready for what libpq asked, or the deadline (ms, 0 for none)
 * passes: 1 ready, 0 timed out, -1 failed (errno). */
static int
wait_socket(PGconn *pg, PostgresPollingStatusType st, long long deadline)
{
    for (;;) {
        struct pollfd p = {.fd = PQsocket(pg),
                           .events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT};
        if (p.fd < 0) {  /* libpq asked to wait on no socket: poll() would wait forever */
            errno = EBADF;
            return -1;
        }
        int ms = -1;
        if (deadline) {
            long long left = deadline - sl_clock_ms();
            ms = left <= 0 ? 0 : left > 60000 ? 60000 : (int)left;
        }
        int r = poll(&p, 1, ms);
        if (r > 0)
            return 1;
        if (r < 0 && (errno != EINTR || sl_interrupt_fired()))
            return -1;
        if (deadline && sl_clock_ms() >= deadline)
            return 0;
    }
}

/* One connection attempt over every host and address libpq is given (see the design note).
 * 0 with *out set (connected or failed: PQstatus says), -1 when it could not be tried. */
static int
connect_once(const sl_conninfo *ci, const sl_conn_opts *opts, PGconn **out, bool *timed_out,
             sl_error *err)
{
    PGconn *pg = start_connect(ci, opts);
    if (!pg) {
        sl_error_set(err, SL_E_INTERNAL, "libpq could not allocate a connection");
        return -1;
    }
    *out = pg;
    PQsetErrorVerbosity(pg, PQERRORS_VERBOSE);
    if (PQstatus(pg) == CONNECTION_BAD)
        return 0;
    int timeout = connect_timeout_of(pg, err);
    if (timeout < 0)
        return -1;
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    char where[512] = "";
    int sock = -1;
    long long deadline = 0;
    while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
        /* The timer restarts for each host, and for each new socket (the next address of a
         * host, or the same one again without SSL). */
        char now[512];
        snprintf(now, sizeof now, "%s:%s", PQhost(pg) ? PQhost(pg) : "",
                 PQport(pg) ? PQport(pg) : "");
        if (timeout && (strcmp(now, where) != 0 || PQsocket(pg) != sock)) {
            memcpy(where, now, sizeof where);
            sock = PQsocket(pg);
            deadline = sl_clock_ms() + (long long)timeout * 1000;
        }
        int r = wait_socket(pg, st, deadline);
        if (r < 0 && interrupted(err))
            return -1;
        if (r < 0) {
            sl_error_errno(err, SL_E_CONNECT, errno, "could not wait for the server");
            return -1;
        }
        if (r == 0) {
            shutdown(PQsocket(pg), SHUT_RDWR);
            *timed_out = true;
            sock = -1;  /* whatever socket comes next gets a full timeout */
        }
        st = PQconnectPoll(pg);
    }
    return 0;
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
        {SL_CONN_DATABASE_PROPERTIES, opts->database_properties ? "on" : NULL},
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
    PQsetErrorVerbosity(pg, PQERRORS_DEFAULT);
    PQsetNoticeReceiver(pg, receive_notice, NULL);
    c->cancel = PQgetCancel(pg);
    char desc[512];
    describe_target(pg, NULL, desc, sizeof desc);
    c->desc = sl_strdup(desc);
    return c;
}

/* Why an attempt failed, with the password of ci (given with -W, or in a URL or conninfo
 * string) out of it: libpq does not repeat it, but the text is shown as it comes. */
static void
read_failure(PGconn *pg, const sl_conninfo *ci, bool timed_out, sl_conninfo_failure *f)
{
    sl_conninfo_failure_read(PQerrorMessage(pg), f);
    if (timed_out && f->transient)
        snprintf(f->reason, sizeof f->reason, "timeout expired");
    sl_conninfo_redact_password(f->reason, sizeof f->reason, sl_conninfo_get(ci, "password"));
    /* a URL given as PGDATABASE is a database name to libpq, which the server repeats */
    const char *db = PQdb(pg);
    if (db && (strstr(db, "://") || strchr(db, '=')))
        sl_conninfo_redact_message(f->reason, sizeof f->reason, db, strlen(db), false);
}

int
sl_conn_open(sl_conn **out, const sl_conninfo *ci, const sl_conn_opts *opts, sl_error *err)
{
    static const sl_conn_opts defaults = {.connect_retries = 0};
    opts = opts ? opts : &defaults;
    if (sl_conninfo_check(ci, err) != 0)
        return -1;
    int delay = BACKOFF_START_MS;
    for (int attempt = 0;; attempt++) {
        PGconn *pg = NULL;
        bool timed_out = false;
        if (connect_once(ci, opts, &pg, &timed_out, err) != 0) {
            PQfinish(pg);
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
        char target[512];
        sl_conninfo_failure f;
        describe_target(pg, ci, target, sizeof target);
        read_failure(pg, ci, timed_out, &f);
        PQfinish(pg);
        if (!f.transient || attempt >= opts->connect_retries) {
            sl_error_set(err, SL_E_CONNECT, "could not connect to %s: %s", target, f.reason);
            sl_error_set_sqlstate(err, f.sqlstate[0] ? f.sqlstate : NULL);
            if (f.transient && attempt > 0)
                sl_error_context(err, "gave up after %d retries", attempt);
            return -1;
        }
        sl_log(SL_LOG_WARN, "could not connect to %s: %s%s%s%s; retry %d of %d in %.1f s",
               target, f.reason, f.sqlstate[0] ? " (SQLSTATE " : "", f.sqlstate,
               f.sqlstate[0] ? ")" : "", attempt + 1, opts->connect_retries, delay / 1000.0);
        sl_clock_sleep_ms(delay, signal_came, NULL);
        if (interrupted(err))
            return -1;
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

/* The reason a libpq message gives, on one line, without libpq's and the server's prefixes. */
static void
first_reason(const char *message, char *out, size_t cap)
{
    sl_conninfo_failure f;
    sl_conninfo_failure_read(message, &f);
    snprintf(out, cap, "%s", f.reason);
}

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
    while (b.len > 0 && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == ' '))
        b.data[--b.len] = '\0';  /* a server message quoting libpq's ends in a newline */
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

void
sl_conn_log_statement(const char *label, const char *sql)
{
    if (!sl_log_enabled(SL_LOG_DEBUG))
        return;
    sl_buf b = SL_BUF_INIT;
    sl_conninfo_redact_sql(sql, strnlen(sql, LOG_STATEMENT_SCAN), &b);
    sl_log(SL_LOG_DEBUG, "%s: %.*s%s", label, LOG_STATEMENT_CHARS, b.data,
           b.len > LOG_STATEMENT_CHARS ? "..." : "");
    sl_buf_free(&b);
}

/* A server's message may repeat part of the statement (a conninfo's parse error quotes the
 * fragment it stumbled on): the statement's secrets are taken out of it. */
static void
redact_error(sl_error *err, const char *sql)
{
    if (err)
        sl_conninfo_redact_message(err->message, sizeof err->message, sql,
                                   strnlen(sql, ERROR_STATEMENT_SCAN), true);
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
        redact_error(err, sql);
        rc = -1;
    }
    PQclear(res);
    sl_conn_log_statement(rc ? "exec failed" : "exec", sql);
    return rc;
}

/* What both query calls do with the result r of sql: *res on success, err otherwise. */
static int
query_result(sl_conn *c, PGresult *r, const char *sql, PGresult **res, sl_error *err)
{
    ExecStatusType st = PQresultStatus(r);
    sl_conn_log_statement("query", sql);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        sl_conn_error_from(c, r, err);
        redact_error(err, sql);
        PQclear(r);
        return -1;
    }
    *res = r;
    return 0;
}

int
sl_conn_query(sl_conn *c, PGresult **res, const char *sql, int nparams, const char *const *params,
              sl_error *err)
{
    return query_result(c, PQexecParams(c->pg, sql, nparams, NULL, params, NULL, NULL, 0), sql,
                        res, err);
}

int
sl_conn_simple_query(sl_conn *c, PGresult **res, const char *sql, sl_error *err)
{
    return query_result(c, PQexec(c->pg, sql), sql, res, err);
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

/* The connection's settings as a conninfo string for dbname, with its password or not. */
static char *
conninfo_for(sl_conn *c, const char *dbname, bool with_password)
{
    PQconninfoOption *opts = PQconninfo(sl_conn_pg(c));
    size_t n = 0;
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        n++;
    const char **keys = sl_calloc(n + 1, sizeof *keys);
    const char **vals = sl_calloc(n + 1, sizeof *vals);
    size_t k = 0;
    for (PQconninfoOption *o = opts; o && o->keyword; o++) {
        keys[k] = o->keyword;
        vals[k++] = strcmp(o->keyword, "dbname") == 0                    ? dbname
                    : !with_password && strcmp(o->keyword, "password") == 0 ? NULL
                                                                             : o->val;
    }
    sl_buf out = SL_BUF_INIT;
    sl_conninfo_format(&out, keys, vals, k);
    /* libpq's copies of the values include the password: wipe them before freeing */
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (o->val)
            explicit_bzero(o->val, strlen(o->val));
    PQconninfoFree(opts);
    free(keys);
    free(vals);
    return out.data ? sl_buf_steal(&out) : sl_strdup("");
}

int
sl_conn_fit_children(sl_conn *c, int max_connections, int per_child, int wanted, int *fit,
                     sl_error *err)
{
    int budget = max_connections;
    if (budget <= 0) {
        PGresult *res = NULL;
        if (sl_conn_query(c, &res,
                          "SELECT pg_catalog.current_setting('max_connections')::int - "
                          "pg_catalog.current_setting('superuser_reserved_connections')::int",
                          0, NULL, err) != 0)
            return -1;
        budget = atoi(PQgetvalue(res, 0, 0)) / 2;
        PQclear(res);
        if (budget < 2)
            budget = 2;
    }
    int most = (budget - 1) / per_child;
    if (most < 1) {
        sl_error_set(err, SL_E_USAGE, "%d connections per database and this one do not fit "
                     "in a budget of %d connections (--max-connections; lower -j)", per_child,
                     budget);
        return -1;
    }
    *fit = wanted < most ? wanted : most;
    return 0;
}

int
sl_conn_conninfo_pipe(sl_conn *c, const char *dbname, int *read_fd, sl_error *err)
{
    char *conninfo = conninfo_for(c, dbname, true);
    size_t len = strlen(conninfo);
    int rc = sl_procs_pipe_text(conninfo, len, read_fd, err);
    explicit_bzero(conninfo, len);
    free(conninfo);
    return rc;
}

char *
sl_conn_conninfo_public(sl_conn *c, const char *dbname)
{
    return conninfo_for(c, dbname, false);
}

char *
sl_conn_password(sl_conn *c)
{
    const char *pw = PQpass(sl_conn_pg(c));
    return pw && *pw ? sl_strdup(pw) : NULL;
}
