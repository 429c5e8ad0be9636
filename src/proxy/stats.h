/* proxy/stats.h: the counters of one running proxy, read by the admin console (admin.h) and
 * the Prometheus responder (metrics.h).
 * Counters: per-process atomics, bumped by the sessions of every loop thread. A client's own
 *            record (sl_stats_client) carries its row of SHOW CLIENTS and moves the global
 *            counters as it changes, so each event is counted in one place.
 * Latency:   a fixed-bucket histogram of the time from a request sent upstream to the
 *            ReadyForQuery that answers it. A session keeps the send times of its requests in
 *            flight in an sl_stats_inflight ring, numbered as the session numbers them.
 * Caches:    the stores whose counters SHOW STATS sums: the shared memory store or one Redis
 *            store per loop, attached when opened and detached before closed (a detached
 *            store's counters stay in the totals). Reading sums them under the lock.
 * Ownership: sl_stats_new() -> shared by every loop -> sl_stats_free() once no thread uses it
 *            (after the workers are joined). A client record belongs to its session:
 *            sl_stats_client_open() at accept, sl_stats_client_close() when the session is
 *            freed. Every function accepts a NULL stats or record and then does nothing (an
 *            embedded proxy keeps no statistics). */
#ifndef SL_PROXY_STATS_H
#define SL_PROXY_STATS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy/cache.h"

/* Upper bounds of the latency buckets, in microseconds (the last bucket is +Inf). */
#define SL_STATS_BUCKETS 16
extern const uint64_t sl_stats_bucket_us[SL_STATS_BUCKETS];

typedef struct {
    _Atomic uint64_t count[SL_STATS_BUCKETS + 1]; /* per bucket, not cumulative; last: +Inf */
    _Atomic uint64_t sum_us;
    _Atomic uint64_t n;
} sl_stats_histogram;

/* A plain copy, buckets cumulative (Prometheus' le= semantics). */
typedef struct {
    uint64_t cumulative[SL_STATS_BUCKETS + 1];
    uint64_t sum_us, n;
} sl_stats_histogram_counts;

void sl_stats_histogram_observe(sl_stats_histogram *h, uint64_t us);
void sl_stats_histogram_read(const sl_stats_histogram *h, sl_stats_histogram_counts *out);

typedef enum {
    SL_CLIENT_STARTUP,     /* reading the startup packets */
    SL_CLIENT_CONNECTING,  /* its server connection is being made */
    SL_CLIENT_ACTIVE,      /* a request is in flight */
    SL_CLIENT_IDLE,        /* ReadyForQuery 'I' */
    SL_CLIENT_IDLE_TX,     /* ReadyForQuery 'T' */
    SL_CLIENT_IDLE_FAILED, /* ReadyForQuery 'E' */
    SL_CLIENT_ADMIN,       /* talking to the admin console */
} sl_client_state;

const char *sl_client_state_name(sl_client_state st);

typedef struct sl_stats sl_stats;
typedef struct sl_stats_client sl_stats_client;

typedef enum {
    SL_QUERY_SIMPLE,    /* a Query message */
    SL_QUERY_EXTENDED,  /* an Execute message */
} sl_query_kind;

/* A snapshot of every counter for printing. */
typedef struct {
    int64_t clients, clients_total, servers, servers_total;
    uint64_t queries_simple, queries_extended;
    sl_cache_counts cache;
    int caches;  /* stores attached now (0: no cache) */
    sl_stats_histogram_counts latency;
} sl_stats_snapshot;

sl_stats *sl_stats_new(void);
void sl_stats_free(sl_stats *st);
void sl_stats_read(sl_stats *st, sl_stats_snapshot *out);

void sl_stats_cache_attach(sl_stats *st, sl_cache *c);
void sl_stats_cache_detach(sl_stats *st, sl_cache *c);
/* Calls fn for every attached store, under the lock (SIGHUP sets their TTLs). */
void sl_stats_cache_each(sl_stats *st, void (*fn)(sl_cache *c, void *arg), void *arg);

/* The databases clients have named, the admin console's aside (bounded: INVALIDATE ALL
 * reaches these); 0 or -1 when
 * more were named than kept. fn is called under the lock. */
int sl_stats_databases_each(sl_stats *st, void (*fn)(const char *db, void *arg), void *arg);

/* A client's record; address is what SHOW CLIENTS shows ("127.0.0.1:5000", "unix"). */
sl_stats_client *sl_stats_client_open(sl_stats *st, unsigned long long id, const char *address);
/* Its user and database; the database joins the list INVALIDATE ALL reaches unless the
 * record's state is already SL_CLIENT_ADMIN. */
void sl_stats_client_identify(sl_stats_client *c, const char *user, const char *database);
void sl_stats_client_state(sl_stats_client *c, sl_client_state state);
void sl_stats_client_query(sl_stats_client *c, sl_query_kind kind);
/* Its server connection opened (true) or closed (false; only after true). */
void sl_stats_client_server(sl_stats_client *c, bool up);
void sl_stats_client_close(sl_stats_client *c);

/* One row of SHOW CLIENTS, copied out under the lock. */
typedef struct {
    unsigned long long id;
    char address[64];
    char user[64];
    char database[64];
    sl_client_state state;
    int64_t since;       /* Unix time of the accept */
    uint64_t queries;
    bool server;         /* its server connection is open */
} sl_stats_client_row;

/* Copies every live client's row (an array the caller frees) into *rows; returns how many. */
size_t sl_stats_clients(sl_stats *st, sl_stats_client_row **rows);

/* The send times of a session's requests in flight: a ring indexed by request number.
 * A request older than the ring's size when answered, or answered by the proxy itself (a
 * cache hit), is not measured. */
enum { SL_STATS_INFLIGHT = 32 };
typedef struct {
    uint64_t number[SL_STATS_INFLIGHT];
    uint64_t sent_us[SL_STATS_INFLIGHT];
} sl_stats_inflight;

void sl_stats_request_sent(sl_stats_inflight *f, uint64_t number, uint64_t now_us);
/* The request `number` was answered by the server at now_us: into the histogram. */
void sl_stats_request_answered(sl_stats *st, sl_stats_inflight *f, uint64_t number,
                               uint64_t now_us);
/* A monotonic clock in microseconds. */
uint64_t sl_stats_now_us(void);

#endif
