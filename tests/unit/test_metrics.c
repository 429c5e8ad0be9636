/* tests/unit/test_metrics.c: proxy/metrics.h's request parser waits for the end of the
 * headers, takes the method and the path (query string cut), and refuses what is not an
 * HTTP/1.x request line, as early as a control byte shows; the answer and the exposition text
 * follow Prometheus' format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/metrics.h"

static const struct {
    const char *name;
    const char *text;
    sl_metrics_status want;
    const char *method, *path;
} requests[] = {
    {"curl", "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n", SL_METRICS_OK, "GET",
     "/metrics"},
    {"query string", "GET /metrics?name[]=x HTTP/1.0\r\n\r\n", SL_METRICS_OK, "GET", "/metrics"},
    {"bare newlines", "HEAD / HTTP/1.0\n\n", SL_METRICS_OK, "HEAD", "/"},
    {"headers not ended", "GET /metrics HTTP/1.1\r\nHost: x\r\n", SL_METRICS_NEED_MORE, NULL, NULL},
    {"half a line", "GET /metr", SL_METRICS_NEED_MORE, NULL, NULL},
    {"nothing", "", SL_METRICS_NEED_MORE, NULL, NULL},
    {"HTTP/0.9", "GET /metrics\r\n\r\n", SL_METRICS_BAD, NULL, NULL},
    {"HTTP/2", "GET /metrics HTTP/2.0\r\n\r\n", SL_METRICS_BAD, NULL, NULL},
    {"relative path", "GET metrics HTTP/1.1\r\n\r\n", SL_METRICS_BAD, NULL, NULL},
    {"TLS hello", "\x16\x03\x01\x02", SL_METRICS_BAD, NULL, NULL},
    {"NUL in the line", "GET /a\0b HTTP/1.1\r\n\r\n", SL_METRICS_BAD, NULL, NULL},
    {"long method", "GETGETGETGETGETGET / HTTP/1.1\r\n\r\n", SL_METRICS_BAD, NULL, NULL},
    {"empty method", " /metrics HTTP/1.1\r\n\r\n", SL_METRICS_BAD, NULL, NULL},
};

static void
test_parse_requests(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof requests / sizeof requests[0]; i++) {
        sl_metrics_request r;
        size_t len = strlen(requests[i].text);
        if (strcmp(requests[i].name, "NUL in the line") == 0)
            len = sizeof "GET /a\0b HTTP/1.1\r\n\r\n" - 1;
        sl_metrics_status st = sl_metrics_parse(requests[i].text, len, &r);
        if (st != requests[i].want)
            fail_msg("%s: got %d, want %d", requests[i].name, st, requests[i].want);
        if (st == SL_METRICS_OK) {
            assert_string_equal(r.method, requests[i].method);
            assert_string_equal(r.path, requests[i].path);
        }
    }
}

static void
test_every_prefix_needs_more(void **state)
{
    (void)state;
    const char *text = "GET /metrics HTTP/1.1\r\nUser-Agent: t\r\n\r\n";
    size_t len = strlen(text);
    sl_metrics_request r;
    for (size_t n = 0; n < len; n++)
        if (sl_metrics_parse(text, n, &r) != SL_METRICS_NEED_MORE)
            fail_msg("prefix of %zu bytes was not NEED_MORE", n);
    assert_int_equal(sl_metrics_parse(text, len, &r), SL_METRICS_OK);
}

static void
answer(const char *method, const char *path, sl_buf *out)
{
    sl_metrics_request r;
    snprintf(r.method, sizeof r.method, "%s", method);
    snprintf(r.path, sizeof r.path, "%s", path);
    sl_stats_snapshot s;
    memset(&s, 0, sizeof s);
    sl_buf_reset(out);
    sl_metrics_answer(&r, &s, out);
}

static void
test_answers(void **state)
{
    (void)state;
    sl_buf b = SL_BUF_INIT;
    answer("GET", "/metrics", &b);
    assert_non_null(strstr(b.data, "HTTP/1.0 200 OK\r\n"));
    assert_non_null(strstr(b.data, "Content-Type: text/plain; version=0.0.4"));
    assert_non_null(strstr(b.data, "\r\n\r\n# HELP sluice_proxy_clients "));
    answer("GET", "/", &b);
    assert_true(strncmp(b.data, "HTTP/1.0 404 ", 13) == 0);
    answer("POST", "/metrics", &b);
    assert_true(strncmp(b.data, "HTTP/1.0 405 ", 13) == 0);
    answer("HEAD", "/metrics", &b);
    assert_true(strncmp(b.data, "HTTP/1.0 200 ", 13) == 0);
    assert_int_equal(b.len, (size_t)(strstr(b.data, "\r\n\r\n") + 4 - b.data));  /* no body */
    sl_buf_free(&b);
}

static void
test_render_format(void **state)
{
    (void)state;
    sl_stats_snapshot s;
    memset(&s, 0, sizeof s);
    s.clients = 3;
    s.cache.hits = 3;
    s.cache.misses = 1;
    s.latency.cumulative[0] = 1;
    for (size_t i = 1; i <= SL_STATS_BUCKETS; i++)
        s.latency.cumulative[i] = 2;
    s.latency.n = 2;
    s.latency.sum_us = 1500000;
    sl_buf b = SL_BUF_INIT;
    sl_metrics_render(&s, &b);
    assert_non_null(strstr(b.data, "# TYPE sluice_proxy_clients gauge\nsluice_proxy_clients 3\n"));
    assert_non_null(strstr(b.data, "sluice_proxy_cache_hit_ratio 0.750000\n"));
    const char *bucket = "sluice_proxy_upstream_latency_seconds_bucket";
    char line[128];
    snprintf(line, sizeof line, "%s{le=\"0.0001\"} 1\n", bucket);
    assert_non_null(strstr(b.data, line));
    snprintf(line, sizeof line, "%s{le=\"10\"} 2\n", bucket);
    assert_non_null(strstr(b.data, line));
    snprintf(line, sizeof line, "%s{le=\"+Inf\"} 2\n", bucket);
    assert_non_null(strstr(b.data, line));
    assert_non_null(strstr(b.data, "sluice_proxy_upstream_latency_seconds_sum 1.500000\n"));
    assert_non_null(strstr(b.data, "sluice_proxy_upstream_latency_seconds_count 2\n"));
    /* every line: a HELP, a TYPE or a sample of the proxy's */
    for (char *line = b.data; *line;) {
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        if (strncmp(line, "# HELP sluice_proxy_", 20) != 0 &&
            strncmp(line, "# TYPE sluice_proxy_", 20) != 0 &&
            strncmp(line, "sluice_proxy_", 13) != 0)
            fail_msg("line: %.*s", (int)(nl - line), line);
        line = nl + 1;
    }
    sl_buf_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_requests),
        cmocka_unit_test(test_every_prefix_needs_more),
        cmocka_unit_test(test_answers),
        cmocka_unit_test(test_render_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
