/* proxy/cache.h: the result cache a proxy session asks, whatever stores it (memstore.h: this
 * process; redisstore.h: a Redis shared by several proxies).
 *
 * Entry format (what put() stores and a hit hands back): complete backend messages exactly as
 * the server sent them (type byte, int32 length, body), in this grammar:
 *     [ RowDescription 'T' | NoData 'n' ]  DataRow 'D'*  CommandComplete 'C'
 * - simple Query: RowDescription + DataRows + CommandComplete of one SELECT (a multi-statement
 *   string is not one entry). ReadyForQuery is never stored: its status byte must be live.
 * - extended: the answer to Describe of the portal (RowDescription, or NoData) when the
 *   session has it, then what follows BindComplete for an Execute with no row limit: DataRows
 *   + CommandComplete. ParseComplete/BindComplete/CloseComplete are the session's own answers
 *   (statement state is its business), never stored. A client that sent Describe needs the
 *   first part: an entry without it is then a miss for that client (sl_cache_entry_split()
 *   says which parts are there). The key differs between the two protocols (cachekey.h).
 * Notices, ParameterStatus and NotificationResponse are never part of an entry.
 * sl_cache_entry_split() checks the grammar and the framing; a store refuses an entry that
 * fails it, and the Redis store checks again what it reads back.
 *
 * Calling order: a store's _open() -> sl_cache_get()* / sl_cache_put()* / _invalidate*() ->
 * sl_cache_close(). get() answers through its callback, either before it returns (memory) or
 * later on the loop (Redis): a caller must accept both. An error or a slow or absent store is
 * a miss (and counts in .errors), never an error to the client.
 *
 * Freshness (why a put cannot resurrect what an invalidation dropped): a miss comes with a
 * ticket, a record of the invalidations the store had seen for the entry's tags at that
 * moment. put() gives the ticket back, and the store refuses the entry if any tag of it was
 * invalidated since (.stale_refused). The session sends the statement upstream only after
 * the miss was answered, and invalidates after the write committed, so either the
 * invalidation came before the miss (the statement's snapshot then sees the write) or it
 * came after (the put is refused, or the entry it stored is dropped by it).
 *
 * Tags: an entry carries its database and the tables it reads (strings; schema-qualified
 * names or OIDs: the session chooses, and must use the same form for invalidate()). A tag
 * need not be a table: pgproxy's INVALIDATE:USER:1 hook can drop the entries stored under
 * CACHE_KEY:USER:1 if the session also tags them with a string no table name takes (e.g.
 * "@key:USER:1") and invalidates that string (exact match, not pgproxy's substring scan).
 * Ownership: keys, tags and entry bytes are borrowed for the call (copied if kept). The bytes
 * a hit hands over are valid until the callback returns. The ticket of a miss belongs to the
 * callee of the callback: it moves it out (sl_cache_ticket_move) to give it to put() later,
 * which consumes it; or it is released when the callback returns. Threads: the memory store
 * is shared by every loop thread; a Redis store belongs to one loop (one per thread). */
#ifndef SL_PROXY_CACHE_H
#define SL_PROXY_CACHE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy/cachekey.h"

/* Counters for metrics, one set per sl_cache (a proxy with a Redis store per loop sums them).
 * entries and bytes_stored are what the store holds now (memory store; the Redis store
 * leaves them 0: Redis's INFO knows); the rest only grow. */
typedef struct {
    _Atomic uint64_t hits;
    _Atomic uint64_t misses;
    _Atomic uint64_t bytes_served;   /* entry bytes handed to hits */
    _Atomic uint64_t entries;
    _Atomic uint64_t bytes_stored;   /* accounted bytes: key + value + tags + overhead */
    _Atomic uint64_t puts;           /* entries stored */
    _Atomic uint64_t evictions;      /* dropped to make room (LRU) */
    _Atomic uint64_t invalidations;  /* invalidate() calls (each table or database) */
    _Atomic uint64_t invalidated;    /* entries dropped by them */
    _Atomic uint64_t expirations;    /* entries dropped at their TTL */
    _Atomic uint64_t stale_refused;  /* puts refused: a tag was invalidated after the miss */
    _Atomic uint64_t too_big;        /* puts refused: larger than the store allows */
    _Atomic uint64_t errors;         /* store failures, timeouts, bad entries read back */
} sl_cache_stats;

/* A plain copy of the counters, for printing. */
typedef struct {
    uint64_t hits, misses, bytes_served, entries, bytes_stored, puts, evictions, invalidations,
        invalidated, expirations, stale_refused, too_big, errors;
} sl_cache_counts;

typedef struct {
    const char *database;
    const char *const *tables;
    size_t n_tables;
} sl_cache_tags;

/* What a miss saw (see "Freshness"). A plain value owning its allocations. */
typedef struct sl_cache_ticket {
    bool valid;      /* false: no ticket (put() then stores nothing) */
    uint64_t stamp;  /* memory store: its invalidation clock at the miss */
    char **tokens;   /* Redis store: the generation of each tag ("" = never invalidated) */
    size_t n_tokens;
} sl_cache_ticket;

