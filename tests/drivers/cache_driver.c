/* tests/drivers/cache_driver.c: drives a cache store (proxy/cache.h) for
 * tests/e2e/test_cache_store.py, one command per line on stdin, one answer line on stdout:
 *   get NAME DB [TABLE...]              "hit PAYLOAD" or "miss" (a miss keeps NAME's ticket)
 *   put NAME DB TTL PAYLOAD [TABLE...]  stores a one-row entry with NAME's ticket (TTL 0: the
 *                                       store's); "stored", "stale" or "dropped"
 *   inv DB TABLE | invall DB            "ok" once the store has answered
 *   ready MS                            waits up to MS ms for the store: "ready" / "not ready"
 *   stats                               the counters, "name=value ..."
 * The key of NAME is made from NAME as the SQL text and DB as the database.
 *   cache_driver STORE [--timeout-ms N] [--backoff-ms N] [--ttl N] [--jitter N]
 * STORE is redis://... or memory:BYTES. Warnings go to stderr. Exit 0, or 2 on bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "base/log.h"
#include "proxy/cache.h"
#include "proxy/cachekey.h"
#include "proxy/memstore.h"
#include "proxy/redisstore.h"

#define MAX_WORDS 32
#define MAX_TICKETS 64

typedef struct {
    uv_loop_t *loop;
    sl_cache *cache;
    sl_redisstore *redis;  /* NULL for the memory store */
    struct {
        char name[64];
        sl_cache_ticket ticket;
    } tickets[MAX_TICKETS];
} driver;

typedef struct {
    bool done;
    bool hit;
    char payload[256];
    sl_cache_ticket ticket;
} got;

static sl_cache_ticket *
ticket_of(driver *d, const char *name)
{
    for (int i = 0; i < MAX_TICKETS; i++)
        if (strcmp(d->tickets[i].name, name) == 0)
            return &d->tickets[i].ticket;
    for (int i = 0; i < MAX_TICKETS; i++) {
        if (!d->tickets[i].name[0]) {
            snprintf(d->tickets[i].name, sizeof d->tickets[i].name, "%s", name);
            return &d->tickets[i].ticket;
        }
    }
    fprintf(stderr, "too many names\n");
    exit(2);
}

static sl_cachekey
key_of(const char *name, const char *db)
{
    sl_cachekey_input in = {.database = db, .user = "driver", .sql = name,
                            .sql_len = strlen(name)};
    sl_cachekey k;
    sl_error err = {0};
    if (sl_cachekey_make(&k, &in, &err) != 0) {
        fprintf(stderr, "error: %s\n", err.message);
        exit(2);
    }
    return k;
}

static void
on_got(void *arg, sl_cache_answer *a)
{
    got *g = arg;
    g->done = true;
    g->hit = a->hit;
    if (!a->hit) {
        sl_cache_ticket_move(&g->ticket, a->ticket);
        return;
    }
    sl_cache_entry_parts p;
    if (sl_cache_entry_split(a->entry, a->len, &p) != 0 || p.n_rows != 1) {
        snprintf(g->payload, sizeof g->payload, "<bad entry>");
        return;
    }
    size_t n = p.rows_len >= 11 ? (size_t)p.rows[7] << 24 | (size_t)p.rows[8] << 16 |
                                      (size_t)p.rows[9] << 8 | p.rows[10]
                                : 0;
    snprintf(g->payload, sizeof g->payload, "%.*s", (int)n, (const char *)p.rows + 11);
}

static void
run_until(driver *d, const bool *done)
{
    while (!*done)
        uv_run(d->loop, UV_RUN_ONCE);
}

static void
on_barrier(void *arg, bool ok)
{
    (void)ok;
    *(bool *)arg = true;
}

/* Waits until every command sent so far is answered (the memory store answers at once). */
static void
settle(driver *d)
{
    bool done = false;
    if (!d->redis)
        return;
    sl_redisstore_barrier(d->redis, on_barrier, &done);
    run_until(d, &done);
}

static void
cmd_get(driver *d, char **w, int n)
{
    sl_cachekey k = key_of(w[1], w[2]);
    sl_cache_tags tags = {.database = w[2], .tables = (const char *const *)w + 3,
                          .n_tables = (size_t)(n - 3)};
    got g = {0};
    sl_cache_get(d->cache, &k, &tags, on_got, &g);
    run_until(d, &g.done);
    if (g.hit) {
        printf("hit %s\n", g.payload);
        return;
    }
    sl_cache_ticket *t = ticket_of(d, w[1]);
    sl_cache_ticket_release(t);
    sl_cache_ticket_move(t, &g.ticket);
    printf("miss\n");
}

/* RowDescription (no fields), one DataRow holding the payload, CommandComplete. */
static size_t
entry_of(const char *payload, uint8_t *buf)
{
    size_t n = strlen(payload), o = 0;
    uint32_t drlen = (uint32_t)(4 + 2 + 4 + n);
    const uint8_t head[] = {'T', 0, 0, 0, 6, 0, 0, 'D', (uint8_t)(drlen >> 24),
                            (uint8_t)(drlen >> 16), (uint8_t)(drlen >> 8), (uint8_t)drlen, 0, 1,
                            (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8),
                            (uint8_t)n};
    memcpy(buf, head, sizeof head);
    o += sizeof head;
    memcpy(buf + o, payload, n);
    o += n;
    memcpy(buf + o, "C\0\0\0\015SELECT 1", 14);
    return o + 14;
}

