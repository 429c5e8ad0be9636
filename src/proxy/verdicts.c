/* proxy/verdicts.c: the memo of catalog verdicts (see verdicts.h): a chained hash table of a
 * fixed bucket count under one mutex, emptied when full. */
#include "proxy/verdicts.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

typedef struct entry {
    struct entry *next;
    uint64_t hash;
    const char *refusal;
    sl_cache_ticket ticket;
    int64_t expires_ms;
    size_t cost;
    size_t key_len;
    unsigned char key[];
} entry;

struct sl_verdicts {
    pthread_mutex_t lock;
    entry **buckets;
    size_t nbuckets;  /* a power of two, at least max_entries */
    size_t max_entries, max_bytes;
    sl_verdicts_counts counts;
};

static uint64_t
hash_of(const void *key, size_t len)
{
    uint64_t h = 1469598103934665603ull;  /* FNV-1a */
    for (const unsigned char *p = key, *end = p + len; p < end; p++)
        h = (h ^ *p) * 1099511628211ull;
    return h;
}

sl_verdicts *
sl_verdicts_new(size_t max_entries, size_t max_bytes)
{
    sl_verdicts *v = sl_calloc(1, sizeof *v);
    pthread_mutex_init(&v->lock, NULL);
    v->max_entries = max_entries ? max_entries : 1;
    v->max_bytes = max_bytes;
    v->nbuckets = 16;
    while (v->nbuckets < v->max_entries)
        v->nbuckets *= 2;
    v->buckets = sl_calloc(v->nbuckets, sizeof *v->buckets);
    return v;
}

static void
entry_free(entry *e)
{
    sl_cache_ticket_release(&e->ticket);
    free(e);
}

static void
clear_locked(sl_verdicts *v)
{
    for (size_t i = 0; i < v->nbuckets; i++) {
        for (entry *e = v->buckets[i], *next; e; e = next) {
            next = e->next;
            entry_free(e);
        }
        v->buckets[i] = NULL;
    }
    v->counts.entries = 0;
    v->counts.bytes = 0;
}

void
sl_verdicts_free(sl_verdicts *v)
{
    if (!v)
        return;
    clear_locked(v);
    free(v->buckets);
    pthread_mutex_destroy(&v->lock);
    free(v);
}

/* The link that points at key's entry (or at the NULL ending its chain). */
static entry **
find_locked(sl_verdicts *v, const void *key, size_t len, uint64_t h)
{
    entry **link = &v->buckets[h & (v->nbuckets - 1)];
    for (; *link; link = &(*link)->next) {
        entry *e = *link;
        if (e->hash == h && e->key_len == len && memcmp(e->key, key, len) == 0)
            break;
    }
    return link;
}

static void
unlink_locked(sl_verdicts *v, entry **link)
{
    entry *e = *link;
    *link = e->next;
    v->counts.entries--;
    v->counts.bytes -= e->cost;
    entry_free(e);
}

static size_t
ticket_cost(const sl_cache_ticket *t)
{
    size_t n = t->n_tokens * sizeof *t->tokens;
    for (size_t i = 0; i < t->n_tokens; i++)
        n += strlen(t->tokens[i]) + 1;
    return n;
}

void
sl_verdicts_put(sl_verdicts *v, const void *key, size_t key_len, const char *refusal,
                const sl_cache_ticket *ticket, int64_t expires_ms)
{
    if (!ticket || !ticket->valid)
        return;
    uint64_t h = hash_of(key, key_len);
    entry *e = sl_malloc(sizeof *e + key_len);
    e->hash = h;
    e->refusal = refusal;
    sl_cache_ticket_copy(&e->ticket, ticket);
    e->expires_ms = expires_ms;
    e->key_len = key_len;
    memcpy(e->key, key, key_len);
    e->cost = sizeof *e + key_len + ticket_cost(ticket);
    pthread_mutex_lock(&v->lock);
    entry **link = find_locked(v, key, key_len, h);
    if (*link)
        unlink_locked(v, link);
    if (e->cost > v->max_bytes) {
        pthread_mutex_unlock(&v->lock);
        entry_free(e);
        return;
    }
    if (v->counts.entries + 1 > v->max_entries || v->counts.bytes + e->cost > v->max_bytes) {
        clear_locked(v);
        v->counts.clears++;
        link = &v->buckets[h & (v->nbuckets - 1)];
    }
    e->next = *link;
    *link = e;
    v->counts.entries++;
    v->counts.bytes += e->cost;
    pthread_mutex_unlock(&v->lock);
}

bool
sl_verdicts_get(sl_verdicts *v, const void *key, size_t key_len, int64_t now_ms,
                const char **refusal, sl_cache_ticket *ticket)
{
    uint64_t h = hash_of(key, key_len);
    bool found = false;
    memset(ticket, 0, sizeof *ticket);
    pthread_mutex_lock(&v->lock);
    entry **link = find_locked(v, key, key_len, h);
    if (*link && (*link)->expires_ms <= now_ms)
        unlink_locked(v, link);
    else if (*link) {
        *refusal = (*link)->refusal;
        sl_cache_ticket_copy(ticket, &(*link)->ticket);
        found = true;
    }
    if (found)
        v->counts.hits++;
    else
        v->counts.misses++;
    pthread_mutex_unlock(&v->lock);
    return found;
}

void
sl_verdicts_drop(sl_verdicts *v, const void *key, size_t key_len)
{
    uint64_t h = hash_of(key, key_len);
    pthread_mutex_lock(&v->lock);
    entry **link = find_locked(v, key, key_len, h);
    if (*link)
        unlink_locked(v, link);
    pthread_mutex_unlock(&v->lock);
}

void
sl_verdicts_counts_read(sl_verdicts *v, sl_verdicts_counts *out)
{
    pthread_mutex_lock(&v->lock);
    *out = v->counts;
    pthread_mutex_unlock(&v->lock);
}
