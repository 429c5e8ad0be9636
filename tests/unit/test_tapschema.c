/* tests/unit/test_tapschema.c: tap/schema.h maps a column to the JSON Schema, sql-datatype and
 * inclusion that pipelinewise-tap-postgres's schema_for_column gives it; base/jsonw.h (python
 * layout) writes it as Python's json.dumps would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/jsonw.h"
#include "tap/config.h"
#include "tap/schema.h"

/* Column facts as the discovery query reports them. */
#define COL(type, ...) ((sl_tap_column){.name = "c", .sql_type = type, __VA_ARGS__})
#define PREC(p) .has_precision = true, .precision = (p)
#define SCALE(s) .has_scale = true, .scale = (s)
#define LEN(n) .has_char_max_length = true, .char_max_length = (n)

static const struct {
    const char *what;
    sl_tap_column col;
    const char *schema;       /* json.dumps() of the schema */
    const char *datatype;     /* sql-datatype */
    const char *inclusion;
} cases[] = {
    {"integer primary key", COL("integer", PREC(32), .primary_key = true),
     "{\"type\": [\"integer\"], \"minimum\": -2147483648, \"maximum\": 2147483647}", "integer",
     "automatic"},
    {"smallint", COL("smallint", PREC(16)),
     "{\"type\": [\"null\", \"integer\"], \"minimum\": -32768, \"maximum\": 32767}", "smallint",
     "available"},
    {"bigint", COL("bigint", PREC(64)),
     "{\"type\": [\"null\", \"integer\"], \"minimum\": -9223372036854775808, "
     "\"maximum\": 9223372036854775807}", "bigint", "available"},
    {"numeric(10,2)", COL("numeric", PREC(10), SCALE(2)),
     "{\"type\": [\"null\", \"number\"], \"exclusiveMaximum\": true, \"maximum\": 100000000, "
     "\"multipleOf\": 0.01, \"exclusiveMinimum\": true, \"minimum\": -100000000}", "numeric",
     "available"},
    {"numeric without precision: capped at 100 and 38", COL("numeric"),
     "{\"type\": [\"null\", \"number\"], \"exclusiveMaximum\": true, "
     "\"maximum\": 100000000000000000000000000000000000000000000000000000000000000, "
     "\"multipleOf\": 1e-38, \"exclusiveMinimum\": true, "
     "\"minimum\": -100000000000000000000000000000000000000000000000000000000000000}", "numeric",
     "available"},
    {"numeric(5)", COL("numeric", PREC(5), SCALE(0)),
     "{\"type\": [\"null\", \"number\"], \"exclusiveMaximum\": true, \"maximum\": 100000, "
     "\"multipleOf\": 1, \"exclusiveMinimum\": true, \"minimum\": -100000}", "numeric",
     "available"},
    {"numeric(2,5): scale above precision", COL("numeric", PREC(2), SCALE(5)),
     "{\"type\": [\"null\", \"number\"], \"exclusiveMaximum\": true, \"maximum\": 0.001, "
     "\"multipleOf\": 1e-05, \"exclusiveMinimum\": true, \"minimum\": -0.001}", "numeric",
     "available"},
    {"numeric(3,-2): negative scale", COL("numeric", PREC(3), SCALE(-2)),
     "{\"type\": [\"null\", \"number\"], \"exclusiveMaximum\": true, \"maximum\": 100000, "
     "\"multipleOf\": 100, \"exclusiveMinimum\": true, \"minimum\": -100000}", "numeric",
     "available"},
    {"numeric(1000,50): both capped", COL("numeric", PREC(1000), SCALE(50)),
     "{\"type\": [\"null\", \"number\"], \"exclusiveMaximum\": true, "
     "\"maximum\": 100000000000000000000000000000000000000000000000000000000000000, "
     "\"multipleOf\": 1e-38, \"exclusiveMinimum\": true, "
     "\"minimum\": -100000000000000000000000000000000000000000000000000000000000000}", "numeric",
     "available"},
    {"real", COL("real", PREC(24)), "{\"type\": [\"null\", \"number\"]}", "real", "available"},
    {"double", COL("double precision", PREC(53)), "{\"type\": [\"null\", \"number\"]}",
     "double precision", "available"},
    {"money", COL("money"), "{\"type\": [\"null\", \"string\"]}", "money", "available"},
    {"enum", COL("mood", .is_enum = true), "{\"type\": [\"null\", \"string\"]}", "mood",
     "available"},
    {"enum in another schema", COL("\"Sales\".\"Mood\"", .is_enum = true),
     "{\"type\": [\"null\", \"string\"]}", "\"Sales\".\"Mood\"", "available"},
    {"bit", COL("bit", LEN(1)), "{\"type\": [\"null\", \"boolean\"]}", "bit", "available"},
    {"bit(5)", COL("bit", LEN(5)), "{}", "bit(5)", "unsupported"},
    {"bit varying", COL("bit varying", LEN(8)), "{}", "bit varying", "unsupported"},
    {"boolean primary key", COL("boolean", .primary_key = true), "{\"type\": [\"boolean\"]}",
     "boolean", "automatic"},
    {"uuid", COL("uuid"), "{\"type\": [\"null\", \"string\"]}", "uuid", "available"},
    {"hstore", COL("hstore"), "{\"type\": [\"null\", \"object\"], \"properties\": {}}", "hstore",
     "available"},
    {"citext", COL("citext"), "{\"type\": [\"null\", \"string\"]}", "citext", "available"},
    {"json", COL("json"), "{\"type\": [\"null\", \"object\", \"array\"]}", "json", "available"},
    {"jsonb primary key", COL("jsonb", .primary_key = true),
     "{\"type\": [\"object\", \"array\"]}", "jsonb", "automatic"},
    {"time", COL("time without time zone"), "{\"type\": [\"null\", \"string\"], "
     "\"format\": \"time\"}", "time without time zone", "available"},
    {"timetz", COL("time with time zone"), "{\"type\": [\"null\", \"string\"], "
     "\"format\": \"time\"}", "time with time zone", "available"},
    {"date", COL("date"), "{\"type\": [\"null\", \"string\"], \"format\": \"date-time\"}", "date",
     "available"},
    {"timestamp", COL("timestamp without time zone"),
     "{\"type\": [\"null\", \"string\"], \"format\": \"date-time\"}",
     "timestamp without time zone", "available"},
    {"timestamptz", COL("timestamp with time zone"),
     "{\"type\": [\"null\", \"string\"], \"format\": \"date-time\"}", "timestamp with time zone",
     "available"},
    {"text", COL("text"), "{\"type\": [\"null\", \"string\"]}", "text", "available"},
    {"varchar", COL("character varying"), "{\"type\": [\"null\", \"string\"]}",
     "character varying", "available"},
    {"varchar(20)", COL("character varying", LEN(20)),
     "{\"type\": [\"null\", \"string\"], \"maxLength\": 20}", "character varying", "available"},
    {"char(3)", COL("character", LEN(3)), "{\"type\": [\"null\", \"string\"], \"maxLength\": 3}",
     "character", "available"},
    {"inet", COL("inet"), "{\"type\": [\"null\", \"string\"]}", "inet", "available"},
    {"cidr", COL("cidr"), "{\"type\": [\"null\", \"string\"]}", "cidr", "available"},
    {"macaddr", COL("macaddr"), "{\"type\": [\"null\", \"string\"]}", "macaddr", "available"},
    {"macaddr8", COL("macaddr8"), "{}", "macaddr8", "unsupported"},
    {"interval", COL("interval"), "{}", "interval", "unsupported"},
    {"bytea primary key: unsupported wins", COL("bytea", .primary_key = true), "{}", "bytea",
     "unsupported"},
    {"domain over integer", COL("posint", PREC(32)), "{}", "posint", "unsupported"},
    {"integer[]", COL("integer[]", .is_array = true, PREC(32)),
     "{\"type\": [\"null\", \"array\"], \"items\": "
     "{\"$ref\": \"#/definitions/sdc_recursive_integer_array\"}}", "integer[]", "available"},
    {"array primary key stays nullable", COL("text[]", .is_array = true, .primary_key = true),
     "{\"type\": [\"null\", \"array\"], \"items\": "
     "{\"$ref\": \"#/definitions/sdc_recursive_string_array\"}}", "text[]", "automatic"},
    {"bit[]", COL("bit[]", .is_array = true, LEN(1)),
     "{\"type\": [\"null\", \"array\"], \"items\": "
     "{\"$ref\": \"#/definitions/sdc_recursive_boolean_array\"}}", "bit[]", "available"},
    {"date[]", COL("date[]", .is_array = true),
     "{\"type\": [\"null\", \"array\"], \"items\": "
     "{\"$ref\": \"#/definitions/sdc_recursive_timestamp_array\"}}", "date[]", "available"},
    {"numeric(8,3)[]", COL("numeric[]", .is_array = true, PREC(8), SCALE(3)),
     "{\"type\": [\"null\", \"array\"], \"items\": "
     "{\"$ref\": \"#/definitions/sdc_recursive_decimal_8_3_array\"}}", "numeric[]", "available"},
    {"jsonb[]", COL("jsonb[]", .is_array = true),
     "{\"type\": [\"null\", \"array\"], \"items\": "
     "{\"$ref\": \"#/definitions/sdc_recursive_object_array\"}}", "jsonb[]", "available"},
    {"real[]", COL("real[]", .is_array = true),
     "{\"type\": [\"null\", \"array\"], \"items\": "
     "{\"$ref\": \"#/definitions/sdc_recursive_number_array\"}}", "real[]", "available"},
    {"interval[]: any other element is a string", COL("interval[]", .is_array = true),
     "{\"type\": [\"null\", \"array\"], \"items\": "
     "{\"$ref\": \"#/definitions/sdc_recursive_string_array\"}}", "interval[]", "available"},
};

