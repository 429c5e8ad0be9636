/* proxy/upstream.c: TCP or Unix stream handles (see upstream.h). TCP_NODELAY on both sides:
 * the protocol is request/response and a delayed small message is a delayed query. */
#include "proxy/upstream.h"

#include <unistd.h>

int
sl_upstream_connect(uv_loop_t *loop, const sl_addr *a, sl_stream *st, uv_connect_t *req,
                    uv_connect_cb cb)
{
    if (a->is_unix) {
        uv_pipe_init(loop, &st->pipe, 0);
        uv_pipe_connect(req, &st->pipe, a->path, cb);  /* reports failure through cb */
        return 0;
    }
    uv_tcp_init(loop, &st->tcp);
    uv_tcp_nodelay(&st->tcp, 1);
    return uv_tcp_connect(req, &st->tcp, (const struct sockaddr *)&a->ss, cb);
}

int
sl_upstream_open_fd(uv_loop_t *loop, int fd, bool is_unix, sl_stream *st)
{
    int rc;
    if (is_unix) {
        uv_pipe_init(loop, &st->pipe, 0);
        rc = uv_pipe_open(&st->pipe, fd);
    } else {
        uv_tcp_init(loop, &st->tcp);
        rc = uv_tcp_open(&st->tcp, fd);
        if (rc == 0)
            uv_tcp_nodelay(&st->tcp, 1);
    }
    if (rc != 0)
        close(fd);
    return rc;
}
