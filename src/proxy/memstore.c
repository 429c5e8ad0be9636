/* proxy/memstore.c: a byte-bounded LRU map with expiry and a tag index (design in
 * memstore.h). Structures, all under m->lock:
 *   keys:  chained hash map key -> entry;       tags: chained hash map tag name -> tagnode
 *   lru:   doubly linked entries, most recent at the head
 *   heap:  entries ordered by expiry (entry->heap_pos is its slot)
 *   each entry has one link per tag, kept in that tag's doubly linked list, so dropping an
 *   entry unlinks it from every tag in O(tags), and a tag with no entry left is freed.
 * Invariant: m->used == the accounted size of all of the above <= m->max. */
#include "proxy/memstore.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/mem.h"

#define STAMP_SLOTS 4096
#define MIN_BUCKETS 16

typedef struct hnode {
    struct hnode *next;
    uint64_t hash;
    size_t key_len;
    char *key;
} hnode;

typedef struct {
    hnode **b;
    size_t nb;
    size_t n;
} hmap;

typedef struct value {
    _Atomic uint32_t refs;
    size_t len;
    uint8_t data[];
} value;

struct entry;
struct tagnode;

typedef struct link {
    struct entry *entry;
    struct tagnode *tag;
    struct link *prev, *next;
} link;

typedef struct tagnode {
    hnode h;
    link head;  /* sentinel of the list of links */
    size_t n;
    size_t cost;
} tagnode;

typedef struct entry {
    hnode h;
    struct entry *lru_prev, *lru_next;
    size_t heap_pos;
    int64_t expires_ms;
    size_t cost;
    value *val;
    size_t n_links;
    link *links;
} entry;

struct sl_memstore {
    sl_cache cache;  /* first: sl_cache * and sl_memstore * convert */
    pthread_mutex_t lock;
    size_t max;
    size_t used;
    hmap keys;
    hmap tags;
    entry lru;  /* sentinel: lru.lru_next is the most recent */
    entry **heap;
    size_t heap_n, heap_cap;
    uint64_t clock;  /* invalidation clock */
    uint64_t stamps[STAMP_SLOTS];
    uint64_t rng;
    int64_t (*now_ms)(void *arg);
    void *now_arg;
};

static uint64_t
fnv1a(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static int64_t
now(sl_memstore *m)
{
    return m->now_ms ? m->now_ms(m->now_arg) : sl_clock_ms();
}

/* ---- hash maps: the bucket arrays count in m->used ------------------------------------ */

static hnode *
hmap_find(const hmap *h, const char *key, size_t len, uint64_t hash)
{
    if (!h->nb)
        return NULL;
    for (hnode *n = h->b[hash & (h->nb - 1)]; n; n = n->next)
        if (n->hash == hash && n->key_len == len && memcmp(n->key, key, len) == 0)
            return n;
    return NULL;
}

static void
hmap_link(hmap *h, hnode *n)
{
    hnode **slot = &h->b[n->hash & (h->nb - 1)];
    n->next = *slot;
    *slot = n;
    h->n++;
}

static void
hmap_unlink(hmap *h, hnode *n)
{
    for (hnode **p = &h->b[n->hash & (h->nb - 1)]; *p; p = &(*p)->next) {
        if (*p == n) {
            *p = n->next;
            h->n--;
            return;
        }
    }
}

/* Doubles the buckets when the map is fuller than one node per bucket and the bound allows;
 * a map that cannot grow only gets longer chains. */
static void
hmap_maybe_grow(sl_memstore *m, hmap *h)
{
    if (h->n < h->nb)
        return;
    size_t nb = h->nb * 2, add = (nb - h->nb) * sizeof(hnode *);
    if (m->used + add > m->max)
        return;
    hnode **b = sl_calloc(nb, sizeof *b);
    for (size_t i = 0; i < h->nb; i++) {
        for (hnode *n = h->b[i], *next; n; n = next) {
            next = n->next;
            n->next = b[n->hash & (nb - 1)];
            b[n->hash & (nb - 1)] = n;
        }
    }
    free(h->b);
    h->b = b;
    h->nb = nb;
    m->used += add;
}

/* ---- the expiry heap ------------------------------------------------------------------- */

static void
heap_set(sl_memstore *m, size_t i, entry *e)
{
    m->heap[i] = e;
    e->heap_pos = i;
}

static void
heap_up(sl_memstore *m, size_t i)
{
    entry *e = m->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (m->heap[parent]->expires_ms <= e->expires_ms)
            break;
        heap_set(m, i, m->heap[parent]);
        i = parent;
    }
    heap_set(m, i, e);
}