static void
test_column_mapping(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_buf schema = SL_BUF_INIT, type = SL_BUF_INIT;
        sl_jsonw w;
        sl_jsonw_init_python(&w, &schema, 0);
        sl_tap_schema_write(&w, &cases[i].col);
        sl_tap_schema_sql_datatype(&type, &cases[i].col);
        if (strcmp(schema.data, cases[i].schema) != 0)
            fail_msg("%s: schema\n  got  %s\n  want %s", cases[i].what, schema.data,
                     cases[i].schema);
        if (strcmp(type.data, cases[i].datatype) != 0)
            fail_msg("%s: sql-datatype %s", cases[i].what, type.data);
        if (strcmp(sl_tap_schema_inclusion(&cases[i].col), cases[i].inclusion) != 0)
            fail_msg("%s: inclusion %s", cases[i].what, sl_tap_schema_inclusion(&cases[i].col));
        assert_int_equal(sl_tap_schema_supported(&cases[i].col),
                         strcmp(cases[i].inclusion, "unsupported") != 0);
        sl_buf_free(&schema);
        sl_buf_free(&type);
    }
}

static void
test_pow10_as_python_writes_it(void **state)
{
    (void)state;
    static const struct {
        int64_t e;
        bool negative;
        const char *text;
    } pows[] = {
        {0, false, "1"},       {3, false, "1000"},  {-1, false, "0.1"}, {-4, false, "0.0001"},
        {-5, false, "1e-05"},  {-38, true, "-1e-38"}, {2, true, "-100"},
    };
    for (size_t i = 0; i < sizeof pows / sizeof pows[0]; i++) {
        sl_buf b = SL_BUF_INIT;
        sl_tap_schema_pow10(&b, pows[i].e, pows[i].negative);
        assert_string_equal(b.data, pows[i].text);
        sl_buf_free(&b);
    }
}

