/* proxy/verdicts.h: a memo of the catalog query's verdicts (cacheflow.h), so that a miss of a
 * statement whose tables were checked before goes to the server without that round trip.
 * Key:       bytes the caller frames (sl_cacheflow_verdict_key: database, user, the resolved
 *            search_path and the names the statement reads; those are all the catalog query's
 *            answer depends on besides the catalog itself).
 * Freshness: each verdict keeps the ticket of the cache miss that came before its catalog
 *            query (cache.h). A later miss uses it only while the store says no invalidation
 *            of the database came since (sl_cache_ticket_current): any DDL through any proxy
 *            sharing the store invalidates the database, and DDL that bypasses the proxies is
 *            bounded by the expiry the caller gives (the cache's TTL), as entries are.
 * Bounds:    at most max_entries verdicts and max_bytes accounted bytes; a put that would go
 *            over either clears the whole memo first (verdicts are cheap to take again, and a
 *            working set larger than the bound is a workload of ad-hoc SQL).
 * Threads:   one memo per process, shared by every loop: every call takes its mutex.
 * Ownership: keys are copied; a refusal is a string of static storage (kept as a pointer);
 *            the ticket handed out by _get() is the caller's to release. */
#ifndef SL_PROXY_VERDICTS_H
#define SL_PROXY_VERDICTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy/cache.h"

typedef struct sl_verdicts sl_verdicts;

typedef struct {
    uint64_t entries, bytes;  /* held now */
    uint64_t hits, misses;    /* _get() found a live verdict, or none */
    uint64_t clears;          /* the memo was full and was emptied */
} sl_verdicts_counts;

sl_verdicts *sl_verdicts_new(size_t max_entries, size_t max_bytes);
void sl_verdicts_free(sl_verdicts *v);  /* accepts NULL */
/* Records (or replaces) the verdict of key: refusal NULL means the tables may be cached.
 * ticket: the miss's (copied; an invalid one records nothing). expires_ms: absolute, on
 * sl_clock_ms()'s scale. */
void sl_verdicts_put(sl_verdicts *v, const void *key, size_t key_len, const char *refusal,
                     const sl_cache_ticket *ticket, int64_t expires_ms);
/* true: a verdict of key that has not expired at now_ms: *refusal and a copy of its ticket
 * (*ticket, to release). false: none (an expired one is dropped); *ticket left invalid. */
bool sl_verdicts_get(sl_verdicts *v, const void *key, size_t key_len, int64_t now_ms,
                     const char **refusal, sl_cache_ticket *ticket);
/* Forgets key's verdict (found out of date by the caller). */
void sl_verdicts_drop(sl_verdicts *v, const void *key, size_t key_len);
void sl_verdicts_counts_read(sl_verdicts *v, sl_verdicts_counts *out);

#endif
