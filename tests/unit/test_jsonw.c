/* Unit tests for base/jsonw: the exact text written (commas, escapes, numbers), ill-formed
 * UTF-8 replaced and counted, and the output read back by jansson equal to what was written. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/buf.h"
#include "base/jsonw.h"

#define S(s) s, sizeof s - 1

static void
test_nesting_and_commas(void **state)
{
    (void)state;
    sl_buf b = SL_BUF_INIT;
    sl_jsonw w;
    sl_jsonw_init(&w, &b);
    sl_jsonw_object_begin(&w);
    sl_jsonw_key(&w, S("a"));
    sl_jsonw_int(&w, 1);
    sl_jsonw_key(&w, S("b"));
    sl_jsonw_array_begin(&w);
    sl_jsonw_int(&w, 1);
    sl_jsonw_string(&w, S("x"));
    sl_jsonw_null(&w);
    sl_jsonw_bool(&w, true);
    sl_jsonw_bool(&w, false);
    sl_jsonw_array_begin(&w);
    sl_jsonw_array_end(&w);
    sl_jsonw_object_begin(&w);
    sl_jsonw_object_end(&w);
    sl_jsonw_array_end(&w);
    sl_jsonw_key(&w, S("c"));
    sl_jsonw_object_begin(&w);
    sl_jsonw_key(&w, S("d"));
    sl_jsonw_object_begin(&w);
    sl_jsonw_object_end(&w);
    sl_jsonw_key(&w, S("e"));
    sl_jsonw_array_begin(&w);
    sl_jsonw_array_begin(&w);
    sl_jsonw_int(&w, 2);
    sl_jsonw_array_end(&w);
    sl_jsonw_array_begin(&w);
    sl_jsonw_array_end(&w);
    sl_jsonw_array_end(&w);
    sl_jsonw_object_end(&w);
    sl_jsonw_object_end(&w);
    assert_string_equal(b.data, "{\"a\":1,\"b\":[1,\"x\",null,true,false,[],{}],"
                                "\"c\":{\"d\":{},\"e\":[[2],[]]}}");
    assert_int_equal(w.depth, 0);
    sl_buf_free(&b);
}

/* Messages follow each other at the top level with only the caller's newline between. */
static void
test_top_level_values(void **state)
{
    (void)state;
    sl_buf b = SL_BUF_INIT;
    sl_jsonw w;
    sl_jsonw_init(&w, &b);
    for (int i = 0; i < 2; i++) {
        sl_jsonw_object_begin(&w);
        sl_jsonw_key(&w, S("n"));
        sl_jsonw_int(&w, i);
        sl_jsonw_object_end(&w);
        sl_buf_putc(&b, '\n');
    }
    sl_jsonw_string(&w, S("s"));
    assert_string_equal(b.data, "{\"n\":0}\n{\"n\":1}\n\"s\"");
    sl_buf_free(&b);
}

static const struct {
    const char *name;
    const char *in;
    size_t len;
    const char *out;  /* the string written, quotes left out */
} strings[] = {
    {"plain", S("abc"), "abc"},
    {"empty", S(""), ""},
    {"quote and backslash", S("a\"b\\c"), "a\\\"b\\\\c"},
    {"short escapes", S("\n\r\t\b\f"), "\\n\\r\\t\\b\\f"},
    {"other control bytes", S("\x01\x0b\x1f"), "\\u0001\\u000b\\u001f"},
    {"NUL", S("a\0b"), "a\\u0000b"},
    {"DEL and slash kept", S("\x7f/"), "\x7f/"},
    {"escape inside a long plain run", S("abcdefghij\"klmnopqrstuvwxyz0123456789\n"),
     "abcdefghij\\\"klmnopqrstuvwxyz0123456789\\n"},
    {"escape at every place in a word", S("1234567\t12345678\\"), "1234567\\t12345678\\\\"},
    {"two-byte characters", S("\xc2\x80\xc3\xa9\xdf\xbf"), "\xc2\x80\xc3\xa9\xdf\xbf"},
    {"three-byte characters", S("\xe0\xa0\x80\xe6\x97\xa5\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf"),
     "\xe0\xa0\x80\xe6\x97\xa5\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf"},
    {"four-byte characters", S("\xf0\x90\x80\x80\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf"),
     "\xf0\x90\x80\x80\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf"},
    {"multi-byte in a long run", S("d\xc3\xa9j\xc3\xa0 vu, na\xc3\xafve caf\xc3\xa9s"),
     "d\xc3\xa9j\xc3\xa0 vu, na\xc3\xafve caf\xc3\xa9s"},
};

