/* proxy/canceler.h: forwards one CancelRequest to the server: connect, send the 16 bytes with
 * the server's own key, close. Fire and forget, as libpq's PQcancel: the server answers
 * nothing, and a failure is only logged. Owns its memory; runs on the caller's loop. */
#ifndef SL_PROXY_CANCELER_H
#define SL_PROXY_CANCELER_H

#include <uv.h>

#include "proxy/addr.h"
#include "proxy/cancelmap.h"

void sl_canceler_send(uv_loop_t *loop, const sl_addr *server, sl_cancel_key key);

#endif
