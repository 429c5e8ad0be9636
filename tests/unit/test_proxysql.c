/* Unit tests for proxy/sql and proxy/sqlscan: each case is one query string and what the
 * analysis must say about it: the kind, whether it is cacheable, the tables it reads and writes
 * (sorted, "schema.name" or "name"), writes_unknown, and a piece of the reason. Hostile inputs
 * (a write after a SELECT, a data-modifying CTE, FOR UPDATE in a subquery, 1 MB and deeply
 * nested strings) are cases like the others. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/sql.h"
#include "proxy/sqlscan.h"
#include "proxy/sqltree.h"

#define C SL_SQL_CACHEABLE_SELECT
#define R SL_SQL_READ_UNCACHEABLE
#define W SL_SQL_WRITE
#define D SL_SQL_DDL
#define T SL_SQL_TRANSACTION
#define S SL_SQL_SESSION_SET
#define U SL_SQL_SESSION_UNMODELLED
#define O SL_SQL_OTHER

typedef struct {
    const char *name;
    const char *sql;
    sl_sql_kind kind;
    const char *reads;    /* NULL: not checked */
    const char *writes;   /* NULL: not checked */
    int writes_unknown;   /* -1: not checked */
    const char *reason;   /* NULL: not checked; else a substring of the reason */
} sql_case;

