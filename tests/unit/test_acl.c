/* Unit tests for dump/acl.c: GRANT/REVOKE statement text and the GRANT ... ON keywords. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "dump/acl.h"

static const struct {
    const char *name;
    sl__acl_stmt stmt;
    const char *want;
} stmts[] = {
    {"revoke from PUBLIC",
     {.grant = false, .privs = "EXECUTE", .keyword = "FUNCTION", .object = "s.f(integer)",
      .grantee = "PUBLIC"},
     "REVOKE EXECUTE ON FUNCTION s.f(integer) FROM PUBLIC;\n"},
    {"grant",
     {.grant = true, .privs = "SELECT, UPDATE", .keyword = "TABLE", .object = "s.t",
      .grantee = "r"},
     "GRANT SELECT, UPDATE ON TABLE s.t TO r;\n"},
    {"grant option",
     {.grant = true, .privs = "USAGE", .keyword = "SCHEMA", .object = "\"S\"",
      .grantee = "\"R x\"", .grant_option = true},
     "GRANT USAGE ON SCHEMA \"S\" TO \"R x\" WITH GRANT OPTION;\n"},
    {"column privileges",
     {.grant = true, .privs = "SELECT (a), UPDATE (\"B\")", .keyword = "TABLE", .object = "s.t",
      .grantee = "r"},
     "GRANT SELECT (a), UPDATE (\"B\") ON TABLE s.t TO r;\n"},
    {"grantor other than the owner",
     {.grant = true, .privs = "SELECT", .keyword = "TABLE", .object = "s.v", .grantee = "b",
      .grantor = "a"},
     "SET SESSION AUTHORIZATION a;\nGRANT SELECT ON TABLE s.v TO b;\n"
     "RESET SESSION AUTHORIZATION;\n"},
    {"a revoke ignores the grantor and the grant option",
     {.grant = false, .privs = "SELECT", .keyword = "TABLE", .object = "s.v", .grantee = "b",
      .grantor = "a", .grant_option = true},
     "REVOKE SELECT ON TABLE s.v FROM b;\n"},
    {"default privileges in a schema",
     {.grant = true, .privs = "USAGE", .keyword = "SEQUENCES",
      .prefix = "FOR ROLE r IN SCHEMA s", .grantee = "u"},
     "ALTER DEFAULT PRIVILEGES FOR ROLE r IN SCHEMA s GRANT USAGE ON SEQUENCES TO u;\n"},
    {"default privileges revoked",
     {.grant = false, .privs = "EXECUTE", .keyword = "FUNCTIONS", .prefix = "FOR ROLE r",
      .grantee = "PUBLIC"},
     "ALTER DEFAULT PRIVILEGES FOR ROLE r REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;\n"},
    {"large object",
     {.grant = true, .privs = "SELECT", .keyword = "LARGE OBJECT", .object = "4242",
      .grantee = "r"},
     "GRANT SELECT ON LARGE OBJECT 4242 TO r;\n"},
};

static void
test_statements(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++) {
        sl_buf b = SL_BUF_INIT;
        sl__acl_append(&b, &stmts[i].stmt);
        if (strcmp(b.data, stmts[i].want) != 0)
            fail_msg("%s: got \"%s\", want \"%s\"", stmts[i].name, b.data, stmts[i].want);
        sl_buf_free(&b);
    }
}

static void
test_statements_accumulate(void **state)
{
    (void)state;
    sl_buf b = SL_BUF_INIT;
    sl__acl_append(&b, &stmts[0].stmt);
    sl__acl_append(&b, &stmts[1].stmt);
    assert_string_equal(b.data, "REVOKE EXECUTE ON FUNCTION s.f(integer) FROM PUBLIC;\n"
                                "GRANT SELECT, UPDATE ON TABLE s.t TO r;\n");
    sl_buf_free(&b);
}

static const struct {
    const char *type;
    const char *want;  /* NULL: no privileges */
} kinds[] = {
    {"table", "TABLE"},
    {"view", "TABLE"},
    {"materialized view", "TABLE"},
    {"foreign table", "TABLE"},
    {"sequence", "SEQUENCE"},
    {"function", "FUNCTION"},
    {"aggregate", "FUNCTION"},
    {"procedure", "PROCEDURE"},
    {"schema", "SCHEMA"},
    {"type", "TYPE"},
    {"composite type", "TYPE"},
    {"language", "LANGUAGE"},
    {"foreign-data wrapper", "FOREIGN DATA WRAPPER"},
    {"server", "FOREIGN SERVER"},
    {"large object", "LARGE OBJECT"},
    {"index", NULL},
    {"table constraint", NULL},
    {"operator", NULL},
    {"", NULL},
};

static void
test_keywords(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        const char *got = sl__acl_keyword(kinds[i].type);
        if (kinds[i].want == NULL ? got != NULL : (got == NULL || strcmp(got, kinds[i].want)))
            fail_msg("type \"%s\": got %s, want %s", kinds[i].type, got ? got : "NULL",
                     kinds[i].want ? kinds[i].want : "NULL");
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_statements),
        cmocka_unit_test(test_statements_accumulate),
        cmocka_unit_test(test_keywords),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
