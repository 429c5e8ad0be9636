/* tests/unit/test_database.c: dump/database.h's DO block is guarded by the setting restore
 * --create gives its sessions, and its dollar quote cannot be ended by what it holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "dump/database.h"

static void
test_guarded_by_the_setting(void **state)
{
    (void)state;
    char *sql = sl__database_do_block("    EXECUTE 'x';\n");
    assert_string_equal(sql,
                        "DO $sluice$\nBEGIN\n"
                        "    IF pg_catalog.current_setting('sluice.database_properties', true) "
                        "IS DISTINCT FROM 'on' THEN\n"
                        "        RETURN;\n"
                        "    END IF;\n"
                        "    EXECUTE 'x';\n"
                        "END\n$sluice$;\n");
    free(sql);
}

static const struct {
    const char *name;
    const char *body;
    const char *tag;
} tags[] = {
    {"no dollar quote inside", "    EXECUTE 'a $x$ b';\n", "DO $sluice$\n"},
    {"the tag inside", "    EXECUTE 'a $sluice$ b';\n", "DO $sluice_1$\n"},
    {"the first two tags inside", "    EXECUTE '$sluice$ $sluice_1$';\n", "DO $sluice_2$\n"},
    {"a tag cut short inside", "    EXECUTE '$sluice';\n", "DO $sluice$\n"},
};

static void
test_tag_not_in_body(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
        char *sql = sl__database_do_block(tags[i].body);
        if (strncmp(sql, tags[i].tag, strlen(tags[i].tag)) != 0)
            fail_msg("%s: %s", tags[i].name, sql);
        /* the tag closes the block, after the body */
        const char *end = strstr(sql, "END\n") + 4;
        if (strncmp(end, tags[i].tag + 3, strlen(tags[i].tag) - 4) != 0)
            fail_msg("%s: not closed by its tag: %s", tags[i].name, sql);
        free(sql);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guarded_by_the_setting),
        cmocka_unit_test(test_tag_not_in_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
