/* cli/cmd_proxy.c: "sluice proxy": flags and pgproxy's environment variables into an
 * sl_proxy_config; proxy/ does the work. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

#include "base/log.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "pg/proto.h"
#include "proxy/proxy.h"

static const char usage[] =
    "Run a transparent PostgreSQL wire-protocol proxy: every client connection is relayed to\n"
    "a server connection of its own, authentication included (trust, md5, SCRAM-SHA-256).\n"
    "Cancel requests reach the right server connection. SIGTERM stops accepting and exits\n"
    "when the last client has left; SIGINT closes every connection and exits.\n\n"
    "Usage:\n"
    "  sluice proxy --listen ADDR --upstream ADDR [OPTION]...\n\n"
    "Options:\n"
    "      --listen=ADDR          where clients connect: HOST:PORT, [IPV6]:PORT, a Unix socket\n"
    "                             path (/dir/.s.PGSQL.6432) or a directory (/dir or /dir:PORT,\n"
    "                             port 6432 by default) (env PGPROXY_LISTEN_ADDR)\n"
    "      --upstream=ADDR        the server: HOST:PORT or its socket directory as libpq's\n"
    "                             host= (/dir or /dir:PORT, port 5432 by default)\n"
    "                             (env PGPROXY_SERVER_ADDR)\n"
    "      --threads=N            event-loop threads (default: the number of cores)\n"
    "      --max-message-size=SIZE  the largest message taken from either side, e.g. 64MB\n"
    "                             (default 1GB, the server's own limit); a client sending a\n"
    "                             larger one is closed with an error\n"
    "      --cache=none|memory[:SIZE]|redis://[USER@]HOST:PORT/DB\n"
    "                             answer simple-protocol SELECTs from a cache in this process\n"
    "                             (bounded to SIZE, default 64MB) or in a Redis that several\n"
    "                             proxies share; every write through a proxy drops its\n"
    "                             database's entries when it commits (default none). Env:\n"
    "                             PGPROXY_ENABLE_CACHE=true (Redis at PGPROXY_CACHE_ADDR\n"
    "                             HOST:PORT when set, else memory), PGPROXY_CACHE_USERNAME,\n"
    "                             PGPROXY_CACHE_PASSWORD (better than a password in the URL,\n"
    "                             which other users can see in the process list)\n"
    "      --ttl=SECONDS          how long an entry lives (default 3600;\n"
    "                             env PGPROXY_CACHE_TTL_SECOND)\n"
    "      --ttl-jitter=SECONDS   plus a random 0..SECONDS (default 5;\n"
    "                             env PGPROXY_CACHE_TTL_JITTER_SECOND)\n"
    "      --cache-max-entry=SIZE  an answer bigger than this is not stored (default 1MiB)\n"
    "      --cache-timeout=MS     how long a Redis command may take before the query goes to\n"
    "                             the server as a miss (default 1000)\n"
    "      --metrics-listen=HOST[:PORT]  answer GET /metrics there in Prometheus' text format\n"
    "                             (port 9930 by default)\n"
    "      --admin-users=USER[,USER]...  who may connect to database \"sluice\": the admin\n"
    "                             console (SHOW STATS, SHOW CLIENTS, INVALIDATE, ...), over\n"
    "                             the Unix socket from this OS user or from a loopback address\n"
    "      --config=FILE          key = value lines (ttl, ttl_jitter, cache_max_entry,\n"
    "                             log_level) over the flags' values; read again on SIGHUP\n"
    "      --tls-cert=FILE        answer clients' SSLRequest and terminate TLS (1.2 at least)\n"
    "                             with this PEM certificate (and chain) (env PGPROXY_TLS_CERT);\n"
    "                             the connection to the server stays as --upstream says (plain)\n"
    "      --tls-key=FILE         its PEM private key, no passphrase, mode 0600 or less (0640 if\n"
    "                             root owns it and sluice runs as another user), as the server\n"
    "                             wants its own (env PGPROXY_TLS_KEY)\n"
    "      --tls-ca=FILE          clients must show a certificate signed by a CA of this PEM\n"
    "                             file (env PGPROXY_TLS_CA)\n"
    "  -v, --verbose              one line per client connect and disconnect, and per query\n"
    "                             with the cache on\n"
    "  -q, --quiet                log only warnings and errors\n"
    "      --log-format=human|json  log lines for people or machines (default human)\n"
    "      --help                 show this help\n\n"
    "Environment: PGPROXY_LOG_LEVEL (debug, info, warn, error) sets the level when neither\n"
    "-v nor -q is given.\n";

enum {
    OPT_LISTEN = SL_OPT_COMMAND_BASE,
    OPT_UPSTREAM,
    OPT_THREADS,
    OPT_MAX_MESSAGE,
    OPT_CACHE,
    OPT_TTL,
    OPT_TTL_JITTER,
    OPT_CACHE_MAX_ENTRY,
    OPT_CACHE_TIMEOUT,
    OPT_METRICS_LISTEN,
    OPT_ADMIN_USERS,
    OPT_CONFIG,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_TLS_CA,
};

static const struct option longopts[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"upstream", required_argument, NULL, OPT_UPSTREAM},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"max-message-size", required_argument, NULL, OPT_MAX_MESSAGE},
    {"cache", required_argument, NULL, OPT_CACHE},
    {"ttl", required_argument, NULL, OPT_TTL},
    {"ttl-jitter", required_argument, NULL, OPT_TTL_JITTER},
    {"cache-max-entry", required_argument, NULL, OPT_CACHE_MAX_ENTRY},
    {"cache-timeout", required_argument, NULL, OPT_CACHE_TIMEOUT},
    {"metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN},
    {"admin-users", required_argument, NULL, OPT_ADMIN_USERS},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"tls-ca", required_argument, NULL, OPT_TLS_CA},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"log-format", required_argument, NULL, SL_OPT_LOG_FORMAT},
    {"help", no_argument, NULL, SL_OPT_HELP},
    {NULL, 0, NULL, 0},
};

typedef struct proxy_args {
    const char *listen;
    const char *upstream;
    int threads;
    uint32_t max_message;
    const char *cache;
    int ttl, jitter;     /* -1: not given */
    uint32_t cache_max_entry;
    int cache_timeout_ms;
    const char *metrics_listen;
    const char *admin_users;   /* comma-separated */
    const char *config;
    char redis_url[300];       /* from PGPROXY_CACHE_ADDR */
    sl_redisstore_opts redis;
    sl_tls_files tls;
} proxy_args;

