/* proxy/admin.c: the admin console (see admin.h). Every answer is built whole in the output
 * buffer of the framer's callback: the console never waits on anything. */
#include "proxy/admin.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "pg/proto.h"

struct sl_admin {
    sl_proxy_context *ctx;
    sl_cache *cache;
    bool terminated;
    bool skipping;   /* an extended-protocol message was refused: skip to Sync */
};

/* ---- who may connect ---------------------------------------------------------------------- */

void
sl_admin_peer(int fd, bool is_unix, char *address, size_t cap, bool *local)
{
    *local = false;
    snprintf(address, cap, "%s", is_unix ? "unix" : "unknown");
    if (is_unix) {
        struct ucred cred;
        socklen_t len = sizeof cred;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
            *local = cred.uid == geteuid() || cred.uid == 0;
            snprintf(address, cap, "unix (uid %u)", (unsigned)cred.uid);
        }
        return;
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char host[INET6_ADDRSTRLEN] = "";
    if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        *local = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
        snprintf(address, cap, "%s:%u", host, (unsigned)ntohs(in->sin_port));
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        *local = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
        snprintf(address, cap, "[%s]:%u", host, (unsigned)ntohs(in6->sin6_port));
    }
}

static bool
listed(const sl_proxy_context *ctx, const char *user)
{
    for (size_t i = 0; i < ctx->n_admin_users; i++)
        if (strcmp(ctx->admin_users[i], user) == 0)
            return true;
    return false;
}

static void
parameter(sl_buf *out, const char *name, const char *value)
{
    sl_proto_writer w;
    sl_proto_begin(&w, out, 'S', 0);
    sl_proto_put_cstring(&w, name);
    sl_proto_put_cstring(&w, value);
    if (sl_proto_end(&w) != 0)
        return;  /* cannot be: a few bytes */
}

sl_admin *
sl_admin_open(sl_proxy_context *ctx, sl_cache *cache, const char *user, bool local, sl_buf *out)
{
    const char *why = NULL;
    char msg[256];
    if (!ctx->n_admin_users)
        why = "the admin console is not enabled (no --admin-users)";
    else if (!listed(ctx, user))
        why = "the user is not in --admin-users";
    else if (!local)
        why = "the admin console takes connections only over the Unix socket (from the "
              "proxy's own OS user) or from a loopback address";
    if (why) {
        /* the log escapes the name (any bytes a client chose); the client learns which
         * condition failed, which tells it nothing it could not try */
        snprintf(msg, sizeof msg, "admin console refused: %s", why);
        SL_WARN("admin console refused for user \"%s\": %s", user, why);
        sl_proto_write_error(out, "FATAL", "28000", msg);
        return NULL;
    }
    sl_admin *a = sl_calloc(1, sizeof *a);
    a->ctx = ctx;
    a->cache = cache;
    sl_proto_writer w;
    sl_proto_begin(&w, out, 'R', 0);
    sl_proto_put_int32(&w, 0);  /* AuthenticationOk */
    if (sl_proto_end(&w) != 0)
        return a;
    parameter(out, "server_version", "15.0 (sluice " SL_VERSION " admin console)");
    parameter(out, "server_encoding", "UTF8");
    parameter(out, "client_encoding", "UTF8");
    parameter(out, "DateStyle", "ISO, MDY");
    parameter(out, "integer_datetimes", "on");
    parameter(out, "standard_conforming_strings", "on");
    parameter(out, "application_name", "");
    sl_proto_write_ready(out, 'I');
    SL_DEBUG("admin console: user \"%s\" connected", user);
    return a;
}

bool
sl_admin_done(const sl_admin *a)
{
    return a && a->terminated;
}

void
sl_admin_free(sl_admin *a)
{
    free(a);
}

/* ---- answers ------------------------------------------------------------------------------ */

static void
row_description(sl_buf *out, size_t n, const char *const *names)
{
    sl_proto_writer w;
    sl_proto_begin(&w, out, 'T', 0);
    sl_proto_put_int16(&w, (int16_t)n);
    for (size_t i = 0; i < n; i++) {
        sl_proto_put_cstring(&w, names[i]);
        sl_proto_put_int32(&w, 0);    /* no table */
        sl_proto_put_int16(&w, 0);
        sl_proto_put_int32(&w, 25);   /* text */
        sl_proto_put_int16(&w, -1);
        sl_proto_put_int32(&w, -1);
        sl_proto_put_int16(&w, 0);    /* text format */
    }
    if (sl_proto_end(&w) != 0)
        return;
}

