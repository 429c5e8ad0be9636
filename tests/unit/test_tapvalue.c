/* tests/unit/test_tapvalue.c: tap/value.h writes each type's COPY text (as PostgreSQL 15 prints
 * it in the session sl_tap_value_session_sql() sets up) as the JSON value pipelinewise-tap-
 * postgres emits for it: Python's str(Decimal), repr(float), isoformat() and psycopg2's
 * clamps; malformed text is an error naming the column. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/jsonw.h"
#include "tap/schema.h"
#include "tap/value.h"

#define COL(type, ...) ((sl_tap_column){.name = "col", .sql_type = type, __VA_ARGS__})
#define ARR(type, ...) COL(type, .is_array = true, __VA_ARGS__)
#define LEN(n) .has_char_max_length = true, .char_max_length = (n)

typedef struct {
    sl_tap_column col;
    const char *text;      /* the field as the COPY decoder gives it */
    const char *expected;  /* the JSON value written */
} value_case;

/* Writes text as c's value, prepared or not (both must agree); returns the JSON or NULL on
 * error, with err set. */
static char *
convert(sl_tap_column c, const char *text, bool prepare, sl_error *err)
{
    sl_buf out = SL_BUF_INIT;
    sl_jsonw w;
    sl_jsonw_init(&w, &out);
    if (prepare)
        sl_tap_value_prepare(&c);
    if (sl_tap_value_write(&w, &c, text, strlen(text), err) != 0) {
        assert_int_equal(out.len, 0);  /* nothing written for a refused value */
        sl_buf_free(&out);
        return NULL;
    }
    assert_int_equal(w.depth, 0);
    if (!out.data)
        sl_buf_puts(&out, "");
    return sl_buf_steal(&out);
}

static void
check_cases(const value_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (int prepare = 0; prepare <= 1; prepare++) {
            sl_error err;
            sl_error_clear(&err);
            char *got = convert(cases[i].col, cases[i].text, prepare, &err);
            if (!got)
                fail_msg("%s %s: %s", cases[i].col.sql_type, cases[i].text, err.message);
            if (strcmp(got, cases[i].expected) != 0)
                fail_msg("%s %s: got %s, want %s", cases[i].col.sql_type, cases[i].text, got,
                         cases[i].expected);
            free(got);
        }
    }
}

