/* tests/unit/test_cacheflow.c: proxy/cacheflow.h: the catalog query holds no byte of the names
 * it resolves (hostile names reach the server as hex digits only), the verdicts refuse every
 * relation a cached answer must not come from, and the key follows every setting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/cacheflow.h"

static void
test_catalog_query_holds_no_byte_of_a_name(void **state)
{
    (void)state;
    static const char *const hostile[] = {"q'uo\"te", "back\\slash", "dol$$lar", "x'); DROP",
                                          "\xc3\xa9t\xc3\xa9"};
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        sl_sql_analysis *a = NULL;
        sl_error err;
        sl_error_clear(&err);
        char sql[128];
        /* the statement reads the table named hostile[i] in schema "s'" */
        sl_buf b = SL_BUF_INIT;
        sl_buf_puts(&b, "SELECT * FROM \"s'\".\"");
        for (const char *p = hostile[i]; *p; p++) {
            if (*p == '"')
                sl_buf_putc(&b, '"');
            sl_buf_putc(&b, *p);
        }
        sl_buf_puts(&b, "\"");
        snprintf(sql, sizeof sql, "%s", b.data);
        sl_buf_free(&b);
        assert_int_equal(sl_sql_analyze(sql, NULL, &a, &err), 0);
        assert_int_equal(a->n_reads, 1);
        assert_string_equal(a->reads[0].name, hostile[i]);
        sl_buf q = SL_BUF_INIT;
        sl_cacheflow_catalog_query(&q, a->reads, a->n_reads);
        assert_true(q.len > 6 && q.data[0] == 'Q' && q.data[q.len - 1] == 0);
        const char *text = q.data + 5;
        assert_null(strstr(text, hostile[i]));
        assert_null(strchr(text, '\\'));
        assert_null(strchr(text, '"'));
        assert_null(strstr(text, "$$"));
        assert_non_null(strstr(text, "'7327'"));  /* the schema s' as hex */
        sl_buf_free(&q);
        sl_sql_analysis_free(a);
    }
}

static void
test_refusals(void **state)
{
    (void)state;
    assert_null(sl_cacheflow_refusal("rpnu"));
    assert_null(sl_cacheflow_refusal("ppnu"));
    assert_null(sl_cacheflow_refusal("mpnu"));
    assert_non_null(sl_cacheflow_refusal(NULL));      /* unresolved */
    assert_non_null(sl_cacheflow_refusal("rtnu"));    /* temporary */
    assert_non_null(sl_cacheflow_refusal("Spnu"));    /* sequence */
    assert_non_null(sl_cacheflow_refusal("fpnu"));    /* foreign table */
    assert_null(sl_cacheflow_refusal("vpnu"));        /* a view: its definition decides */
    assert_non_null(sl_cacheflow_refusal("vtnu"));    /* temporary view */
    assert_non_null(sl_cacheflow_refusal("cpnu"));    /* composite type */
    assert_non_null(sl_cacheflow_refusal("rpyu"));    /* row-level security */
    assert_non_null(sl_cacheflow_refusal("rpns"));    /* system catalog */
    assert_non_null(sl_cacheflow_refusal("rpn"));     /* malformed */
}

static void
key_of(sl_cachekey *k, sl_cacheflow_settings *st)
{
    sl_error err;
    sl_error_clear(&err);
    assert_int_equal(sl_cacheflow_key(k, "db", "u", "SELECT 1", st, NULL, &err), 0);
}

static void
test_key_follows_settings(void **state)
{
    (void)state;
    sl_cacheflow_settings a = {0}, b = {0};
    sl_cachekey ka, kb;
    sl_cacheflow_settings_set(&a, 'p', "TimeZone", "UTC");
    sl_cacheflow_settings_set(&a, 's', "app.tenant", "1");
    sl_cacheflow_settings_set(&b, 's', "app.tenant", "1");
    sl_cacheflow_settings_set(&b, 'p', "TimeZone", "UTC");
    key_of(&ka, &a);
    key_of(&kb, &b);
    assert_memory_equal(ka.hash, kb.hash, sizeof ka.hash);  /* order does not matter */
    sl_cacheflow_settings_set(&b, 'p', "TimeZone", "UTC");  /* the same value again */
    sl_cacheflow_settings_set(&b, 'c', "search_path", NULL);
    sl_cacheflow_settings_set(&a, 'c', "search_path", NULL);
    key_of(&ka, &a);
    key_of(&kb, &b);
    assert_memory_equal(ka.hash, kb.hash, sizeof ka.hash);
    sl_cacheflow_settings_set(&b, 's', "app.tenant", "2");  /* replaced, not added */
    assert_int_equal(b.n, 3);
    assert_string_equal(sl_cacheflow_settings_get(&b, 's', "app.tenant"), "2");
    key_of(&kb, &b);
    assert_memory_not_equal(ka.hash, kb.hash, sizeof ka.hash);
    sl_cacheflow_settings_set(&b, 's', "app.tenant", NULL);  /* RESET differs from a value */
    key_of(&kb, &b);
    assert_memory_not_equal(ka.hash, kb.hash, sizeof ka.hash);
    sl_cacheflow_settings_set(&b, 's', "app.tenant", "1");
    sl_cacheflow_settings_set(&b, 'o', "app.tenant", "1");  /* another source: another key */
    key_of(&kb, &b);
    assert_memory_not_equal(ka.hash, kb.hash, sizeof ka.hash);
    sl_cacheflow_settings_free(&a);
    sl_cacheflow_settings_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalog_query_holds_no_byte_of_a_name),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_key_follows_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
