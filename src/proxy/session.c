/* proxy/session.c: one client and its server connection, relayed on one loop.
 *
 * States:  STARTUP    reading the client's startup-phase packets: SSLRequest and GSSENCRequest
 *                     are answered 'N'; a CancelRequest is forwarded (canceler.c) and the
 *                     connection closed; a StartupMessage moves on to
 *          CONNECTING the server connection is being made; the client is not read (it waits
 *                     for the server's authentication request anyway)
 *          RELAY      bytes flow both ways, framed as they pass: authentication, queries,
 *                     COPY, notifications, all of it, untouched except BackendKeyData.
 * Framing: each direction has a framer (framer.h) that cuts the byte stream into messages
 *          whatever the read boundaries, checks every length word against the maximum before
 *          the body arrives, and streams bodies through as they come, so a 1 GiB DataRow costs
 *          no more memory than a small one. The few messages the proxy reads are kept whole
 *          (Parse, Close,
 *          BackendKeyData, ReadyForQuery, ErrorResponse): the statement names a client has
 *          prepared, the live transaction status, and whether the server said goodbye itself.
 *          That is where a cache will sit: at message boundaries, knowing the statement behind
 *          a Bind and whether a transaction is open.
 * Keys:    the server's BackendKeyData is replaced by a key of the proxy's (cancelmap.h), so a
 *          client's CancelRequest, which arrives on a new connection to any loop, finds this
 *          session's server connection; the key leaves the map when the session is freed.
 * Memory:  reading a side stops while the other side's write queue is over HIGH_WATER and
 *          starts again below LOW_WATER: memory is bounded by the queues, not by a result.
 * Ending:  finish() stops reading both sides and closes each once its queued writes are done
 *          (a Terminate, an ErrorResponse of the proxy's reach their peer); abort closes at
 *          once. The session frees itself when both handles are closed. A malformed or
 *          oversized message ends only this session, with an ErrorResponse (08P01).
 */
#include "proxy/session.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "pg/proto.h"
#include "proxy/canceler.h"
#include "proxy/framer.h"
#include "proxy/statements.h"
#include "proxy/upstream.h"

enum { HIGH_WATER = 256 * 1024, LOW_WATER = 64 * 1024 };

enum { CLIENT = 0, SERVER = 1 };

typedef enum { ST_STARTUP, ST_CONNECTING, ST_RELAY } session_state;

struct sl_session {
    sl_worker_link link; /* first: the worker's list casts it back */
    sl_worker *worker;
    sl_proxy_context *ctx;
    unsigned long long id;
    session_state state;
    sl_stream conn[2];
    bool open[2];        /* the handle was initialised and not yet closed */
    bool closing[2];
    bool paused[2];      /* reading stopped for backpressure */
    unsigned writes[2];  /* writes queued and not yet called back */
    int handles;         /* handles to see closed before the free */
    bool finishing;
    uv_connect_t connect;
    sl_buf startup;      /* client bytes before the relay starts */
    size_t startup_len;  /* the StartupMessage's length at the start of startup */
    sl_framer framers[2]; /* framers[CLIENT] frames what the client sends */
    sl_statements *statements;
    char tx_status;      /* of the last ReadyForQuery: 'I', 'T' or 'E' (0 before the first) */
    bool have_key;
    sl_cancel_key client_key;
    bool server_fatal;   /* the server sent a FATAL error: its own last word */
    bool client_terminated;
    bool logged;
    char label[128];     /* "client 12 (user "u", database "d")" for the log */
};

typedef struct write_req {
    uv_write_t req;
    sl_session *s;
    int side;
    char data[];
} write_req;

static void relay(sl_session *s, int from, const uint8_t *p, size_t n);
static void finish(sl_session *s);

/* ---- closing ------------------------------------------------------------------------------ */

static void
free_session(sl_session *s)
{
    if (s->link.next != &s->link)
        sl_worker_remove_session(s->worker, &s->link);
    if (s->have_key)
        sl_cancelmap_remove(s->ctx->cancels, s->client_key.pid);
    if (s->logged)
        SL_DEBUG("%s disconnected", s->label);
    sl_statements_free(s->statements);
    sl_framer_free(&s->framers[CLIENT]);
    sl_framer_free(&s->framers[SERVER]);
    sl_buf_free(&s->startup);
    sl_proxy_context *ctx = s->ctx;
    free(s);
    sl_proxy_context_client_gone(ctx);
}