static const sql_case cases[] = {
    /* cacheable */
    {"plain select", "SELECT a, b FROM t WHERE a = 1", C, "t", "", 0, NULL},
    {"qualified table", "SELECT * FROM s.t", C, "s.t", "", 0, NULL},
    {"mixed case quoted name kept", "SELECT * FROM \"MySchema\".\"MyTable\"", C,
     "MySchema.MyTable", "", 0, NULL},
    {"unquoted name folded", "SELECT * FROM MySchema.MyTable", C, "myschema.mytable", "", 0,
     NULL},
    {"quote inside a quoted name", "SELECT * FROM \"A\"\"B\"", C, "A\"B", "", 0, NULL},
    {"unicode escaped name", "SELECT * FROM U&\"t\\0061\"", C, "ta", "", 0, NULL},
    {"long name truncated to 63 bytes as the server does",
     "SELECT * FROM aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     C, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaa",
     "", 0, NULL},
    {"values", "VALUES (1, 'a'), (2, 'b')", C, "", "", 0, NULL},
    {"table statement", "TABLE t", C, "t", "", 0, NULL},
    {"set operation", "SELECT a FROM t UNION SELECT a FROM u EXCEPT SELECT 1", C, "t,u", "", 0,
     NULL},
    {"join and subquery", "SELECT * FROM t JOIN u ON t.id = u.id WHERE x IN (SELECT x FROM v)",
     C, "t,u,v", "", 0, NULL},
    {"parameters", "SELECT * FROM t WHERE a = $1 AND b > $2", C, "t", "", 0, NULL},
    {"read-only cte is not a table", "WITH x AS (SELECT * FROM t) SELECT * FROM x", C, "t", "",
     0, NULL},
    {"cte body sees only earlier ctes", "WITH t AS (SELECT * FROM t) SELECT * FROM t", C, "t",
     "", 0, NULL},
    {"recursive cte", "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r "
     "WHERE n < 5) SELECT * FROM r", C, "", "", 0, NULL},
    {"cte scope ends with its query", "SELECT * FROM (WITH x AS (SELECT 1) SELECT * FROM x) a, x",
     C, "x", "", 0, NULL},
    {"qualified name is never a cte", "WITH t AS (SELECT 1) SELECT * FROM public.t", C,
     "public.t", "", 0, NULL},
    {"immutable functions and aggregates",
     "SELECT lower(a), count(*), sum(b), coalesce(c, 0), greatest(d, 1), abs(-e) FROM t "
     "GROUP BY 1", C, "t", "", 0, NULL},
    {"window function", "SELECT row_number() OVER (PARTITION BY a ORDER BY b) FROM t", C, "t",
     "", 0, NULL},
    {"pg_catalog qualified function", "SELECT pg_catalog.upper(a) FROM t", C, "t", "", 0, NULL},
    {"sql syntax functions", "SELECT substring(a FROM 1 FOR 2), trim(b), position('x' IN c), "
     "extract(year FROM d) FROM t", C, "t", "", 0, NULL},
    {"casts to immutable types", "SELECT a::int, b::text, '1'::numeric, CAST(c AS bigint) FROM t",
     C, "t", "", 0, NULL},
    {"date literal", "SELECT * FROM t WHERE d > '2024-01-01'::date", C, "t", "", 0, NULL},
    {"date parameter", "SELECT * FROM t WHERE d > $1::timestamptz", C, "t", "", 0, NULL},
    {"case, like, in, between, is null",
     "SELECT CASE WHEN a LIKE 'x%' THEN 1 ELSE 2 END FROM t WHERE b IN (1, 2) "
     "AND c BETWEEN 1 AND 5 AND d IS NOT NULL", C, "t", "", 0, NULL},
    {"json operators", "SELECT j->'a', j->>'b', j @> '{}' FROM t", C, "t", "", 0, NULL},
    {"limit offset order", "SELECT * FROM t ORDER BY a DESC LIMIT 10 OFFSET 5", C, "t", "", 0,
     NULL},
    {"word containing now is no clock word", "SELECT * FROM t WHERE name = 'snow'", C, "t", "",
     0, NULL},
    {"comment and trailing semicolon", "/* hello */ SELECT 1; ", C, "", "", 0, NULL},

    /* reads, not cacheable */
    {"now()", "SELECT now()", R, "", "", 0, "now()"},
    {"random()", "SELECT random() FROM t", R, "t", "", 0, "random()"},
    {"nextval", "SELECT nextval('s')", R, "", "", 0, "nextval()"},
    {"currval", "SELECT currval('s')", R, "", "", 0, "currval()"},
    {"current_setting", "SELECT current_setting('search_path')", R, "", "", 0,
     "current_setting"},
    {"pg_sleep", "SELECT pg_sleep(1)", R, "", "", 0, "pg_sleep"},
    {"txid_current", "SELECT txid_current()", R, "", "", 0, "txid_current"},
    {"clock_timestamp", "SELECT clock_timestamp()", R, "", "", 0, "clock_timestamp"},
    {"current_timestamp", "SELECT current_timestamp", R, "", "", 0, "CURRENT_DATE"},
    {"current_date", "SELECT * FROM t WHERE d = CURRENT_DATE", R, "t", "", 0, "CURRENT_DATE"},
    {"current_user", "SELECT current_user", R, "", "", 0, "CURRENT_USER"},
    {"session_user", "SELECT session_user", R, "", "", 0, "CURRENT_USER"},
    {"user-defined function", "SELECT my_func(a) FROM t", R, "t", "", 1, "my_func()"},
    {"schema-qualified function", "SELECT app.f() FROM t", R, "t", "", 1, "app.f()"},
    {"pg_catalog cannot make now() immutable", "SELECT pg_catalog.now()", R, "", "", 0,
     "now()"},
    {"volatile function deep in a subquery",
     "SELECT * FROM t WHERE a IN (SELECT b FROM u WHERE c < random())", R, "t,u", "", 0,
     "random()"},
    {"for update", "SELECT * FROM t FOR UPDATE", R, "t", "", 0, "FOR UPDATE"},
    {"for share", "SELECT * FROM t FOR SHARE", R, "t", "", 0, "FOR UPDATE"},
    {"for no key update", "SELECT * FROM t FOR NO KEY UPDATE", R, "t", "", 0, "FOR UPDATE"},
    {"for key share", "SELECT * FROM t FOR KEY SHARE", R, "t", "", 0, "FOR UPDATE"},
    {"for update in a subquery", "SELECT * FROM (SELECT * FROM t FOR UPDATE) s", R, "t", "", 0,
     "FOR UPDATE"},
    {"for update in a cte", "WITH x AS (SELECT * FROM t FOR UPDATE) SELECT * FROM x", R, "t",
     "", 0, "FOR UPDATE"},
    {"system catalog", "SELECT * FROM pg_catalog.pg_class", R, "pg_catalog.pg_class", "", 0,
     "system catalog"},
    {"unqualified pg_ name", "SELECT * FROM pg_stat_activity", R, "pg_stat_activity", "", 0,
     "system catalog"},
    {"information_schema", "SELECT * FROM information_schema.tables", R,
     "information_schema.tables", "", 0, "system catalog"},
    {"temporary schema", "SELECT * FROM pg_temp.t", R, "pg_temp.t", "", 0, "temporary"},
    {"numbered temporary schema", "SELECT * FROM pg_temp_3.t", R, "pg_temp_3.t", "", 0,
     "temporary"},
    {"explain", "EXPLAIN SELECT * FROM t", R, "t", "", 0, "EXPLAIN"},
    {"two selects", "SELECT 1; SELECT 2", R, "", "", 0, "several statements"},
    {"today literal", "SELECT * FROM t WHERE d > 'today'", R, "t", "", 0, "clock"},
    {"now literal cast", "SELECT 'NOW'::timestamptz", R, "", "", 0, "clock"},
    {"tomorrow with a time", "SELECT * FROM t WHERE ts < 'tomorrow 10:00'", R, "t", "", 0,
     "clock"},
    {"cast of a column to a date type", "SELECT a::date FROM t", R, "t", "", 0, "casts"},
    {"cast to regclass", "SELECT 't'::regclass", R, "", "", 0, "regclass"},
    {"user-defined operator", "SELECT * FROM t WHERE a === b", R, "t", "", 0, "==="},
    {"text search match reads default_text_search_config", "SELECT * FROM t WHERE d @@ 'x'",
     R, "t", "", 0, "@@"},
    {"operator outside pg_catalog", "SELECT 1 OPERATOR(app.+) 2", R, "", "", 0, "operator"},
    {"tablesample", "SELECT * FROM t TABLESAMPLE SYSTEM (10)", R, "t", "", 0, "RangeTableSample"},
    {"cursor", "DECLARE c CURSOR FOR SELECT * FROM t", R, "t", "", 0, "CURSOR"},
    {"copy to", "COPY t TO STDOUT", R, "t", "", 0, "COPY"},

    /* writes */
    {"select then delete", "SELECT 1; DELETE FROM t", W, "", "t", 0, "several statements"},
    {"insert", "INSERT INTO s.t (a) VALUES (1)", W, "", "s.t", 0, "modifies"},
    {"insert select", "INSERT INTO t SELECT * FROM u", W, "u", "t", 0, NULL},
    {"update from", "UPDATE t SET a = u.a FROM u WHERE t.id = u.id", W, "u", "t", 0, NULL},
    {"delete using", "DELETE FROM t USING u WHERE t.id = u.id", W, "u", "t", 0, NULL},
    {"merge", "MERGE INTO t USING u ON t.id = u.id WHEN MATCHED THEN UPDATE SET a = u.a", W, "u",
     "t", 0, NULL},
    {"upsert", "INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET a = excluded.a", W, "",
     "t", 0, NULL},
    {"delete in a cte", "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", W, "", "t", 0,
     "modifies"},
    {"update in a nested cte",
     "SELECT * FROM (WITH u AS (UPDATE s.t SET a = 1 RETURNING a) SELECT * FROM u) x", W, "",
     "s.t", 0, NULL},
    {"insert target named like a cte", "WITH t AS (SELECT 1) INSERT INTO t VALUES (1)", W, "",
     "t", 0, NULL},
    {"truncate", "TRUNCATE a, s.b", W, "", "a,s.b", 0, NULL},
    {"truncate cascade", "TRUNCATE a CASCADE", W, "", "a", 1, NULL},
    {"copy from", "COPY t FROM STDIN", W, "", "t", 0, NULL},
    {"copy of an insert", "COPY (INSERT INTO t VALUES (1) RETURNING *) TO STDOUT", W, "", "t", 0,
     NULL},
    {"refresh materialized view", "REFRESH MATERIALIZED VIEW mv", W, "", "mv", 0, NULL},
    {"do block", "DO $$ BEGIN DELETE FROM t; END $$", W, "", "", 1, "DO"},
    {"call", "CALL p(1)", W, "", "", 1, "CALL"},
    {"user function in an insert", "INSERT INTO t VALUES (f())", W, "", "t", 1, NULL},
    {"explain analyze of a delete", "EXPLAIN ANALYZE DELETE FROM t", W, "", "t", 0, NULL},
    {"copy from a program", "COPY t FROM PROGRAM 'cat x'", W, "", "t", 0, NULL},

    /* ddl */
    {"create table", "CREATE TABLE s.t (a int)", D, "", "s.t", 0, NULL},
    {"create partition", "CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1)", D, "", "p,p1", 0,
     NULL},
    {"select into", "SELECT * INTO n FROM t", D, "t", "n", 0, NULL},
    {"create table as", "CREATE TABLE n AS SELECT * FROM t", D, "t", "n", 0, NULL},
    {"create view", "CREATE OR REPLACE VIEW v AS SELECT * FROM t", D, "", "v", 0, NULL},
    {"create materialized view", "CREATE MATERIALIZED VIEW mv AS SELECT * FROM t", D, "t", "mv",
     0, NULL},
    {"alter table", "ALTER TABLE t ADD COLUMN b int", D, "", "t", 0, NULL},
    {"drop tables", "DROP TABLE a, s.b", D, "", "a,s.b", 0, NULL},
    {"drop view cascade", "DROP VIEW v CASCADE", D, "", "", 1, NULL},
    {"drop function", "DROP FUNCTION f()", D, "", "", 1, NULL},
    {"rename table", "ALTER TABLE s.a RENAME TO b", D, "", "s.a,s.b", 0, NULL},
    {"rename column", "ALTER TABLE t RENAME COLUMN a TO b", D, "", "t", 0, NULL},
    {"rename schema", "ALTER SCHEMA s RENAME TO s2", D, "", "", 1, NULL},
    {"set schema", "ALTER TABLE a SET SCHEMA s", D, "", "a,s.a", 0, NULL},
    {"grant on table", "GRANT SELECT ON t TO r", D, "", "t", 0, NULL},
    {"grant role", "GRANT r1 TO r2", D, "", "", 1, NULL},
    {"create policy", "CREATE POLICY p ON t USING (true)", D, "", "t", 0, NULL},
    {"create function", "CREATE FUNCTION f() RETURNS int AS 'SELECT 1' LANGUAGE sql", D, "", "",
     1, NULL},
    {"create schema", "CREATE SCHEMA s", D, "", "", 1, NULL},

    /* transaction control */
    {"begin", "BEGIN", T, "", "", 0, NULL},
    {"start transaction", "START TRANSACTION ISOLATION LEVEL SERIALIZABLE", T, "", "", 0, NULL},
    {"commit", "COMMIT", T, "", "", 0, NULL},
    {"rollback", "ROLLBACK", T, "", "", 0, NULL},
    {"savepoint", "SAVEPOINT a", T, "", "", 0, NULL},
    {"rollback to", "ROLLBACK TO SAVEPOINT a", T, "", "", 0, NULL},
    {"prepare transaction", "PREPARE TRANSACTION 'x'", T, "", "", 0, NULL},
    {"commit prepared", "COMMIT PREPARED 'x'", T, "", "", 1, NULL},

    /* session */
    {"set search_path", "SET search_path = a, b", S, "", "", 0, NULL},
    {"reset", "RESET TimeZone", S, "", "", 0, NULL},
    {"set local", "SET LOCAL search_path = a", U, "", "", 0, "SET LOCAL"},
    {"set role", "SET ROLE r", U, "", "", 0, "role"},
    {"reset role", "RESET ROLE", U, "", "", 0, "role"},
    {"set session authorization", "SET SESSION AUTHORIZATION r", U, "", "", 0,
     "session_authorization"},
    {"reset all", "RESET ALL", U, "", "", 0, "RESET ALL"},
    {"discard", "DISCARD ALL", U, "", "", 0, "DISCARD"},
    {"set from current", "SET search_path FROM CURRENT", U, "", "", 0, "FROM CURRENT"},
    {"set_config", "SELECT set_config('search_path', 'x', false)", U, "", "", 0, "set_config"},
    {"create temp table", "CREATE TEMP TABLE x (a int)", U, "", "", 0, "temporary table"},
    {"create table in pg_temp", "CREATE TABLE pg_temp.x (a int)", U, "", "", 0, "temporary"},
    {"create temp view", "CREATE TEMP VIEW v AS SELECT 1", U, "", "", 0, "temporary view"},
    {"select into temp", "SELECT * INTO TEMP x FROM t", U, "t", "", 0, "temporary"},
    {"create temp table as", "CREATE TEMP TABLE x AS SELECT 1", U, "", "", 0, "temporary"},
    {"set and delete", "SET ROLE r; DELETE FROM t", U, "", "t", 0, NULL},
    {"qualified set_config", "SELECT pg_catalog.set_config('role', 'r', false)", U, "", "", 0,
     "set_config"},
    {"set_config inside an insert", "INSERT INTO t SELECT set_config('a.b', 'c', false)", U, "",
     "t", 0, "set_config"},
    {"set_config in a copy", "COPY (SELECT set_config('a.b', 'c', false)) TO STDOUT", U, "",
     "", 0, "set_config"},
    {"create temp sequence", "CREATE TEMP SEQUENCE s", U, "", "", 0, "temporary sequence"},

    /* other */
    {"show", "SHOW search_path", O, "", "", 0, NULL},
    {"listen", "LISTEN ch", O, "", "", 0, NULL},
    {"notify", "NOTIFY ch, 'x'", O, "", "", 0, NULL},
    {"vacuum", "VACUUM t", O, "", "", 0, NULL},
    {"lock", "LOCK TABLE t IN ACCESS EXCLUSIVE MODE", O, "", "", 0, NULL},
    {"prepare", "PREPARE p AS DELETE FROM t", O, "", "", 0, NULL},
    {"set transaction", "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", O, "", "", 0, NULL},
    {"execute", "EXECUTE p(1)", O, "", "", 1, "EXECUTE"},
    {"empty string", "", O, "", "", 0, "no statement"},
    {"comment only", "-- nothing", O, "", "", 0, "no statement"},
    {"parse error", "SELEC 1", O, "", "", 1, "does not parse"},
    {"unterminated string", "SELECT 'abc", O, "", "", 1, "does not parse"},
};

