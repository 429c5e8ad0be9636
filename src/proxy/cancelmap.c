/* proxy/cancelmap.c: a chained hash on the client pid under one mutex (see cancelmap.h).
 * Lookups happen once per CancelRequest and inserts once per connection: one lock is enough. */
#include "proxy/cancelmap.h"

#include <stdlib.h>
#include <sys/random.h>
#include <uv.h>

#include "base/mem.h"

enum { NBUCKETS = 4096 };

typedef struct entry {
    struct entry *next;
    sl_cancel_key client;
    sl_cancel_key server;
} entry;

struct sl_cancelmap {
    uv_mutex_t mu;
    int32_t next_pid;
    unsigned count;
    entry *buckets[NBUCKETS];
};

sl_cancelmap *
sl_cancelmap_new(void)
{
    sl_cancelmap *m = sl_calloc(1, sizeof *m);
    if (uv_mutex_init(&m->mu) != 0)
        abort();
    m->next_pid = 1;
    return m;
}

void
sl_cancelmap_free(sl_cancelmap *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < NBUCKETS; i++)
        for (entry *e = m->buckets[i], *next; e; e = next) {
            next = e->next;
            free(e);
        }
    uv_mutex_destroy(&m->mu);
    free(m);
}

static int32_t
random_secret(void)
{
    uint32_t v = 0;
    /* 4 bytes from the kernel's pool never come short once it is seeded */
    if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v)
        abort();
    return (int32_t)v;
}

static entry **
bucket(sl_cancelmap *m, int32_t pid)
{
    return &m->buckets[(uint32_t)pid % NBUCKETS];
}

sl_cancel_key
sl_cancelmap_add(sl_cancelmap *m, sl_cancel_key server)
{
    entry *e = sl_malloc(sizeof *e);
    e->server = server;
    e->client.secret = random_secret();
    uv_mutex_lock(&m->mu);
    e->client.pid = m->next_pid;
    /* positive pids like a server's; after 2^31 connections the counter starts again */
    m->next_pid = m->next_pid == INT32_MAX ? 1 : m->next_pid + 1;
    entry **b = bucket(m, e->client.pid);
    e->next = *b;
    *b = e;
    m->count++;
    uv_mutex_unlock(&m->mu);
    return e->client;
}

bool
sl_cancelmap_lookup(sl_cancelmap *m, sl_cancel_key client, sl_cancel_key *server)
{
    bool found = false;
    uv_mutex_lock(&m->mu);
    for (entry *e = *bucket(m, client.pid); e; e = e->next)
        if (e->client.pid == client.pid && e->client.secret == client.secret) {
            *server = e->server;
            found = true;
            break;
        }
    uv_mutex_unlock(&m->mu);
    return found;
}

void
sl_cancelmap_remove(sl_cancelmap *m, int32_t client_pid)
{
    uv_mutex_lock(&m->mu);
    for (entry **at = bucket(m, client_pid); *at; at = &(*at)->next)
        if ((*at)->client.pid == client_pid) {
            entry *e = *at;
            *at = e->next;
            free(e);
            m->count--;
            break;
        }
    uv_mutex_unlock(&m->mu);
}

unsigned
sl_cancelmap_count(sl_cancelmap *m)
{
    uv_mutex_lock(&m->mu);
    unsigned n = m->count;
    uv_mutex_unlock(&m->mu);
    return n;
}
