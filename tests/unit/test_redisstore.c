/* tests/unit/test_redisstore.c: redis:// URLs as proxy/redisstore.h reads them: user and
 * password (percent-decoded, the password may hold '@' and ':'), host, IPv6 in brackets, port,
 * database; bad URLs refused with a message that never holds the password. The store itself
 * runs against a real Redis in tests/e2e/test_cache_store.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/redisstore.h"

static const struct {
    const char *url, *host, *user, *password;
    int port, db;
} good[] = {
    {"redis://localhost", "localhost", NULL, NULL, 6379, 0},
    {"redis://127.0.0.1:6380/2", "127.0.0.1", NULL, NULL, 6380, 2},
    {"redis://:pw@h:1/", "h", NULL, "pw", 1, 0},
    {"redis://alice:s%40cret@h/15", "h", "alice", "s@cret", 6379, 15},
    {"redis://bob:a:b@c@h:7000", "h", "bob", "a:b@c", 7000, 0},
    {"redis://[::1]:6390/1", "::1", NULL, NULL, 6390, 1},
};

static void
test_good_urls(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        sl_redis_url u;
        sl_error err = {0};
        if (sl_redis_url_parse(good[i].url, &u, &err) != 0)
            fail_msg("%s: %s", good[i].url, err.message);
        assert_string_equal(u.host, good[i].host);
        assert_int_equal(u.port, good[i].port);
        assert_int_equal(u.db, good[i].db);
        if (good[i].user)
            assert_string_equal(u.user, good[i].user);
        else
            assert_null(u.user);
        if (good[i].password)
            assert_string_equal(u.password, good[i].password);
        else
            assert_null(u.password);
        sl_redis_url_free(&u);
    }
}

static const struct {
    const char *url, *why;
} bad[] = {
    {"rediss://:SECRET@h", "starts with redis://"},
    {"redis://:SECRET@h:0", "port must be"},
    {"redis://:SECRET@h:99999", "port must be"},
    {"redis://:SECRET@h:12x", "port must be"},
    {"redis://:SECRET@h/x", "database after"},
    {"redis://:SECRET@", "no host"},
    {"redis://SECRET@h", "user information"},
    {"redis://:SECRET%zz@h", "percent escape in the password"},
    {"redis://:SECRET%00@h", "percent escape in the password"},
    {"redis://:SECRET%4@h", "percent escape in the password"},
    {"redis://u%@:SECRET@h", "percent escape in the user"},
    {"redis://:SECRET@[::1", "without \"]\""},
};

static void
test_bad_urls(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sl_redis_url u;
        sl_error err = {0};
        if (sl_redis_url_parse(bad[i].url, &u, &err) != -1)
            fail_msg("accepted %s", bad[i].url);
        assert_int_equal(err.kind, SL_E_USAGE);
        if (!strstr(err.message, bad[i].why))
            fail_msg("%s: message \"%s\" lacks \"%s\"", bad[i].url, err.message, bad[i].why);
        assert_null(strstr(err.message, "SECRET"));
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_urls),
        cmocka_unit_test(test_bad_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