static void
heap_down(sl_memstore *m, size_t i)
{
    entry *e = m->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= m->heap_n)
            break;
        if (c + 1 < m->heap_n && m->heap[c + 1]->expires_ms < m->heap[c]->expires_ms)
            c++;
        if (e->expires_ms <= m->heap[c]->expires_ms)
            break;
        heap_set(m, i, m->heap[c]);
        i = c;
    }
    heap_set(m, i, e);
}

static void
heap_remove(sl_memstore *m, entry *e)
{
    size_t i = e->heap_pos;
    entry *last = m->heap[--m->heap_n];
    if (last == e)
        return;
    heap_set(m, i, last);
    heap_up(m, i);
    heap_down(m, last->heap_pos);
}

/* ---- entries and tags -------------------------------------------------------------------- */

static void
value_unref(value *v)
{
    if (v && atomic_fetch_sub(&v->refs, 1) == 1)
        free(v);
}

static size_t
tagnode_cost(size_t name_len)
{
    return sizeof(tagnode) + name_len + 1;
}

static size_t
entry_cost(size_t key_len, size_t len, size_t n_links)
{
    return sizeof(entry) + key_len + 1 + sizeof(value) + len + n_links * sizeof(link);
}

/* A tag's name: "<length of db>:<db>" for the database, "...:<table>" for a table of it, so
 * that no database and table names give another pair's name. */
static char *
tag_name(const char *db, const char *table, size_t *len)
{
    char *s = table ? sl_asprintf("%zu:%s:%s", strlen(db), db, table)
                    : sl_asprintf("%zu:%s", strlen(db), db);
    *len = strlen(s);
    return s;
}

static uint64_t *
stamp_slot(sl_memstore *m, const char *name, size_t len)
{
    return &m->stamps[fnv1a(name, len) % STAMP_SLOTS];
}

static void
tag_release(sl_memstore *m, tagnode *t)
{
    hmap_unlink(&m->tags, &t->h);
    m->used -= t->cost;
    free(t->h.key);
    free(t);
}

static void
drop_entry(sl_memstore *m, entry *e)
{
    hmap_unlink(&m->keys, &e->h);
    e->lru_prev->lru_next = e->lru_next;
    e->lru_next->lru_prev = e->lru_prev;
    heap_remove(m, e);
    for (size_t i = 0; i < e->n_links; i++) {
        link *l = &e->links[i];
        l->prev->next = l->next;
        l->next->prev = l->prev;
        if (--l->tag->n == 0)
            tag_release(m, l->tag);
    }
    m->used -= e->cost;
    atomic_store(&m->cache.stats.entries, m->keys.n);
    atomic_store(&m->cache.stats.bytes_stored, m->used);
    value_unref(e->val);
    free(e->links);
    free(e->h.key);
    free(e);
}

static size_t
expire_due(sl_memstore *m, int64_t t)
{
    size_t n = 0;
    while (m->heap_n && m->heap[0]->expires_ms <= t) {
        drop_entry(m, m->heap[0]);
        n++;
    }
    atomic_fetch_add(&m->cache.stats.expirations, n);
    return n;
}

