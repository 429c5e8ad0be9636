/* proxy/listener.h: the listening socket, polled on the main loop. Each connection accepted
 * is counted as a client (context.h) and handed to the next worker in turn.
 * sl_listener_open() -> (the main loop runs) -> sl_listener_close() (stops accepting, closes
 * the socket and removes a Unix socket's file; called once, on the main loop). */
#ifndef SL_PROXY_LISTENER_H
#define SL_PROXY_LISTENER_H

#include <uv.h>

#include "base/error.h"
#include "proxy/addr.h"
#include "proxy/context.h"
#include "proxy/worker.h"

typedef struct sl_listener sl_listener;

SL_MUSTCHECK int sl_listener_open(sl_listener **out, uv_loop_t *loop, const sl_addr *a,
                                  sl_proxy_context *ctx, sl_worker **workers, int nworkers,
                                  sl_error *err);
/* Closes it (the memory goes when the loop has run the close). NULL is a no-op. */
void sl_listener_close(sl_listener *l);

#endif
