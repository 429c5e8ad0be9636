/* Unit tests for restore/toc.c on archives pg_dump 15 wrote (tests/unit/data/pgarchive): what
 * a restore takes with each selection, in which pass, and the database options --create
 * takes from the DATABASE entry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "io/pgarchive.h"
#include "restore/toc.h"

#define DATA_DIR SL_TEST_DATA "/pgarchive"

static sl_pgarchive *
open_fixture(const char *name)
{
    sl_pgarchive *a = NULL;
    sl_error err;
    sl_error_clear(&err);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", DATA_DIR, name);
    assert_int_equal(sl_pgarchive_open(&a, path, &err), 0);
    return a;
}

static const sl_toc_item *
find_item(const sl_toc_plan *p, const char *desc)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->items[i].e->desc, desc) == 0)
            return &p->items[i];
    return NULL;
}

static void
test_everything(void **state)
{
    (void)state;
    sl_pgarchive *a = open_fixture("gzip.dump");
    sl_toc_opts o = {0};
    sl_toc_plan p;
    sl_error err;
    sl_error_clear(&err);
    assert_int_equal(sl_toc_plan_make(a, &o, &p, &err), 0);
    /* session entries go to the preamble, the database's own to restore --create */
    assert_null(find_item(&p, "ENCODING"));
    assert_null(find_item(&p, "DATABASE"));
    assert_non_null(strstr(p.preamble.data, "SET client_encoding = "));
    assert_non_null(strstr(p.preamble.data, "set_config('search_path', '', false)"));
    const sl_toc_item *data = find_item(&p, "TABLE DATA");
    assert_non_null(data);
    assert_true(data->data);
    assert_int_equal(data->section, SL_PGARCHIVE_SECTION_DATA);
    const sl_toc_item *table = find_item(&p, "TABLE");
    assert_non_null(table);
    assert_true(table->schema && !table->data);
    assert_non_null(find_item(&p, "BLOBS"));
    /* ENCODING, then LOCALE_PROVIDER and LOCALE (or LC_*), from the DATABASE entry */
    assert_non_null(p.create_with);
    assert_string_equal(p.create_with[0], "ENCODING");
    assert_string_equal(p.create_with[1], "UTF8");
    for (size_t i = 0; p.create_with[i]; i += 2)
        assert_string_not_equal(p.create_with[i], "TEMPLATE");
    sl_toc_plan_free(&p);
    sl_pgarchive_close(a);
}

static void
test_schema_and_data_only(void **state)
{
    (void)state;
    sl_pgarchive *a = open_fixture("none.dump");
    sl_error err;
    sl_error_clear(&err);
    sl_toc_plan p;
    sl_toc_opts schema = {.schema_only = true};
    assert_int_equal(sl_toc_plan_make(a, &schema, &p, &err), 0);
    assert_null(find_item(&p, "TABLE DATA"));
    assert_null(find_item(&p, "BLOBS"));
    assert_non_null(find_item(&p, "TABLE"));
    sl_toc_plan_free(&p);
    sl_toc_opts data = {.data_only = true};
    assert_int_equal(sl_toc_plan_make(a, &data, &p, &err), 0);
    assert_null(find_item(&p, "TABLE"));
    assert_non_null(find_item(&p, "TABLE DATA"));
    assert_non_null(find_item(&p, "BLOBS"));
    sl_toc_plan_free(&p);
    sl_pgarchive_close(a);
}

static void
test_table_pattern(void **state)
{
    (void)state;
    sl_pgarchive *a = open_fixture("none.dump");
    sl_error err;
    sl_error_clear(&err);
    const sl_toc_item *data = NULL;
    sl_toc_plan all;
    sl_toc_opts none = {0};
    assert_int_equal(sl_toc_plan_make(a, &none, &all, &err), 0);
    data = find_item(&all, "TABLE DATA");
    assert_non_null(data);
    char pattern[300];
    snprintf(pattern, sizeof pattern, "%s.%s", data->e->namespace_, data->e->tag);
    const char *const tables[] = {pattern, NULL};
    sl_toc_opts o = {.tables = tables};
    sl_toc_plan p;
    assert_int_equal(sl_toc_plan_make(a, &o, &p, &err), 0);
    /* only the table and its rows: no schema, no large objects, no index */
    for (size_t i = 0; i < p.n; i++) {
        const char *desc = p.items[i].e->desc;
        assert_true(strcmp(desc, "TABLE") == 0 || strcmp(desc, "TABLE DATA") == 0 ||
                    strcmp(desc, "COMMENT") == 0 || strcmp(desc, "ACL") == 0);
        if (strcmp(desc, "TABLE") == 0 || strcmp(desc, "TABLE DATA") == 0)
            assert_string_equal(p.items[i].e->tag, data->e->tag);
    }
    assert_non_null(find_item(&p, "TABLE DATA"));
    sl_toc_plan_free(&p);
    const char *const nothing[] = {"no_such_table_*", NULL};
    o.tables = nothing;
    assert_int_equal(sl_toc_plan_make(a, &o, &p, &err), 0);
    assert_int_equal(p.n, 0);
    sl_toc_plan_free(&p);
    const char *const bad[] = {"a.b.c.d", NULL};
    o.tables = bad;
    assert_int_equal(sl_toc_plan_make(a, &o, &p, &err), -1);
    assert_int_equal(err.kind, SL_E_USAGE);
    sl_toc_plan_free(&all);
    sl_pgarchive_close(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_everything),
        cmocka_unit_test(test_schema_and_data_only),
        cmocka_unit_test(test_table_pattern),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
