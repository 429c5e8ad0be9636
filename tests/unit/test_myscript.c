/* Unit tests for mysql/script: every case is split whole, byte by byte and at every two-way
 * cut, and must give the same statements (or the same error) each time. A statement is
 * written as "[<line>]text"; its text must also be the input's bytes at its offset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "mysql/script.h"

typedef struct {
    const char *name;
    const char *input;
    const char *expect;  /* the statements, or those before the error */
    const char *error;   /* NULL, or a substring of the error message and context */
} script_case;

#define TAIL ": a restore never runs the mysql client's commands "

static const script_case cases[] = {
    {"two statements", "SELECT 1;\nSELECT 2;\n", "[1]SELECT 1[2]SELECT 2", NULL},
    {"last statement without delimiter", "SELECT 1;\nSELECT 2\n", "[1]SELECT 1[2]SELECT 2",
     NULL},
    {"single quotes, doubled and escaped", "SELECT 'a;b', 'it''s;', 'x\\';y';\nSELECT 2;",
     "[1]SELECT 'a;b', 'it''s;', 'x\\';y'[2]SELECT 2", NULL},
    {"escaped backslash ends string", "SELECT 'a\\\\';SELECT 2;",
     "[1]SELECT 'a\\\\'[1]SELECT 2", NULL},
    {"double quotes", "SELECT \"a;\"\"b\\\";\";", "[1]SELECT \"a;\"\"b\\\";\"", NULL},
    {"backticks do not escape", "CREATE TABLE `a;``b\\` (x int);\nSELECT 1;",
     "[1]CREATE TABLE `a;``b\\` (x int)[2]SELECT 1", NULL},
    {"comments before a statement dropped",
     "-- head; x\n# hash; y\n/* block; */\nSELECT 1; -- tail; x\nSELECT 2 # a;b\n;\n",
     "[4]SELECT 1[5]SELECT 2 # a;b", NULL},
    {"dash dash without space is code", "SELECT 1--2;\nSELECT 3;",
     "[1]SELECT 1--2[2]SELECT 3", NULL},
    {"dash dash at the end is a comment", "SELECT 1;\n--", "[1]SELECT 1", NULL},
    {"comments only", "-- nothing\n/* x; */\n# y\n", "", NULL},
    {"executable comment alone is sent",
     "/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n"
     "/*M!100616 SET @OLD_NOTE_VERBOSITY=@@NOTE_VERBOSITY, NOTE_VERBOSITY=0 */;\n",
     "[1]/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */"
     "[2]/*M!100616 SET @OLD_NOTE_VERBOSITY=@@NOTE_VERBOSITY, NOTE_VERBOSITY=0 */",
     NULL},
    {"executable comment holds strings", "/*!50001 SELECT '*/;' */;SELECT 2;",
     "[1]/*!50001 SELECT '*/;' */[1]SELECT 2", NULL},
    {"sandbox line skipped", "/*M!999999\\- enable the sandbox mode */\nSELECT 1;\n",
     "[2]SELECT 1", NULL},
    {"delimiter around a trigger",
     "DELIMITER ;;\n/*!50003 CREATE*/ /*!50003 TRIGGER t BEFORE INSERT ON x FOR EACH ROW "
     "BEGIN SET NEW.a = 1; SET NEW.b = 2; END */;;\nDELIMITER ;\nSELECT 1;\n",
     "[2]/*!50003 CREATE*/ /*!50003 TRIGGER t BEFORE INSERT ON x FOR EACH ROW "
     "BEGIN SET NEW.a = 1; SET NEW.b = 2; END */[4]SELECT 1",
     NULL},
    {"delimiter any case and word", "delimiter $$\nCREATE PROCEDURE p() BEGIN SELECT 1; END$$\n"
     "Delimiter ;\nSELECT 2;", "[2]CREATE PROCEDURE p() BEGIN SELECT 1; END[4]SELECT 2", NULL},
    {"delimiter word inside a statement is code", "SELECT 1 AS\ndelimiter;",
     "[1]SELECT 1 AS\ndelimiter", NULL},
    {"empty statements skipped", ";;SELECT 1;;\n;", "[1]SELECT 1", NULL},
    {"use is sql", "USE `db`;\nSELECT 1;", "[1]USE `db`[2]SELECT 1", NULL},
    {"word starting like a command", "sourcetable;\nSELECT 1;", "[1]sourcetable[2]SELECT 1",
     NULL},
    {"backslash in a comment is fine", "/* \\! x */ SELECT 1; -- \\! y\n# \\! z\n",
     "[1]SELECT 1", NULL},
    {"utf8 and crlf", "SELECT 'h\xc3\xa9;';\r\nSELECT `\xe2\x82\xac`;\r\n",
     "[1]SELECT 'h\xc3\xa9;'[2]SELECT `\xe2\x82\xac`", NULL},
    {"newlines inside strings count", "SELECT 'a\nb';\nSELECT 2;", "[1]SELECT 'a\nb'[3]SELECT 2",
     NULL},
    {"NUL bytes inside strings", "SELECT 'a\0b';", "[1]SELECT 'a\0b'", NULL},
    {"shell escape refused", "SELECT 1;\n\\! touch /tmp/x\n", "[1]SELECT 1",
     "client command \"\\!\" refused" TAIL "[line 2]"},
    {"shell escape inside a statement refused", "SELECT 1\n\\! touch /tmp/x\n;", "",
     "\"\\!\" refused" TAIL "[line 2]"},
    {"shell escape in an executable comment refused", "/*!50000 \\! ls */;", "",
     "\"\\!\" refused" TAIL "[line 1]"},
    {"system refused", "SELECT 1;\nsystem touch /tmp/x\n", "[1]SELECT 1",
     "client command \"system\" refused" TAIL "[line 2]"},
    {"source refused", "  SOURCE /etc/passwd;", "", "\"source\" refused" TAIL "[line 1]"},
    {"connect refused", "connect other;", "", "\"connect\" refused"},
    {"pager refused", "pager cat > /tmp/x\n", "", "\"pager\" refused"},
    {"unterminated string", "SELECT 1;\nSELECT 'abc;\n", "[1]SELECT 1",
     "unterminated quoted string at the end of the script [line 2]"},
    {"unterminated backtick", "SELECT `a;", "", "unterminated backtick-quoted identifier"},
    {"unterminated comment", "SELECT 1;\n\n/* x", "[1]SELECT 1",
     "unterminated comment at the end of the script [line 3]"},
    {"unterminated executable comment", "/*!40101 SET x=1", "",
     "unterminated executable comment"},
    {"bad delimiter", "DELIMITER \\\n", "", "DELIMITER needs one word"},
    {"empty delimiter", "DELIMITER  \nSELECT 1;", "", "DELIMITER needs one word"},
};