static tagnode *
tag_get(sl_memstore *m, char *name, size_t len)
{
    uint64_t hash = fnv1a(name, len);
    hnode *h = hmap_find(&m->tags, name, len, hash);
    if (h) {
        free(name);
        return (tagnode *)h;
    }
    tagnode *t = sl_calloc(1, sizeof *t);
    t->h = (hnode){.hash = hash, .key_len = len, .key = name};
    t->head.next = t->head.prev = &t->head;
    t->cost = tagnode_cost(len);
    m->used += t->cost;
    hmap_link(&m->tags, &t->h);
    hmap_maybe_grow(m, &m->tags);
    return t;
}

static void
tag_attach(sl_memstore *m, entry *e, size_t i, char *name, size_t len)
{
    tagnode *t = tag_get(m, name, len);
    link *l = &e->links[i];
    l->entry = e;
    l->tag = t;
    l->next = &t->head;
    l->prev = t->head.prev;
    t->head.prev->next = l;
    t->head.prev = l;
    t->n++;
}

/* ---- the store --------------------------------------------------------------------------- */

static const sl_cache_ops memstore_ops;

int
sl_memstore_open(sl_memstore **out, const sl_memstore_opts *opts, sl_error *err)
{
    size_t fixed = sizeof(sl_memstore) + 2 * MIN_BUCKETS * sizeof(hnode *);
    if (opts->max_bytes < fixed) {
        sl_error_set(err, SL_E_USAGE, "memory cache of %zu bytes is too small (at least %zu)",
                     opts->max_bytes, fixed);
        return -1;
    }
    sl_memstore *m = sl_calloc(1, sizeof *m);
    sl__cache_init(&m->cache, &memstore_ops, opts->ttl_s, opts->jitter_s);
    pthread_mutex_init(&m->lock, NULL);
    m->max = opts->max_bytes;
    m->keys = (hmap){.b = sl_calloc(MIN_BUCKETS, sizeof(hnode *)), .nb = MIN_BUCKETS};
    m->tags = (hmap){.b = sl_calloc(MIN_BUCKETS, sizeof(hnode *)), .nb = MIN_BUCKETS};
    m->used = fixed;
    m->lru.lru_next = m->lru.lru_prev = &m->lru;
    m->now_ms = opts->now_ms;
    m->now_arg = opts->now_arg;
    m->rng = opts->seed ? opts->seed : (uint64_t)sl_clock_wall_us();
    atomic_store(&m->cache.stats.bytes_stored, m->used);
    *out = m;
    return 0;
}

sl_cache *
sl_memstore_cache(sl_memstore *m)
{
    return &m->cache;
}

