/* Unit tests for pg/conninfo: the keyword/value set, URL and conninfo parsing, target
 * descriptions, redaction of secrets and the reading of connection failures. No server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "pg/conninfo.h"

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

/* ---- the keyword/value set ---- */

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
/* A URL or conninfo string libpq refuses is never a database name: get() does not return it,
 * check() says why without the password. */
static void
test_unparsable_dbname(void **state)
{
    (void)state;
    static const struct {
        const char *dbname;
        const char *must_say;   /* part of the reason, or NULL */
        const char *secret;     /* what the message must not hold */
    } cases[] = {
        {"postgres://u:Sekr1tPw@h/db?bogus=1", "invalid URI query parameter: \"bogus\"",
         "Sekr1tPw"},
        {"host=h password=Sekr1t Pw", "missing \"=\" after \"" SL_CONNINFO_REDACTED "\"", "Pw"},
        {"host=h password=Sekr1t Pw", NULL, "Sekr1t"},
        {"postgresql://u:Xy7/ss@h/db", "percent-encode", "Xy7"},
        {"postgresql://u:1234/ss@h/db", "percent-encode", "1234"},
        {"postgres://u:Sekr1t", "its port is not a number", "Sekr1t"},
        {"host=h port=Sekr1t", "its port is not a number", "Sekr1t"},
        {"postgresql://u:Sekr1t@[::1/db", NULL, "Sekr1t"},
        {"host='h password=Sekr1t", NULL, "Sekr1t"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_conninfo *ci = sl_conninfo_new();
        sl_conninfo_set(ci, "dbname", cases[i].dbname);
        assert_get(ci, "dbname", NULL);
        sl_error err;
        sl_error_clear(&err);
        assert_int_equal(sl_conninfo_check(ci, &err), -1);
        assert_int_equal(err.kind, SL_E_USAGE);
        if (!strstr(err.message, "invalid connection URL or string given as the database: "))
            fail_msg("%s: message \"%s\"", cases[i].dbname, err.message);
        if (cases[i].must_say && !strstr(err.message, cases[i].must_say))
            fail_msg("%s: \"%s\" lacks \"%s\"", cases[i].dbname, err.message, cases[i].must_say);
        if (strstr(err.message, cases[i].secret))
            fail_msg("%s: \"%s\" shows \"%s\"", cases[i].dbname, err.message, cases[i].secret);
        sl_conninfo_free(ci);
    }
}

static void
test_check_accepts_names_urls_and_conninfo(void **state)
{
    (void)state;
    const char *ok[] = {"plain", "postgres://u:pw@h:5/db?sslmode=disable", "host=h dbname=d",
                        "postgresql:///db?host=/tmp"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        sl_conninfo *ci = sl_conninfo_new();
        sl_conninfo_set(ci, "dbname", ok[i]);
        sl_error err;
        sl_error_clear(&err);
        if (sl_conninfo_check(ci, &err) != 0)
            fail_msg("%s refused: %s", ok[i], err.message);
        sl_conninfo_free(ci);
    }
}

/* The pairs for libpq: the dbname first, so that explicit keywords override a URL. */
static void
test_params_order(void **state)
{
    (void)state;
    sl_conninfo *ci = sl_conninfo_new();
    sl_conninfo_set(ci, "port", "7");
    sl_conninfo_set(ci, "dbname", "postgres://h:5/db");
    sl_conninfo_set(ci, "user", "u");
    size_t n = sl_conninfo_count(ci);
    assert_int_equal(n, 3);
    const char *keys[3], *vals[3];
    sl_conninfo_params(ci, keys, vals);
    assert_string_equal(keys[0], "dbname");
    assert_string_equal(vals[0], "postgres://h:5/db");
    for (size_t i = 1; i < n; i++)
        assert_string_not_equal(keys[i], "dbname");
    sl_conninfo_free(ci);
}

/* ---- describing a target ---- */

static void
test_describe(void **state)
{
    (void)state;
    char out[256];
    sl_conninfo *ci = sl_conninfo_new();
    assert_string_equal(sl_conninfo_describe(ci, NULL, out, sizeof out), "the default server");
    sl_conninfo_set(ci, "dbname", "d");
    assert_string_equal(sl_conninfo_describe(ci, NULL, out, sizeof out), "database \"d\"");
    sl_conninfo_set(ci, "port", "5");
    assert_string_equal(sl_conninfo_describe(ci, NULL, out, sizeof out),
                        "port 5 database \"d\"");
    sl_conninfo_set(ci, "dbname", "postgresql://alice:s3cret@dbhost:6543/sales");
    sl_conninfo_set(ci, "port", NULL);
    assert_string_equal(sl_conninfo_describe(ci, NULL, out, sizeof out),
                        "dbhost:6543 database \"sales\" as user \"alice\"");
    /* what libpq resolved wins over what was asked */
    sl_conninfo_target t = {.host = "10.0.0.1", .port = "", .dbname = NULL, .user = "bob"};
    assert_string_equal(sl_conninfo_describe(ci, &t, out, sizeof out),
                        "10.0.0.1:6543 database \"sales\" as user \"bob\"");
    sl_conninfo_target url_as_name = {.dbname = "postgres://u:Sekr1tPw@h/db"};
    assert_string_equal(sl_conninfo_describe(NULL, &url_as_name, out, sizeof out),
                        "database \"postgres://u:" SL_CONNINFO_REDACTED "@h/db\"");
    sl_conninfo_target only = {.user = "u"};
    assert_string_equal(sl_conninfo_describe(NULL, &only, out, sizeof out), "user \"u\"");
    sl_conninfo_free(ci);
}

static void
test_describe_never_shows_password(void **state)
{
    (void)state;
    const char *dbnames[] = {"postgresql://u:Sekr1tPw@h/db", "host=h password=Sekr1tPw dbname=d",
                             "postgres://u:Sekr1tPw@h/db?bogus=1"};
    for (size_t i = 0; i < sizeof dbnames / sizeof dbnames[0]; i++) {
        char out[256];
        sl_conninfo *ci = sl_conninfo_new();
        sl_conninfo_set(ci, "dbname", dbnames[i]);
        sl_conninfo_set(ci, "password", "Sekr1tPw");
        sl_conninfo_describe(ci, NULL, out, sizeof out);
        if (strstr(out, "Sekr1tPw") || strstr(out, "postgres"))
            fail_msg("%s described as %s", dbnames[i], out);
        sl_conninfo_free(ci);
    }
}

/* ---- redaction ---- */

#define R SL_CONNINFO_REDACTED

static const struct {
    const char *name;
    const char *in;
    const char *out;
} redactions[] = {
    {"subscription conninfo",
     "CREATE SUBSCRIPTION s CONNECTION 'host=h password=secret dbname=d' PUBLICATION p;",
     "CREATE SUBSCRIPTION s CONNECTION 'host=h password=" R " dbname=d' PUBLICATION p;"},
    {"conninfo password quoted with a doubled quote",
     "ALTER SUBSCRIPTION s CONNECTION 'host=h password = ''se\\''cret'' port=5'",
     "ALTER SUBSCRIPTION s CONNECTION 'host=h password = ''" R "'' port=5'"},
    {"conninfo password with a blank, quoted",
     "CONNECTION 'host=h password=''a b'' dbname=d'",
     "CONNECTION 'host=h password=''" R "'' dbname=d'"},
    {"conninfo in an E'' literal",
     "CONNECTION E'host=h password=a\\'b dbname=d'",
     "CONNECTION E'host=h password=" R " dbname=d'"},
    {"conninfo password last", "CONNECTION 'dbname=d password=x'",
     "CONNECTION 'dbname=d password=" R "'"},
    {"sslpassword", "CONNECTION 'host=h sslpassword=k'", "CONNECTION 'host=h sslpassword=" R "'"},
    {"mixed case conninfo", "CONNECTION 'host=h PassWord=X'", "CONNECTION 'host=h PassWord=" R "'"},
    {"user mapping", "CREATE USER MAPPING FOR u SERVER s OPTIONS (password 'x');",
     "CREATE USER MAPPING FOR u SERVER s OPTIONS (password '" R "');"},
    {"user mapping with user",
     "CREATE USER MAPPING FOR u SERVER s OPTIONS (user 'u', password 'x', sslpassword 'y');",
     "CREATE USER MAPPING FOR u SERVER s OPTIONS (user 'u', password '" R "', sslpassword '" R
     "');"},
    {"user mapping, quoted option name", "OPTIONS (\"password\" 'x')",
     "OPTIONS (\"password\" '" R "')"},
    {"user mapping altered", "ALTER USER MAPPING FOR u SERVER s OPTIONS (SET PassWord 'n')",
     "ALTER USER MAPPING FOR u SERVER s OPTIONS (SET PassWord '" R "')"},
    {"role password", "ALTER ROLE r PASSWORD 'se''cret';", "ALTER ROLE r PASSWORD '" R "';"},
    {"encrypted password",
     "CREATE ROLE r LOGIN ENCRYPTED PASSWORD 'SCRAM-SHA-256$4096:abc' VALID UNTIL 'infinity';",
     "CREATE ROLE r LOGIN ENCRYPTED PASSWORD '" R "' VALID UNTIL 'infinity';"},
    {"role password lower case", "create role r with login password 'x'",
     "create role r with login password '" R "'"},
    {"role password in E''", "ALTER ROLE r PASSWORD E'a\\'b'", "ALTER ROLE r PASSWORD E'" R "'"},
    {"role password dollar-quoted", "ALTER ROLE r PASSWORD $$x$$",
     "ALTER ROLE r PASSWORD $$" R "$$"},
    {"role password, comment between", "ALTER ROLE r PASSWORD /* c */ 'x'",
     "ALTER ROLE r PASSWORD /* c */ '" R "'"},
    {"role password U&''", "ALTER ROLE r PASSWORD U&'x'", "ALTER ROLE r PASSWORD U&'" R "'"},
    {"role password null", "ALTER ROLE r PASSWORD NULL", "ALTER ROLE r PASSWORD NULL"},
    {"URL in a literal", "CONNECTION 'postgresql://u:pw@h:5432/db?sslmode=require'",
     "CONNECTION 'postgresql://u:" R "@h:5432/db?sslmode=require'"},
    {"URL query password", "CONNECTION 'postgres://h/db?password=x&sslmode=disable'",
     "CONNECTION 'postgres://h/db?password=" R "&sslmode=disable'"},
    {"URL without a password", "CONNECTION 'postgres://u@h:5/db'",
     "CONNECTION 'postgres://u@h:5/db'"},
    {"dollar-quoted conninfo", "CREATE SUBSCRIPTION s CONNECTION $c$host=h password=x$c$",
     "CREATE SUBSCRIPTION s CONNECTION $c$host=h password=" R "$c$"},
    {"function body",
     "DO $$BEGIN PERFORM dblink_connect('host=h password=x'); END$$;",
     "DO $$BEGIN PERFORM dblink_connect('host=h password=" R "'); END$$;"},
    {"comment", "-- password=abc\nSELECT 1;", "-- password=" R "\nSELECT 1;"},
    {"meta-command", "\\connect host=h password=x dbname=d",
     "\\connect host=h password=" R " dbname=d"},
    {"meta-command argument", "\\setenv PGPASSWORD s3cret", "\\setenv PGPASSWORD " R},
    {"meta-command URL", "\\connect postgres://u:pw@h/db", "\\connect postgres://u:" R "@h/db"},
    {"two secrets",
     "ALTER ROLE a PASSWORD 'x'; ALTER SUBSCRIPTION s CONNECTION 'password=y';",
     "ALTER ROLE a PASSWORD '" R "'; ALTER SUBSCRIPTION s CONNECTION 'password=" R "';"},
    {"cut short in the literal", "CREATE ROLE r PASSWORD 'abc", "CREATE ROLE r PASSWORD '" R},
    {"cut short in a conninfo", "CONNECTION 'host=h password=abc",
     "CONNECTION 'host=h password=" R},
    {"cut short in a dollar quote", "CONNECTION $$password=abc", "CONNECTION $$password=" R},
    {"no secret", "CREATE TABLE t (id int, password text);",
     "CREATE TABLE t (id int, password text);"},
    {"a column named password", "COMMENT ON COLUMN t.password IS 'the hash';",
     "COMMENT ON COLUMN t.password IS 'the hash';"},
    {"insert into password column", "INSERT INTO t (password) VALUES ('x');",
     "INSERT INTO t (password) VALUES ('x');"},
    {"plain literal", "SELECT 'it''s fine', \"a\"\"b\", $1;",
     "SELECT 'it''s fine', \"a\"\"b\", $1;"},
    {"empty", "", ""},
    {"mysql URL", "mysql://root:s3cr%40t@db:3306/shop?ssl-mode=REQUIRED",
     "mysql://root:" R "@db:3306/shop?ssl-mode=REQUIRED"},
    {"mariadb URL, scheme in capitals", "MariaDB://u:pw@h/db", "MariaDB://u:" R "@h/db"},
    {"mysql URL with a raw @ in the password", "mysql://u:p@ss@h/db", "mysql://u:" R "@h/db"},
    {"mysql URL cut short in the password", "mysql://u:secr", "mysql://u:" R},
    {"mysql URL without a password", "mysql://u@h:3306/db?socket=/run/x.sock",
     "mysql://u@h:3306/db?socket=/run/x.sock"},
};

static void
test_redact_sql(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof redactions / sizeof redactions[0]; i++) {
        sl_buf out = SL_BUF_INIT;
        size_t n = sl_conninfo_redact_sql(redactions[i].in, strlen(redactions[i].in), &out);
        if (strcmp(out.data, redactions[i].out) != 0)
            fail_msg("%s:\n  in:   %s\n  got:  %s\n  want: %s", redactions[i].name,
                     redactions[i].in, out.data, redactions[i].out);
        if ((n == 0) != (strcmp(redactions[i].in, redactions[i].out) == 0))
            fail_msg("%s: count %zu", redactions[i].name, n);
        sl_buf_free(&out);
    }
}

