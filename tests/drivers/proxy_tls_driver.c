/* tests/drivers/proxy_tls_driver.c: the embedded proxy (include/sluice/proxy.h, its public API
 * only) with TLS, for tests/e2e/test_proxy_tls.py. It listens on a loopback TCP port of its
 * own, prints the port on stdout, accepts N clients and hands each to the proxy with
 * sluice_proxy_serve_fd() (as an application that accepts its own connections does), then
 * drains and exits.
 *   proxy_tls_driver UPSTREAM CERT KEY N
 * Exit 0; 2 when the proxy refuses its configuration (sluice_proxy_error() on stderr); 1 on any
 * other failure. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sluice/proxy.h"

static int
listen_loopback(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("proxy_tls_driver: listen");
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

int
main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: proxy_tls_driver UPSTREAM CERT KEY N\n");
        return 2;
    }
    sluice_proxy_config cfg = SLUICE_PROXY_CONFIG_INIT;
    cfg.upstream = argv[1];
    cfg.threads = 1;
    cfg.tls_cert_file = argv[2];
    cfg.tls_key_file = argv[3];
    int clients = atoi(argv[4]);
    sluice_proxy *p = NULL;
    if (sluice_proxy_new(&p, &cfg) != 0) {
        fprintf(stderr, "proxy_tls_driver: %s\n", p ? sluice_proxy_error(p) : "out of memory");
        sluice_proxy_free(p);
        return 2;
    }
    int port, lfd = listen_loopback(&port);
    if (lfd < 0 || sluice_proxy_start(p) != 0) {
        fprintf(stderr, "proxy_tls_driver: %s\n", sluice_proxy_error(p));
        sluice_proxy_free(p);
        return 1;
    }
    printf("%d\n", port);
    fflush(stdout);
    int rc = 0;
    for (int i = 0; i < clients && rc == 0; i++) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0 || sluice_proxy_serve_fd(p, fd) != 0) {
            perror("proxy_tls_driver: accept");
            rc = 1;
        }
    }
    close(lfd);
    (void)sluice_proxy_stop(p, SLUICE_PROXY_DRAIN);
    sluice_proxy_wait(p);
    sluice_proxy_free(p);
    return rc;
}
