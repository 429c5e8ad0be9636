/* proxy/addr.h: where the proxy listens and where its server is, parsed once at start.
 *   "HOST:PORT", "[IPV6]:PORT"     a TCP address (HOST resolved now, the first answer kept)
 *   "/path/.s.PGSQL.6432"          a Unix socket's file
 *   "/dir" or "/dir:PORT"          a Unix socket directory, as libpq's host=/dir: the socket
 *                                  is /dir/.s.PGSQL.PORT (default_port when no PORT)
 * An sl_addr is a plain value. */
#ifndef SL_PROXY_ADDR_H
#define SL_PROXY_ADDR_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "base/error.h"

typedef struct sl_addr {
    bool is_unix;
    struct sockaddr_storage ss;   /* TCP */
    socklen_t ss_len;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* Unix */
    char shown[300];              /* for messages: "127.0.0.1:6432", "/tmp/.s.PGSQL.5432" */
} sl_addr;

/* Parses text (see above); what names a bad address in err (SL_E_USAGE). */
SL_MUSTCHECK int sl_addr_parse(sl_addr *out, const char *text, int default_port,
                               const char *what, sl_error *err);

#endif
