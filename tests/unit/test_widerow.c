/* Unit tests for pg/widerow.c's line splitter: a row of the large-value COPY is the table's
 * columns, a t/f flag and the row's ctid; an ordinary row is written without the last two. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "pg/widerow.h"

static const struct {
    const char *name;
    const char *line;
    int want;              /* 0 ordinary, 1 wide, -1 refused */
    const char *kept;      /* ordinary: the bytes written */
    const char *ctid;      /* wide: the ctid */
} lines[] = {
    {"ordinary", "1\tabc\tf\t(0,1)\n", 0, "1\tabc", NULL},
    {"ordinary without newline", "1\tabc\tf\t(12,3)", 0, "1\tabc", NULL},
    {"ordinary, NULL and escapes kept", "\\N\ta\\tb\\nc\\\\\tf\t(0,2)\n", 0,
     "\\N\ta\\tb\\nc\\\\", NULL},
    {"ordinary, empty last column", "1\t\tf\t(0,1)\n", 0, "1\t", NULL},
    {"ordinary, one column", "x\tf\t(0,1)\n", 0, "x", NULL},
    {"wide", "1\t\\N\tt\t(4294967295,65535)\n", 1, NULL, "(4294967295,65535)"},
    {"wide without newline", "1\t\\N\tt\t(7,8)", 1, NULL, "(7,8)"},
    {"a value ending like a flag stays in the row", "a\tt\tf\t(0,1)\n", 0, "a\tt", NULL},
    {"empty", "", -1, NULL, NULL},
    {"newline only", "\n", -1, NULL, NULL},
    {"no flag", "1\t(0,1)\n", -1, NULL, NULL},
    {"flag too long", "1\ttrue\t(0,1)\n", -1, NULL, NULL},
    {"other flag", "1\tx\t(0,1)\n", -1, NULL, NULL},
    {"empty ctid", "1\tt\t\n", -1, NULL, NULL},
    {"ctid with SQL", "1\tt\t(0,1)'; SELECT 1; --\n", -1, NULL, NULL},
    {"ctid with a meta-command", "1\tt\t(0,1)\n\\! id\n", -1, NULL, NULL},
    {"ctid without parentheses", "1\tt\t0,1\n", -1, NULL, NULL},
    {"ctid with a sign", "1\tt\t(-1,1)\n", -1, NULL, NULL},
    {"ctid too large", "1\tt\t(12345678901,1)\n", -1, NULL, NULL},
    {"ctid item too large", "1\tt\t(1,123456)\n", -1, NULL, NULL},
    {"ctid with a blank", "1\tt\t(1, 2)\n", -1, NULL, NULL},
};

static void
test_split(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        sl_buf ctid = SL_BUF_INIT;
        sl_error err;
        sl_error_clear(&err);
        size_t keep = 0;
        int got = sl_widerow_split_line(lines[i].line, strlen(lines[i].line), &keep, &ctid,
                                        &err);
        if (got != lines[i].want)
            fail_msg("%s: got %d, want %d", lines[i].name, got, lines[i].want);
        if (got == 0 && (keep != strlen(lines[i].kept) ||
                         memcmp(lines[i].line, lines[i].kept, keep) != 0))
            fail_msg("%s: kept %zu bytes \"%.*s\"", lines[i].name, keep, (int)keep,
                     lines[i].line);
        if (got == 1 && strcmp(ctid.data, lines[i].ctid) != 0)
            fail_msg("%s: ctid \"%s\"", lines[i].name, ctid.data);
        if (got < 0 && (err.kind != SL_E_SERVER || !strstr(err.message, "malformed row")))
            fail_msg("%s: error %d \"%s\"", lines[i].name, err.kind, err.message);
        sl_buf_free(&ctid);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
