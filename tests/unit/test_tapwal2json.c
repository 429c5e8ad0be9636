/* tests/unit/test_tapwal2json.c: tap/wal2json.h on messages as wal2json's format-version 2
 * writes them: a change's members and values (numbers with all their digits, strings
 * unescaped, booleans as their output text, null), the members wal2json's other options add,
 * the decoder reused, a large value; and hostile ones refused with SL_E_SERVER naming a byte:
 * other shapes and types, duplicates, escapes to NUL, lone surrogates, invalid UTF-8, deep
 * nesting, bytes after the object, and every valid message cut short at each length. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "tap/wal2json.h"

static const char update_msg[] =
    "{\"action\":\"U\",\"timestamp\":\"2026-12-03 14:43:02.867396+00\",\"schema\":\"public\","
    "\"table\":\"t\",\"columns\":[{\"name\":\"id\",\"type\":\"bigint\",\"value\":1},"
    "{\"name\":\"n\",\"value\":12345678901234567890.123456789012345678901},"
    "{\"name\":\"f\",\"value\":-1.5e+300},"
    "{\"name\":\"s\",\"value\":\"a\\\"b\\\\c\\/\\n\\u00e9\\ud83d\\ude00 x\"},"
    "{\"name\":\"j\",\"value\":\"{\\\"k\\\": [1, \\\"v\\\"]}\"},"
    "{\"name\":\"b\",\"value\":true},{\"name\":\"c\",\"value\":false},"
    "{\"name\":\"z\",\"value\":null}],"
    "\"identity\":[{\"name\":\"id\",\"value\":1}]}";

static int
decode(sl_tap_wal2json *d, const char *text, size_t len, sl_tap_wal2json_msg *m, sl_error *err)
{
    /* a copy of exactly len bytes: a read past it is ASan's to see */
    char *copy = malloc(len ? len : 1);
    memcpy(copy, text, len);
    sl_error_clear(err);
    int rc = sl_tap_wal2json_decode(d, copy, len, m, err);
    free(copy);  /* nothing decoded points into it */
    return rc;
}

static void
assert_col(const sl_tap_wal2json_col *c, const char *name, const char *text)
{
    assert_string_equal(c->name, name);
    assert_int_equal(c->name_len, strlen(name));
    if (!text) {
        assert_null(c->text);
        return;
    }
    assert_non_null(c->text);
    assert_string_equal(c->text, text);
    assert_int_equal(c->len, strlen(text));
}

static void
test_update_values(void **state)
{
    (void)state;
    sl_tap_wal2json *d = sl_tap_wal2json_new();
    sl_tap_wal2json_msg m;
    sl_error err;
    assert_int_equal(decode(d, update_msg, strlen(update_msg), &m, &err), 0);
    assert_int_equal(m.action, 'U');
    assert_string_equal(m.schema, "public");
    assert_string_equal(m.table, "t");
    assert_string_equal(m.timestamp, "2026-12-03 14:43:02.867396+00");
    assert_true(m.has_columns && m.has_identity);
    assert_int_equal(m.ncolumns, 8);
    assert_col(&m.columns[0], "id", "1");
    assert_col(&m.columns[1], "n", "12345678901234567890.123456789012345678901");
    assert_col(&m.columns[2], "f", "-1.5e+300");
    assert_col(&m.columns[3], "s", "a\"b\\c/\n\xc3\xa9\xf0\x9f\x98\x80 x");
    assert_col(&m.columns[4], "j", "{\"k\": [1, \"v\"]}");
    assert_col(&m.columns[5], "b", "t");
    assert_col(&m.columns[6], "c", "f");
    assert_col(&m.columns[7], "z", NULL);
    assert_int_equal(m.nidentity, 1);
    assert_col(&m.identity[0], "id", "1");
    sl_tap_wal2json_free(d);
}

