/* tests/unit/test_settings.c: proxy/settings.h's file parser applies only the keys present,
 * refuses a bad line with its number (and then changes nothing), and the diff names what
 * changed for the reload's log line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/settings.h"

static const sl_settings base = {.ttl_s = 3600, .jitter_s = 5, .cache_max_entry = 1 << 20,
                                 .log_level = SL_LOG_INFO};

static void
test_keys_over_the_base(void **state)
{
    (void)state;
    sl_settings s = base;
    sl_error err;
    sl_error_clear(&err);
    assert_int_equal(sl_settings_parse("# comment\n\n  ttl = 60 \r\nlog_level=DEBUG\n"
                                       "cache_max_entry = 64kB",
                                       &s, &err), 0);
    assert_int_equal(s.ttl_s, 60);
    assert_int_equal(s.jitter_s, 5);  /* absent: kept */
    assert_int_equal(s.cache_max_entry, 65536);
    assert_int_equal(s.log_level, SL_LOG_DEBUG);
    assert_int_equal(sl_settings_parse("ttl_jitter = 0\ncache_max_entry = 1GB\n", &s, &err), 0);
    assert_int_equal(s.jitter_s, 0);
    assert_int_equal(s.cache_max_entry, 1u << 30);
}

static const struct { const char *name; const char *text; const char *message; } bad[] = {
    {"unknown key", "ttl = 5\nttl_secs = 5\n", "line 2: unknown key"},
    {"no equals", "ttl 5\n", "line 1: expected key = value"},
    {"zero ttl", "ttl = 0\n", "line 1: ttl: expected 1 to 31536000 seconds"},
    {"negative", "ttl_jitter = -1\n", "line 1: ttl_jitter"},
    {"trailing junk", "ttl = 5s\n", "line 1: ttl"},
    {"too big", "ttl = 99999999999999999999\n", "line 1: ttl"},
    {"size unit", "cache_max_entry = 5 parsecs\n", "line 1: cache_max_entry"},
    {"size small", "cache_max_entry = 10\n", "line 1: cache_max_entry"},
    {"level", "\n\nlog_level = loud\n", "line 3: log_level"},
};

static void
test_bad_lines_change_nothing(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sl_settings s = base;
        sl_error err;
        sl_error_clear(&err);
        if (sl_settings_parse(bad[i].text, &s, &err) != -1)
            fail_msg("accepted: %s", bad[i].name);
        assert_int_equal(err.kind, SL_E_USAGE);
        if (strncmp(err.message, bad[i].message, strlen(bad[i].message)) != 0)
            fail_msg("%s: message \"%s\"", bad[i].name, err.message);
        assert_int_equal(s.ttl_s, base.ttl_s);
        assert_int_equal(s.jitter_s, base.jitter_s);
        assert_int_equal(s.cache_max_entry, base.cache_max_entry);
        assert_int_equal(s.log_level, base.log_level);
    }
}

static void
test_diff_names_what_changed(void **state)
{
    (void)state;
    sl_settings after = base;
    sl_buf b = SL_BUF_INIT;
    sl_settings_diff(&base, &after, &b);
    assert_int_equal(b.len, 0);
    after.ttl_s = 7;
    after.log_level = SL_LOG_DEBUG;
    sl_settings_diff(&base, &after, &b);
    assert_string_equal(b.data, "ttl 3600 -> 7, log_level info -> debug");
    sl_buf_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_over_the_base),
        cmocka_unit_test(test_bad_lines_change_nothing),
        cmocka_unit_test(test_diff_names_what_changed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