/* Any prefix of a statement is redacted as safely as the whole: what a message shows of a
 * statement cut short never holds a part of its secret. */
static void
test_redact_prefixes(void **state)
{
    (void)state;
    static const char *const stmts[] = {
        "CREATE SUBSCRIPTION s CONNECTION 'host=h password=Zq9Xw7 dbname=d' PUBLICATION p",
        "CREATE USER MAPPING FOR u SERVER s OPTIONS (user 'u', password 'Zq9Xw7')",
        "ALTER ROLE r ENCRYPTED PASSWORD E'Zq9Xw7'",
        "CONNECTION 'postgresql://u:Zq9Xw7@h/db'",
        "CONNECTION $x$host=h password='Zq9Xw7'$x$",
    };
    for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++) {
        for (size_t len = 0; len <= strlen(stmts[i]); len++) {
            sl_buf out = SL_BUF_INIT;
            sl_conninfo_redact_sql(stmts[i], len, &out);
            /* no two consecutive characters of the secret survive */
            static const char *const parts[] = {"Zq", "q9", "9X", "Xw", "w7"};
            for (size_t k = 0; k < 5; k++)
                if (strstr(out.data, parts[k]))
                    fail_msg("prefix %zu of \"%s\" shows \"%s\": %s", len, stmts[i], parts[k],
                             out.data);
            sl_buf_free(&out);
        }
    }
}