/* "a,s.b": the names sorted, each "schema.name" or "name". */
static char *
names_text(const sl_sql_name *names, size_t n)
{
    char **items = calloc(n + 1, sizeof *items);
    size_t total = 1;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(names[i].name) + (names[i].schema ? strlen(names[i].schema) + 1 : 0);
        items[i] = malloc(len + 1);
        snprintf(items[i], len + 1, "%s%s%s", names[i].schema ? names[i].schema : "",
                 names[i].schema ? "." : "", names[i].name);
        total += len + 1;
    }
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(items[j - 1], items[j]) > 0; j--) {
            char *t = items[j];
            items[j] = items[j - 1];
            items[j - 1] = t;
        }
    char *out = calloc(total, 1);
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(out, ",");
        strcat(out, items[i]);
        free(items[i]);
    }
    free(items);
    return out;
}

static sl_sql_analysis *
analyze(const char *sql)
{
    sl_sql_analysis *a = NULL;
    sl_error err;
    sl_error_clear(&err);
    if (sl_sql_analyze(sql, NULL, &a, &err) != 0)
        fail_msg("analyze failed: %s", err.message);
    return a;
}

static void
test_cases(void **state)
{
    (void)state;
    size_t failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const sql_case *c = &cases[i];
        sl_sql_analysis *a = analyze(c->sql);
        char *reads = names_text(a->reads, a->n_reads);
        char *writes = names_text(a->writes, a->n_writes);
        bool ok = a->kind == c->kind && a->cacheable == (c->kind == C)
                  && (!c->reads || strcmp(reads, c->reads) == 0)
                  && (!c->writes || strcmp(writes, c->writes) == 0)
                  && (c->writes_unknown < 0 || a->writes_unknown == (c->writes_unknown != 0))
                  && (!c->reason || strstr(a->reason, c->reason))
                  && (c->kind == C) == (a->reason[0] == '\0');
        if (!ok) {
            print_error("%s: kind %s cacheable %d reads [%s] writes [%s] writes_unknown %d "
                        "reason \"%s\"\n",
                        c->name, sl_sql_kind_name(a->kind), a->cacheable, reads, writes,
                        a->writes_unknown, a->reason);
            failed++;
        }
        free(reads);
        free(writes);
        sl_sql_analysis_free(a);
    }
    assert_int_equal(failed, 0);
}

