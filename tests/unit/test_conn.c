/* Unit tests for pg/conn: connection attempts that fail before any server answers (nothing
 * listens, or a socket that never answers), so no server is needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pg/conn.h"

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

/* A listening socket whose backlog is full: the kernel drops further SYNs, so a connection to
 * it hangs while being made, as to a host that is down. */
static int
hanging_listener(int *port, int *held)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 0), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    for (int i = 0; i < 2; i++) {  /* fill the queue */
        held[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(held[i], (struct sockaddr *)&a, sizeof a);
    }
    return fd;
}

/* connect_timeout applies per host, as with PQconnectdb: the first host hangs, the attempt
 * goes on to the second (here a socket that accepts and never answers, so that its arrival can
 * be seen), and the failure says the time ran out. */
static void
test_connect_timeout_moves_to_next_host(void **state)
{
    (void)state;
    int hung_port, held[2];
    int hung = hanging_listener(&hung_port, held);
    int mute = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(mute, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(mute, 8), 0);
    assert_int_equal(getsockname(mute, (struct sockaddr *)&a, &len), 0);
    char ports[64];
    snprintf(ports, sizeof ports, "%d,%d", hung_port, ntohs(a.sin_port));
    sl_conninfo *ci = sl_conninfo_new();
    sl_conninfo_set(ci, "host", "127.0.0.1,127.0.0.1");
    sl_conninfo_set(ci, "port", ports);
    sl_conninfo_set(ci, "connect_timeout", "2");
    sl_conninfo_set(ci, "sslmode", "disable");
    sl_conninfo_set(ci, "gssencmode", "disable");
    sl_conn *c = NULL;
    sl_error err;
    sl_error_clear(&err);
    assert_int_equal(sl_conn_open(&c, ci, SL_CONN_OPTS(.connect_retries = 0), &err), -1);
    assert_int_equal(err.kind, SL_E_CONNECT);
    if (!strstr(err.message, "timeout expired"))
        fail_msg("unexpected message \"%s\"", err.message);
    int arrived = accept4(mute, NULL, NULL, SOCK_NONBLOCK);
    if (arrived < 0)
        fail_msg("the second host was never tried: %s", err.message);
    close(arrived);
    close(mute);
    close(held[0]);
    close(held[1]);
    close(hung);
    sl_conninfo_free(ci);
}

static void
test_bad_connect_timeout(void **state)
{
    (void)state;
    sl_conninfo *ci = sl_conninfo_new();
    sl_conninfo_set(ci, "host", "127.0.0.1");
    sl_conninfo_set(ci, "port", "1");
    sl_conninfo_set(ci, "connect_timeout", "soon");
    sl_conn *c = NULL;
    sl_error err;
    sl_error_clear(&err);
    assert_int_equal(sl_conn_open(&c, ci, NULL, &err), -1);
    assert_int_equal(err.kind, SL_E_USAGE);
    assert_non_null(strstr(err.message, "invalid connect_timeout \"soon\""));
    sl_conninfo_free(ci);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_error_hides_password),
        cmocka_unit_test(test_bad_url_is_usage_error_without_password),
        cmocka_unit_test(test_connect_timeout_moves_to_next_host),
        cmocka_unit_test(test_bad_connect_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
