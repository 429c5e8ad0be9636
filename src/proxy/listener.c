/* proxy/listener.c: accept(2) on a non-blocking socket watched by uv_poll (see listener.h).
 * Plain descriptors, not libuv streams, because a libuv handle belongs to one loop and the
 * connection is served on another. */
#include "proxy/listener.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"

struct sl_listener {
    uv_poll_t poll;
    int fd;
    bool is_unix;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    sl_proxy_context *ctx;
    sl_worker **workers;
    int nworkers;
    int next;
};

static void
on_readable(uv_poll_t *p, int status, int events)
{
    (void)events;
    sl_listener *l = p->data;
    if (status < 0)
        return;
    for (;;) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                errno != ECONNABORTED)
                SL_WARN("could not accept a connection: %s", strerror(errno));
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return;
        }
        atomic_fetch_add(&l->ctx->clients, 1);
        sl_worker_hand(l->workers[l->next], fd, l->is_unix);
        l->next = (l->next + 1) % l->nworkers;
    }
}

/* A Unix socket file left by a proxy that died is removed; one that answers is in use. */
static int
clear_stale_socket(const char *path, sl_error *err)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return 0;
    if (!S_ISSOCK(st.st_mode)) {
        sl_error_set(err, SL_E_USAGE, "cannot listen on \"%s\": it exists and is not a socket",
                     path);
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    close(fd);
    if (rc == 0) {
        sl_error_set(err, SL_E_USAGE, "cannot listen on \"%s\": another server listens there",
                     path);
        return -1;
    }
    unlink(path);
    return 0;
}

static int
bind_listen(sl_listener *l, const sl_addr *a, sl_error *err)
{
    int family = a->is_unix ? AF_UNIX : a->ss.ss_family;
    l->fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (l->fd < 0) {
        sl_error_errno(err, SL_E_IO, errno, "cannot listen on %s", a->shown);
        return -1;
    }
    int rc;
    if (a->is_unix) {
        if (clear_stale_socket(a->path, err) != 0)
            return -1;
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", a->path);
        rc = bind(l->fd, (struct sockaddr *)&sa, sizeof sa);
        if (rc == 0) {
            snprintf(l->path, sizeof l->path, "%s", a->path);
            chmod(a->path, 0777);  /* like the server's default unix_socket_permissions */
        }
    } else {
        int one = 1;
        setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        rc = bind(l->fd, (const struct sockaddr *)&a->ss, a->ss_len);
    }
    if (rc != 0 || listen(l->fd, 511) != 0) {
        sl_error_errno(err, SL_E_IO, errno, "cannot listen on %s", a->shown);
        return -1;
    }
    return 0;
}

int
sl_listener_open(sl_listener **out, uv_loop_t *loop, const sl_addr *a, sl_proxy_context *ctx,
                 sl_worker **workers, int nworkers, sl_error *err)
{
    sl_listener *l = sl_calloc(1, sizeof *l);
    l->fd = -1;
    l->is_unix = a->is_unix;
    l->ctx = ctx;
    l->workers = workers;
    l->nworkers = nworkers;
    if (bind_listen(l, a, err) != 0) {
        if (l->fd >= 0)
            close(l->fd);
        free(l);
        return -1;
    }
    uv_poll_init(loop, &l->poll, l->fd);
    l->poll.data = l;
    uv_poll_start(&l->poll, UV_READABLE, on_readable);
    *out = l;
    return 0;
}

static void
on_closed(uv_handle_t *h)
{
    sl_listener *l = h->data;
    close(l->fd);
    free(l);
}

void
sl_listener_close(sl_listener *l)
{
    if (!l)
        return;
    if (l->path[0])
        unlink(l->path);
    uv_close((uv_handle_t *)&l->poll, on_closed);
}
