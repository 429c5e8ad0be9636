/* examples/embed_proxy.c: sluice's proxy embedded in a program (include/sluice/proxy.h).
 * The program starts a proxy on its own threads and is its own client:
 *   embed_proxy socket UPSTREAM CONNINFO SQL
 *       libpq connects through the proxy's private socket directory and runs SQL
 *   embed_proxy fd UPSTREAM USER DBNAME SQL
 *       the proxy serves one end of a socketpair; the program speaks the protocol on the
 *       other end itself (libpq cannot connect over a descriptor): startup, one Query
 *   embed_proxy hangup UPSTREAM USER DBNAME
 *       the socketpair client stops reading before its query's answer: the proxy's write gets
 *       EPIPE and ends that session, and the program (SIGPIPE left at its default, which ends
 *       a process) goes on, because the proxy's threads block signals
 *   embed_proxy drain UPSTREAM CONNINFO
 *   embed_proxy immediate UPSTREAM CONNINFO
 *       stop the proxy while a libpq client is connected, and show what the client sees
 * UPSTREAM is the server ("HOST:PORT" or its socket directory); CONNINFO holds what libpq needs
 * besides host and port (dbname, user; a password comes from PGPASSWORD or a pgpass file). The
 * rows are printed one a line, columns separated by a tab, NULL as \N. Exit 0 on success. */
#include <arpa/inet.h>
#include <errno.h>
#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sluice/proxy.h"

static sluice_proxy *
start_proxy(const char *upstream, int listen)
{
    sluice_proxy_config cfg = SLUICE_PROXY_CONFIG_INIT;
    cfg.upstream = upstream;
    cfg.threads = 2;
    sluice_proxy *p = NULL;
    if (sluice_proxy_new(&p, &cfg) != 0 || (listen && sluice_proxy_listen_unix(p, NULL, 0) != 0)
        || sluice_proxy_start(p) != 0) {
        fprintf(stderr, "embed_proxy: %s\n", p ? sluice_proxy_error(p) : "out of memory");
        sluice_proxy_free(p);
        return NULL;
    }
    return p;
}

/* CONNINFO plus the proxy's socket as host and port. */
static PGconn *
connect_through(sluice_proxy *p, const char *conninfo)
{
    char port[16];
    snprintf(port, sizeof port, "%d", sluice_proxy_port(p));
    const char *keys[] = {"dbname", "host", "port", NULL};
    const char *values[] = {conninfo, sluice_proxy_socket_dir(p), port, NULL};
    return PQconnectdbParams(keys, values, /*expand_dbname=*/1);
}

static void
print_value(const char *v, int is_null, int last)
{
    fputs(is_null ? "\\N" : v, stdout);
    fputc(last ? '\n' : '\t', stdout);
}

static int
run_socket(const char *upstream, const char *conninfo, const char *sql)
{
    sluice_proxy *p = start_proxy(upstream, 1);
    if (!p)
        return 1;
    char dir[512];
    snprintf(dir, sizeof dir, "%s", sluice_proxy_socket_dir(p));
    int rc = 1;
    PGconn *c = connect_through(p, conninfo);
    PGresult *r = NULL;
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "embed_proxy: %s", PQerrorMessage(c));
        goto done;
    }
    r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "embed_proxy: %s", PQerrorMessage(c));
        goto done;
    }
    for (int i = 0; i < PQntuples(r); i++)
        for (int j = 0; j < PQnfields(r); j++)
            print_value(PQgetvalue(r, i, j), PQgetisnull(r, i, j), j == PQnfields(r) - 1);
    rc = 0;
done:
    PQclear(r);
    PQfinish(c);
    sluice_proxy_stop(p, SLUICE_PROXY_DRAIN);
    sluice_proxy_wait(p);
    sluice_proxy_free(p);
    if (rc == 0 && access(dir, F_OK) == 0) {
        fprintf(stderr, "embed_proxy: the socket directory %s is still there\n", dir);
        rc = 1;
    }
    return rc;
}

/* The fd mode's client: just enough of the protocol (version 3) for a trust login and one
 * simple Query, on a blocking socket. */

