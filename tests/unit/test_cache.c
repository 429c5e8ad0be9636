/* tests/unit/test_cache.c: proxy/cache.h's entry grammar (the parts a session replays for a
 * simple Query, or for an extended Execute with or without Describe), tickets, and TTL with
 * jitter staying within ttl..ttl+jitter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/mem.h"
#include "proxy/cache.h"

#define MSG(t, ...) t, 0, 0, 0, (uint8_t)(4 + sizeof((uint8_t[]){__VA_ARGS__})), __VA_ARGS__

static void
test_entry_parts(void **state)
{
    (void)state;
    const uint8_t full[] = {MSG('T', 0, 0), MSG('D', 0, 1, 0, 0, 0, 1, 'a'),
                            MSG('D', 0, 1, 0, 0, 0, 1, 'b'), MSG('C', 'S', 0)};
    sl_cache_entry_parts p;
    assert_int_equal(sl_cache_entry_split(full, sizeof full, &p), 0);
    assert_ptr_equal(p.describe, full);
    assert_int_equal(p.describe_len, 7);
    assert_ptr_equal(p.rows, full + 7);
    assert_int_equal(p.rows_len, sizeof full - 7);
    assert_int_equal(p.n_rows, 2);

    const uint8_t nodata[] = {MSG('n', 0), MSG('C', 'S', 0)};
    assert_int_equal(sl_cache_entry_split(nodata, sizeof nodata, &p), 0);
    assert_int_equal(p.describe[0], 'n');
    assert_int_equal(p.n_rows, 0);
    assert_int_equal(p.rows_len, 7);

    const uint8_t rows_only[] = {MSG('D', 0, 0), MSG('C', 'S', 0)};
    assert_int_equal(sl_cache_entry_split(rows_only, sizeof rows_only, &p), 0);
    assert_null(p.describe);
    assert_int_equal(p.describe_len, 0);
    assert_ptr_equal(p.rows, rows_only);
    assert_int_equal(p.n_rows, 1);

    const uint8_t truncated[] = {MSG('T', 0, 0), MSG('C', 'S', 0)};
    for (size_t n = 0; n < sizeof truncated; n++)
        assert_int_equal(sl_cache_entry_split(truncated, n, &p), -1);
    const uint8_t notice[] = {MSG('N', 0), MSG('C', 'S', 0)};
    assert_int_equal(sl_cache_entry_split(notice, sizeof notice, &p), -1);
    const uint8_t describe_after_rows[] = {MSG('D', 0, 0), MSG('T', 0, 0), MSG('C', 'S', 0)};
    assert_int_equal(sl_cache_entry_split(describe_after_rows, sizeof describe_after_rows, &p),
                     -1);
}

static void
test_ticket_move_and_release(void **state)
{
    (void)state;
    sl_cache_ticket a = {.valid = true, .stamp = 7, .n_tokens = 2};
    a.tokens = sl_calloc(2, sizeof *a.tokens);
    a.tokens[0] = sl_strdup("x");
    a.tokens[1] = sl_strdup("");
    sl_cache_ticket b;
    sl_cache_ticket_move(&b, &a);
    assert_false(a.valid);
    assert_null(a.tokens);
    assert_true(b.valid);
    assert_string_equal(b.tokens[0], "x");
    sl_cache_ticket_release(&a);  /* an emptied ticket releases nothing */
    sl_cache_ticket_release(&b);
    assert_false(b.valid);
    assert_int_equal(b.n_tokens, 0);
    sl_cache_ticket_release(NULL);
}

static const sl_cache_ops no_ops;

static void
test_ttl_with_jitter(void **state)
{
    (void)state;
    sl_cache c;
    sl__cache_init(&c, &no_ops, 100, 5);
    uint64_t rng = 1;
    bool seen[6] = {false};
    for (int i = 0; i < 1000; i++) {
        uint32_t t = sl__cache_pick_ttl(&c, 0, &rng);
        assert_in_range(t, 100, 105);
        seen[t - 100] = true;
    }
    for (int i = 0; i < 6; i++)
        assert_true(seen[i]);  /* both ends included */
    assert_in_range(sl__cache_pick_ttl(&c, 30, &rng), 30, 35);  /* a hint's TTL */
    sl_cache_set_ttl(&c, 0, 0);
    assert_int_equal(sl__cache_pick_ttl(&c, 0, &rng), 1);  /* never "no expiry" */
    sl_cache_set_ttl(&c, UINT32_MAX, 9);
    assert_int_equal(sl__cache_pick_ttl(&c, 0, &rng), UINT32_MAX);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entry_parts),
        cmocka_unit_test(test_ticket_move_and_release),
        cmocka_unit_test(test_ttl_with_jitter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