typedef struct {
    bool hit;
    const uint8_t *entry;     /* a hit: the entry (format above), valid during the callback */
    size_t len;
    sl_cache_ticket *ticket;  /* a miss: move it out to put() later */
} sl_cache_answer;

typedef void (*sl_cache_get_cb)(void *arg, sl_cache_answer *answer);

typedef struct sl_cache sl_cache;

typedef struct {
    void (*get)(sl_cache *c, const sl_cachekey *key, const sl_cache_tags *tags,
                sl_cache_get_cb cb, void *arg);
    void (*put)(sl_cache *c, const sl_cachekey *key, const sl_cache_tags *tags,
                const uint8_t *entry, size_t len, uint32_t ttl_s, sl_cache_ticket *ticket);
    void (*invalidate)(sl_cache *c, const char *database, const char *table);
    bool (*current)(sl_cache *c, const sl_cache_tags *tags, const sl_cache_ticket *then,
                    const sl_cache_ticket *now);
    void (*close)(sl_cache *c);
    /* cb once every invalidation issued before has reached the store (NULL: at once) */
    void (*barrier)(sl_cache *c, void (*cb)(void *arg, bool ok), void *arg);
} sl_cache_ops;

/* The part every store embeds first. ttl and jitter may change at any time (SIGHUP). */
struct sl_cache {
    const sl_cache_ops *ops;
    sl_cache_stats stats;
    _Atomic uint32_t ttl_s;
    _Atomic uint32_t jitter_s;
};

void sl_cache_get(sl_cache *c, const sl_cachekey *key, const sl_cache_tags *tags,
                  sl_cache_get_cb cb, void *arg);
/* ttl_s 0: the store's --ttl. Either way the entry lives ttl + random(0..jitter) seconds.
 * Consumes the ticket. What happened shows in the counters only. */
void sl_cache_put(sl_cache *c, const sl_cachekey *key, const sl_cache_tags *tags,
                  const uint8_t *entry, size_t len, uint32_t ttl_s, sl_cache_ticket *ticket);
/* Drops the entries tagged with the table (of that database), in every proxy sharing the
 * store, and refuses puts of misses that came before. */
void sl_cache_invalidate(sl_cache *c, const char *database, const char *table);
/* The same for every entry of the database. */
void sl_cache_invalidate_all(sl_cache *c, const char *database);
/* Calls cb (maybe before it returns) once every invalidation issued before through c has
 * been applied by the store, or failed (ok false: Redis down or slow; the invalidation is
 * kept and sent again when Redis is back). A session holds a write's ReadyForQuery until
 * then, so that no client learns of a commit before every proxy sharing the store would
 * miss the entries it dropped. */
void sl_cache_barrier(sl_cache *c, void (*cb)(void *arg, bool ok), void *arg);
void sl_cache_close(sl_cache *c);  /* accepts NULL */
void sl_cache_set_ttl(sl_cache *c, uint32_t ttl_s, uint32_t jitter_s);
void sl_cache_counts_read(const sl_cache *c, sl_cache_counts *out);

void sl_cache_ticket_move(sl_cache_ticket *dst, sl_cache_ticket *src);
void sl_cache_ticket_copy(sl_cache_ticket *dst, const sl_cache_ticket *src);  /* deep */
/* Whether no tag of tags was invalidated between two misses of those tags: then, the
 * earlier one's ticket, and now, the later one's (both valid; false otherwise). What a
 * memo of facts learnt at the earlier miss (verdicts.h) checks before it trusts them. */
bool sl_cache_ticket_current(sl_cache *c, const sl_cache_tags *tags,
                             const sl_cache_ticket *then, const sl_cache_ticket *now);
void sl_cache_ticket_release(sl_cache_ticket *t);  /* accepts NULL; leaves it invalid */

/* The parts of an entry: describe is the RowDescription or NoData message (len 0 when
 * absent), rows the DataRows and CommandComplete. */
typedef struct {
    const uint8_t *describe;
    size_t describe_len;
    const uint8_t *rows;
    size_t rows_len;
    size_t n_rows;
} sl_cache_entry_parts;

/* Checks the entry against the grammar above (every length in bounds); 0 or -1. */
SL_MUSTCHECK int sl_cache_entry_split(const uint8_t *entry, size_t len,
                                      sl_cache_entry_parts *out);

/* For stores: ttl_s (0: the store's) + random(0..jitter) from *rng (a splitmix64 state). */
uint32_t sl__cache_pick_ttl(sl_cache *c, uint32_t ttl_s, uint64_t *rng);
void sl__cache_init(sl_cache *c, const sl_cache_ops *ops, uint32_t ttl_s, uint32_t jitter_s);
/* Calls cb with a miss and no ticket (a store that cannot answer). */
void sl__cache_miss(sl_cache *c, sl_cache_get_cb cb, void *arg, bool error);

#endif
