/* tests/unit/test_json_reader.c: the bounded JSON tokenizer. Every case is read whole, byte by
 * byte and cut in two at every byte, and must give the same tokens (or the same error) each
 * time. A token is written as its kind and depth: "{0" "}0" "[1" "]1" "K1:name" "S1:text"
 * "I1:-5" "D1:1.5e3" (a number as text) "T1" "F1" "N1", separated by spaces. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/json_reader.h"

#define MAX_STRING 16
#define MAX_DEPTH 3

typedef struct json_case {
    const char *name;
    const char *input;
    const char *expect;  /* the tokens, or the tokens before the error */
    const char *error;   /* NULL, or the error message */
} json_case;

static const json_case cases[] = {
    {"object", "{\"a\": 1, \"b\": [true, false, null], \"c\": {}}",
     "{0 K1:a I1:1 K1:b [1 T2 F2 N2 ]1 K1:c {1 }1 }0", NULL},
    {"whitespace everywhere", " \t\r\n[ 1 ,\n-2 ] \n", "[0 I1:1 I1:-2 ]0", NULL},
    {"a bare value", "\"x\"", "S0:x", NULL},
    {"a bare number ends with the input", "-0", "I0:0", NULL},
    {"int64 limits", "[9223372036854775807,-9223372036854775808]",
     "[0 I1:9223372036854775807 I1:-9223372036854775808 ]0", NULL},
    {"escapes", "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]", "[0 S1:\"\\/\b\f\n\r\t ]0", NULL},
    {"unicode escapes", "[\"\\u00e9\\u20ac\\ud83d\\ude00\"]",
     "[0 S1:\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 ]0", NULL},
    {"raw UTF-8", "[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"]",
     "[0 S1:\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 ]0", NULL},
    {"string of the largest size", "[\"0123456789abcdef\"]", "[0 S1:0123456789abcdef ]0", NULL},
    {"string one byte too long", "[\"0123456789abcdefg\"]", "[0",
     "string longer than 16 bytes at byte 1"},
    {"escapes count unescaped", "[\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"]",
     "[0 S1:\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 ]0", NULL},
    {"nesting at the limit", "[[[1]]]", "[0 [1 [2 I3:1 ]2 ]1 ]0", NULL},
    {"nesting over the limit", "[[[[1]]]]", "[0 [1 [2", "nesting deeper than 3 levels at byte 3"},
    {"empty", "", "", "the document ends early at byte 0"},
    {"only whitespace", "  ", "", "the document ends early at byte 2"},
    {"cut inside a string", "[\"ab", "[0", "the document ends inside a token at byte 4"},
    {"cut after a comma", "[1,", "[0 I1:1", "the document ends early at byte 3"},
    {"two documents", "{} {}", "{0 }0", "unexpected '{' at byte 3"},
    {"trailing comma", "[1,]", "[0 I1:1", "unexpected ']' at byte 3"},
    {"missing colon", "{\"a\" 1}", "{0 K1:a", "unexpected '1' at byte 5"},
    {"key not a string", "{1:2}", "{0", "unexpected '1' at byte 1"},
    {"mismatched close", "[1}", "[0 I1:1", "unexpected '}' at byte 2"},
    {"a fraction", "[1.5]", "[0", "number that is not an integer at byte 1"},
    {"an exponent", "[1e3]", "[0", "number that is not an integer at byte 1"},
    {"a leading zero", "[01]", "[0", "number with a leading zero at byte 1"},
    {"a lone minus", "[-]", "[0", "'-' without digits at byte 1"},
    {"over int64", "[9223372036854775808]", "[0",
     "number out of the range of a 64-bit integer at byte 1"},
    {"under int64", "[-9223372036854775809]", "[0",
     "number out of the range of a 64-bit integer at byte 1"},
    {"a bad literal", "[nul]", "[0", "invalid literal at byte 1"},
    {"a literal glued to a word", "[truex]", "[0 T1", "unexpected 'x' at byte 5"},
    {"a bad escape", "[\"\\x\"]", "[0", "invalid escape in a string at byte 3"},
    {"a short unicode escape", "[\"\\u12\"]", "[0", "invalid \\u escape in a string at byte 6"},
    {"NUL by escape", "[\"a\\u0000\"]", "[0", "\\u0000 in a string at byte 8"},
    {"a lone high surrogate", "[\"\\ud800\"]", "[0", "unpaired surrogate in a string at byte 8"},
    {"a lone low surrogate", "[\"\\udc00\"]", "[0", "unpaired surrogate in a string at byte 7"},
    {"a high surrogate then no low one", "[\"\\ud800\\u0041\"]", "[0",
     "unpaired surrogate in a string at byte 13"},
    {"a raw control character", "[\"a\nb\"]", "[0", "control character in a string at byte 3"},
    {"invalid UTF-8 lead", "[\"\xff\"]", "[0", "invalid UTF-8 in a string at byte 2"},
    {"UTF-8 cut by the quote", "[\"\xc3\"]", "[0", "invalid UTF-8 in a string at byte 3"},
    {"overlong UTF-8", "[\"\xe0\x80\xaf\"]", "[0", "invalid UTF-8 in a string at byte 3"},
    {"UTF-8 surrogate", "[\"\xed\xa0\x80\"]", "[0", "invalid UTF-8 in a string at byte 3"},
    {"UTF-8 above U+10FFFF", "[\"\xf4\x90\x80\x80\"]", "[0",
     "invalid UTF-8 in a string at byte 3"},
    {"a byte that is not JSON", "[\x01]", "[0", "unexpected byte 0x01 at byte 1"},
};