static void
test_string_escapes(void **state)
{
    (void)state;
    sl_buf b = SL_BUF_INIT, want = SL_BUF_INIT;
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        sl_jsonw w;
        sl_buf_reset(&b);
        sl_jsonw_init(&w, &b);
        sl_jsonw_string(&w, strings[i].in, strings[i].len);
        sl_buf_reset(&want);
        sl_buf_printf(&want, "\"%s\"", strings[i].out);
        if (strcmp(b.data, want.data) != 0)
            fail_msg("%s: got %s", strings[i].name, b.data);
        assert_int_equal(w.replaced, 0);
    }
    sl_buf_free(&b);
    sl_buf_free(&want);
}

#define FFFD "\xef\xbf\xbd"

static const struct {
    const char *name;
    const char *in;
    size_t len;
    const char *out;
    size_t replaced;
} ill_formed[] = {
    {"lone continuation byte", S("a\x80z"), "a" FFFD "z", 1},
    {"overlong two bytes", S("\xc0\xaf"), FFFD FFFD, 2},
    {"overlong C1", S("\xc1\xbf"), FFFD FFFD, 2},
    {"overlong three bytes", S("\xe0\x80\xaf"), FFFD FFFD FFFD, 3},
    {"overlong four bytes", S("\xf0\x80\x80\xaf"), FFFD FFFD FFFD FFFD, 4},
    {"surrogate D800", S("\xed\xa0\x80"), FFFD FFFD FFFD, 3},
    {"surrogate DFFF", S("\xed\xbf\xbf"), FFFD FFFD FFFD, 3},
    {"above U+10FFFF", S("\xf4\x90\x80\x80"), FFFD FFFD FFFD FFFD, 4},
    {"F5 lead byte", S("\xf5\x80\x80\x80"), FFFD FFFD FFFD FFFD, 4},
    {"bytes FE FF", S("\xfe\xff"), FFFD FFFD, 2},
    {"truncated three bytes at the end", S("x\xe6\x97"), "x" FFFD, 1},
    {"truncated three bytes before ASCII", S("\xe6\x97" "A"), FFFD "A", 1},
    {"truncated four bytes at the end", S("\xf0\x9f\x98"), FFFD, 1},
    {"truncated two bytes before a lead", S("\xc3\xe6\x97\xa5"), FFFD "\xe6\x97\xa5", 1},
    {"invalid between valid", S("\xc3\xa9\xff\xc3\xa9"), "\xc3\xa9" FFFD "\xc3\xa9", 1},
    {"invalid inside a long run", S("abcdefgh\x80ijklmnop"), "abcdefgh" FFFD "ijklmnop", 1},
};

static void
test_ill_formed_utf8_replaced(void **state)
{
    (void)state;
    sl_buf b = SL_BUF_INIT, want = SL_BUF_INIT;
    for (size_t i = 0; i < sizeof ill_formed / sizeof ill_formed[0]; i++) {
        sl_jsonw w;
        sl_buf_reset(&b);
        sl_jsonw_init(&w, &b);
        sl_jsonw_string(&w, ill_formed[i].in, ill_formed[i].len);
        sl_buf_reset(&want);
        sl_buf_printf(&want, "\"%s\"", ill_formed[i].out);
        if (strcmp(b.data, want.data) != 0)
            fail_msg("%s: got %s", ill_formed[i].name, b.data);
        if (w.replaced != ill_formed[i].replaced)
            fail_msg("%s: %zu replaced", ill_formed[i].name, w.replaced);
        json_error_t jerr;  /* jansson checks UTF-8: the output must pass */
        json_t *doc = json_loadb(b.data, b.len, JSON_DECODE_ANY, &jerr);
        if (!doc)
            fail_msg("%s: jansson: %s", ill_formed[i].name, jerr.text);
        json_decref(doc);
    }
    sl_buf_free(&b);
    sl_buf_free(&want);
}

