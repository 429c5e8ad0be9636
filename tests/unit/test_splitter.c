/* Unit tests for restore/splitter: every case is split whole, byte by byte, in small chunks
 * and at every two-way cut, and must give the same items each time. An item is written as
 * "[K<line>]text" (K: S statement, C COPY ... FROM stdin statement, D COPY data (consecutive
 * pieces joined), E end of COPY data, M meta-command); every item's text must also be the
 * input's bytes at the item's offset, and its line the line of that offset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "restore/splitter.h"

typedef struct {
    const char *name;
    const char *input;
    const char *expect;  /* the items, or the items before the error */
    const char *error;   /* NULL, or a substring of the error message */
} split_case;

static const split_case cases[] = {
    {"two statements", "SELECT 1;\nSELECT 2;\n", "[S1]SELECT 1;[S2]SELECT 2;", NULL},
    {"semicolons in single quotes", "SELECT 'a;b', 'it''s;';\n", "[S1]SELECT 'a;b', 'it''s;';",
     NULL},
    {"standard string keeps backslash literal", "SELECT 'a\\';\nSELECT 2;",
     "[S1]SELECT 'a\\';[S2]SELECT 2;", NULL},
    {"E string backslash-escaped quote", "SELECT E'a\\';b';\nSELECT 2;",
     "[S1]SELECT E'a\\';b';[S2]SELECT 2;", NULL},
    {"e string doubled quote then escape", "SELECT e'x''\\'y;';\n", "[S1]SELECT e'x''\\'y;';",
     NULL},
    {"E string escaped backslash ends", "SELECT E'\\\\';\nSELECT 2;",
     "[S1]SELECT E'\\\\';[S2]SELECT 2;", NULL},
    {"word ending in e is no E prefix", "SELECT some'x\\';\nSELECT 2;",
     "[S1]SELECT some'x\\';[S2]SELECT 2;", NULL},
    {"U& string", "SELECT U&'d\\0061t;';", "[S1]SELECT U&'d\\0061t;';", NULL},
    {"double-quoted identifiers", "CREATE TABLE \"a;b\" (\"x\"\"y;\" int);\nSELECT 1;",
     "[S1]CREATE TABLE \"a;b\" (\"x\"\"y;\" int);[S2]SELECT 1;", NULL},
    {"dollar quote", "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n",
     "[S1]CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;", NULL},
    {"tagged dollar quote holding $$ and quotes",
     "DO $fn$ BEGIN RAISE NOTICE '$$;'; END $fn$;\nSELECT 1;",
     "[S1]DO $fn$ BEGIN RAISE NOTICE '$$;'; END $fn$;[S2]SELECT 1;", NULL},
    {"underscore tag and near misses", "SELECT $_$a;$_b$;$_ $;$$;$_$;\nSELECT 2;",
     "[S1]SELECT $_$a;$_b$;$_ $;$$;$_$;[S2]SELECT 2;", NULL},
    {"tag with digits", "SELECT $a1$;$a1$;", "[S1]SELECT $a1$;$a1$;", NULL},
    {"positional parameter is no tag", "PREPARE p AS SELECT $1; SELECT $2::text;",
     "[S1]PREPARE p AS SELECT $1;[S1]SELECT $2::text;", NULL},
    {"dollar inside identifier is no tag", "SELECT a$b$c FROM t; SELECT 2;",
     "[S1]SELECT a$b$c FROM t;[S1]SELECT 2;", NULL},
    {"line comments", "-- head; x\nSELECT 1; -- tail; x\nSELECT 2 -- a;b\n;\n",
     "[S2]SELECT 1;[S3]SELECT 2 -- a;b\n;", NULL},
    {"nested block comments", "/* a; /* b; */ c; */ SELECT 1;\nSELECT /* x;*/ 2;",
     "[S1]/* a; /* b; */ c; */ SELECT 1;[S2]SELECT /* x;*/ 2;", NULL},
    {"slash-star-slash opens only", "SELECT /*/ x; */ 1;", "[S1]SELECT /*/ x; */ 1;", NULL},
    {"comments only", "-- nothing\n/* x; */\n", "", NULL},
    {"empty statements dropped", ";\n ; SELECT 1;", "[S2]SELECT 1;", NULL},
    {"division and minus", "SELECT 4/2, 3-1, -1;", "[S1]SELECT 4/2, 3-1, -1;", NULL},
    {"semicolon inside parentheses", "SELECT (1;\n2);\nSELECT 3;",
     "[S1]SELECT (1;\n2);[S3]SELECT 3;", NULL},
    {"BEGIN ATOMIC body",
     "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n SELECT a + 1;\n"
     " SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END;\nEND;\nSELECT 1;",
     "[S1]CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n SELECT a + 1;\n"
     " SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END;\nEND;[S6]SELECT 1;",
     NULL},
    {"CREATE OR REPLACE PROCEDURE BEGIN ATOMIC",
     "create or replace procedure p() language sql begin atomic insert into t values (1); "
     "select case 1 when 1 then case 2 when 2 then 0 end end; end;\nSELECT 2;",
     "[S1]create or replace procedure p() language sql begin atomic insert into t values (1); "
     "select case 1 when 1 then case 2 when 2 then 0 end end; end;[S2]SELECT 2;",
     NULL},
    {"function named begin", "CREATE FUNCTION public.begin() RETURNS int LANGUAGE sql AS "
                             "'SELECT 1';\nSELECT 2;",
     "[S1]CREATE FUNCTION public.begin() RETURNS int LANGUAGE sql AS 'SELECT 1';[S2]SELECT 2;",
     NULL},
    {"transaction BEGIN and END", "BEGIN;\nCREATE TABLE t (a int);\nEND;",
     "[S1]BEGIN;[S2]CREATE TABLE t (a int);[S3]END;", NULL},
    {"CASE outside a routine", "SELECT CASE WHEN true THEN 1 END;\nSELECT 2;",
     "[S1]SELECT CASE WHEN true THEN 1 END;[S2]SELECT 2;", NULL},
    {"COPY data that looks like SQL",
     "COPY public.t (a, b) FROM stdin;\n1\tSELECT 1;\n\\N\t'x;$$\n\\.\nSELECT 2;\n",
     "[C1]COPY public.t (a, b) FROM stdin;[D2]1\tSELECT 1;\n\\N\t'x;$$\n[E4][S5]SELECT 2;", NULL},
    {"COPY with CRLF", "COPY t FROM stdin;\r\na\r\n\\.\r\nSELECT 1;\r\n",
     "[C1]COPY t FROM stdin;[D2]a\r\n[E3][S4]SELECT 1;", NULL},
    {"COPY backslash-dot not alone", "COPY t FROM stdin;\n\\.x\n\\\\.\n a\\.\n\\.\r\r\n\\.\n",
     "[C1]COPY t FROM stdin;[D2]\\.x\n\\\\.\n a\\.\n\\.\r\r\n[E6]", NULL},
    {"COPY with no rows", "copy t from STDIN;\n\\.\n", "[C1]copy t from STDIN;[E2]", NULL},
    {"COPY end marker at end of input", "COPY t FROM stdin;\nx\n\\.",
     "[C1]COPY t FROM stdin;[D2]x\n[E3]", NULL},
    {"COPY with options", "COPY t (a) FROM stdin WITH (FREEZE);\n1\n\\.\n",
     "[C1]COPY t (a) FROM stdin WITH (FREEZE);[D2]1\n[E3]", NULL},
    {"COPY TO stdout has no data", "COPY t TO stdout;\nSELECT 1;",
     "[S1]COPY t TO stdout;[S2]SELECT 1;", NULL},
    {"COPY then two tables", "COPY a FROM stdin;\n1\n\\.\n\nCOPY b FROM stdin;\n2\n\\.\n",
     "[C1]COPY a FROM stdin;[D2]1\n[E3][C5]COPY b FROM stdin;[D6]2\n[E7]", NULL},
    {"meta-commands", "\\connect db\n\\restrict abc123\nSELECT 1;\n\\unrestrict abc123\n",
     "[M1]\\connect db[M2]\\restrict abc123[S3]SELECT 1;[M4]\\unrestrict abc123", NULL},
    {"meta-command after a comment, CRLF, at end", "/* c */\\connect db\r\nSELECT 1;\r\n\\x",
     "[M1]\\connect db[S2]SELECT 1;[M3]\\x", NULL},
    {"CRLF statements", "SELECT 1;\r\nSELECT\r\n 2;\r\n", "[S1]SELECT 1;[S2]SELECT\r\n 2;",
     NULL},
    {"last statement without semicolon", "SELECT 1;\nSELECT 2", "[S1]SELECT 1;[S2]SELECT 2",
     NULL},
    {"multi-byte characters", "SELECT 'h\xc3\xa9llo;w\xc3\xb6rld', \"t\xc3\xabst\";\n"
                              "SELECT '\xe2\x82\xac';",
     "[S1]SELECT 'h\xc3\xa9llo;w\xc3\xb6rld', \"t\xc3\xabst\";[S2]SELECT '\xe2\x82\xac';", NULL},
    {"unterminated single quote", "SELECT 1;\nSELECT 'abc;\n", "[S1]SELECT 1;",
     "unterminated quoted string starting at line 2"},
    {"unterminated E string", "SELECT E'abc\\';", "",
     "unterminated quoted string starting at line 1"},
    {"unterminated dollar quote", "\n\nSELECT $x$ abc; $x;", "",
     "unterminated dollar-quoted string starting at line 3"},
    {"unterminated identifier", "SELECT \"abc;", "",
     "unterminated quoted identifier starting at line 1"},
    {"unterminated comment", "SELECT 1;\n/* /* */", "[S1]SELECT 1;",
     "unterminated /* comment starting at line 2"},
    {"truncated COPY data", "COPY t FROM stdin;\n1\n2", "[C1]COPY t FROM stdin;[D2]1\n2",
     "COPY data of the statement at line 1 ends without a \\. line"},
    {"truncated COPY marker", "COPY t FROM stdin;\n1\n\\", "[C1]COPY t FROM stdin;[D2]1\n",
     "COPY data of the statement at line 1 ends without a \\. line"},
    {"text after COPY FROM stdin", "COPY t FROM stdin; SELECT 1;\n",
     "[C1]COPY t FROM stdin;", "unexpected text after COPY ... FROM stdin at line 1"},
    {"backslash inside a statement", "SELECT 1;\nSELECT 1 \\g\n", "[S1]SELECT 1;",
     "backslash command at line 2 inside a statement"},
};

