/* tests/unit/test_memstore.c: proxy/memstore.h keeps its byte bound at every moment, evicts
 * the least recently used, frees at expiry (on access and by a sweep), drops exactly the
 * entries of an invalidated table, refuses puts that a later invalidation made stale, and
 * refuses entries larger than the bound. The clock is the test's own: no sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/memstore.h"

static int64_t fake_ms = 1000000;

static int64_t
test_clock(void *arg)
{
    (void)arg;
    return fake_ms;
}

static sl_memstore *
open_store(size_t max, uint32_t ttl, uint32_t jitter)
{
    sl_memstore *m = NULL;
    sl_error err = {0};
    sl_memstore_opts o = {.max_bytes = max, .ttl_s = ttl, .jitter_s = jitter,
                          .now_ms = test_clock, .seed = 42};
    if (sl_memstore_open(&m, &o, &err) != 0)
        fail_msg("open: %s", err.message);
    return m;
}

static sl_cachekey
key_of(int i)
{
    char sql[64];
    snprintf(sql, sizeof sql, "select %d", i);
    sl_cachekey_input in = {.database = "db", .user = "u", .sql = sql, .sql_len = strlen(sql)};
    sl_cachekey k;
    sl_error err = {0};
    if (sl_cachekey_make(&k, &in, &err) != 0)
        fail_msg("key: %s", err.message);
    return k;
}

static void
put_msg(uint8_t **p, char type, size_t body, uint8_t fill)
{
    uint32_t n = (uint32_t)body + 4;
    (*p)[0] = (uint8_t)type;
    (*p)[1] = (uint8_t)(n >> 24);
    (*p)[2] = (uint8_t)(n >> 16);
    (*p)[3] = (uint8_t)(n >> 8);
    (*p)[4] = (uint8_t)n;
    memset(*p + 5, fill, body);
    *p += 5 + body;
}

/* A valid entry: RowDescription, rows DataRows of row_len body bytes, CommandComplete. */
static uint8_t *
entry_of(size_t rows, size_t row_len, uint8_t fill, size_t *len)
{
    *len = 5 + 8 + rows * (5 + row_len) + 5 + 9;
    uint8_t *buf = malloc(*len), *p = buf;
    put_msg(&p, 'T', 8, 0);
    for (size_t i = 0; i < rows; i++)
        put_msg(&p, 'D', row_len, fill);
    put_msg(&p, 'C', 9, 'x');
    return buf;
}

typedef struct {
    bool called, hit;
    uint8_t first_fill;
    size_t len;
    sl_cache_ticket ticket;
} answer;

static void
on_answer(void *arg, sl_cache_answer *a)
{
    answer *out = arg;
    out->called = true;
    out->hit = a->hit;
    out->len = a->len;
    if (a->hit) {
        sl_cache_entry_parts parts;
        assert_int_equal(sl_cache_entry_split(a->entry, a->len, &parts), 0);
        out->first_fill = parts.n_rows ? parts.rows[5] : 0;
    } else {
        sl_cache_ticket_move(&out->ticket, a->ticket);
    }
}

static answer
get(sl_memstore *m, const sl_cachekey *k, const sl_cache_tags *tags)
{
    answer a = {0};
    sl_cache_get(sl_memstore_cache(m), k, tags, on_answer, &a);
    assert_true(a.called);  /* the memory store answers before get() returns */
    return a;
}

/* A miss then a put, as a session does. */
static sl_memstore_result
fill(sl_memstore *m, int i, const sl_cache_tags *tags, size_t rows, size_t row_len,
     uint32_t ttl)
{
    sl_cachekey k = key_of(i);
    answer a = get(m, &k, tags);
    size_t len;
    uint8_t *e = entry_of(rows, row_len, (uint8_t)i, &len);
    if (a.hit)
        sl_cache_ticket_release(&a.ticket);
    sl_cache_ticket t = {.valid = true, .stamp = a.ticket.stamp};
    sl_memstore_result r = sl_memstore_put(m, &k, tags, e, len, ttl, a.hit ? &t : &a.ticket);
    free(e);
    return r;
}

