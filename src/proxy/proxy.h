/* proxy/proxy.h: "sluice proxy": a transparent PostgreSQL wire-protocol proxy on libuv.
 * sl_proxy_run() listens, relays every client to a server connection of its own on one of
 * `threads` event loops, and returns when the proxy stops: SIGTERM stops accepting and waits
 * for the connected clients to leave; SIGINT closes them all. The caller has parsed both
 * addresses (proxy/addr.h). */
#ifndef SL_PROXY_PROXY_H
#define SL_PROXY_PROXY_H

#include <stdint.h>

#include "base/error.h"
#include "proxy/addr.h"

typedef struct sl_proxy_config {
    sl_addr listen;
    sl_addr upstream;
    int threads;          /* event-loop threads, at least 1 */
    uint32_t max_message; /* the largest message length taken from either side */
} sl_proxy_config;

/* 0 after a stop by signal; -1 with err set when it could not start. */
SL_MUSTCHECK int sl_proxy_run(const sl_proxy_config *cfg, sl_error *err);

#endif