/* "1048576", "64kB", "64MB", "1GB" (the server's units), "64KiB", "64MiB", "1GiB", "64k". */
static int
parse_size(const char *opt, const char *arg, uint32_t *out, sl_error *err)
{
    static const struct { const char *unit; unsigned long long mult; } units[] = {
        {"", 1}, {"B", 1}, {"k", 1024}, {"kB", 1024}, {"KiB", 1024}, {"M", 1 << 20},
        {"MB", 1 << 20}, {"MiB", 1 << 20}, {"G", 1 << 30}, {"GB", 1 << 30}, {"GiB", 1 << 30},
    };
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    if (!errno && end != arg && arg[0] != '-') {
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            if (strcmp(end, units[i].unit) != 0)
                continue;
            unsigned long long bytes = v * units[i].mult;
            if (v <= (1ull << 30) && bytes >= 1024 && bytes <= (1ull << 30)) {
                /* 1 GiB means the server's limit, which is one byte less */
                *out = bytes > SL_PROTO_MESSAGE_MAX ? SL_PROTO_MESSAGE_MAX : (uint32_t)bytes;
                return 0;
            }
        }
    }
    sl_error_set(err, SL_E_USAGE,
                 "invalid value \"%s\" for %s: expected a size from 1kB to "
                 "1GB (e.g. 1048576, 64MB)", arg, opt);
    return -1;
}

static int
proxy_opt(void *ctx, int opt, const char *arg, sl_error *err)
{
    proxy_args *a = ctx;
    switch (opt) {
    case OPT_LISTEN:
        a->listen = arg;
        return 0;
    case OPT_UPSTREAM:
        a->upstream = arg;
        return 0;
    case OPT_THREADS:
        return sl_cli_parse_int("--threads", arg, 1, 1024, &a->threads, err);
    case OPT_MAX_MESSAGE:
        return parse_size("--max-message-size", arg, &a->max_message, err);
    case OPT_CACHE:
        a->cache = arg;
        return 0;
    case OPT_TTL:
        return sl_cli_parse_int("--ttl", arg, 1, 31536000, &a->ttl, err);
    case OPT_TTL_JITTER:
        return sl_cli_parse_int("--ttl-jitter", arg, 0, 86400, &a->jitter, err);
    case OPT_CACHE_MAX_ENTRY:
        return parse_size("--cache-max-entry", arg, &a->cache_max_entry, err);
    case OPT_METRICS_LISTEN:
        a->metrics_listen = arg;
        return 0;
    case OPT_ADMIN_USERS:
        a->admin_users = arg;
        return 0;
    case OPT_CONFIG:
        a->config = arg;
        return 0;
    case OPT_CACHE_TIMEOUT:
        return sl_cli_parse_int("--cache-timeout", arg, 1, 600000, &a->cache_timeout_ms, err);
    case OPT_TLS_CERT:
        a->tls.cert_file = arg;
        return 0;
    case OPT_TLS_KEY:
        a->tls.key_file = arg;
        return 0;
    case OPT_TLS_CA:
        a->tls.ca_file = arg;
        return 0;
    }
    sl_error_set(err, SL_E_INTERNAL, "option %d has no handler", opt);
    return -1;
}