static bool
has(sl_memstore *m, int i)
{
    sl_cachekey k = key_of(i);
    return sl_memstore_contains(m, &k);
}

static void
check(sl_memstore *m)
{
    sl_error err = {0};
    if (sl_memstore_check(m, &err) != 0)
        fail_msg("store inconsistent: %s", err.message);
}

static const char *const T1[] = {"public.t1"};
static const char *const T2[] = {"public.t2"};
static const char *const T12[] = {"public.t1", "public.t2"};

static void
test_bound_holds_under_random_puts(void **state)
{
    (void)state;
    const size_t max = 128 * 1024;
    sl_memstore *m = open_store(max, 30, 5);
    const char *const names[] = {"a.x", "a.y", "b.z", "c.w", "d.v"};
    srand(12345);
    unsigned stored = 0, refused = 0;
    for (int op = 0; op < 20000; op++) {
        int r = rand() % 100;
        const char *table[2] = {names[rand() % 5], names[rand() % 5]};
        sl_cache_tags tags = {.database = rand() % 2 ? "db1" : "db2", .tables = table,
                              .n_tables = (size_t)(rand() % 3)};
        if (r < 70) {
            size_t rows = (size_t)(rand() % 40), row_len = (size_t)(rand() % 600);
            if (rand() % 200 == 0)
                rows = 200;  /* now and then larger than the whole store */
            sl_memstore_result res = fill(m, rand() % 300, &tags, rows, row_len,
                                          (uint32_t)(rand() % 3));
            stored += res == SL_MEMSTORE_STORED;
            refused += res == SL_MEMSTORE_TOO_BIG;
        } else if (r < 80) {
            sl_cache_invalidate(sl_memstore_cache(m), tags.database, table[0]);
        } else if (r < 82) {
            sl_cache_invalidate_all(sl_memstore_cache(m), tags.database);
        } else if (r < 90) {
            fake_ms += rand() % 5000;
            sl_memstore_sweep(m);
        } else {
            sl_cachekey k = key_of(rand() % 300);
            answer a = get(m, &k, &tags);
            sl_cache_ticket_release(&a.ticket);
        }
        assert_true(sl_memstore_used(m) <= max);
        check(m);
    }
    assert_true(stored > 1000);  /* the test did fill the store */
    assert_true(refused > 0);
    sl_cache_counts c;
    sl_cache_counts_read(sl_memstore_cache(m), &c);
    assert_true(c.evictions > 0);
    assert_true(c.expirations > 0);
    sl_cache_close(sl_memstore_cache(m));
}

/* The size of an empty store plus n entries of this shape, measured. */
static size_t
room_for(size_t n, size_t rows, size_t row_len)
{
    sl_memstore *m = open_store(1 << 20, 60, 0);
    sl_cache_tags tags = {.database = "db", .tables = T1, .n_tables = 1};
    for (size_t i = 0; i < n; i++)
        assert_int_equal(fill(m, (int)i, &tags, rows, row_len, 0), SL_MEMSTORE_STORED);
    size_t used = sl_memstore_used(m);
    sl_cache_close(sl_memstore_cache(m));
    return used;
}

static void
test_lru_order(void **state)
{
    (void)state;
    /* Room for three entries plus a tag node's worth of slack, not four. */
    size_t three = room_for(3, 4, 100), four = room_for(4, 4, 100);
    sl_memstore *m = open_store(three + (four - three) / 2, 60, 0);
    sl_cache_tags tags = {.database = "db", .tables = T1, .n_tables = 1};
    for (int i = 1; i <= 3; i++)
        assert_int_equal(fill(m, i, &tags, 4, 100, 0), SL_MEMSTORE_STORED);
    sl_cachekey k1 = key_of(1);
    answer a = get(m, &k1, &tags);  /* 1 becomes the most recent: 2 is now the oldest */
    assert_true(a.hit);
    assert_int_equal(fill(m, 4, &tags, 4, 100, 0), SL_MEMSTORE_STORED);
    assert_true(has(m, 1));
    assert_false(has(m, 2));
    assert_true(has(m, 3));
    assert_true(has(m, 4));
    assert_int_equal(fill(m, 5, &tags, 4, 100, 0), SL_MEMSTORE_STORED);
    assert_false(has(m, 3));  /* then 3, the oldest left */
    assert_true(has(m, 1));
    sl_cache_counts c;
    sl_cache_counts_read(sl_memstore_cache(m), &c);
    assert_int_equal(c.evictions, 2);
    assert_int_equal(c.entries, 3);
    check(m);
    sl_cache_close(sl_memstore_cache(m));
}