/* Keys are strings too: escaped, replaced and counted the same way. */
static void
test_keys_escaped_and_counted(void **state)
{
    (void)state;
    sl_buf b = SL_BUF_INIT;
    sl_jsonw w;
    sl_jsonw_init(&w, &b);
    sl_jsonw_object_begin(&w);
    sl_jsonw_key(&w, S("a\"\xff"));
    sl_jsonw_string(&w, S("\xc0"));
    sl_jsonw_object_end(&w);
    assert_string_equal(b.data, "{\"a\\\"" FFFD "\":\"" FFFD "\"}");
    assert_int_equal(w.replaced, 2);
    sl_buf_free(&b);
}

static const char *const numbers_ok[] = {
    "0", "-0", "7", "12", "-12.50", "0.001", "1e10", "1E+10", "1.5e-3", "-0.0E0",
    "123456789012345678901234567890.123456789",
};
static const char *const numbers_refused[] = {
    "", "-", "+1", "01", "-01", "1.", ".5", "1e", "1e+", "e5", "NaN", "Infinity", "-Infinity",
    "inf", " 1", "1 ", "0x10", "1.2.3", "--1", "1e5.5", "1,5", "١",
};

static void
test_numbers(void **state)
{
    (void)state;
    sl_buf b = SL_BUF_INIT;
    for (size_t i = 0; i < sizeof numbers_ok / sizeof numbers_ok[0]; i++) {
        sl_jsonw w;
        sl_buf_reset(&b);
        sl_jsonw_init(&w, &b);
        if (sl_jsonw_number(&w, numbers_ok[i], strlen(numbers_ok[i])) != 0)
            fail_msg("refused: %s", numbers_ok[i]);
        assert_string_equal(b.data, numbers_ok[i]);
    }
    for (size_t i = 0; i < sizeof numbers_refused / sizeof numbers_refused[0]; i++) {
        sl_jsonw w;
        sl_buf_reset(&b);
        sl_jsonw_init(&w, &b);
        sl_jsonw_array_begin(&w);
        sl_jsonw_int(&w, 1);
        if (sl_jsonw_number(&w, numbers_refused[i], strlen(numbers_refused[i])) == 0)
            fail_msg("accepted: \"%s\"", numbers_refused[i]);
        sl_jsonw_null(&w);  /* what a caller writes instead: no stray comma before it */
        sl_jsonw_array_end(&w);
        assert_string_equal(b.data, "[1,null]");
    }
    sl_buf_free(&b);
}

static void
test_integers(void **state)
{
    (void)state;
    sl_buf b = SL_BUF_INIT;
    sl_jsonw w;
    sl_jsonw_init(&w, &b);
    sl_jsonw_array_begin(&w);
    sl_jsonw_int(&w, INT64_MIN);
    sl_jsonw_int(&w, INT64_MAX);
    sl_jsonw_int(&w, 0);
    sl_jsonw_int(&w, -1);
    sl_jsonw_array_end(&w);
    assert_string_equal(b.data, "[-9223372036854775808,9223372036854775807,0,-1]");
    sl_buf_free(&b);
}