typedef struct {
    const char *input;
    size_t len;
    size_t max_chunk;
    bool in_data;
    sl_buf *out;
} collector;

/* Takes items until the splitter wants more input: 0, or -1 with err set. */
static int
drain(sl_splitter *s, collector *c, sl_error *err)
{
    sl_split_item it;
    int rc;
    while ((rc = sl_splitter_next(s, &it, err)) == 1) {
        /* the text is the input at the item's offset; the line is that offset's line */
        assert_true(it.offset + it.len <= c->len);
        assert_memory_equal(c->input + it.offset, it.text, it.len);
        uint64_t line = 1;
        for (size_t i = 0; i < it.offset; i++)
            line += c->input[i] == '\n';
        assert_int_equal(line, it.line);
        if (it.kind == SL_SPLIT_COPY_DATA) {
            assert_true(it.len > 0 && it.len <= c->max_chunk);
            if (!c->in_data)
                sl_buf_printf(c->out, "[D%llu]", (unsigned long long)it.line);
            sl_buf_append(c->out, it.text, it.len);
            c->in_data = true;
            continue;
        }
        c->in_data = false;
        char k = it.kind == SL_SPLIT_STATEMENT ? (it.copy_in ? 'C' : 'S')
                 : it.kind == SL_SPLIT_COPY_END ? 'E'
                                                : 'M';
        if (it.kind != SL_SPLIT_COPY_DATA)
            assert_int_equal(it.text[it.len], '\0');
        sl_buf_printf(c->out, "[%c%llu]", k, (unsigned long long)it.line);
        sl_buf_append(c->out, it.text, it.len);
    }
    return rc;
}

