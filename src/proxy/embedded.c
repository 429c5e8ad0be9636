/* proxy/embedded.c: the embedding API, include/sluice/proxy.h: the proxy on threads of its
 * own inside an application's process.
 * Threads: a control thread runs a loop holding the listener (when there is one), `ctl` (stop
 * requests) and `wake` (a client left during a drain: context.h); the workers relay as they do
 * in "sluice proxy". Every thread the proxy makes is created with all signals blocked, so the
 * application's handlers run on its own threads and a SIGPIPE raised by writing to a closed
 * socket stays pending on the proxy's thread instead of ending the process (the write gets
 * EPIPE).
 * States, guarded by mu and announced on cond: NEW -> RUNNING -> DRAINING -> DONE (RUNNING ->
 * DONE for an immediate stop). serve_fd counts its client under mu only while RUNNING with no
 * stop requested, so a drain either waits for that client or the client is refused: a drain
 * never ends with a client still being handed over. `closing` (under mu) is set before the
 * loop closes `ctl`, so a late stop never wakes a closed handle. */
#include "sluice/proxy.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/mem.h"
#include "pg/proto.h"
#include "proxy/context.h"
#include "proxy/listener.h"
#include "proxy/worker.h"

enum { MAX_THREADS = 1024 };

typedef enum state {
    ST_NEW,      /* configured, not started */
    ST_RUNNING,  /* accepting clients */
    ST_DRAINING, /* accepting none; waiting for the connected ones to leave */
    ST_DONE,     /* threads ended (or never started) */
} state;

struct sluice_proxy {
    sl_proxy_context ctx;
    int threads;
    bool listening;
    sl_addr listen;
    char sockdir[sizeof(((sl_addr *)0)->path)];
    bool own_dir;   /* sockdir was made by listen_unix: removed at free */
    int port;
    uv_loop_t loop;
    uv_async_t ctl, wake;
    uv_thread_t thread;
    bool thread_started;
    sl_listener *listener;  /* loop thread only once started */
    sl_worker **workers;
    int nworkers;
    bool stopped_all;       /* loop thread only */
    uv_mutex_t mu;          /* guards st, request, closing, next_worker */
    uv_cond_t cond;
    state st;
    int request;            /* 0, or 1 + the strongest sluice_proxy_stop_mode asked */
    bool closing;
    unsigned next_worker;
    sl_error err;
};

/* The oldest configuration this library reads: the first release's fields. */
#define CONFIG_V1_SIZE (offsetof(sluice_proxy_config, max_message_size) + sizeof(uint32_t))

static int
fail(sluice_proxy *p, const char *fmt, const char *arg)
{
    sl_error_set(&p->err, SL_E_USAGE, fmt, arg);
    return -1;
}

static void
set_state(sluice_proxy *p, state st)
{
    uv_mutex_lock(&p->mu);
    if (st > p->st)
        p->st = st;
    uv_cond_broadcast(&p->cond);
    uv_mutex_unlock(&p->mu);
}

static int
configure(sluice_proxy *p, const sluice_proxy_config *given)
{
    sluice_proxy_config cfg;
    memset(&cfg, 0, sizeof cfg);
    if (!given || given->size < CONFIG_V1_SIZE)
        return fail(p, "%s", "the configuration has no size: start it from "
                             "SLUICE_PROXY_CONFIG_INIT");
    memcpy(&cfg, given, given->size < sizeof cfg ? given->size : sizeof cfg);
    if (!cfg.upstream)
        return fail(p, "%s", "the configuration names no upstream server");
    /* An address never holds a password, a connection string may: such text is not shown. */
    if (strpbrk(cfg.upstream, "=@") || strstr(cfg.upstream, "://"))
        return fail(p, "%s", "the upstream looks like a connection string (not shown: it may "
                             "hold a password); expected HOST:PORT or a socket directory");
    if (sl_addr_parse(&p->ctx.upstream, cfg.upstream, 5432, "upstream", &p->err) != 0)
        return -1;
    if (cfg.threads < 0 || cfg.threads > MAX_THREADS)
        return fail(p, "%s", "threads must be 0 (one per core) to 1024");
    p->threads = cfg.threads ? cfg.threads : (int)uv_available_parallelism();
    if (cfg.max_message_size != 0 &&
        (cfg.max_message_size < 1024 || cfg.max_message_size > SL_PROTO_MESSAGE_MAX))
        return fail(p, "%s", "max_message_size must be 0 (1 GB) or 1024 to 1073741823 bytes");
    p->ctx.max_message = cfg.max_message_size ? cfg.max_message_size : SL_PROTO_MESSAGE_MAX;
    if (!cfg.tls_cert_file != !cfg.tls_key_file || (cfg.tls_ca_file && !cfg.tls_cert_file))
        return fail(p, "%s", "tls_cert_file and tls_key_file go together (and tls_ca_file "
                             "needs both)");
    sl_tls_files tls = {.cert_file = cfg.tls_cert_file, .key_file = cfg.tls_key_file,
                        .ca_file = cfg.tls_ca_file};
    if (tls.cert_file && sl_tls_config_load(&p->ctx.tls, &tls, &p->err) != 0)
        return -1;
    return 0;
}