static void
data_row(sl_buf *out, size_t n, const char *const *values)
{
    sl_proto_writer w;
    sl_proto_begin(&w, out, 'D', 0);
    sl_proto_put_int16(&w, (int16_t)n);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(values[i]);
        sl_proto_put_int32(&w, (int32_t)len);
        sl_proto_put_bytes(&w, values[i], len);
    }
    if (sl_proto_end(&w) != 0)
        return;
}

static void
complete(sl_buf *out, const char *tag)
{
    sl_proto_writer w;
    sl_proto_begin(&w, out, 'C', 0);
    sl_proto_put_cstring(&w, tag);
    if (sl_proto_end(&w) != 0)
        return;
}

/* A two-column (name, value) answer, built row by row. */
static void
kv_begin(sl_buf *out)
{
    static const char *const cols[] = {"name", "value"};
    row_description(out, 2, cols);
}

static void
kv(sl_buf *out, const char *name, const char *fmt, ...) SL_PRINTF(3, 4);

static void
kv(sl_buf *out, const char *name, const char *fmt, ...)
{
    char v[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof v, fmt, ap);
    va_end(ap);
    const char *vals[] = {name, v};
    data_row(out, 2, vals);
}

static void
kv_u64(sl_buf *out, const char *name, uint64_t v)
{
    kv(out, name, "%" PRIu64, v);
}

static void
show_stats(sl_admin *a, sl_buf *out)
{
    sl_stats_snapshot s;
    sl_stats_read(a->ctx->stats, &s);
    const sl_cache_counts *c = &s.cache;
    uint64_t asked = c->hits + c->misses;
    kv_begin(out);
    kv(out, "clients", "%" PRId64, s.clients);
    kv(out, "clients_total", "%" PRId64, s.clients_total);
    kv(out, "server_connections", "%" PRId64, s.servers);
    kv(out, "server_connections_total", "%" PRId64, s.servers_total);
    kv_u64(out, "queries_simple", s.queries_simple);
    kv_u64(out, "queries_extended", s.queries_extended);
    kv_u64(out, "cache_hits", c->hits);
    kv_u64(out, "cache_misses", c->misses);
    kv(out, "cache_hit_ratio", "%.4f", asked ? (double)c->hits / (double)asked : 0.0);
    kv_u64(out, "cache_bytes_served", c->bytes_served);
    kv_u64(out, "cache_evictions", c->evictions);
    kv_u64(out, "cache_invalidations", c->invalidations);
    kv_u64(out, "cache_errors", c->errors);
    kv_u64(out, "upstream_latency_count", s.latency.n);
    kv_u64(out, "upstream_latency_sum_us", s.latency.sum_us);
    kv_u64(out, "upstream_latency_avg_us", s.latency.n ? s.latency.sum_us / s.latency.n : 0);
    complete(out, "SHOW");
}

static void
show_cache(sl_admin *a, sl_buf *out)
{
    sl_stats_snapshot s;
    sl_settings set;
    sl_stats_read(a->ctx->stats, &s);
    sl_proxy_context_settings(a->ctx, &set);
    const sl_cache_counts *c = &s.cache;
    kv_begin(out);
    kv(out, "store", "%s", a->ctx->redis ? "redis" : a->ctx->cache ? "memory" : "none");
    kv(out, "ttl", "%u", set.ttl_s);
    kv(out, "ttl_jitter", "%u", set.jitter_s);
    kv(out, "cache_max_entry", "%zu", set.cache_max_entry);
    kv_u64(out, "entries", c->entries);
    kv_u64(out, "bytes", c->bytes_stored);
    kv_u64(out, "stored", c->puts);
    kv_u64(out, "hits", c->hits);
    kv_u64(out, "misses", c->misses);
    kv_u64(out, "bytes_served", c->bytes_served);
    kv_u64(out, "evictions", c->evictions);
    kv_u64(out, "expirations", c->expirations);
    kv_u64(out, "invalidations", c->invalidations);
    kv_u64(out, "invalidated", c->invalidated);
    kv_u64(out, "stale_puts_refused", c->stale_refused);
    kv_u64(out, "too_big", c->too_big);
    kv_u64(out, "errors", c->errors);
    complete(out, "SHOW");
}

