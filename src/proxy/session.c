/* proxy/session.c: one client and its server connection, relayed on one loop.
 *
 * States:  STARTUP    reading the client's startup-phase packets: SSLRequest is answered 'S'
 *                     when TLS is configured (then the handshake, and the startup goes on
 *                     inside TLS), else 'N'; GSSENCRequest 'N'; a CancelRequest is forwarded
 *                     (canceler.c) and the connection closed; a StartupMessage moves on to
 *          CONNECTING the server connection is being made; the client is not read (it waits
 *                     for the server's authentication request anyway)
 *          RELAY      bytes flow both ways, framed as they pass: authentication, queries,
 *                     COPY, notifications, all of it, untouched except BackendKeyData.
 * Framing: each direction has a framer (framer.h) that cuts the byte stream into messages
 *          whatever the read boundaries, checks every length word against the maximum before
 *          the body arrives, and streams bodies through as they come, so a 1 GiB DataRow costs
 *          no more memory than a small one. The few messages the proxy reads are kept whole
 *          (Parse, Close, BackendKeyData, ReadyForQuery, ErrorResponse; with the cache on also
 *          Query, Bind, ParameterStatus): the statement names a client has prepared, the live
 *          transaction status, and whether the server said goodbye itself.
 * Cache:   (with --cache) requests (Query, Sync, FunctionCall, the startup) are numbered as
 *          sent and each ReadyForQuery answers the oldest. A Query sent when nothing else is
 *          unanswered, with status 'I', whose single SELECT is cacheable (sql.h), is held: the
 *          client's framer pauses and its later bytes wait unframed (order is kept). The key
 *          holds the search_path the session's last catalog query (cacheflow.h) read, so the
 *          session's first such Query runs that query first (CATALOG, one more round per level
 *          of views), then asks the store (LOOKUP). Once the session is "resolved" (that
 *          search_path is current and it has no temporary schema) the store is asked first: a
 *          hit needs no catalog query, because an entry is put only after a catalog check of
 *          its key's tables passed, every write or DDL through any proxy sharing the store
 *          drops every entry of the database, and what bypasses the proxies is bounded by the
 *          TTL; the session itself stops being resolved when it sends anything that could
 *          change its search_path or make temporary objects unseen (a SET, a write whose
 *          triggers may, any statement but reads and transaction control), and a session that
 *          makes temporary objects stops using the cache. A miss then takes the tables'
 *          verdict from the memo (verdicts.h) while no invalidation of the database came
 *          since it was taken, else from a catalog query (kept in the memo). A hit is written
 *          to the client with ReadyForQuery 'I' and the server never sees the Query; a miss
 *          the verdict allows sends it and captures T/n D* C (CAPTURE) to put at its
 *          ReadyForQuery 'I' with the miss's ticket. Then the held bytes are framed. Every
 *          statement of any protocol that may write (a Query, the Bind of a prepared statement
 *          that may, a FunctionCall) marks the number of the request that ends it; the first
 *          ReadyForQuery 'I' at or after it drops every entry of the database.
 * Keys:    the server's BackendKeyData is replaced by a key of the proxy's (cancelmap.h), so a
 *          client's CancelRequest, which arrives on a new connection to any loop, finds this
 *          session's server connection; the key leaves the map when the session is freed.
 * Memory:  reading a side stops while the other side's write queue is over HIGH_WATER and
 *          starts again below LOW_WATER: memory is bounded by the queues, not by a result.
 * Admin:   with --admin-users, a StartupMessage naming database "sluice" makes the session the
 *          admin console's (admin.h; state ADMIN): no server connection, the client's framer
 *          hands its messages to the console, which answers them itself.
 * Counts:  the session's record in the counters (stats.h) follows it: state, queries (each
 *          Query and Execute as its header passes), its server connection, and the latency
 *          from each request sent upstream to the ReadyForQuery that answers it.
 * TLS:     (tls.h) the client's stream alone: its ciphertext is decrypted as read and the
 *          plaintext goes where the bytes went before (startup, held, relay); what is sent to
 *          the client is encrypted in send_bytes(). The write queue then counts ciphertext,
 *          so the water marks bound it as before. The server connection stays as configured.
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
#include <strings.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "pg/proto.h"
#include "proxy/admin.h"
#include "proxy/cache.h"
#include "proxy/cacheflow.h"
#include "proxy/canceler.h"
#include "proxy/framer.h"
#include "proxy/hint.h"
#include "proxy/sql.h"
#include "proxy/stats.h"
#include "proxy/statements.h"
#include "proxy/tls.h"
#include "proxy/upstream.h"
#include "proxy/verdicts.h"

enum { HIGH_WATER = 256 * 1024, LOW_WATER = 64 * 1024 };
enum { TLS_KEEP = 16 * 1024 }; /* a TLS buffer bigger than this is freed after use */
enum { MAX_VIEW_DEPTH = 8 };  /* catalog rounds for one Query: views of views of ... */

enum { CLIENT = 0, SERVER = 1 };

typedef enum { ST_STARTUP, ST_CONNECTING, ST_RELAY, ST_ADMIN } session_state;

/* Where a simple Query answered through the cache is: its tables being resolved by the
 * proxy's catalog query, the store being asked, or the server's answer being captured. */
