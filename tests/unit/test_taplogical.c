/* tests/unit/test_taplogical.c: tap/logical.h's pure parts: the replication slot's name as
 * pipelinewise-tap-postgres makes it and wal2json's add-tables escaping (its messages:
 * test_tapwal2json.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "tap/logical.h"

static void
test_slot_name_as_pipelinewise(void **state)
{
    (void)state;
    static const struct {
        const char *dbname, *tap_id, *want;
    } cases[] = {
        {"Sales", NULL, "pipelinewise_sales"},
        {"Sales", "Tap-1", "pipelinewise_sales_tap_1"},
        {"my db.x", NULL, "pipelinewise_my_db_x"},
        /* one "_" per character, as Python's re.sub counts them, not per UTF-8 byte */
        {"caf\xc3\xa9", NULL, "pipelinewise_caf_"},
        {"\xe6\x97\xa5\xe6\x9c\xac", "x", "pipelinewise____x"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_tap_config cfg = {.dbname = (char *)cases[i].dbname, .tap_id = (char *)cases[i].tap_id};
        char *name = NULL;
        sl_error err;
        sl_error_clear(&err);
        assert_int_equal(sl_tap_logical_slot_name(NULL, &cfg, &name, &err), 0);
        assert_string_equal(name, cases[i].want);
        free(name);
    }
}

static void
test_slot_name_from_config_wins(void **state)
{
    (void)state;
    sl_tap_config cfg = {.dbname = "db", .tap_id = "t", .replication_slot_name = "my_slot"};
    char *name = NULL;
    sl_error err;
    sl_error_clear(&err);
    assert_int_equal(sl_tap_logical_slot_name(NULL, &cfg, &name, &err), 0);
    assert_string_equal(name, "my_slot");
    free(name);
}

static void
test_add_tables_escapes_wal2json_specials(void **state)
{
    (void)state;
    sl_tap_stream s[2] = {{.schema_name = "public", .table_name = "plain"},
                          {.schema_name = "my.schema", .table_name = "it's a, *t\\"}};
    sl_tap_logical_table t[2] = {{.s = &s[0]}, {.s = &s[1]}};
    sl_buf out = SL_BUF_INIT;
    sl_tap_logical_add_tables(&out, t, 2);
    assert_string_equal(out.data, "public.plain,my\\.schema.it\\'s\\ a\\,\\ \\*t\\\\");
    sl_buf_free(&out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slot_name_as_pipelinewise),
        cmocka_unit_test(test_slot_name_from_config_wins),
        cmocka_unit_test(test_add_tables_escapes_wal2json_specials),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
