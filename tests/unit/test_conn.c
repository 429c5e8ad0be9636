/* Unit tests for pg/conn: conninfo handling and failure classification, without a server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "pg/conn.h"

static void
assert_get(const sl_conninfo *ci, const char *keyword, const char *want)
{
    const char *got = sl_conninfo_get(ci, keyword);
    if (!want) {
        if (got)
            fail_msg("%s: expected unset, got \"%s\"", keyword, got);
        return;
    }
    if (!got)
        fail_msg("%s: expected \"%s\", got unset", keyword, want);
    assert_string_equal(got, want);
}

static void
test_set_get_unset(void **state)
{
    (void)state;
    sl_conninfo *ci = sl_conninfo_new();
    assert_get(ci, "host", NULL);
    sl_conninfo_set(ci, "host", "db1");
    sl_conninfo_set(ci, "port", "5433");
    sl_conninfo_set(ci, "host", "db2");  /* replaces, does not add */
    assert_get(ci, "host", "db2");
    assert_get(ci, "port", "5433");
    sl_conninfo_set(ci, "host", NULL);
    assert_get(ci, "host", NULL);
    assert_get(ci, "port", "5433");
    sl_conninfo_free(ci);
}

static void
test_get_sees_url_keywords(void **state)
{
    (void)state;
    sl_conninfo *ci = sl_conninfo_new();
    sl_conninfo_set(ci, "dbname", "postgresql://alice:s3cret@dbhost:6543/sales?sslmode=require");
    assert_get(ci, "dbname", "sales");
    assert_get(ci, "host", "dbhost");
    assert_get(ci, "port", "6543");
    assert_get(ci, "user", "alice");
    assert_get(ci, "sslmode", "require");
    sl_conninfo_set(ci, "port", "7000");  /* an explicit -p wins over the URL */
    assert_get(ci, "port", "7000");
    sl_conninfo_set(ci, "dbname", "other");  /* "backup single other -d URL" */
    assert_get(ci, "dbname", "other");
    assert_get(ci, "host", "dbhost");
    assert_get(ci, "port", "7000");
    assert_get(ci, "user", "alice");
    assert_get(ci, "password", "s3cret");
    assert_get(ci, "sslmode", "require");
    sl_conninfo_free(ci);
}

static void
test_get_sees_conninfo_keywords(void **state)
{
    (void)state;
    sl_conninfo *ci = sl_conninfo_new();
    sl_conninfo_set(ci, "dbname", "host=h1 dbname='my db' connect_timeout=3");
    assert_get(ci, "dbname", "my db");
    assert_get(ci, "host", "h1");
    assert_get(ci, "connect_timeout", "3");
    sl_conninfo_set(ci, "host", "h9");
    sl_conninfo_set(ci, "dbname", "plain");  /* only the database changes */
    assert_get(ci, "dbname", "plain");
    assert_get(ci, "host", "h9");             /* the explicit one, not the string's h1 */
    assert_get(ci, "connect_timeout", "3");
    sl_conninfo_set(ci, "dbname", "port=7");  /* a new conninfo string replaces the old one */
    assert_get(ci, "connect_timeout", "3");   /* already explicit: kept */
    assert_get(ci, "port", "7");
    assert_get(ci, "dbname", NULL);
    sl_conninfo_set(ci, "dbname", NULL);
    assert_get(ci, "port", NULL);
    sl_conninfo_free(ci);
}

static void
test_with_dbname_keeps_url_target(void **state)
{
    (void)state;
    sl_conninfo *ci = sl_conninfo_new();
    sl_conninfo_set(ci, "dbname", "postgres://bob@h2:5544/first?sslmode=disable");
    sl_conninfo_set(ci, "user", "carol");
    sl_conninfo *other = sl_conninfo_with_dbname(ci, "second");
    assert_get(other, "dbname", "second");
    assert_get(other, "host", "h2");
    assert_get(other, "port", "5544");
    assert_get(other, "sslmode", "disable");
    assert_get(other, "user", "carol");  /* the explicit user still overrides the URL's */
    assert_get(ci, "dbname", "first");   /* the original is untouched */
    sl_conninfo_free(other);
    sl_conninfo_free(ci);
}

static void
test_with_dbname_on_conninfo_string(void **state)
{
    (void)state;
    sl_conninfo *ci = sl_conninfo_new();
    sl_conninfo_set(ci, "dbname", "host=h3 port=6000 dbname=a");
    sl_conninfo *other = sl_conninfo_with_dbname(ci, "b");
    assert_get(other, "dbname", "b");
    assert_get(other, "host", "h3");
    assert_get(other, "port", "6000");
    sl_conninfo_free(other);
    sl_conninfo_free(ci);
}

static void
test_with_dbname_is_a_plain_name(void **state)
{
    (void)state;
    sl_conninfo *ci = sl_conninfo_new();
    sl_conninfo_set(ci, "host", "h4");
    /* names libpq would otherwise expand as a conninfo string or a URL */
    const char *names[] = {"odd=name", "postgres://not-a-url", "it's \\ here"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        sl_conninfo *other = sl_conninfo_with_dbname(ci, names[i]);
        assert_get(other, "dbname", names[i]);
        assert_get(other, "host", "h4");
        sl_conninfo_free(other);
    }
    sl_conninfo_free(ci);
}

