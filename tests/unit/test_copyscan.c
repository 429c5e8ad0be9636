/* Unit tests for pg/copyscan.c: rows of COPY ... FROM stdin blocks, whatever the
 * names of the tables and however the text is cut into chunks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "pg/copyscan.h"

static const struct {
    const char *name;
    const char *text;
    int64_t rows;
    bool complete;  /* false: the text ends inside a COPY block */
} cases[] = {
    {"two rows", "COPY public.t (a, b) FROM stdin;\n1\tx\n2\ty\n\\.\n\n", 2, true},
    {"no rows", "COPY public.t (a) FROM stdin;\n\\.\n", 0, true},
    {"no columns", "COPY public.t  FROM stdin;\n\n\n\\.\n", 2, true},
    {"last line without newline", "COPY t FROM stdin;\n1\n2", 2, false},
    {"end marker without newline", "COPY t FROM stdin;\n1\n\\.", 1, true},
    {"no end marker", "COPY t FROM stdin;\n1\n2\n", 2, false},
    {"two blocks", "COPY a FROM stdin;\n1\n\\.\nCOPY b FROM stdin;\n1\n2\n\\.\n", 3, true},
    {"a row like the end marker", "COPY t FROM stdin;\n\\\\.\n\\.x\n\\.\n", 2, true},
    {"NULL rows", "COPY t FROM stdin;\n\\N\n\\N\t\\N\n\\.\n", 2, true},
    {"comment line before", "-- TABLE DATA s.t\nCOPY t FROM stdin;\n1\n\\.\n", 1, true},
    {"newline in a quoted name",
     "COPY s.\"evil\n\\! touch x\n\" (a) FROM stdin;\n1\n2\n\\.\n", 2, true},
    {"newline in a quoted schema and column",
     "COPY \"s\n\\! x\n\".\"t\n\" (\"c\nd\", e) FROM stdin;\n1\t2\n\\.\n", 1, true},
    {"FROM stdin; inside a quoted name",
     "COPY \"t FROM stdin;\n1\n\\.\n\" (a) FROM stdin;\n7\n8\n9\n\\.\n", 3, true},
    {"quoted name ending in FROM stdin", "COPY \"x FROM stdin\";\n1\n", 0, true},
    {"doubled quotes in a name", "COPY \"a\"\"b;\n\"\"c\" FROM stdin;\n1\n\\.\n", 1, true},
    {"single quotes", "COPY t FROM stdin;\n'a\n\\.\nCOPY 'x;\n' FROM stdin;\n1\n\\.\n", 2, true},
    {"COPY TO is not data", "COPY t TO stdout;\n1\n2\n", 0, true},
    {"COPY not at a line start", "SELECT 1; COPY t FROM stdin;\n1\n", 0, true},
    {"lower case copy is not sluice's", "copy t FROM stdin;\n1\n", 0, true},
    {"CRLF row", "COPY t FROM stdin;\n1\r\n\\.\n", 1, true},
};

static void
check(size_t i, const char *chunks_desc, sl_copyscan *c)
{
    bool complete = sl_copyscan_finish(c);
    if (c->rows != cases[i].rows || complete != cases[i].complete)
        fail_msg("%s (%s): %lld rows, %s; want %lld, %s", cases[i].name, chunks_desc,
                 (long long)c->rows, complete ? "complete" : "inside COPY",
                 (long long)cases[i].rows, cases[i].complete ? "complete" : "inside COPY");
}

static void
test_whole(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_copyscan c = {0};
        sl_copyscan_feed(&c, cases[i].text, strlen(cases[i].text));
        check(i, "whole", &c);
    }
}

/* Every cut into two chunks, and one byte at a time: the same answer. */
static void
test_chunked(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = strlen(cases[i].text);
        for (size_t cut = 0; cut <= n; cut++) {
            sl_copyscan c = {0};
            sl_copyscan_feed(&c, cases[i].text, cut);
            sl_copyscan_feed(&c, cases[i].text + cut, n - cut);
            check(i, "two chunks", &c);
        }
        sl_copyscan c = {0};
        for (size_t k = 0; k < n; k++)
            sl_copyscan_feed(&c, cases[i].text + k, 1);
        check(i, "bytes", &c);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole),
        cmocka_unit_test(test_chunked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
