/* tests/unit/test_statements.c: proxy/statements.h keeps each Parse's SQL under its name: a
 * reused name (the unnamed statement above all) gets the new SQL, Close removes one, and
 * thousands of names (the table grows) are all found. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "proxy/statements.h"

static void
test_reused_name_gets_new_sql(void **state)
{
    (void)state;
    sl_statements *st = sl_statements_new();
    sl_statements_set(st, "", "SELECT 1");
    sl_statements_set(st, "s1", "SELECT $1::int");
    sl_statements_set(st, "", "SELECT 2");  /* the unnamed statement replaced */
    assert_string_equal(sl_statements_get(st, ""), "SELECT 2");
    assert_string_equal(sl_statements_get(st, "s1"), "SELECT $1::int");
    assert_int_equal(sl_statements_count(st), 2);
    sl_statements_remove(st, "s1");
    assert_null(sl_statements_get(st, "s1"));
    sl_statements_remove(st, "never");
    assert_int_equal(sl_statements_count(st), 1);
    sl_statements_free(st);
}

static void
test_many_names(void **state)
{
    (void)state;
    sl_statements *st = sl_statements_new();
    char name[32], sql[64];
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "stmt_%d", i);
        snprintf(sql, sizeof sql, "SELECT %d", i);
        sl_statements_set(st, name, sql);
    }
    assert_int_equal(sl_statements_count(st), 5000);
    for (int i = 0; i < 5000; i += 7) {
        snprintf(name, sizeof name, "stmt_%d", i);
        snprintf(sql, sizeof sql, "SELECT %d", i);
        assert_string_equal(sl_statements_get(st, name), sql);
    }
    sl_statements_clear(st);
    assert_int_equal(sl_statements_count(st), 0);
    assert_null(sl_statements_get(st, "stmt_1"));
    sl_statements_free(st);
    sl_statements_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reused_name_gets_new_sql),
        cmocka_unit_test(test_many_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
