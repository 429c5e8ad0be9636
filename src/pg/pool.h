/* pg/pool.h: a small pool of connections to one database, optionally sharing one snapshot.
 * Calling order: sl_pool_open() -> { sl_pool_acquire() -> work -> sl_pool_release() }* in any
 *   number of threads -> sl_pool_close() once every connection is released.
 * Connections: min connections are opened by _open(), more on demand up to max; _acquire()
 *   blocks while max are in use. Before a connection is handed out it is checked (still
 *   connected, and in the transaction state the mode expects); a broken one is reconnected.
 * Snapshot mode (backups): the first connection runs BEGIN ISOLATION LEVEL REPEATABLE READ,
 *   READ ONLY and exports its snapshot (pg_export_snapshot()); every other connection opens
 *   the same kind of transaction and imports it (SET TRANSACTION SNAPSHOT) when it is created,
 *   so all of them see the database as of one instant. Callers never end that transaction.
 *   With .import_snapshot the pool imports a snapshot exported elsewhere (e.g. by a
 *   replication slot) instead of exporting one. A connection that lost its snapshot
 *   transaction cannot be replaced without breaking consistency: from then on _acquire() fails
 *   with SL_E_SERVER naming the reason.
 * Cancel: sl_pool_cancel_all() (from any thread, e.g. when one worker failed) cancels the
 *   statement running on every acquired connection and makes every later or waiting
 *   _acquire() fail with SL_E_CANCELED.
 * Ownership: the pool owns its connections; an acquired sl_conn is lent to one thread until
 *   it is released. The pool keeps a copy of the conninfo. _close() accepts NULL.
 * Errors: -1 with *err set, 0 on success. */
#ifndef SL_PG_POOL_H
#define SL_PG_POOL_H

#include <stdbool.h>

#include "base/error.h"
#include "pg/conn.h"

typedef struct sl_pool sl_pool;

typedef struct sl_pool_opts {
    int min;                      /* connections opened by sl_pool_open(); <1 means 1 */
    int max;                      /* at most this many at once; < min means min */
    bool snapshot;                /* share one repeatable-read snapshot (see above) */
    const char *import_snapshot;  /* snapshot mode: import this id instead of exporting one */
} sl_pool_opts;
#define SL_POOL_OPTS(...) (&(sl_pool_opts){__VA_ARGS__})

SL_MUSTCHECK int sl_pool_open(sl_pool **out, const sl_conninfo *ci, const sl_conn_opts *conn_opts,
                              const sl_pool_opts *opts, sl_error *err);
/* Lends a healthy connection, waiting while all max are in use. */
SL_MUSTCHECK int sl_pool_acquire(sl_pool *p, sl_conn **out, sl_error *err);
/* Gives a connection back (NULL is ignored). */
void sl_pool_release(sl_pool *p, sl_conn *c);
/* The shared snapshot id ("00000003-0000001B-1"), or NULL outside snapshot mode. */
const char *sl_pool_snapshot(const sl_pool *p);
void sl_pool_cancel_all(sl_pool *p);
/* Closes every connection (ending the snapshot transactions). */
void sl_pool_close(sl_pool *p);

#endif