/* Runs the splitter over input cut into chunks of `step` bytes (the first chunk `first` bytes
 * when first > 0); writes the items to out and returns 0, or -1 with err set. */
static int
run_split(const char *input, size_t len, size_t first, size_t step, const sl_splitter_opts *opts,
          sl_buf *out, sl_error *err)
{
    sl_splitter *s = sl_splitter_new(opts);
    collector c = {input, len,
                   opts && opts->max_copy_chunk ? opts->max_copy_chunk : SL_SPLITTER_COPY_CHUNK,
                   false, out};
    int rc = 0;
    for (size_t pos = 0; pos < len && rc == 0;) {
        size_t n = first > 0 && pos == 0 ? first : step;
        if (n > len - pos)
            n = len - pos;
        /* each chunk is its own copy, so a pointer kept past its chunk would be caught */
        char *chunk = malloc(n);
        memcpy(chunk, input + pos, n);
        sl_splitter_feed(s, chunk, n);
        pos += n;
        rc = drain(s, &c, err);
        free(chunk);
    }
    if (rc == 0) {
        sl_splitter_finish(s);
        rc = drain(s, &c, err);
    }
    sl_splitter_free(s);
    return rc < 0 ? -1 : 0;
}

static void
check_case(const split_case *tc, size_t first, size_t step, const sl_splitter_opts *opts)
{
    sl_buf out = SL_BUF_INIT;
    sl_error err;
    sl_error_clear(&err);
    size_t len = strlen(tc->input);
    int rc = run_split(tc->input, len, first, step, opts, &out, &err);
    const char *got = out.data ? out.data : "";
    if (strcmp(got, tc->expect) != 0)
        fail_msg("%s (first %zu, step %zu): got\n%s\nexpected\n%s", tc->name, first, step, got,
                 tc->expect);
    if (tc->error) {
        if (rc != -1)
            fail_msg("%s (first %zu, step %zu): no error", tc->name, first, step);
        assert_int_equal(err.kind, SL_E_ARCHIVE);
        if (!strstr(err.message, tc->error))
            fail_msg("%s: error \"%s\" lacks \"%s\"", tc->name, err.message, tc->error);
    } else if (rc != 0) {
        fail_msg("%s (first %zu, step %zu): unexpected error %s", tc->name, first, step,
                 err.message);
    }
    sl_buf_free(&out);
}

