/* tests/unit/test_tapcatalog.c: tap/catalog.h reads a Singer catalog as
 * pipelinewise-tap-postgres does (selected streams, replication method and key, columns and
 * their selection by singer's should_sync_field with default true); tap/state.h keeps
 * bookmarks as singer-python's bookmarks functions; tap/jsondoc.h writes numbers back as they
 * were read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/jsonw.h"
#include "tap/catalog.h"
#include "tap/jsondoc.h"
#include "tap/state.h"

/* A stream of table public.t; md is the stream metadata's extra members, cols the schema's
 * property names with their column metadata. */
#define STREAM(id, table, md, cols_md, props)                                                  \
    "{\"tap_stream_id\": \"" id "\", \"table_name\": \"" table "\", \"stream\": \"" table "\"," \
    " \"schema\": {\"type\": \"object\", \"properties\": {" props "}},"                         \
    " \"metadata\": [{\"breadcrumb\": [], \"metadata\": {\"schema-name\": \"public\"" md "}}"    \
    cols_md "]}"

static sl_tap_catalog *
parse_ok(const char *text, sl_tap_method dflt)
{
    sl_tap_catalog *c = NULL;
    sl_error err;
    sl_error_clear(&err);
    if (sl_tap_catalog_parse(&c, text, "cat.json", dflt, &err) != 0)
        fail_msg("parse failed: %s", err.message);
    return c;
}

static void
expect_error(const char *text, sl_tap_method dflt, const char *needle)
{
    sl_tap_catalog *c = NULL;
    sl_error err;
    sl_error_clear(&err);
    assert_int_equal(sl_tap_catalog_parse(&c, text, "cat.json", dflt, &err), -1);
    assert_null(c);
    assert_int_equal(err.kind, SL_E_USAGE);
    assert_non_null(strstr(err.message, "\"cat.json\""));
    if (!strstr(err.message, needle))
        fail_msg("\"%s\" not in: %s", needle, err.message);
}

static void
test_selected_streams_sorted(void **state)
{
    (void)state;
    sl_tap_catalog *c = parse_ok(
        "{\"streams\": ["
        STREAM("public-b", "b", ", \"selected\": true, \"replication-method\": \"FULL_TABLE\"",
               "", "\"x\": {}") ","
        STREAM("public-skip", "skip", ", \"selected\": false", "", "\"x\": {}") ","
        STREAM("public-none", "none", "", "", "\"x\": {}") ","
        STREAM("public-a", "a", ", \"selected\": true, \"replication-method\": \"INCREMENTAL\","
               " \"replication-key\": \"x\"", "", "\"x\": {}")
        "]}", SL_TAP_METHOD_UNSET);
    assert_int_equal(c->nstreams, 2);
    assert_string_equal(c->streams[0].tap_stream_id, "public-a");
    assert_int_equal(c->streams[0].method, SL_TAP_METHOD_INCREMENTAL);
    assert_string_equal(c->streams[0].replication_key, "x");
    assert_string_equal(c->streams[1].tap_stream_id, "public-b");
    assert_int_equal(c->streams[1].method, SL_TAP_METHOD_FULL_TABLE);
    assert_null(c->streams[1].replication_key);
    assert_string_equal(c->streams[1].schema_name, "public");
    assert_string_equal(c->streams[1].table_name, "b");
    sl_tap_catalog_free(c);
}

static void
test_column_selection(void **state)
{
    (void)state;
    sl_tap_catalog *c = parse_ok(
        "{\"streams\": ["
        STREAM("public-t", "t", ", \"selected\": true",
               ", {\"breadcrumb\": [\"properties\", \"on\"], \"metadata\": {\"selected\": true,"
               " \"inclusion\": \"available\"}}"
               ", {\"breadcrumb\": [\"properties\", \"off\"], \"metadata\": {\"selected\": false,"
               " \"inclusion\": \"available\"}}"
               ", {\"breadcrumb\": [\"properties\", \"pk\"], \"metadata\": {\"selected\": false,"
               " \"inclusion\": \"automatic\"}}"
               ", {\"breadcrumb\": [\"properties\", \"odd\"], \"metadata\": {\"selected\": true,"
               " \"inclusion\": \"unsupported\"}}",
               "\"on\": {}, \"off\": {}, \"pk\": {}, \"odd\": {}, \"bare\": {}")
        "]}", SL_TAP_METHOD_FULL_TABLE);
    const sl_tap_stream *s = &c->streams[0];
    assert_int_equal(s->method, SL_TAP_METHOD_FULL_TABLE);  /* the config's default */
    assert_int_equal(s->ncols, 5);
    static const char *const names[] = {"on", "off", "pk", "odd", "bare"};
    static const bool wanted[] = {true, false, true, false, true};
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(s->cols[i].name, names[i]);
        if (sl_tap_catalog_column_wanted(&s->cols[i], NULL) != wanted[i])
            fail_msg("column %s", names[i]);
    }
    /* the live inclusion wins over the catalog's */
    assert_false(sl_tap_catalog_column_wanted(&s->cols[0], "unsupported"));
    assert_true(sl_tap_catalog_column_wanted(&s->cols[1], "automatic"));
    assert_true(sl_tap_catalog_column_wanted(&s->cols[3], "available"));
    sl_tap_catalog_free(c);
}

