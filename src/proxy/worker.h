/* proxy/worker.h: one event-loop thread. The listener hands it accepted descriptors
 * (sl_worker_hand, from any thread); it makes a session of each on its own loop and every
 * callback of those sessions runs on that thread only. sl_worker_stop() (any thread) closes
 * its sessions at once and lets the loop end; sl_worker_join() waits for that and frees it.
 * Calling order: sl_worker_start -> sl_worker_hand* -> sl_worker_stop -> sl_worker_join. */
#ifndef SL_PROXY_WORKER_H
#define SL_PROXY_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "base/error.h"
#include "proxy/context.h"

typedef struct sl_worker sl_worker;

/* A session's place in its worker's list: the first member of struct sl_session. */
typedef struct sl_worker_link {
    struct sl_worker_link *prev, *next;
} sl_worker_link;

SL_MUSTCHECK int sl_worker_start(sl_worker **out, sl_proxy_context *ctx, sl_error *err);
/* Takes ownership of fd, an accepted client connection (Unix socket or TCP). */
void sl_worker_hand(sl_worker *w, int fd, bool is_unix);
void sl_worker_stop(sl_worker *w);
void sl_worker_join(sl_worker *w);

/* For sessions, on the worker's thread: */
uv_loop_t *sl_worker_loop(sl_worker *w);
sl_proxy_context *sl_worker_context(sl_worker *w);
/* The cache the loop's sessions ask: the shared memory store, the loop's Redis store, or
 * NULL. */
sl_cache *sl_worker_cache(sl_worker *w);
/* The one read buffer of the loop: a read callback consumes it before returning. */
char *sl_worker_read_buffer(sl_worker *w, size_t *len);
/* The list the worker closes at stop: a session joins when opened, leaves when freed. */
void sl_worker_add_session(sl_worker *w, sl_worker_link *s);
void sl_worker_remove_session(sl_worker *w, sl_worker_link *s);

#endif