static void
test_with_dbname_null_copies(void **state)
{
    (void)state;
    sl_conninfo *ci = sl_conninfo_new();
    sl_conninfo_set(ci, "dbname", "postgresql://h5/db5");
    sl_conninfo_set(ci, "port", "5999");
    sl_conninfo *copy = sl_conninfo_with_dbname(ci, NULL);
    assert_get(copy, "dbname", "db5");
    assert_get(copy, "host", "h5");
    assert_get(copy, "port", "5999");
    sl_conninfo_free(copy);
    sl_conninfo_free(ci);
}

/* A connection that fails (nothing listens on the port) must not show the password in its
 * message, whether it came from -W (the keyword) or from the URL. */
static void
test_connect_error_hides_password(void **state)
{
    (void)state;
    static const char *const how[] = {"keyword", "url", "conninfo"};
    for (size_t i = 0; i < 3; i++) {
        sl_conninfo *ci = sl_conninfo_new();
        if (i == 0) {
            sl_conninfo_set(ci, "host", "127.0.0.1");
            sl_conninfo_set(ci, "port", "1");
            sl_conninfo_set(ci, "password", "Sekr1tPw");
            sl_conninfo_set(ci, "dbname", "d");
        } else if (i == 1) {
            sl_conninfo_set(ci, "dbname", "postgresql://u:Sekr1tPw@127.0.0.1:1/d");
        } else {
            sl_conninfo_set(ci, "dbname", "host=127.0.0.1 port=1 password=Sekr1tPw dbname=d");
        }
        sl_conn *c = NULL;
        sl_error err;
        sl_error_clear(&err);
        assert_int_equal(sl_conn_open(&c, ci, SL_CONN_OPTS(.connect_retries = 0), &err), -1);
        assert_null(c);
        assert_int_equal(err.kind, SL_E_CONNECT);
        if (strstr(err.message, "Sekr1tPw") || strstr(err.context, "Sekr1tPw"))
            fail_msg("%s: password in \"%s\"", how[i], err.message);
        if (!strstr(err.message, "could not connect to 127.0.0.1:1 database \"d\""))
            fail_msg("%s: unexpected message \"%s\"", how[i], err.message);
        sl_conninfo_free(ci);
    }
}

static void
test_bad_url_is_usage_error_without_password(void **state)
{
    (void)state;
    sl_conninfo *ci = sl_conninfo_new();
    sl_conninfo_set(ci, "dbname", "host=h password=Sekr1t Pw");  /* unquoted space */
    sl_conn *c = NULL;
    sl_error err;
    sl_error_clear(&err);
    assert_int_equal(sl_conn_open(&c, ci, NULL, &err), -1);
    assert_int_equal(err.kind, SL_E_USAGE);
    assert_non_null(strstr(err.message, "invalid connection URL or string"));
    assert_null(strstr(err.message, "Pw"));
    assert_null(strstr(err.message, "Sekr1t"));
    sl_conninfo_free(ci);
}

static const struct {
    const char *message;
    bool transient;
} failures[] = {
    {"connection to server at \"127.0.0.1\", port 1 failed: Connection refused\n"
     "\tIs the server running on that host and accepting TCP/IP connections?\n", true},
    {"connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  sorry, too many clients "
     "already\n", true},
    {"connection to server at \"h\", port 5432 failed: FATAL:  the database system is starting "
     "up\n", true},
    {"connection to server at \"h\", port 5432 failed: FATAL:  the database system is not yet "
     "accepting connections\nDETAIL:  Consistent recovery state has not been yet reached.\n", true},
    {"connection to server at \"h\", port 5432 failed: FATAL:  remaining connection slots are "
     "reserved for non-replication superuser connections\n", true},
    {"could not translate host name \"nohost\" to address: Name or service not known\n", true},
    {"connection to server on socket \"/tmp/.s.PGSQL.5432\" failed: No such file or directory\n"
     "\tIs the server running locally and accepting connections on that socket?\n", true},
    {"connection to server at \"h\", port 5432 failed: timeout expired\n", true},
    {"connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  password authentication "
     "failed for user \"postgres\"\n", false},
    {"connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  database \"nope\" does not "
     "exist\n", false},
    {"connection to server at \"127.0.0.1\", port 5432 failed: fe_sendauth: no password "
     "supplied\n", false},
    /* two hosts: one refused, one rejected the password: not worth a retry */
    {"connection to server at \"a\", port 1 failed: Connection refused\n"
     "\tIs the server running on that host and accepting TCP/IP connections?\n"
     "connection to server at \"b\", port 5432 failed: FATAL:  password authentication failed "
     "for user \"u\"\n", false},
    {"", false},
};

static void
test_failure_classification(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof failures / sizeof failures[0]; i++)
        if (sl_conn_failure_is_transient(failures[i].message) != failures[i].transient)
            fail_msg("classified as %s: %s", failures[i].transient ? "permanent" : "transient",
                     failures[i].message);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_get_unset),
        cmocka_unit_test(test_get_sees_url_keywords),
        cmocka_unit_test(test_get_sees_conninfo_keywords),
        cmocka_unit_test(test_with_dbname_keeps_url_target),
        cmocka_unit_test(test_with_dbname_on_conninfo_string),
        cmocka_unit_test(test_with_dbname_is_a_plain_name),
        cmocka_unit_test(test_with_dbname_null_copies),
        cmocka_unit_test(test_connect_error_hides_password),
        cmocka_unit_test(test_bad_url_is_usage_error_without_password),
        cmocka_unit_test(test_failure_classification),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