static void
test_errors(void **state)
{
    (void)state;
    expect_error("{\"streams\": [", SL_TAP_METHOD_UNSET, "invalid JSON at line 1");
    expect_error("[]", SL_TAP_METHOD_UNSET, "\"streams\" array");
    expect_error("{\"streams\": [3]}", SL_TAP_METHOD_UNSET, "stream #1 is not an object");
    expect_error("{\"streams\": [" STREAM("public-t", "t", ", \"selected\": true", "", "") "]}",
                 SL_TAP_METHOD_UNSET, "\"public-t\" has no replication-method");
    expect_error("{\"streams\": [" STREAM("public-t", "t", ", \"selected\": true,"
                 " \"replication-method\": \"SOMETIMES\"", "", "") "]}",
                 SL_TAP_METHOD_UNSET, "must be FULL_TABLE, INCREMENTAL or LOG_BASED");
    expect_error("{\"streams\": [" STREAM("public-t", "t", ", \"selected\": true", "", "") "]}",
                 SL_TAP_METHOD_INCREMENTAL, "INCREMENTAL but has no replication-key");
    expect_error("{\"streams\": [{\"metadata\": [{\"breadcrumb\": [], \"metadata\":"
                 " {\"selected\": true}}]}]}", SL_TAP_METHOD_FULL_TABLE,
                 "\"#1\" has no a tap_stream_id");
    expect_error("{\"streams\": [" STREAM("public-t", "t", ", \"selected\": true", "", "") ","
                 STREAM("public-t", "t", ", \"selected\": true", "", "") "]}",
                 SL_TAP_METHOD_FULL_TABLE, "selected twice");
}

/* pipelinewise's catalogs hold integers jansson's cannot (10 ** 62): read as reals. */
static void
test_big_numbers_in_schema(void **state)
{
    (void)state;
    sl_tap_catalog *c = parse_ok(
        "{\"streams\": [" STREAM("public-t", "t", ", \"selected\": true", "",
                                 "\"n\": {\"maximum\": 100000000000000000000000000000000000000"
                                 "00000000000000000000000, \"multipleOf\": 1e-38}") "]}",
        SL_TAP_METHOD_FULL_TABLE);
    assert_int_equal(c->streams[0].ncols, 1);
    sl_tap_catalog_free(c);
}

static char *
state_text(const sl_tap_state *st)
{
    sl_buf out = SL_BUF_INIT;
    sl_jsonw w;
    sl_jsonw_init(&w, &out);
    sl_tap_state_write(st, &w);
    return sl_buf_steal(&out);
}

static void
test_state_bookmarks(void **state)
{
    (void)state;
    sl_tap_state *st = NULL;
    sl_error err;
    sl_error_clear(&err);
    assert_int_equal(sl_tap_state_parse(&st, "{\"bookmarks\": {\"s-a\": {\"version\": 17,"
                                             " \"xmin\": 5}}, \"currently_syncing\": \"s-a\","
                                             " \"other\": [0.1, 1e-05, 1e+16]}", "st", &err), 0);
    assert_string_equal(sl_tap_state_currently_syncing(st), "s-a");
    assert_false(sl_tap_state_missing(st, "s-a", "xmin"));
    sl_tap_state_set(st, "s-a", "xmin", json_null());   /* stays, as null */
    assert_true(sl_tap_state_missing(st, "s-a", "xmin"));
    assert_non_null(sl_tap_state_get(st, "s-a", "xmin"));
    sl_tap_state_set(st, "s-b", "version", json_integer(3));
    sl_tap_state_set_currently_syncing(st, NULL);
    char *text = state_text(st);
    assert_string_equal(text, "{\"bookmarks\":{\"s-a\":{\"version\":17,\"xmin\":null},"
                              "\"s-b\":{\"version\":3}},\"currently_syncing\":null,"
                              "\"other\":[0.1,1e-05,1e+16]}");
    free(text);
    sl_tap_state_reset(st, "s-a");
    assert_null(sl_tap_state_get(st, "s-a", "version"));
    text = state_text(st);
    assert_non_null(strstr(text, "\"s-a\":{}"));
    free(text);
    sl_tap_state_free(st);
}

static void
test_state_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *needle;
    } bad[] = {
        {"", "invalid JSON"},
        {"[1]", "expected a JSON object"},
        {"{\"bookmarks\": []}", "\"bookmarks\" must be an object"},
        {"{\"bookmarks\": {\"s\": 1}}", "the bookmark of stream \"s\" must be an object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sl_tap_state *st = NULL;
        sl_error err;
        sl_error_clear(&err);
        assert_int_equal(sl_tap_state_parse(&st, bad[i].text, "my.state", &err), -1);
        assert_null(st);
        assert_int_equal(err.kind, SL_E_USAGE);
        assert_non_null(strstr(err.message, "\"my.state\""));
        if (!strstr(err.message, bad[i].needle))
            fail_msg("\"%s\" not in: %s", bad[i].needle, err.message);
    }
}

static void
test_real_shortest(void **state)
{
    (void)state;
    static const struct {
        double d;
        const char *text;
    } cases[] = {{0.1, "0.1"}, {1.5, "1.5"}, {100.0, "100.0"}, {1e-05, "1e-05"},
                 {0.0001, "0.0001"}, {-2.5e-07, "-2.5e-07"}, {1e16, "1e+16"},
                 {1.25e15, "1250000000000000.0"}, {123456.789, "123456.789"},
                 {0.30000000000000004, "0.30000000000000004"}, {0.0, "0.0"},
                 {1.7976931348623157e308, "1.7976931348623157e+308"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_buf out = SL_BUF_INIT;
        sl_tap_jsondoc_real(&out, cases[i].d);
        assert_string_equal(out.data, cases[i].text);
        sl_buf_free(&out);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selected_streams_sorted),
        cmocka_unit_test(test_column_selection),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_big_numbers_in_schema),
        cmocka_unit_test(test_state_bookmarks),
        cmocka_unit_test(test_state_errors),
        cmocka_unit_test(test_real_shortest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