typedef enum { PH_NONE, PH_CATALOG, PH_LOOKUP, PH_CAPTURE } cache_phase;

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
    bool local;          /* from the loopback or the proxy's own OS user (admin.h) */
    sl_stats_client *rec; /* the session's row in the counters */
    sl_stats_inflight inflight;
    sl_admin *admin;     /* state ADMIN: the console */
    /* The cache (when cache is not NULL). Requests (Query, Sync, FunctionCall and the startup)
     * are numbered as sent; each ReadyForQuery answers the oldest one. */
    sl_cache *cache;     /* the loop's (sl_worker_cache), or NULL */
    bool zombie;         /* closed while the store answers a get: freed by its answer */
    char *database, *user;
    sl_cacheflow_settings settings;
    uint64_t sent, answered;
    uint64_t dirty_upto; /* a write was sent: invalidate at the first 'I' answering it */
    /* The write's ReadyForQuery, and what the server sent after it, wait in server_held
     * until the store applied the invalidation (sl_cache_barrier): a client that reads the
     * commit and asks another proxy sharing Redis must not get the dropped entry. */
    bool inv_mark;       /* ready() invalidated: hold from this ReadyForQuery on */
    bool inv_wait;       /* the barrier has not answered yet */
    bool inv_cut_set;    /* inv_cut marks where the held bytes start in relay()'s out */
    size_t inv_cut;
    sl_buf server_held;
    bool ext_open;       /* extended-protocol messages since the last Sync */
    bool unmodelled;     /* the session did what the key cannot follow: no cache any more */
    bool non_standard_strings;
    bool error_seen;     /* an ErrorResponse since the last ReadyForQuery */
    char *set_name, *set_value; /* a SET awaiting its ReadyForQuery */
    bool set_pending, set_reset;
    sl_statements *writers; /* the prepared statements that may write */
    cache_phase phase;
    bool holding;        /* the client's bytes wait in held (not framed) */
    bool release_pending;
    sl_buf held;
    sl_buf query;        /* the Query message being answered through the cache */
    sl_sql_analysis *analysis;
    sl_hint_comment hint;
    char *search_path;   /* from the catalog query */
    bool resolved;       /* search_path is the session's, and it has no temporary schema:
                          * nothing it sent since that catalog query could change either */
    bool miss_first;     /* this Query asked the store before any catalog query */
    bool fast;           /* ... and before its analysis (see fast_lookup) */
    sl_statements *readers; /* prepared statements that read only, calling known built-ins */
    sl_buf verdict_key;  /* of this Query's tables (verdicts.h) */
    size_t catalog_rows, expected_rows;
    int rounds;          /* catalog queries for this Query: one, then one per level of views */
    sl_sql_name *next_names; /* what the views found so far read: the next round's names */
    size_t n_next, cap_next;
    const char *refusal;
    sl_cachekey key;
    sl_cache_ticket ticket;
    sl_buf capture;
    bool capture_ok, capture_this;
    int capture_completes;
    sl_buf *to_client;   /* while the server's bytes are framed: what goes to the client */
    sl_tls *tls;         /* the client asked for TLS and got 'S' */
    sl_buf plain;        /* the client's bytes just decrypted */
    sl_buf cipher;       /* what goes to the client, encrypted */
    sl_buf *to_server;   /* while the client's bytes are framed: what goes to the server */
};

typedef struct write_req {
    uv_write_t req;
    sl_session *s;
    int side;
    char data[];
} write_req;

/* Refusals that say something of this session, not of the statement's tables: never kept
 * as a verdict for other sessions. */
static const char REFUSE_FAILED[] = "the catalog query failed";
static const char REFUSE_UNEXPECTED[] = "unexpected catalog answer";
static const char REFUSE_TEMP[] = "the session has made temporary objects";
static const char REFUSE_PATH_CHANGED[] = "search_path changed";

static void relay(sl_session *s, int from, const uint8_t *p, size_t n);
static void query_analyzed(sl_session *s, const uint8_t *msg, size_t len, sl_buf *out);
static void names_clear(sl_session *s);
static void catalog_round(sl_session *s, const sl_sql_name *names, size_t n, sl_buf *out);
static void finish(sl_session *s);

/* ---- closing ------------------------------------------------------------------------------ */

static void
free_session(sl_session *s)
{
    if (s->phase == PH_LOOKUP || s->inv_wait) {  /* the store calls back with s: free then */
        s->zombie = true;
        return;
    }
    sl_buf_free(&s->server_held);
    if (s->link.next != &s->link)
        sl_worker_remove_session(s->worker, &s->link);
    if (s->have_key)
        sl_cancelmap_remove(s->ctx->cancels, s->client_key.pid);
    if (s->logged)
        SL_DEBUG("%s disconnected", s->label);
    sl_stats_client_close(s->rec);
    sl_admin_free(s->admin);
    sl_statements_free(s->statements);
    sl_statements_free(s->writers);
    sl_statements_free(s->readers);
    sl_buf_free(&s->verdict_key);
    sl_cacheflow_settings_free(&s->settings);
    sl_sql_analysis_free(s->analysis);
    sl_cache_ticket_release(&s->ticket);
    sl_buf_free(&s->held);
    sl_buf_free(&s->query);
    sl_buf_free(&s->capture);
    free(s->database);
    free(s->user);
    free(s->search_path);
    names_clear(s);
    free(s->next_names);
    free(s->set_name);
    free(s->set_value);
    sl_framer_free(&s->framers[CLIENT]);
    sl_framer_free(&s->framers[SERVER]);
    sl_buf_free(&s->startup);
    sl_tls_free(s->tls);
    sl_buf_free(&s->plain);
    sl_buf_free(&s->cipher);
    sl_proxy_context *ctx = s->ctx;
    free(s);
    sl_proxy_context_client_gone(ctx);
}

