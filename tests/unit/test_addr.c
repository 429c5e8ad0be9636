/* tests/unit/test_addr.c: proxy/addr.h reads HOST:PORT, [IPV6]:PORT and Unix socket paths
 * (a directory gets .s.PGSQL.PORT as libpq's host=/dir does) and names a bad one. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/addr.h"

static void
test_tcp(void **state)
{
    (void)state;
    sl_addr a;
    sl_error err;
    assert_int_equal(sl_addr_parse(&a, "127.0.0.1:6432", 5432, "--listen", &err), 0);
    assert_false(a.is_unix);
    assert_int_equal(a.ss.ss_family, AF_INET);
    assert_int_equal(ntohs(((struct sockaddr_in *)&a.ss)->sin_port), 6432);
    assert_int_equal(sl_addr_parse(&a, "[::1]:5433", 5432, "--listen", &err), 0);
    assert_int_equal(a.ss.ss_family, AF_INET6);
    assert_int_equal(ntohs(((struct sockaddr_in6 *)&a.ss)->sin6_port), 5433);
}

static void
test_unix(void **state)
{
    (void)state;
    sl_addr a;
    sl_error err;
    assert_int_equal(sl_addr_parse(&a, "/tmp", 5432, "--upstream", &err), 0);
    assert_true(a.is_unix);
    assert_string_equal(a.path, "/tmp/.s.PGSQL.5432");
    assert_int_equal(sl_addr_parse(&a, "/var/run/postgresql:5433", 5432, "--upstream", &err),
                     0);
    assert_string_equal(a.path, "/var/run/postgresql/.s.PGSQL.5433");
    assert_int_equal(sl_addr_parse(&a, "/nowhere/.s.PGSQL.6432", 5432, "--listen", &err), 0);
    assert_string_equal(a.path, "/nowhere/.s.PGSQL.6432");
}

static void
test_bad(void **state)
{
    (void)state;
    static const struct { const char *text, *message; } bad[] = {
        {"", "--listen is empty"},
        {"localhost", "expected HOST:PORT"},
        {"127.0.0.1:0", "port 1 to 65535"},
        {"127.0.0.1:65536", "port 1 to 65535"},
        {"127.0.0.1:54x", "port 1 to 65535"},
        {"::1:5432", "expected HOST:PORT"},
        {"[::1]5432", "expected HOST:PORT"},
        {":5432", "expected HOST:PORT"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sl_addr a;
        sl_error err;
        sl_error_clear(&err);
        if (sl_addr_parse(&a, bad[i].text, 5432, "--listen", &err) == 0)
            fail_msg("accepted \"%s\"", bad[i].text);
        assert_int_equal(err.kind, SL_E_USAGE);
        if (!strstr(err.message, bad[i].message))
            fail_msg("\"%s\": %s", bad[i].text, err.message);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp),
        cmocka_unit_test(test_unix),
        cmocka_unit_test(test_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