/* A small fixed generator: the same strings on every run. */
static uint32_t
next_random(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Appends code point cp (not a surrogate) in UTF-8. */
static void
put_utf8(sl_buf *b, uint32_t cp)
{
    unsigned char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (unsigned char)(0xc0 | cp >> 6);
        u[1] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (unsigned char)(0xe0 | cp >> 12);
        u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
        u[2] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (unsigned char)(0xf0 | cp >> 18);
        u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
        u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
        u[3] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    sl_buf_append(b, u, n);
}

/* A random code point, often ASCII (controls, quote, backslash included), never a surrogate. */
static uint32_t
random_code_point(uint32_t *seed)
{
    uint32_t r = next_random(seed);
    switch (r % 4) {
    case 0: return r >> 8 & 0x7f;
    case 1: return 0x20 + (r >> 8) % 0x60;
    case 2: return 0x80 + (r >> 8) % 0x780;
    }
    uint32_t cp = 0x800 + (r >> 8) % (0x110000 - 0x800);
    return cp >= 0xd800 && cp <= 0xdfff ? cp - 0x800 : cp;
}

/* Well-formed strings (NUL and controls included) written as a key and a value read back by
 * jansson byte for byte, with nothing replaced. */
static void
test_jansson_reads_back(void **state)
{
    (void)state;
    uint32_t seed = 88172645u;
    sl_buf text = SL_BUF_INIT, out = SL_BUF_INIT;
    for (int round = 0; round < 500; round++) {
        sl_buf_reset(&text);
        size_t n = next_random(&seed) % 40;
        for (size_t k = 0; k < n; k++)
            put_utf8(&text, random_code_point(&seed));
        sl_jsonw w;
        sl_buf_reset(&out);
        sl_jsonw_init(&w, &out);
        /* jansson refuses a key holding a NUL: such a string is only a value */
        bool nul = memchr(text.data, '\0', text.len) != NULL;
        sl_jsonw_object_begin(&w);
        sl_jsonw_key(&w, nul ? "k" : text.data, nul ? 1 : text.len);
        sl_jsonw_string(&w, text.data, text.len);
        sl_jsonw_object_end(&w);
        assert_int_equal(w.replaced, 0);
        json_error_t jerr;
        json_t *doc = json_loadb(out.data, out.len, JSON_ALLOW_NUL, &jerr);
        if (!doc)
            fail_msg("round %d: jansson: %s", round, jerr.text);
        assert_int_equal(json_object_size(doc), 1);
        void *it = json_object_iter(doc);
        json_t *v = json_object_iter_value(it);
        assert_int_equal(json_string_length(v), text.len);
        assert_memory_equal(json_string_value(v), text.data, text.len);
        if (!nul)
            assert_string_equal(json_object_iter_key(it), text.data);
        json_decref(doc);
    }
    sl_buf_free(&text);
    sl_buf_free(&out);
}

/* A Singer RECORD message as the tap writes it, parsed by jansson. */
static void
test_singer_record(void **state)
{
    (void)state;
    sl_buf b = SL_BUF_INIT;
    sl_jsonw w;
    sl_jsonw_init(&w, &b);
    sl_jsonw_object_begin(&w);
    sl_jsonw_key(&w, S("type"));
    sl_jsonw_string(&w, S("RECORD"));
    sl_jsonw_key(&w, S("stream"));
    sl_jsonw_string(&w, S("public-t"));
    sl_jsonw_key(&w, S("record"));
    sl_jsonw_object_begin(&w);
    sl_jsonw_key(&w, S("id"));
    assert_int_equal(sl_jsonw_number(&w, S("42")), 0);
    sl_jsonw_key(&w, S("price"));
    assert_int_equal(sl_jsonw_number(&w, S("-12.50")), 0);
    sl_jsonw_key(&w, S("name"));
    sl_jsonw_string(&w, S("caf\xc3\xa9\ttab"));
    sl_jsonw_key(&w, S("note"));
    sl_jsonw_null(&w);
    sl_jsonw_object_end(&w);
    sl_jsonw_key(&w, S("version"));
    sl_jsonw_int(&w, 123);
    sl_jsonw_key(&w, S("time_extracted"));
    sl_jsonw_string(&w, S("2026-01-02T03:04:05.000000Z"));
    sl_jsonw_object_end(&w);
    assert_string_equal(b.data, "{\"type\":\"RECORD\",\"stream\":\"public-t\",\"record\":"
                                "{\"id\":42,\"price\":-12.50,\"name\":\"caf\xc3\xa9\\ttab\","
                                "\"note\":null},\"version\":123,"
                                "\"time_extracted\":\"2026-01-02T03:04:05.000000Z\"}");
    json_error_t jerr;
    json_t *doc = json_loads(b.data, 0, &jerr);
    assert_non_null(doc);
    json_t *rec = json_object_get(doc, "record");
    assert_string_equal(json_string_value(json_object_get(rec, "name")), "caf\xc3\xa9\ttab");
    assert_true(json_real_value(json_object_get(rec, "price")) == -12.5);
    assert_true(json_is_null(json_object_get(rec, "note")));
    assert_int_equal(json_integer_value(json_object_get(doc, "version")), 123);
    json_decref(doc);
    sl_buf_free(&b);
}

/* The python layouts: json.dumps(v) and json.dumps(v, indent=2) of the same value. */
static void
python_doc(sl_jsonw *w)
{
    sl_jsonw_object_begin(w);
    sl_jsonw_keyz(w, "a");
    sl_jsonw_array_begin(w);
    sl_jsonw_int(w, 1);
    sl_jsonw_object_begin(w);
    sl_jsonw_object_end(w);
    sl_jsonw_array_begin(w);
    sl_jsonw_array_end(w);
    sl_jsonw_array_end(w);
    sl_jsonw_keyz(w, "b");
    sl_jsonw_stringz(w, "x");
    sl_jsonw_object_end(w);
}

static void
test_python_layouts(void **state)
{
    (void)state;
    sl_buf out = SL_BUF_INIT;
    sl_jsonw w;
    sl_jsonw_init_python(&w, &out, 0);
    python_doc(&w);
    assert_string_equal(out.data, "{\"a\": [1, {}, []], \"b\": \"x\"}");
    sl_buf_reset(&out);
    sl_jsonw_init_python(&w, &out, 2);
    python_doc(&w);
    assert_string_equal(out.data, "{\n  \"a\": [\n    1,\n    {},\n    []\n  ],\n"
                                  "  \"b\": \"x\"\n}");
    sl_buf_reset(&out);
    sl_jsonw_init(&w, &out);
    python_doc(&w);
    assert_string_equal(out.data, "{\"a\":[1,{},[]],\"b\":\"x\"}");
    sl_buf_free(&out);
}

/* A raw value gets its comma like any value; a raw string is escaped and counted the same. */
static void
test_raw_values(void **state)
{
    (void)state;
    sl_buf b = SL_BUF_INIT;
    sl_jsonw w;
    sl_jsonw_init(&w, &b);
    sl_jsonw_array_begin(&w);
    sl_jsonw_int(&w, 1);
    sl_jsonw_raw_begin(&w);
    sl_buf_puts(&b, "1E-7");
    sl_jsonw_raw_begin(&w);
    sl_buf_putc(&b, '{');
    sl_jsonw_raw_string(&w, S("k\"\xff"));
    sl_buf_putc(&b, ':');
    sl_jsonw_raw_string(&w, S("v\n"));
    sl_buf_putc(&b, '}');
    sl_jsonw_null(&w);
    sl_jsonw_array_end(&w);
    assert_string_equal(b.data, "[1,1E-7,{\"k\\\"\xef\xbf\xbd\":\"v\\n\"},null]");
    assert_int_equal(w.replaced, 1);
    sl_buf_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nesting_and_commas),
        cmocka_unit_test(test_top_level_values),
        cmocka_unit_test(test_string_escapes),
        cmocka_unit_test(test_ill_formed_utf8_replaced),
        cmocka_unit_test(test_keys_escaped_and_counted),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_jansson_reads_back),
        cmocka_unit_test(test_singer_record),
        cmocka_unit_test(test_python_layouts),
        cmocka_unit_test(test_raw_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