static void
test_other_members_and_reuse(void **state)
{
    (void)state;
    static const char begin[] = "{\"action\":\"B\",\"xid\":123,\"nextlsn\":\"0/16B3748\","
                                "\"timestamp\":\"2026-12-03 14:43:02+00\",\"origin\":\"o\"}";
    static const char del[] =
        "{\"action\":\"D\",\"lsn\":\"0/16B3748\",\"schema\":\"s\",\"table\":\"t\",\"identity\":"
        "[{\"name\":\"id\",\"type\":\"integer\",\"typeoid\":23,\"optional\":false,\"value\":7}],"
        "\"pk\":[{\"name\":\"id\",\"type\":\"integer\",\"typeoid\":23}]}";
    static const char msg[] = "{\"action\":\"M\",\"transactional\":true,\"prefix\":\"p\","
                              "\"content\":\"c\"}";
    sl_tap_wal2json *d = sl_tap_wal2json_new();
    sl_tap_wal2json_msg m;
    sl_error err;
    assert_int_equal(decode(d, update_msg, strlen(update_msg), &m, &err), 0);
    assert_int_equal(decode(d, begin, strlen(begin), &m, &err), 0);
    assert_int_equal(m.action, 'B');
    assert_string_equal(m.timestamp, "2026-12-03 14:43:02+00");
    assert_null(m.schema);
    assert_false(m.has_columns || m.has_identity);
    assert_int_equal(m.ncolumns + m.nidentity, 0);
    assert_int_equal(decode(d, del, strlen(del), &m, &err), 0);
    assert_int_equal(m.action, 'D');
    assert_null(m.timestamp);
    assert_false(m.has_columns);
    assert_int_equal(m.nidentity, 1);
    assert_col(&m.identity[0], "id", "7");
    assert_int_equal(decode(d, msg, strlen(msg), &m, &err), 0);
    assert_int_equal(m.action, 'M');
    /* whitespace between tokens is JSON too */
    static const char spaced[] = " { \"action\" : \"C\" } \n";
    assert_int_equal(decode(d, spaced, strlen(spaced), &m, &err), 0);
    assert_int_equal(m.action, 'C');
    sl_tap_wal2json_free(d);
}

/* A value of 4 MB: bounded by the message only, its bytes kept. */
static void
test_large_value(void **state)
{
    (void)state;
    size_t big = (size_t)4 << 20;
    sl_buf b = SL_BUF_INIT;
    sl_buf_puts(&b, "{\"action\":\"I\",\"columns\":[{\"name\":\"x\",\"value\":\"");
    for (size_t i = 0; i < big; i++)
        sl_buf_putc(&b, i % 1000 == 999 ? '\\' : (char)('a' + i % 26));
    /* every 1000th byte began an escape: finish it as \n */
    sl_buf s = SL_BUF_INIT;
    for (size_t i = 0; i < b.len; i++) {
        sl_buf_putc(&s, b.data[i]);
        if (b.data[i] == '\\')
            sl_buf_putc(&s, 'n');
    }
    sl_buf_puts(&s, "\"}]}");
    sl_tap_wal2json *d = sl_tap_wal2json_new();
    sl_tap_wal2json_msg m;
    sl_error err;
    assert_int_equal(decode(d, s.data, s.len, &m, &err), 0);
    assert_int_equal(m.ncolumns, 1);
    assert_int_equal(m.columns[0].len, big);
    assert_int_equal(strlen(m.columns[0].text), big);
    assert_int_equal(m.columns[0].text[999], '\n');
    assert_int_equal(m.columns[0].text[1000], 'a' + 1000 % 26);
    sl_tap_wal2json_free(d);
    sl_buf_free(&b);
    sl_buf_free(&s);
}

