/* tests/unit/test_escape.c: text made safe for a terminal (base/escape.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/escape.h"

typedef void (*escape_fn)(sl_buf *, const char *, size_t);

typedef struct {
    const char *name;
    const char *in;
    size_t len;  /* 0: strlen(in) */
    const char *want;
} escape_case;

static const escape_case text_cases[] = {
    {"plain ASCII unchanged", "public.orders 12 rows", 0, "public.orders 12 rows"},
    {"empty", "", 0, ""},
    {"ESC sequence", "t\x1b]0;owned\x07\x1b[2J", 0, "t\\e]0;owned\\x07\\e[2J"},
    {"newline, CR and tab", "a\nb\rc\td", 0, "a\\nb\\rc\\td"},
    {"other C0", "\x01\x08\x0b\x0c\x1f", 0, "\\x01\\x08\\x0b\\x0c\\x1f"},
    {"NUL inside", "a\0b", 3, "a\\x00b"},
    {"DEL", "x\x7fy", 0, "x\\x7fy"},
    {"C1 CSI as UTF-8", "a\xc2\x9b" "31mb", 0, "a\\u009b31mb"},
    {"C1 range ends", "\xc2\x80\xc2\x9f", 0, "\\u0080\\u009f"},
    {"U+00A0 is kept", "\xc2\xa0", 0, "\xc2\xa0"},
    {"two-byte name kept", "caf\xc3\xa9", 0, "caf\xc3\xa9"},
    {"three-byte name kept", "\xe8\xa1\xa8", 0, "\xe8\xa1\xa8"},
    {"four-byte kept", "\xf0\x9f\x90\x98", 0, "\xf0\x9f\x90\x98"},
    {"line separator", "a\xe2\x80\xa8" "b", 0, "a\\u2028b"},
    {"bidi override", "\xe2\x80\xae" "cba", 0, "\\u202ecba"},
    {"bidi isolate", "\xe2\x81\xa6", 0, "\\u2066"},
    {"lone C1 byte", "a\x9b" "b", 0, "a\\x9bb"},
    {"lone continuation", "\x80", 0, "\\x80"},
    {"invalid lead", "\xff\xfe", 0, "\\xff\\xfe"},
    {"overlong slash", "\xc0\xaf", 0, "\\xc0\\xaf"},
    {"overlong three-byte", "\xe0\x80\xaf", 0, "\\xe0\\x80\\xaf"},
    {"surrogate", "\xed\xa0\x80", 0, "\\xed\\xa0\\x80"},
    {"above U+10FFFF", "\xf4\x90\x80\x80", 0, "\\xf4\\x90\\x80\\x80"},
    {"truncated at end", "ab\xe8\xa1", 0, "ab\\xe8\\xa1"},
    {"lead then ESC", "\xc3\x1b", 0, "\\xc3\\e"},
    {"backslash kept", "a\\nb", 0, "a\\nb"},
};

static const escape_case utf8_cases[] = {
    {"controls kept (JSON escapes them)", "a\nb\x1b", 0, "a\nb\x1b"},
    {"C1 kept", "\xc2\x9b", 0, "\xc2\x9b"},
    {"multibyte kept", "caf\xc3\xa9", 0, "caf\xc3\xa9"},
    {"invalid bytes", "a\xff\xc3(", 0, "a\\xff\\xc3("},
    {"surrogate", "\xed\xb0\x80", 0, "\\xed\\xb0\\x80"},
};

static const escape_case json_cases[] = {
    {"JSON unchanged", "{\"msg\":\"a\\u001bb\"}", 0, "{\"msg\":\"a\\u001bb\"}"},
    {"DEL", "\"\x7f\"", 0, "\"\\u007F\""},
    {"C1", "\"\xc2\x9b[2J\"", 0, "\"\\u009B[2J\""},
    {"bidi", "\"\xe2\x80\xad\"", 0, "\"\\u202D\""},
    {"multibyte kept", "\"\xc3\xa9\xe8\xa1\xa8\"", 0, "\"\xc3\xa9\xe8\xa1\xa8\""},
    {"invalid byte", "\"\xff\"", 0, "\"\\uFFFD\""},
};

static void
run_cases(escape_fn fn, const escape_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const escape_case *c = &cases[i];
        sl_buf out = SL_BUF_INIT;
        fn(&out, c->in, c->len ? c->len : strlen(c->in));
        if (!out.data || strcmp(out.data, c->want) != 0 || out.len != strlen(c->want))
            fail_msg("%s: got \"%s\", want \"%s\"", c->name, out.data ? out.data : "(null)",
                     c->want);
        sl_buf_free(&out);
    }
}

static void
test_text(void **state)
{
    (void)state;
    run_cases(sl_escape_text, text_cases, sizeof text_cases / sizeof text_cases[0]);
}

static void
test_utf8(void **state)
{
    (void)state;
    run_cases(sl_escape_utf8, utf8_cases, sizeof utf8_cases / sizeof utf8_cases[0]);
}

static void
test_json(void **state)
{
    (void)state;
    run_cases(sl_escape_json, json_cases, sizeof json_cases / sizeof json_cases[0]);
}

/* Whatever the bytes, the escaped text holds no control character, no DEL, no C1 and only
 * valid UTF-8 (checked by escaping it again: nothing changes). */
static void
test_text_output_is_inert(void **state)
{
    (void)state;
    uint32_t seed = 12345;
    for (int round = 0; round < 2000; round++) {
        unsigned char in[24];
        for (size_t i = 0; i < sizeof in; i++) {
            seed = seed * 1103515245u + 12345u;
            in[i] = (unsigned char)(seed >> 16);
        }
        sl_buf out = SL_BUF_INIT;
        sl_escape_text(&out, (const char *)in, sizeof in);
        for (size_t i = 0; i < out.len; i++) {
            unsigned char c = (unsigned char)out.data[i];
            if (c < 0x20 || c == 0x7f)
                fail_msg("round %d: control byte 0x%02x in output", round, c);
        }
        sl_buf again = SL_BUF_INIT;
        sl_escape_text(&again, out.data, out.len);
        assert_string_equal(again.data, out.data);
        sl_buf_free(&again);
        sl_buf_free(&out);
    }
}

static void
test_dup(void **state)
{
    (void)state;
    assert_null(sl_escape_dup(NULL));
    char *s = sl_escape_dup("db\r\nname");
    assert_string_equal(s, "db\\r\\nname");
    free(s);
}

/* A JSON field of text that is not UTF-8 is kept (jansson alone refuses it), and a document's
 * C1 and DEL characters come out as \u escapes, which a JSON reader turns back into them. */
static void
test_json_helpers(void **state)
{
    (void)state;
    json_t *o = json_object();
    json_object_set_new(o, "name", sl_escape_json_string("t\xff\x1b[2J\xc2\x9b\x7f"));
    json_object_set_new(o, "none", sl_escape_json_string(NULL));
    char *text = sl_escape_json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    assert_non_null(text);
    assert_string_equal(text, "{\"name\":\"t\\\\xff\\u001B[2J\\u009B\\u007F\",\"none\":null}");
    json_t *back = json_loads(text, 0, NULL);
    assert_non_null(back);
    assert_string_equal(json_string_value(json_object_get(back, "name")),
                        "t\\xff\x1b[2J\xc2\x9b\x7f");
    json_decref(back);
    free(text);
    json_decref(o);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_text_output_is_inert),
        cmocka_unit_test(test_dup),
        cmocka_unit_test(test_json_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