static void
test_expiry_frees_on_access_and_sweep(void **state)
{
    (void)state;
    sl_memstore *m = open_store(1 << 20, 10, 0);
    sl_cache_tags tags = {.database = "db", .tables = T1, .n_tables = 1};
    size_t empty = sl_memstore_used(m);
    assert_int_equal(fill(m, 1, &tags, 10, 100, 0), SL_MEMSTORE_STORED);
    fake_ms += 9999;
    assert_true(has(m, 1));
    fake_ms += 1;
    sl_cachekey k = key_of(1);
    answer a = get(m, &k, &tags);
    assert_false(a.hit);
    sl_cache_ticket_release(&a.ticket);
    sl_cache_counts c;
    sl_cache_counts_read(sl_memstore_cache(m), &c);
    assert_int_equal(c.expirations, 1);
    assert_int_equal(c.entries, 0);
    /* Freed: only the heap's array (kept for reuse) is left beyond the empty store. */
    assert_true(sl_memstore_used(m) <= empty + 8 * sizeof(void *));

    assert_int_equal(fill(m, 2, &tags, 1, 10, 5), SL_MEMSTORE_STORED);
    assert_int_equal(fill(m, 3, &tags, 1, 10, 20), SL_MEMSTORE_STORED);
    assert_int_equal(fill(m, 4, &tags, 1, 10, 10), SL_MEMSTORE_STORED);
    fake_ms += 10000;
    assert_int_equal(sl_memstore_sweep(m), 2);
    assert_true(has(m, 3));
    assert_false(has(m, 2));
    assert_false(has(m, 4));
    fake_ms += 10000;
    assert_int_equal(sl_memstore_sweep(m), 1);
    check(m);
    sl_cache_close(sl_memstore_cache(m));
}

static void
test_ttl_jitter(void **state)
{
    (void)state;
    sl_memstore *m = open_store(1 << 22, 10, 5);
    sl_cache_tags tags = {.database = "db", .tables = T1, .n_tables = 1};
    for (int i = 0; i < 50; i++)
        assert_int_equal(fill(m, i, &tags, 1, 10, 0), SL_MEMSTORE_STORED);
    fake_ms += 9999;
    assert_int_equal(sl_memstore_sweep(m), 0);
    fake_ms += 1;
    size_t at_ttl = sl_memstore_sweep(m);
    fake_ms += 4999;
    size_t before_end = sl_memstore_sweep(m);
    fake_ms += 1;
    size_t at_end = sl_memstore_sweep(m);
    assert_int_equal(at_ttl + before_end + at_end, 50);  /* all within ttl + jitter */
    assert_true(before_end > 0 && at_end > 0);           /* spread, not one instant */
    sl_cache_close(sl_memstore_cache(m));
}