static const struct {
    const char *name, *input, *error;
} hostile[] = {
    {"empty", "", "wal2json message: the document ends early at byte 0"},
    {"an array", "[]", "wal2json message: not an object at byte 1"},
    {"a string", "\"U\"", "wal2json message: not an object at byte 3"},
    {"no action", "{}", "wal2json message: no action at byte 2"},
    {"an empty action", "{\"action\":\"\"}", "wal2json message: an empty action at byte 12"},
    {"a number action", "{\"action\":1}",
     "wal2json message: unexpected value of \"action\" at byte 11"},
    {"an unknown member", "{\"action\":\"I\",\"new\":1}",
     "wal2json message: unexpected member \"new\" at byte 19"},
    {"a second member", "{\"action\":\"I\",\"action\":\"U\"}",
     "wal2json message: a second member \"action\" at byte 22"},
    {"columns not an array", "{\"action\":\"I\",\"columns\":{}}",
     "wal2json message: a column list that is not an array at byte 25"},
    {"a column not an object", "{\"action\":\"I\",\"columns\":[1]}",
     "wal2json message: a column that is not an object at byte 26"},
    {"a column without a value", "{\"action\":\"I\",\"columns\":[{\"name\":\"a\"}]}",
     "wal2json message: a column without its name or its value at byte 37"},
    {"a column without a name", "{\"action\":\"I\",\"columns\":[{\"value\":1}]}",
     "wal2json message: a column without its name or its value at byte 36"},
    {"a column's second value", "{\"action\":\"I\",\"columns\":[{\"value\":1,\"value\":2}]}",
     "wal2json message: a second member \"value\" of a column at byte 43"},
    {"a column's unknown member", "{\"action\":\"I\",\"columns\":[{\"names\":\"a\"}]}",
     "wal2json message: unexpected member \"names\" of a column at byte 33"},
    {"a value that is an object", "{\"action\":\"I\",\"columns\":[{\"name\":\"a\",\"value\":{}}]}",
     "wal2json message: a column's value is neither a string, a number, a boolean nor null "
     "at byte 46"},
    {"a value that is an array", "{\"action\":\"I\",\"columns\":[{\"name\":\"a\",\"value\":[]}]}",
     "wal2json message: a column's value is neither a string, a number, a boolean nor null "
     "at byte 46"},
    {"a name that is a number", "{\"action\":\"I\",\"columns\":[{\"name\":1}]}",
     "wal2json message: unexpected value of \"name\" at byte 34"},
    {"a value in pk", "{\"action\":\"I\",\"pk\":[{\"name\":\"a\",\"value\":1}]}",
     "wal2json message: unexpected member \"value\" of a column at byte 39"},
    {"an xid that is a string", "{\"action\":\"B\",\"xid\":\"1\"}",
     "wal2json message: unexpected value of \"xid\" at byte 23"},
    {"NUL by escape", "{\"action\":\"I\",\"schema\":\"a\\u0000\"}",
     "wal2json message: \\u0000 in a string at byte 30"},
    {"a lone high surrogate", "{\"action\":\"I\",\"schema\":\"\\ud800\"}",
     "wal2json message: unpaired surrogate in a string at byte 30"},
    {"a lone low surrogate", "{\"action\":\"I\",\"schema\":\"\\udc00x\"}",
     "wal2json message: unpaired surrogate in a string at byte 29"},
    {"a bad escape", "{\"action\":\"I\",\"schema\":\"\\x\"}",
     "wal2json message: invalid escape in a string at byte 25"},
    {"invalid UTF-8", "{\"action\":\"I\",\"schema\":\"\xc3(\"}",
     "wal2json message: invalid UTF-8 in a string at byte 25"},
    {"a raw control byte", "{\"action\":\"I\",\"schema\":\"a\tb\"}",
     "wal2json message: control character in a string at byte 25"},
    {"NaN", "{\"action\":\"I\",\"columns\":[{\"name\":\"a\",\"value\":NaN}]}",
     "wal2json message: unexpected 'N' at byte 45"},
    {"a number without fraction digits",
     "{\"action\":\"I\",\"columns\":[{\"name\":\"a\",\"value\":1.}]}",
     "wal2json message: number without digits after its '.' at byte 45"},
    {"a leading zero", "{\"action\":\"I\",\"columns\":[{\"name\":\"a\",\"value\":01}]}",
     "wal2json message: number with a leading zero at byte 45"},
    {"deep nesting in a value",
     "{\"action\":\"I\",\"columns\":[{\"name\":\"a\",\"value\":[[[[[[[[[[1]]]]]]]]]]}]}",
     "wal2json message: a column's value is neither a string, a number, a boolean nor null "
     "at byte 46"},
    {"deep nesting in a name", "{\"action\":\"I\",\"pk\":[{\"name\":[[[[[[[[[[\"a\"]]]]]]]]]]}]}",
     "wal2json message: unexpected value of \"name\" at byte 29"},
    {"bytes after the object", "{\"action\":\"C\"} {}",
     "wal2json message: unexpected '{' at byte 15"},
    {"a NUL byte after the object", "{\"action\":\"C\"}\0", NULL},
};

static void
test_hostile_messages(void **state)
{
    (void)state;
    sl_tap_wal2json *d = sl_tap_wal2json_new();
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        sl_tap_wal2json_msg m;
        sl_error err;
        size_t len = strlen(hostile[i].input) + (hostile[i].error ? 0 : 1);
        if (decode(d, hostile[i].input, len, &m, &err) != -1)
            fail_msg("%s: decoded", hostile[i].name);
        if (err.kind != SL_E_SERVER)
            fail_msg("%s: error kind %d", hostile[i].name, (int)err.kind);
        if (hostile[i].error && strcmp(err.message, hostile[i].error) != 0)
            fail_msg("%s: \"%s\"", hostile[i].name, err.message);
        /* the decoder goes on with the next message */
        assert_int_equal(decode(d, update_msg, strlen(update_msg), &m, &err), 0);
        assert_int_equal(m.ncolumns, 8);
    }
    sl_tap_wal2json_free(d);
}

/* Every proper prefix of a valid message is refused (under ASan: no read past its end). */
static void
test_every_cut_refused(void **state)
{
    (void)state;
    sl_tap_wal2json *d = sl_tap_wal2json_new();
    for (size_t len = 0; len < strlen(update_msg); len++) {
        sl_tap_wal2json_msg m;
        sl_error err;
        if (decode(d, update_msg, len, &m, &err) != -1 || err.kind != SL_E_SERVER ||
            !strstr(err.message, " at byte "))
            fail_msg("cut at %zu: not refused as it should (%s)", len, err.message);
    }
    sl_tap_wal2json_free(d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_update_values),
        cmocka_unit_test(test_other_members_and_reuse),
        cmocka_unit_test(test_large_value),
        cmocka_unit_test(test_hostile_messages),
        cmocka_unit_test(test_every_cut_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