/* Whole, byte by byte, in small chunks, and cut in two at every byte. */
static void
test_cases_any_chunking(void **state)
{
    (void)state;
    static const size_t steps[] = {1, 2, 3, 5, 7, 1 << 20};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = strlen(cases[i].input);
        for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++)
            check_case(&cases[i], 0, steps[k], NULL);
        for (size_t cut = 1; cut < len; cut++)
            check_case(&cases[i], cut, len, NULL);
    }
}

/* COPY data comes out in pieces no larger than the limit, whatever the chunk size. */
static void
test_copy_chunks_bounded(void **state)
{
    (void)state;
    sl_buf in = SL_BUF_INIT, expect = SL_BUF_INIT;
    sl_buf_puts(&in, "COPY t FROM stdin;\n");
    sl_buf_puts(&expect, "[C1]COPY t FROM stdin;[D2]");
    for (int i = 0; i < 2000; i++) {
        sl_buf_printf(&in, "%d\trow %d; with text\\t\\n\n", i, i);
        sl_buf_printf(&expect, "%d\trow %d; with text\\t\\n\n", i, i);
    }
    sl_buf_puts(&in, "\\.\nSELECT 1;\n");
    sl_buf_puts(&expect, "[E2002][S2003]SELECT 1;");
    split_case tc = {"bounded copy", in.data, expect.data, NULL};
    static const size_t steps[] = {1, 100, 4096, 1 << 20};
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++)
        check_case(&tc, 0, steps[k], SL_SPLITTER_OPTS(.max_copy_chunk = 64));
    sl_buf_free(&in);
    sl_buf_free(&expect);
}