static void
test_invalidation_drops_exactly_the_tagged(void **state)
{
    (void)state;
    sl_memstore *m = open_store(1 << 20, 60, 0);
    sl_cache_tags t1 = {.database = "db", .tables = T1, .n_tables = 1};
    sl_cache_tags t2 = {.database = "db", .tables = T2, .n_tables = 1};
    sl_cache_tags t12 = {.database = "db", .tables = T12, .n_tables = 2};
    sl_cache_tags other_db = {.database = "db2", .tables = T1, .n_tables = 1};
    sl_cache_tags none = {.database = "db"};
    assert_int_equal(fill(m, 1, &t1, 1, 10, 0), SL_MEMSTORE_STORED);
    assert_int_equal(fill(m, 2, &t2, 1, 10, 0), SL_MEMSTORE_STORED);
    assert_int_equal(fill(m, 3, &t12, 1, 10, 0), SL_MEMSTORE_STORED);
    assert_int_equal(fill(m, 4, &other_db, 1, 10, 0), SL_MEMSTORE_STORED);
    assert_int_equal(fill(m, 5, &none, 1, 10, 0), SL_MEMSTORE_STORED);
    assert_int_equal(fill(m, 6, &t1, 1, 10, 0), SL_MEMSTORE_STORED);
    sl_cache_invalidate(sl_memstore_cache(m), "db", "public.t1");
    assert_false(has(m, 1));
    assert_true(has(m, 2));
    assert_false(has(m, 3));
    assert_true(has(m, 4));
    assert_true(has(m, 5));
    assert_false(has(m, 6));
    sl_cache_counts c;
    sl_cache_counts_read(sl_memstore_cache(m), &c);
    assert_int_equal(c.invalidations, 1);
    assert_int_equal(c.invalidated, 3);
    check(m);
    sl_cache_invalidate_all(sl_memstore_cache(m), "db");
    assert_false(has(m, 2));
    assert_false(has(m, 5));
    assert_true(has(m, 4));
    sl_cache_invalidate(sl_memstore_cache(m), "db2", "public.t2");  /* tags nothing */
    assert_true(has(m, 4));
    check(m);
    sl_cache_close(sl_memstore_cache(m));
}

static void
test_put_after_invalidation_is_refused(void **state)
{
    (void)state;
    sl_memstore *m = open_store(1 << 20, 60, 0);
    sl_cache_tags t12 = {.database = "db", .tables = T12, .n_tables = 2};
    sl_cache_tags t1 = {.database = "db", .tables = T1, .n_tables = 1};
    sl_cachekey k = key_of(1), k2 = key_of(2);
    answer a = get(m, &k, &t12);  /* miss: the statement goes upstream */
    answer b = get(m, &k2, &t1);
    assert_false(a.hit);
    sl_cache_invalidate(sl_memstore_cache(m), "db", "public.t2");  /* a write committed */
    size_t len;
    uint8_t *e = entry_of(2, 10, 1, &len);
    assert_int_equal(sl_memstore_put(m, &k, &t12, e, len, 0, &a.ticket), SL_MEMSTORE_STALE);
    assert_false(has(m, 1));
    assert_int_equal(sl_memstore_put(m, &k2, &t1, e, len, 0, &b.ticket), SL_MEMSTORE_STORED);
    sl_cache_invalidate_all(sl_memstore_cache(m), "db");
    a = get(m, &k, &t12);
    assert_false(a.hit);
    assert_int_equal(sl_memstore_put(m, &k, &t12, e, len, 0, &a.ticket), SL_MEMSTORE_STORED);
    assert_int_equal(sl_memstore_put(m, &k, &t12, e, len, 0, &a.ticket), SL_MEMSTORE_NO_TICKET);
    sl_cache_counts c;
    sl_cache_counts_read(sl_memstore_cache(m), &c);
    assert_int_equal(c.stale_refused, 1);
    free(e);
    sl_cache_close(sl_memstore_cache(m));
}

/* A fact learnt after one miss holds at a later miss only if no invalidation of the tags
 * came between them: of the database, or of a table when the tags name it. */