static void
test_set_values(void **state)
{
    (void)state;
    static const struct {
        const char *sql, *name, *value;
        bool reset;
    } sets[] = {
        {"SET search_path = a, b", "search_path", "'a', 'b'", false},
        {"SET search_path = 'a, b'", "search_path", "'a, b'", false},
        {"SET search_path TO \"MixedCase\", public", "search_path", "'MixedCase', 'public'",
         false},
        {"SET TIME ZONE 'Europe/Paris'", "timezone", "'Europe/Paris'", false},
        {"SET extra_float_digits = 3", "extra_float_digits", "3", false},
        {"SET extra_float_digits = 0", "extra_float_digits", "0", false},
        /* libpg_query prints these two as it prints 0: the value comes from the text */
        {"SET extra_float_digits = -3", "extra_float_digits", "-3", false},
        {"select 1; SET extra_float_digits TO -  2", "extra_float_digits", "-2", false},
        {"SET statement_timeout = -1.5", "statement_timeout", "-1.5", false},
        {"SET statement_timeout = 1.5", "statement_timeout", "1.5", false},
        {"SET application_name = 'it''s'", "application_name", "'it''s'", false},
        {"SET NAMES 'UTF8'", "client_encoding", "'UTF8'", false},
        {"SET SESSION DateStyle = ISO, MDY", "datestyle", "'iso', 'mdy'", false},
        {"SET search_path TO DEFAULT", "search_path", NULL, true},
        {"RESET search_path", "search_path", NULL, true},
    };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        sl_sql_analysis *a = analyze(sets[i].sql);
        const sl_sql_stmt *st = &a->stmts[a->n_stmts - 1];
        if (st->kind != SL_SQL_SESSION_SET || !st->set_name
            || strcmp(st->set_name, sets[i].name) != 0 || st->set_reset != sets[i].reset
            || (sets[i].value ? !st->set_value || strcmp(st->set_value, sets[i].value) != 0
                              : st->set_value != NULL))
            fail_msg("%s: kind %s name %s value %s reset %d", sets[i].sql,
                     sl_sql_kind_name(st->kind), st->set_name ? st->set_name : "(null)",
                     st->set_value ? st->set_value : "(null)", st->set_reset);
        sl_sql_analysis_free(a);
    }
}

