/* pg/pool.c: connections to one database, lent to worker threads.
 *
 * States: every slot of the fixed array (max long) is EMPTY (no connection), IDLE (a
 * connection waiting in the pool) or BUSY (lent out, or being opened or checked by the thread
 * that claimed it). One mutex guards the slots; the condition variable is signalled whenever a
 * slot becomes IDLE or EMPTY, or the pool is canceled or poisoned.
 * Invariants: connecting, checking and closing happen outside the mutex, on a slot the thread
 * has marked BUSY, so a slow server never blocks other threads' release(). A connection is
 * detached from its slot under the mutex before it is closed, so cancel_all() (which calls
 * PQcancel under the mutex) never touches a freed connection.
 * Snapshot mode: slot 0's connection exports the snapshot at open time; its transaction must
 * stay open for imports to work, and every connection's transaction holds the snapshot. A
 * connection found outside its transaction poisons the pool: a replacement would see a
 * different database state. */
#include "pg/pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"

typedef enum {
    SLOT_EMPTY,  /* no connection */
    SLOT_IDLE,   /* connected, waiting in the pool */
    SLOT_BUSY,   /* owned by one thread: lent out, or being opened/checked */
} slot_state;

typedef struct slot {
    slot_state state;
    sl_conn *conn;  /* NULL while EMPTY, and while BUSY being opened */
} slot;

struct sl_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sl_conninfo *ci;
    sl_conn_opts conn_opts;  /* strings owned by the pool (copied in open) */
    bool snapshot_mode;
    char *snapshot;
    slot *slots;
    int nslots;
    bool canceled;
    bool poisoned;
    sl_error poison;  /* why acquire() fails from now on */
};

static char *
dup_or_null(const char *s)
{
    return s ? sl_strdup(s) : NULL;
}

static void
free_opts(sl_conn_opts *o)
{
    free((char *)o->app_name);
    free((char *)o->work_mem);
    free((char *)o->maintenance_work_mem);
    free((char *)o->lock_timeout);
}

/* Opens one connection and, in snapshot mode, its transaction: exporting the snapshot when
 * the pool has none yet, importing it otherwise. */