static int
write_all(int fd, const void *buf, size_t len)
{
    const char *b = buf;
    while (len > 0) {
        ssize_t n = write(fd, b, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        b += n;
        len -= (size_t)n;
    }
    return 0;
}

static int
read_all(int fd, void *buf, size_t len)
{
    char *b = buf;
    while (len > 0) {
        ssize_t n = read(fd, b, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        b += n;
        len -= (size_t)n;
    }
    return 0;
}

/* One message: its type and body (malloc'd, *len bytes). -1 on a closed socket. */
static int
read_message(int fd, char *type, char **body, uint32_t *len)
{
    char head[5];
    uint32_t n;
    if (read_all(fd, head, 5) != 0)
        return -1;
    memcpy(&n, head + 1, 4);
    n = ntohl(n);
    if (n < 4 || n > (1u << 30))
        return -1;
    *type = head[0];
    *len = n - 4;
    *body = malloc(*len + 1);
    if (!*body || read_all(fd, *body, *len) != 0) {
        free(*body);
        return -1;
    }
    (*body)[*len] = '\0';
    return 0;
}

static uint32_t
get32(const char *b)
{
    uint32_t v;
    memcpy(&v, b, 4);
    return ntohl(v);
}

static uint16_t
get16(const char *b)
{
    uint16_t v;
    memcpy(&v, b, 2);
    return ntohs(v);
}

/* ErrorResponse: its message field (M). */
static void
print_error(const char *body, uint32_t len)
{
    for (uint32_t i = 0; i < len && body[i];) {
        const char *field = body + i + 1;
        if (body[i] == 'M')
            fprintf(stderr, "embed_proxy: server: %s\n", field);
        i += 2 + (uint32_t)strlen(field);
    }
}

static void
print_row(const char *body, uint32_t len)
{
    if (len < 2)
        return;
    uint16_t ncols = get16(body);
    uint32_t at = 2;
    for (uint16_t c = 0; c < ncols && at + 4 <= len; c++) {
        uint32_t vlen = get32(body + at);
        at += 4;
        int is_null = vlen == 0xffffffffu;
        if (!is_null && vlen > len - at)
            return;
        char *v = is_null ? NULL : strndup(body + at, vlen);
        print_value(v, is_null, c == ncols - 1);
        free(v);
        at += is_null ? 0 : vlen;
    }
}

/* Reads until ReadyForQuery; DataRows are printed. 0, or -1 on an error or a closed socket. */
static int
read_until_ready(int fd)
{
    int rc = 0;
    for (;;) {
        char type;
        char *body;
        uint32_t len;
        if (read_message(fd, &type, &body, &len) != 0) {
            fprintf(stderr, "embed_proxy: the connection closed\n");
            return -1;
        }
        if (type == 'E') {
            print_error(body, len);
            rc = -1;
        } else if (type == 'R' && len >= 4 && get32(body) != 0) {
            fprintf(stderr, "embed_proxy: the server asks for a password (method %u): the "
                    "fd mode of this example logs in with trust only\n", get32(body));
            free(body);
            return -1;
        } else if (type == 'D') {
            print_row(body, len);
        }
        free(body);
        if (type == 'Z')
            return rc;
    }
}

static int
send_startup(int fd, const char *user, const char *dbname)
{
    char msg[1024];
    size_t at = 8;
    const char *pairs[] = {"user", user, "database", dbname};
    for (size_t i = 0; i < 4; i++) {
        size_t n = strlen(pairs[i]) + 1;
        if (at + n + 1 > sizeof msg)
            return -1;
        memcpy(msg + at, pairs[i], n);
        at += n;
    }
    msg[at++] = '\0';
    uint32_t len = htonl((uint32_t)at), version = htonl(3u << 16);
    memcpy(msg, &len, 4);
    memcpy(msg + 4, &version, 4);
    return write_all(fd, msg, at);
}

static int
send_typed(int fd, char type, const char *text)
{
    size_t n = text ? strlen(text) + 1 : 0;
    uint32_t len = htonl((uint32_t)(4 + n));
    if (write_all(fd, &type, 1) != 0 || write_all(fd, &len, 4) != 0)
        return -1;
    return n ? write_all(fd, text, n) : 0;
}

static int
run_fd(const char *upstream, const char *user, const char *dbname, const char *sql)
{
    sluice_proxy *p = start_proxy(upstream, 0);
    if (!p)
        return 1;
    int sv[2], rc = 1;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        perror("embed_proxy: socketpair");
        goto done;
    }
    if (sluice_proxy_serve_fd(p, sv[0]) != 0) {
        fprintf(stderr, "embed_proxy: the proxy refused the descriptor\n");
        close(sv[0]);
        close(sv[1]);
        goto done;
    }
    if (send_startup(sv[1], user, dbname) == 0 && read_until_ready(sv[1]) == 0 &&
        send_typed(sv[1], 'Q', sql) == 0 && read_until_ready(sv[1]) == 0 &&
        send_typed(sv[1], 'X', NULL) == 0)
        rc = 0;
    close(sv[1]);
done:
    sluice_proxy_stop(p, SLUICE_PROXY_DRAIN);
    sluice_proxy_wait(p);  /* the session ends when the proxy sees our end close */
    sluice_proxy_free(p);
    return rc;
}

static int
run_hangup(const char *upstream, const char *user, const char *dbname)
{
    sluice_proxy *p = start_proxy(upstream, 0);
    if (!p)
        return 1;
    int sv[2], rc = 1;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 ||
        sluice_proxy_serve_fd(p, sv[0]) != 0) {
        fprintf(stderr, "embed_proxy: no socketpair served\n");
        sluice_proxy_free(p);
        return 1;
    }
    /* After shutdown(SHUT_RD) the proxy's writes to its end fail with EPIPE (and raise
     * SIGPIPE on the writing thread), while it sees no end of input from us. */
    if (send_startup(sv[1], user, dbname) == 0 && read_until_ready(sv[1]) == 0 &&
        shutdown(sv[1], SHUT_RD) == 0 && send_typed(sv[1], 'Q', "SELECT 1") == 0) {
        sluice_proxy_stop(p, SLUICE_PROXY_DRAIN);
        sluice_proxy_wait(p);  /* returns once the failed write has ended the session */
        printf("clients after the hangup: %d\n", sluice_proxy_clients(p));
        rc = 0;
    }
    close(sv[1]);
    sluice_proxy_free(p);
    return rc;
}