int
sluice_proxy_new(sluice_proxy **out, const sluice_proxy_config *cfg)
{
    sluice_proxy *p = calloc(1, sizeof *p);
    *out = p;
    if (!p)
        return -1;
    sl_error_clear(&p->err);
    uv_mutex_init(&p->mu);
    uv_cond_init(&p->cond);
    p->ctx.cancels = sl_cancelmap_new();
    p->ctx.main_wake = &p->wake;
    if (configure(p, cfg) != 0) {
        p->st = ST_DONE;
        return -1;
    }
    return 0;
}

static int
make_private_dir(sluice_proxy *p)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || tmp[0] != '/')
        tmp = "/tmp";
    int n = snprintf(p->sockdir, sizeof p->sockdir, "%s/sluice-proxy-XXXXXX", tmp);
    if (n < 0 || (size_t)n >= sizeof p->sockdir)
        return fail(p, "cannot make a socket directory under \"%s\": the path is too long",
                    tmp);
    if (!mkdtemp(p->sockdir)) {
        sl_error_errno(&p->err, SL_E_IO, errno, "cannot make a socket directory under \"%s\"",
                       tmp);
        p->sockdir[0] = '\0';
        return -1;
    }
    p->own_dir = true;
    return 0;
}

int
sluice_proxy_listen_unix(sluice_proxy *p, const char *dir, int port)
{
    if (p->st != ST_NEW || p->listening)
        return fail(p, "%s", "listen_unix comes once, before start");
    if (port < 0 || port > 65535)
        return fail(p, "%s", "the port must be 0 (5432) to 65535");
    if (dir && dir[0] != '/')
        return fail(p, "the socket directory \"%s\" is not an absolute path", dir);
    if (dir && strlen(dir) >= sizeof p->sockdir)
        return fail(p, "the socket directory \"%s\" is too long", dir);
    if (dir)
        snprintf(p->sockdir, sizeof p->sockdir, "%s", dir);
    else if (make_private_dir(p) != 0)
        return -1;
    p->port = port ? port : 5432;
    char text[sizeof p->sockdir + 8];
    snprintf(text, sizeof text, "%s:%d", p->sockdir, p->port);
    if (sl_addr_parse(&p->listen, text, p->port, "socket directory", &p->err) != 0)
        return -1;
    p->listening = true;
    return 0;
}

const char *
sluice_proxy_socket_dir(const sluice_proxy *p)
{
    return p->listening ? p->sockdir : "";
}

int
sluice_proxy_port(const sluice_proxy *p)
{
    return p->listening ? p->port : 0;
}

/* Closes everything the loop holds; on the loop's thread, or before it ever ran. */
static void
stop_all(sluice_proxy *p)
{
    if (p->stopped_all)
        return;
    p->stopped_all = true;
    sl_listener_close(p->listener);
    p->listener = NULL;
    for (int i = 0; i < p->nworkers; i++)
        sl_worker_stop(p->workers[i]);
    for (int i = 0; i < p->nworkers; i++)
        sl_worker_join(p->workers[i]);  /* sessions close at once: no client is waited for */
    p->nworkers = 0;
    uv_mutex_lock(&p->mu);
    p->closing = true;
    uv_mutex_unlock(&p->mu);
    uv_close((uv_handle_t *)&p->ctl, NULL);
    uv_close((uv_handle_t *)&p->wake, NULL);
}

static void
on_wake(uv_async_t *a)
{
    sluice_proxy *p = a->data;
    if (atomic_load(&p->ctx.draining) && atomic_load(&p->ctx.clients) == 0)
        stop_all(p);
}

static void
on_ctl(uv_async_t *a)
{
    sluice_proxy *p = a->data;
    uv_mutex_lock(&p->mu);
    int request = p->request;
    uv_mutex_unlock(&p->mu);
    if (request == 1 + SLUICE_PROXY_IMMEDIATE) {
        stop_all(p);
        return;
    }
    if (request == 0 || atomic_exchange(&p->ctx.draining, true))
        return;
    sl_listener_close(p->listener);  /* unlinks the socket file now */
    p->listener = NULL;
    set_state(p, ST_DRAINING);
    on_wake(&p->wake);
}