static int
open_conn(sl_pool *p, sl_conn **out, sl_error *err)
{
    sl_conn *c = NULL;
    PGresult *res = NULL;
    char *lit = NULL;
    char *sql = NULL;
    int rc = -1;
    if (sl_conn_open(&c, p->ci, &p->conn_opts, err) != 0)
        goto done;
    if (p->snapshot_mode) {
        /* A worker's connection idles in its transaction while others work: a server-wide
         * idle_in_transaction_session_timeout must not end it (and lose the snapshot). */
        if (sl_conn_exec(c, "SET idle_in_transaction_session_timeout = 0", err) != 0 ||
            sl_conn_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", err) != 0)
            goto done;
        if (!p->snapshot) {
            /* qualified: the database's search_path could name a look-alike function first */
            if (sl_conn_query(c, &res, "SELECT pg_catalog.pg_export_snapshot()", 0, NULL,
                              err) != 0) {
                sl_error_prefix(err, "could not export a snapshot on %s", sl_conn_describe(c));
                goto done;
            }
            p->snapshot = sl_strdup(PQgetvalue(res, 0, 0));  /* only open() gets here */
            SL_DEBUG("exported snapshot %s", p->snapshot);
        } else {
            lit = sl_conn_quote_literal(c, p->snapshot);
            if (!lit) {
                sl_error_set(err, SL_E_USAGE, "invalid snapshot id");
                goto done;
            }
            sql = sl_asprintf("SET TRANSACTION SNAPSHOT %s", lit);
            if (sl_conn_exec(c, sql, err) != 0) {
                sl_error_prefix(err, "could not import snapshot %s on %s", p->snapshot,
                                sl_conn_describe(c));
                goto done;
            }
        }
    }
    *out = c;
    c = NULL;
    rc = 0;
done:
    PQclear(res);
    free(lit);
    free(sql);
    sl_conn_close(c);
    return rc;
}

/* NULL when the connection can be lent again, else why not. */
static const char *
unhealthy(const sl_pool *p, sl_conn *c)
{
    PGconn *pg = sl_conn_pg(c);
    /* Reads whatever the server sent meanwhile (a FATAL at shutdown, an EOF), without
     * blocking, so PQstatus() reflects a server that went away while the connection idled. */
    if (!PQconsumeInput(pg) || PQstatus(pg) != CONNECTION_OK)
        return "connection lost";
    switch (PQtransactionStatus(pg)) {
    case PQTRANS_IDLE:
        return p->snapshot_mode ? "transaction ended" : NULL;
    case PQTRANS_INTRANS:
        return p->snapshot_mode ? NULL : "left inside a transaction";
    case PQTRANS_INERROR:
        return "transaction failed";
    case PQTRANS_ACTIVE:
        return "a statement is still running";
    case PQTRANS_UNKNOWN:
        break;
    }
    return "connection lost";
}

int
sl_pool_open(sl_pool **out, const sl_conninfo *ci, const sl_conn_opts *conn_opts,
             const sl_pool_opts *opts, sl_error *err)
{
    static const sl_pool_opts defaults = {.min = 1, .max = 1};
    static const sl_conn_opts no_conn_opts = {.connect_retries = 0};
    opts = opts ? opts : &defaults;
    conn_opts = conn_opts ? conn_opts : &no_conn_opts;
    int min = opts->min < 1 ? 1 : opts->min;
    int max = opts->max < min ? min : opts->max;

    sl_pool *p = sl_calloc(1, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->ci = sl_conninfo_with_dbname(ci, NULL);
    p->conn_opts = *conn_opts;
    p->conn_opts.app_name = dup_or_null(conn_opts->app_name);
    p->conn_opts.work_mem = dup_or_null(conn_opts->work_mem);
    p->conn_opts.maintenance_work_mem = dup_or_null(conn_opts->maintenance_work_mem);
    p->conn_opts.lock_timeout = dup_or_null(conn_opts->lock_timeout);
    p->snapshot_mode = opts->snapshot;
    p->snapshot = opts->snapshot ? dup_or_null(opts->import_snapshot) : NULL;
    p->nslots = max;
    p->slots = sl_calloc((size_t)max, sizeof *p->slots);
    /* No other thread sees the pool yet: the slots are filled without the lock. */
    for (int i = 0; i < min; i++) {
        if (open_conn(p, &p->slots[i].conn, err) != 0) {
            sl_pool_close(p);
            return -1;
        }
        p->slots[i].state = SLOT_IDLE;
    }
    *out = p;
    return 0;
}

static int
stopped(sl_pool *p, sl_error *err)
{
    if (p->canceled) {
        sl_error_set(err, SL_E_CANCELED, "canceled: another worker failed");
        return -1;
    }
    if (p->poisoned) {
        *err = p->poison;
        return -1;
    }
    return 0;
}

/* Called with the lock held on a slot this thread marked BUSY: empties it and wakes a waiter.
 * Returns the detached connection for the caller to close outside the lock. */
static sl_conn *
vacate(sl_pool *p, slot *s)
{
    sl_conn *c = s->conn;
    s->conn = NULL;
    s->state = SLOT_EMPTY;
    pthread_cond_signal(&p->cv);
    return c;
}

/* Checks an idle connection this thread just claimed; replaces it if it is broken and the
 * mode allows. Called without the lock. */
static int
check_claimed(sl_pool *p, slot *s, sl_error *err)
{
    const char *why = unhealthy(p, s->conn);
    if (!why)
        return 0;
    if (p->snapshot_mode) {
        pthread_mutex_lock(&p->mu);
        sl_error_set(err, SL_E_SERVER,
                     "connection %s lost the transaction holding snapshot %s (%s): a new "
                     "connection would not see the same data, so the work cannot go on",
                     sl_conn_describe(s->conn), p->snapshot, why);
        if (!p->poisoned) {
            p->poison = *err;
            p->poisoned = true;
        }
        sl_conn *gone = vacate(p, s);
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        sl_conn_close(gone);
        return -1;
    }
    sl_log(SL_LOG_WARN, "reconnecting: connection %s was not reusable (%s)",
           sl_conn_describe(s->conn), why);
    pthread_mutex_lock(&p->mu);
    sl_conn *gone = s->conn;
    s->conn = NULL;  /* still BUSY: this thread reopens it */
    pthread_mutex_unlock(&p->mu);
    sl_conn_close(gone);
    return -2;
}

int
sl_pool_acquire(sl_pool *p, sl_conn **out, sl_error *err)
{
    pthread_mutex_lock(&p->mu);
    for (;;) {
        if (stopped(p, err) != 0) {
            pthread_mutex_unlock(&p->mu);
            return -1;
        }
        slot *idle = NULL, *empty = NULL;
        for (int i = 0; i < p->nslots && !idle; i++) {
            if (p->slots[i].state == SLOT_IDLE)
                idle = &p->slots[i];
            else if (p->slots[i].state == SLOT_EMPTY && !empty)
                empty = &p->slots[i];
        }
        slot *s = idle ? idle : empty;
        if (!s) {
            pthread_cond_wait(&p->cv, &p->mu);
            continue;
        }
        s->state = SLOT_BUSY;
        pthread_mutex_unlock(&p->mu);
        if (s->conn) {
            int rc = check_claimed(p, s, err);
            if (rc == -1)
                return -1;
            if (rc == 0) {
                *out = s->conn;
                return 0;
            }
        }
        /* an empty slot, or a broken connection outside snapshot mode: open a new one */
        sl_conn *c = NULL;
        int rc = open_conn(p, &c, err);
        pthread_mutex_lock(&p->mu);
        if (rc != 0) {
            vacate(p, s);
            pthread_mutex_unlock(&p->mu);
            return -1;
        }
        if (p->canceled) {  /* canceled while connecting: lend nothing */
            vacate(p, s);
            stopped(p, err);
            pthread_mutex_unlock(&p->mu);
            sl_conn_close(c);
            return -1;
        }
        s->conn = c;
        pthread_mutex_unlock(&p->mu);
        *out = c;
        return 0;
    }
}

void
sl_pool_release(sl_pool *p, sl_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < p->nslots; i++) {
        if (p->slots[i].conn == c && p->slots[i].state == SLOT_BUSY) {
            p->slots[i].state = SLOT_IDLE;
            pthread_cond_signal(&p->cv);
            break;
        }
    }
    pthread_mutex_unlock(&p->mu);
}

const char *
sl_pool_snapshot(const sl_pool *p)
{
    return p->snapshot_mode ? p->snapshot : NULL;
}

void
sl_pool_cancel_all(sl_pool *p)
{
    pthread_mutex_lock(&p->mu);
    if (!p->canceled) {
        p->canceled = true;
        for (int i = 0; i < p->nslots; i++)
            if (p->slots[i].state == SLOT_BUSY && p->slots[i].conn)
                sl_conn_cancel(p->slots[i].conn);
    }
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void
sl_pool_close(sl_pool *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->nslots; i++)
        sl_conn_close(p->slots[i].conn);
    free(p->slots);
    free(p->snapshot);
    free_opts(&p->conn_opts);
    sl_conninfo_free(p->ci);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