/* Statements against a limit of 24 bytes; COPY data never counts. */
static const split_case limit_cases[] = {
    {"unterminated quote", "SELECT 1;\nSELECT 'aaaaaaaaaaaaaaaaaaaaaaaaaaa';\n", "[S1]SELECT 1;",
     "statement starting at line 2 (offset 10) is longer than 24 bytes (an unterminated quote "
     "or comment?); if it is meant to be that long, raise the limit with "
     "--max-statement-size=MB"},
    {"unterminated comment", "/* aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "",
     "statement starting at line 1 (offset 0) is longer than 24 bytes"},
    {"dollar-quoted body", "SELECT 1;\nDO $$ BEGIN NULL; NULL; END $$;", "[S1]SELECT 1;",
     "statement starting at line 2 (offset 10) is longer than 24 bytes"},
    {"exactly at the limit", "SELECT 'abcdefghijklmn';SELECT 1;",
     "[S1]SELECT 'abcdefghijklmn';[S1]SELECT 1;", NULL},
    {"leading comments do not count", "-- a comment far longer than sixteen bytes\nSELECT 1;",
     "[S2]SELECT 1;", NULL},
    {"COPY data far over the limit",
     "COPY t FROM stdin;\n1\taaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n\\.\nSELECT 2;",
     "[C1]COPY t FROM stdin;[D2]1\taaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n[E3][S4]SELECT 2;",
     NULL},
};

static void
test_statement_limit(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof limit_cases / sizeof limit_cases[0]; i++) {
        check_case(&limit_cases[i], 0, 1, SL_SPLITTER_OPTS(.max_statement = 24));
        check_case(&limit_cases[i], 0, 1000, SL_SPLITTER_OPTS(.max_statement = 24));
    }
    /* the default: far below the server's 1 GiB, far above what a backup writes */
    assert_int_equal(SL_SPLITTER_MAX_STATEMENT, (size_t)16 << 20);
}

/* NUL bytes (inputs carry their length): refused wherever libpq or psql would cut the text,
 * passed through in COPY data (the server judges the data). */
static const struct {
    const char *name;
    const char *input;
    size_t len;
    const char *expect;
    size_t expect_len;
    const char *error;
} nul_cases[] = {
    {"in a statement", "SELECT 1;\nDELETE FROM t\0 WHERE id = 1;", 38, "[S1]SELECT 1;", 13,
     "NUL byte at line 2 (offset 23): a SQL script holds none outside COPY data"},
    {"in a quoted string", "SELECT 'a\0b';", 14, "", 0, "NUL byte at line 1 (offset 9)"},
    {"in a leading comment", "-- a\0\nSELECT 1;", 15, "", 0, "NUL byte at line 1 (offset 4)"},
    {"in a meta-command", "\\connect a\0b\n", 13, "", 0, "NUL byte at line 1 (offset 10)"},
    {"in COPY data", "COPY t FROM stdin;\na\0b\n\\.\n", 26,
     "[C1]COPY t FROM stdin;[D2]a\0b\n[E3]", 34, NULL},
};

static void
test_nul_bytes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof nul_cases / sizeof nul_cases[0]; i++) {
        static const size_t steps[] = {1, 3, 1000};
        for (size_t k = 0; k < 3; k++) {
            sl_buf out = SL_BUF_INIT;
            sl_error err = {0};
            int rc = run_split(nul_cases[i].input, nul_cases[i].len, 0, steps[k], NULL, &out,
                               &err);
            size_t want_len = nul_cases[i].expect_len;
            if (out.len != want_len || memcmp(out.data ? out.data : "", nul_cases[i].expect,
                                              want_len) != 0)
                fail_msg("%s (step %zu): items differ", nul_cases[i].name, steps[k]);
            if (nul_cases[i].error) {
                if (rc != -1 || err.kind != SL_E_ARCHIVE
                    || !strstr(err.message, nul_cases[i].error))
                    fail_msg("%s (step %zu): rc %d, \"%s\"", nul_cases[i].name, steps[k], rc,
                             err.message);
            } else if (rc != 0) {
                fail_msg("%s: %s", nul_cases[i].name, err.message);
            }
            sl_buf_free(&out);
        }
    }
}

/* Feeds text to s until it needs more input; returns what _next() returned last. */
static int
feed_all(sl_splitter *s, const sl_buf *text, sl_split_item *it, sl_error *err)
{
    sl_splitter_feed(s, text->data, text->len);
    return sl_splitter_next(s, it, err);
}

/* Splitters sharing a budget: statements read at the same time count together beyond the first
 * SL_SPLITTER_BUDGET_FREE bytes of each; a yielded statement gives its share back. */