static void
test_statement_ranges_and_transactions(void **state)
{
    (void)state;
    const char *sql = "BEGIN; SELECT 1;COMMIT AND CHAIN ;  ROLLBACK TO a";
    sl_sql_analysis *a = analyze(sql);
    assert_int_equal(a->n_stmts, 4);
    assert_int_equal(a->kind, SL_SQL_TRANSACTION);
    assert_int_equal(a->stmts[0].txn, SL_SQL_TXN_BEGIN);
    assert_int_equal(a->stmts[1].kind, SL_SQL_CACHEABLE_SELECT);
    assert_int_equal(a->stmts[2].txn, SL_SQL_TXN_COMMIT);
    assert_true(a->stmts[2].txn_chain);
    assert_int_equal(a->stmts[3].txn, SL_SQL_TXN_ROLLBACK_TO);
    assert_false(a->cacheable);
    assert_memory_equal(sql + a->stmts[0].offset, "BEGIN", 5);
    assert_int_equal(a->stmts[0].len, 5);
    assert_memory_equal(sql + a->stmts[1].offset, " SELECT 1", 9);
    assert_int_equal(a->stmts[3].offset + a->stmts[3].len, (int)strlen(sql));
    sl_sql_analysis_free(a);
}

static void
test_unknown_functions_listed(void **state)
{
    (void)state;
    sl_sql_analysis *a = analyze("SELECT f(a), app.g(), f(b), lower(c), now() FROM t");
    char *funcs = names_text(a->funcs, a->n_funcs);
    assert_string_equal(funcs, "app.g,f");
    assert_true(a->writes_unknown);
    assert_true(a->settings_unknown);
    assert_false(a->session_unmodelled);
    free(funcs);
    sl_sql_analysis_free(a);
}

