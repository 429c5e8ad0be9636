/* proxy/worker.c: one loop thread (see worker.h). Descriptors arrive through a mutex-guarded
 * queue and an async handle; stop is a flag read by the same async callback, so every change
 * to the loop's handles happens on the loop's own thread. */
#include "proxy/worker.h"

#include <stdlib.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "proxy/session.h"

enum { READ_BUFFER = 64 * 1024 };

typedef struct handed {
    int fd;
    bool is_unix;
} handed;

struct sl_worker {
    sl_proxy_context *ctx;
    uv_thread_t thread;
    uv_loop_t loop;
    uv_async_t wake;
    uv_mutex_t mu;      /* guards queue, nqueue, cap, stopping */
    handed *queue;
    size_t nqueue, cap;
    bool stopping;
    sl_worker_link sessions; /* a ring: sessions.next is the first */
    sl_cache *redis;    /* the loop's own Redis store, or NULL */
    char rbuf[READ_BUFFER];
};

static void
abort_all(sl_worker *w)
{
    while (w->sessions.next != &w->sessions)
        sl_session_abort((sl_session *)w->sessions.next);
}

static void
on_wake(uv_async_t *a)
{
    sl_worker *w = a->data;
    uv_mutex_lock(&w->mu);
    handed *q = w->queue;
    size_t n = w->nqueue;
    bool stopping = w->stopping;
    w->queue = NULL;
    w->nqueue = w->cap = 0;
    uv_mutex_unlock(&w->mu);
    for (size_t i = 0; i < n; i++) {
        if (stopping) {
            close(q[i].fd);
            sl_proxy_context_client_gone(w->ctx);
        } else {
            sl_session_open(w, q[i].fd, q[i].is_unix);
        }
    }
    free(q);
    if (stopping) {
        abort_all(w);
        if (w->redis) {  /* answers the gets still pending: the sessions waiting end then */
            sl_stats_cache_detach(w->ctx->stats, w->redis);
            sl_proxy_context_add_counts(w->ctx, w->redis);
            sl_cache_close(w->redis);
            w->redis = NULL;
        }
        uv_close((uv_handle_t *)&w->wake, NULL);
    }
}

static void
run(void *arg)
{
    sl_worker *w = arg;
    if (w->ctx->redis) {
        sl_redisstore *r;
        sl_error err;
        sl_error_clear(&err);
        if (sl_redisstore_open(&r, &w->loop, w->ctx->redis, &err) == 0) {
            w->redis = sl_redisstore_cache(r);
            sl_stats_cache_attach(w->ctx->stats, w->redis);
            if (w->ctx->config_path) {  /* the file's TTL, or a reload's before this loop ran */
                sl_settings s;
                sl_proxy_context_settings(w->ctx, &s);
                sl_cache_set_ttl(w->redis, s.ttl_s, s.jitter_s);
            }
        }
        else  /* the URL was checked before: cannot be; the loop relays without a cache */
            SL_WARN("%s", err.message);
    }
    uv_run(&w->loop, UV_RUN_DEFAULT);
}

int
sl_worker_start(sl_worker **out, sl_proxy_context *ctx, sl_error *err)
{
    sl_worker *w = sl_calloc(1, sizeof *w);
    w->ctx = ctx;
    w->sessions.next = w->sessions.prev = &w->sessions;
    int rc = uv_loop_init(&w->loop);
    if (rc == 0) {
        uv_mutex_init(&w->mu);
        uv_async_init(&w->loop, &w->wake, on_wake);
        w->wake.data = w;
        rc = uv_thread_create(&w->thread, run, w);
        if (rc != 0) {
            uv_close((uv_handle_t *)&w->wake, NULL);
            uv_run(&w->loop, UV_RUN_DEFAULT);
            uv_loop_close(&w->loop);
            uv_mutex_destroy(&w->mu);
        }
    }
    if (rc != 0) {
        sl_error_set(err, SL_E_INTERNAL, "could not start an event loop thread: %s",
                     uv_strerror(rc));
        free(w);
        return -1;
    }
    *out = w;
    return 0;
}

void
sl_worker_hand(sl_worker *w, int fd, bool is_unix)
{
    uv_mutex_lock(&w->mu);
    if (w->nqueue == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 16;
        w->queue = sl_realloc(w->queue, w->cap * sizeof *w->queue);
    }
    w->queue[w->nqueue++] = (handed){fd, is_unix};
    uv_mutex_unlock(&w->mu);
    uv_async_send(&w->wake);
}

void
sl_worker_stop(sl_worker *w)
{
    uv_mutex_lock(&w->mu);
    w->stopping = true;
    uv_mutex_unlock(&w->mu);
    uv_async_send(&w->wake);
}

void
sl_worker_join(sl_worker *w)
{
    if (!w)
        return;
    uv_thread_join(&w->thread);
    uv_loop_close(&w->loop);
    uv_mutex_destroy(&w->mu);
    free(w->queue);
    free(w);
}

uv_loop_t *
sl_worker_loop(sl_worker *w)
{
    return &w->loop;
}

sl_proxy_context *
sl_worker_context(sl_worker *w)
{
    return w->ctx;
}

sl_cache *
sl_worker_cache(sl_worker *w)
{
    return w->ctx->redis ? w->redis : w->ctx->cache;
}

char *
sl_worker_read_buffer(sl_worker *w, size_t *len)
{
    *len = sizeof w->rbuf;
    return w->rbuf;
}

void
sl_worker_add_session(sl_worker *w, sl_worker_link *s)
{
    s->next = &w->sessions;
    s->prev = w->sessions.prev;
    w->sessions.prev->next = s;
    w->sessions.prev = s;
}

void
sl_worker_remove_session(sl_worker *w, sl_worker_link *s)
{
    (void)w;
    s->prev->next = s->next;
    s->next->prev = s->prev;
    s->next = s->prev = s;
}