static const struct {
    const char *name;
    const char *source;
    bool is_sql;
    const char *msg;
    const char *want;
} scrubs[] = {
    {"conninfo fragment", "host=h password=Sekr1t Pw", false,
     "missing \"=\" after \"Pw\" in connection info string",
     "missing \"=\" after \"" R "\" in connection info string"},
    {"URL parameter name kept", "postgres://u:secret@h/db?bogus=1", false,
     "invalid URI query parameter: \"bogus\"", "invalid URI query parameter: \"bogus\""},
    {"URL password with a slash", "postgres://u:pa/ss@h/db", false,
     "invalid port number: \"pa\"", "invalid port number: \"" R "\""},
    {"decoded fragment", "postgres://u:p%41ss@h:x/db", false,
     "invalid port number: \"x\"; bad \"pAss\"", "invalid port number: \"x\"; bad \"" R "\""},
    {"server conninfo error",
     "CREATE SUBSCRIPTION s CONNECTION 'host=h password=se cret' PUBLICATION p", true,
     "invalid connection string syntax: missing \"=\" after \"cret\" in connection info string",
     "invalid connection string syntax: missing \"=\" after \"" R
     "\" in connection info string"},
    {"translated quotes",
     "CREATE SUBSCRIPTION s CONNECTION 'host=h password=se cret' PUBLICATION p", true,
     "fehlendes \xc2\xbb=\xc2\xab nach \xc2\xbb" "cret\xc2\xab in Zeichenkette",
     "fehlendes \xc2\xbb=\xc2\xab nach \xc2\xbb" R "\xc2\xab in Zeichenkette"},
    {"the secret itself", "ALTER ROLE r PASSWORD 'secret123'", true,
     "something about secret123 here", "something about " R " here"},
    {"statement without secrets", "CREATE TABLE \"x\" ()", true, "relation \"x\" exists",
     "relation \"x\" exists"},
};

