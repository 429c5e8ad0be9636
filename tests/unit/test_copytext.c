/* Unit tests for pg/copytext: the bytes COPY's text format writes for a value, and the fields
 * sl_copyrow_parse() reads back from a row. A parsed row is rendered as its fields in order,
 * each "[bytes]", or "N" for NULL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/error.h"
#include "pg/copytext.h"

static const struct {
    const char *name;
    const char *in;
    size_t len;
    const char *out;
} cases[] = {
    {"plain text", "abc", 3, "abc"},
    {"empty", "", 0, ""},
    {"tab and newline", "a\tb\nc", 5, "a\\tb\\nc"},
    {"carriage return", "x\r\n", 3, "x\\r\\n"},
    {"backslash", "C:\\dir\\", 7, "C:\\\\dir\\\\"},
    {"backslash N is not NULL", "\\N", 2, "\\\\N"},
    {"control letters", "\b\f\v", 3, "\\b\\f\\v"},
    {"other control bytes kept", "\x01\x1f", 2, "\x01\x1f"},
    {"quotes kept", "it's \"q\"", 8, "it's \"q\""},
    {"utf-8 kept", "\xc3\x9c\xe6\x97\xa5", 5, "\xc3\x9c\xe6\x97\xa5"},
    {"embedded NUL-free end", "end\\", 4, "end\\\\"},
};

static void
test_escape_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_buf b = SL_BUF_INIT;
        sl_copytext_escape(&b, cases[i].in, cases[i].len);
        if (strlen(cases[i].out) != b.len || memcmp(b.data, cases[i].out, b.len) != 0)
            fail_msg("%s: got \"%s\"", cases[i].name, b.data);
        sl_buf_free(&b);
    }
}

static void
test_escape_appends(void **state)
{
    (void)state;
    sl_buf b = SL_BUF_INIT;
    sl_buf_puts(&b, "1\t");
    sl_copytext_escape(&b, "a\tb", 3);
    sl_buf_puts(&b, "\t" SL_COPYTEXT_NULL "\n");
    assert_string_equal(b.data, "1\ta\\tb\t\\N\n");
    sl_buf_free(&b);
}

static void
test_bytea_slices(void **state)
{
    (void)state;
    const unsigned char first[] = {0x00, 0xff, 0x5c};
    const unsigned char second[] = {0x0a};
    sl_buf b = SL_BUF_INIT;
    sl_copytext_bytea(&b, first, sizeof first, 0);
    sl_copytext_bytea(&b, second, sizeof second, 1);
    assert_string_equal(b.data, "\\\\x00ff5c0a");
    sl_buf_reset(&b);
    sl_copytext_bytea(&b, first, 0, 0);
    assert_string_equal(b.data, "\\\\x");  /* the empty bytea */
    sl_buf_free(&b);
}

static void
render(const sl_copyrow *row, sl_buf *out)
{
    sl_buf_reset(out);
    for (size_t i = 0; i < row->nfields; i++) {
        const sl_copyfield *f = &row->fields[i];
        if (f->is_null) {
            assert_null(f->data);
            sl_buf_putc(out, 'N');
            continue;
        }
        sl_buf_putc(out, '[');
        sl_buf_append(out, f->data, f->len);
        sl_buf_putc(out, ']');
    }
}

#define LINE(s) s, sizeof s - 1

static const struct {
    const char *name;
    const char *line;
    size_t len;
    size_t nfields;
    const char *fields;
} rows[] = {
    {"plain fields", LINE("a\tbc\td\n"), 3, "[a][bc][d]"},
    {"letter escapes", LINE("\\b\\f\\n\\r\\t\\v\\\\\n"), 1, "[\b\f\n\r\t\v\\]"},
    {"octal escapes", LINE("\\101\\1011\\7\\12\\377\\1234\n"), 1, "[AA1\x07\n\xffS4]"},
    {"octal keeps the low byte", LINE("\\777\\501\n"), 1, "[\xff" "A]"},
    {"hex escapes", LINE("\\x41\\x4a\\x4A\\x7\\x411\\xfF\n"), 1, "[AJJ\x07" "A1\xff]"},
    {"backslash x without a digit is x", LINE("\\xg\ta\\x\tb\n"), 3, "[xg][ax][b]"},
    {"any other escaped byte is itself", LINE("\\a\\Nz\\q\\.\\\"\n"), 1, "[aNzq.\"]"},
    {"escaped tab is data", LINE("a\\\tb\tc\n"), 2, "[a\tb][c]"},
    {"NULL", LINE("\\N\ta\t\\N\n"), 3, "N[a]N"},
    {"escaped backslash then N is text", LINE("\\\\N\n"), 1, "[\\N]"},
    {"backslash N with more is not NULL", LINE("\\Nx\tx\\N\n"), 2, "[Nx][xN]"},
    {"empty fields", LINE("\t\t\n"), 3, "[][][]"},
    {"empty line is one empty field", LINE("\n"), 1, "[]"},
    {"empty line is a row without columns", LINE("\n"), 0, ""},
    {"multi-byte UTF-8 untouched", LINE("\xc3\xa9\t\xe6\x97\xa5\\n\xf0\x9f\x98\x80\n"), 2,
     "[\xc3\xa9][\xe6\x97\xa5\n\xf0\x9f\x98\x80]"},
    {"octal bytes of UTF-8", LINE("\\303\\251\n"), 1, "[\xc3\xa9]"},
    {"raw carriage return kept", LINE("a\rb\n"), 1, "[a\rb]"},
    {"decoded and plain fields mixed", LINE("x\\ty\tplain\t\\\\\t\\N\tz\n"), 5,
     "[x\ty][plain][\\]N[z]"},
};