static void
test_definitions_once_per_decimal(void **state)
{
    (void)state;
    const sl_tap_column cols[] = {
        COL("numeric[]", .is_array = true, PREC(8), SCALE(3)),
        COL("text"),
        COL("numeric[]", .is_array = true, PREC(8), SCALE(3)),
        COL("numeric[]", .is_array = true),
    };
    sl_buf out = SL_BUF_INIT;
    sl_jsonw w;
    sl_jsonw_init_python(&w, &out, 0);
    sl_tap_schema_definitions(&w, cols, 4);
    const char *first = strstr(out.data, "\"sdc_recursive_decimal_8_3_array\": {");
    assert_non_null(first);
    assert_null(strstr(first + 1, "\"sdc_recursive_decimal_8_3_array\": {"));
    assert_non_null(strstr(out.data,
                           "\"sdc_recursive_decimal_100_38_array\": {\"type\": [\"null\", "
                           "\"number\", \"array\"], \"multipleOf\": 1e-38, "
                           "\"exclusiveMaximum\": true, \"maximum\": 1"));
    assert_non_null(strstr(out.data, "{\"sdc_recursive_integer_array\": {\"type\": [\"null\", "
                                     "\"integer\", \"array\"], \"items\": {\"$ref\": "
                                     "\"#/definitions/sdc_recursive_integer_array\"}}, "));
    assert_non_null(strstr(out.data, "\"sdc_recursive_timestamp_array\": {\"type\": [\"null\", "
                                     "\"string\", \"array\"], \"format\": \"date-time\", "));
    sl_buf_free(&out);
}

