/* tests/unit/test_embedded.c: the embedding API (include/sluice/proxy.h, proxy/embedded.c)
 * refuses a bad configuration or a call out of order with a message naming it, serves only
 * stream sockets, and starts and stops with no server behind it (relaying is tested end to end
 * by tests/e2e/test_proxy_embed.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sluice/proxy.h"

static const struct {
    const char *name;
    const char *upstream;
    int threads;
    uint32_t max_message_size;
    const char *message;
} bad_configs[] = {
    {"no upstream", NULL, 0, 0, "names no upstream server"},
    {"upstream without port", "localhost", 0, 0, "upstream \"localhost\": expected HOST:PORT"},
    {"conninfo as upstream", "host=db password=s3cret", 0, 0, "not shown"},
    {"URI as upstream", "postgresql://u:s3cret@db:5432/x", 0, 0, "not shown"},
    {"user and password in the address", "u:s3cret@db:5432", 0, 0, "not shown"},
    {"negative threads", "127.0.0.1:5432", -1, 0, "threads must be 0"},
    {"too many threads", "127.0.0.1:5432", 1025, 0, "threads must be 0"},
    {"tiny message limit", "127.0.0.1:5432", 0, 100, "max_message_size must be"},
    {"message limit past 1 GB", "127.0.0.1:5432", 0, 1u << 30, "max_message_size must be"},
};

static void
test_bad_config_is_refused_with_its_reason(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_configs / sizeof bad_configs[0]; i++) {
        sluice_proxy_config cfg = SLUICE_PROXY_CONFIG_INIT;
        cfg.upstream = bad_configs[i].upstream;
        cfg.threads = bad_configs[i].threads;
        cfg.max_message_size = bad_configs[i].max_message_size;
        sluice_proxy *p = NULL;
        if (sluice_proxy_new(&p, &cfg) != -1)
            fail_msg("accepted: %s", bad_configs[i].name);
        assert_non_null(p);
        if (!strstr(sluice_proxy_error(p), bad_configs[i].message))
            fail_msg("%s: got \"%s\"", bad_configs[i].name, sluice_proxy_error(p));
        if (strstr(sluice_proxy_error(p), "s3cret"))
            fail_msg("%s: the password is in \"%s\"", bad_configs[i].name, sluice_proxy_error(p));
        assert_int_equal(sluice_proxy_start(p), -1);  /* the refusal sticks */
        assert_non_null(strstr(sluice_proxy_error(p), bad_configs[i].message));
        sluice_proxy_free(p);
    }
}

static void
test_config_without_size_is_refused(void **state)
{
    (void)state;
    sluice_proxy_config cfg = {.upstream = "127.0.0.1:5432"};
    sluice_proxy *p = NULL;
    assert_int_equal(sluice_proxy_new(&p, &cfg), -1);
    assert_non_null(strstr(sluice_proxy_error(p), "SLUICE_PROXY_CONFIG_INIT"));
    sluice_proxy_free(p);
}

static sluice_proxy *
new_proxy(void)
{
    sluice_proxy_config cfg = SLUICE_PROXY_CONFIG_INIT;
    cfg.upstream = "127.0.0.1:1";
    cfg.threads = 2;
    sluice_proxy *p = NULL;
    assert_int_equal(sluice_proxy_new(&p, &cfg), 0);
    assert_string_equal(sluice_proxy_error(p), "");
    return p;
}

static void
test_calls_out_of_order_are_refused(void **state)
{
    (void)state;
    sluice_proxy *p = new_proxy();
    assert_int_equal(sluice_proxy_listen_unix(p, "relative/dir", 0), -1);
    assert_non_null(strstr(sluice_proxy_error(p), "is not an absolute path"));
    assert_int_equal(sluice_proxy_listen_unix(p, NULL, 70000), -1);
    assert_int_equal(sluice_proxy_serve_fd(p, 0), -1);  /* not started */
    assert_int_equal(sluice_proxy_start(p), 0);
    assert_int_equal(sluice_proxy_start(p), -1);
    assert_non_null(strstr(sluice_proxy_error(p), "started already"));
    assert_int_equal(sluice_proxy_listen_unix(p, NULL, 0), -1);
    assert_non_null(strstr(sluice_proxy_error(p), "before start"));
    sluice_proxy_free(p);  /* stops a running proxy */
}

static void
test_stop_before_start(void **state)
{
    (void)state;
    sluice_proxy *p = new_proxy();
    assert_int_equal(sluice_proxy_stop(p, SLUICE_PROXY_DRAIN), -1);
    sluice_proxy_wait(p);  /* returns at once */
    assert_int_equal(sluice_proxy_start(p), -1);
    sluice_proxy_free(p);
}

static void
test_serve_fd_takes_stream_sockets_only(void **state)
{
    (void)state;
    sluice_proxy *p = new_proxy();
    assert_int_equal(sluice_proxy_start(p), 0);
    int pipefd[2], dgram[2];
    assert_int_equal(pipe(pipefd), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, dgram), 0);
    assert_int_equal(sluice_proxy_serve_fd(p, pipefd[0]), -1);
    assert_int_equal(sluice_proxy_serve_fd(p, dgram[0]), -1);
    assert_int_equal(sluice_proxy_serve_fd(p, -1), -1);
    /* refused descriptors stay the caller's: closing them must succeed */
    assert_int_equal(close(pipefd[0]), 0);
    assert_int_equal(close(pipefd[1]), 0);
    assert_int_equal(close(dgram[0]), 0);
    assert_int_equal(close(dgram[1]), 0);
    assert_int_equal(sluice_proxy_stop(p, SLUICE_PROXY_IMMEDIATE), 0);
    assert_int_equal(sluice_proxy_clients(p), 0);
    sluice_proxy_free(p);
}

/* The private directory holds the socket while running; stop removes the socket, free the
 * directory. */
static void
test_private_socket_dir_lifetime(void **state)
{
    (void)state;
    sluice_proxy *p = new_proxy();
    assert_int_equal(sluice_proxy_listen_unix(p, NULL, 6543), 0);
    assert_int_equal(sluice_proxy_port(p), 6543);
    char dir[512], sock[600];
    snprintf(dir, sizeof dir, "%s", sluice_proxy_socket_dir(p));
    snprintf(sock, sizeof sock, "%s/.s.PGSQL.6543", dir);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(sluice_proxy_start(p), 0);
    assert_int_equal(stat(sock, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(sluice_proxy_stop(p, SLUICE_PROXY_DRAIN), 0);
    assert_int_equal(stat(sock, &st), -1);  /* gone once the drain has begun */
    sluice_proxy_wait(p);                   /* no client: the drain ends at once */
    sluice_proxy_free(p);
    assert_int_equal(stat(dir, &st), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_config_is_refused_with_its_reason),
        cmocka_unit_test(test_config_without_size_is_refused),
        cmocka_unit_test(test_calls_out_of_order_are_refused),
        cmocka_unit_test(test_stop_before_start),
        cmocka_unit_test(test_serve_fd_takes_stream_sockets_only),
        cmocka_unit_test(test_private_socket_dir_lifetime),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