static void
test_redact_message(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof scrubs / sizeof scrubs[0]; i++) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", scrubs[i].msg);
        sl_conninfo_redact_message(msg, sizeof msg, scrubs[i].source, strlen(scrubs[i].source),
                                   scrubs[i].is_sql);
        if (strcmp(msg, scrubs[i].want) != 0)
            fail_msg("%s:\n  got:  %s\n  want: %s", scrubs[i].name, msg, scrubs[i].want);
    }
}

/* ---- connection failures ---- */

static const struct {
    const char *message;
    bool transient;
    const char *sqlstate;
    const char *reason;
} failures[] = {
    {"connection to server at \"127.0.0.1\", port 1 failed: Connection refused\n"
     "\tIs the server running on that host and accepting TCP/IP connections?\n",
     true, "", "Connection refused"},
    {"connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  53300: sorry, too many "
     "clients already\nLOCATION:  InitProcess, proc.c:360\n",
     true, "53300", "sorry, too many clients already"},
    {"connection to server at \"h\", port 5432 failed: FATAL:  53300: zu viele Verbindungen "
     "f\xc3\xbcr Rolle \xc2\xbbu\xc2\xab\n",
     true, "53300", "zu viele Verbindungen f\xc3\xbcr Rolle \xc2\xbbu\xc2\xab"},
    {"connection to server at \"h\", port 5432 failed: FATAL:  57P03: le syst\xc3\xa8me de "
     "bases de donn\xc3\xa9" "es se lance\n",
     true, "57P03", "le syst\xc3\xa8me de bases de donn\xc3\xa9" "es se lance"},
    {"connection to server at \"h\", port 5432 failed: FATAL:  57P03: the database system is "
     "not yet accepting connections\nDETAIL:  Consistent recovery state has not been yet "
     "reached.\n",
     true, "57P03", "the database system is not yet accepting connections"},
    {"connection to server at \"h\", port 5432 failed: FATAL:  08P01: invalid startup packet\n",
     true, "08P01", "invalid startup packet"},
    {"could not translate host name \"nohost\" to address: Name or service not known\n", true,
     "", "could not translate host name \"nohost\" to address: Name or service not known"},
    {"connection to server on socket \"/tmp/.s.PGSQL.5432\" failed: No such file or "
     "directory\n\tIs the server running locally and accepting connections on that socket?\n",
     true, "", "No such file or directory"},
    {"connection to server at \"h\", port 5432 failed: timeout expired\n", true, "",
     "timeout expired"},
    {"connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  28P01: "
     "Passwort-Authentifizierung f\xc3\xbcr Benutzer \xc2\xbbu\xc2\xab fehlgeschlagen\n",
     false, "28P01",
     "Passwort-Authentifizierung f\xc3\xbcr Benutzer \xc2\xbbu\xc2\xab fehlgeschlagen"},
    {"connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  3D000: database "
     "\"nope\" does not exist\nLOCATION:  InitPostgres, postinit.c:885\n",
     false, "3D000", "database \"nope\" does not exist"},
    {"connection to server at \"127.0.0.1\", port 5432 failed: fe_sendauth: no password "
     "supplied\n",
     false, "", "fe_sendauth: no password supplied"},
    /* a server's text is not read: without its SQLSTATE it is taken as permanent */
    {"connection to server at \"h\", port 5432 failed: FATAL:  sorry, too many clients "
     "already\n",
     false, "", "sorry, too many clients already"},
    /* two hosts: one refused, one rejected the password: not worth a retry, and the reason
     * shown is the one that decided */
    {"connection to server at \"a\", port 1 failed: Connection refused\n"
     "\tIs the server running on that host and accepting TCP/IP connections?\n"
     "connection to server at \"b\", port 5432 failed: FATAL:  28P01: password authentication "
     "failed for user \"u\"\n",
     false, "28P01", "password authentication failed for user \"u\""},
    {"", false, "", "unknown error"},
};