/* Read with sl_json_reader_numbers_as_text(). */
static const json_case text_cases[] = {
    {"numbers as text keep every digit",
     "[0,-0,1.5,-12.25e+10,1E5,0.0e-0,1.2345678901234]",
     "[0 D1:0 D1:-0 D1:1.5 D1:-12.25e+10 D1:1E5 D1:0.0e-0 D1:1.2345678901234 ]0", NULL},
    {"a bare number as text ends with the input", "-1.5e3", "D0:-1.5e3", NULL},
    {"a number as text of the largest size", "[1234567890.12345]", "[0 D1:1234567890.12345 ]0",
     NULL},
    {"a number as text one byte too long", "[1234567890.123456]", "[0",
     "number longer than 16 bytes at byte 1"},
    {"a dot without digits", "[1.]", "[0", "number without digits after its '.' at byte 1"},
    {"an exponent without digits", "[1e]", "[0",
     "number without digits in its exponent at byte 1"},
    {"an exponent's sign without digits", "[1e+]", "[0",
     "number without digits in its exponent at byte 1"},
    {"a leading zero as text", "[01]", "[0", "number with a leading zero at byte 1"},
    {"a lone minus as text", "[-]", "[0", "'-' without digits at byte 1"},
    {"a leading dot", "[.5]", "[0", "unexpected '.' at byte 1"},
    {"a leading plus", "[+1]", "[0", "unexpected '+' at byte 1"},
    {"two dots", "[1.5.2]", "[0 D1:1.5", "unexpected '.' at byte 4"},
    {"a number glued to a word", "[1.5x]", "[0 D1:1.5", "unexpected 'x' at byte 4"},
    {"Infinity is no number", "[-Infinity]", "[0", "'-' without digits at byte 1"},
};

static void
transcript(const sl_json_token *t, sl_buf *out)
{
    static const char marks[] = "{}[]KSIDTFN";
    if (out->len)
        sl_buf_putc(out, ' ');
    sl_buf_printf(out, "%c%d", marks[t->kind], t->depth);
    if (t->kind == SL_JSON_KEY || t->kind == SL_JSON_STRING) {
        assert_int_equal(strlen(t->text), t->len);  /* NUL-terminated, no NUL inside */
        sl_buf_printf(out, ":%s", t->text);
    } else if (t->kind == SL_JSON_NUMBER) {
        assert_int_equal(strlen(t->text), t->len);
        sl_buf_printf(out, ":%s", t->text);
    } else if (t->kind == SL_JSON_INT) {
        sl_buf_printf(out, ":%lld", (long long)t->integer);
    }
}

