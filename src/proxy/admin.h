/* proxy/admin.h: the admin console: when admin users are configured, a client whose startup
 * packet names the database "sluice" is answered by the proxy itself, with no server
 * connection (without them, such a client reaches the server's database of that name).
 * Who:      the user named in the startup packet must be in --admin-users, and the
 *           connection must come over the proxy's Unix socket from a process of the proxy's
 *           own OS user (or root: SO_PEERCRED), or over TCP from a loopback address. No
 *           password is asked: the rule is the peer's place, so on a host shared with users
 *           who must not run the console, listen on a Unix socket only. Anyone else gets a
 *           FATAL 28000 that says which condition failed and the connection closes.
 * Protocol: after AuthenticationOk, a few ParameterStatus and ReadyForQuery, the simple query
 *           protocol: one command per Query (SHOW STATS|CACHE|CLIENTS|SERVERS|VERSION|HELP,
 *           INVALIDATE ALL|DATABASE name|[schema.]table, RELOAD), answered with
 *           RowDescription, DataRows (text), CommandComplete and ReadyForQuery 'I', as
 *           pgbouncer's console does. An unknown command is an ErrorResponse (42601) and the
 *           session stays; an extended-protocol message is an ErrorResponse (0A000) once, and
 *           what follows is skipped until Sync, as the server does after an error.
 * Threads:  a console runs on its session's loop; it reads the shared counters (stats.h) and
 *           invalidates through the loop's cache, so an invalidation reaches a Redis store and
 *           through it every proxy sharing it.
 * Calling order: sl_admin_open() -> sl_framer_feed() with sl_admin_framer_ops() and the
 *           console as ctx, for every byte the client sends -> sl_admin_free(). */
#ifndef SL_PROXY_ADMIN_H
#define SL_PROXY_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "proxy/cache.h"
#include "proxy/context.h"
#include "proxy/framer.h"

#define SL_ADMIN_DATABASE "sluice"

typedef struct sl_admin sl_admin;

/* The peer of an accepted descriptor: what SHOW CLIENTS shows ("127.0.0.1:5000", "unix"),
 * and whether the console may take it (see "Who"). */
void sl_admin_peer(int fd, bool is_unix, char *address, size_t cap, bool *local);

/* Appends the greeting to out and returns the console; or, for a refused client, appends a
 * FATAL ErrorResponse and returns NULL (the caller closes once it is written). cache is the
 * loop's (NULL: no cache). */
sl_admin *sl_admin_open(sl_proxy_context *ctx, sl_cache *cache, const char *user, bool local,
                        sl_buf *out);
const sl_framer_ops *sl_admin_framer_ops(void);
/* The client sent Terminate. */
bool sl_admin_done(const sl_admin *a);
void sl_admin_free(sl_admin *a);  /* accepts NULL */

/* The answer to one command (the Query's text), for tests: appended to out. */
void sl_admin_command(sl_admin *a, const char *sql, sl_buf *out);

#endif