static void
test_shared_budget(void **state)
{
    (void)state;
    const size_t mib = (size_t)1 << 20;
    sl_splitter_budget *b = sl_splitter_budget_new(4 * mib);
    sl_splitter_opts opts = {.max_statement = 8 * mib, .budget = b};
    sl_splitter *one = sl_splitter_new(&opts), *two = sl_splitter_new(&opts);
    sl_splitter *three = sl_splitter_new(&opts);
    sl_buf big = SL_BUF_INIT;
    sl_split_item it;
    sl_error err = {0};
    sl_buf_puts(&big, "SELECT 1;\nSELECT '");
    while (big.len < 3 * mib + mib / 2)
        sl_buf_puts(&big, "0123456789abcdef");
    /* 3.5 MiB open in the first (3 MiB of the budget): as much does not fit in the second */
    assert_int_equal(feed_all(one, &big, &it, &err), 1);  /* SELECT 1; */
    assert_int_equal(sl_splitter_next(one, &it, &err), 0);
    assert_int_equal(feed_all(two, &big, &it, &err), 1);
    assert_int_equal(sl_splitter_next(two, &it, &err), -1);
    assert_int_equal(err.kind, SL_E_ARCHIVE);
    if (!strstr(err.message, "statement starting at line 2 (offset 10) does not fit: the "
                             "statements read at the same time by the restore's connections "
                             "hold more than 4 MiB together; raise the limit with "
                             "--max-statement-size=MB or use fewer jobs"))
        fail_msg("message \"%s\"", err.message);
    sl_splitter_free(two);  /* gives back what it had taken */
    /* the first ends its statement and yields it: its share comes back at the next call */
    sl_splitter_feed(one, "';", 2);
    assert_int_equal(sl_splitter_next(one, &it, &err), 1);
    assert_int_equal(it.len, big.len - 10 + 2);
    assert_int_equal(sl_splitter_next(one, &it, &err), 0);
    assert_int_equal(feed_all(three, &big, &it, &err), 1);
    if (sl_splitter_next(three, &it, &err) != 0)
        fail_msg("third splitter: %s", err.message);
    sl_splitter_free(one);
    sl_splitter_free(three);
    sl_splitter_budget_free(b);
    sl_buf_free(&big);
}

static const struct {
    const char *line;
    const char *name;
    const char *arg;    /* NULL: no argument */
    const char *error;  /* NULL, or a substring of the error */
} metas[] = {
    {"\\connect db", "connect", "db", NULL},
    {"\\c  other_db  ", "c", "other_db", NULL},
    {"\\connect \"a\"\"b c\"", "connect", "a\"b c", NULL},
    {"\\connect -reuse-previous=on \"dbname='my db'\"", "connect", "my db", NULL},
    {"\\connect -reuse-previous=on \"dbname='it\\'s'\"", "connect", "it's", NULL},
    {"\\connect dbname=plain", "connect", "plain", NULL},
    {"\\restrict AbC123", "restrict", "AbC123", NULL},
    {"\\unrestrict", "unrestrict", NULL, NULL},
    {"\\set ON_ERROR_STOP on", "set", "ON_ERROR_STOP", NULL},
    {"\\connect \"abc", NULL, NULL, "unterminated quote in meta-command \\connect"},
    {"\\connect \"host=x dbname=y\"", NULL, NULL, "unsupported \\connect argument"},
    {"select", NULL, NULL, "not a meta-command"},
};

static void
test_parse_meta(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof metas / sizeof metas[0]; i++) {
        char *name = NULL, *arg = NULL;
        sl_error err;
        sl_error_clear(&err);
        int rc = sl_splitter_parse_meta(metas[i].line, &name, &arg, &err);
        if (metas[i].error) {
            if (rc != -1)
                fail_msg("accepted: %s", metas[i].line);
            assert_int_equal(err.kind, SL_E_ARCHIVE);
            if (!strstr(err.message, metas[i].error))
                fail_msg("%s: error \"%s\"", metas[i].line, err.message);
            continue;
        }
        if (rc != 0)
            fail_msg("%s: %s", metas[i].line, err.message);
        assert_string_equal(name, metas[i].name);
        if (metas[i].arg)
            assert_string_equal(arg ? arg : "(null)", metas[i].arg);
        else
            assert_null(arg);
        free(name);
        free(arg);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases_any_chunking),
        cmocka_unit_test(test_copy_chunks_bounded),
        cmocka_unit_test(test_statement_limit),
        cmocka_unit_test(test_shared_budget),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_parse_meta),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
