/* proxy/cancelmap.h: the keys the proxy gives its clients in BackendKeyData, each mapped to
 * the (pid, secret) of the server connection behind that client. One map is shared by every
 * event-loop thread (a CancelRequest arrives on a new connection, on any loop), so every call
 * takes its mutex. Keys: pid a counter unique in the process, secret random (getrandom), so a
 * client cannot cancel another's query by guessing. */
#ifndef SL_PROXY_CANCELMAP_H
#define SL_PROXY_CANCELMAP_H

#include <stdbool.h>
#include <stdint.h>

typedef struct sl_cancelmap sl_cancelmap;

typedef struct sl_cancel_key {
    int32_t pid;
    int32_t secret;
} sl_cancel_key;

sl_cancelmap *sl_cancelmap_new(void);
void sl_cancelmap_free(sl_cancelmap *m);
/* Makes a new client key for server's key and returns it. */
sl_cancel_key sl_cancelmap_add(sl_cancelmap *m, sl_cancel_key server);
/* The server key behind client (pid and secret must both match): true and *server set. */
bool sl_cancelmap_lookup(sl_cancelmap *m, sl_cancel_key client, sl_cancel_key *server);
void sl_cancelmap_remove(sl_cancelmap *m, int32_t client_pid);
unsigned sl_cancelmap_count(sl_cancelmap *m);

#endif