/* With standard_conforming_strings off the server reads a backslash in '...' as an escape:
 * a string the parser sees as one SELECT can be a SELECT and a DELETE to the server. */
static void
test_non_standard_strings(void **state)
{
    (void)state;
    const char *hostile = "SELECT 'x\\'; --'; DELETE FROM t";
    sl_sql_analysis *a = NULL;
    sl_error err;
    assert_int_equal(sl_sql_analyze(hostile, NULL, &a, &err), 0);
    assert_true(a->cacheable); /* what the parser, with standard strings, sees */
    sl_sql_analysis_free(a);
    assert_int_equal(
        sl_sql_analyze(hostile, SL_SQL_OPTS(.non_standard_strings = true), &a, &err), 0);
    assert_false(a->cacheable);
    assert_true(a->writes_unknown);
    assert_true(a->settings_unknown);
    assert_non_null(strstr(a->reason, "standard_conforming_strings"));
    sl_sql_analysis_free(a);
    assert_int_equal(sl_sql_analyze("SELECT 'it''s' FROM t",
                                    SL_SQL_OPTS(.non_standard_strings = true), &a, &err),
                     0);
    assert_true(a->cacheable); /* no backslash: both read it alike */
    sl_sql_analysis_free(a);
}

/* A 1 MB query: a wide IN list parses and stays cacheable; a 1 MB chain of + is refused
 * before libpg_query recurses into it (100 000 terms overflowed an 8 MB stack). */
static void
test_large_and_deep(void **state)
{
    (void)state;
    size_t n = 1 << 20;
    char *sql = malloc(n + 64), *p = sql;
    p += sprintf(p, "SELECT * FROM t WHERE a IN (1");
    while ((size_t)(p - sql) < n)
        p += sprintf(p, ",1");
    strcpy(p, ")");
    sl_sql_analysis *a = analyze(sql);
    assert_true(a->cacheable);
    sl_sql_analysis_free(a);

    p = sql + sprintf(sql, "SELECT 1");
    while ((size_t)(p - sql) < n)
        p += sprintf(p, "+1");
    a = analyze(sql);
    assert_false(a->cacheable);
    assert_true(a->writes_unknown);
    assert_non_null(strstr(a->reason, "nested too deeply"));
    sl_sql_analysis_free(a);

    static const char *const shapes[][3] = {
        {"SELECT ", "(", ")"},
        {"SELECT ", "(SELECT ", ")"},
        {"SELECT ", "ARRAY[", "]"},
        {"SELECT ", "NOT ", ""},
        {"SELECT 1", "", "::int"},
        {"SELECT * FROM t WHERE ", "a = 1 AND ", ""},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (size_t depth = 10; depth <= 100000; depth *= 10) {
            p = sql + sprintf(sql, "%s", shapes[s][0]);
            for (size_t i = 0; i < depth && (size_t)(p - sql) < n / 2; i++)
                p += sprintf(p, "%s", shapes[s][1]);
            p += sprintf(p, "%s", strcmp(shapes[s][1], "a = 1 AND ") == 0 ? "true" : "1");
            for (size_t i = 0; i < depth && (size_t)(p - sql) < n; i++)
                p += sprintf(p, "%s", shapes[s][2]);
            a = analyze(sql);
            if (depth >= 10000 && a->cacheable)
                fail_msg("shape %zu depth %zu is cacheable", s, depth);
            sl_sql_analysis_free(a);
        }
    }
    free(sql);
}