static void
test_parse_table(void **state)
{
    (void)state;
    sl_copyrow row = SL_COPYROW_INIT;
    sl_buf got = SL_BUF_INIT;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sl_error err;
        sl_error_clear(&err);
        if (sl_copyrow_parse(&row, rows[i].line, rows[i].len, rows[i].nfields, &err) != 0)
            fail_msg("%s: %s", rows[i].name, err.message);
        assert_int_equal(row.nfields, rows[i].nfields);
        render(&row, &got);
        if (got.len != strlen(rows[i].fields) || memcmp(got.data, rows[i].fields, got.len) != 0)
            fail_msg("%s: got \"%s\"", rows[i].name, got.data);
    }
    sl_buf_free(&got);
    sl_copyrow_free(&row);
}

static const struct {
    const char *name;
    const char *line;
    size_t len;
    size_t nfields;
    const char *message;
} bad_rows[] = {
    {"no final newline", LINE("a\tb"), 2, "COPY row does not end with a newline"},
    {"nothing at all", LINE(""), 0, "COPY row does not end with a newline"},
    {"one field too many", LINE("a\tb\n"), 1, "COPY row field 2: more fields than the 1 expected"},
    {"data for no columns", LINE("a\n"), 0, "COPY row field 1: more fields than the 0 expected"},
    {"tab for no columns", LINE("\t\n"), 0, "COPY row field 1: more fields than the 0 expected"},
    {"one field too few", LINE("a\n"), 2, "COPY row ends after field 1, expected 2 fields"},
    {"lone backslash at the end", LINE("a\tb\\\n"), 2,
     "COPY row field 2: a backslash ends the row"},
    {"octal zero", LINE("\\0\n"), 1, "COPY row field 1: an escape decodes to a NUL byte"},
    {"octal 000", LINE("a\t\\000\n"), 2, "COPY row field 2: an escape decodes to a NUL byte"},
    {"octal 400 is zero", LINE("a\\400\n"), 1, "COPY row field 1: an escape decodes to a NUL byte"},
    {"hex 0", LINE("\\x0\n"), 1, "COPY row field 1: an escape decodes to a NUL byte"},
    {"hex 00", LINE("\\x00\n"), 1, "COPY row field 1: an escape decodes to a NUL byte"},
    {"escaped NUL byte", LINE("\\\0\n"), 1, "COPY row field 1: an escape decodes to a NUL byte"},
};

static void
test_parse_rejects(void **state)
{
    (void)state;
    sl_copyrow row = SL_COPYROW_INIT;
    for (size_t i = 0; i < sizeof bad_rows / sizeof bad_rows[0]; i++) {
        sl_error err;
        sl_error_clear(&err);
        if (sl_copyrow_parse(&row, bad_rows[i].line, bad_rows[i].len, bad_rows[i].nfields,
                             &err) == 0)
            fail_msg("accepted: %s", bad_rows[i].name);
        assert_int_equal(err.kind, SL_E_SERVER);
        if (strcmp(err.message, bad_rows[i].message) != 0)
            fail_msg("%s: got \"%s\"", bad_rows[i].name, err.message);
    }
    sl_copyrow_free(&row);
}