static void
on_close(uv_handle_t *h)
{
    sl_session *s = h->data;
    if (--s->handles == 0)
        free_session(s);
}

static void
close_side(sl_session *s, int side)
{
    if (!s->open[side] || s->closing[side])
        return;
    s->closing[side] = true;
    uv_close(&s->conn[side].handle, on_close);
}

static void
maybe_close(sl_session *s, int side)
{
    if (s->writes[side] == 0)
        close_side(s, side);
}

static void
finish(sl_session *s)
{
    if (s->finishing)
        return;
    s->finishing = true;
    for (int side = CLIENT; side <= SERVER; side++) {
        if (s->open[side] && !s->closing[side])
            uv_read_stop(&s->conn[side].stream);
        maybe_close(s, side);
    }
}

void
sl_session_abort(sl_session *s)
{
    if (s->link.next != &s->link)
        sl_worker_remove_session(s->worker, &s->link);
    s->finishing = true;
    close_side(s, CLIENT);
    close_side(s, SERVER);
}

/* ---- writing ------------------------------------------------------------------------------ */

static void
pause_reading(sl_session *s, int side)
{
    if (!s->paused[side] && !s->closing[side]) {
        uv_read_stop(&s->conn[side].stream);
        s->paused[side] = true;
    }
}

static void
resume_reading(sl_session *s, int side);

static void
on_write(uv_write_t *req, int status)
{
    write_req *w = (write_req *)req;
    sl_session *s = w->s;
    int side = w->side;
    free(w);
    s->writes[side]--;
    if (status < 0) {
        if (!s->finishing && side == SERVER && !s->server_fatal && !s->client_terminated)
            SL_DEBUG("%s: writing to the server failed: %s", s->label, uv_strerror(status));
        finish(s);
        close_side(s, side);
        return;
    }
    if (s->finishing) {
        maybe_close(s, side);
        return;
    }
    int reader = 1 - side;
    if (s->paused[reader] &&
        uv_stream_get_write_queue_size(&s->conn[side].stream) < LOW_WATER)
        resume_reading(s, reader);
}

static void
send_bytes(sl_session *s, int side, const void *data, size_t len)
{
    if (!len || !s->open[side] || s->closing[side])
        return;
    write_req *w = sl_malloc(sizeof *w + len);
    w->s = s;
    w->side = side;
    memcpy(w->data, data, len);
    uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
    s->writes[side]++;
    int rc = uv_write(&w->req, &s->conn[side].stream, &b, 1, on_write);
    if (rc != 0)
        on_write(&w->req, rc);
}

/* Ends the session with a FATAL ErrorResponse to the client, when the client's stream is at a
 * message boundary (otherwise the message would land inside another and the client would read
 * garbage: it gets the closed connection alone). */
static void
client_fail(sl_session *s, const char *sqlstate, const char *fmt, ...) SL_PRINTF(3, 4);

static void
client_fail(sl_session *s, const char *sqlstate, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    SL_DEBUG("%s: %s", s->label, msg);
    if (sl_framer_at_boundary(&s->framers[SERVER]) && !s->finishing) {
        sl_buf b = SL_BUF_INIT;
        sl_proto_write_error(&b, "FATAL", sqlstate, msg);
        send_bytes(s, CLIENT, b.data, b.len);
        sl_buf_free(&b);
    }
    finish(s);
}

/* ---- reading ------------------------------------------------------------------------------ */

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    sl_session *s = h->data;
    size_t len;
    buf->base = sl_worker_read_buffer(s->worker, &len);
    buf->len = len;
}

static void startup_bytes(sl_session *s, const uint8_t *p, size_t n);

static void
on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    sl_session *s = st->data;
    int side = st == &s->conn[CLIENT].stream ? CLIENT : SERVER;
    if (n == 0 || s->finishing)
        return;
    if (n < 0) {
        if (side == SERVER && !s->server_fatal && !s->client_terminated)
            client_fail(s, "08006", "the server closed the connection");
        else
            finish(s);
        return;
    }
    if (side == CLIENT && s->state == ST_STARTUP)
        startup_bytes(s, (const uint8_t *)buf->base, (size_t)n);
    else
        relay(s, side, (const uint8_t *)buf->base, (size_t)n);
}

static void
resume_reading(sl_session *s, int side)
{
    if (s->paused[side] && !s->finishing && !s->closing[side]) {
        s->paused[side] = false;
        uv_read_start(&s->conn[side].stream, on_alloc, on_read);
    }
}