/* PGPROXY_LOG_LEVEL, pgproxy's: used when neither -v nor -q was given. */
static int
env_verbosity(int *verbosity)
{
    const char *level = getenv("PGPROXY_LOG_LEVEL");
    if (!level || !*level || *verbosity != 0)
        return 0;
    if (strcasecmp(level, "debug") == 0)
        *verbosity = 1;
    else if (strcasecmp(level, "warn") == 0 || strcasecmp(level, "warning") == 0 ||
             strcasecmp(level, "error") == 0)
        *verbosity = -1;
    else if (strcasecmp(level, "info") != 0)
        return -1;
    return 0;
}

/* An environment variable of seconds, when the flag was not given. */
static int
env_seconds(const char *var, const char *flag, int max, int *out, sl_error *err)
{
    const char *v = getenv(var);
    if (*out >= 0 || !v || !*v)
        return 0;
    char what[96];
    snprintf(what, sizeof what, "%s (%s)", var, flag);
    return sl_cli_parse_int(what, v, 0, max, out, err);
}

/* --cache, or PGPROXY_ENABLE_CACHE=true meaning the memory store, into the config. */
static int
cache_config(proxy_args *a, sl_proxy_config *cfg, sl_error *err)
{
    const char *c = a->cache;
    const char *enable = getenv("PGPROXY_ENABLE_CACHE");
    const char *addr = getenv("PGPROXY_CACHE_ADDR");
    if (!c && enable && strcasecmp(enable, "true") == 0) {
        if (addr && *addr) {
            snprintf(a->redis_url, sizeof a->redis_url, "redis://%s", addr);
            c = a->redis_url;
        } else {
            c = "memory";
        }
    }
    if (env_seconds("PGPROXY_CACHE_TTL_SECOND", "--ttl", 31536000, &a->ttl, err) != 0 ||
        env_seconds("PGPROXY_CACHE_TTL_JITTER_SECOND", "--ttl-jitter", 86400, &a->jitter,
                    err) != 0)
        return -1;
    cfg->ttl_s = a->ttl >= 0 ? (uint32_t)a->ttl : 3600;
    cfg->jitter_s = a->jitter >= 0 ? (uint32_t)a->jitter : 5;
    cfg->cache_max_entry = a->cache_max_entry;
    if (!c || strcmp(c, "none") == 0)
        return 0;
    if (strcmp(c, "memory") == 0) {
        cfg->cache_bytes = 64u << 20;
        return 0;
    }
    if (strncmp(c, "memory:", 7) == 0) {
        uint32_t bytes;
        if (parse_size("--cache memory:", c + 7, &bytes, err) != 0)
            return -1;
        cfg->cache_bytes = bytes;
        return 0;
    }
    if (strncmp(c, "redis://", 8) == 0) {
        sl_redis_url u;
        if (sl_redis_url_parse(c, &u, err) != 0)  /* its message never holds the URL */
            return -1;
        sl_redis_url_free(&u);
        const char *user = getenv("PGPROXY_CACHE_USERNAME");
        const char *password = getenv("PGPROXY_CACHE_PASSWORD");
        a->redis = (sl_redisstore_opts){.url = c, .user = user && *user ? user : NULL,
                                        .password = password && *password ? password : NULL,
                                        .ttl_s = cfg->ttl_s, .jitter_s = cfg->jitter_s,
                                        .max_entry_bytes = a->cache_max_entry,
                                        .timeout_ms = a->cache_timeout_ms};
        cfg->redis = &a->redis;
        return 0;
    }
    /* the value is not shown: it may be a URL with a password */
    sl_error_set(err, SL_E_USAGE,
                 "invalid value for --cache: expected none, memory[:SIZE] or redis://...");
    return -1;
}