static void
test_scanner_tokens(void **state)
{
    (void)state;
    sl_sqlscan s;
    char *error = NULL;
    const char *sql = "SELECT '/* no */' -- yes\n, /* and /* nested */ this */ 1";
    assert_int_equal(sl_sqlscan_run(sql, &s, &error), 0);
    size_t comments = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.tokens[i].token == SL_SQLSCAN_T_SQL_COMMENT)
            assert_memory_equal(sql + s.tokens[i].start, "-- yes", 6);
        if (s.tokens[i].token == SL_SQLSCAN_T_C_COMMENT)
            assert_memory_equal(sql + s.tokens[i].start, "/* and /* nested */ this */",
                                (size_t)(s.tokens[i].end - s.tokens[i].start));
        if (s.tokens[i].token == SL_SQLSCAN_T_SQL_COMMENT
            || s.tokens[i].token == SL_SQLSCAN_T_C_COMMENT)
            comments++;
        if (s.tokens[i].token == SL_SQLSCAN_T_SCONST)
            assert_memory_equal(sql + s.tokens[i].start, "'/* no */'", 10);
    }
    assert_int_equal(comments, 2);
    sl_sqlscan_free(&s);

    assert_int_equal(sl_sqlscan_run("SELECT 'open", &s, &error), -1);
    assert_non_null(error);
    assert_null(s.tokens);
    free(error);
}

static void
test_depth_bound(void **state)
{
    (void)state;
    static const struct {
        const char *sql;
        size_t bound;
    } bounds[] = {
        {"SELECT 1", 2},
        {"SELECT 1, 2, 3", 2},
        {"SELECT (1)", 3},
        {"SELECT 1+1+1", 6},
        {"SELECT f(a, b), g(c)", 4},
        {"SELECT 1; SELECT 2", 2},
        {"SELECT 1 /* a b c d e f */", 2},
        {"))) SELECT", 4},
    };
    for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) {
        sl_sqlscan s;
        char *error = NULL;
        assert_int_equal(sl_sqlscan_run(bounds[i].sql, &s, &error), 0);
        if (sl_sqlscan_depth_bound(&s) != bounds[i].bound)
            fail_msg("%s: bound %zu, expected %zu", bounds[i].sql, sl_sqlscan_depth_bound(&s),
                     bounds[i].bound);
        sl_sqlscan_free(&s);
    }
}