/* ---- the messages the proxy reads --------------------------------------------------------- */

static bool
client_wants(void *ctx, char type)
{
    (void)ctx;
    return type == 'P' || type == 'C';
}

static void
client_header(void *ctx, char type, size_t body_len)
{
    (void)body_len;
    if (type == 'X')
        ((sl_session *)ctx)->client_terminated = true;
}

static void
client_message(void *ctx, const uint8_t *msg, size_t len, sl_buf *out)
{
    sl_session *s = ctx;
    sl_proto_reader r;
    sl_proto_reader_init(&r, msg + 5, len - 5);
    const char *name, *sql;
    uint8_t what;
    /* A malformed one is the server's to refuse: it goes on untracked. */
    if (msg[0] == 'P' && sl_proto_get_cstring(&r, &name) && sl_proto_get_cstring(&r, &sql))
        sl_statements_set(s->statements, name, sql);
    else if (msg[0] == 'C' && sl_proto_get_byte(&r, &what) && sl_proto_get_cstring(&r, &name) &&
             what == 'S')
        sl_statements_remove(s->statements, name);
    sl_buf_append(out, msg, len);
}

static bool
server_wants(void *ctx, char type)
{
    (void)ctx;
    return type == 'K' || type == 'Z' || type == 'E';
}

/* Appends the server's message to out, BackendKeyData with the proxy's key instead. */
static void
server_message(void *ctx, const uint8_t *msg, size_t len, sl_buf *out)
{
    sl_session *s = ctx;
    const uint8_t *body = msg + 5;
    size_t body_len = len - 5;
    sl_proto_reader r;
    sl_proto_reader_init(&r, body, body_len);
    if (msg[0] == 'K' && !s->have_key) {
        sl_cancel_key server;
        if (sl_proto_get_int32(&r, &server.pid) && sl_proto_get_int32(&r, &server.secret)) {
            s->client_key = sl_cancelmap_add(s->ctx->cancels, server);
            s->have_key = true;
            sl_proto_write_backend_key(out, s->client_key.pid, s->client_key.secret);
            return;
        }
    } else if (msg[0] == 'Z' && body_len >= 1) {
        s->tx_status = (char)body[0];
    } else if (msg[0] == 'E') {
        const char *sev = sl_proto_error_field(body, body_len, 'V');
        if (!sev)
            sev = sl_proto_error_field(body, body_len, 'S');
        if (sev && (strcmp(sev, "FATAL") == 0 || strcmp(sev, "PANIC") == 0))
            s->server_fatal = true;
    }
    sl_buf_append(out, msg, len);
}

static const sl_framer_ops client_ops = {client_wants, client_message, client_header};
static const sl_framer_ops server_ops = {server_wants, server_message, NULL};

static void
bad_length(sl_session *s, int from)
{
    uint32_t n = s->framers[from].bad_length;
    if (from == SERVER)
        client_fail(s, "08P01", "invalid message from the server (length %u)", n);
    else if (n < 4)
        client_fail(s, "08P01", "invalid message length %u", n);
    else
        client_fail(s, "08P01", "message of %u bytes is over the maximum of %u bytes", n,
                    s->ctx->max_message);
}

static void
relay(sl_session *s, int from, const uint8_t *p, size_t n)
{
    int to = 1 - from;
    sl_buf out = SL_BUF_INIT;
    int rc = sl_framer_feed(&s->framers[from], p, n, &out);
    send_bytes(s, to, out.data, out.len);
    sl_buf_free(&out);
    if (rc != 0) {
        bad_length(s, from);
        return;
    }
    if (uv_stream_get_write_queue_size(&s->conn[to].stream) > HIGH_WATER)
        pause_reading(s, from);
}

/* ---- startup ------------------------------------------------------------------------------ */

static void
on_connect(uv_connect_t *req, int status)
{
    sl_session *s = req->data;
    if (s->finishing)
        return;
    if (status < 0) {
        client_fail(s, "08006", "could not connect to the server at %s: %s",
                    s->ctx->upstream.shown, uv_strerror(status));
        return;
    }
    s->state = ST_RELAY;
    uv_read_start(&s->conn[SERVER].stream, on_alloc, on_read);
    uv_read_start(&s->conn[CLIENT].stream, on_alloc, on_read);
    send_bytes(s, SERVER, s->startup.data, s->startup_len);
    if (s->startup.len > s->startup_len)  /* what the client sent after its StartupMessage */
        relay(s, CLIENT, (const uint8_t *)s->startup.data + s->startup_len,
              s->startup.len - s->startup_len);
    sl_buf_free(&s->startup);
}