typedef struct {
    const char *input;
    size_t len;
    sl_buf *out;
} collector;

static int
drain(sl_myscript *s, collector *c, sl_error *err)
{
    sl_myscript_stmt st;
    int rc;
    while ((rc = sl_myscript_next(s, &st, err)) == 1) {
        assert_true(st.offset + st.len <= c->len);
        assert_memory_equal(c->input + st.offset, st.text, st.len);
        assert_int_equal(st.text[st.len], '\0');
        uint64_t line = 1;
        for (size_t i = 0; i < st.offset; i++)
            line += c->input[i] == '\n';
        assert_int_equal(line, st.line);
        sl_buf_printf(c->out, "[%llu]", (unsigned long long)st.line);
        sl_buf_append(c->out, st.text, st.len);
    }
    return rc;
}

/* Splits input in chunks of `step` bytes (the first `first` bytes when first > 0). */
static int
run_split(const char *input, size_t len, size_t first, size_t step, size_t max, sl_buf *out,
          sl_error *err)
{
    sl_myscript *s = sl_myscript_new(max);
    collector c = {input, len, out};
    int rc = 0;
    for (size_t pos = 0; pos < len && rc == 0;) {
        size_t n = first > 0 && pos == 0 ? first : step;
        if (n > len - pos)
            n = len - pos;
        char *chunk = malloc(n);
        memcpy(chunk, input + pos, n);
        sl_myscript_feed(s, chunk, n);
        free(chunk);  /* fed bytes are copied */
        pos += n;
        rc = drain(s, &c, err);
    }
    if (rc == 0) {
        sl_myscript_finish(s);
        rc = drain(s, &c, err);
    }
    if (rc == 0)  /* done stays done */
        assert_int_equal(drain(s, &c, err), 0);
    sl_myscript_free(s);
    return rc;
}

