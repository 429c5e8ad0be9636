/* proxy/stats.c: counters, the latency histogram, the client list (see stats.h). The client
 * list and the attached stores are guarded by one mutex: it is taken at accept, at close and
 * by readers, never on a query's path (queries and states are atomics of the record). */
#include "proxy/stats.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/mem.h"

enum { MAX_CACHES = 1024, MAX_DATABASES = 4096 };

const uint64_t sl_stats_bucket_us[SL_STATS_BUCKETS] = {
    100,     250,     500,     1000,     2500,     5000,     10000,    25000,
    50000,   100000,  250000,  500000,   1000000,  2500000,  5000000,  10000000,
};

struct sl_stats_client {
    sl_stats_client *prev, *next;
    sl_stats *st;
    unsigned long long id;
    char address[64];
    char user[64];
    char database[64];
    int64_t since;
    _Atomic int state;
    _Atomic uint64_t queries;
    bool server;
};

struct sl_stats {
    pthread_mutex_t lock;     /* guards clients, caches, retired, databases */
    sl_stats_client clients;  /* a ring: clients.next is the oldest */
    _Atomic int64_t nclients, clients_total, servers, servers_total;
    _Atomic uint64_t queries[2];
    sl_stats_histogram latency;
    sl_cache *caches[MAX_CACHES];
    int ncaches;
    sl_cache_counts retired;  /* the growing counters of detached stores */
    char **databases;
    size_t ndatabases;
    bool databases_overflow;
};

void
sl_stats_histogram_observe(sl_stats_histogram *h, uint64_t us)
{
    size_t i = 0;
    while (i < SL_STATS_BUCKETS && us > sl_stats_bucket_us[i])
        i++;
    atomic_fetch_add(&h->count[i], 1);
    atomic_fetch_add(&h->sum_us, us);
    atomic_fetch_add(&h->n, 1);
}

void
sl_stats_histogram_read(const sl_stats_histogram *h, sl_stats_histogram_counts *out)
{
    uint64_t run = 0;
    for (size_t i = 0; i <= SL_STATS_BUCKETS; i++) {
        run += atomic_load(&h->count[i]);
        out->cumulative[i] = run;
    }
    /* Observations land between these loads: a count equal to the +Inf bucket keeps the
     * exposition consistent (Prometheus expects _count == the +Inf bucket). */
    out->n = run;
    out->sum_us = atomic_load(&h->sum_us);
}

const char *
sl_client_state_name(sl_client_state st)
{
    switch (st) {
    case SL_CLIENT_STARTUP:
        return "startup";
    case SL_CLIENT_CONNECTING:
        return "connecting";
    case SL_CLIENT_ACTIVE:
        return "active";
    case SL_CLIENT_IDLE:
        return "idle";
    case SL_CLIENT_IDLE_TX:
        return "idle in transaction";
    case SL_CLIENT_IDLE_FAILED:
        return "idle in transaction (aborted)";
    case SL_CLIENT_ADMIN:
        return "admin";
    }
    return "unknown";
}

sl_stats *
sl_stats_new(void)
{
    sl_stats *st = sl_calloc(1, sizeof *st);
    pthread_mutex_init(&st->lock, NULL);
    st->clients.next = st->clients.prev = &st->clients;
    return st;
}

