/* proxy/proxy.c: the main loop of a running proxy: the listener, the signals, and the
 * workers' lifetime (see proxy.h). The main loop accepts; the workers relay. A drain ends
 * when the count of clients reaches 0: the worker that frees the last session wakes the main
 * loop, which stops the workers and returns. The workers are joined before the main loop's
 * wake handle is closed, so no worker can wake a closed handle (SIGINT during a drain). */
#include "proxy/proxy.h"

#include <signal.h>
#include <stdlib.h>

#include "base/log.h"
#include "base/mem.h"
#include "proxy/context.h"
#include "proxy/listener.h"
#include "proxy/memstore.h"
#include "proxy/worker.h"

typedef struct runner {
    sl_proxy_context ctx;
    uv_loop_t loop;
    uv_signal_t sigterm, sigint;
    uv_async_t wake;
    uv_timer_t sweep;
    sl_memstore *store;
    sl_listener *listener;
    sl_worker **workers;
    int nworkers;
    bool stopped;
} runner;

void
sl_proxy_context_client_gone(sl_proxy_context *ctx)
{
    if (atomic_fetch_sub(&ctx->clients, 1) == 1 && atomic_load(&ctx->draining))
        uv_async_send(ctx->main_wake);
}

void
sl_proxy_context_add_counts(sl_proxy_context *ctx, const sl_cache *c)
{
    sl_cache_counts n;
    sl_cache_counts_read(c, &n);
    sl_cache_stats *t = &ctx->redis_totals;
    atomic_fetch_add(&t->hits, n.hits);
    atomic_fetch_add(&t->misses, n.misses);
    atomic_fetch_add(&t->puts, n.puts);
    atomic_fetch_add(&t->invalidations, n.invalidations);
    atomic_fetch_add(&t->stale_refused, n.stale_refused);
    atomic_fetch_add(&t->errors, n.errors);
}

static void
join_workers(runner *r)
{
    for (int i = 0; i < r->nworkers; i++)
        sl_worker_stop(r->workers[i]);
    for (int i = 0; i < r->nworkers; i++)
        sl_worker_join(r->workers[i]);
    r->nworkers = 0;
}

static void
stop_all(runner *r)
{
    if (r->stopped)
        return;
    r->stopped = true;
    sl_listener_close(r->listener);
    r->listener = NULL;
    join_workers(r);  /* sessions close at once: this waits for no client */
    uv_close((uv_handle_t *)&r->sigterm, NULL);
    uv_close((uv_handle_t *)&r->sigint, NULL);
    uv_close((uv_handle_t *)&r->wake, NULL);
    uv_close((uv_handle_t *)&r->sweep, NULL);
}

static void
on_sweep(uv_timer_t *t)
{
    runner *r = t->data;
    sl_memstore_sweep(r->store);
}

/* The memo of catalog verdicts (verdicts.h): one per statement shape a workload has, about
 * 200 bytes each. */
enum { VERDICTS_MAX_ENTRIES = 16384, VERDICTS_MAX_BYTES = 8 << 20 };

static int
open_cache(runner *r, const sl_proxy_config *cfg, sl_error *err)
{
    uv_timer_init(&r->loop, &r->sweep);
    r->sweep.data = r;
    r->ctx.cache_max_entry = cfg->cache_max_entry;
    r->ctx.redis = cfg->redis;
    if (cfg->redis || cfg->cache_bytes)
        r->ctx.verdicts = sl_verdicts_new(VERDICTS_MAX_ENTRIES, VERDICTS_MAX_BYTES);
    if (!cfg->cache_bytes)
        return 0;
    sl_memstore_opts o = {.max_bytes = cfg->cache_bytes, .ttl_s = cfg->ttl_s,
                          .jitter_s = cfg->jitter_s};
    if (sl_memstore_open(&r->store, &o, err) != 0)
        return -1;
    r->ctx.cache = sl_memstore_cache(r->store);
    uv_timer_start(&r->sweep, on_sweep, 1000, 1000);
    return 0;
}