static void
copy_param(char *dst, size_t cap, const char *v)
{
    snprintf(dst, cap, "%s", v ? v : "");
}

static void
start_connecting(sl_session *s, const sl_proto_startup *pkt)
{
    char user[48], db[48];
    copy_param(user, sizeof user, sl_proto_startup_get(pkt, "user"));
    copy_param(db, sizeof db, sl_proto_startup_get(pkt, "database"));
    /* Only user and database: options and other parameters may hold anything. */
    snprintf(s->label, sizeof s->label, "client %llu (user \"%s\", database \"%s\")", s->id,
             user, db);
    s->logged = true;
    SL_DEBUG("%s connected", s->label);
    s->startup_len = pkt->total;
    s->state = ST_CONNECTING;
    uv_read_stop(&s->conn[CLIENT].stream);
    s->connect.data = s;
    s->open[SERVER] = true;
    s->handles++;
    int rc = sl_upstream_connect(sl_worker_loop(s->worker), &s->ctx->upstream, &s->conn[SERVER],
                                 &s->connect, on_connect);
    s->conn[SERVER].handle.data = s;
    if (rc != 0)
        on_connect(&s->connect, rc);
}

static void
consume_startup(sl_session *s, size_t n)
{
    memmove(s->startup.data, s->startup.data + n, s->startup.len - n);
    s->startup.len -= n;
    s->startup.data[s->startup.len] = '\0';
}

static void
startup_bytes(sl_session *s, const uint8_t *p, size_t n)
{
    sl_buf_append(&s->startup, p, n);
    for (;;) {
        sl_proto_startup pkt;
        sl_proto_status st = sl_proto_frame_startup((const uint8_t *)s->startup.data,
                                                    s->startup.len, SL_PROTO_STARTUP_MAX, &pkt);
        if (st == SL_PROTO_NEED_MORE)
            return;
        if (st == SL_PROTO_BAD) {
            client_fail(s, "08P01", "invalid startup packet");
            return;
        }
        sl_cancel_key server;
        switch (pkt.kind) {
        case SL_PROTO_SSL_REQUEST:
        case SL_PROTO_GSS_REQUEST:
            /* no encryption here yet: the client goes on in the clear or gives up itself */
            send_bytes(s, CLIENT, "N", 1);
            consume_startup(s, pkt.total);
            continue;
        case SL_PROTO_CANCEL:
            if (sl_cancelmap_lookup(s->ctx->cancels,
                                    (sl_cancel_key){pkt.cancel_pid, pkt.cancel_secret}, &server))
                sl_canceler_send(sl_worker_loop(s->worker), &s->ctx->upstream, server);
            finish(s);  /* an unknown key is ignored, as the server does */
            return;
        case SL_PROTO_UNKNOWN:
            client_fail(s, "0A000", "unsupported frontend protocol %u.%u: the proxy speaks 3.0",
                        pkt.code >> 16, pkt.code & 0xffff);
            return;
        case SL_PROTO_STARTUP:
            start_connecting(s, &pkt);
            return;
        }
    }
}

void
sl_session_open(sl_worker *w, int fd, bool is_unix)
{
    sl_session *s = sl_calloc(1, sizeof *s);
    s->worker = w;
    s->ctx = sl_worker_context(w);
    s->id = (unsigned long long)atomic_fetch_add(&s->ctx->next_id, 1) + 1;
    snprintf(s->label, sizeof s->label, "client %llu", s->id);
    s->statements = sl_statements_new();
    sl_framer_init(&s->framers[CLIENT], s->ctx->max_message, &client_ops, s);
    sl_framer_init(&s->framers[SERVER], s->ctx->max_message, &server_ops, s);
    s->link.next = s->link.prev = &s->link;
    int rc = sl_upstream_open_fd(sl_worker_loop(w), fd, is_unix, &s->conn[CLIENT]);
    s->conn[CLIENT].handle.data = s;
    s->open[CLIENT] = true;
    s->handles = 1;
    sl_worker_add_session(w, &s->link);
    if (rc != 0) {
        SL_WARN("could not take a client connection: %s", uv_strerror(rc));
        sl_session_abort(s);
        return;
    }
    uv_read_start(&s->conn[CLIENT].stream, on_alloc, on_read);
}
