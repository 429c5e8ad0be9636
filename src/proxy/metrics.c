/* proxy/metrics.c: the Prometheus responder (see metrics.h). Each connection owns a TCP
 * handle and a timer; it is freed when both are closed. The connections are kept in a list
 * so that sl_metrics_close() can close the ones still open. */
#include "proxy/metrics.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"

typedef struct conn conn;

struct sl_metrics {
    uv_tcp_t server;
    sl_stats *stats;
    conn *conns;   /* open connections, a doubly linked list */
    bool closing;
};

struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_write_t write;
    sl_metrics *m;
    conn *prev, *next;
    int handles;    /* of tcp and timer, still to see closed */
    bool done;      /* answered or given up: nothing more is read */
    bool closed;    /* conn_close() ran: out of the list, handles closing */
    size_t len;
    char buf[SL_METRICS_MAX_REQUEST];
    sl_buf answer;
};

/* ---- parsing and rendering ---------------------------------------------------------------- */

static const char *
find_end_of_headers(const char *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (p[i] == '\n' && p[i + 1] == '\n')
            return p + i + 2;
        if (i + 3 < len && memcmp(p + i, "\r\n\r\n", 4) == 0)
            return p + i + 4;
    }
    return NULL;
}

/* Copies the token [p, end) to out (cap bytes); false when empty or too long. */
static bool
take_token(const char *p, const char *end, char *out, size_t cap)
{
    size_t n = (size_t)(end - p);
    if (n == 0 || n >= cap)
        return false;
    memcpy(out, p, n);
    out[n] = 0;
    return true;
}

sl_metrics_status
sl_metrics_parse(const char *p, size_t len, sl_metrics_request *out)
{
    const char *eol = memchr(p, '\n', len);
    const char *limit = eol ? eol : p + len;
    for (const char *c = p; c < limit; c++)  /* the request line is printable ASCII */
        if ((unsigned char)*c < 0x20 && *c != '\r')
            return SL_METRICS_BAD;
    if (!eol || !find_end_of_headers(p, len))
        return SL_METRICS_NEED_MORE;
    const char *sp1 = memchr(p, ' ', (size_t)(eol - p));
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
    if (!sp2)
        return SL_METRICS_BAD;
    const char *version = sp2 + 1;
    size_t vlen = (size_t)(eol - version);
    if (vlen && version[vlen - 1] == '\r')
        vlen--;
    if (vlen != 8 || memcmp(version, "HTTP/1.", 7) != 0)
        return SL_METRICS_BAD;
    const char *path_end = memchr(sp1 + 1, '?', (size_t)(sp2 - sp1 - 1));
    if (!path_end)
        path_end = sp2;
    if (!take_token(p, sp1, out->method, sizeof out->method) ||
        !take_token(sp1 + 1, path_end, out->path, sizeof out->path) || out->path[0] != '/')
        return SL_METRICS_BAD;
    return SL_METRICS_OK;
}

static void
metric(sl_buf *out, const char *name, const char *type, const char *help)
{
    sl_buf_printf(out, "# HELP sluice_proxy_%s %s\n# TYPE sluice_proxy_%s %s\n", name, help,
                  name, type);
}

static void
value(sl_buf *out, const char *name, const char *type, const char *help, uint64_t v)
{
    metric(out, name, type, help);
    sl_buf_printf(out, "sluice_proxy_%s %" PRIu64 "\n", name, v);
}

static void
render_latency(const sl_stats_histogram_counts *h, sl_buf *out)
{
    metric(out, "upstream_latency_seconds", "histogram",
           "Time from a request sent to the server to its ReadyForQuery.");
    for (size_t i = 0; i < SL_STATS_BUCKETS; i++)
        sl_buf_printf(out, "sluice_proxy_upstream_latency_seconds_bucket{le=\"%g\"} %" PRIu64
                      "\n", (double)sl_stats_bucket_us[i] / 1e6, h->cumulative[i]);
    sl_buf_printf(out, "sluice_proxy_upstream_latency_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n",
                  h->cumulative[SL_STATS_BUCKETS]);
    sl_buf_printf(out, "sluice_proxy_upstream_latency_seconds_sum %.6f\n",
                  (double)h->sum_us / 1e6);
    sl_buf_printf(out, "sluice_proxy_upstream_latency_seconds_count %" PRIu64 "\n", h->n);
}

