/* tests/unit/test_verdicts.c: proxy/verdicts.h gives back what was put under a key (its
 * refusal and a copy of its ticket) until it expires or is dropped, replaces a key's verdict,
 * keeps keys apart (a prefix or a NULL-vs-"" name is another key), stays within its bounds
 * by clearing when full, records nothing without a ticket, and is safe from several threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "proxy/cacheflow.h"
#include "proxy/verdicts.h"

static const char REFUSED[] = "reads a table with row-level security";

static sl_cache_ticket
ticket(uint64_t stamp, const char *token)
{
    sl_cache_ticket t = {.valid = true, .stamp = stamp};
    if (token) {
        t.tokens = malloc(sizeof *t.tokens);
        t.tokens[0] = strdup(token);
        t.n_tokens = 1;
    }
    return t;
}

static void
test_put_get_replace_drop(void **state)
{
    (void)state;
    sl_verdicts *v = sl_verdicts_new(16, 1 << 20);
    sl_cache_ticket t = ticket(7, "gen-a"), got;
    const char *r = "unset";
    assert_false(sl_verdicts_get(v, "k1", 2, 0, &r, &got));
    assert_false(got.valid);
    sl_verdicts_put(v, "k1", 2, NULL, &t, 1000);
    sl_cache_ticket_release(&t);  /* the memo keeps a copy */
    assert_true(sl_verdicts_get(v, "k1", 2, 999, &r, &got));
    assert_null(r);
    assert_true(got.valid);
    assert_int_equal(got.stamp, 7);
    assert_int_equal(got.n_tokens, 1);
    assert_string_equal(got.tokens[0], "gen-a");
    sl_cache_ticket_release(&got);
    assert_false(sl_verdicts_get(v, "k", 1, 0, &r, &got));    /* a prefix: another key */
    assert_false(sl_verdicts_get(v, "k1x", 3, 0, &r, &got));
    t = ticket(8, NULL);
    sl_verdicts_put(v, "k1", 2, REFUSED, &t, 2000);            /* replaces */
    assert_true(sl_verdicts_get(v, "k1", 2, 1500, &r, &got));
    assert_ptr_equal(r, REFUSED);
    assert_int_equal(got.stamp, 8);
    sl_cache_ticket_release(&got);
    sl_verdicts_drop(v, "k1", 2);
    assert_false(sl_verdicts_get(v, "k1", 2, 0, &r, &got));
    sl_verdicts_counts c;
    sl_verdicts_counts_read(v, &c);
    assert_int_equal(c.entries, 0);
    assert_int_equal(c.bytes, 0);
    assert_int_equal(c.hits, 2);
    assert_int_equal(c.misses, 4);
    sl_cache_ticket_release(&t);
    sl_verdicts_free(v);
}

static void
test_expiry_and_no_ticket(void **state)
{
    (void)state;
    sl_verdicts *v = sl_verdicts_new(16, 1 << 20);
    sl_cache_ticket t = ticket(1, NULL), none = {0}, got;
    const char *r;
    sl_verdicts_put(v, "a", 1, NULL, &t, 100);
    sl_verdicts_put(v, "b", 1, NULL, &none, 100);  /* a miss with no ticket: nothing */
    sl_verdicts_put(v, "c", 1, NULL, NULL, 100);
    assert_false(sl_verdicts_get(v, "b", 1, 0, &r, &got));
    assert_false(sl_verdicts_get(v, "c", 1, 0, &r, &got));
    assert_true(sl_verdicts_get(v, "a", 1, 99, &r, &got));
    sl_cache_ticket_release(&got);
    assert_false(sl_verdicts_get(v, "a", 1, 100, &r, &got));  /* expired: dropped */
    sl_verdicts_counts c;
    sl_verdicts_counts_read(v, &c);
    assert_int_equal(c.entries, 0);
    sl_verdicts_free(v);
}

