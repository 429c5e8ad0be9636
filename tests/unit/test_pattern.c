/* Unit tests for pg/pattern.c: psql patterns as the regular expressions and text[] parameters
 * the server matches names with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "pg/pattern.h"

static const struct {
    const char *name;
    const char *pattern;
    bool allow_schema;
    const char *schema_re;  /* NULL: no schema part */
    const char *name_re;
} good[] = {
    {"plain", "t", true, NULL, "^(t)$"},
    {"folded to lower case", "MyTable", true, NULL, "^(mytable)$"},
    {"qualified", "s.t", true, "^(s)$", "^(t)$"},
    {"wildcards", "s*.t?x", true, "^(s.*)$", "^(t.x)$"},
    {"quoted keeps case and dots", "\"My.Schema\".\"T\"", true, "^(My\\.Schema)$", "^(T)$"},
    {"quoted wildcards match themselves", "\"a*b?\"", false, NULL, "^(a\\*b\\?)$"},
    {"doubled quote", "\"a\"\"b\"", false, NULL, "^(a\"b)$"},
    {"regex metacharacters escaped", "a$b(c)+[d]^{e}|f\\g", false, NULL,
     "^(a\\$b\\(c\\)\\+\\[d\\]\\^\\{e\\}\\|f\\\\g)$"},
    {"regex metacharacters quoted", "\"x|y\"", false, NULL, "^(x\\|y)$"},
    {"single quote and semicolon are plain characters", "o'k;--", false, NULL, "^(o'k;--)$"},
    {"newline and backslash in a quoted name", "\"a\n\\! b\"", false, NULL,
     "^(a\n\\\\! b)$"},
    {"ARE director cannot start it", "***=x", false, NULL, "^(.*.*.*=x)$"},
    {"embedded options cannot start it", "\"(?x)a\"", false, NULL, "^(\\(\\?x\\)a)$"},
    {"UTF-8 kept, not folded", "\xc3\x89t\xc3\xa9", false, NULL, "^(\xc3\x89t\xc3\xa9)$"},
    {"empty schema part", ".t", true, "^()$", "^(t)$"},
    {"empty", "", false, NULL, "^()$"},
};

static void
test_regex(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char *s = NULL, *n = NULL;
        sl_error err;
        sl_error_clear(&err);
        if (sl_pattern_regex(good[i].pattern, good[i].allow_schema, &s, &n, &err) != 0)
            fail_msg("%s: refused: %s", good[i].name, err.message);
        if (good[i].schema_re ? !s || strcmp(s, good[i].schema_re) : s != NULL)
            fail_msg("%s: schema regex %s, want %s", good[i].name, s ? s : "NULL",
                     good[i].schema_re ? good[i].schema_re : "NULL");
        if (strcmp(n, good[i].name_re) != 0)
            fail_msg("%s: name regex %s, want %s", good[i].name, n, good[i].name_re);
        free(s);
        free(n);
    }
}

static const struct {
    const char *pattern;
    bool allow_schema;
    const char *message;
} bad[] = {
    {"a.b.c", true, "improper qualified name (too many dotted names): a.b.c"},
    {"s.t", false, "improper qualified name (too many dotted names): s.t"},
    {"\"abc", true, "unterminated quoted identifier in pattern: \"abc"},
    {"\"a\"\"", false, "unterminated quoted identifier in pattern: \"a\"\""},
};

static void
test_regex_refuses(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *s = NULL, *n = NULL;
        sl_error err;
        sl_error_clear(&err);
        if (sl_pattern_regex(bad[i].pattern, bad[i].allow_schema, &s, &n, &err) == 0)
            fail_msg("accepted: %s", bad[i].pattern);
        assert_int_equal(err.kind, SL_E_USAGE);
        assert_string_equal(err.message, bad[i].message);
        assert_null(s);
        assert_null(n);
    }
}

static void
test_arrays(void **state)
{
    (void)state;
    const char *pats[] = {"s.t", "\"q\"\"\\x\"", "a,b{}", NULL};
    char *sa = NULL, *na = NULL;
    sl_error err;
    sl_error_clear(&err);
    assert_int_equal(sl_pattern_arrays(pats, true, &sa, &na, &err), 0);
    /* a missing schema part is NULL; quotes and backslashes are escaped inside the element */
    assert_string_equal(sa, "{\"^(s)$\",NULL,NULL}");
    assert_string_equal(na, "{\"^(t)$\",\"^(q\\\"\\\\\\\\x)$\",\"^(a,b\\\\{\\\\})$\"}");
    free(sa);
    free(na);
    const char *none[] = {NULL};
    assert_int_equal(sl_pattern_arrays(none, true, &sa, &na, &err), 0);
    assert_string_equal(sa, "{}");
    assert_string_equal(na, "{}");
    free(sa);
    free(na);
    const char *wrong[] = {"ok", "a.b", NULL};
    assert_int_equal(sl_pattern_arrays(wrong, false, &sa, &na, &err), -1);
    assert_int_equal(err.kind, SL_E_USAGE);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_regex),
        cmocka_unit_test(test_regex_refuses),
        cmocka_unit_test(test_arrays),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
