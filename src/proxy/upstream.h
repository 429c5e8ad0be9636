/* proxy/upstream.h: a stream handle that is TCP or a Unix socket, and opening one to the
 * server: what a session does for each client and what a forwarded CancelRequest does. */
#ifndef SL_PROXY_UPSTREAM_H
#define SL_PROXY_UPSTREAM_H

#include <uv.h>

#include "proxy/addr.h"

typedef union sl_stream {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
} sl_stream;

/* Initialises st on loop and starts connecting it to a; cb gets the outcome. On a non-zero
 * return (a libuv error code) st is initialised all the same and must be closed. */
int sl_upstream_connect(uv_loop_t *loop, const sl_addr *a, sl_stream *st, uv_connect_t *req,
                        uv_connect_cb cb);
/* Wraps an accepted descriptor (owned by st from then on). 0 or a libuv error code; st is
 * initialised either way. */
int sl_upstream_open_fd(uv_loop_t *loop, int fd, bool is_unix, sl_stream *st);

#endif
