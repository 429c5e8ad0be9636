/* proxy/metrics.h: --metrics-listen: a minimal HTTP/1.0 responder on the proxy's main loop
 * that answers GET /metrics with the counters (stats.h) in Prometheus' text exposition
 * format (0.0.4), every name prefixed sluice_proxy_.
 * Requests: one per connection, read up to SL_METRICS_MAX_REQUEST bytes (request line and
 *           headers; a body is never read); then the answer and the connection closes. A
 *           request that is not GET (or HEAD) is answered 405, another path 404, a malformed
 *           or oversized one 400, and a connection that sends no complete request within
 *           SL_METRICS_TIMEOUT_MS is closed: a slow or hostile peer holds at most one buffer
 *           for that long.
 * Calling order: sl_metrics_open() on the main loop -> (the loop runs) -> sl_metrics_close()
 *           (stops listening and closes the connections; the memory goes when the loop has
 *           run their closes). The parser and the renderer are pure, for tests. */
#ifndef SL_PROXY_METRICS_H
#define SL_PROXY_METRICS_H

#include <stddef.h>
#include <uv.h>

#include "base/buf.h"
#include "base/error.h"
#include "proxy/addr.h"
#include "proxy/stats.h"

enum { SL_METRICS_MAX_REQUEST = 8192, SL_METRICS_TIMEOUT_MS = 10000 };

typedef enum {
    SL_METRICS_NEED_MORE,  /* no end of the headers yet */
    SL_METRICS_OK,         /* a complete request: method and path are set */
    SL_METRICS_BAD,        /* not an HTTP request line */
} sl_metrics_status;

typedef struct {
    char method[16];
    char path[256];  /* without the query string */
} sl_metrics_request;

/* Parses what a connection sent so far (len bytes, at most SL_METRICS_MAX_REQUEST). */
sl_metrics_status sl_metrics_parse(const char *p, size_t len, sl_metrics_request *out);

/* The whole HTTP answer to a parsed request (status line, headers, body). */
void sl_metrics_answer(const sl_metrics_request *req, const sl_stats_snapshot *s, sl_buf *out);

/* The exposition text of a snapshot. */
void sl_metrics_render(const sl_stats_snapshot *s, sl_buf *out);

typedef struct sl_metrics sl_metrics;

/* a must be a TCP address. -1 with err set when it cannot listen. */
SL_MUSTCHECK int sl_metrics_open(sl_metrics **out, uv_loop_t *loop, const sl_addr *a,
                                 sl_stats *stats, sl_error *err);
void sl_metrics_close(sl_metrics *m);  /* accepts NULL */

#endif
