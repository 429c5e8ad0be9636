/* tests/unit/test_cachekey.c: proxy/cachekey.h gives pgproxy's key text, and different inputs
 * never share a key: fields are framed, NULL differs from empty, a value split differently
 * between two parameters differs, extra settings do not depend on their order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/cachekey.h"

static sl_cachekey
make(const sl_cachekey_input *in)
{
    sl_cachekey k;
    sl_error err = {0};
    if (sl_cachekey_make(&k, in, &err) != 0)
        fail_msg("make: %s", err.message);
    return k;
}

static bool
same(const sl_cachekey_input *a, const sl_cachekey_input *b)
{
    sl_cachekey x = make(a), y = make(b);
    return memcmp(x.hash, y.hash, sizeof x.hash) == 0 && strcmp(x.text, y.text) == 0;
}

#define SQL(s) .sql = s, .sql_len = sizeof(s) - 1

static void
test_text_form(void **state)
{
    (void)state;
    sl_cachekey_input in = {.database = "db", .user = "u", SQL("select 1")};
    sl_cachekey k = make(&in);
    assert_int_equal(k.text_len, strlen(k.text));
    assert_int_equal(k.text_len, strlen("PGPROXY:DEFAULT:") + SL_CACHEKEY_HASH_B64_LEN);
    assert_memory_equal(k.text, "PGPROXY:DEFAULT:", 16);
    for (size_t i = 16; i < k.text_len; i++)
        assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                               k.text[i]));
    in.suffix = "USER:1";
    sl_cachekey u = make(&in);
    assert_memory_equal(u.text, "PGPROXY:USER:1:", 15);
    assert_string_equal(u.text + 15, k.text + 16);  /* the suffix is not in the hash */
}

static void
test_different_inputs_differ(void **state)
{
    (void)state;
    const sl_cachekey_value ab_c[] = {{(const uint8_t *)"ab", 2}, {(const uint8_t *)"c", 1}};
    const sl_cachekey_value a_bc[] = {{(const uint8_t *)"a", 1}, {(const uint8_t *)"bc", 2}};
    const sl_cachekey_value null[] = {{NULL, -1}};
    const sl_cachekey_value empty[] = {{(const uint8_t *)"", 0}};
    const uint32_t int4[] = {23}, text[] = {25};
    const int16_t fmt_text[] = {0}, fmt_bin[] = {1};
    sl_cachekey_input base = {.database = "db", .user = "u", SQL("select $1, $2")};
    sl_cachekey_input x = base, y = base;
    x.params = ab_c, x.n_params = 2;
    y.params = a_bc, y.n_params = 2;
    assert_false(same(&x, &y));
    x = base, y = base;
    x.params = null, x.n_params = 1;
    y.params = empty, y.n_params = 1;
    assert_false(same(&x, &y));
    x = base, y = base;
    x.database = "dbu", x.user = "";
    y.database = "db", y.user = "uu";
    assert_false(same(&x, &y));
    x = base, y = base;
    x.param_types = int4, x.n_param_types = 1;
    y.param_types = text, y.n_param_types = 1;
    assert_false(same(&x, &y));
    x = base, y = base;
    x.result_formats = fmt_text, x.n_result_formats = 1;
    y.result_formats = fmt_bin, y.n_result_formats = 1;
    assert_false(same(&x, &y));
    x.result_formats = NULL, x.n_result_formats = 0;
    x.param_formats = fmt_bin, x.n_param_formats = 1;  /* same list, other field */
    assert_false(same(&x, &y));
    x = base, y = base;
    y.protocol = SL_CACHEKEY_EXTENDED;
    assert_false(same(&x, &y));
    x = base, y = base;
    x.search_path = NULL;
    y.search_path = "";
    assert_false(same(&x, &y));
    x = base, y = base;
    x.timezone = "UTC";
    y.datestyle = "UTC";
    assert_false(same(&x, &y));
    x = base, y = base;
    x.sql = "select $1, $2 ";
    x.sql_len = strlen(x.sql);
    assert_false(same(&x, &y));
    assert_true(same(&base, &base));
}

static void
test_extra_settings(void **state)
{
    (void)state;
    const sl_cachekey_setting ab[] = {{"a", "1"}, {"b", "2"}};
    const sl_cachekey_setting ba[] = {{"b", "2"}, {"a", "1"}};
    const sl_cachekey_setting a_null[] = {{"a", NULL}, {"b", "2"}};
    const sl_cachekey_setting twice[] = {{"a", "1"}, {"a", "2"}};
    sl_cachekey_input x = {.database = "db", SQL("select 1"), .extra = ab, .n_extra = 2};
    sl_cachekey_input y = x;
    y.extra = ba;
    assert_true(same(&x, &y));
    y.extra = a_null;
    assert_false(same(&x, &y));
    y.extra = twice;
    sl_cachekey k;
    sl_error err = {0};
    assert_int_equal(sl_cachekey_make(&k, &y, &err), -1);
    assert_int_equal(err.kind, SL_E_USAGE);
    assert_non_null(strstr(err.message, "\"a\" given twice"));
}

static void
test_suffixes_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {"", "tables", "tables:3:db", "gen", "gen:x"};
    char long_suffix[SL_CACHEKEY_SUFFIX_MAX + 2];
    memset(long_suffix, 'x', sizeof long_suffix - 1);
    long_suffix[sizeof long_suffix - 1] = '\0';
    sl_cachekey_input in = {.database = "db", SQL("select 1")};
    sl_cachekey k;
    for (size_t i = 0; i <= sizeof bad / sizeof bad[0]; i++) {
        sl_error err = {0};
        in.suffix = i < sizeof bad / sizeof bad[0] ? bad[i] : long_suffix;
        if (sl_cachekey_make(&k, &in, &err) != -1)
            fail_msg("accepted suffix \"%s\"", in.suffix);
        assert_int_equal(err.kind, SL_E_USAGE);
    }
    in.suffix = "tablesX";
    k = make(&in);
    assert_memory_equal(k.text, "PGPROXY:tablesX:", 16);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_form),
        cmocka_unit_test(test_different_inputs_differ),
        cmocka_unit_test(test_extra_settings),
        cmocka_unit_test(test_suffixes_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
