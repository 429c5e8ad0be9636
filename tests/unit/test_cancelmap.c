/* tests/unit/test_cancelmap.c: proxy/cancelmap.h gives each server key a client key of its
 * own, finds the server key only with the right pid and secret, and forgets a removed one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "proxy/cancelmap.h"

static void
test_lookup_needs_pid_and_secret(void **state)
{
    (void)state;
    sl_cancelmap *m = sl_cancelmap_new();
    sl_cancel_key a = sl_cancelmap_add(m, (sl_cancel_key){1000, 111});
    sl_cancel_key b = sl_cancelmap_add(m, (sl_cancel_key){2000, 222});
    assert_int_not_equal(a.pid, b.pid);
    assert_true(a.pid > 0 && b.pid > 0);
    sl_cancel_key server;
    assert_true(sl_cancelmap_lookup(m, a, &server));
    assert_int_equal(server.pid, 1000);
    assert_int_equal(server.secret, 111);
    assert_true(sl_cancelmap_lookup(m, b, &server));
    assert_int_equal(server.pid, 2000);
    assert_false(sl_cancelmap_lookup(m, (sl_cancel_key){a.pid, a.secret + 1}, &server));
    /* the server's own key is not one the proxy gave out */
    assert_false(sl_cancelmap_lookup(m, (sl_cancel_key){1000, 111}, &server));
    sl_cancelmap_remove(m, a.pid);
    assert_false(sl_cancelmap_lookup(m, a, &server));
    assert_true(sl_cancelmap_lookup(m, b, &server));
    assert_int_equal(sl_cancelmap_count(m), 1);
    sl_cancelmap_free(m);
}

static void
test_many_keys_in_one_bucket_chain(void **state)
{
    (void)state;
    sl_cancelmap *m = sl_cancelmap_new();
    enum { N = 10000 };  /* more than the buckets: chains hold several */
    static sl_cancel_key keys[N];
    for (int i = 0; i < N; i++)
        keys[i] = sl_cancelmap_add(m, (sl_cancel_key){i, -i});
    for (int i = 0; i < N; i += 2)
        sl_cancelmap_remove(m, keys[i].pid);
    sl_cancel_key server;
    for (int i = 0; i < N; i++) {
        bool found = sl_cancelmap_lookup(m, keys[i], &server);
        assert_int_equal(found, i % 2 == 1);
        if (found)
            assert_int_equal(server.pid, i);
    }
    assert_int_equal(sl_cancelmap_count(m), N / 2);
    sl_cancelmap_free(m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup_needs_pid_and_secret),
        cmocka_unit_test(test_many_keys_in_one_bucket_chain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