static void
test_writer_layout_and_escapes(void **state)
{
    (void)state;
    sl_buf out = SL_BUF_INIT;
    sl_jsonw w;
    sl_jsonw_init_python(&w, &out, 2);
    sl_jsonw_object_begin(&w);
    sl_jsonw_keyz(&w, "a\"\n\x01\x7f");
    sl_jsonw_array_begin(&w);
    sl_jsonw_array_end(&w);
    sl_jsonw_keyz(&w, "b");
    sl_jsonw_array_begin(&w);
    sl_jsonw_stringz(&w, "caf\xc3\xa9 \xff");
    sl_jsonw_object_begin(&w);
    sl_jsonw_object_end(&w);
    sl_jsonw_array_end(&w);
    sl_jsonw_object_end(&w);
    assert_string_equal(out.data, "{\n  \"a\\\"\\n\\u0001\x7f\": [],\n  \"b\": [\n"
                                  "    \"caf\xc3\xa9 \xef\xbf\xbd\",\n    {}\n  ]\n}");
    sl_buf_free(&out);
}

/* ---- config ---- */

static void
test_config_defaults_and_lenient_values(void **state)
{
    (void)state;
    sl_tap_config *c = NULL;
    sl_error err;
    const char *text = "{\"host\": \"h\", \"port\": \"5433\", \"user\": \"u\", \"password\": "
                       "\"p\", \"dbname\": \"d\", \"filter_schemas\": \" a ,b,, \", "
                       "\"ssl\": \"true\", \"itersize\": \"500\", \"tap_id\": null, "
                       "\"extra\": 1}";
    assert_int_equal(sl_tap_config_parse(&c, text, "cfg", &err), 0);
    assert_string_equal(c->port, "5433");
    assert_true(c->ssl);
    assert_int_equal(c->itersize, 500);
    assert_int_equal(c->max_run_seconds, 43200);
    assert_true(c->break_at_end_lsn);
    assert_false(c->debug_lsn);
    assert_null(c->tap_id);
    assert_int_equal(c->wal2json_message_format, 1);
    assert_int_equal(c->default_replication_method, SL_TAP_METHOD_UNSET);
    assert_int_equal(c->n_filter_schemas, 2);
    assert_string_equal(c->filter_schemas[0], "a");
    assert_string_equal(c->filter_schemas[1], "b");
    assert_int_equal(c->n_unknown, 1);
    assert_string_equal(c->unknown[0], "extra");
    sl_tap_config_free(c);
}

static const struct {
    const char *text;
    const char *message;
} bad_configs[] = {
    {"{\"host\": \"h\"}", "config \"cfg\": missing required keys: port, user, password, dbname"},
    {"[1]", "config \"cfg\": expected a JSON object"},
    {"{\"host\": \"h\", \"port\": 1, \"user\": \"u\", \"password\": \"pw\", \"dbname\": \"d\", "
     "\"default_replication_method\": \"LOGICAL\"}",
     "config \"cfg\": \"default_replication_method\" must be FULL_TABLE, INCREMENTAL or "
     "LOG_BASED"},
    {"{\"host\": \"h\", \"port\": 70000, \"user\": \"u\", \"password\": \"pw\", \"dbname\": \"d\"}",
     "config \"cfg\": \"port\" must be a port number"},
    {"{\"password\": topsecret}", "config \"cfg\": invalid JSON at line 1, column"},
    {"{\"host\": \"h\", \"host\": \"i\"}", "config \"cfg\": invalid JSON at line 1, column"},
};

static void
test_config_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_configs / sizeof bad_configs[0]; i++) {
        sl_tap_config *c = NULL;
        sl_error err;
        sl_error_clear(&err);
        assert_int_equal(sl_tap_config_parse(&c, bad_configs[i].text, "cfg", &err), -1);
        assert_null(c);
        assert_int_equal(err.kind, SL_E_USAGE);
        if (strncmp(err.message, bad_configs[i].message, strlen(bad_configs[i].message)) != 0)
            fail_msg("%s: got \"%s\"", bad_configs[i].text, err.message);
        assert_null(strstr(err.message, "topsecret"));
        assert_null(strstr(err.message, "top"));
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_column_mapping),
        cmocka_unit_test(test_pow10_as_python_writes_it),
        cmocka_unit_test(test_definitions_once_per_decimal),
        cmocka_unit_test(test_writer_layout_and_escapes),
        cmocka_unit_test(test_config_defaults_and_lenient_values),
        cmocka_unit_test(test_config_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