/* --admin-users "a,b" into a list (the strings point into *copy, which the caller frees). */
static int
admin_users(const char *arg, char **copy, const char ***users, size_t *n, sl_error *err)
{
    *copy = NULL;
    *users = NULL;
    *n = 0;
    if (!arg)
        return 0;
    *copy = strdup(arg);
    size_t cap = 1;
    for (const char *p = arg; *p; p++)
        cap += *p == ',';
    *users = calloc(cap, sizeof **users);
    if (!*copy || !*users) {
        sl_error_set(err, SL_E_INTERNAL, "out of memory");
        return -1;
    }
    char *save = NULL;
    for (char *t = strtok_r(*copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (*t)
            (*users)[(*n)++] = t;
    if (*n == 0) {
        sl_error_set(err, SL_E_USAGE, "--admin-users: expected one or more user names");
        return -1;
    }
    return 0;
}

static const char *
env_or(const char *given, const char *var)
{
    const char *v = getenv(var);
    return given ? given : v && *v ? v : NULL;
}

/* --tls-*, or PGPROXY_TLS_*: the certificate and its key go together; the files themselves
 * are checked when the proxy starts (proxy/tls.h). */
static int
tls_config(proxy_args *a, sl_proxy_config *cfg, sl_error *err)
{
    sl_tls_files *t = &a->tls;
    t->cert_file = env_or(t->cert_file, "PGPROXY_TLS_CERT");
    t->key_file = env_or(t->key_file, "PGPROXY_TLS_KEY");
    t->ca_file = env_or(t->ca_file, "PGPROXY_TLS_CA");
    if (!t->cert_file != !t->key_file) {
        sl_error_set(err, SL_E_USAGE, "%s needs %s too",
                     t->cert_file ? "--tls-cert" : "--tls-key",
                     t->cert_file ? "--tls-key (or PGPROXY_TLS_KEY)"
                                  : "--tls-cert (or PGPROXY_TLS_CERT)");
        return -1;
    }
    if (t->ca_file && !t->cert_file) {
        sl_error_set(err, SL_E_USAGE, "--tls-ca needs --tls-cert and --tls-key");
        return -1;
    }
    cfg->tls = *t;
    return 0;
}

int
sl_cmd_proxy(int argc, char **argv)
{
    proxy_args a = {.threads = (int)uv_available_parallelism(),
                    .max_message = SL_PROTO_MESSAGE_MAX, .ttl = -1, .jitter = -1,
                    .cache_max_entry = 1u << 20, .cache_timeout_ms = 1000};
    sl_cli_common common;
    sl_cli_common_init(&common);
    sl_cli_spec spec = {.name = "proxy", .longopts = longopts, .usage = usage,
                        .on_opt = proxy_opt, .ctx = &a};
    int first, code;
    char *users_copy = NULL;
    const char **users = NULL;
    sl_error err;
    sl_error_clear(&err);
    if (sl_cli_parse(&spec, &common, argc, argv, &first, &code) != 0)
        goto out;
    if (!a.listen)
        a.listen = getenv("PGPROXY_LISTEN_ADDR");
    if (!a.upstream)
        a.upstream = getenv("PGPROXY_SERVER_ADDR");
    if (env_verbosity(&common.verbosity) != 0) {
        code = sl_cli_usage_error("proxy", "invalid PGPROXY_LOG_LEVEL \"%s\": expected debug, "
                                  "info, warn or error", getenv("PGPROXY_LOG_LEVEL"));
        goto out;
    }
    if (!a.listen || !a.upstream) {
        code = sl_cli_usage_error("proxy", "%s is required (or %s)",
                                  a.listen ? "--upstream" : "--listen",
                                  a.listen ? "PGPROXY_SERVER_ADDR" : "PGPROXY_LISTEN_ADDR");
        goto out;
    }
    sl_proxy_config cfg = {.threads = a.threads, .max_message = a.max_message,
                           .config_path = a.config};
    sl_addr metrics;
    if (sl_addr_parse(&cfg.listen, a.listen, 6432, "--listen", &err) != 0 ||
        sl_addr_parse(&cfg.upstream, a.upstream, 5432, "--upstream", &err) != 0 ||
        (a.metrics_listen &&
         sl_addr_parse(&metrics, a.metrics_listen, 9930, "--metrics-listen", &err) != 0) ||
        admin_users(a.admin_users, &users_copy, &users, &cfg.n_admin_users, &err) != 0 ||
        cache_config(&a, &cfg, &err) != 0 || tls_config(&a, &cfg, &err) != 0) {
        code = sl_cli_usage_error("proxy", "%s", err.message);
        goto out;
    }
    cfg.metrics_listen = a.metrics_listen ? &metrics : NULL;
    cfg.admin_users = users;
    if (sl_cli_common_finish(&common, &err) != 0 || sl_proxy_run(&cfg, &err) != 0) {
        code = sl_cli_fail(&err);
        goto out;
    }
    code = 0;
out:
    free(users);
    free(users_copy);
    sl_cli_common_free(&common);
    return code;
}
