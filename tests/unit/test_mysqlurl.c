/* Unit tests for mysql/url: the parts of mysql:// and mariadb:// URLs, percent-decoding, and
 * errors that never show the password. No server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "mysql/url.h"

static void
assert_field(const char *name, const char *got, const char *want)
{
    if (!want && got)
        fail_msg("%s: expected unset, got \"%s\"", name, got);
    if (want && !got)
        fail_msg("%s: expected \"%s\", got unset", name, want);
    if (want)
        assert_string_equal(got, want);
}

static void
assert_url(const char *text, const char *user, const char *password, const char *host,
           const char *port, const char *database, const char *socket, const char *ssl_mode,
           const char *ssl_ca)
{
    sl_mysql_url u;
    sl_error err;
    sl_error_clear(&err);
    if (sl_mysql_url_parse(text, &u, &err) != 0)
        fail_msg("%s: %s", text, err.message);
    assert_field("user", u.user, user);
    assert_field("password", u.password, password);
    assert_field("host", u.host, host);
    assert_field("port", u.port, port);
    assert_field("database", u.database, database);
    assert_field("socket", u.socket, socket);
    assert_field("ssl_mode", u.ssl_mode, ssl_mode);
    assert_field("ssl_ca", u.ssl_ca, ssl_ca);
    sl_mysql_url_free(&u);
}

static void
test_is(void **state)
{
    (void)state;
    assert_true(sl_mysql_url_is("mysql://h"));
    assert_true(sl_mysql_url_is("MARIADB://h"));
    assert_false(sl_mysql_url_is("postgres://h"));
    assert_false(sl_mysql_url_is("mysql:/h"));
    assert_false(sl_mysql_url_is("shop"));
    assert_false(sl_mysql_url_is(NULL));
}

static void
test_parts(void **state)
{
    (void)state;
    assert_url("mysql://root:pw@db1:3307/shop", "root", "pw", "db1", "3307", "shop", NULL, NULL,
               NULL);
    assert_url("mariadb://db1", NULL, NULL, "db1", NULL, NULL, NULL, NULL, NULL);
    assert_url("mysql://u@db1/", "u", NULL, "db1", NULL, NULL, NULL, NULL, NULL);
    assert_url("mysql://u:@db1", "u", "", "db1", NULL, NULL, NULL, NULL, NULL);
    assert_url("mysql://[::1]:3306/d", NULL, NULL, "::1", "3306", "d", NULL, NULL, NULL);
    assert_url("mysql:///shop?socket=/run/my%20sql/x.sock", NULL, NULL, NULL, NULL, "shop",
               "/run/my sql/x.sock", NULL, NULL);
    assert_url("mysql://h/d?ssl-mode=VERIFY_CA&ssl_ca=/etc/ca.pem", NULL, NULL, "h", NULL, "d",
               NULL, "VERIFY_CA", "/etc/ca.pem");
}

static void
test_decoding(void **state)
{
    (void)state;
    /* %40 '@', %2F '/', %3F '?', %3A ':' in a password; a raw '@' too (the last one counts) */
    assert_url("mysql://a%20b:p%40%2F%3F%3Aw@h/d%2Dx", "a b", "p@/?:w", "h", NULL, "d-x", NULL,
               NULL, NULL);
    assert_url("mysql://u:p@ss@h/d", "u", "p@ss", "h", NULL, "d", NULL, NULL, NULL);
    assert_url("mysql://u:a/b@h/d", "u", "a/b", "h", NULL, "d", NULL, NULL, NULL);
}

static void
test_errors_never_show_the_password(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        const char *message;
    } bad[] = {
        {"mysql://u:sekr%zzit@h/d", "bad percent-escape in the password"},
        {"mysql://u:sekr%00it@h/d", "bad percent-escape in the password"},
        {"mysql://u:sekrit@h:0/d", "the port must be a number from 1 to 65535"},
        {"mysql://u:sekrit@h:70000/d", "the port must be a number from 1 to 65535"},
        {"mysql://u:sekrit@h:33x/d", "the port must be a number from 1 to 65535"},
        {"mysql://u:sekrit@h/d?password=sekrit", "unknown query parameter"},
        {"mysql://u:sekrit@h/d?sekrit", "a query parameter without '='"},
        {"mysql://u:sekrit@[::1/d", "bad bracketed host address"},
        {"postgres://u:sekrit@h/d", "mysql:// or mariadb:// expected"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        sl_mysql_url u;
        sl_error err;
        sl_error_clear(&err);
        if (sl_mysql_url_parse(bad[i].url, &u, &err) == 0)
            fail_msg("%s: parsed", bad[i].url);
        assert_int_equal(err.kind, SL_E_USAGE);
        if (!strstr(err.message, bad[i].message))
            fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].url, err.message, bad[i].message);
        if (strstr(err.message, "sekr"))
            fail_msg("%s: the message shows the password: %s", bad[i].url, err.message);
        assert_null(u.password);
        assert_null(u.user);
    }
}

/* format() then parse() gives every part back, whatever bytes it holds. */
static void
test_format_round_trip(void **state)
{
    (void)state;
    sl_mysql_target t = {.host = "db-1.example", .port = "3307", .user = "a b@c:d/e",
                         .password = "p@ss:w/rd?%&=# x\\'", .database = "ignored",
                         .ssl_mode = "VERIFY_CA", .ssl_ca = "/etc/my ca&x.pem"};
    sl_buf b = SL_BUF_INIT;
    sl_mysql_url_format(&t, "shop/1?x", &b);
    assert_url(b.data, t.user, t.password, t.host, "3307", "shop/1?x", NULL, "VERIFY_CA",
               t.ssl_ca);
    sl_buf_reset(&b);
    sl_mysql_target sock = {.host = "/run/my sql/x.sock"};
    sl_mysql_url_format(&sock, NULL, &b);
    assert_url(b.data, NULL, NULL, NULL, NULL, NULL, "/run/my sql/x.sock", NULL, NULL);
    sl_buf_reset(&b);
    sl_mysql_target v6 = {.host = "::1", .user = "u"};
    sl_mysql_url_format(&v6, "d", &b);
    assert_url(b.data, "u", NULL, "::1", NULL, "d", NULL, NULL, NULL);
    sl_buf_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_is),
        cmocka_unit_test(test_parts),
        cmocka_unit_test(test_decoding),
        cmocka_unit_test(test_errors_never_show_the_password),
        cmocka_unit_test(test_format_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