static void
test_failure_read(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof failures / sizeof failures[0]; i++) {
        sl_conninfo_failure f;
        sl_conninfo_failure_read(failures[i].message, &f);
        if (f.transient != failures[i].transient)
            fail_msg("classified as %s: %s", failures[i].transient ? "permanent" : "transient",
                     failures[i].message);
        if (strcmp(f.sqlstate, failures[i].sqlstate) != 0 ||
            strcmp(f.reason, failures[i].reason) != 0)
            fail_msg("read \"%s\" / \"%s\" from: %s", f.sqlstate, f.reason,
                     failures[i].message);
        assert_int_equal(sl_conninfo_failure_is_transient(failures[i].message),
                         failures[i].transient);
    }
}

/* What sl_conninfo_format() writes, libpq parses back to the same bytes, whatever they are. */
static void
test_format_round_trip(void **state)
{
    (void)state;
    const char *keys[] = {"host", "port", "dbname", "user", "password", "sslmode", "options"};
    const char *vals[] = {"/tmp/sock dir", "5432", "evil\n\\! touch x' dbname='other",
                          "o'brien", "p\\w'd = x", NULL, ""};
    sl_buf out = SL_BUF_INIT;
    sl_conninfo_format(&out, keys, vals, 7);
    char *msg = NULL;
    PQconninfoOption *opts = PQconninfoParse(out.data, &msg);
    assert_non_null(opts);
    int seen = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        for (size_t i = 0; i < 7; i++) {
            if (strcmp(o->keyword, keys[i]) != 0)
                continue;
            if (vals[i] && *vals[i]) {
                assert_non_null(o->val);
                assert_string_equal(o->val, vals[i]);
                seen++;
            } else {
                assert_null(o->val);  /* NULL and "" are left out */
            }
        }
    }
    assert_int_equal(seen, 5);
    PQconninfoFree(opts);
    sl_buf_free(&out);
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
        cmocka_unit_test(test_unparsable_dbname),
        cmocka_unit_test(test_check_accepts_names_urls_and_conninfo),
        cmocka_unit_test(test_params_order),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_describe_never_shows_password),
        cmocka_unit_test(test_redact_sql),
        cmocka_unit_test(test_redact_prefixes),
        cmocka_unit_test(test_redact_message),
        cmocka_unit_test(test_failure_read),
        cmocka_unit_test(test_format_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
