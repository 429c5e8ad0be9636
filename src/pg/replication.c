/* pg/replication.c: see replication.h. The wire format of the CopyBoth messages is the streaming
 * replication protocol's: XLogData 'w' (start, server end, send time, data), primary keepalive
 * 'k' (server end, send time, reply requested), standby status update 'r' (write, flush, apply,
 * client time, reply requested); integers big-endian, times in microseconds since 2000-01-01. */
#include "pg/replication.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/mem.h"

#define PG_EPOCH_OFFSET_US INT64_C(946684800000000)  /* 2000-01-01 in Unix microseconds */

struct sl_repl_stream {
    sl_conn *c;
    char *buf;              /* the last message from PQgetCopyData, freed by the next call */
    sl_lsn confirmed;       /* what status updates report */
    sl_lsn server_end;
    int interval_ms;
    int64_t next_status_ms; /* monotonic time the next status update is due */
};

bool
sl_lsn_parse(const char *text, sl_lsn *out)
{
    uint32_t part[2];
    const char *p = text;
    for (int i = 0; i < 2; i++) {
        size_t n = 0;
        uint32_t v = 0;
        for (; n < 8 && ((p[n] >= '0' && p[n] <= '9') || (p[n] >= 'A' && p[n] <= 'F') ||
                         (p[n] >= 'a' && p[n] <= 'f'));
             n++)
            v = v << 4 | (uint32_t)(p[n] <= '9' ? p[n] - '0' : (p[n] | 0x20) - 'a' + 10);
        if (n == 0 || p[n] != (i == 0 ? '/' : '\0'))
            return false;
        part[i] = v;
        p += n + 1;
    }
    *out = (sl_lsn)part[0] << 32 | part[1];
    return true;
}

void
sl_lsn_format(sl_lsn lsn, char out[SL_LSN_TEXT])
{
    snprintf(out, SL_LSN_TEXT, "%X/%X", (unsigned)(lsn >> 32), (unsigned)lsn);
}

