/* proxy/canceler.c: one forwarded CancelRequest (see canceler.h). */
#include "proxy/canceler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "pg/proto.h"
#include "proxy/upstream.h"

typedef struct cancel_req {
    sl_stream st;
    uv_connect_t connect;
    uv_write_t write;
    char packet[16];
    char shown[300];
} cancel_req;

static void
closed(uv_handle_t *h)
{
    free(h->data);
}

static void
written(uv_write_t *w, int status)
{
    cancel_req *c = w->data;
    if (status < 0)
        SL_WARN("could not forward a cancel request to %s: %s", c->shown, uv_strerror(status));
    uv_close(&c->st.handle, closed);
}

static void
connected(uv_connect_t *req, int status)
{
    cancel_req *c = req->data;
    if (status < 0) {
        SL_WARN("could not forward a cancel request to %s: %s", c->shown, uv_strerror(status));
        uv_close(&c->st.handle, closed);
        return;
    }
    uv_buf_t b = uv_buf_init(c->packet, sizeof c->packet);
    c->write.data = c;
    int rc = uv_write(&c->write, &c->st.stream, &b, 1, written);
    if (rc != 0)
        written(&c->write, rc);
}

void
sl_canceler_send(uv_loop_t *loop, const sl_addr *server, sl_cancel_key key)
{
    cancel_req *c = sl_calloc(1, sizeof *c);
    sl_buf b = SL_BUF_INIT;
    sl_proto_write_cancel(&b, key.pid, key.secret);
    memcpy(c->packet, b.data, sizeof c->packet);
    sl_buf_free(&b);
    snprintf(c->shown, sizeof c->shown, "%s", server->shown);
    c->connect.data = c;
    int rc = sl_upstream_connect(loop, server, &c->st, &c->connect, connected);
    c->st.handle.data = c;
    if (rc != 0) {
        SL_WARN("could not forward a cancel request to %s: %s", c->shown, uv_strerror(rc));
        uv_close(&c->st.handle, closed);
    }
}
