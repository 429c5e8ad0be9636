/* Unit tests for restore/statement.c: --no-owner / --no-privileges decisions and the COPY
 * relation and FREEZE rewrite, with hostile names and literals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "restore/statement.h"

enum { KEEP = 0, OWNER = 1, PRIVS = 2 };  /* which option leaves the statement out */

static const struct {
    const char *name;
    const char *text;
    int skipped_by;
} stmts[] = {
    {"owner", "ALTER TABLE public.t OWNER TO postgres;", OWNER},
    {"owner, quoted role", "ALTER TABLE public.t OWNER TO \"Role x\";\n", OWNER},
    {"owner, role with ';' and quotes", "ALTER SCHEMA s OWNER TO \"a;\"\" OWNER TO b\";", OWNER},
    {"owner, role with a newline and a meta-command",
     "ALTER TABLE s.\"t\n\\! x\n\" OWNER TO \"own\n\\! touch c\n1\";", OWNER},
    {"owner of a function", "ALTER FUNCTION s.f(a integer, b text) OWNER TO r;", OWNER},
    {"owner of a large object", "ALTER LARGE OBJECT 16401 OWNER TO r;", OWNER},
    {"owner, lower case and blanks", "  alter table t\n  owner   to r ;\n", OWNER},
    {"owner after a block comment", "/* x */ ALTER TABLE t OWNER TO r;", OWNER},
    {"owner after nested block comments", "/* a /* b */ c */ALTER TABLE t OWNER TO r;", OWNER},
    {"an unterminated role is not a role", "ALTER TABLE t OWNER TO \"r;", KEEP},
    {"set session authorization", "SET SESSION AUTHORIZATION r;", OWNER},
    {"grant", "GRANT SELECT ON TABLE public.t TO r;", PRIVS},
    {"revoke", "REVOKE ALL ON SCHEMA public FROM PUBLIC;", PRIVS},
    {"default privileges", "ALTER DEFAULT PRIVILEGES FOR ROLE r GRANT SELECT ON TABLES TO u;",
     PRIVS},
    {"create table", "CREATE TABLE t (a int);", KEEP},
    {"a table named like the clause",
     "ALTER TABLE public.\" OWNER TO x\" ADD CONSTRAINT c CHECK ((a > 0));", KEEP},
    {"a default ending like the clause",
     "ALTER TABLE ONLY s.t ALTER COLUMN c SET DEFAULT ' OWNER TO x'::text;", KEEP},
    {"a default holding the clause and a quote",
     "ALTER TABLE ONLY s.t ALTER COLUMN c SET DEFAULT 'a'' OWNER TO x;';", KEEP},
    {"an E'' default holding the clause",
     "ALTER TABLE ONLY s.t ALTER COLUMN c SET DEFAULT E'\\' OWNER TO x';", KEEP},
    {"a dollar-quoted body ending like the clause",
     "ALTER FUNCTION f() SET search_path TO $$ OWNER TO x$$;", KEEP},
    {"a check constraint comparing with the clause",
     "ALTER TABLE ONLY t ADD CONSTRAINT k CHECK ((c <> ' OWNER TO x'::text)) NOT VALID;", KEEP},
    {"a trailing comment", "ALTER TABLE t ALTER COLUMN c SET DEFAULT 1 -- OWNER TO x\n;",
     KEEP},
    {"a trailing block comment", "ALTER TABLE t ALTER COLUMN c DROP DEFAULT /* OWNER TO x */;",
     KEEP},
    {"comment on an owner", "COMMENT ON TABLE t IS 'ALTER TABLE t OWNER TO x;';", KEEP},
    {"a quoted GRANT is a name", "\"GRANT\" SELECT;", KEEP},
    {"a function named grant_x", "SELECT grant_x();", KEEP},
    {"a literal starting like a grant", "SELECT 'GRANT SELECT ON t TO r';", KEEP},
    {"alter default of a column is not default privileges",
     "ALTER TABLE t ALTER COLUMN c SET DEFAULT 0;", KEEP},
};

static void
test_skipped(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++) {
        bool by_owner = sl_statement_skipped(stmts[i].text, true, false);
        bool by_privs = sl_statement_skipped(stmts[i].text, false, true);
        bool by_none = sl_statement_skipped(stmts[i].text, false, false);
        if (by_owner != (stmts[i].skipped_by == OWNER) ||
            by_privs != (stmts[i].skipped_by == PRIVS) || by_none)
            fail_msg("%s: skipped by --no-owner %d, --no-privileges %d, neither %d",
                     stmts[i].name, by_owner, by_privs, by_none);
    }
}

static const struct {
    const char *name;
    const char *text;
    const char *relation;  /* NULL: not a COPY */
    const char *freeze;    /* NULL: no FREEZE rewrite */
} copies[] = {
    {"plain", "COPY public.t (a, b) FROM stdin;", "public.t", "COPY public.t (a, b) FROM stdin"
     " WITH (FREEZE);"},
    {"no columns", "COPY public.t  FROM stdin;\n", "public.t",
     "COPY public.t  FROM stdin WITH (FREEZE);"},
    {"quoted names with spaces and parentheses", "COPY \"s (x)\".\"t y\" (\"a\") FROM stdin;",
     "\"s (x)\".\"t y\"", "COPY \"s (x)\".\"t y\" (\"a\") FROM stdin WITH (FREEZE);"},
    {"doubled quotes", "COPY s.\"a\"\"b\" (c) FROM stdin;", "s.\"a\"\"b\"",
     "COPY s.\"a\"\"b\" (c) FROM stdin WITH (FREEZE);"},
    {"newline and a meta-command in the name", "COPY s.\"t\n\\! id\n\" (c) FROM stdin;",
     "s.\"t\n\\! id\n\"", "COPY s.\"t\n\\! id\n\" (c) FROM stdin WITH (FREEZE);"},
    {"a name holding FROM stdin;", "COPY \"x FROM stdin;\" (c) FROM stdin;",
     "\"x FROM stdin;\"", "COPY \"x FROM stdin;\" (c) FROM stdin WITH (FREEZE);"},
    {"lower case", "copy t from stdin;", "t", "copy t from stdin WITH (FREEZE);"},
    {"unterminated quote", "COPY \"t (c) FROM stdin;", NULL, NULL},
    {"unterminated after a doubled quote", "COPY \"t\"\"", NULL, NULL},
    {"not a COPY", "CREATE TABLE copy (a int);", NULL, NULL},
    {"COPY TO", "COPY t TO stdout;", "t", NULL},
    {"FROM a file", "COPY t FROM '/tmp/x';", "t", NULL},
};

static void
test_copy(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof copies / sizeof copies[0]; i++) {
        sl_buf rel = SL_BUF_INIT, sql = SL_BUF_INIT;
        bool is_copy = sl_statement_copy_relation(copies[i].text, &rel);
        if (is_copy != (copies[i].relation != NULL) ||
            (is_copy && strcmp(rel.data, copies[i].relation) != 0))
            fail_msg("%s: relation %s, want %s", copies[i].name, is_copy ? rel.data : "none",
                     copies[i].relation ? copies[i].relation : "none");
        bool freeze = sl_statement_copy_freeze(copies[i].text, strlen(copies[i].text), &sql);
        if (freeze != (copies[i].freeze != NULL) ||
            (freeze && strcmp(sql.data, copies[i].freeze) != 0))
            fail_msg("%s: freeze %s, want %s", copies[i].name, freeze ? sql.data : "none",
                     copies[i].freeze ? copies[i].freeze : "none");
        sl_buf_free(&rel);
        sl_buf_free(&sql);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_skipped),
        cmocka_unit_test(test_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