/* Fields without a backslash are the line's own bytes; decoded ones live in the row. */
static void
test_parse_zero_copy(void **state)
{
    (void)state;
    static const char line[] = "abc\t\\\\x\t\\N\tdef\n";
    sl_copyrow row = SL_COPYROW_INIT;
    sl_error err;
    assert_int_equal(sl_copyrow_parse(&row, line, sizeof line - 1, 4, &err), 0);
    assert_ptr_equal(row.fields[0].data, line);
    assert_ptr_equal(row.fields[3].data, line + 11);
    assert_ptr_equal(row.fields[1].data, row.decoded.data);
    assert_true(row.fields[2].is_null);
    sl_copyrow_free(&row);
}

/* Rows parsed one after the other reuse the row's memory: after the longest line, nothing
 * grows. */
static void
test_parse_memory_bounded(void **state)
{
    (void)state;
    sl_copyrow row = SL_COPYROW_INIT;
    sl_buf line = SL_BUF_INIT;
    sl_error err;
    for (int i = 0; i < 300; i++)
        sl_buf_puts(&line, "\\t");
    sl_buf_puts(&line, "\tx\n");
    assert_int_equal(sl_copyrow_parse(&row, line.data, line.len, 2, &err), 0);
    assert_int_equal(row.fields[0].len, 300);
    size_t cap = row.decoded.cap, fields_cap = row.cap;
    assert_true(cap <= 2 * line.len + 64);
    assert_int_equal(fields_cap, 2);
    for (int i = 0; i < 1000; i++) {
        sl_buf_reset(&line);
        sl_buf_printf(&line, "\\\\%d\t\\n%d\n", i, i * 7);
        assert_int_equal(sl_copyrow_parse(&row, line.data, line.len, 2, &err), 0);
        assert_int_equal(row.decoded.cap, cap);
        assert_int_equal(row.cap, fields_cap);
    }
    sl_buf_free(&line);
    sl_copyrow_free(&row);
}

/* A wrong expected count costs no memory beyond the line: fields are allocated for what the
 * line can hold, not for what was expected. */
static void
test_parse_expected_count_bounded(void **state)
{
    (void)state;
    sl_copyrow row = SL_COPYROW_INIT;
    sl_error err;
    assert_int_equal(sl_copyrow_parse(&row, "a\tb\n", 4, SIZE_MAX, &err), -1);
    char want[100];
    snprintf(want, sizeof want, "COPY row ends after field 2, expected %zu fields", SIZE_MAX);
    assert_string_equal(err.message, want);
    assert_int_equal(row.nfields, 0);
    assert_true(row.cap <= 4);
    sl_copyrow_free(&row);
}

/* A small fixed generator: the same bytes on every run. */
static uint32_t
next_random(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Random values (any byte but the NUL the server never sends, NULL sometimes) written with
 * sl_copytext_escape() read back the same. */
static void
test_escape_parse_round_trip(void **state)
{
    (void)state;
    uint32_t seed = 2463534242u;
    sl_copyrow row = SL_COPYROW_INIT;
    sl_buf line = SL_BUF_INIT;
    char values[5][40];
    size_t lens[5];
    for (int round = 0; round < 2000; round++) {
        size_t n = 1 + next_random(&seed) % 5;
        sl_buf_reset(&line);
        for (size_t f = 0; f < n; f++) {
            lens[f] = next_random(&seed) % 40;
            for (size_t b = 0; b < lens[f]; b++)
                values[f][b] = (char)(1 + next_random(&seed) % 255);
            if (f)
                sl_buf_putc(&line, '\t');
            if (next_random(&seed) % 8 == 0)
                lens[f] = SIZE_MAX;  /* NULL */
            if (lens[f] == SIZE_MAX)
                sl_buf_puts(&line, SL_COPYTEXT_NULL);
            else
                sl_copytext_escape(&line, values[f], lens[f]);
        }
        sl_buf_putc(&line, '\n');
        sl_error err;
        if (sl_copyrow_parse(&row, line.data, line.len, n, &err) != 0)
            fail_msg("round %d: %s", round, err.message);
        for (size_t f = 0; f < n; f++) {
            const sl_copyfield *got = &row.fields[f];
            if (lens[f] == SIZE_MAX) {
                assert_true(got->is_null);
                continue;
            }
            assert_false(got->is_null);
            assert_int_equal(got->len, lens[f]);
            assert_memory_equal(got->data, values[f], lens[f]);
        }
    }
    sl_buf_free(&line);
    sl_copyrow_free(&row);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_table),
        cmocka_unit_test(test_escape_appends),
        cmocka_unit_test(test_bytea_slices),
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_parse_zero_copy),
        cmocka_unit_test(test_parse_memory_bounded),
        cmocka_unit_test(test_parse_expected_count_bounded),
        cmocka_unit_test(test_escape_parse_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