static void
memstore_free(sl_memstore *m)
{
    while (m->lru.lru_next != &m->lru)
        drop_entry(m, m->lru.lru_next);
    free(m->keys.b);
    free(m->tags.b);
    free(m->heap);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static bool
is_stale(sl_memstore *m, const sl_cache_tags *tags, uint64_t stamp)
{
    size_t len;
    bool stale = false;
    for (size_t i = 0; i <= tags->n_tables && !stale; i++) {
        char *name = tag_name(tags->database, i ? tags->tables[i - 1] : NULL, &len);
        stale = *stamp_slot(m, name, len) > stamp;
        free(name);
    }
    return stale;
}

/* The most the entry can add: itself, a new node for each tag, one more heap slot array. */
static size_t
worst_cost(const sl_memstore *m, size_t cost, const sl_cache_tags *tags)
{
    size_t extra = tagnode_cost(strlen(tags->database) + 24);
    for (size_t i = 0; i < tags->n_tables; i++)
        extra += tagnode_cost(strlen(tags->database) + strlen(tags->tables[i]) + 25);
    if (m->heap_n == m->heap_cap)
        extra += (m->heap_cap ? m->heap_cap : 8) * sizeof(entry *);
    return cost + extra;
}

/* Whether the entry would fit once every other entry is gone (the arrays never shrink). */
static bool
fits_empty(const sl_memstore *m, size_t cost, const sl_cache_tags *tags)
{
    size_t base = sizeof(sl_memstore) + (m->keys.nb + m->tags.nb) * sizeof(hnode *) +
                  m->heap_cap * sizeof(entry *);
    size_t worst = worst_cost(m, cost, tags);
    return worst <= m->max && base <= m->max - worst;
}

/* Makes room: expired entries first, then the least recently used. */
static bool
make_room(sl_memstore *m, size_t cost, const sl_cache_tags *tags, int64_t t)
{
    expire_due(m, t);
    while (m->used + worst_cost(m, cost, tags) > m->max) {
        if (m->lru.lru_prev == &m->lru)
            return false;
        drop_entry(m, m->lru.lru_prev);
        atomic_fetch_add(&m->cache.stats.evictions, 1);
    }
    return true;
}

static void
heap_push(sl_memstore *m, entry *e)
{
    if (m->heap_n == m->heap_cap) {
        size_t cap = m->heap_cap ? m->heap_cap * 2 : 8;
        m->heap = sl_realloc(m->heap, cap * sizeof *m->heap);
        m->used += (cap - m->heap_cap) * sizeof *m->heap;
        m->heap_cap = cap;
    }
    heap_set(m, m->heap_n++, e);
    heap_up(m, e->heap_pos);
}

/* A table named twice is linked once: an entry is in a tag's list at most once. */
static bool
repeated(const sl_cache_tags *tags, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (strcmp(tags->tables[j], tags->tables[i]) == 0)
            return true;
    return false;
}

static size_t
distinct_tables(const sl_cache_tags *tags)
{
    size_t n = 0;
    for (size_t i = 0; i < tags->n_tables; i++)
        n += !repeated(tags, i);
    return n;
}

static void
insert(sl_memstore *m, const sl_cachekey *key, const sl_cache_tags *tags, const uint8_t *bytes,
       size_t len, size_t cost, int64_t expires)
{
    entry *e = sl_calloc(1, sizeof *e);
    e->h = (hnode){.hash = fnv1a(key->text, key->text_len), .key_len = key->text_len,
                   .key = sl_strndup(key->text, key->text_len)};
    e->val = sl_malloc(sizeof(value) + len);
    atomic_init(&e->val->refs, 1);
    e->val->len = len;
    memcpy(e->val->data, bytes, len);
    e->cost = cost;
    e->expires_ms = expires;
    e->n_links = distinct_tables(tags) + 1;
    e->links = sl_calloc(e->n_links, sizeof *e->links);
    m->used += cost;
    size_t at = 0;
    for (size_t i = 0; i <= tags->n_tables; i++) {
        if (i && repeated(tags, i - 1))
            continue;
        size_t nlen;
        char *name = tag_name(tags->database, i ? tags->tables[i - 1] : NULL, &nlen);
        tag_attach(m, e, at++, name, nlen);
    }
    e->lru_next = m->lru.lru_next;
    e->lru_prev = &m->lru;
    m->lru.lru_next->lru_prev = e;
    m->lru.lru_next = e;
    heap_push(m, e);
    hmap_link(&m->keys, &e->h);
    hmap_maybe_grow(m, &m->keys);
    atomic_store(&m->cache.stats.entries, m->keys.n);
    atomic_store(&m->cache.stats.bytes_stored, m->used);
}

static sl_memstore_result
put_locked(sl_memstore *m, const sl_cachekey *key, const sl_cache_tags *tags,
           const uint8_t *bytes, size_t len, uint32_t ttl_s, const sl_cache_ticket *ticket)
{
    if (is_stale(m, tags, ticket->stamp))
        return SL_MEMSTORE_STALE;
    size_t cost = entry_cost(key->text_len, len, distinct_tables(tags) + 1);
    if (!fits_empty(m, cost, tags))
        return SL_MEMSTORE_TOO_BIG;  /* refused before anything is evicted for it */
    int64_t t = now(m);
    hnode *old = hmap_find(&m->keys, key->text, key->text_len, fnv1a(key->text, key->text_len));
    if (old)
        drop_entry(m, (entry *)old);
    if (!make_room(m, cost, tags, t))
        return SL_MEMSTORE_TOO_BIG;
    uint32_t ttl = sl__cache_pick_ttl(&m->cache, ttl_s, &m->rng);
    insert(m, key, tags, bytes, len, cost, t + (int64_t)ttl * 1000);
    return SL_MEMSTORE_STORED;
}

sl_memstore_result
sl_memstore_put(sl_memstore *m, const sl_cachekey *key, const sl_cache_tags *tags,
                const uint8_t *entry_bytes, size_t len, uint32_t ttl_s, sl_cache_ticket *ticket)
{
    sl_cache_entry_parts parts;
    sl_memstore_result r;
    sl_cache_stats *s = &m->cache.stats;
    if (!ticket || !ticket->valid) {
        r = SL_MEMSTORE_NO_TICKET;
    } else if (sl_cache_entry_split(entry_bytes, len, &parts) != 0) {
        r = SL_MEMSTORE_BAD_ENTRY;
    } else {
        pthread_mutex_lock(&m->lock);
        r = put_locked(m, key, tags, entry_bytes, len, ttl_s, ticket);
        pthread_mutex_unlock(&m->lock);
    }
    if (r == SL_MEMSTORE_STORED)
        atomic_fetch_add(&s->puts, 1);
    else if (r == SL_MEMSTORE_TOO_BIG)
        atomic_fetch_add(&s->too_big, 1);
    else if (r == SL_MEMSTORE_STALE)
        atomic_fetch_add(&s->stale_refused, 1);
    else
        atomic_fetch_add(&s->errors, 1);
    sl_cache_ticket_release(ticket);
    return r;
}

static void
memstore_put(sl_cache *c, const sl_cachekey *key, const sl_cache_tags *tags,
             const uint8_t *bytes, size_t len, uint32_t ttl_s, sl_cache_ticket *ticket)
{
    (void)sl_memstore_put((sl_memstore *)c, key, tags, bytes, len, ttl_s, ticket);
}

static void
memstore_get(sl_cache *c, const sl_cachekey *key, const sl_cache_tags *tags, sl_cache_get_cb cb,
             void *arg)
{
    (void)tags;
    sl_memstore *m = (sl_memstore *)c;
    sl_cache_ticket ticket = {0};
    value *v = NULL;
    pthread_mutex_lock(&m->lock);
    hnode *h = hmap_find(&m->keys, key->text, key->text_len, fnv1a(key->text, key->text_len));
    entry *e = (entry *)h;
    if (e && e->expires_ms <= now(m)) {
        drop_entry(m, e);
        atomic_fetch_add(&c->stats.expirations, 1);
        e = NULL;
    }
    if (e) {
        e->lru_prev->lru_next = e->lru_next;  /* to the head of the LRU list */
        e->lru_next->lru_prev = e->lru_prev;
        e->lru_next = m->lru.lru_next;
        e->lru_prev = &m->lru;
        m->lru.lru_next->lru_prev = e;
        m->lru.lru_next = e;
        v = e->val;
        atomic_fetch_add(&v->refs, 1);
    } else {
        ticket.valid = true;
        ticket.stamp = m->clock;
    }
    pthread_mutex_unlock(&m->lock);
    sl_cache_answer a = {.hit = v != NULL, .ticket = &ticket};
    if (v) {
        a.entry = v->data;
        a.len = v->len;
        atomic_fetch_add(&c->stats.hits, 1);
        atomic_fetch_add(&c->stats.bytes_served, v->len);
    } else {
        atomic_fetch_add(&c->stats.misses, 1);
    }
    cb(arg, &a);
    value_unref(v);
    sl_cache_ticket_release(&ticket);
}

static void
memstore_invalidate(sl_cache *c, const char *database, const char *table)
{
    sl_memstore *m = (sl_memstore *)c;
    size_t len, n = 0;
    char *name = tag_name(database, table, &len);
    pthread_mutex_lock(&m->lock);
    *stamp_slot(m, name, len) = ++m->clock;
    tagnode *t = (tagnode *)hmap_find(&m->tags, name, len, fnv1a(name, len));
    while (t) {
        bool last = t->n == 1;  /* dropping the last entry frees the tag node */
        drop_entry(m, t->head.next->entry);
        n++;
        if (last)
            break;
    }
    pthread_mutex_unlock(&m->lock);
    free(name);
    atomic_fetch_add(&c->stats.invalidations, 1);
    atomic_fetch_add(&c->stats.invalidated, n);
}

/* The stamps say whether a tag was invalidated after then's miss; now adds nothing. */
static bool
memstore_current(sl_cache *c, const sl_cache_tags *tags, const sl_cache_ticket *then,
                 const sl_cache_ticket *now)
{
    (void)now;
    sl_memstore *m = (sl_memstore *)c;
    pthread_mutex_lock(&m->lock);
    bool stale = is_stale(m, tags, then->stamp);
    pthread_mutex_unlock(&m->lock);
    return !stale;
}

static void
memstore_close(sl_cache *c)
{
    memstore_free((sl_memstore *)c);
}

static const sl_cache_ops memstore_ops = {
    .get = memstore_get,
    .put = memstore_put,
    .invalidate = memstore_invalidate,
    .current = memstore_current,
    .close = memstore_close,
};

size_t
sl_memstore_sweep(sl_memstore *m)
{
    pthread_mutex_lock(&m->lock);
    size_t n = expire_due(m, now(m));
    pthread_mutex_unlock(&m->lock);
    return n;
}

bool
sl_memstore_contains(sl_memstore *m, const sl_cachekey *key)
{
    pthread_mutex_lock(&m->lock);
    entry *e = (entry *)hmap_find(&m->keys, key->text, key->text_len,
                                  fnv1a(key->text, key->text_len));
    bool live = e && e->expires_ms > now(m);
    pthread_mutex_unlock(&m->lock);
    return live;
}

size_t
sl_memstore_used(sl_memstore *m)
{
    pthread_mutex_lock(&m->lock);
    size_t used = m->used;
    pthread_mutex_unlock(&m->lock);
    return used;
}

static size_t
recount(sl_memstore *m, size_t *entries)
{
    size_t sum = sizeof(sl_memstore) + (m->keys.nb + m->tags.nb) * sizeof(hnode *) +
                 m->heap_cap * sizeof(entry *);
    *entries = 0;
    for (entry *e = m->lru.lru_next; e != &m->lru; e = e->lru_next) {
        sum += entry_cost(e->h.key_len, e->val->len, e->n_links);
        (*entries)++;
    }
    for (size_t i = 0; i < m->tags.nb; i++)
        for (hnode *h = m->tags.b[i]; h; h = h->next)
            sum += tagnode_cost(h->key_len);
    return sum;
}

int
sl_memstore_check(sl_memstore *m, sl_error *err)
{
    pthread_mutex_lock(&m->lock);
    size_t entries, sum = recount(m, &entries);
    int rc = -1;
    if (sum != m->used)
        sl_error_set(err, SL_E_INTERNAL, "accounted %zu bytes, counted %zu", m->used, sum);
    else if (m->used > m->max)
        sl_error_set(err, SL_E_INTERNAL, "%zu bytes used, bound %zu", m->used, m->max);
    else if (entries != m->keys.n || entries != m->heap_n)
        sl_error_set(err, SL_E_INTERNAL, "%zu entries in LRU, %zu keys, %zu in heap", entries,
                     m->keys.n, m->heap_n);
    else
        rc = 0;
    pthread_mutex_unlock(&m->lock);
    return rc;
}