static void
test_cleared_when_full(void **state)
{
    (void)state;
    sl_verdicts *v = sl_verdicts_new(4, 1 << 20);
    sl_cache_ticket t = ticket(1, NULL), got;
    const char *r;
    char key[16];
    for (int i = 0; i < 4; i++) {
        snprintf(key, sizeof key, "key%d", i);
        sl_verdicts_put(v, key, strlen(key), NULL, &t, 100);
    }
    sl_verdicts_counts c;
    sl_verdicts_counts_read(v, &c);
    assert_int_equal(c.entries, 4);
    assert_int_equal(c.clears, 0);
    sl_verdicts_put(v, "key4", 4, NULL, &t, 100);  /* a fifth: all go, then it is put */
    sl_verdicts_counts_read(v, &c);
    assert_int_equal(c.entries, 1);
    assert_int_equal(c.clears, 1);
    assert_false(sl_verdicts_get(v, "key0", 4, 0, &r, &got));
    assert_true(sl_verdicts_get(v, "key4", 4, 0, &r, &got));
    sl_cache_ticket_release(&got);
    sl_verdicts_put(v, "key4", 4, REFUSED, &t, 100);  /* a replacement is no new entry */
    sl_verdicts_counts_read(v, &c);
    assert_int_equal(c.entries, 1);
    assert_int_equal(c.clears, 1);
    sl_verdicts_free(v);

    /* the byte bound: entries of a 1000-byte key, at most 3000 bytes */
    v = sl_verdicts_new(100, 3000);
    char big[1000];
    for (int i = 0; i < 5; i++) {
        memset(big, 'a' + i, sizeof big);
        sl_verdicts_put(v, big, sizeof big, NULL, &t, 100);
        sl_verdicts_counts_read(v, &c);
        assert_true(c.bytes <= 3000);
        assert_true(c.entries >= 1);
    }
    assert_true(c.clears >= 1);
    sl_verdicts_put(v, "x", 1, NULL, &t, 100);
    char huge[4000];
    memset(huge, 'h', sizeof huge);
    sl_verdicts_put(v, huge, sizeof huge, NULL, &t, 100);  /* over the bound alone: not kept */
    assert_false(sl_verdicts_get(v, huge, sizeof huge, 0, &r, &got));
    sl_cache_ticket_release(&t);
    sl_verdicts_free(v);
}

/* The framed key: NULL schema and "" schema differ, and fields do not run into each other. */
static void
test_verdict_keys_keep_fields_apart(void **state)
{
    (void)state;
    sl_sql_name unq = {.schema = NULL, .name = "t"}, empty = {.schema = "", .name = "t"};
    sl_sql_name ab = {.schema = "a", .name = "bt"}, abt = {.schema = "ab", .name = "t"};
    sl_buf k[6];
    for (int i = 0; i < 6; i++)
        sl_buf_init(&k[i]);
    sl_cacheflow_verdict_key(&k[0], "db", "u", "public", &unq, 1);
    sl_cacheflow_verdict_key(&k[1], "db", "u", "public", &empty, 1);
    sl_cacheflow_verdict_key(&k[2], "db", "u", "public", &ab, 1);
    sl_cacheflow_verdict_key(&k[3], "db", "u", "public", &abt, 1);
    sl_cacheflow_verdict_key(&k[4], "db", "u2", "public", &unq, 1);
    sl_cacheflow_verdict_key(&k[5], "db", "u", "\"$user\", public", &unq, 1);
    for (int i = 0; i < 6; i++)
        for (int j = i + 1; j < 6; j++)
            assert_false(k[i].len == k[j].len && memcmp(k[i].data, k[j].data, k[i].len) == 0);
    sl_buf again = SL_BUF_INIT;
    sl_cacheflow_verdict_key(&again, "db", "u", "public", &unq, 1);
    assert_memory_equal(again.data, k[0].data, k[0].len);
    sl_buf_free(&again);
    for (int i = 0; i < 6; i++)
        sl_buf_free(&k[i]);
}

static void *
hammer(void *arg)
{
    sl_verdicts *v = arg;
    sl_cache_ticket t = ticket(3, "tok"), got;
    const char *r;
    char key[16];
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "k%d", i % 97);
        if (i % 3 == 0)
            sl_verdicts_put(v, key, strlen(key), i % 2 ? REFUSED : NULL, &t, 1000);
        else if (sl_verdicts_get(v, key, strlen(key), 0, &r, &got)) {
            assert_string_equal(got.tokens[0], "tok");
            sl_cache_ticket_release(&got);
        }
        if (i % 101 == 0)
            sl_verdicts_drop(v, key, strlen(key));
    }
    sl_cache_ticket_release(&t);
    return NULL;
}

static void
test_threads_share_the_memo(void **state)
{
    (void)state;
    sl_verdicts *v = sl_verdicts_new(32, 1 << 20);  /* small: clears happen under the race */
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, hammer, v), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    sl_verdicts_counts c;
    sl_verdicts_counts_read(v, &c);
    assert_true(c.entries <= 32);
    assert_true(c.clears > 0);
    sl_verdicts_free(v);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_replace_drop),
        cmocka_unit_test(test_expiry_and_no_ticket),
        cmocka_unit_test(test_cleared_when_full),
        cmocka_unit_test(test_verdict_keys_keep_fields_apart),
        cmocka_unit_test(test_threads_share_the_memo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
