/* proxy/redisstore.h: the cache store (sl_cache, cache.h) in a Redis that several proxy
 * instances share, through hiredis's asynchronous API on one libuv loop (one store per loop).
 *
 * Keys (all under pgproxy's prefix, so that one Redis serves both without collision):
 *   PGPROXY:<suffix>:<hash>           an entry: "SLC1" then the entry (cache.h), SET with EX
 *   PGPROXY:tables:<n>:<db>           the set of entry keys of database db (n = its length)
 *   PGPROXY:tables:<n>:<db>:<table>   the set of entry keys that read the table
 *   PGPROXY:gen:<n>:<db>[:<table>]    the tag's generation: a random token, replaced by every
 *                                     invalidation; absent until the first one. No TTL.
 * Every operation is one Lua script, so Redis runs it atomically (loaded with SCRIPT LOAD at
 * each connection and called with EVALSHA; a NOSCRIPT answer, after a SCRIPT FLUSH, makes the
 * store reconnect and load them again). Needs Redis 5 or later (scripts replicated by effect)
 * and a standalone server or a primary (not Redis Cluster: a script's keys span slots):
 *   get:        GET the entry; on a miss, read the generation of each tag (the ticket)
 *   put:        if every tag's generation still equals the ticket's, SET the entry EX ttl and
 *               SADD its key to each tag's set (the set's TTL raised to at least the entry's;
 *               two random members of each set are checked and removed if expired, so sets of
 *               hot tables do not grow without bound); otherwise store nothing
 *   invalidate: set the tag's generation to a new random token, DEL every member of its set,
 *               DEL the set
 * What this guarantees (with the session's order of cache.h, "Freshness"): scripts are
 * totally ordered in Redis. An invalidation ordered before a miss's get was issued after the
 * write committed, so the statement (sent upstream after the get's answer) sees the write. An
 * invalidation between the get and the put changes a generation: the put stores nothing. An
 * invalidation after the put finds the key in the set and deletes it. So no entry that an
 * invalidation should have dropped survives it, in any instance sharing the Redis. Limits:
 * - writes that bypass every proxy are bounded only by the TTL;
 * - an invalidation that cannot reach Redis (down, timed out) is kept and sent again as soon
 *   as the store is connected again, before it serves anything. Until then, other proxies
 *   that still reach Redis may serve the entries it should drop. Kept invalidations are
 *   deduplicated; past 1024, a database's kept tables become one invalidation of the whole
 *   database (more is dropped, never less); past 1024 databases a warning says their entries
 *   may stay stale until their TTL;
 * - Redis must not evict generation keys: use maxmemory-policy noeviction or volatile-* (the
 *   generations have no TTL; entries do). An evicted generation could let a racing put in.
 * Timeouts: every command has a deadline (timeout_ms); the first one missed, a refused login,
 * or a dropped connection frees the connection and answers every pending get as a miss. While
 * not connected, get() answers a miss at once and put() stores nothing. Reconnection waits
 * backoff_min_ms, doubling up to backoff_max_ms. One warning per outage, one info line when
 * Redis is back; messages name host:port/db, never the password.
 * Connecting resolves a host name with a blocking lookup (hiredis 0.14): give an address for
 * a proxy whose loop must never block. A refused connection is noticed at the deadline, not
 * at once: hiredis 0.14's libuv adapter ignores a poll error, so the connect never completes.
 * Calling order: sl_redisstore_open() on the loop's thread -> sl_redisstore_cache() used on that
 * thread only -> sl_cache_close(), after which the loop must run until its handles are closed
 * (uv_run() returns); the store frees itself then. */
#ifndef SL_PROXY_REDISSTORE_H
#define SL_PROXY_REDISSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/error.h"
#include "proxy/cache.h"

/* redis://[user:pass@]host[:port][/db]; user and password percent-decoded. */
typedef struct {
    char *host;
    int port;       /* 6379 when not given */
    char *user;     /* NULL: AUTH with the password only */
    char *password; /* NULL: no AUTH */
    int db;         /* SELECTed when not 0 */
} sl_redis_url;

/* -1 with *err (SL_E_USAGE) naming what is wrong; the message never holds the URL. */
SL_MUSTCHECK int sl_redis_url_parse(const char *url, sl_redis_url *out, sl_error *err);
void sl_redis_url_free(sl_redis_url *u);

typedef struct {
    const char *url;
    const char *user;      /* when not NULL, replaces the URL's (PGPROXY_CACHE_USERNAME) */
    const char *password;  /* when not NULL, replaces the URL's (PGPROXY_CACHE_PASSWORD) */
    uint32_t ttl_s;
    uint32_t jitter_s;
    int timeout_ms;        /* of every command; 0: 1000 */
    int backoff_min_ms;    /* 0: 100 */
    int backoff_max_ms;    /* 0: 5000 */
    size_t max_entry_bytes; /* larger entries are not stored; 0: 64 MiB */
} sl_redisstore_opts;

typedef struct sl_redisstore sl_redisstore;

/* Starts connecting; -1 only for a bad URL or option (the server being down is not an error:
 * the store serves misses until it comes). */
SL_MUSTCHECK int sl_redisstore_open(sl_redisstore **out, uv_loop_t *loop,
                                    const sl_redisstore_opts *opts, sl_error *err);
sl_cache *sl_redisstore_cache(sl_redisstore *r);
/* Connected, logged in, and the invalidations kept during an outage sent. */
bool sl_redisstore_ready(sl_redisstore *r);
/* Calls cb once every command issued before has been answered or failed (ok false if the
 * store is not connected or the barrier itself failed). */
void sl_redisstore_barrier(sl_redisstore *r, void (*cb)(void *arg, bool ok), void *arg);

#endif