static void
test_ticket_current_until_an_invalidation(void **state)
{
    (void)state;
    sl_memstore *m = open_store(1 << 20, 60, 0);
    sl_cache *c = sl_memstore_cache(m);
    sl_cache_tags db = {.database = "db"}, other = {.database = "other"};
    sl_cachekey k = key_of(1);
    answer then = get(m, &k, &db), now = get(m, &k, &db);
    assert_true(sl_cache_ticket_current(c, &db, &then.ticket, &now.ticket));
    sl_cache_invalidate_all(c, "other");  /* another database: not this one's business */
    sl_cache_ticket_release(&now.ticket);
    now = get(m, &k, &db);
    assert_true(sl_cache_ticket_current(c, &db, &then.ticket, &now.ticket));
    answer o = get(m, &k, &other);
    sl_cache_invalidate_all(c, "db");
    sl_cache_ticket_release(&now.ticket);
    now = get(m, &k, &db);
    assert_false(sl_cache_ticket_current(c, &db, &then.ticket, &now.ticket));
    sl_cache_ticket none = {0};
    assert_false(sl_cache_ticket_current(c, &db, &none, &now.ticket));
    sl_cache_ticket_copy(&none, &now.ticket);  /* a copy is as good as the original */
    assert_true(sl_cache_ticket_current(c, &db, &none, &now.ticket));
    sl_cache_ticket_release(&none);
    sl_cache_ticket_release(&o.ticket);
    sl_cache_ticket_release(&now.ticket);
    sl_cache_ticket_release(&then.ticket);
    sl_cache_close(c);
}

static void
test_replaced_entry(void **state)
{
    (void)state;
    sl_memstore *m = open_store(1 << 20, 60, 0);
    sl_cache_tags t1 = {.database = "db", .tables = T1, .n_tables = 1};
    sl_cachekey k = key_of(7);
    size_t len1, len2;
    uint8_t *e1 = entry_of(3, 50, 0xaa, &len1), *e2 = entry_of(1, 20, 0xbb, &len2);
    answer a = get(m, &k, &t1);
    assert_int_equal(sl_memstore_put(m, &k, &t1, e1, len1, 0, &a.ticket), SL_MEMSTORE_STORED);
    size_t used1 = sl_memstore_used(m);
    a = get(m, &k, &t1);
    assert_true(a.hit);
    assert_int_equal(a.first_fill, 0xaa);
    sl_cache_ticket t = {.valid = true};
    assert_int_equal(sl_memstore_put(m, &k, &t1, e2, len2, 0, &t), SL_MEMSTORE_STORED);
    a = get(m, &k, &t1);
    assert_true(a.hit);
    assert_int_equal(a.len, len2);
    assert_int_equal(a.first_fill, 0xbb);
    assert_int_equal(sl_memstore_used(m), used1 - (len1 - len2));
    sl_cache_counts c;
    sl_cache_counts_read(sl_memstore_cache(m), &c);
    assert_int_equal(c.entries, 1);
    assert_int_equal(c.hits, 2);
    assert_int_equal(c.bytes_served, len1 + len2);
    check(m);
    free(e1);
    free(e2);
    sl_cache_close(sl_memstore_cache(m));
}

static void
test_huge_entry_refused_without_evicting(void **state)
{
    (void)state;
    sl_memstore *m = open_store(64 * 1024, 60, 0);
    sl_cache_tags t1 = {.database = "db", .tables = T1, .n_tables = 1};
    for (int i = 0; i < 5; i++)
        assert_int_equal(fill(m, i, &t1, 2, 100, 0), SL_MEMSTORE_STORED);
    assert_int_equal(fill(m, 99, &t1, 40, 1000, 0), SL_MEMSTORE_TOO_BIG);
    for (int i = 0; i < 5; i++)
        assert_true(has(m, i));  /* nothing was evicted for it */
    assert_false(has(m, 99));
    sl_cache_counts c;
    sl_cache_counts_read(sl_memstore_cache(m), &c);
    assert_int_equal(c.too_big, 1);
    assert_int_equal(c.evictions, 0);
    check(m);
    sl_cache_close(sl_memstore_cache(m));
}