/* Reads input fed in two pieces cut at `cut` (or whole); -1 with err on error. */
static int
read_cut(const char *input, size_t len, bool as_text, size_t cut, size_t step, sl_buf *out,
         sl_error *err)
{
    sl_json_reader *r = sl_json_reader_new(MAX_STRING, MAX_DEPTH);
    if (as_text)
        sl_json_reader_numbers_as_text(r);
    sl_json_token t;
    int rc = 0;
    for (size_t pos = 0; pos < len && rc >= 0;) {
        size_t n = cut && pos == 0 ? cut : step;
        n = n < len - pos ? n : len - pos;
        char *chunk = malloc(n);  /* its own copy: a pointer kept past it would be caught */
        memcpy(chunk, input + pos, n);
        sl_json_reader_feed(r, chunk, n);
        while ((rc = sl_json_reader_next(r, &t, err)) == 1)
            transcript(&t, out);
        free(chunk);
        pos += n;
    }
    if (rc >= 0) {
        sl_json_reader_finish(r);
        while ((rc = sl_json_reader_next(r, &t, err)) == 1)
            transcript(&t, out);
    }
    if (rc == 0) {
        assert_int_equal(sl_json_reader_offset(r), len);
        assert_int_equal(sl_json_reader_next(r, &t, err), 0);  /* stays complete */
    }
    sl_json_reader_free(r);
    return rc;
}

static void
check(const json_case *c, bool as_text, size_t cut, size_t step)
{
    sl_buf out = SL_BUF_INIT;
    sl_error err = {0};
    int rc = read_cut(c->input, strlen(c->input), as_text, cut, step, &out, &err);
    const char *got = out.data ? out.data : "";
    if (strcmp(got, c->expect) != 0)
        fail_msg("%s (cut %zu, step %zu): got \"%s\", expected \"%s\"", c->name, cut, step,
                 got, c->expect);
    if (c->error) {
        if (rc != -1 || err.kind != SL_E_ARCHIVE || strcmp(err.message, c->error) != 0)
            fail_msg("%s (cut %zu, step %zu): rc %d, \"%s\"", c->name, cut, step, rc,
                     err.message);
    } else if (rc != 0) {
        fail_msg("%s (cut %zu, step %zu): %s", c->name, cut, step, err.message);
    }
    sl_buf_free(&out);
}

static void
test_cases_any_chunking(void **state)
{
    (void)state;
    size_t n = sizeof cases / sizeof cases[0], n_text = sizeof text_cases / sizeof text_cases[0];
    for (size_t i = 0; i < n + n_text; i++) {
        const json_case *c = i < n ? &cases[i] : &text_cases[i - n];
        size_t len = strlen(c->input);
        check(c, i >= n, 0, len ? len : 1);
        check(c, i >= n, 0, 1);
        for (size_t cut = 1; cut < len; cut++)
            check(c, i >= n, cut, len);
    }
}

/* A reader that failed says so instead of going on. */
static void
test_unusable_after_error(void **state)
{
    (void)state;
    sl_json_reader *r = sl_json_reader_new(MAX_STRING, MAX_DEPTH);
    sl_json_token t;
    sl_error err = {0};
    sl_json_reader_feed(r, "]", 1);
    assert_int_equal(sl_json_reader_next(r, &t, &err), -1);
    assert_int_equal(sl_json_reader_next(r, &t, &err), -1);
    assert_int_equal(err.kind, SL_E_INTERNAL);
    sl_json_reader_free(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases_any_chunking),
        cmocka_unit_test(test_unusable_after_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