static void
close_cache(runner *r)
{
    if (r->ctx.verdicts) {
        sl_verdicts_counts v;
        sl_verdicts_counts_read(r->ctx.verdicts, &v);
        SL_INFO("catalog verdicts: %llu found, %llu not found, %llu held, %llu clears",
                (unsigned long long)v.hits, (unsigned long long)v.misses,
                (unsigned long long)v.entries, (unsigned long long)v.clears);
        sl_verdicts_free(r->ctx.verdicts);
        r->ctx.verdicts = NULL;
    }
    if (r->ctx.redis) {
        const sl_cache_stats *t = &r->ctx.redis_totals;
        SL_INFO("cache: %llu hits, %llu misses, %llu stored, %llu invalidations, "
                "%llu stale puts refused, %llu store errors",
                (unsigned long long)t->hits, (unsigned long long)t->misses,
                (unsigned long long)t->puts, (unsigned long long)t->invalidations,
                (unsigned long long)t->stale_refused, (unsigned long long)t->errors);
    }
    if (!r->ctx.cache)
        return;
    sl_cache_counts c;
    sl_cache_counts_read(r->ctx.cache, &c);
    SL_INFO("cache: %llu hits, %llu misses, %llu stored, %llu invalidations, %llu evictions, "
            "%llu expirations, %llu stale puts refused",
            (unsigned long long)c.hits, (unsigned long long)c.misses,
            (unsigned long long)c.puts, (unsigned long long)c.invalidations,
            (unsigned long long)c.evictions, (unsigned long long)c.expirations,
            (unsigned long long)c.stale_refused);
    sl_cache_close(r->ctx.cache);
    r->ctx.cache = NULL;
}

static void
on_wake(uv_async_t *a)
{
    runner *r = a->data;
    if (atomic_load(&r->ctx.draining) && atomic_load(&r->ctx.clients) == 0)
        stop_all(r);
}

static void
on_signal(uv_signal_t *h, int signum)
{
    runner *r = h->data;
    if (signum == SIGINT) {
        SL_INFO("interrupted: closing %d client connections", atomic_load(&r->ctx.clients));
        stop_all(r);
        return;
    }
    if (atomic_exchange(&r->ctx.draining, true))
        return;
    SL_INFO("stopping: no new connections, waiting for %d clients to leave",
            atomic_load(&r->ctx.clients));
    sl_listener_close(r->listener);
    r->listener = NULL;
    on_wake(&r->wake);
}

int
sl_proxy_run(const sl_proxy_config *cfg, sl_error *err)
{
    runner *r = sl_calloc(1, sizeof *r);
    int rc = -1;
    r->ctx.upstream = cfg->upstream;
    r->ctx.max_message = cfg->max_message;
    r->ctx.cancels = sl_cancelmap_new();
    r->ctx.main_wake = &r->wake;
    signal(SIGPIPE, SIG_IGN);  /* a client gone mid-write is an error code, not a signal */
    uv_loop_init(&r->loop);
    uv_async_init(&r->loop, &r->wake, on_wake);
    r->wake.data = r;
    uv_signal_init(&r->loop, &r->sigterm);
    uv_signal_init(&r->loop, &r->sigint);
    r->sigterm.data = r->sigint.data = r;
    if (open_cache(r, cfg, err) != 0)
        goto done;
    r->workers = sl_calloc((size_t)cfg->threads, sizeof *r->workers);
    for (; r->nworkers < cfg->threads; r->nworkers++)
        if (sl_worker_start(&r->workers[r->nworkers], &r->ctx, err) != 0)
            goto done;
    if (sl_listener_open(&r->listener, &r->loop, &cfg->listen, &r->ctx, r->workers,
                         r->nworkers, err) != 0)
        goto done;
    uv_signal_start(&r->sigterm, on_signal, SIGTERM);
    uv_signal_start(&r->sigint, on_signal, SIGINT);
    SL_INFO("listening on %s, server %s, %d threads", cfg->listen.shown, cfg->upstream.shown,
            r->nworkers);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    rc = 0;
done:
    stop_all(r);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    free(r->workers);
    uv_loop_close(&r->loop);
    sl_cancelmap_free(r->ctx.cancels);
    close_cache(r);
    free(r);
    return rc;
}
