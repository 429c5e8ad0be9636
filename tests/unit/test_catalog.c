/* Unit tests for pg/catalog.c's oid parser, the one every catalog row reader uses. (The table
 * list reader needs a server: tests/e2e cover it with every backup, and
 * test_schema.py::test_extension_config_* with the conditions of extension tables.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pg/catalog.h"

static const struct {
    const char *text;
    uint32_t oid;
} good[] = {
    {"0", 0},
    {"1259", 1259},
    {"16384", 16384},
    {"4294967295", 4294967295u},
    {"0000000001", 1},
};

static const char *const bad[] = {
    "",             /* empty */
    "-1",           /* a sign */
    "+5",
    "-0",
    " 12",          /* blanks */
    "12 ",
    "12a",          /* trailing text */
    "0x10",
    "4294967296",   /* one over */
    "99999999999",  /* eleven digits */
    "00000000001",
    "1e3",
};

static void
test_parse_oid_accepts_what_the_server_prints(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint32_t v = 7;
        if (!sl_catalog_parse_oid(good[i].text, &v))
            fail_msg("refused: \"%s\"", good[i].text);
        assert_int_equal(v, good[i].oid);
    }
}

static void
test_parse_oid_refuses_anything_else(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint32_t v = 7;
        if (sl_catalog_parse_oid(bad[i], &v))
            fail_msg("accepted: \"%s\"", bad[i]);
        assert_int_equal(v, 7);  /* untouched */
    }
    uint32_t v = 7;
    assert_false(sl_catalog_parse_oid(NULL, &v));
    assert_int_equal(v, 7);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_oid_accepts_what_the_server_prints),
        cmocka_unit_test(test_parse_oid_refuses_anything_else),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
