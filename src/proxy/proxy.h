/* proxy/proxy.h: "sluice proxy": a transparent PostgreSQL wire-protocol proxy on libuv.
 * sl_proxy_run() listens, relays every client to a server connection of its own on one of
 * `threads` event loops, and returns when the proxy stops: SIGTERM stops accepting and waits
 * for the connected clients to leave; SIGINT closes them all. The caller has parsed both
 * addresses (proxy/addr.h). With cache_bytes, simple-protocol SELECTs are answered from a
 * memory store shared by every loop (session.c), swept of expired entries every second, and
 * its counters are logged at exit. Counters are kept (stats.h) for the admin console
 * (admin.h: clients naming database "sluice", when admin_users is not empty) and, with
 * metrics_listen, for Prometheus (metrics.h). SIGHUP reads config_path again (settings.h).
 * With tls.cert_file, clients may ask for TLS (session.c); the files are checked before
 * anything listens. */
#ifndef SL_PROXY_PROXY_H
#define SL_PROXY_PROXY_H

#include <stdint.h>

#include "base/error.h"
#include "proxy/addr.h"
#include "proxy/redisstore.h"
#include "proxy/tls.h"

typedef struct sl_proxy_config {
    sl_addr listen;
    sl_addr upstream;
    int threads;          /* event-loop threads, at least 1 */
    uint32_t max_message; /* the largest message length taken from either side */
    size_t cache_bytes;   /* the memory store's bound; 0: no cache */
    uint32_t ttl_s;       /* an entry lives ttl_s + random(0..jitter_s) seconds */
    uint32_t jitter_s;
    size_t cache_max_entry; /* an answer bigger than this is not stored */
    const sl_redisstore_opts *redis; /* instead of the memory store: one per loop; or NULL */
    const sl_addr *metrics_listen;   /* where GET /metrics is answered, or NULL */
    const char *const *admin_users;  /* who may use the admin console */
    size_t n_admin_users;
    const char *config_path;         /* the reloadable settings' file, or NULL */
    sl_tls_files tls;     /* cert_file NULL: no TLS, SSLRequest is answered 'N' */
} sl_proxy_config;

/* 0 after a stop by signal; -1 with err set when it could not start. */
SL_MUSTCHECK int sl_proxy_run(const sl_proxy_config *cfg, sl_error *err);

#endif