static void
cmd_put(driver *d, char **w, int n)
{
    sl_cachekey k = key_of(w[1], w[2]);
    sl_cache_tags tags = {.database = w[2], .tables = (const char *const *)w + 5,
                          .n_tables = (size_t)(n - 5)};
    uint8_t buf[512];
    size_t len = entry_of(w[4], buf);
    sl_cache_counts before, after;
    sl_cache_counts_read(d->cache, &before);
    sl_cache_put(d->cache, &k, &tags, buf, len, (uint32_t)strtoul(w[3], NULL, 10),
                 ticket_of(d, w[1]));
    settle(d);
    sl_cache_counts_read(d->cache, &after);
    printf("%s\n", after.puts > before.puts                 ? "stored"
                   : after.stale_refused > before.stale_refused ? "stale"
                                                                : "dropped");
}

static void
on_ready_timer(uv_timer_t *t)
{
    *(bool *)t->data = true;
}

static void
cmd_ready(driver *d, int ms)
{
    bool timed_out = false;
    uv_timer_t t;
    uv_timer_init(d->loop, &t);
    t.data = &timed_out;
    uv_timer_start(&t, on_ready_timer, (uint64_t)ms, 0);
    while (d->redis && !sl_redisstore_ready(d->redis) && !timed_out)
        uv_run(d->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(d->loop, UV_RUN_NOWAIT);
    printf("%s\n", !d->redis || sl_redisstore_ready(d->redis) ? "ready" : "not ready");
}

static void
cmd_stats(driver *d)
{
    sl_cache_counts c;
    sl_cache_counts_read(d->cache, &c);
    printf("hits=%lu misses=%lu bytes_served=%lu entries=%lu bytes_stored=%lu puts=%lu "
           "evictions=%lu invalidations=%lu invalidated=%lu expirations=%lu "
           "stale_refused=%lu too_big=%lu errors=%lu\n",
           (unsigned long)c.hits, (unsigned long)c.misses, (unsigned long)c.bytes_served,
           (unsigned long)c.entries, (unsigned long)c.bytes_stored, (unsigned long)c.puts,
           (unsigned long)c.evictions, (unsigned long)c.invalidations,
           (unsigned long)c.invalidated, (unsigned long)c.expirations,
           (unsigned long)c.stale_refused, (unsigned long)c.too_big, (unsigned long)c.errors);
}

static bool
run_line(driver *d, char *line)
{
    char *w[MAX_WORDS];
    int n = 0;
    for (char *tok = strtok(line, " \t\r\n"); tok && n < MAX_WORDS; tok = strtok(NULL, " \t\r\n"))
        w[n++] = tok;
    if (n == 0)
        return true;
    if (strcmp(w[0], "get") == 0 && n >= 3)
        cmd_get(d, w, n);
    else if (strcmp(w[0], "put") == 0 && n >= 5)
        cmd_put(d, w, n);
    else if (strcmp(w[0], "inv") == 0 && n == 3) {
        sl_cache_invalidate(d->cache, w[1], w[2]);
        settle(d);
        printf("ok\n");
    } else if (strcmp(w[0], "invall") == 0 && n == 2) {
        sl_cache_invalidate_all(d->cache, w[1]);
        settle(d);
        printf("ok\n");
    } else if (strcmp(w[0], "ready") == 0 && n == 2)
        cmd_ready(d, atoi(w[1]));
    else if (strcmp(w[0], "stats") == 0)
        cmd_stats(d);
    else if (strcmp(w[0], "quit") == 0)
        return false;
    else
        printf("error: bad command %s\n", w[0]);
    fflush(stdout);
    return true;
}

static int
open_store(driver *d, const char *store, int argc, char **argv)
{
    sl_redisstore_opts ro = {.url = store, .ttl_s = 60};
    for (int i = 2; i + 1 < argc; i += 2) {
        int v = atoi(argv[i + 1]);
        if (strcmp(argv[i], "--timeout-ms") == 0)
            ro.timeout_ms = v;
        else if (strcmp(argv[i], "--backoff-ms") == 0)
            ro.backoff_min_ms = ro.backoff_max_ms = v;
        else if (strcmp(argv[i], "--ttl") == 0)
            ro.ttl_s = (uint32_t)v;
        else if (strcmp(argv[i], "--jitter") == 0)
            ro.jitter_s = (uint32_t)v;
        else
            return -1;
    }
    sl_error err = {0};
    if (strncmp(store, "memory:", 7) == 0) {
        sl_memstore *m = NULL;
        sl_memstore_opts mo = {.max_bytes = strtoul(store + 7, NULL, 10), .ttl_s = ro.ttl_s,
                               .jitter_s = ro.jitter_s};
        if (sl_memstore_open(&m, &mo, &err) != 0)
            goto fail;
        d->cache = sl_memstore_cache(m);
        return 0;
    }
    if (sl_redisstore_open(&d->redis, d->loop, &ro, &err) != 0)
        goto fail;
    d->cache = sl_redisstore_cache(d->redis);
    return 0;
fail:
    fprintf(stderr, "error: %s\n", err.message);
    return -1;
}

int
main(int argc, char **argv)
{
    static driver d;
    if (argc < 2) {
        fprintf(stderr, "usage: cache_driver STORE [--timeout-ms N] [--backoff-ms N] "
                        "[--ttl N] [--jitter N]\n");
        return 2;
    }
    sl_log_setup(SL_LOG_INFO, SL_LOG_HUMAN);
    d.loop = uv_default_loop();
    if (open_store(&d, argv[1], argc, argv) != 0)
        return 2;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, stdin) > 0 && run_line(&d, line)) {
    }
    free(line);
    for (int i = 0; i < MAX_TICKETS; i++)
        sl_cache_ticket_release(&d.tickets[i].ticket);
    sl_cache_close(d.cache);
    uv_run(d.loop, UV_RUN_DEFAULT);
    uv_loop_close(d.loop);
    return 0;
}