/* The client's query after the stop: prints its one value, or that the connection failed. */
static void
query_after_stop(PGconn *c)
{
    PGresult *r = PQexec(c, "SELECT 'served after the stop'");
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
        printf("connected client: %s\n", PQgetvalue(r, 0, 0));
    else
        printf("connected client: the connection failed\n");
    PQclear(r);
}

static int
run_stop(const char *upstream, const char *conninfo, sluice_proxy_stop_mode mode)
{
    sluice_proxy *p = start_proxy(upstream, 1);
    if (!p)
        return 1;
    PGconn *c = connect_through(p, conninfo);
    int rc = 1;
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "embed_proxy: %s", PQerrorMessage(c));
        PQfinish(c);
        sluice_proxy_free(p);
        return 1;
    }
    printf("clients before the stop: %d\n", sluice_proxy_clients(p));
    sluice_proxy_stop(p, mode);
    PGconn *late = connect_through(p, conninfo);
    printf("new connection: %s\n", PQstatus(late) == CONNECTION_OK ? "accepted" : "refused");
    PQfinish(late);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0) {
        int refused = sluice_proxy_serve_fd(p, sv[0]) != 0;
        printf("new descriptor: %s\n", refused ? "refused" : "accepted");
        if (refused)
            close(sv[0]);
        close(sv[1]);
        query_after_stop(c);
        PQfinish(c);
        sluice_proxy_wait(p);
        printf("clients after the stop: %d\n", sluice_proxy_clients(p));
        rc = 0;
    }
    sluice_proxy_free(p);
    return rc;
}

int
main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "socket") == 0)
        return run_socket(argv[2], argv[3], argv[4]);
    if (argc == 6 && strcmp(argv[1], "fd") == 0)
        return run_fd(argv[2], argv[3], argv[4], argv[5]);
    if (argc == 5 && strcmp(argv[1], "hangup") == 0)
        return run_hangup(argv[2], argv[3], argv[4]);
    if (argc == 4 && strcmp(argv[1], "drain") == 0)
        return run_stop(argv[2], argv[3], SLUICE_PROXY_DRAIN);
    if (argc == 4 && strcmp(argv[1], "immediate") == 0)
        return run_stop(argv[2], argv[3], SLUICE_PROXY_IMMEDIATE);
    fprintf(stderr, "usage: embed_proxy socket UPSTREAM CONNINFO SQL\n"
                    "       embed_proxy fd UPSTREAM USER DBNAME SQL\n"
                    "       embed_proxy hangup UPSTREAM USER DBNAME\n"
                    "       embed_proxy drain|immediate UPSTREAM CONNINFO\n");
    return 2;
}
