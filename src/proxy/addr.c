/* proxy/addr.c: parsing "HOST:PORT" and Unix socket paths (see addr.h). */
#include "proxy/addr.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int
parse_port(const char *s, int *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 1 || v > 65535)
        return -1;
    *out = (int)v;
    return 0;
}

/* A path naming a directory (with an optional ":PORT") or the socket file itself. */
static int
parse_unix(sl_addr *out, const char *text, int default_port, const char *what, sl_error *err)
{
    char dir[sizeof out->path];
    struct stat st;
    int port = default_port;
    const char *colon = strrchr(text, ':');
    if (colon && parse_port(colon + 1, &port) == 0 && (size_t)(colon - text) < sizeof dir) {
        snprintf(dir, sizeof dir, "%.*s", (int)(colon - text), text);
    } else if (stat(text, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(dir, sizeof dir, "%s", text);
    } else {
        if (strlen(text) >= sizeof out->path) {
            sl_error_set(err, SL_E_USAGE, "%s \"%s\": the socket path is too long", what, text);
            return -1;
        }
        snprintf(out->path, sizeof out->path, "%s", text);
        goto done;
    }
    int n = snprintf(out->path, sizeof out->path, "%s/.s.PGSQL.%d", dir, port);
    if (n < 0 || (size_t)n >= sizeof out->path) {
        sl_error_set(err, SL_E_USAGE, "%s \"%s\": the socket path is too long", what, text);
        return -1;
    }
done:
    out->is_unix = true;
    snprintf(out->shown, sizeof out->shown, "%s", out->path);
    return 0;
}

int
sl_addr_parse(sl_addr *out, const char *text, int default_port, const char *what,
              sl_error *err)
{
    memset(out, 0, sizeof *out);
    if (!text || !*text) {
        sl_error_set(err, SL_E_USAGE, "%s is empty: expected HOST:PORT or a socket path", what);
        return -1;
    }
    if (text[0] == '/')
        return parse_unix(out, text, default_port, what, err);
    char host[256];
    const char *colon;
    int port;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        colon = close && close[1] == ':' ? close + 1 : NULL;
        if (!colon || close - text - 1 >= (long)sizeof host)
            goto bad;
        snprintf(host, sizeof host, "%.*s", (int)(close - text - 1), text + 1);
    } else {
        colon = strrchr(text, ':');
        if (!colon || colon == text || colon - text >= (long)sizeof host ||
            memchr(text, ':', (size_t)(colon - text)))
            goto bad;
        snprintf(host, sizeof host, "%.*s", (int)(colon - text), text);
    }
    if (parse_port(colon + 1, &port) != 0)
        goto bad;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    char port_s[8];
    snprintf(port_s, sizeof port_s, "%d", port);
    int rc = getaddrinfo(host, port_s, &hints, &res);
    if (rc != 0) {
        sl_error_set(err, SL_E_USAGE, "%s \"%s\": cannot resolve \"%s\": %s", what, text, host,
                     gai_strerror(rc));
        return -1;
    }
    memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
    out->ss_len = res->ai_addrlen;
    freeaddrinfo(res);
    snprintf(out->shown, sizeof out->shown, "%s", text);
    return 0;
bad:
    sl_error_set(err, SL_E_USAGE,
                 "%s \"%s\": expected HOST:PORT (port 1 to 65535), [IPV6]:PORT or an absolute "
                 "socket path", what, text);
    return -1;
}
