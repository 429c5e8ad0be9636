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
#include "proxy/worker.h"

typedef struct runner {
    sl_proxy_context ctx;
    uv_loop_t loop;
    uv_signal_t sigterm, sigint;
    uv_async_t wake;
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
    free(r);
    return rc;
}