bool
sl_repl_slot_name_ok(const char *name)
{
    size_t n = strlen(name);
    return n >= 1 && n <= 63 && strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static bool
plugin_name_ok(const char *name)
{
    size_t n = strlen(name);
    return n >= 1 && n <= 63 &&
           strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

static int
check_slot_name(const char *name, sl_error *err)
{
    if (sl_repl_slot_name_ok(name))
        return 0;
    sl_error_set(err, SL_E_USAGE, "replication slot name \"%.80s\" is not 1 to 63 lower-case "
                 "letters, digits or underscores", name);
    return -1;
}

int
sl_repl_slot_read(sl_conn *c, const char *name, sl_repl_slot_info *out, sl_error *err)
{
    memset(out, 0, sizeof *out);
    if (check_slot_name(name, err) != 0)
        return -1;
    sl_buf sql = SL_BUF_INIT;
    /* the name is checked to be [a-z0-9_]: a literal needs no escaping */
    sl_buf_printf(&sql, "SELECT plugin, active, confirmed_flush_lsn"
                        " FROM pg_catalog.pg_replication_slots WHERE slot_name = '%s'", name);
    PGresult *res = NULL;
    int rc = sl_conn_simple_query(c, &res, sql.data, err);
    sl_buf_free(&sql);
    if (rc != 0)
        return -1;
    if (PQntuples(res) == 1) {
        out->exists = true;
        snprintf(out->plugin, sizeof out->plugin, "%s", PQgetvalue(res, 0, 0));
        out->active = PQgetvalue(res, 0, 1)[0] == 't';
        if (!PQgetisnull(res, 0, 2) && !sl_lsn_parse(PQgetvalue(res, 0, 2), &out->confirmed)) {
            sl_error_set(err, SL_E_SERVER, "the server sent \"%.40s\" as the confirmed position "
                         "of slot %s", PQgetvalue(res, 0, 2), name);
            PQclear(res);
            return -1;
        }
    }
    PQclear(res);
    return 0;
}

static int
create_slot(sl_conn *c, const char *name, const char *plugin, bool temporary,
            bool export_snapshot, sl_lsn *consistent, char **snapshot, sl_error *err)
{
    if (snapshot)
        *snapshot = NULL;
    if (check_slot_name(name, err) != 0)
        return -1;
    if (!plugin_name_ok(plugin)) {
        sl_error_set(err, SL_E_USAGE, "logical decoding plugin name \"%.80s\" is not letters, "
                     "digits, '_' or '-'", plugin);
        return -1;
    }
    sl_buf sql = SL_BUF_INIT;
    sl_buf_printf(&sql, "CREATE_REPLICATION_SLOT \"%s\"%s LOGICAL \"%s\" %s", name,
                  temporary ? " TEMPORARY" : "", plugin,
                  export_snapshot ? "EXPORT_SNAPSHOT" : "NOEXPORT_SNAPSHOT");
    PGresult *res = NULL;
    int rc = sl_conn_simple_query(c, &res, sql.data, err);
    sl_buf_free(&sql);
    if (rc != 0) {
        sl_error_prefix(err, "could not create replication slot %s", name);
        return -1;
    }
    if (PQntuples(res) != 1 || PQnfields(res) < 3 ||
        !sl_lsn_parse(PQgetvalue(res, 0, 1), consistent)) {
        sl_error_set(err, SL_E_SERVER, "the server's answer to CREATE_REPLICATION_SLOT %s is not "
                     "a slot name, a position and a snapshot", name);
        PQclear(res);
        return -1;
    }
    if (export_snapshot && snapshot && !PQgetisnull(res, 0, 2))
        *snapshot = sl_strdup(PQgetvalue(res, 0, 2));
    PQclear(res);
    return 0;
}

int
sl_repl_slot_create(sl_conn *c, const char *name, const char *plugin, bool export_snapshot,
                    sl_lsn *consistent, char **snapshot, sl_error *err)
{
    return create_slot(c, name, plugin, false, export_snapshot, consistent, snapshot, err);
}

int
sl_repl_slot_create_temporary(sl_conn *c, const char *name, const char *plugin,
                              sl_lsn *consistent, char **snapshot, sl_error *err)
{
    return create_slot(c, name, plugin, true, true, consistent, snapshot, err);
}

int
sl_repl_slot_drop(sl_conn *c, const char *name, sl_error *err)
{
    if (check_slot_name(name, err) != 0)
        return -1;
    sl_buf sql = SL_BUF_INIT;
    sl_buf_printf(&sql, "DROP_REPLICATION_SLOT \"%s\"", name);
    int rc = sl_conn_exec(c, sql.data, err);
    sl_buf_free(&sql);
    return rc;
}

/* "name" with " doubled: the replication grammar's quoted identifier. */
static void
put_ident(sl_buf *b, const char *s)
{
    sl_buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"')
            sl_buf_putc(b, '"');
        sl_buf_putc(b, *s);
    }
    sl_buf_putc(b, '"');
}

/* 'value' with ' doubled: the replication grammar's string (no backslash escapes in it). */
static void
put_literal(sl_buf *b, const char *s)
{
    sl_buf_putc(b, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            sl_buf_putc(b, '\'');
        sl_buf_putc(b, *s);
    }
    sl_buf_putc(b, '\'');
}

static void
put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

static uint64_t
get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static int
send_status(sl_repl_stream *s, bool reply, sl_error *err)
{
    unsigned char m[34];
    m[0] = 'r';
    put_u64(m + 1, s->confirmed);   /* written */
    put_u64(m + 9, s->confirmed);   /* flushed: what the server may recycle */
    put_u64(m + 17, s->confirmed);  /* applied */
    put_u64(m + 25, (uint64_t)(sl_clock_wall_us() - PG_EPOCH_OFFSET_US));
    m[33] = reply ? 1 : 0;
    PGconn *pg = sl_conn_pg(s->c);
    if (PQputCopyData(pg, (const char *)m, sizeof m) != 1 || PQflush(pg) != 0) {
        sl_conn_error_from(s->c, NULL, err);
        sl_error_prefix(err, "could not send a replication status update");
        return -1;
    }
    s->next_status_ms = sl_clock_ms() + s->interval_ms;
    return 0;
}

int
sl_repl_send_status(sl_repl_stream *s, sl_error *err)
{
    return send_status(s, false, err);
}

int
sl_repl_ask_position(sl_repl_stream *s, sl_error *err)
{
    return send_status(s, true, err);
}

int
sl_repl_start(sl_repl_stream **out, sl_conn *c, const char *slot, sl_lsn start,
              const char *const *options, int status_interval_ms, sl_error *err)
{
    *out = NULL;
    if (check_slot_name(slot, err) != 0)
        return -1;
    char lsn[SL_LSN_TEXT];
    sl_lsn_format(start, lsn);
    sl_buf sql = SL_BUF_INIT;
    sl_buf_printf(&sql, "START_REPLICATION SLOT \"%s\" LOGICAL %s", slot, lsn);
    for (size_t i = 0; options && options[i]; i += 2) {
        sl_buf_puts(&sql, i == 0 ? " (" : ", ");
        put_ident(&sql, options[i]);
        if (options[i + 1]) {
            sl_buf_putc(&sql, ' ');
            put_literal(&sql, options[i + 1]);
        }
        if (!options[i + 2])
            sl_buf_putc(&sql, ')');
    }
    sl_conn_log_statement("replication", sql.data);
    PGresult *res = PQexec(sl_conn_pg(c), sql.data);
    sl_buf_free(&sql);
    if (PQresultStatus(res) != PGRES_COPY_BOTH) {
        sl_conn_error_from(c, res, err);
        sl_error_prefix(err, "could not start streaming from replication slot %s", slot);
        PQclear(res);
        return -1;
    }
    PQclear(res);
    sl_repl_stream *s = sl_calloc(1, sizeof *s);
    s->c = c;
    s->confirmed = start;
    s->interval_ms = status_interval_ms > 0 ? status_interval_ms : 10000;
    s->next_status_ms = sl_clock_ms() + s->interval_ms;
    *out = s;
    return 0;
}

void
sl_repl_confirm(sl_repl_stream *s, sl_lsn lsn)
{
    if (lsn > s->confirmed)
        s->confirmed = lsn;
}

sl_lsn
sl_repl_server_end(const sl_repl_stream *s)
{
    return s->server_end;
}

/* The stream's end from the server: its closing result says whether it ended in an error. */
static int
stream_ended(sl_repl_stream *s, sl_error *err)
{
    PGresult *res;
    int rc = 2;
    while ((res = PQgetResult(sl_conn_pg(s->c)))) {
        ExecStatusType st = PQresultStatus(res);
        if (rc == 2 && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            sl_conn_error_from(s->c, res, err);
            sl_error_prefix(err, "the replication stream ended");
            rc = -1;
        }
        PQclear(res);
    }
    return rc;
}

/* Waits until the socket is readable or until ms have passed; -1 on a failed poll. */
static int
wait_readable(sl_repl_stream *s, int ms, sl_error *err)
{
    struct pollfd p = {.fd = PQsocket(sl_conn_pg(s->c)), .events = POLLIN};
    if (p.fd < 0) {
        sl_conn_error_from(s->c, NULL, err);
        return -1;
    }
    if (poll(&p, 1, ms) < 0 && errno != EINTR) {
        sl_error_errno(err, SL_E_CONNECT, errno, "could not wait for the replication stream");
        return -1;
    }
    if (PQconsumeInput(sl_conn_pg(s->c)) != 1) {
        sl_conn_error_from(s->c, NULL, err);
        return -1;
    }
    return 0;
}

/* One CopyData message of the stream: 1 for XLogData (into msg), 0 for a keepalive (answered
 * when the server asks), -1 for anything else. */
static int
take_message(sl_repl_stream *s, const unsigned char *m, size_t n, sl_repl_msg *msg,
             sl_error *err)
{
    if (n >= 25 && m[0] == 'w') {
        msg->start = get_u64(m + 1);
        msg->server_end = get_u64(m + 9);
        msg->send_time = (int64_t)get_u64(m + 17);
        msg->data = (const char *)m + 25;
        msg->len = n - 25;
        if (msg->server_end > s->server_end)
            s->server_end = msg->server_end;
        return 1;
    }
    if (n >= 18 && m[0] == 'k') {
        sl_lsn end = get_u64(m + 1);
        if (end > s->server_end)
            s->server_end = end;
        return m[17] ? sl_repl_send_status(s, err) : 0;
    }
    sl_error_set(err, SL_E_SERVER, "the replication stream sent a message of %zu bytes that is "
                 "neither data nor a keepalive (first byte 0x%02x)", n, n ? m[0] : 0);
    return -1;
}

int
sl_repl_next(sl_repl_stream *s, int timeout_ms, sl_repl_msg *msg, sl_error *err)
{
    int64_t deadline = -1;  /* set when the first wait begins: a clock read less a message */
    for (;;) {
        if (s->buf) {
            PQfreemem(s->buf);
            s->buf = NULL;
        }
        if (sl_clock_ms() >= s->next_status_ms && sl_repl_send_status(s, err) != 0)
            return -1;
        int n = PQgetCopyData(sl_conn_pg(s->c), &s->buf, 1);
        if (n > 0) {
            int got = take_message(s, (const unsigned char *)s->buf, (size_t)n, msg, err);
            if (got != 0)
                return got;
            continue;
        }
        if (n == -1)
            return stream_ended(s, err);
        if (n < -1) {
            sl_conn_error_from(s->c, NULL, err);
            sl_error_prefix(err, "could not read the replication stream");
            return -1;
        }
        int64_t now = sl_clock_ms();
        if (deadline < 0)
            deadline = now + (timeout_ms > 0 ? timeout_ms : 0);
        if (now >= deadline)
            return 0;
        int64_t until = deadline < s->next_status_ms ? deadline : s->next_status_ms;
        if (wait_readable(s, (int)(until > now ? until - now : 0), err) != 0)
            return -1;
    }
}

int
sl_repl_stop(sl_repl_stream *s, sl_error *err)
{
    if (!s)
        return 0;
    PGconn *pg = sl_conn_pg(s->c);
    int rc = sl_repl_send_status(s, err);
    if (rc == 0 && (PQputCopyEnd(pg, NULL) != 1 || PQflush(pg) != 0)) {
        sl_conn_error_from(s->c, NULL, err);
        rc = -1;
    }
    /* what the server sent before it saw CopyDone is read and dropped, up to its own CopyDone */
    while (rc == 0) {
        if (s->buf) {
            PQfreemem(s->buf);
            s->buf = NULL;
        }
        int n = PQgetCopyData(pg, &s->buf, 0);
        if (n == -1) {
            rc = stream_ended(s, err) == 2 ? 0 : -1;
            break;
        }
        if (n < -1) {
            sl_conn_error_from(s->c, NULL, err);
            rc = -1;
        }
    }
    if (s->buf)
        PQfreemem(s->buf);
    free(s);
    return rc;
}
