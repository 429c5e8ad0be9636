/* tests/unit/test_stats.c: proxy/stats.h's latency histogram puts a value equal to a bound in
 * that bucket (Prometheus' le=), reads cumulative counts whose last equals the count, and the
 * in-flight ring measures only requests it stamped; the client records move the counters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "proxy/stats.h"

static void
test_histogram_bounds_are_inclusive(void **state)
{
    (void)state;
    static const struct { uint64_t us; size_t bucket; } cases[] = {
        {0, 0}, {100, 0}, {101, 1}, {250, 1}, {999, 3}, {1000, 3}, {1001, 4},
        {10000000, SL_STATS_BUCKETS - 1}, {10000001, SL_STATS_BUCKETS},
        {UINT64_MAX / 4, SL_STATS_BUCKETS},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_stats_histogram h;
        memset(&h, 0, sizeof h);
        sl_stats_histogram_observe(&h, cases[i].us);
        sl_stats_histogram_counts c;
        sl_stats_histogram_read(&h, &c);
        for (size_t b = 0; b <= SL_STATS_BUCKETS; b++)
            if (c.cumulative[b] != (b >= cases[i].bucket ? 1u : 0u))
                fail_msg("%llu us: bucket %zu holds %llu", (unsigned long long)cases[i].us, b,
                         (unsigned long long)c.cumulative[b]);
        assert_int_equal(c.n, 1);
        assert_int_equal(c.sum_us, cases[i].us);
    }
}

static void
test_histogram_is_cumulative(void **state)
{
    (void)state;
    sl_stats_histogram h;
    memset(&h, 0, sizeof h);
    uint64_t values[] = {50, 50, 300, 2000, 20000000};
    for (size_t i = 0; i < 5; i++)
        sl_stats_histogram_observe(&h, values[i]);
    sl_stats_histogram_counts c;
    sl_stats_histogram_read(&h, &c);
    assert_int_equal(c.cumulative[0], 2);   /* <= 100 us */
    assert_int_equal(c.cumulative[1], 2);   /* <= 250 us */
    assert_int_equal(c.cumulative[2], 3);   /* <= 500 us */
    assert_int_equal(c.cumulative[4], 4);   /* <= 2.5 ms */
    assert_int_equal(c.cumulative[SL_STATS_BUCKETS - 1], 4);
    assert_int_equal(c.cumulative[SL_STATS_BUCKETS], 5);
    assert_int_equal(c.n, 5);
    assert_int_equal(c.sum_us, 50 + 50 + 300 + 2000 + 20000000);
    for (size_t b = 1; b < SL_STATS_BUCKETS; b++)
        assert_true(sl_stats_bucket_us[b] > sl_stats_bucket_us[b - 1]);
}

static void
test_inflight_measures_only_what_it_stamped(void **state)
{
    (void)state;
    sl_stats *st = sl_stats_new();
    sl_stats_inflight f;
    memset(&f, 0, sizeof f);
    sl_stats_snapshot s;
    sl_stats_request_answered(st, &f, 1, 500);  /* the startup: never stamped */
    sl_stats_request_sent(&f, 2, 1000);
    sl_stats_request_sent(&f, 3, 1100);
    sl_stats_request_answered(st, &f, 2, 1400);
    sl_stats_request_answered(st, &f, 2, 9999);  /* answered twice: counted once */
    sl_stats_request_sent(&f, 3 + SL_STATS_INFLIGHT, 2000);  /* overwrites 3's slot */
    sl_stats_request_answered(st, &f, 3, 2100);
    sl_stats_read(st, &s);
    assert_int_equal(s.latency.n, 1);
    assert_int_equal(s.latency.sum_us, 400);
    sl_stats_free(st);
}

static void
test_client_records_move_the_counters(void **state)
{
    (void)state;
    sl_stats *st = sl_stats_new();
    sl_stats_client *a = sl_stats_client_open(st, 1, "127.0.0.1:5000");
    sl_stats_client *b = sl_stats_client_open(st, 2, "unix (uid 0)");
    sl_stats_client_identify(a, "alice", "db1");
    sl_stats_client_server(a, true);
    sl_stats_client_server(a, true);  /* once only */
    sl_stats_client_query(a, SL_QUERY_SIMPLE);
    sl_stats_client_query(a, SL_QUERY_EXTENDED);
    sl_stats_client_query(b, SL_QUERY_EXTENDED);
    sl_stats_client_state(a, SL_CLIENT_IDLE_TX);
    sl_stats_snapshot s;
    sl_stats_read(st, &s);
    assert_int_equal(s.clients, 2);
    assert_int_equal(s.servers, 1);
    assert_int_equal(s.servers_total, 1);
    assert_int_equal(s.queries_simple, 1);
    assert_int_equal(s.queries_extended, 2);
    sl_stats_client_row *rows;
    assert_int_equal(sl_stats_clients(st, &rows), 2);
    assert_string_equal(rows[0].address, "127.0.0.1:5000");
    assert_string_equal(rows[0].user, "alice");
    assert_string_equal(rows[0].database, "db1");
    assert_int_equal(rows[0].queries, 2);
    assert_true(rows[0].server);
    assert_string_equal(sl_client_state_name(rows[0].state), "idle in transaction");
    assert_string_equal(sl_client_state_name(rows[1].state), "startup");
    free(rows);
    sl_stats_client_close(a);  /* its server connection closes with it */
    sl_stats_read(st, &s);
    assert_int_equal(s.clients, 1);
    assert_int_equal(s.clients_total, 2);
    assert_int_equal(s.servers, 0);
    sl_stats_client_close(b);
    sl_stats_client_close(NULL);
    assert_int_equal(sl_stats_clients(st, &rows), 0);
    free(rows);
    sl_stats_free(st);
}

static void
add_name(const char *db, void *arg)
{
    sl_buf_printf(arg, "%s;", db);
}

static void
test_databases_named_once_console_aside(void **state)
{
    (void)state;
    sl_stats *st = sl_stats_new();
    sl_stats_client *a = sl_stats_client_open(st, 1, "x");
    sl_stats_client *b = sl_stats_client_open(st, 2, "x");
    sl_stats_client *console = sl_stats_client_open(st, 3, "x");
    sl_stats_client_identify(a, "u", "db1");
    sl_stats_client_identify(b, "u", "db1");
    sl_stats_client_identify(b, "u", "db2");
    sl_stats_client_state(console, SL_CLIENT_ADMIN);
    sl_stats_client_identify(console, "u", "sluice");
    sl_buf names = SL_BUF_INIT;
    assert_int_equal(sl_stats_databases_each(st, add_name, &names), 0);
    assert_string_equal(names.data, "db1;db2;");
    sl_buf_free(&names);
    sl_stats_free(st);  /* closes the records still open */
}

static void
test_null_stats_keep_nothing(void **state)
{
    (void)state;
    sl_stats_client *c = sl_stats_client_open(NULL, 1, "x");
    assert_null(c);
    sl_stats_client_query(c, SL_QUERY_SIMPLE);
    sl_stats_client_close(c);
    sl_stats_snapshot s;
    sl_stats_read(NULL, &s);
    assert_int_equal(s.clients, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_histogram_bounds_are_inclusive),
        cmocka_unit_test(test_histogram_is_cumulative),
        cmocka_unit_test(test_inflight_measures_only_what_it_stamped),
        cmocka_unit_test(test_client_records_move_the_counters),
        cmocka_unit_test(test_databases_named_once_console_aside),
        cmocka_unit_test(test_null_stats_keep_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
