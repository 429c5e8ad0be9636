/* proxy/context.h: what every loop of one running proxy shares: the configuration, the map
 * of cancel keys, and the count of live client connections that SIGTERM's drain waits on.
 * Owned by proxy.c for the whole run; the loops only read it, except through these calls. */
#ifndef SL_PROXY_CONTEXT_H
#define SL_PROXY_CONTEXT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "proxy/addr.h"
#include "proxy/cache.h"
#include "proxy/cancelmap.h"
#include "proxy/redisstore.h"
#include "proxy/verdicts.h"

typedef struct sl_proxy_context {
    sl_addr upstream;
    uint32_t max_message;       /* the largest length word taken from either side */
    sl_cancelmap *cancels;
    atomic_int clients;         /* accepted and not yet closed (counted at accept) */
    atomic_bool draining;       /* SIGTERM: no new clients; exit when clients reaches 0 */
    atomic_uint_fast64_t next_id; /* client numbers for the log */
    uv_async_t *main_wake;      /* woken when a client leaves while draining */
    sl_cache *cache;            /* the memory store shared by every loop, or NULL: no cache */
    size_t cache_max_entry;     /* an answer bigger than this is not stored */
    const sl_redisstore_opts *redis; /* each loop opens a Redis store of its own, or NULL */
    sl_cache_stats redis_totals; /* the Redis stores' counters, added as each closes */
    sl_verdicts *verdicts;      /* the catalog verdicts of every loop, or NULL: no cache */
} sl_proxy_context;

/* A client connection ended (called once per accepted one, on its loop). */
void sl_proxy_context_client_gone(sl_proxy_context *ctx);
/* A loop's Redis store closes: its counters go into ctx->redis_totals. */
void sl_proxy_context_add_counts(sl_proxy_context *ctx, const sl_cache *c);

#endif
