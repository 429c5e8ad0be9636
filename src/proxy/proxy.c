/* proxy/proxy.c: the main loop of a running proxy: the listener, the signals, and the
 * workers' lifetime (see proxy.h). The main loop accepts; the workers relay. A drain ends
 * when the count of clients reaches 0: the worker that frees the last session wakes the main
 * loop, which stops the workers and returns. The workers are joined before the main loop's
 * wake handle is closed, so no worker can wake a closed handle (SIGINT during a drain).
 * The counters (stats.h) outlive the workers: they are freed after the joins. SIGHUP and the
 * console's RELOAD both call sl_proxy_context_reload(), serialised by ctx.reload_lock. */
#include "proxy/proxy.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "proxy/context.h"
#include "proxy/listener.h"
#include "proxy/memstore.h"
#include "proxy/metrics.h"
#include "proxy/worker.h"

typedef struct runner {
    sl_proxy_context ctx;
    uv_loop_t loop;
    uv_signal_t sigterm, sigint, sighup;
    uv_async_t wake;
    uv_timer_t sweep;
    sl_memstore *store;
    sl_listener *listener;
    sl_metrics *metrics;
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

/* ---- settings ----------------------------------------------------------------------------- */

static sl_log_level
level_in_force(void)
{
    if (sl_log_enabled(SL_LOG_DEBUG))
        return SL_LOG_DEBUG;
    if (sl_log_enabled(SL_LOG_INFO))
        return SL_LOG_INFO;
    return sl_log_enabled(SL_LOG_WARN) ? SL_LOG_WARN : SL_LOG_ERROR;
}

static void
set_cache_ttl(sl_cache *c, void *arg)
{
    const sl_settings *s = arg;
    sl_cache_set_ttl(c, s->ttl_s, s->jitter_s);
}

static void
apply_settings(sl_proxy_context *ctx, const sl_settings *s)
{
    sl_stats_cache_each(ctx->stats, set_cache_ttl, (void *)s);
    atomic_store(&ctx->cache_max_entry, s->cache_max_entry);
    sl_log_set_level(s->log_level);
    ctx->settings = *s;
}

int
sl_proxy_context_reload(sl_proxy_context *ctx, sl_error *err)
{
    if (!ctx->config_path) {
        sl_error_set(err, SL_E_USAGE, "nothing to reload: the proxy was started without --config");
        return -1;
    }
    pthread_mutex_lock(&ctx->reload_lock);
    sl_settings next;
    int rc = sl_settings_read(ctx->config_path, &ctx->base, &next, err);
    if (rc == 0) {
        sl_buf diff = SL_BUF_INIT;
        sl_settings_diff(&ctx->settings, &next, &diff);
        apply_settings(ctx, &next);
        SL_INFO("reloaded %s: %s", ctx->config_path, diff.len ? diff.data : "nothing changed");
        sl_buf_free(&diff);
    } else {
        SL_WARN("reload failed, the settings in force stay: %s", err->message);
    }
    pthread_mutex_unlock(&ctx->reload_lock);
    return rc;
}

void
sl_proxy_context_settings(sl_proxy_context *ctx, sl_settings *out)
{
    if (!ctx->config_path) {  /* never changes then */
        *out = ctx->settings;
        return;
    }
    pthread_mutex_lock(&ctx->reload_lock);
    *out = ctx->settings;
    pthread_mutex_unlock(&ctx->reload_lock);
}

static int
init_settings(runner *r, const sl_proxy_config *cfg, sl_error *err)
{
    sl_proxy_context *ctx = &r->ctx;
    ctx->base = (sl_settings){.ttl_s = cfg->ttl_s, .jitter_s = cfg->jitter_s,
                              .cache_max_entry = cfg->cache_max_entry,
                              .log_level = level_in_force()};
    ctx->settings = ctx->base;
    atomic_store(&ctx->cache_max_entry, cfg->cache_max_entry);
    pthread_mutex_init(&ctx->reload_lock, NULL);
    ctx->config_path = cfg->config_path;
    if (!cfg->config_path)
        return 0;
    sl_settings s;
    if (sl_settings_read(cfg->config_path, &ctx->base, &s, err) != 0)
        return -1;
    apply_settings(ctx, &s);  /* no cache attached yet: open_cache() takes the TTL */
    return 0;
}

/* ---- the workers' lifetime ---------------------------------------------------------------- */

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
    sl_metrics_close(r->metrics);
    r->metrics = NULL;
    join_workers(r);  /* sessions close at once: this waits for no client */
    uv_close((uv_handle_t *)&r->sigterm, NULL);
    uv_close((uv_handle_t *)&r->sigint, NULL);
    uv_close((uv_handle_t *)&r->sighup, NULL);
    uv_close((uv_handle_t *)&r->wake, NULL);
    uv_close((uv_handle_t *)&r->sweep, NULL);
}

