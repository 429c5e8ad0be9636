/* proxy/cache.c: dispatch to a store, tickets, TTL with jitter, and the entry grammar. */
#include "proxy/cache.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

void
sl__cache_init(sl_cache *c, const sl_cache_ops *ops, uint32_t ttl_s, uint32_t jitter_s)
{
    memset(&c->stats, 0, sizeof c->stats);
    c->ops = ops;
    atomic_store(&c->ttl_s, ttl_s);
    atomic_store(&c->jitter_s, jitter_s);
}

void
sl_cache_get(sl_cache *c, const sl_cachekey *key, const sl_cache_tags *tags, sl_cache_get_cb cb,
             void *arg)
{
    c->ops->get(c, key, tags, cb, arg);
}

void
sl_cache_put(sl_cache *c, const sl_cachekey *key, const sl_cache_tags *tags, const uint8_t *entry,
             size_t len, uint32_t ttl_s, sl_cache_ticket *ticket)
{
    c->ops->put(c, key, tags, entry, len, ttl_s, ticket);
}

void
sl_cache_invalidate(sl_cache *c, const char *database, const char *table)
{
    c->ops->invalidate(c, database, table);
}

void
sl_cache_invalidate_all(sl_cache *c, const char *database)
{
    c->ops->invalidate(c, database, NULL);
}

void
sl_cache_barrier(sl_cache *c, void (*cb)(void *arg, bool ok), void *arg)
{
    if (c->ops->barrier)
        c->ops->barrier(c, cb, arg);
    else
        cb(arg, true);
}

void
sl_cache_close(sl_cache *c)
{
    if (c)
        c->ops->close(c);
}

void
sl_cache_set_ttl(sl_cache *c, uint32_t ttl_s, uint32_t jitter_s)
{
    atomic_store(&c->ttl_s, ttl_s);
    atomic_store(&c->jitter_s, jitter_s);
}

void
sl_cache_counts_read(const sl_cache *c, sl_cache_counts *out)
{
    const sl_cache_stats *s = &c->stats;
    out->hits = atomic_load(&s->hits);
    out->misses = atomic_load(&s->misses);
    out->bytes_served = atomic_load(&s->bytes_served);
    out->entries = atomic_load(&s->entries);
    out->bytes_stored = atomic_load(&s->bytes_stored);
    out->puts = atomic_load(&s->puts);
    out->evictions = atomic_load(&s->evictions);
    out->invalidations = atomic_load(&s->invalidations);
    out->invalidated = atomic_load(&s->invalidated);
    out->expirations = atomic_load(&s->expirations);
    out->stale_refused = atomic_load(&s->stale_refused);
    out->too_big = atomic_load(&s->too_big);
    out->errors = atomic_load(&s->errors);
}

void
sl_cache_ticket_move(sl_cache_ticket *dst, sl_cache_ticket *src)
{
    *dst = *src;
    memset(src, 0, sizeof *src);
}

void
sl_cache_ticket_copy(sl_cache_ticket *dst, const sl_cache_ticket *src)
{
    *dst = *src;
    if (src->n_tokens) {
        dst->tokens = sl_calloc(src->n_tokens, sizeof *dst->tokens);
        for (size_t i = 0; i < src->n_tokens; i++)
            dst->tokens[i] = sl_strdup(src->tokens[i]);
    }
}

bool
sl_cache_ticket_current(sl_cache *c, const sl_cache_tags *tags, const sl_cache_ticket *then,
                        const sl_cache_ticket *now)
{
    if (!then || !now || !then->valid || !now->valid)
        return false;
    return c->ops->current(c, tags, then, now);
}

void
sl_cache_ticket_release(sl_cache_ticket *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_tokens; i++)
        free(t->tokens[i]);
    free(t->tokens);
    memset(t, 0, sizeof *t);
}

void
sl__cache_miss(sl_cache *c, sl_cache_get_cb cb, void *arg, bool error)
{
    sl_cache_ticket none = {0};
    sl_cache_answer a = {.hit = false, .ticket = &none};
    atomic_fetch_add(&c->stats.misses, 1);
    if (error)
        atomic_fetch_add(&c->stats.errors, 1);
    cb(arg, &a);
    sl_cache_ticket_release(&none);
}

static uint64_t
splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint32_t
sl__cache_pick_ttl(sl_cache *c, uint32_t ttl_s, uint64_t *rng)
{
    uint32_t base = ttl_s ? ttl_s : atomic_load(&c->ttl_s);
    uint32_t jitter = atomic_load(&c->jitter_s);
    uint64_t extra = jitter ? splitmix64(rng) % ((uint64_t)jitter + 1) : 0;
    uint64_t ttl = (uint64_t)base + extra;
    if (ttl == 0)
        ttl = 1;  /* 0 would mean "no expiry" to Redis, and nothing should live forever */
    return ttl > UINT32_MAX ? UINT32_MAX : (uint32_t)ttl;
}

/* One message at *pos: its type and total size (1 + length), checked against the end. */
static bool
next_message(const uint8_t *p, size_t len, size_t pos, char *type, size_t *size)
{
    if (len - pos < 5)
        return false;
    uint32_t n = (uint32_t)p[pos + 1] << 24 | (uint32_t)p[pos + 2] << 16 |
                 (uint32_t)p[pos + 3] << 8 | p[pos + 4];
    if (n < 4 || n > len - pos - 1)
        return false;
    *type = (char)p[pos];
    *size = (size_t)n + 1;
    return true;
}

int
sl_cache_entry_split(const uint8_t *entry, size_t len, sl_cache_entry_parts *out)
{
    sl_cache_entry_parts parts = {0};
    size_t pos = 0, size;
    char type;
    if (!entry || !next_message(entry, len, 0, &type, &size))
        return -1;
    if (type == 'T' || type == 'n') {
        parts.describe = entry;
        parts.describe_len = size;
        pos = size;
    }
    parts.rows = entry + pos;
    for (;;) {
        if (!next_message(entry, len, pos, &type, &size))
            return -1;
        pos += size;
        if (type == 'C')
            break;
        if (type != 'D')
            return -1;
        parts.n_rows++;
    }
    if (pos != len)
        return -1;  /* CommandComplete ends an entry */
    parts.rows_len = len - (size_t)(parts.rows - entry);
    *out = parts;
    return 0;
}