static void
run(void *arg)
{
    sluice_proxy *p = arg;
    uv_run(&p->loop, UV_RUN_DEFAULT);  /* ends once stop_all's handles have closed */
    uv_loop_close(&p->loop);
    set_state(p, ST_DONE);
}

/* Everything but the control thread; on failure, what was made is undone. */
static int
open_loop(sluice_proxy *p)
{
    int rc = uv_loop_init(&p->loop);
    if (rc != 0) {
        sl_error_set(&p->err, SL_E_INTERNAL, "could not start an event loop: %s",
                     uv_strerror(rc));
        return -1;
    }
    uv_async_init(&p->loop, &p->ctl, on_ctl);
    uv_async_init(&p->loop, &p->wake, on_wake);
    p->ctl.data = p->wake.data = p;
    p->workers = sl_calloc((size_t)p->threads, sizeof *p->workers);
    for (; p->nworkers < p->threads; p->nworkers++)
        if (sl_worker_start(&p->workers[p->nworkers], &p->ctx, &p->err) != 0)
            goto fail;
    if (p->listening && sl_listener_open(&p->listener, &p->loop, &p->listen, &p->ctx,
                                         p->workers, p->nworkers, &p->err) != 0)
        goto fail;
    rc = uv_thread_create(&p->thread, run, p);
    if (rc == 0)
        return 0;
    sl_error_set(&p->err, SL_E_INTERNAL, "could not start the proxy's thread: %s",
                 uv_strerror(rc));
fail:
    stop_all(p);
    uv_run(&p->loop, UV_RUN_DEFAULT);
    uv_loop_close(&p->loop);
    return -1;
}

int
sluice_proxy_start(sluice_proxy *p)
{
    if (p->st != ST_NEW && sl_error_failed(&p->err))
        return -1;  /* refused at new (or a start failed): the message stays */
    if (p->st != ST_NEW)
        return fail(p, "%s", "the proxy was started already");
    sl_error_clear(&p->err);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);  /* inherited by every thread made below */
    int rc = open_loop(p);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        set_state(p, ST_DONE);
        return -1;
    }
    uv_mutex_lock(&p->mu);
    p->thread_started = true;
    uv_mutex_unlock(&p->mu);
    set_state(p, ST_RUNNING);
    return 0;
}

int
sluice_proxy_serve_fd(sluice_proxy *p, int fd)
{
    int domain = 0, type = 0;
    socklen_t len = sizeof domain;
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0)
        return -1;
    len = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM ||
        (domain != AF_UNIX && domain != AF_INET && domain != AF_INET6))
        return -1;
    int rc = -1;
    uv_mutex_lock(&p->mu);
    if (p->st == ST_RUNNING && p->request == 0) {
        atomic_fetch_add(&p->ctx.clients, 1);
        sl_worker_hand(p->workers[p->next_worker++ % (unsigned)p->nworkers], fd,
                       domain == AF_UNIX);
        rc = 0;
    }
    uv_mutex_unlock(&p->mu);
    return rc;
}

int
sluice_proxy_stop(sluice_proxy *p, sluice_proxy_stop_mode mode)
{
    state until = mode == SLUICE_PROXY_IMMEDIATE ? ST_DONE : ST_DRAINING;
    uv_mutex_lock(&p->mu);
    if (p->st == ST_NEW)
        p->st = ST_DONE;
    bool never_started = !p->thread_started;
    if ((int)mode + 1 > p->request)
        p->request = (int)mode + 1;
    if (!never_started && !p->closing)
        uv_async_send(&p->ctl);
    while (!never_started && p->st < until)
        uv_cond_wait(&p->cond, &p->mu);
    uv_mutex_unlock(&p->mu);
    return never_started ? -1 : 0;
}

void
sluice_proxy_wait(sluice_proxy *p)
{
    uv_mutex_lock(&p->mu);
    while (p->thread_started && p->st != ST_DONE)
        uv_cond_wait(&p->cond, &p->mu);
    uv_mutex_unlock(&p->mu);
}

int
sluice_proxy_clients(const sluice_proxy *p)
{
    return atomic_load(&p->ctx.clients);
}

const char *
sluice_proxy_error(const sluice_proxy *p)
{
    return p->err.message;
}

void
sluice_proxy_free(sluice_proxy *p)
{
    if (!p)
        return;
    if (p->thread_started) {
        (void)sluice_proxy_stop(p, SLUICE_PROXY_IMMEDIATE);
        uv_thread_join(&p->thread);
    }
    free(p->workers);
    if (p->own_dir)
        rmdir(p->sockdir);
    sl_cancelmap_free(p->ctx.cancels);
    sl_tls_config_free(p->ctx.tls);
    uv_cond_destroy(&p->cond);
    uv_mutex_destroy(&p->mu);
    free(p);
}