static void
check_error(sl_tap_column c, const char *text, sl_error_kind kind)
{
    for (int prepare = 0; prepare <= 1; prepare++) {
        sl_error err;
        sl_error_clear(&err);
        char *got = convert(c, text, prepare, &err);
        if (got)
            fail_msg("%s %s: accepted as %s", c.sql_type, text, got);
        assert_int_equal(err.kind, kind);
        assert_non_null(strstr(err.message, "column \"col\""));
    }
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void
test_integers_and_booleans(void **state)
{
    (void)state;
    static const value_case cases[] = {
        {COL("integer"), "-2147483648", "-2147483648"},
        {COL("smallint"), "0", "0"},
        {COL("bigint"), "9223372036854775807", "9223372036854775807"},
        {COL("boolean"), "t", "true"},
        {COL("boolean"), "f", "false"},
        {COL("bit", LEN(1)), "1", "true"},
        {COL("bit", LEN(1)), "0", "false"},
    };
    check_cases(cases, N(cases));
    check_error(COL("integer"), "", SL_E_SERVER);
    check_error(COL("integer"), "12a", SL_E_SERVER);
    check_error(COL("bigint"), "+1", SL_E_SERVER);
    check_error(COL("boolean"), "true", SL_E_SERVER);
}

/* str(Decimal(text)): the server's digits, scientific below 10^-6; NaN and infinities null. */
static void
test_numeric(void **state)
{
    (void)state;
    static const value_case cases[] = {
        {COL("numeric"), "123.4500", "123.4500"},
        {COL("numeric"), "-0.000001", "-0.000001"},
        {COL("numeric"), "0.0000001", "1E-7"},
        {COL("numeric"), "0.00000012", "1.2E-7"},
        {COL("numeric"), "-0.000000120", "-1.20E-7"},
        {COL("numeric"), "0.00000000", "0E-8"},
        {COL("numeric"), "0.000000", "0.000000"},
        {COL("numeric"), "0", "0"},
        {COL("numeric"), "100", "100"},
        {COL("numeric"), "NaN", "null"},
        {COL("numeric"), "Infinity", "null"},
        {COL("numeric"), "-Infinity", "null"},
        /* exact, never through a double: 40 digits and scale 38 */
        {COL("numeric"), "12345678901234567890.12345678901234567890",
         "12345678901234567890.12345678901234567890"},
        {COL("numeric"), "0.00000000000000000000000000000000000001", "1E-38"},
        {COL("numeric"), "0.00000000000000000000000000000000001234", "1.234E-35"},
    };
    check_cases(cases, N(cases));
    check_error(COL("numeric"), "1.", SL_E_SERVER);
    check_error(COL("numeric"), ".5", SL_E_SERVER);
    check_error(COL("numeric"), "01", SL_E_SERVER);
    check_error(COL("numeric"), "1e5", SL_E_SERVER);
    check_error(COL("numeric"), "nan", SL_E_SERVER);
    check_error(COL("numeric"), "", SL_E_SERVER);
    check_error(COL("numeric"), "-", SL_E_SERVER);
}

/* repr(float(text)): texts as PostgreSQL 15 prints them with extra_float_digits 3. */
static void
test_floats(void **state)
{
    (void)state;
    static const value_case cases[] = {
        {COL("double precision"), "1.5", "1.5"},
        {COL("double precision"), "1e+16", "1e+16"},
        {COL("double precision"), "1e+15", "1000000000000000.0"},
        {COL("double precision"), "0.0001", "0.0001"},
        {COL("double precision"), "1e-05", "1e-05"},
        {COL("double precision"), "1.2345678901234568e+17", "1.2345678901234568e+17"},
        {COL("double precision"), "1234567890123456", "1234567890123456.0"},
        {COL("double precision"), "-0", "-0.0"},
        {COL("double precision"), "0", "0.0"},
        {COL("double precision"), "100", "100.0"},
        {COL("double precision"), "-2.5e-300", "-2.5e-300"},
        {COL("double precision"), "1.7976931348623157e+308", "1.7976931348623157e+308"},
        {COL("double precision"), "NaN", "null"},
        {COL("double precision"), "Infinity", "null"},
        {COL("double precision"), "-Infinity", "null"},
        {COL("real"), "0.1", "0.1"},
        {COL("real"), "3.4e+38", "3.4e+38"},
        {COL("real"), "1.0000001", "1.0000001"},
        {COL("real"), "1e+10", "10000000000.0"},
    };
    check_cases(cases, N(cases));
    check_error(COL("real"), "", SL_E_SERVER);
    check_error(COL("real"), "1e", SL_E_SERVER);
    check_error(COL("real"), "inf", SL_E_SERVER);
    check_error(COL("double precision"), "1.5x", SL_E_SERVER);
    check_error(COL("double precision"), "12345678901234567890123456789012345678901234567890",
                SL_E_SERVER);
}

static void
test_text_types(void **state)
{
    (void)state;
    static const value_case cases[] = {
        {COL("text"), "a\"b\\c\n", "\"a\\\"b\\\\c\\n\""},
        {COL("text"), "", "\"\""},
        {COL("character", LEN(4)), "ab  ", "\"ab  \""},
        {COL("character varying", LEN(10)), "\xc3\xa9t\xc3\xa9", "\"\xc3\xa9t\xc3\xa9\""},
        {COL("uuid"), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
         "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\""},
        {COL("money"), "$1,000.50", "\"$1,000.50\""},
        {COL("inet"), "192.168.0.1/24", "\"192.168.0.1/24\""},
        {COL("mood", .is_enum = true), "happy", "\"happy\""},
        {COL("citext"), "AbC", "\"AbC\""},
        /* no schema type: never selected, written as text if it were */
        {COL("interval"), "1 day", "\"1 day\""},
        {COL("bit", LEN(3)), "101", "\"101\""},
    };
    check_cases(cases, N(cases));
}

/* date.isoformat() + 'T00:00:00+00:00', with psycopg2's date.max, date.min and year clamp. */
static void
test_dates(void **state)
{
    (void)state;
    static const value_case cases[] = {
        {COL("date"), "2020-02-29", "\"2020-02-29T00:00:00+00:00\""},
        {COL("date"), "0001-01-01", "\"0001-01-01T00:00:00+00:00\""},
        {COL("date"), "infinity", "\"9999-12-31T00:00:00+00:00\""},
        {COL("date"), "-infinity", "\"0001-01-01T00:00:00+00:00\""},
        {COL("date"), "12020-03-04", "\"9999-03-04T00:00:00+00:00\""},
    };
    check_cases(cases, N(cases));
    check_error(COL("date"), "0044-03-15 BC", SL_E_UNSUPPORTED);
    check_error(COL("date"), "12020-02-29", SL_E_UNSUPPORTED);
    check_error(COL("date"), "2020-1-01", SL_E_SERVER);
    check_error(COL("date"), "2020-13-01", SL_E_SERVER);
    check_error(COL("date"), "2020-01-01 ", SL_E_SERVER);
    check_error(COL("date"), "", SL_E_SERVER);
}

/* pipelinewise's CASE clamp, then isoformat() (6-digit fraction) and "+00:00". */
static void
test_timestamps(void **state)
{
    (void)state;
    static const char *const bound = "\"9999-12-31T23:59:59.999000+00:00\"";
    static const char *const tz = "timestamp with time zone";
    static const char *const ntz = "timestamp without time zone";
    const value_case cases[] = {
        {COL(ntz), "2020-02-03 04:05:06.5", "\"2020-02-03T04:05:06.500000+00:00\""},
        {COL(ntz), "2020-02-03 04:05:06", "\"2020-02-03T04:05:06+00:00\""},
        {COL(ntz), "2020-02-03 04:05:06.000001", "\"2020-02-03T04:05:06.000001+00:00\""},
        {COL(tz), "2020-02-03 02:05:06.5+00", "\"2020-02-03T02:05:06.500000+00:00\""},
        {COL(tz), "0001-01-01 00:00:00+00", "\"0001-01-01T00:00:00+00:00\""},
        {COL(tz), "infinity", bound},
        {COL(tz), "-infinity", bound},
        {COL(tz), "0044-03-15 12:00:00+00 BC", bound},
        {COL(ntz), "0044-03-15 12:00:00 BC", bound},
        {COL(ntz), "12020-01-01 00:00:00", bound},
        {COL(ntz), "9999-12-31 23:59:59.999", "\"9999-12-31T23:59:59.999000+00:00\""},
        {COL(ntz), "9999-12-31 23:59:59.9991", bound},
        {COL(ntz), "9999-12-31 23:59:59.99", "\"9999-12-31T23:59:59.990000+00:00\""},
    };
    check_cases(cases, N(cases));
    check_error(COL(tz), "2020-02-03 02:05:06+02", SL_E_SERVER);
    check_error(COL(ntz), "2020-02-03T02:05:06", SL_E_SERVER);
    check_error(COL(ntz), "2020-02-03 02:05", SL_E_SERVER);
    check_error(COL(ntz), "2020-02-03 02:05:06.", SL_E_SERVER);
    check_error(COL(ntz), "2020-02-03 02:05:06.1234567", SL_E_SERVER);
    check_error(COL(ntz), "2020-02-03 25:05:06", SL_E_SERVER);
}

/* str(time) with 24 read as 0; timetz converted to UTC without its offset. */
static void
test_times(void **state)
{
    (void)state;
    static const char *const t = "time without time zone";
    static const char *const tz = "time with time zone";
    const value_case cases[] = {
        {COL(t), "12:34:56", "\"12:34:56\""},
        {COL(t), "12:34:56.789", "\"12:34:56.789000\""},
        {COL(t), "24:00:00", "\"00:00:00\""},
        {COL(tz), "12:34:56+05:30", "\"07:04:56\""},
        {COL(tz), "01:00:00+02", "\"23:00:00\""},
        {COL(tz), "23:30:00-01", "\"00:30:00\""},
        {COL(tz), "24:00:00-01", "\"01:00:00\""},
        {COL(tz), "12:00:00+05:30:15", "\"06:30:00\""},  /* the offset rounded to 05:30 */
        {COL(tz), "12:00:00+05:30:30", "\"06:29:00\""},  /* half a minute rounds away */
        {COL(tz), "12:34:56.789+05:30", "\"07:04:56.789000\""},
    };
    check_cases(cases, N(cases));
    check_error(COL(t), "12:34", SL_E_SERVER);
    check_error(COL(t), "12:34:56+01", SL_E_SERVER);
    check_error(COL(tz), "12:34:56", SL_E_SERVER);
    check_error(COL(tz), "12:34:56+1", SL_E_SERVER);
}

/* Arrays: nested lists from PostgreSQL's array text, elements by the element type's rule. */
static void
test_arrays(void **state)
{
    (void)state;
    static const char *const ts = "timestamp without time zone[]";
    const value_case cases[] = {
        {ARR("integer[]"), "{1,NULL,3}", "[1,null,3]"},
        {ARR("integer[]"), "{}", "[]"},
        {ARR("integer[]"), "[0:1]={1,2}", "[1,2]"},
        {ARR("integer[]"), "[0:0][1:2]={{1,2}}", "[[1,2]]"},
        {ARR("integer[]"), "{{{1}}}", "[[[1]]]"},
        {ARR("integer[]"), "{{{{{{1}}}}}}", "[[[[[[1]]]]]]"},
        {ARR("integer[]"), "{{1,2},{3,4}}", "[[1,2],[3,4]]"},
        {ARR("text[]"), "{{\"a b\",\"c\\\"d\"},{\"e\\\\f\",NULL}}",
         "[[\"a b\",\"c\\\"d\"],[\"e\\\\f\",null]]"},
        {ARR("text[]"), "{\"NULL\",\"null\",\"\"}", "[\"NULL\",\"null\",\"\"]"},
        {ARR("text[]"), "{\" x \"}", "[\" x \"]"},
        {ARR("text[]"), "{\"tab\there\"}", "[\"tab\\there\"]"},
        {ARR("text[]"), "{\"\xc3\xa9\\\"\xc3\xa9\"}", "[\"\xc3\xa9\\\"\xc3\xa9\"]"},
        {ARR("text[]"), "{a,b}", "[\"a\",\"b\"]"},
        {ARR("character[]"), "{\"ab  \"}", "[\"ab  \"]"},
        {ARR("numeric[]"), "{1.50,0.0000001,NaN}", "[1.50,1E-7,null]"},
        {ARR("double precision[]"), "{1.5,NaN,1e+20}", "[1.5,null,1e+20]"},
        {ARR("boolean[]"), "{t,f,NULL}", "[true,false,null]"},
        {ARR("bit[]"), "{1,0,101}", "[true,false,false]"},
        {ARR("money[]"), "{$1.50}", "[\"$1.50\"]"},
        {ARR("cidr[]"), "{10.0.0.0/8}", "[\"10.0.0.0/8\"]"},
        {ARR("mood[]", .is_enum = true), "{happy,sad}", "[\"happy\",\"sad\"]"},
        {ARR("date[]"), "{2020-01-01,infinity}",
         "[\"2020-01-01T00:00:00+00:00\",\"9999-12-31T00:00:00+00:00\"]"},
        {ARR(ts), "{\"2020-01-01 00:00:00.25\",infinity}",
         "[\"2020-01-01T00:00:00.250000+00:00\",\"9999-12-31T23:59:59.999000+00:00\"]"},
        {ARR("time with time zone[]"), "{12:00:00+01}", "[\"11:00:00\"]"},
        {ARR("box[]"), "{(3,4),(1,2);(1,1),(0,0)}", "[\"(3,4),(1,2)\",\"(1,1),(0,0)\"]"},
        {ARR("jsonb[]"), "{\"{\\\"a\\\": [1, 2.50]}\",NULL}", "[{\"a\":[1,2.5]},null]"},
        {ARR("hstore[]"),
         "{\"\\\"a\\\"=>\\\"1\\\", \\\"b c\\\"=>NULL, "
         "\\\"q\\\\\\\"\\\\\\\\x\\\"=>\\\"v\\\\\\\"\\\\\\\\\\\"\",NULL}",
         "[{\"a\":\"1\",\"b c\":null,\"q\\\"\\\\x\":\"v\\\"\\\\\"},null]"},
    };
    check_cases(cases, N(cases));
    check_error(ARR("integer[]"), "{{{{{{{1}}}}}}}", SL_E_SERVER);  /* 7 dimensions */
    check_error(ARR("integer[]"), "{1,2", SL_E_SERVER);
    check_error(ARR("integer[]"), "{1,,2}", SL_E_SERVER);
    check_error(ARR("integer[]"), "{1,x}", SL_E_SERVER);
    check_error(ARR("integer[]"), "{1}}", SL_E_SERVER);
    check_error(ARR("integer[]"), "1,2", SL_E_SERVER);
    check_error(ARR("integer[]"), "[0:1]{1,2}", SL_E_SERVER);
    check_error(ARR("text[]"), "{\"a}", SL_E_SERVER);
    check_error(ARR("text[]"), "{a\\", SL_E_SERVER);
    check_error(ARR("text[]"), "", SL_E_SERVER);
    check_error(ARR("date[]"), "{0044-03-15 BC}", SL_E_UNSUPPORTED);
}

/* A refused element leaves nothing of its array behind, the writer as it was. */
static void
test_refused_array_rolls_back(void **state)
{
    (void)state;
    sl_buf out = SL_BUF_INIT;
    sl_jsonw w;
    sl_jsonw_init(&w, &out);
    sl_tap_column c = ARR("integer[]");
    sl_tap_value_prepare(&c);
    sl_error err;
    sl_error_clear(&err);
    sl_jsonw_object_begin(&w);
    sl_jsonw_keyz(&w, "a");
    assert_int_equal(sl_tap_value_write(&w, &c, "{1,{2}}", 7, &err), 0);
    sl_jsonw_keyz(&w, "b");
    assert_int_equal(sl_tap_value_write(&w, &c, "{{1,2},{3,x}}", 13, &err), -1);
    assert_string_equal(out.data, "{\"a\":[1,[2]],\"b\":");
    sl_jsonw_null(&w);
    sl_jsonw_object_end(&w);
    assert_string_equal(out.data, "{\"a\":[1,[2]],\"b\":null}");
    sl_buf_free(&out);
}

/* hstore: an object in the text's order, NULL as null, quotes and backslashes decoded. */
static void
test_hstore(void **state)
{
    (void)state;
    const value_case cases[] = {
        {COL("hstore"), "\"k\"=>\"v\", \"n\"=>NULL", "{\"k\":\"v\",\"n\":null}"},
        {COL("hstore"), "", "{}"},
        {COL("hstore"), "\"q\\\"\\\\x\"=>\"v\\\"\\\\\"", "{\"q\\\"\\\\x\":\"v\\\"\\\\\"}"},
        {COL("hstore"), "\"NULL\"=>\"NULL\"", "{\"NULL\":\"NULL\"}"},
        {COL("hstore"), "a=>b,c=>null", "{\"a\":\"b\",\"c\":null}"},
        {COL("hstore"), "\"\xc3\xa9\"=>\"\\\xc3\xa9\"", "{\"\xc3\xa9\":\"\xc3\xa9\"}"},
    };
    check_cases(cases, N(cases));
    check_error(COL("hstore"), "\"k\"=>", SL_E_SERVER);
    check_error(COL("hstore"), "\"k\"=\"v\"", SL_E_SERVER);
    check_error(COL("hstore"), "\"k\"=>\"v\" \"k2\"=>\"v\"", SL_E_SERVER);
    check_error(COL("hstore"), "\"k=>\"v\"", SL_E_SERVER);
}

/* json and jsonb: what json.loads() reads, written compactly: integers exact ("-0" is 0),
 * other numbers through a double as repr() writes them. */
static void
test_json(void **state)
{
    (void)state;
    const value_case cases[] = {
        {COL("json"), "{\"b\":1, \"a\":[1.10,1e2,-0,{\"x\":\"\\u00e9\\n\"}]}",
         "{\"b\":1,\"a\":[1.1,100.0,0,{\"x\":\"\xc3\xa9\\n\"}]}"},
        {COL("jsonb"), "{\"a\": [1.10, 100, 0], \"b\": 1}", "{\"a\":[1.1,100,0],\"b\":1}"},
        {COL("jsonb"), "\"s\"", "\"s\""},
        {COL("jsonb"), "null", "null"},
        {COL("jsonb"), "[true, false, null]", "[true,false,null]"},
        {COL("json"), " 12345678901234567890123 ", "12345678901234567890123"},
        {COL("json"), "0.1000000000000000055511151231257827", "0.1"},
        {COL("json"), "1e400", "null"},
        {COL("json"), "-1.5E-7", "-1.5e-07"},
        {COL("json"), "123456789.123456789", "123456789.12345679"},
        {COL("json"), "\"\\ud83d\\ude00 \\/ \\u0000\"", "\"\xf0\x9f\x98\x80 / \\u0000\""},
        {COL("json"), "\"\\ud800x\"", "\"\xef\xbf\xbdx\""},
        {COL("json"), "[5e-324, 1e22, 1.7976931348623157e308]",
         "[5e-324,1e+22,1.7976931348623157e+308]"},
        {COL("json"), "{}", "{}"},
        {COL("json"), "[[], {\"\": []}]", "[[],{\"\":[]}]"},
    };
    check_cases(cases, N(cases));
    check_error(COL("json"), "{", SL_E_SERVER);
    check_error(COL("json"), "[1,]", SL_E_SERVER);
    check_error(COL("json"), "01", SL_E_SERVER);
    check_error(COL("json"), "\"abc", SL_E_SERVER);
    check_error(COL("json"), "\"\\x\"", SL_E_SERVER);
    check_error(COL("json"), "tru", SL_E_SERVER);
    check_error(COL("json"), "1 2", SL_E_SERVER);
    check_error(COL("json"), "", SL_E_SERVER);
}

/* Deeper than Python's recursion limit lets json.loads() go: refused, not crashed on. */
static void
test_json_depth(void **state)
{
    (void)state;
    sl_buf doc = SL_BUF_INIT;
    for (int k = 0; k < 990; k++)
        sl_buf_putc(&doc, '[');
    for (int k = 0; k < 990; k++)
        sl_buf_putc(&doc, ']');
    sl_error err;
    sl_error_clear(&err);
    char *got = convert(COL("jsonb"), doc.data, true, &err);
    assert_non_null(got);
    assert_string_equal(got, doc.data);
    free(got);
    sl_buf_reset(&doc);
    for (int k = 0; k < 100000; k++)
        sl_buf_putc(&doc, '[');
    check_error(COL("jsonb"), doc.data, SL_E_UNSUPPORTED);
    sl_buf_free(&doc);
}

/* numbers.tsv (see its README): random floats, numerics and jsonb documents as the server
 * printed them, with what Python's repr(), str(Decimal) and json make of them. */
static void
test_numbers_against_python(void **state)
{
    (void)state;
    FILE *f = fopen(SL_TEST_DATA "/tapvalue/numbers.tsv", "r");
    assert_non_null(f);
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        char *type = strtok(line, "\t"), *text = strtok(NULL, "\t"), *want = strtok(NULL, "\n");
        assert_non_null(want);
        value_case v = {COL(type), text, want};
        check_cases(&v, 1);
        n++;
    }
    fclose(f);
    assert_true(n > 1000);
}

static void
test_session_and_select(void **state)
{
    (void)state;
    const char *sql = sl_tap_value_session_sql();
    assert_non_null(strstr(sql, "TimeZone = 'UTC'"));
    assert_non_null(strstr(sql, "DateStyle = 'ISO"));
    assert_non_null(strstr(sql, "extra_float_digits = 3"));
    sl_buf b = SL_BUF_INIT;
    sl_tap_column c = COL("integer");
    sl_tap_value_select(&b, &c, "\"Some \"\"col\"");
    assert_string_equal(b.data, "t.\"Some \"\"col\"");
    sl_buf_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers_and_booleans),
        cmocka_unit_test(test_numeric),
        cmocka_unit_test(test_floats),
        cmocka_unit_test(test_text_types),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_arrays),
        cmocka_unit_test(test_refused_array_rolls_back),
        cmocka_unit_test(test_hstore),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_json_depth),
        cmocka_unit_test(test_numbers_against_python),
        cmocka_unit_test(test_session_and_select),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