static void
test_bad_entries_and_tiny_store_refused(void **state)
{
    (void)state;
    sl_memstore *m = open_store(1 << 20, 60, 0);
    sl_cache_tags t1 = {.database = "db", .tables = T1, .n_tables = 1};
    sl_cachekey k = key_of(1);
    static const struct { const char *name; uint8_t bytes[16]; size_t len; } bad[] = {
        {"empty", {0}, 0},
        {"no CommandComplete", {'D', 0, 0, 0, 4}, 5},
        {"length past the end", {'C', 0, 0, 0, 9, 'x'}, 6},
        {"length below 4", {'C', 0, 0, 0, 3}, 5},
        {"bytes after CommandComplete", {'C', 0, 0, 0, 4, 'Z', 0, 0, 0, 5, 'I'}, 11},
        {"ReadyForQuery inside", {'Z', 0, 0, 0, 5, 'I', 'C', 0, 0, 0, 4}, 11},
        {"two RowDescriptions", {'T', 0, 0, 0, 4, 'T', 0, 0, 0, 4, 'C', 0, 0, 0, 4}, 15},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sl_cache_ticket t = {.valid = true};
        if (sl_memstore_put(m, &k, &t1, bad[i].bytes, bad[i].len, 0, &t) !=
            SL_MEMSTORE_BAD_ENTRY)
            fail_msg("accepted: %s", bad[i].name);
    }
    sl_cache_close(sl_memstore_cache(m));
    sl_memstore *tiny = NULL;
    sl_error err = {0};
    sl_memstore_opts o = {.max_bytes = 100};
    assert_int_equal(sl_memstore_open(&tiny, &o, &err), -1);
    assert_int_equal(err.kind, SL_E_USAGE);
    assert_non_null(strstr(err.message, "too small"));
}

static void *
hammer(void *arg)
{
    sl_memstore *m = arg;
    unsigned seed = (unsigned)(uintptr_t)pthread_self();
    const char *const names[] = {"a.x", "a.y", "b.z"};
    for (int op = 0; op < 3000; op++) {
        int r = rand_r(&seed) % 10;
        const char *table[1] = {names[rand_r(&seed) % 3]};
        sl_cache_tags tags = {.database = "db", .tables = table, .n_tables = 1};
        int i = rand_r(&seed) % 100;
        if (r < 6) {
            sl_cachekey k = key_of(i);
            answer a = get(m, &k, &tags);
            size_t len;
            uint8_t *e = entry_of((size_t)(rand_r(&seed) % 20), 50, (uint8_t)i, &len);
            if (!a.hit)
                (void)sl_memstore_put(m, &k, &tags, e, len, 0, &a.ticket);
            free(e);
        } else if (r < 7) {
            sl_cache_invalidate(sl_memstore_cache(m), "db", table[0]);
        } else if (r < 8) {
            sl_memstore_sweep(m);
        } else {
            sl_cachekey k = key_of(i);
            answer a = get(m, &k, &tags);
            sl_cache_ticket_release(&a.ticket);
        }
    }
    return NULL;
}

/* Several loop threads share one store (run it under -DSL_TSAN=ON to see the locking). */
static void
test_threads_share_the_store(void **state)
{
    (void)state;
    sl_memstore *m = open_store(48 * 1024, 60, 3);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer, m), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    check(m);
    sl_cache_counts c;
    sl_cache_counts_read(sl_memstore_cache(m), &c);
    assert_true(c.hits > 0 && c.puts > 0 && c.evictions > 0);
    sl_cache_close(sl_memstore_cache(m));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bound_holds_under_random_puts),
        cmocka_unit_test(test_lru_order),
        cmocka_unit_test(test_expiry_frees_on_access_and_sweep),
        cmocka_unit_test(test_ttl_jitter),
        cmocka_unit_test(test_invalidation_drops_exactly_the_tagged),
        cmocka_unit_test(test_put_after_invalidation_is_refused),
        cmocka_unit_test(test_ticket_current_until_an_invalidation),
        cmocka_unit_test(test_replaced_entry),
        cmocka_unit_test(test_huge_entry_refused_without_evicting),
        cmocka_unit_test(test_bad_entries_and_tiny_store_refused),
        cmocka_unit_test(test_threads_share_the_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