void
sl_stats_free(sl_stats *st)
{
    if (!st)
        return;
    while (st->clients.next != &st->clients)
        sl_stats_client_close(st->clients.next);
    for (size_t i = 0; i < st->ndatabases; i++)
        free(st->databases[i]);
    free(st->databases);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

static void
add_counts(sl_cache_counts *sum, const sl_cache_counts *c, bool current_too)
{
    sum->hits += c->hits;
    sum->misses += c->misses;
    sum->bytes_served += c->bytes_served;
    sum->puts += c->puts;
    sum->evictions += c->evictions;
    sum->invalidations += c->invalidations;
    sum->invalidated += c->invalidated;
    sum->expirations += c->expirations;
    sum->stale_refused += c->stale_refused;
    sum->too_big += c->too_big;
    sum->errors += c->errors;
    if (current_too) {  /* what a store holds now: gone with a detached store */
        sum->entries += c->entries;
        sum->bytes_stored += c->bytes_stored;
    }
}

void
sl_stats_read(sl_stats *st, sl_stats_snapshot *out)
{
    memset(out, 0, sizeof *out);
    if (!st)
        return;
    out->clients = atomic_load(&st->nclients);
    out->clients_total = atomic_load(&st->clients_total);
    out->servers = atomic_load(&st->servers);
    out->servers_total = atomic_load(&st->servers_total);
    out->queries_simple = atomic_load(&st->queries[SL_QUERY_SIMPLE]);
    out->queries_extended = atomic_load(&st->queries[SL_QUERY_EXTENDED]);
    sl_stats_histogram_read(&st->latency, &out->latency);
    pthread_mutex_lock(&st->lock);
    out->cache = st->retired;
    for (int i = 0; i < st->ncaches; i++) {
        sl_cache_counts c;
        sl_cache_counts_read(st->caches[i], &c);
        add_counts(&out->cache, &c, true);
    }
    out->caches = st->ncaches;
    pthread_mutex_unlock(&st->lock);
}

void
sl_stats_cache_attach(sl_stats *st, sl_cache *c)
{
    if (!st || !c)
        return;
    pthread_mutex_lock(&st->lock);
    if (st->ncaches < MAX_CACHES)  /* one per loop: --threads is at most 1024 */
        st->caches[st->ncaches++] = c;
    pthread_mutex_unlock(&st->lock);
}

void
sl_stats_cache_detach(sl_stats *st, sl_cache *c)
{
    if (!st || !c)
        return;
    pthread_mutex_lock(&st->lock);
    for (int i = 0; i < st->ncaches; i++) {
        if (st->caches[i] != c)
            continue;
        sl_cache_counts n;
        sl_cache_counts_read(c, &n);
        add_counts(&st->retired, &n, false);
        st->caches[i] = st->caches[--st->ncaches];
        break;
    }
    pthread_mutex_unlock(&st->lock);
}

void
sl_stats_cache_each(sl_stats *st, void (*fn)(sl_cache *c, void *arg), void *arg)
{
    if (!st)
        return;
    pthread_mutex_lock(&st->lock);
    for (int i = 0; i < st->ncaches; i++)
        fn(st->caches[i], arg);
    pthread_mutex_unlock(&st->lock);
}

int
sl_stats_databases_each(sl_stats *st, void (*fn)(const char *db, void *arg), void *arg)
{
    if (!st)
        return 0;
    pthread_mutex_lock(&st->lock);
    for (size_t i = 0; i < st->ndatabases; i++)
        fn(st->databases[i], arg);
    bool overflow = st->databases_overflow;
    pthread_mutex_unlock(&st->lock);
    return overflow ? -1 : 0;
}

/* Under the lock. */
static void
remember_database(sl_stats *st, const char *db)
{
    for (size_t i = 0; i < st->ndatabases; i++)
        if (strcmp(st->databases[i], db) == 0)
            return;
    if (st->ndatabases == MAX_DATABASES) {
        st->databases_overflow = true;
        return;
    }
    if (st->ndatabases % 16 == 0)
        st->databases = sl_realloc(st->databases, (st->ndatabases + 16) * sizeof(char *));
    st->databases[st->ndatabases++] = sl_strdup(db);
}

sl_stats_client *
sl_stats_client_open(sl_stats *st, unsigned long long id, const char *address)
{
    if (!st)
        return NULL;
    sl_stats_client *c = sl_calloc(1, sizeof *c);
    c->st = st;
    c->id = id;
    snprintf(c->address, sizeof c->address, "%s", address);
    c->since = (int64_t)time(NULL);
    atomic_store(&c->state, SL_CLIENT_STARTUP);
    pthread_mutex_lock(&st->lock);
    c->next = &st->clients;
    c->prev = st->clients.prev;
    st->clients.prev->next = c;
    st->clients.prev = c;
    pthread_mutex_unlock(&st->lock);
    atomic_fetch_add(&st->nclients, 1);
    atomic_fetch_add(&st->clients_total, 1);
    return c;
}

void
sl_stats_client_identify(sl_stats_client *c, const char *user, const char *database)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->st->lock);
    snprintf(c->user, sizeof c->user, "%s", user ? user : "");
    snprintf(c->database, sizeof c->database, "%s", database ? database : "");
    if (database && *database && atomic_load(&c->state) != SL_CLIENT_ADMIN)
        remember_database(c->st, database);  /* the console's own is no cache's */
    pthread_mutex_unlock(&c->st->lock);
}

