/* proxy/session.h: one client connection and the server connection made for it, relayed
 * message by message on one worker's loop (design note at the top of session.c). */
#ifndef SL_PROXY_SESSION_H
#define SL_PROXY_SESSION_H

#include <stdbool.h>

#include "proxy/worker.h"

typedef struct sl_session sl_session;

/* Starts a session for an accepted descriptor (owned by the session from then on). The
 * session frees itself when both its connections are closed. */
void sl_session_open(sl_worker *w, int fd, bool is_unix);
/* Closes both connections now, whatever is queued (SIGINT, worker stop). */
void sl_session_abort(sl_session *s);

#endif
