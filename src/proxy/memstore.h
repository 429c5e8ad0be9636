/* proxy/memstore.h: the in-process cache store (sl_cache, cache.h), shared by every loop
 * thread of a proxy.
 * Bound: every byte it keeps is accounted (entry struct, key, value, tag links, tag index
 * nodes, the hash tables' and the expiry heap's arrays, its own struct) and the sum never
 * exceeds max_bytes: room is made before anything is allocated, by dropping expired entries
 * and then the least recently used. An entry that could not fit in an empty store is refused
 * (.too_big). A value being handed to a hit stays alive until that callback returns even if
 * the entry is dropped meanwhile (a reference count), and a hash table that doubles holds
 * its old bucket array until the new one is filled: the only bytes outside the bound.
 * Expiry frees for real: an expired entry found by get() is dropped, and sl_memstore_sweep()
 * (the owner calls it periodically, e.g. from a timer) drops every expired entry, in
 * O(expired * log n) through a heap ordered by expiry time.
 * Invalidation: an index tag -> entries (a tag is a database, or a table of a database) finds
 * exactly the tagged entries, with no scan. Tickets (cache.h, "Freshness") use one
 * invalidation clock and a fixed table of the clock value of each tag's last invalidation
 * (tags hashed into 4096 slots: a collision can only refuse a put, never accept a stale one).
 * Threads: one mutex guards everything; it is held for O(1) work per entry touched, never
 * while a callback runs or while copying values (hits hand out the stored bytes by reference).
 * Calling order: sl_memstore_open() -> sl_memstore_cache() handed to every loop ->
 * sl_cache_close() once at the end (frees the store). */
#ifndef SL_PROXY_MEMSTORE_H
#define SL_PROXY_MEMSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "proxy/cache.h"

typedef struct {
    size_t max_bytes;
    uint32_t ttl_s;     /* --ttl */
    uint32_t jitter_s;  /* --ttl-jitter */
    /* The clock (milliseconds, monotonic); NULL: sl_clock_ms. Tests set their own. */
    int64_t (*now_ms)(void *arg);
    void *now_arg;
    uint64_t seed;      /* of the TTL jitter; 0: from the clock */
} sl_memstore_opts;

typedef struct sl_memstore sl_memstore;

typedef enum {
    SL_MEMSTORE_STORED,     /* stored (replacing an entry of the same key if there was one) */
    SL_MEMSTORE_TOO_BIG,    /* could not fit even in an empty store */
    SL_MEMSTORE_STALE,      /* a tag was invalidated after the ticket's miss */
    SL_MEMSTORE_NO_TICKET,  /* no valid ticket */
    SL_MEMSTORE_BAD_ENTRY,  /* not in the entry format of cache.h */
} sl_memstore_result;

/* -1 with *err (SL_E_USAGE) when max_bytes cannot hold even the store's own structures. */
SL_MUSTCHECK int sl_memstore_open(sl_memstore **out, const sl_memstore_opts *opts,
                                  sl_error *err);
sl_cache *sl_memstore_cache(sl_memstore *m);
/* sl_cache_put() with its outcome. */
sl_memstore_result sl_memstore_put(sl_memstore *m, const sl_cachekey *key,
                                   const sl_cache_tags *tags, const uint8_t *entry, size_t len,
                                   uint32_t ttl_s, sl_cache_ticket *ticket);
/* Drops every expired entry; returns how many. */
size_t sl_memstore_sweep(sl_memstore *m);
/* Whether a live entry has the key; touches neither LRU order nor expiry. */
bool sl_memstore_contains(sl_memstore *m, const sl_cachekey *key);
size_t sl_memstore_used(sl_memstore *m);
/* Recounts every structure and compares with the accounting and the bound; 0 or -1 (with
 * what differs in *err). For tests. */
SL_MUSTCHECK int sl_memstore_check(sl_memstore *m, sl_error *err);

#endif