void
sl_stats_client_state(sl_stats_client *c, sl_client_state state)
{
    if (c)
        atomic_store(&c->state, (int)state);
}

void
sl_stats_client_query(sl_stats_client *c, sl_query_kind kind)
{
    if (!c)
        return;
    atomic_fetch_add(&c->queries, 1);
    atomic_fetch_add(&c->st->queries[kind], 1);
}

void
sl_stats_client_server(sl_stats_client *c, bool up)
{
    if (!c || c->server == up)
        return;
    pthread_mutex_lock(&c->st->lock);
    c->server = up;
    pthread_mutex_unlock(&c->st->lock);
    atomic_fetch_add(&c->st->servers, up ? 1 : -1);
    if (up)
        atomic_fetch_add(&c->st->servers_total, 1);
}

void
sl_stats_client_close(sl_stats_client *c)
{
    if (!c)
        return;
    sl_stats *st = c->st;
    sl_stats_client_server(c, false);
    pthread_mutex_lock(&st->lock);
    c->prev->next = c->next;
    c->next->prev = c->prev;
    pthread_mutex_unlock(&st->lock);
    atomic_fetch_sub(&st->nclients, 1);
    free(c);
}

size_t
sl_stats_clients(sl_stats *st, sl_stats_client_row **rows)
{
    *rows = NULL;
    if (!st)
        return 0;
    pthread_mutex_lock(&st->lock);
    size_t n = 0;
    for (sl_stats_client *c = st->clients.next; c != &st->clients; c = c->next)
        n++;
    sl_stats_client_row *out = sl_calloc(n ? n : 1, sizeof *out);
    size_t i = 0;
    for (sl_stats_client *c = st->clients.next; c != &st->clients; c = c->next, i++) {
        sl_stats_client_row *r = &out[i];
        r->id = c->id;
        memcpy(r->address, c->address, sizeof r->address);
        memcpy(r->user, c->user, sizeof r->user);
        memcpy(r->database, c->database, sizeof r->database);
        r->state = (sl_client_state)atomic_load(&c->state);
        r->since = c->since;
        r->queries = atomic_load(&c->queries);
        r->server = c->server;
    }
    pthread_mutex_unlock(&st->lock);
    *rows = out;
    return n;
}

void
sl_stats_request_sent(sl_stats_inflight *f, uint64_t number, uint64_t now_us)
{
    size_t i = number % SL_STATS_INFLIGHT;
    f->number[i] = number;
    f->sent_us[i] = now_us;
}

void
sl_stats_request_answered(sl_stats *st, sl_stats_inflight *f, uint64_t number,
                          uint64_t now_us)
{
    size_t i = number % SL_STATS_INFLIGHT;
    if (!st || number == 0 || f->number[i] != number)
        return;  /* never stamped (the startup), or overwritten by a newer request */
    f->number[i] = 0;
    uint64_t sent = f->sent_us[i];
    sl_stats_histogram_observe(&st->latency, now_us > sent ? now_us - sent : 0);
}

uint64_t
sl_stats_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