static void
on_sweep(uv_timer_t *t)
{
    runner *r = t->data;
    sl_memstore_sweep(r->store);
}

static int
open_cache(runner *r, const sl_proxy_config *cfg, sl_error *err)
{
    r->ctx.redis = cfg->redis;
    if (!cfg->cache_bytes)
        return 0;
    sl_memstore_opts o = {.max_bytes = cfg->cache_bytes, .ttl_s = r->ctx.settings.ttl_s,
                          .jitter_s = r->ctx.settings.jitter_s};
    if (sl_memstore_open(&r->store, &o, err) != 0)
        return -1;
    r->ctx.cache = sl_memstore_cache(r->store);
    sl_stats_cache_attach(r->ctx.stats, r->ctx.cache);
    uv_timer_start(&r->sweep, on_sweep, 1000, 1000);
    return 0;
}

static void
close_cache(runner *r)
{
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
    sl_stats_cache_detach(r->ctx.stats, r->ctx.cache);
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
    if (signum == SIGHUP) {
        sl_error err;
        sl_error_clear(&err);
        if (sl_proxy_context_reload(&r->ctx, &err) != 0 && !r->ctx.config_path)
            SL_WARN("SIGHUP: %s", err.message);
        return;
    }
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
    r->ctx.stats = sl_stats_new();
    r->ctx.admin_users = cfg->admin_users;
    r->ctx.n_admin_users = cfg->n_admin_users;
    signal(SIGPIPE, SIG_IGN);  /* a client gone mid-write is an error code, not a signal */
    uv_loop_init(&r->loop);
    uv_async_init(&r->loop, &r->wake, on_wake);
    r->wake.data = r;
    uv_signal_init(&r->loop, &r->sigterm);
    uv_signal_init(&r->loop, &r->sigint);
    uv_signal_init(&r->loop, &r->sighup);
    r->sigterm.data = r->sigint.data = r->sighup.data = r;
    uv_timer_init(&r->loop, &r->sweep);
    r->sweep.data = r;
    if (init_settings(r, cfg, err) != 0 || open_cache(r, cfg, err) != 0)
        goto done;
    if (cfg->tls.cert_file && sl_tls_config_load(&r->ctx.tls, &cfg->tls, err) != 0)
        goto done;
    r->workers = sl_calloc((size_t)cfg->threads, sizeof *r->workers);
    for (; r->nworkers < cfg->threads; r->nworkers++)
        if (sl_worker_start(&r->workers[r->nworkers], &r->ctx, err) != 0)
            goto done;
    if (sl_listener_open(&r->listener, &r->loop, &cfg->listen, &r->ctx, r->workers,
                         r->nworkers, err) != 0)
        goto done;
    if (cfg->metrics_listen &&
        sl_metrics_open(&r->metrics, &r->loop, cfg->metrics_listen, r->ctx.stats, err) != 0)
        goto done;
    uv_signal_start(&r->sigterm, on_signal, SIGTERM);
    uv_signal_start(&r->sigint, on_signal, SIGINT);
    uv_signal_start(&r->sighup, on_signal, SIGHUP);
    if (cfg->metrics_listen)
        SL_INFO("metrics on http://%s/metrics", cfg->metrics_listen->shown);
    SL_INFO("listening on %s%s, server %s, %d threads", cfg->listen.shown,
            r->ctx.tls ? " (TLS)" : "", cfg->upstream.shown, r->nworkers);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    rc = 0;
done:
    stop_all(r);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    free(r->workers);
    uv_loop_close(&r->loop);
    sl_cancelmap_free(r->ctx.cancels);
    sl_tls_config_free(r->ctx.tls);
    close_cache(r);
    sl_stats_free(r->ctx.stats);
    pthread_mutex_destroy(&r->ctx.reload_lock);
    free(r);
    return rc;
}
