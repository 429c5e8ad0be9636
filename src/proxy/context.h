/* proxy/context.h: what every loop of one running proxy shares: the configuration, the map
 * of cancel keys, the count of live client connections that SIGTERM's drain waits on, the
 * counters (stats.h) and the reloadable settings (settings.h).
 * Owned by proxy.c for the whole run; the loops only read it, except through these calls. */
#ifndef SL_PROXY_CONTEXT_H
#define SL_PROXY_CONTEXT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "proxy/addr.h"
#include "proxy/cache.h"
#include "proxy/cancelmap.h"
#include "proxy/redisstore.h"
#include "proxy/settings.h"
#include "proxy/stats.h"
#include "proxy/tls.h"

typedef struct sl_proxy_context {
    sl_addr upstream;
    uint32_t max_message;       /* the largest length word taken from either side */
    sl_cancelmap *cancels;
    atomic_int clients;         /* accepted and not yet closed (counted at accept) */
    atomic_bool draining;       /* SIGTERM: no new clients; exit when clients reaches 0 */
    atomic_uint_fast64_t next_id; /* client numbers for the log */
    uv_async_t *main_wake;      /* woken when a client leaves while draining */
    sl_cache *cache;            /* the memory store shared by every loop, or NULL: no cache */
    _Atomic size_t cache_max_entry; /* an answer bigger than this is not stored (SIGHUP) */
    const sl_redisstore_opts *redis; /* each loop opens a Redis store of its own, or NULL */
    sl_cache_stats redis_totals; /* the Redis stores' counters, added as each closes */
    sl_stats *stats;            /* the counters, or NULL: none kept (embedded) */
    const char *const *admin_users; /* who may use the admin console (admin.h) */
    size_t n_admin_users;
    const char *config_path;    /* --config: reloaded on SIGHUP, or NULL */
    pthread_mutex_t reload_lock; /* guards settings (when config_path is set) */
    sl_settings base;           /* from the command line */
    sl_settings settings;       /* in force: base with the file's keys over it */
    sl_tls_config *tls;         /* SSLRequest is answered 'S' and TLS terminated; or NULL */
} sl_proxy_context;

/* A client connection ended (called once per accepted one, on its loop). */
void sl_proxy_context_client_gone(sl_proxy_context *ctx);
/* Reads --config again and applies it (settings.h); -1 with err when there is no file or
 * it cannot be read or parsed (the settings in force stay). Any thread. */
SL_MUSTCHECK int sl_proxy_context_reload(sl_proxy_context *ctx, sl_error *err);
/* The settings in force, copied under the lock. */
void sl_proxy_context_settings(sl_proxy_context *ctx, sl_settings *out);
/* A loop's Redis store closes: its counters go into ctx->redis_totals. */
void sl_proxy_context_add_counts(sl_proxy_context *ctx, const sl_cache *c);

#endif