static void
on_close(uv_handle_t *h)
{
    sl_session *s = h->data;
    if (h == &s->conn[SERVER].handle)
        sl_stats_client_server(s->rec, false);
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

static void write_stream(sl_session *s, int side, const void *data, size_t len);

static void
finish(sl_session *s)
{
    if (s->finishing)
        return;
    s->finishing = true;
    if (s->tls && sl_tls_established(s->tls)) {  /* TLS says goodbye, then the socket closes */
        sl_buf_reset(&s->cipher);
        sl_tls_close_notify(s->tls, &s->cipher);
        write_stream(s, CLIENT, s->cipher.data, s->cipher.len);
    }
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
    size_t queued = uv_stream_get_write_queue_size(&s->conn[side].stream);
    if (s->paused[reader] && queued < LOW_WATER)
        resume_reading(s, reader);
    /* the cache's answers to the client come from the client's own reads */
    if (side == CLIENT && s->paused[CLIENT] && queued < LOW_WATER &&
        uv_stream_get_write_queue_size(&s->conn[SERVER].stream) < LOW_WATER)
        resume_reading(s, CLIENT);
}

static void
write_stream(sl_session *s, int side, const void *data, size_t len)
{
    if (!len || !s->open[side] || s->closing[side])
        return;
    if (s->writes[side] == 0) {
        /* Nothing queued: write now. uv_write() would also write at once, but then stops and
         * restarts watching the socket (an epoll_ctl per message, a third of the proxy's
         * system calls under pgbench); only what the socket does not take is queued. */
        uv_buf_t now = uv_buf_init((char *)data, (unsigned)len);
        int n = uv_try_write(&s->conn[side].stream, &now, 1);
        if (n > 0) {
            data = (const char *)data + n;
            len -= (size_t)n;
            if (!len)
                return;
        }
    }
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

/* Empties a TLS scratch buffer, and frees it when big: an idle session keeps no read's worth
 * of bytes (there may be thousands of them). */
static void
trim(sl_buf *b)
{
    if (b->cap > TLS_KEEP)
        sl_buf_free(b);
    else
        sl_buf_reset(b);
}

/* Bytes of the protocol for one side: to a TLS client, encrypted (before its handshake has
 * ended there is nothing the proxy may say to it: dropped). */
static void
send_bytes(sl_session *s, int side, const void *data, size_t len)
{
    if (side == SERVER || !s->tls) {
        write_stream(s, side, data, len);
        return;
    }
    if (!len || !sl_tls_established(s->tls) || s->finishing)
        return;
    sl_buf_reset(&s->cipher);
    if (sl_tls_encrypt(s->tls, data, len, &s->cipher) != 0) {
        SL_INFO("%s: TLS encryption failed", s->label);
        finish(s);
        return;
    }
    write_stream(s, CLIENT, s->cipher.data, s->cipher.len);
    trim(&s->cipher);
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
static void admin_bytes(sl_session *s, const uint8_t *p, size_t n);

/* The client's bytes (decrypted when over TLS). */
static void
client_bytes(sl_session *s, const uint8_t *p, size_t n)
{
    if (!n)
        return;
    if (s->state == ST_ADMIN) {
        admin_bytes(s, p, n);
    } else if (s->holding) {
        sl_buf_append(&s->held, p, n);
        pause_reading(s, CLIENT);
    } else if (s->state == ST_STARTUP) {
        startup_bytes(s, p, n);
    } else {
        relay(s, CLIENT, p, n);
    }
}

/* The client's ciphertext: handshake messages, or records decrypted and handed on. A client
 * that fails the handshake, or sends what is not TLS, ends here: logged, closed. */
static void
client_tls_bytes(sl_session *s, const uint8_t *p, size_t n)
{
    char why[256];
    bool was_established = sl_tls_established(s->tls);  /* a failure before: worth a line */
    sl_buf_reset(&s->plain);
    sl_buf_reset(&s->cipher);
    int rc = sl_tls_input(s->tls, p, n, &s->plain, &s->cipher, why, sizeof why);
    write_stream(s, CLIENT, s->cipher.data, s->cipher.len);
    trim(&s->cipher);
    /* what came before the end is the client's all the same: a Terminate followed by the
     * close_notify in one read reaches the server */
    client_bytes(s, (const uint8_t *)s->plain.data, s->plain.len);
    trim(&s->plain);
    if (rc != 0) {
        if (was_established)
            SL_DEBUG("%s: %s", s->label, why);
        else
            SL_INFO("%s: %s", s->label, why);
        finish(s);
    }
}

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
        else if (side == CLIENT && s->tls && !sl_tls_established(s->tls))
            SL_INFO("%s: the client closed the connection during the TLS handshake", s->label);
        finish(s);
        return;
    }
    if (side == CLIENT && s->tls)
        client_tls_bytes(s, (const uint8_t *)buf->base, (size_t)n);
    else if (side == CLIENT)
        client_bytes(s, (const uint8_t *)buf->base, (size_t)n);
    else
        relay(s, side, (const uint8_t *)buf->base, (size_t)n);
}

static void
resume_reading(sl_session *s, int side)
{
    if ((side == CLIENT && s->holding) || (side == SERVER && s->inv_wait))
        return;
    if (s->paused[side] && !s->finishing && !s->closing[side]) {
        s->paused[side] = false;
        uv_read_start(&s->conn[side].stream, on_alloc, on_read);
    }
}

/* ---- the cache: what a statement does to the session ------------------------------------ */

static bool
caching(const sl_session *s)
{
    return s->cache != NULL;
}

/* Whether the statements may change what a cached SELECT returns (sql.h: every doubt counts). */
static bool
analysis_writes(const sl_sql_analysis *a)
{
    if (a->writes_unknown || a->session_unmodelled)
        return true;
    for (size_t i = 0; i < a->n_stmts; i++) {
        switch (a->stmts[i].kind) {
        case SL_SQL_CACHEABLE_SELECT:
        case SL_SQL_READ_UNCACHEABLE:
        case SL_SQL_SESSION_SET:
        case SL_SQL_OTHER:
            break;
        case SL_SQL_TRANSACTION:
            if (a->stmts[i].txn == SL_SQL_TXN_COMMIT_PREPARED)
                return true;
            break;
        case SL_SQL_WRITE:
        case SL_SQL_DDL:
        case SL_SQL_SESSION_UNMODELLED:
            return true;
        }
    }
    return false;
}

/* Whether running the statements can change nothing of the session's that the cache key
 * does not follow (search_path, temporary objects): reads calling only known built-ins, and
 * transaction control (a SET inside a transaction makes the session unmodelled anyway). */
static bool
reads_only(const sl_sql_analysis *a)
{
    if (a->writes_unknown || a->settings_unknown || a->session_unmodelled)
        return false;
    for (size_t i = 0; i < a->n_stmts; i++) {
        sl_sql_kind k = a->stmts[i].kind;
        if (k != SL_SQL_CACHEABLE_SELECT && k != SL_SQL_READ_UNCACHEABLE &&
            k != SL_SQL_TRANSACTION)
            return false;
    }
    return true;
}

static sl_sql_analysis *
analyze(sl_session *s, const char *sql)
{
    sl_sql_analysis *a = NULL;
    sl_error err;
    sl_error_clear(&err);
    if (sl_sql_analyze(sql, SL_SQL_OPTS(.non_standard_strings = s->non_standard_strings), &a,
                       &err) != 0)
        return NULL;
    return a;
}

/* A write is answered by the ReadyForQuery of request number upto (or a later one). */
static void
mark_dirty(sl_session *s, uint64_t upto)
{
    s->resolved = false;  /* a write may run triggers: they may SET or make temp tables */
    if (upto > s->dirty_upto)
        s->dirty_upto = upto;
}

static void
cache_log(const sl_session *s, const char *what, const char *reason)
{
    if (!sl_log_enabled(SL_LOG_DEBUG))
        return;
    /* The text may hold secrets: only its length and a fingerprint. */
    const char *sql = s->query.len > 5 ? s->query.data + 5 : "";
    size_t len = s->query.len > 6 ? s->query.len - 6 : 0;
    SL_DEBUG("%s: cache %s%s%s%s (query of %zu bytes, %016llx)", s->label, what,
             reason ? " (" : "", reason ? reason : "", reason ? ")" : "", len,
             (unsigned long long)sl_cacheflow_fingerprint(sql, len));
}

/* A SET the session can follow: remembered, and taken when its ReadyForQuery says it held.
 * The key holds the statement's own text, not the analysis' rendering of the value: the
 * parser's JSON prints a negative integer constant as 0 (SET extra_float_digits = -3 would
 * read as = 0), and a spelling of its own per value can only cost a miss. */
static void
follow_set(sl_session *s, const char *sql, const sl_sql_analysis *a, bool alone)
{
    for (size_t i = 0; i < a->n_stmts; i++) {
        const sl_sql_stmt *st = &a->stmts[i];
        if (st->kind != SL_SQL_SESSION_SET)
            continue;
        if (!alone || a->n_stmts != 1 || st->set_local || !st->set_name) {
            s->unmodelled = true;
            return;
        }
        free(s->set_name);
        free(s->set_value);
        s->set_name = sl_strdup(st->set_name);
        s->set_value = NULL;
        if (!st->set_reset && st->offset >= 0 && st->len > 0) {
            s->set_value = sl_malloc((size_t)st->len + 1);
            memcpy(s->set_value, sql + st->offset, (size_t)st->len);
            s->set_value[st->len] = 0;
        } else if (!st->set_reset) {
            s->unmodelled = true;
            return;
        }
        s->set_reset = st->set_reset;
        s->set_pending = true;
    }
}

static void
note_parse(sl_session *s, const char *name, const char *sql)
{
    if (!caching(s))
        return;
    sl_sql_analysis *a = analyze(s, sql);
    if (!a || analysis_writes(a))
        sl_statements_set(s->writers, name, "");
    else
        sl_statements_remove(s->writers, name);
    if (a && reads_only(a))
        sl_statements_set(s->readers, name, "");
    else
        sl_statements_remove(s->readers, name);
    if (!a || a->session_unmodelled || a->settings_unknown || a->kind == SL_SQL_SESSION_SET)
        s->unmodelled = true;  /* a SET through Parse: the simplest correct choice */
    sl_sql_analysis_free(a);
}

/* A Bind of a statement that may write: the write ends by the next Sync's ReadyForQuery
 * (a portal does not outlive its transaction). */
static void
note_bind(sl_session *s, const uint8_t *body, size_t len)
{
    sl_proto_reader r;
    sl_proto_reader_init(&r, body, len);
    const char *portal, *stmt;
    if (!sl_proto_get_cstring(&r, &portal) || !sl_proto_get_cstring(&r, &stmt) ||
        !sl_statements_get(s->statements, stmt) || sl_statements_get(s->writers, stmt))
        mark_dirty(s, s->sent + 1);
    else if (!sl_statements_get(s->readers, stmt))
        s->resolved = false;
}

/* ---- the cache: answering a simple Query ------------------------------------------------- */

static void send_bytes(sl_session *s, int side, const void *data, size_t len);

static void
to_client(sl_session *s, const void *data, size_t len)
{
    if (s->to_client)
        sl_buf_append(s->to_client, data, len);
    else
        send_bytes(s, CLIENT, data, len);
}

/* Behind what the client's bytes being framed have already sent on, if any. */
static void
to_server(sl_session *s, const void *data, size_t len)
{
    if (s->to_server)
        sl_buf_append(s->to_server, data, len);
    else
        send_bytes(s, SERVER, data, len);
}

/* The client's bytes held since its Query are framed again, now that the Query has gone on
 * or was answered (after the bytes of either side being framed, if any: never re-entered). */
static void
release_client(sl_session *s)
{
    if (s->to_client || s->to_server) {
        s->release_pending = true;
        return;
    }
    s->release_pending = false;
    sl_framer_resume(&s->framers[CLIENT]);
    s->holding = false;
    sl_buf held = s->held;
    sl_buf_init(&s->held);
    if (held.len)
        relay(s, CLIENT, (const uint8_t *)held.data, held.len);
    sl_buf_free(&held);
    resume_reading(s, CLIENT);
}

static void
query_done(sl_session *s)
{
    s->phase = PH_NONE;
    sl_sql_analysis_free(s->analysis);
    s->analysis = NULL;
    sl_buf_reset(&s->query);
    sl_cache_ticket_release(&s->ticket);
}

/* The Query goes to the server after all; with a ticket its answer is captured. */
static void
forward_query(sl_session *s, bool capture)
{
    s->phase = capture ? PH_CAPTURE : PH_NONE;
    sl_buf_reset(&s->capture);
    s->capture_ok = capture;
    s->capture_completes = 0;
    sl_stats_request_sent(&s->inflight, s->sent, sl_stats_now_us());  /* after the catalog */
    to_server(s, s->query.data, s->query.len);
    if (!capture)
        query_done(s);
    release_client(s);
}

/* The verdict on this Query's tables, from the memo when one taken since the last
 * invalidation of the database is there, else from a catalog query now. */
static void
check_tables(sl_session *s)
{
    sl_verdicts *memo = s->ctx->verdicts;
    sl_buf_reset(&s->verdict_key);
    sl_cacheflow_verdict_key(&s->verdict_key, s->database, s->user, s->search_path,
                             s->analysis->reads, s->analysis->n_reads);
    const char *refusal = NULL;
    sl_cache_ticket then;
    if (memo && sl_verdicts_get(memo, s->verdict_key.data, s->verdict_key.len, sl_clock_ms(),
                                &refusal, &then)) {
        sl_cache_tags tags = {.database = s->database};
        bool current = sl_cache_ticket_current(s->cache, &tags, &then, &s->ticket);
        sl_cache_ticket_release(&then);
        if (current) {
            if (refusal)
                cache_log(s, "skip", refusal);
            forward_query(s, !refusal);
            return;
        }
        sl_verdicts_drop(memo, s->verdict_key.data, s->verdict_key.len);
    }
    s->phase = PH_CATALOG;
    sl_buf q = SL_BUF_INIT;
    catalog_round(s, s->analysis->reads, s->analysis->n_reads, &q);
    to_server(s, q.data, q.len);
    sl_buf_free(&q);
}

/* A verdict of the catalog query that holds for any session with this one's key of it. */
static void
remember_verdict(sl_session *s)
{
    const char *r = s->refusal;
    if (!s->ctx->verdicts || !s->miss_first || r == REFUSE_FAILED || r == REFUSE_UNEXPECTED ||
        r == REFUSE_TEMP || r == REFUSE_PATH_CHANGED)
        return;
    uint32_t ttl = atomic_load(&s->cache->ttl_s);
    sl_verdicts_put(s->ctx->verdicts, s->verdict_key.data, s->verdict_key.len, r, &s->ticket,
                    sl_clock_ms() + (int64_t)ttl * 1000);
}

static void
on_lookup(void *arg, sl_cache_answer *ans)
{
    sl_session *s = arg;
    if (s->zombie) {
        s->phase = PH_NONE;
        free_session(s);
        return;
    }
    if (ans->hit) {
        cache_log(s, "hit", NULL);
        s->fast = false;
        sl_buf z = SL_BUF_INIT;  /* one write for the answer and its ReadyForQuery */
        sl_buf_append(&z, ans->entry, ans->len);
        sl_proto_write_ready(&z, 'I');
        to_client(s, z.data, z.len);
        sl_buf_free(&z);
        s->answered++;  /* the Query is answered: no ReadyForQuery of the server's for it */
        sl_stats_client_state(s->rec, SL_CLIENT_IDLE);
        query_done(s);
        release_client(s);
        return;
    }
    cache_log(s, "miss", NULL);
    if (ans->ticket)
        sl_cache_ticket_move(&s->ticket, ans->ticket);
    if (s->fast) {  /* now the analysis decides, as for any Query */
        s->fast = false;
        s->phase = PH_NONE;
        sl_buf q = s->query;
        sl_buf_init(&s->query);
        query_analyzed(s, (const uint8_t *)q.data, q.len, NULL);
        sl_buf_free(&q);
        return;
    }
    if (!s->miss_first || !s->ticket.valid)  /* checked already, or nothing could be put */
        forward_query(s, s->ticket.valid);
    else
        check_tables(s);
}

static int
make_key(sl_session *s)
{
    sl_error err;
    sl_error_clear(&err);
    sl_cacheflow_settings_set(&s->settings, 'c', "search_path", s->search_path);
    const char *suffix = s->hint.key[0] ? s->hint.key : NULL;
    return sl_cacheflow_key(&s->key, s->database, s->user, s->query.data + 5, &s->settings,
                            suffix, &err);
}

static void
lookup(sl_session *s)
{
    if (make_key(s) != 0) {
        cache_log(s, "skip", "no key");
        forward_query(s, false);
        return;
    }
    s->phase = PH_LOOKUP;
    sl_cache_tags tags = {.database = s->database};
    sl_cache_get(s->cache, &s->key, &tags, on_lookup, s);
}

/* Whether this Query may be answered through the cache: the session is at rest (nothing
 * else asked and unanswered) outside a transaction, and the SELECT is cacheable. */
static const char *
query_refusal(sl_session *s, const char *sql, const sl_sql_analysis *a)
{
    if (s->unmodelled)
        return "the session is not modelled";
    if (s->tx_status != 'I' || s->sent - s->answered != 1 || s->ext_open || s->inv_wait)
        return "not at rest outside a transaction";
    if (!a->cacheable)
        return a->reason[0] ? a->reason : "not cacheable";
    sl_error err;
    sl_error_clear(&err);
    if (sl_hint_comments(sql, s->non_standard_strings, &s->hint, &err) != 0)
        return "hint scan failed";
    if (s->hint.no_cache)
        return "no_cache hint";
    if (s->hint.key[0] && sl_cachekey_check_suffix(s->hint.key, &err) != 0)
        return "bad key hint";
    return NULL;
}

/* Whether a Query's text may start a cacheable SELECT: its first word, after blanks, is one
 * a SELECT can start with, or a comment or parenthesis comes first. Only saves asking the
 * store for what cannot be there (a write would be a miss there anyway). */
static bool
may_read(const char *sql)
{
    static const char *const starts[] = {"select", "with", "values", "table"};
    while (*sql == ' ' || *sql == '\t' || *sql == '\n' || *sql == '\r' || *sql == '\f')
        sql++;
    if (*sql == '(' || *sql == '-' || *sql == '/')
        return true;
    for (size_t i = 0; i < sizeof starts / sizeof *starts; i++) {
        size_t n = strlen(starts[i]);
        if (strncasecmp(sql, starts[i], n) == 0)
            return true;
    }
    return false;
}

/* A Query that may be answered at once: a session resolved and at rest, a well-formed Query.
 * Its key is made from its text before any analysis and the store asked: a hit means an entry
 * was put under this very text and these settings (standard_conforming_strings among them),
 * which only a Query the analysis called cacheable, without a key hint, gets (the analysis
 * and the hints read nothing but the text and that setting). A miss goes on to the analysis
 * (query_analyzed) with its ticket, and the Query is held meanwhile. */
static bool
fast_lookup(sl_session *s, const uint8_t *msg, size_t len)
{
    if (!s->resolved || s->unmodelled || s->tx_status != 'I' || s->sent - s->answered != 1 ||
        s->ext_open || len <= 5 || msg[len - 1] != 0 ||
        memchr(msg + 5, 0, len - 5) != msg + len - 1 || !may_read((const char *)msg + 5))
        return false;
    sl_buf_reset(&s->query);
    sl_buf_append(&s->query, msg, len);
    memset(&s->hint, 0, sizeof s->hint);
    if (make_key(s) != 0) {
        sl_buf_reset(&s->query);
        return false;
    }
    s->fast = true;
    s->phase = PH_LOOKUP;
    sl_framer_pause(&s->framers[CLIENT]);  /* what follows waits for the answer */
    sl_cache_tags tags = {.database = s->database};
    sl_cache_get(s->cache, &s->key, &tags, on_lookup, s);
    return true;
}

/* The Query goes to the server untouched: behind out while the client's bytes are framed;
 * held (out NULL: after a miss of fast_lookup), then the client's later bytes follow it. */
static void
pass_query(sl_session *s, const uint8_t *msg, size_t len, sl_buf *out)
{
    if (out) {
        sl_buf_append(out, msg, len);
        return;
    }
    to_server(s, msg, len);
    query_done(s);
    release_client(s);
}

/* A Query, analysed: out as for pass_query. */
static void
query_analyzed(sl_session *s, const uint8_t *msg, size_t len, sl_buf *out)
{
    bool missed = !out;  /* fast_lookup asked the store with the key of no hint */
    const char *sql = (const char *)msg + 5;
    sl_sql_analysis *a = NULL;
    if (len > 5 && msg[len - 1] == 0 && memchr(sql, 0, len - 5) == msg + len - 1)
        a = analyze(s, sql);
    if (!a) {  /* malformed (the server refuses it) or no memory: a write for all we know */
        mark_dirty(s, s->sent);
        s->unmodelled = true;
        pass_query(s, msg, len, out);
        return;
    }
    bool alone = s->sent - s->answered == 1 && !s->ext_open && s->tx_status == 'I';
    if (analysis_writes(a))
        mark_dirty(s, s->sent);
    if (a->session_unmodelled || a->settings_unknown)
        s->unmodelled = true;
    if (!reads_only(a))
        s->resolved = false;
    follow_set(s, sql, a, alone);
    sl_buf_reset(&s->query);
    sl_buf_append(&s->query, msg, len);
    const char *why = query_refusal(s, sql, a);
    if (why) {
        cache_log(s, "skip", why);
        sl_sql_analysis_free(a);
        sl_buf_reset(&s->query);
        pass_query(s, msg, len, out);
        return;
    }
    s->analysis = a;
    s->refusal = NULL;
    s->rounds = 0;
    sl_framer_pause(&s->framers[CLIENT]);  /* what follows waits for the answer */
    s->miss_first = s->resolved;
    if (missed && s->resolved && !s->hint.key[0]) {  /* the key fast_lookup asked: no hint */
        if (s->ticket.valid)
            check_tables(s);
        else
            forward_query(s, false);
        return;
    }
    sl_cache_ticket_release(&s->ticket);
    if (s->miss_first) {  /* a hit needs no catalog query: its put passed one (see top) */
        lookup(s);
        return;
    }
    s->phase = PH_CATALOG;
    free(s->search_path);
    s->search_path = NULL;
    sl_buf q = SL_BUF_INIT;
    catalog_round(s, a->reads, a->n_reads, &q);
    if (out)
        sl_buf_append(out, q.data, q.len);
    else
        to_server(s, q.data, q.len);
    sl_buf_free(&q);
}

/* A simple Query from the client: appends what goes to the server to out. */
static void
on_query(sl_session *s, const uint8_t *msg, size_t len, sl_buf *out)
{
    if (!fast_lookup(s, msg, len))
        query_analyzed(s, msg, len, out);
}

/* A text column of a DataRow: a copy, or NULL for SQL NULL; false when malformed. */
static bool
get_text(sl_proto_reader *r, char **out)
{
    int32_t n;
    const uint8_t *p;
    *out = NULL;
    if (!sl_proto_get_int32(r, &n))
        return false;
    if (n < 0)
        return true;
    if (!sl_proto_get_bytes(r, (size_t)n, &p))
        return false;
    *out = sl_malloc((size_t)n + 1);
    memcpy(*out, p, (size_t)n);
    (*out)[n] = 0;
    return true;
}

static void
names_clear(sl_session *s)
{
    for (size_t i = 0; i < s->n_next; i++) {
        free(s->next_names[i].schema);
        free(s->next_names[i].name);
    }
    s->n_next = 0;
}

/* A view may be cached only if its definition may: what it reads is resolved next round. */
static const char *
follow_view(sl_session *s, const char *viewdef)
{
    sl_sql_analysis *a = viewdef ? analyze(s, viewdef) : NULL;
    if (!a || !a->cacheable) {
        sl_sql_analysis_free(a);
        return "reads a view whose definition is not cacheable";
    }
    for (size_t i = 0; i < a->n_reads; i++) {
        if (s->n_next == s->cap_next) {
            s->cap_next = s->cap_next ? 2 * s->cap_next : 8;
            s->next_names = sl_realloc(s->next_names, s->cap_next * sizeof *s->next_names);
        }
        sl_sql_name *n = &s->next_names[s->n_next++];
        n->schema = a->reads[i].schema ? sl_strdup(a->reads[i].schema) : NULL;
        n->name = sl_strdup(a->reads[i].name);
    }
    sl_sql_analysis_free(a);
    return NULL;
}

static void
catalog_row(sl_session *s, const uint8_t *body, size_t len)
{
    sl_proto_reader r;
    sl_proto_reader_init(&r, body, len);
    int16_t ncol;
    char *tag = NULL, *val = NULL, *viewdef = NULL;
    const char *why = NULL;
    if (!sl_proto_get_int16(&r, &ncol) || ncol != 3 || !get_text(&r, &tag) ||
        !get_text(&r, &val) || !get_text(&r, &viewdef) || !tag)
        why = REFUSE_UNEXPECTED;
    else if (strcmp(tag, "0") == 0 && viewdef) {  /* the session has a temporary schema */
        why = REFUSE_TEMP;
        s->unmodelled = true;
    } else if (strcmp(tag, "0") == 0 && val && !s->search_path)
        s->search_path = sl_strdup(val);
    else if (strcmp(tag, "0") == 0 && val)  /* a later round or Query: the same search_path */
        why = strcmp(val, s->search_path) != 0 ? REFUSE_PATH_CHANGED : NULL;
    else if (strcmp(tag, "1") != 0)
        why = REFUSE_UNEXPECTED;
    else {
        s->catalog_rows++;
        why = sl_cacheflow_refusal(val);
        if (!why && val[0] == 'v')
            why = follow_view(s, viewdef);
    }
    if (why && !s->refusal)
        s->refusal = why;
    free(tag);
    free(val);
    free(viewdef);
}

/* Sends the catalog query for names (the Query's reads, then what its views read). */
static void
catalog_round(sl_session *s, const sl_sql_name *names, size_t n, sl_buf *out)
{
    s->catalog_rows = 0;
    s->expected_rows = n;
    s->rounds++;
    SL_DEBUG("%s: cache catalog query (round %d)", s->label, s->rounds);
    sl_cacheflow_catalog_query(out, names, n);
}

static void
catalog_done(sl_session *s)
{
    if (!s->refusal && (!s->search_path || s->catalog_rows != s->expected_rows))
        s->refusal = REFUSE_UNEXPECTED;
    if (!s->refusal && !sl_sql_search_path_is_safe(s->search_path))
        s->refusal = "search_path puts pg_catalog after another schema";
    if (!s->refusal && s->n_next > 0 && s->rounds >= MAX_VIEW_DEPTH)
        s->refusal = "views nested too deep";
    const char *r = s->refusal;
    s->resolved = s->search_path && r != REFUSE_FAILED && r != REFUSE_UNEXPECTED &&
                  r != REFUSE_TEMP && r != REFUSE_PATH_CHANGED;
    if (s->refusal) {
        names_clear(s);
        remember_verdict(s);
        cache_log(s, "skip", s->refusal);
        forward_query(s, false);
    } else if (s->n_next > 0) {
        sl_buf q = SL_BUF_INIT;
        catalog_round(s, s->next_names, s->n_next, &q);
        names_clear(s);
        send_bytes(s, SERVER, q.data, q.len);
        sl_buf_free(&q);
    } else if (s->miss_first) {
        remember_verdict(s);
        forward_query(s, true);
    } else {
        lookup(s);
    }
}

/* One message of the catalog query's answer (cacheflow.h): none goes to the client but what
 * the server may send any time (notices, notifications, settings). */
static void
catalog_message(sl_session *s, const uint8_t *msg, size_t len, sl_buf *out)
{
    switch (msg[0]) {
    case 'D':
        catalog_row(s, msg + 5, len - 5);
        return;
    case 'T':
    case 'C':
        return;
    case 'E':
        s->refusal = REFUSE_FAILED;
        const char *sev = sl_proto_error_field(msg + 5, len - 5, 'V');
        if (sev && (strcmp(sev, "FATAL") == 0 || strcmp(sev, "PANIC") == 0)) {
            s->server_fatal = true;
            sl_buf_append(out, msg, len);
        }
        return;
    case 'Z':
        catalog_done(s);
        return;
    default:  /* N, A, S: the client's as ever */
        sl_buf_append(out, msg, len);
        return;
    }
}

static void
capture_message(sl_session *s, const uint8_t *msg, size_t len)
{
    if (!s->capture_ok)
        return;
    if (msg[0] == 'C' && ++s->capture_completes > 1)
        s->capture_ok = false;
    else if (msg[0] == 'T' || msg[0] == 'n' || msg[0] == 'D' || msg[0] == 'C')
        sl_buf_append(&s->capture, msg, len);
    else if (msg[0] != 'Z')
        s->capture_ok = false;
}

static void
capture_done(sl_session *s, char status)
{
    if (s->capture_ok && status == 'I' && s->capture_completes == 1) {
        sl_cache_tags tags = {.database = s->database};
        cache_log(s, "store", NULL);
        sl_cache_put(s->cache, &s->key, &tags, (const uint8_t *)s->capture.data,
                     s->capture.len, (uint32_t)s->hint.ttl, &s->ticket);
    } else {
        cache_log(s, "skip", "answer not stored");
    }
    sl_buf_reset(&s->capture);
    query_done(s);
}

/* A ReadyForQuery of the server's, answering the oldest request. */
static void
ready(sl_session *s, char status)
{
    s->tx_status = status;
    s->answered++;
    sl_stats_request_answered(s->ctx->stats, &s->inflight, s->answered, sl_stats_now_us());
    sl_stats_client_state(s->rec, status == 'T'   ? SL_CLIENT_IDLE_TX
                                  : status == 'E' ? SL_CLIENT_IDLE_FAILED
                                                  : SL_CLIENT_IDLE);
    if (!caching(s))
        return;
    if (s->phase == PH_CAPTURE)
        capture_done(s, status);
    if (s->set_pending && status == 'I' && !s->error_seen)
        sl_cacheflow_settings_set(&s->settings, 's', s->set_name,
                                  s->set_reset ? NULL : s->set_value);
    else if (s->set_pending && status != 'I')
        s->unmodelled = true;
    s->set_pending = false;
    s->error_seen = false;
    if (status == 'I' && s->dirty_upto && s->answered >= s->dirty_upto) {
        s->dirty_upto = 0;
        sl_cache_invalidate_all(s->cache, s->database);
        s->inv_mark = true;
        SL_DEBUG("%s: cache invalidate (database)", s->label);
    }
}

static void
parameter_status(sl_session *s, const uint8_t *body, size_t len)
{
    sl_proto_reader r;
    sl_proto_reader_init(&r, body, len);
    const char *name, *value;
    if (!sl_proto_get_cstring(&r, &name) || !sl_proto_get_cstring(&r, &value))
        return;
    sl_cacheflow_settings_set(&s->settings, 'p', name, value);
    if (strcmp(name, "standard_conforming_strings") == 0)
        s->non_standard_strings = strcmp(value, "on") != 0;
}

/* ---- the messages the proxy reads --------------------------------------------------------- */

static bool
client_wants(void *ctx, char type)
{
    sl_session *s = ctx;
    if (caching(s) && (type == 'Q' || type == 'B'))
        return true;
    return type == 'P' || type == 'C';
}

static void
client_header(void *ctx, char type, size_t body_len)
{
    (void)body_len;
    sl_session *s = ctx;
    if (type == 'X')
        s->client_terminated = true;
    if (type == 'Q' || type == 'S' || type == 'F') {
        s->sent++;
        sl_stats_request_sent(&s->inflight, s->sent, sl_stats_now_us());
        sl_stats_client_state(s->rec, SL_CLIENT_ACTIVE);
    }
    if (type == 'Q' || type == 'E')
        sl_stats_client_query(s->rec, type == 'Q' ? SL_QUERY_SIMPLE : SL_QUERY_EXTENDED);
    if (type == 'F')  /* a function call can do anything */
        mark_dirty(s, s->sent);
    if (type == 'S')
        s->ext_open = false;
    else if (type == 'P' || type == 'B' || type == 'E' || type == 'D' || type == 'C' ||
             type == 'H')
        s->ext_open = true;
}

static void
client_message(void *ctx, const uint8_t *msg, size_t len, sl_buf *out)
{
    sl_session *s = ctx;
    sl_proto_reader r;
    sl_proto_reader_init(&r, msg + 5, len - 5);
    const char *name, *sql;
    uint8_t what;
    if (msg[0] == 'Q') {
        on_query(s, msg, len, out);
        return;
    }
    if (msg[0] == 'B')
        note_bind(s, msg + 5, len - 5);
    /* A malformed one is the server's to refuse: it goes on untracked. */
    else if (msg[0] == 'P' && sl_proto_get_cstring(&r, &name) && sl_proto_get_cstring(&r, &sql)) {
        sl_statements_set(s->statements, name, sql);
        note_parse(s, name, sql);
    } else if (msg[0] == 'C' && sl_proto_get_byte(&r, &what) && sl_proto_get_cstring(&r, &name) &&
             what == 'S') {
        sl_statements_remove(s->statements, name);
        sl_statements_remove(s->writers, name);
    }
    sl_buf_append(out, msg, len);
}

static bool
server_wants(void *ctx, char type)
{
    sl_session *s = ctx;
    if (s->phase == PH_CATALOG || (s->phase == PH_CAPTURE && s->capture_this))
        return true;
    return type == 'K' || type == 'Z' || type == 'E' || (caching(s) && type == 'S');
}

/* While an answer is captured, a message too big for an entry streams on uncaptured. */
static void
server_header(void *ctx, char type, size_t body_len)
{
    sl_session *s = ctx;
    s->capture_this = false;
    if (s->phase != PH_CAPTURE || !s->capture_ok || type == 'Z')
        return;
    if (s->capture.len + 5 + body_len <= s->ctx->cache_max_entry)
        s->capture_this = true;
    else
        s->capture_ok = false;
}

/* The store applied the write's invalidation (or gave up: Redis down or slow, the
 * invalidation is kept for when it is back): what the server sent since goes on. */
static void
on_invalidated(void *arg, bool ok)
{
    sl_session *s = arg;
    s->inv_wait = false;
    if (!ok)
        SL_DEBUG("%s: cache invalidation not confirmed by the store", s->label);
    if (s->zombie) {
        free_session(s);
        return;
    }
    if (s->server_held.len) {
        send_bytes(s, CLIENT, s->server_held.data, s->server_held.len);
        sl_buf_reset(&s->server_held);
    }
    resume_reading(s, SERVER);
}

/* Called as the ReadyForQuery after a write is appended at offset at of relay()'s output:
 * that message and what follows wait for the store's barrier. */
static void
hold_for_invalidation(sl_session *s, size_t at)
{
    s->inv_mark = false;
    if (s->inv_wait)  /* an earlier barrier still runs: this RFQ is held behind it anyway */
        return;
    s->inv_wait = true;
    s->inv_cut = at;
    s->inv_cut_set = true;
    sl_cache_barrier(s->cache, on_invalidated, s);
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
    if (s->phase == PH_CATALOG) {
        catalog_message(s, msg, len, out);
        return;
    }
    if (s->phase == PH_CAPTURE)
        capture_message(s, msg, len);
    if (msg[0] == 'K' && !s->have_key) {
        sl_cancel_key server;
        if (sl_proto_get_int32(&r, &server.pid) && sl_proto_get_int32(&r, &server.secret)) {
            s->client_key = sl_cancelmap_add(s->ctx->cancels, server);
            s->have_key = true;
            sl_proto_write_backend_key(out, s->client_key.pid, s->client_key.secret);
            return;
        }
    } else if (msg[0] == 'Z' && body_len >= 1) {
        ready(s, (char)body[0]);
        if (s->inv_mark)
            hold_for_invalidation(s, out->len);
    } else if (msg[0] == 'S') {
        parameter_status(s, body, body_len);
    } else if (msg[0] == 'E') {
        s->error_seen = true;
        const char *sev = sl_proto_error_field(body, body_len, 'V');
        if (!sev)
            sev = sl_proto_error_field(body, body_len, 'S');
        if (sev && (strcmp(sev, "FATAL") == 0 || strcmp(sev, "PANIC") == 0))
            s->server_fatal = true;
    }
    sl_buf_append(out, msg, len);
}

static const sl_framer_ops client_ops = {client_wants, client_message, client_header};
static const sl_framer_ops server_ops = {server_wants, server_message, server_header};

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
    if (from == SERVER)
        s->to_client = &out;
    else
        s->to_server = &out;
    int rc = sl_framer_feed(&s->framers[from], p, n, &out);
    s->to_client = NULL;
    s->to_server = NULL;
    size_t cut = out.len;
    if (from == SERVER && (s->inv_wait || s->inv_cut_set)) {
        cut = s->inv_cut_set ? s->inv_cut : 0;
        s->inv_cut_set = false;
        if (s->inv_wait) {
            sl_buf_append(&s->server_held, out.data + cut, out.len - cut);
            pause_reading(s, SERVER);
        } else {
            cut = out.len;  /* the store answered at once */
        }
    }
    send_bytes(s, to, out.data, cut);
    sl_buf_free(&out);
    if (rc != 0) {
        bad_length(s, from);
        return;
    }
    if (from == CLIENT && s->framers[CLIENT].paused) {
        /* a Query waits for the cache: the client's next messages wait behind it */
        s->holding = true;
        sl_buf_append(&s->held, p + n - s->framers[CLIENT].unread, s->framers[CLIENT].unread);
        if (!s->release_pending)  /* answered already (a hit of the memory store): read on */
            pause_reading(s, CLIENT);
    }
    if (s->release_pending)
        release_client(s);
    if (uv_stream_get_write_queue_size(&s->conn[to].stream) > HIGH_WATER ||
        (from == CLIENT && uv_stream_get_write_queue_size(&s->conn[CLIENT].stream) > HIGH_WATER))
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
    sl_stats_client_server(s->rec, true);
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

/* Who the session is, and every startup parameter (options included) for the cache key. */
static void
remember_startup(sl_session *s, const sl_proto_startup *pkt)
{
    const char *user = sl_proto_startup_get(pkt, "user");
    const char *db = sl_proto_startup_get(pkt, "database");
    s->user = sl_strdup(user ? user : "");
    s->database = sl_strdup(db && *db ? db : s->user);
    s->sent = 1;  /* the startup: answered by the first ReadyForQuery */
    size_t off = 0;
    const char *name, *value;
    int rc;
    while ((rc = sl_proto_startup_next(pkt, &off, &name, &value)) == 1)
        sl_cacheflow_settings_set(&s->settings, 'o', name, value);
    if (rc < 0)
        s->unmodelled = true;
}

/* ---- the admin console ---------------------------------------------------------------------- */

static void
admin_bytes(sl_session *s, const uint8_t *p, size_t n)
{
    sl_buf out = SL_BUF_INIT;
    int rc = sl_framer_feed(&s->framers[CLIENT], p, n, &out);
    send_bytes(s, CLIENT, out.data, out.len);
    sl_buf_free(&out);
    if (rc != 0)
        bad_length(s, CLIENT);
    else if (sl_admin_done(s->admin))
        finish(s);
}

/* The console answers instead of a server (admin.h); what the client sent after its
 * StartupMessage goes to the console. */
static void
admin_start(sl_session *s)
{
    sl_buf out = SL_BUF_INIT;
    s->state = ST_ADMIN;
    sl_stats_client_state(s->rec, SL_CLIENT_ADMIN);
    sl_stats_client_identify(s->rec, s->user, s->database);
    s->admin = sl_admin_open(s->ctx, s->cache, s->user, s->local, &out);
    send_bytes(s, CLIENT, out.data, out.len);
    sl_buf_free(&out);
    if (!s->admin) {
        finish(s);
        return;
    }
    sl_framer_free(&s->framers[CLIENT]);
    sl_framer_init(&s->framers[CLIENT], s->ctx->max_message, sl_admin_framer_ops(), s->admin);
    if (s->startup.len > s->startup_len)
        admin_bytes(s, (const uint8_t *)s->startup.data + s->startup_len,
                    s->startup.len - s->startup_len);
    sl_buf_free(&s->startup);
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
    char tls[96] = "";
    if (s->tls) {  /* the log is the one place that says so: the server sees a plain client */
        memcpy(tls, " over ", 7);
        sl_tls_describe(s->tls, tls + 6, sizeof tls - 6);
    }
    SL_DEBUG("%s connected%s", s->label, tls);
    remember_startup(s, pkt);
    s->startup_len = pkt->total;
    if (s->ctx->n_admin_users && strcmp(s->database, SL_ADMIN_DATABASE) == 0) {
        admin_start(s);
        return;
    }
    sl_stats_client_identify(s->rec, s->user, s->database);
    s->state = ST_CONNECTING;
    sl_stats_client_state(s->rec, SL_CLIENT_CONNECTING);
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

/* SSLRequest with TLS configured. As the server does, a second one inside TLS is refused, and
 * so are bytes sent after the request before the answer: they were not encrypted, and may
 * have been put there by someone in the middle. */
static void
start_tls(sl_session *s)
{
    if (s->tls) {
        client_fail(s, "08P01", "SSLRequest inside TLS");
        return;
    }
    if (s->startup.len > 0) {
        client_fail(s, "08P01", "received unencrypted data after SSL request");
        return;
    }
    send_bytes(s, CLIENT, "S", 1);
    s->tls = sl_tls_new(s->ctx->tls);
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
            if (pkt.kind == SL_PROTO_SSL_REQUEST && s->ctx->tls) {
                consume_startup(s, pkt.total);
                start_tls(s);
                return;
            }
            /* no GSSAPI encryption, no TLS without --tls-cert: the client goes on in the
             * clear or gives up itself */
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
    s->writers = sl_statements_new();
    s->readers = sl_statements_new();
    s->cache = sl_worker_cache(w);
    sl_framer_init(&s->framers[CLIENT], s->ctx->max_message, &client_ops, s);
    sl_framer_init(&s->framers[SERVER], s->ctx->max_message, &server_ops, s);
    s->link.next = s->link.prev = &s->link;
    char address[64];
    sl_admin_peer(fd, is_unix, address, sizeof address, &s->local);
    s->rec = sl_stats_client_open(s->ctx->stats, s->id, address);
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