static void
show_clients(sl_admin *a, sl_buf *out, bool servers)
{
    static const char *const ccols[] = {"id", "address", "user", "database", "state",
                                        "connected_since", "queries"};
    static const char *const scols[] = {"client_id", "server", "user", "database", "state"};
    sl_stats_client_row *rows;
    size_t n = sl_stats_clients(a->ctx->stats, &rows);
    row_description(out, servers ? 5 : 7, servers ? scols : ccols);
    for (size_t i = 0; i < n; i++) {
        sl_stats_client_row *r = &rows[i];
        char id[24], since[32], queries[24];
        snprintf(id, sizeof id, "%llu", r->id);
        snprintf(queries, sizeof queries, "%" PRIu64, r->queries);
        time_t t = (time_t)r->since;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(since, sizeof since, "%Y-%m-%d %H:%M:%S+00", &tm);
        const char *state = sl_client_state_name(r->state);
        if (servers && !r->server)
            continue;
        if (servers) {
            const char *v[] = {id, a->ctx->upstream.shown, r->user, r->database, state};
            data_row(out, 5, v);
        } else {
            const char *v[] = {id, r->address, r->user, r->database, state, since, queries};
            data_row(out, 7, v);
        }
    }
    free(rows);
    complete(out, "SHOW");
}

static void
show_one(sl_buf *out, const char *col, const char *value)
{
    const char *cols[] = {col};
    const char *vals[] = {value};
    row_description(out, 1, cols);
    data_row(out, 1, vals);
    complete(out, "SHOW");
}

static void
show_help(sl_buf *out)
{
    static const char *const lines[] = {
        "SHOW STATS", "SHOW CACHE", "SHOW CLIENTS", "SHOW SERVERS", "SHOW VERSION",
        "INVALIDATE ALL", "INVALIDATE DATABASE name", "INVALIDATE [schema.]table", "RELOAD",
    };
    static const char *const cols[] = {"command"};
    row_description(out, 1, cols);
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        data_row(out, 1, &lines[i]);
    complete(out, "SHOW");
}

/* ---- INVALIDATE --------------------------------------------------------------------------- */

typedef struct {
    sl_cache *cache;
    const char *table;  /* NULL: the whole database */
    size_t n;
} invalidation;

/* The session tags an entry with its database (cache.h): a table's invalidation drops the
 * table's tag and, while entries carry no table tags, every entry of the database too. */
static void
invalidate_one(const char *db, void *arg)
{
    invalidation *inv = arg;
    if (inv->table)
        sl_cache_invalidate(inv->cache, db, inv->table);
    sl_cache_invalidate_all(inv->cache, db);
    inv->n++;
}

/* A name as the user wrote it: "Quoted" keeps its case (quotes removed), a bare one is folded
 * to lower case as the server does. Only letters, digits, _, $, . and quoted text. */
static bool
table_name(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    bool quoted = false;
    for (const char *p = in; *p; p++) {
        if (*p == '"') {
            if (quoted && p[1] == '"') {
                p++;
            } else {
                quoted = !quoted;
                continue;
            }
        } else if (!quoted && !(isalnum((unsigned char)*p) || *p == '_' || *p == '$' ||
                                *p == '.' || (unsigned char)*p >= 0x80)) {
            return false;
        }
        if (n + 1 >= cap)
            return false;
        out[n++] = quoted ? *p : (char)tolower((unsigned char)*p);
    }
    out[n] = 0;
    return !quoted && n > 0;
}

static void
error(sl_buf *out, const char *sqlstate, const char *msg)
{
    sl_proto_write_error(out, "ERROR", sqlstate, msg);
}

static void
invalidate(sl_admin *a, const char *arg, sl_buf *out)
{
    invalidation inv = {.cache = a->cache};
    char name[256];
    if (!a->cache) {
        error(out, "55000", "the proxy runs without a cache (--cache none)");
        return;
    }
    if (strcasecmp(arg, "ALL") == 0) {
        if (sl_stats_databases_each(a->ctx->stats, invalidate_one, &inv) != 0)
            SL_WARN("admin console: INVALIDATE ALL reached only the first databases named");
    } else if (strncasecmp(arg, "DATABASE ", 9) == 0) {
        if (!table_name(arg + 9, name, sizeof name) || strchr(name, '.')) {
            error(out, "42601", "INVALIDATE DATABASE: expected a database name");
            return;
        }
        invalidate_one(name, &inv);
    } else {
        if (!table_name(arg, name, sizeof name)) {
            error(out, "42601", "INVALIDATE: expected ALL, DATABASE name or [schema.]table");
            return;
        }
        inv.table = name;
        sl_stats_databases_each(a->ctx->stats, invalidate_one, &inv);
    }
    SL_INFO("admin console: INVALIDATE %s (%zu databases)", arg, inv.n);
    char tag[48];
    snprintf(tag, sizeof tag, "INVALIDATE %zu", inv.n);  /* the databases it reached */
    complete(out, tag);
}