void
sl_metrics_render(const sl_stats_snapshot *s, sl_buf *out)
{
    const sl_cache_counts *c = &s->cache;
    value(out, "clients", "gauge", "Client connections open now.", (uint64_t)s->clients);
    value(out, "clients_total", "counter", "Client connections accepted.",
          (uint64_t)s->clients_total);
    value(out, "server_connections", "gauge", "Server connections open now.",
          (uint64_t)s->servers);
    value(out, "server_connections_total", "counter", "Server connections made.",
          (uint64_t)s->servers_total);
    metric(out, "queries_total", "counter",
           "Queries from clients: simple (Query) and extended (Execute).");
    sl_buf_printf(out, "sluice_proxy_queries_total{protocol=\"simple\"} %" PRIu64 "\n",
                  s->queries_simple);
    sl_buf_printf(out, "sluice_proxy_queries_total{protocol=\"extended\"} %" PRIu64 "\n",
                  s->queries_extended);
    value(out, "cache_hits_total", "counter", "Queries answered from the cache.", c->hits);
    value(out, "cache_misses_total", "counter", "Cacheable queries sent to the server.",
          c->misses);
    uint64_t asked = c->hits + c->misses;
    metric(out, "cache_hit_ratio", "gauge", "Hits over hits plus misses (0 before any).");
    sl_buf_printf(out, "sluice_proxy_cache_hit_ratio %.6f\n",
                  asked ? (double)c->hits / (double)asked : 0.0);
    value(out, "cache_bytes_served_total", "counter", "Bytes of answers served from the cache.",
          c->bytes_served);
    value(out, "cache_entries", "gauge", "Entries in the memory store.", c->entries);
    value(out, "cache_bytes", "gauge", "Bytes the memory store accounts.", c->bytes_stored);
    value(out, "cache_stored_total", "counter", "Entries stored.", c->puts);
    value(out, "cache_evictions_total", "counter", "Entries dropped to make room.",
          c->evictions);
    value(out, "cache_invalidations_total", "counter", "Invalidations (a table or a database).",
          c->invalidations);
    value(out, "cache_invalidated_total", "counter", "Entries dropped by invalidations.",
          c->invalidated);
    value(out, "cache_expirations_total", "counter", "Entries dropped at their TTL.",
          c->expirations);
    value(out, "cache_errors_total", "counter", "Store failures and timeouts.", c->errors);
    render_latency(&s->latency, out);
}

