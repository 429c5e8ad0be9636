/* tests/unit/test_replication.c: the pure parts of pg/replication.h: WAL positions as the
 * server writes them, and the slot names that may reach a replication command. The stream
 * itself is tested against a server (tests/e2e/test_replication.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pg/replication.h"

static void
test_lsn_round_trip(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        sl_lsn value;
    } cases[] = {
        {"0/0", 0}, {"16/B374D848", 0x16B374D848ull}, {"FFFFFFFF/FFFFFFFF", UINT64_MAX},
        {"0/1", 1}, {"1/0", 1ull << 32},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_lsn v = 7;
        char back[SL_LSN_TEXT];
        assert_true(sl_lsn_parse(cases[i].text, &v));
        assert_int_equal(v, cases[i].value);
        sl_lsn_format(v, back);
        assert_string_equal(back, cases[i].text);
    }
    sl_lsn v;
    assert_true(sl_lsn_parse("16/b374d848", &v));
    assert_int_equal(v, 0x16B374D848ull);
}

static void
test_lsn_refuses_other_text(void **state)
{
    (void)state;
    static const char *const bad[] = {"", "/", "0/", "/0", "0", "0/0/0", "123456789/0",
                                      "0/123456789", "g/0", "0/0 ", " 0/0", "-1/0", "0x1/0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sl_lsn v = 0;
        assert_false(sl_lsn_parse(bad[i], &v));
    }
}

static void
test_slot_names(void **state)
{
    (void)state;
    assert_true(sl_repl_slot_name_ok("pipelinewise_mydb"));
    assert_true(sl_repl_slot_name_ok("a"));
    assert_true(sl_repl_slot_name_ok("abcdefghijklmnopqrstuvwxyz_0123456789_"
                                     "abcdefghijklmnopqrstuvwxy"));  /* 63 */
    static const char *const bad[] = {"", "Upper", "with space", "dash-ed", "quote\"",
                                      "semi;colon", "abcdefghijklmnopqrstuvwxyz_0123456789_"
                                                    "abcdefghijklmnopqrstuvwxyz"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(sl_repl_slot_name_ok(bad[i]));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lsn_round_trip),
        cmocka_unit_test(test_lsn_refuses_other_text),
        cmocka_unit_test(test_slot_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