static void
reload(sl_admin *a, sl_buf *out)
{
    sl_error err;
    sl_error_clear(&err);
    if (sl_proxy_context_reload(a->ctx, &err) != 0) {
        error(out, "58030", err.message);
        return;
    }
    complete(out, "RELOAD");
}

/* ---- commands ----------------------------------------------------------------------------- */

/* Trims blanks and one final ';' in place; collapses runs of blanks to one space. */
static void
normalise(char *s)
{
    char *w = s;
    bool space = true;
    for (const char *r = s; *r; r++) {
        if (isspace((unsigned char)*r)) {
            if (!space)
                *w++ = ' ';
            space = true;
        } else {
            *w++ = *r;
            space = false;
        }
    }
    while (w > s && (w[-1] == ' ' || w[-1] == ';'))
        w--;
    *w = 0;
}

void
sl_admin_command(sl_admin *a, const char *sql, sl_buf *out)
{
    char cmd[512];
    if (strlen(sql) >= sizeof cmd) {
        error(out, "42601", "admin console: command too long");
    } else {
        memcpy(cmd, sql, strlen(sql) + 1);
        normalise(cmd);
        if (!cmd[0]) {
            sl_buf_append(out, "I\0\0\0\4", 5);  /* EmptyQueryResponse */
        } else if (strcasecmp(cmd, "SHOW STATS") == 0) {
            show_stats(a, out);
        } else if (strcasecmp(cmd, "SHOW CACHE") == 0) {
            show_cache(a, out);
        } else if (strcasecmp(cmd, "SHOW CLIENTS") == 0) {
            show_clients(a, out, false);
        } else if (strcasecmp(cmd, "SHOW SERVERS") == 0) {
            show_clients(a, out, true);
        } else if (strcasecmp(cmd, "SHOW VERSION") == 0) {
            show_one(out, "version", "sluice " SL_VERSION);
        } else if (strcasecmp(cmd, "SHOW HELP") == 0 || strcasecmp(cmd, "HELP") == 0) {
            show_help(out);
        } else if (strncasecmp(cmd, "INVALIDATE ", 11) == 0) {
            invalidate(a, cmd + 11, out);
        } else if (strcasecmp(cmd, "RELOAD") == 0) {
            reload(a, out);
        } else {
            error(out, "42601", "admin console: unknown command (SHOW HELP lists them)");
        }
    }
    sl_proto_write_ready(out, 'I');
}

/* ---- the framer's callbacks --------------------------------------------------------------- */

static bool
admin_wants(void *ctx, char type)
{
    (void)ctx;
    (void)type;
    return true;
}

static void
admin_message(void *ctx, const uint8_t *msg, size_t len, sl_buf *out)
{
    sl_admin *a = ctx;
    switch (msg[0]) {
    case 'Q':
        a->skipping = false;
        if (len > 5 && msg[len - 1] == 0 && memchr(msg + 5, 0, len - 5) == msg + len - 1)
            sl_admin_command(a, (const char *)msg + 5, out);
        else {
            error(out, "08P01", "admin console: malformed Query message");
            sl_proto_write_ready(out, 'I');
        }
        return;
    case 'X':
        a->terminated = true;
        return;
    case 'F':  /* a function call waits for its own ReadyForQuery, not a Sync's */
        error(out, "0A000", "the admin console speaks the simple query protocol only");
        sl_proto_write_ready(out, 'I');
        return;
    case 'S':
        a->skipping = false;
        sl_proto_write_ready(out, 'I');
        return;
    case 'H':
        return;
    default:
        if (!a->skipping)
            error(out, "0A000", "the admin console speaks the simple query protocol only");
        a->skipping = true;
        return;
    }
}

static const sl_framer_ops admin_ops = {admin_wants, admin_message, NULL};

const sl_framer_ops *
sl_admin_framer_ops(void)
{
    return &admin_ops;
}