void
sl_metrics_answer(const sl_metrics_request *req, const sl_stats_snapshot *s, sl_buf *out)
{
    bool get = strcmp(req->method, "GET") == 0, head = strcmp(req->method, "HEAD") == 0;
    const char *status = "200 OK";
    sl_buf body = SL_BUF_INIT;
    if (!get && !head) {
        status = "405 Method Not Allowed";
        sl_buf_puts(&body, "only GET\n");
    } else if (strcmp(req->path, "/metrics") != 0) {
        status = "404 Not Found";
        sl_buf_puts(&body, "not found: try /metrics\n");
    } else {
        sl_metrics_render(s, &body);
    }
    sl_buf_printf(out, "HTTP/1.0 %s\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                  "Content-Length: %zu\r\nConnection: close\r\n\r\n", status, body.len);
    if (!head)
        sl_buf_append(out, body.data, body.len);
    sl_buf_free(&body);
}

/* ---- connections -------------------------------------------------------------------------- */

static void
on_conn_closed(uv_handle_t *h)
{
    conn *c = h->data;
    if (--c->handles > 0)
        return;
    sl_buf_free(&c->answer);
    free(c);
}

/* Once only: a write cancelled by the close calls back here after sl_metrics_close() may
 * have freed the responder, which is why nothing of it is touched the second time. */
static void
conn_close(conn *c)
{
    if (c->closed)
        return;
    c->closed = true;
    c->done = true;
    if (c->prev)
        c->prev->next = c->next;
    else
        c->m->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
    uv_close((uv_handle_t *)&c->timer, on_conn_closed);
}

static void
on_written(uv_write_t *w, int status)
{
    (void)status;  /* closed either way: HTTP/1.0 without keep-alive */
    conn_close(w->data);
}

static void
respond(conn *c, const char *status_line)
{
    c->done = true;
    uv_read_stop((uv_stream_t *)&c->tcp);
    uv_timer_stop(&c->timer);
    if (status_line) {
        sl_buf_printf(&c->answer, "HTTP/1.0 %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                      status_line);
    } else {
        sl_metrics_request req;
        sl_stats_snapshot snap;
        (void)sl_metrics_parse(c->buf, c->len, &req);  /* OK: checked by the caller */
        sl_stats_read(c->m->stats, &snap);
        sl_metrics_answer(&req, &snap, &c->answer);
    }
    uv_buf_t b = uv_buf_init(c->answer.data, (unsigned)c->answer.len);
    c->write.data = c;
    if (uv_write(&c->write, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0)
        conn_close(c);
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    conn *c = h->data;
    buf->base = c->buf + c->len;
    buf->len = sizeof c->buf - c->len;
}

static void
on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    conn *c = st->data;
    if (c->done || n == 0)
        return;
    if (n < 0) {
        conn_close(c);
        return;
    }
    c->len += (size_t)n;
    sl_metrics_request req;
    switch (sl_metrics_parse(c->buf, c->len, &req)) {
    case SL_METRICS_OK:
        respond(c, NULL);
        return;
    case SL_METRICS_BAD:
        respond(c, "400 Bad Request");
        return;
    case SL_METRICS_NEED_MORE:
        if (c->len == sizeof c->buf)
            respond(c, "400 Bad Request");  /* over the bound: never read further */
        return;
    }
}

static void
on_timeout(uv_timer_t *t)
{
    conn_close(t->data);
}

static void
on_connection(uv_stream_t *server, int status)
{
    sl_metrics *m = server->data;
    if (status < 0 || m->closing)
        return;
    conn *c = sl_calloc(1, sizeof *c);
    c->m = m;
    sl_buf_init(&c->answer);
    uv_tcp_init(server->loop, &c->tcp);
    uv_timer_init(server->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles = 2;
    c->next = m->conns;
    if (m->conns)
        m->conns->prev = c;
    m->conns = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c);
        return;
    }
    uv_timer_start(&c->timer, on_timeout, SL_METRICS_TIMEOUT_MS, 0);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void
on_server_closed(uv_handle_t *h)
{
    free(h->data);
}

int
sl_metrics_open(sl_metrics **out, uv_loop_t *loop, const sl_addr *a, sl_stats *stats,
                sl_error *err)
{
    if (a->is_unix) {
        sl_error_set(err, SL_E_USAGE, "--metrics-listen takes HOST:PORT, not a Unix socket");
        return -1;
    }
    sl_metrics *m = sl_calloc(1, sizeof *m);
    m->stats = stats;
    uv_tcp_init(loop, &m->server);
    m->server.data = m;
    int rc = uv_tcp_bind(&m->server, (const struct sockaddr *)&a->ss, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&m->server, 64, on_connection);
    if (rc != 0) {
        sl_error_set(err, SL_E_USAGE, "could not listen on %s for metrics: %s", a->shown,
                     uv_strerror(rc));
        m->closing = true;
        uv_close((uv_handle_t *)&m->server, on_server_closed);
        return -1;
    }
    *out = m;
    return 0;
}

void
sl_metrics_close(sl_metrics *m)
{
    if (!m)
        return;
    m->closing = true;
    while (m->conns)
        conn_close(m->conns);
    uv_close((uv_handle_t *)&m->server, on_server_closed);
}