static size_t
case_len(const script_case *k)
{
    /* the one case with a NUL inside */
    return strcmp(k->name, "NUL bytes inside strings") == 0 ? 13 : strlen(k->input);
}

static void
check_one(const script_case *k, size_t first, size_t step)
{
    sl_buf out = SL_BUF_INIT;
    sl_error err;
    sl_error_clear(&err);
    size_t len = case_len(k);
    int rc = run_split(k->input, len, first, step, 0, &out, &err);
    const char *expect = k->expect;
    size_t elen = strcmp(k->name, "NUL bytes inside strings") == 0 ? 15 : strlen(expect);
    if (out.len != elen || memcmp(out.data ? out.data : "", expect, elen) != 0)
        fail_msg("%s (first %zu, step %zu): got \"%s\", want \"%s\"", k->name, first, step,
                 out.data ? out.data : "", expect);
    if (k->error) {
        char msg[2048];
        snprintf(msg, sizeof msg, "%s [%s]", err.message, err.context);
        if (rc != -1 || !strstr(msg, k->error))
            fail_msg("%s: want error \"%s\", got rc %d \"%s\"", k->name, k->error, rc, msg);
        assert_int_equal(err.kind, SL_E_ARCHIVE);
    } else if (rc != 0) {
        fail_msg("%s: unexpected error %s [%s]", k->name, err.message, err.context);
    }
    sl_buf_free(&out);
}

static void
test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const script_case *k = &cases[i];
        size_t len = case_len(k);
        check_one(k, 0, len ? len : 1);
        check_one(k, 0, 1);
        for (size_t cut = 1; cut < len; cut++)
            check_one(k, cut, len);
    }
}

static void
test_statement_limit(void **state)
{
    (void)state;
    sl_buf out = SL_BUF_INIT;
    sl_error err;
    sl_error_clear(&err);
    const char *in = "SELECT 1;\n\nSELECT 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';";
    assert_int_equal(run_split(in, strlen(in), 0, 3, 32, &out, &err), -1);
    assert_string_equal(out.data, "[1]SELECT 1");
    assert_non_null(strstr(err.message, "statement longer than 32 bytes"));
    assert_string_equal(err.context, "line 3");
    /* a statement at the limit passes */
    sl_buf_reset(&out);
    assert_int_equal(run_split("SELECT 1;", 9, 0, 1, 9, &out, &err), 0);
    sl_buf_free(&out);
}

static void
test_head(void **state)
{
    (void)state;
    char out[64];
    const char *s = "CREATE USER 'u'@'%' IDENTIFIED BY 'sec\\'ret';";
    sl_myscript_head(s, strlen(s), out, sizeof out);
    assert_null(strstr(out, "sec"));
    assert_non_null(strstr(out, "IDENTIFIED BY '***'"));
    s = "SET PASSWORD FOR x = PASSWORD('hunter2')";
    sl_myscript_head(s, strlen(s), out, sizeof out);
    assert_null(strstr(out, "hunter2"));
    s = "INSERT INTO t VALUES ('a\tb')\n, ('c')";
    sl_myscript_head(s, strlen(s), out, sizeof out);
    assert_string_equal(out, "INSERT INTO t VALUES ('a b')");
    sl_myscript_head(s, strlen(s), out, 8);
    assert_string_equal(out, "INSERT ");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_statement_limit),
        cmocka_unit_test(test_head),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