static void
test_time_words_and_search_path(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool time;
    } words[] = {
        {"now", true},         {" NOW ", true},         {"today", true},
        {"Tomorrow 10:00", true}, {"yesterday", true},  {"2024-01-01", false},
        {"snow", false},       {"known", false},        {"epoch", false},
        {"infinity", false},   {"nowhere", false},      {"", false},
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (sl_sql_text_is_time_dependent(words[i].text, strlen(words[i].text)) != words[i].time)
            fail_msg("time word \"%s\"", words[i].text);
    static const struct {
        const char *path;
        bool safe;
    } paths[] = {
        {"\"$user\", public", true},  {"pg_catalog, public", true},  {"public", true},
        {"public, pg_catalog", false}, {"a, PG_CATALOG", false},     {"a, \"pg_catalog\"", false},
        {"a, \"PG_CATALOG\"", true},   {"", true},                   {"a, \"x,pg_catalog\"", true},
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        if (sl_sql_search_path_is_safe(paths[i].path) != paths[i].safe)
            fail_msg("search_path \"%s\"", paths[i].path);
}

static void
test_sqltree(void **state)
{
    (void)state;
    const char *json = " {\"a\": [1, -9223372036854775808, true, false, null, \"x\\\"\\u00e9\\n\"],"
                       " \"b\": {}, \"c\": []} ";
    sl_sqltree *t = NULL;
    assert_int_equal(sl_sqltree_parse(json, strlen(json), 8, &t), 0);
    sl_sqlnode root = sl_sqltree_root(t), a = sl_sqltree_get(t, root, "a");
    assert_int_equal(sl_sqltree_kind_of(t, root), SL_SQLTREE_OBJECT);
    assert_int_equal(sl_sqltree_count(t, root), 3);
    assert_int_equal(sl_sqltree_count(t, a), 6);
    sl_sqlnode n = sl_sqltree_first(t, a);
    assert_int_equal(sl_sqltree_int(t, n), 1);
    n = sl_sqltree_next(t, n);
    assert_true(sl_sqltree_int(t, n) == INT64_MIN);
    n = sl_sqltree_next(t, n);
    assert_true(sl_sqltree_is_true(t, n));
    n = sl_sqltree_next(t, sl_sqltree_next(t, sl_sqltree_next(t, n)));
    assert_string_equal(sl_sqltree_str(t, n), "x\"\xc3\xa9\n");
    assert_int_equal(sl_sqltree_next(t, n), 0);
    assert_string_equal(sl_sqltree_key(t, sl_sqltree_get(t, root, "c")), "c");
    assert_int_equal(sl_sqltree_kind_of(t, sl_sqltree_get(t, root, "b")), SL_SQLTREE_OBJECT);
    /* lookups through nothing answer nothing */
    assert_int_equal(sl_sqltree_get(t, sl_sqltree_get(t, root, "zz"), "a"), 0);
    assert_null(sl_sqltree_str(t, 0));
    assert_null(sl_sqltree_str(t, 12345));
    sl_sqltree_free(t);

    static const char *const bad[] = {
        "", "{", "{\"a\" 1}", "[1,]", "[1 2]", "1.5", "1e3", "\"\\u0000\"", "\"\\ud800\"",
        "\"a\nb\"", "\"\\x\"", "tru", "[1] x", "99999999999999999999", "-", "[[[1]]]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t = NULL;
        if (sl_sqltree_parse(bad[i], strlen(bad[i]), 2, &t) != -1)
            fail_msg("accepted: %s", bad[i]);
        assert_null(t);
    }
}

/* The threading contract of sqlscan.h: threads with 1 MB stacks analyze at once, each the
 * deepest strings the bound lets through and ordinary ones, and all get the same answers. */
typedef struct {
    char *sql[6];
    bool cacheable[6];
    bool failed;
} thread_work;

static void *
analyze_many(void *arg)
{
    thread_work *tw = arg;
    for (int round = 0; round < 5; round++) {
        for (size_t i = 0; i < 6; i++) {
            sl_sql_analysis *a = NULL;
            sl_error err;
            if (sl_sql_analyze(tw->sql[i], NULL, &a, &err) != 0 || a->cacheable != tw->cacheable[i])
                tw->failed = true;
            sl_sql_analysis_free(a);
        }
    }
    return NULL;
}

static char *
repeated(const char *head, const char *open, const char *mid, const char *close, int n)
{
    size_t cap = strlen(head) + strlen(mid) + (size_t)n * (strlen(open) + strlen(close)) + 1;
    char *s = malloc(cap), *p = s;
    p += sprintf(p, "%s", head);
    for (int i = 0; i < n; i++)
        p += sprintf(p, "%s", open);
    p += sprintf(p, "%s", mid);
    for (int i = 0; i < n; i++)
        p += sprintf(p, "%s", close);
    return s;
}

static void
test_threads(void **state)
{
    (void)state;
    thread_work work[4];
    pthread_t threads[4];
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 1 << 20);
    for (int t = 0; t < 4; t++) {
        thread_work *tw = &work[t];
        memset(tw, 0, sizeof *tw);
        tw->sql[0] = repeated("SELECT ", "NOT ", "true", "", 490);
        tw->sql[1] = repeated("SELECT 1", "", "", "+1", 490);
        tw->sql[2] = repeated("SELECT ", "ARRAY[", "1", "]", 490);
        tw->sql[3] = repeated("SELECT ", "(SELECT ", "1", ")", 250);
        tw->sql[4] = repeated("SELECT * FROM t WHERE a = ", "", "now()", "", 0);
        tw->sql[5] = repeated("SELECT * FROM t WHERE a IN (", "1, ", "1)", "", 5000);
        bool cacheable[6] = {true, true, true, true, false, true};
        memcpy(tw->cacheable, cacheable, sizeof cacheable);
        assert_int_equal(pthread_create(&threads[t], &attr, analyze_many, tw), 0);
    }
    for (int t = 0; t < 4; t++) {
        assert_int_equal(pthread_join(threads[t], NULL), 0);
        assert_false(work[t].failed);
        for (size_t i = 0; i < 6; i++)
            free(work[t].sql[i]);
    }
    pthread_attr_destroy(&attr);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_set_values),
        cmocka_unit_test(test_statement_ranges_and_transactions),
        cmocka_unit_test(test_unknown_functions_listed),
        cmocka_unit_test(test_non_standard_strings),
        cmocka_unit_test(test_large_and_deep),
        cmocka_unit_test(test_scanner_tokens),
        cmocka_unit_test(test_depth_bound),
        cmocka_unit_test(test_time_words_and_search_path),
        cmocka_unit_test(test_sqltree),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
