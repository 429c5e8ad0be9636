/* proxy/redisstore.c: the Redis store (design and guarantees in redisstore.h).
 * States: DOWN (retry timer armed) -> CONNECTING (connect + AUTH/SELECT/PING queued) -> READY
 * -> DOWN on a dropped connection, a refused login or a missed deadline; CLOSING at the end.
 * Requests: every command has a req in r->pending (oldest first: Redis answers in order, and
 * all have the same timeout, so the oldest deadline is the head's). One timer watches the
 * head's deadline. A req is answered once (done), and freed when hiredis calls back, which it
 * always does, with a NULL reply when the connection is freed. */
#include "proxy/redisstore.h"

#include <hiredis/adapters/libuv.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <limits.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"

#define MAGIC "SLC1"
#define MAGIC_LEN 4
#define KEEP_MAX 1024

static const char GET_SCRIPT[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if v then return {1, v} end\n"
    "local t = {0}\n"
    "for i = 2, #KEYS do t[i] = redis.call('GET', KEYS[i]) or '' end\n"
    "return t\n";

static const char PUT_SCRIPT[] =
    "local n = (#KEYS - 1) / 2\n"
    "for i = 1, n do\n"
    "  if (redis.call('GET', KEYS[1 + i]) or '') ~= ARGV[2 + i] then return 0 end\n"
    "end\n"
    "local ttl = tonumber(ARGV[2])\n"
    "redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl)\n"
    "for i = 1, n do\n"
    "  local s = KEYS[1 + n + i]\n"
    "  redis.call('SADD', s, KEYS[1])\n"
    "  if redis.call('TTL', s) < ttl then redis.call('EXPIRE', s, ttl) end\n"
    "  for _, k in ipairs(redis.call('SRANDMEMBER', s, 2)) do\n"
    "    if redis.call('EXISTS', k) == 0 then redis.call('SREM', s, k) end\n"
    "  end\n"
    "end\n"
    "return 1\n";

static const char INVALIDATE_SCRIPT[] =
    "redis.call('SET', KEYS[1], ARGV[1])\n"
    "local m = redis.call('SMEMBERS', KEYS[2])\n"
    "local n = 0\n"
    "for i = 1, #m, 500 do\n"
    "  n = n + redis.call('DEL', unpack(m, i, math.min(i + 499, #m)))\n"
    "end\n"
    "redis.call('DEL', KEYS[2])\n"
    "return n\n";

typedef enum { ST_DOWN, ST_CONNECTING, ST_READY, ST_CLOSING } state;
typedef enum {
    REQ_HELLO,        /* AUTH, SELECT */
    REQ_HELLO_SCRIPT, /* SCRIPT LOAD of scripts[script] */
    REQ_HELLO_LAST,   /* PING: logged in, scripts loaded */
    REQ_GET,
    REQ_PUT,
    REQ_INVALIDATE,
    REQ_BARRIER,
} req_kind;

/* Loaded at each connection (SCRIPT LOAD), then called by their SHA-1 (EVALSHA). */
enum { SCRIPT_GET, SCRIPT_PUT, SCRIPT_INVALIDATE, N_SCRIPTS };
static const char *const scripts[N_SCRIPTS] = {GET_SCRIPT, PUT_SCRIPT, INVALIDATE_SCRIPT};

/* An invalidation not yet acknowledged by Redis. */
typedef struct kept {
    struct kept *next;
    char *database;
    char *table;  /* NULL: the whole database */
} kept;

typedef struct req {
    struct req *prev, *next;
    struct sl_redisstore *r;
    req_kind kind;
    int script;  /* REQ_HELLO_SCRIPT */
    bool done;
    int64_t deadline_ms;
    size_t n_tags;
    sl_cache_get_cb get_cb;
    void (*barrier_cb)(void *arg, bool ok);
    void *arg;
    kept *inv;  /* REQ_INVALIDATE: kept again if it fails */
} req;

struct sl_redisstore {
    sl_cache cache;  /* first: sl_cache * and sl_redisstore * convert */
    uv_loop_t *loop;
    sl_redis_url url;
    char where[300];  /* host:port/db, for messages */
    int timeout_ms, backoff_min_ms, backoff_max_ms, backoff_ms;
    size_t max_entry_bytes;
    state st;
    redisAsyncContext *ac;
    req pending;  /* sentinel */
    uv_timer_t deadline_timer, retry_timer;
    int open_handles;
    bool warned;     /* the current outage was reported */
    bool ever_ready;
    kept *kept_head;
    size_t n_kept;
    bool kept_overflow;
    uint64_t rng;
    char sha[N_SCRIPTS][41];  /* of the scripts, as this connection's SCRIPT LOAD said */
};

static void go_down(sl_redisstore *r, const char *why);
static void try_connect(sl_redisstore *r);
static void on_deadline(uv_timer_t *t);
static void on_reply(redisAsyncContext *ac, void *reply, void *privdata);

/* ---- URLs ---------------------------------------------------------------------------- */

/* Percent-decodes s[0..n); NULL when an escape is bad or decodes to NUL. */
static char *
decode(const char *s, size_t n)
{
    char *out = sl_malloc(n + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (i + 2 >= n || sl_hex_digit(s[i + 1]) < 0 || sl_hex_digit(s[i + 2]) < 0 ||
                (s[i + 1] == '0' && s[i + 2] == '0')) {
                free(out);
                return NULL;
            }
            *o++ = (char)(sl_hex_digit(s[i + 1]) * 16 + sl_hex_digit(s[i + 2]));
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

static int
parse_int(const char *s, size_t n, int min, int max, int *out)
{
    long v = 0;
    if (n == 0 || n > 9)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < min || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

static int
parse_userinfo(const char *s, size_t n, sl_redis_url *u, sl_error *err)
{
    const char *colon = memchr(s, ':', n);
    if (!colon) {
        sl_error_set(err, SL_E_USAGE, "redis URL: user information needs \"user:password@\" "
                     "or \":password@\"");
        return -1;
    }
    size_t ulen = (size_t)(colon - s);
    if (ulen && !(u->user = decode(s, ulen))) {
        sl_error_set(err, SL_E_USAGE, "redis URL: bad percent escape in the user name");
        return -1;
    }
    if (!(u->password = decode(colon + 1, n - ulen - 1))) {
        sl_error_set(err, SL_E_USAGE, "redis URL: bad percent escape in the password");
        return -1;
    }
    return 0;
}

static int
parse_hostport(const char *s, size_t n, sl_redis_url *u, sl_error *err)
{
    const char *host = s, *port = NULL;
    size_t hlen = n;
    if (n && s[0] == '[') {  /* [IPv6] */
        const char *close = memchr(s, ']', n);
        if (!close) {
            sl_error_set(err, SL_E_USAGE, "redis URL: \"[\" without \"]\" in the host");
            return -1;
        }
        host = s + 1;
        hlen = (size_t)(close - host);
        if ((size_t)(close + 1 - s) < n) {
            if (close[1] != ':') {
                sl_error_set(err, SL_E_USAGE, "redis URL: text after the host");
                return -1;
            }
            port = close + 2;
        }
    } else {
        const char *colon = memchr(s, ':', n);
        if (colon) {
            hlen = (size_t)(colon - s);
            port = colon + 1;
        }
    }
    if (hlen == 0) {
        sl_error_set(err, SL_E_USAGE, "redis URL: no host");
        return -1;
    }
    u->host = sl_strndup(host, hlen);
    u->port = 6379;
    if (port && parse_int(port, (size_t)(s + n - port), 1, 65535, &u->port) != 0) {
        sl_error_set(err, SL_E_USAGE, "redis URL: the port must be a number from 1 to 65535");
        return -1;
    }
    return 0;
}

int
sl_redis_url_parse(const char *url, sl_redis_url *out, sl_error *err)
{
    static const char scheme[] = "redis://";
    sl_redis_url u = {0};
    if (strncmp(url, scheme, sizeof scheme - 1) != 0) {
        sl_error_set(err, SL_E_USAGE, "a redis URL starts with redis:// (TLS is not supported)");
        return -1;
    }
    const char *s = url + sizeof scheme - 1;
    const char *slash = strchr(s, '/');
    size_t auth_len = slash ? (size_t)(slash - s) : strlen(s);
    const char *at = NULL;
    for (size_t i = 0; i < auth_len; i++)  /* the last '@': a password may hold '@' */
        if (s[i] == '@')
            at = s + i;
    if (at && parse_userinfo(s, (size_t)(at - s), &u, err) != 0)
        goto fail;
    const char *hp = at ? at + 1 : s;
    if (parse_hostport(hp, (size_t)(s + auth_len - hp), &u, err) != 0)
        goto fail;
    if (slash && slash[1] && parse_int(slash + 1, strlen(slash + 1), 0, 1 << 20, &u.db) != 0) {
        sl_error_set(err, SL_E_USAGE, "redis URL: the database after \"/\" must be a number");
        goto fail;
    }
    *out = u;
    return 0;
fail:
    sl_redis_url_free(&u);
    return -1;
}

void
sl_redis_url_free(sl_redis_url *u)
{
    if (!u)
        return;
    free(u->host);
    free(u->user);
    if (u->password) {
        memset(u->password, 0, strlen(u->password));
        free(u->password);
    }
    memset(u, 0, sizeof *u);
}

/* ---- requests ------------------------------------------------------------------------ */

static req *
req_new(sl_redisstore *r, req_kind kind)
{
    req *q = sl_calloc(1, sizeof *q);
    q->r = r;
    q->kind = kind;
    q->deadline_ms = sl_clock_ms() + r->timeout_ms;
    return q;
}

static void
arm_deadline(sl_redisstore *r)
{
    if (r->pending.next == &r->pending || uv_is_active((uv_handle_t *)&r->deadline_timer))
        return;
    int64_t wait = r->pending.next->deadline_ms - sl_clock_ms();
    uv_timer_start(&r->deadline_timer, on_deadline, wait > 0 ? (uint64_t)wait : 0, 0);
}

static void kept_add(sl_redisstore *r, kept *k);

/* Answers the request as failed (a miss, a kept invalidation, a failed barrier). */
static void
req_fail(req *q)
{
    sl_redisstore *r = q->r;
    if (q->done)
        return;
    q->done = true;
    switch (q->kind) {
    case REQ_GET:
        sl__cache_miss(&r->cache, q->get_cb, q->arg, true);
        break;
    case REQ_INVALIDATE:
        kept_add(r, q->inv);
        q->inv = NULL;
        atomic_fetch_add(&r->cache.stats.errors, 1);
        break;
    case REQ_BARRIER:
        q->barrier_cb(q->arg, false);
        break;
    default:
        atomic_fetch_add(&r->cache.stats.errors, 1);
        break;
    }
}

static void
kept_free(kept *k)
{
    if (!k)
        return;
    free(k->database);
    free(k->table);
    free(k);
}

static bool
kept_same(const kept *a, const char *database, const char *table)
{
    return strcmp(a->database, database) == 0 &&
           (a->table ? table && strcmp(a->table, table) == 0 : !table);
}

/* Drops the kept invalidations of the database's tables (one of the whole database replaces
 * them). */
static void
kept_drop_tables(sl_redisstore *r, const char *database)
{
    for (kept **p = &r->kept_head; *p;) {
        kept *k = *p;
        if (k->table && strcmp(k->database, database) == 0) {
            *p = k->next;
            kept_free(k);
            r->n_kept--;
        } else {
            p = &k->next;
        }
    }
}

/* Keeps an invalidation until Redis takes it: once each; when full, the database's kept
 * tables become one invalidation of the whole database (more is dropped, never less). */
static void
kept_add(sl_redisstore *r, kept *k)
{
    for (kept *o = r->kept_head; o; o = o->next) {
        if (kept_same(o, k->database, k->table) || kept_same(o, k->database, NULL)) {
            kept_free(k);
            return;
        }
    }
    if (r->n_kept >= KEEP_MAX || !k->table) {
        kept_drop_tables(r, k->database);
        free(k->table);
        k->table = NULL;
    }
    if (r->n_kept >= KEEP_MAX) {
        if (!r->kept_overflow)
            SL_WARN("cache: invalidations of more than %d databases could not reach redis at "
                    "%s: their entries may stay stale until their TTL", KEEP_MAX, r->where);
        r->kept_overflow = true;
        kept_free(k);
        return;
    }
    k->next = r->kept_head;
    r->kept_head = k;
    r->n_kept++;
}

/* Sends a command for q (argv copied by hiredis). On failure to queue, q fails at once. */
static void
send_cmd(sl_redisstore *r, req *q, int argc, const char **argv, const size_t *lens)
{
    if (!r->ac ||
        redisAsyncCommandArgv(r->ac, on_reply, q, argc, argv, lens) != REDIS_OK) {
        req_fail(q);
        kept_free(q->inv);
        free(q);
        return;
    }
    q->next = &r->pending;
    q->prev = r->pending.prev;
    r->pending.prev->next = q;
    r->pending.prev = q;
    arm_deadline(r);
}

static void
unlink_req(req *q)
{
    q->prev->next = q->next;
    q->next->prev = q->prev;
}

/* ---- the connection ------------------------------------------------------------------- */

/* Frees the connection: hiredis then calls back every pending command with no reply. */
static void
drop_connection(sl_redisstore *r)
{
    redisAsyncContext *ac = r->ac;
    r->ac = NULL;
    if (ac) {
        ac->data = NULL;  /* on_disconnect: not news, we did it */
        redisAsyncFree(ac);
    }
}

static void
on_retry(uv_timer_t *t)
{
    try_connect(t->data);
}

static void
go_down(sl_redisstore *r, const char *why)
{
    if (r->st == ST_DOWN || r->st == ST_CLOSING)
        return;
    r->st = ST_DOWN;
    if (!r->warned) {
        SL_WARN("cache: redis at %s is unavailable (%s): serving without the cache until it "
                "is back", r->where, why);
        r->warned = true;
    }
    for (req *q = r->pending.next; q != &r->pending; q = q->next)
        req_fail(q);
    drop_connection(r);
    uv_timer_stop(&r->deadline_timer);
    uv_timer_start(&r->retry_timer, on_retry, (uint64_t)r->backoff_ms, 0);
    r->backoff_ms = r->backoff_ms * 2 > r->backoff_max_ms ? r->backoff_max_ms
                                                          : r->backoff_ms * 2;
}

static void
on_deadline(uv_timer_t *t)
{
    sl_redisstore *r = t->data;
    req *head = r->pending.next;
    if (head == &r->pending)
        return;
    if (head->deadline_ms <= sl_clock_ms()) {
        char why[64];
        snprintf(why, sizeof why, "no answer within %d ms", r->timeout_ms);
        go_down(r, why);
        return;
    }
    arm_deadline(r);
}

static void
on_connect(const redisAsyncContext *ac, int status)
{
    sl_redisstore *r = ac->data;
    if (status == REDIS_OK || !r)
        return;
    r->ac = NULL;  /* hiredis frees it after this call */
    go_down(r, ac->errstr[0] ? ac->errstr : "could not connect");
}

static void
on_disconnect(const redisAsyncContext *ac, int status)
{
    sl_redisstore *r = ac->data;
    if (!r)
        return;
    r->ac = NULL;
    go_down(r, status == REDIS_OK ? "connection closed" : ac->errstr);
}

static void
send_hello(sl_redisstore *r)
{
    char db[16];
    if (r->url.password) {
        const char *argv[3] = {"AUTH"};
        int argc = 1;
        if (r->url.user)
            argv[argc++] = r->url.user;
        argv[argc++] = r->url.password;
        send_cmd(r, req_new(r, REQ_HELLO), argc, argv, NULL);
    }
    if (r->url.db) {
        snprintf(db, sizeof db, "%d", r->url.db);
        const char *argv[2] = {"SELECT", db};
        send_cmd(r, req_new(r, REQ_HELLO), 2, argv, NULL);
    }
    for (int i = 0; i < N_SCRIPTS; i++) {
        const char *argv[3] = {"SCRIPT", "LOAD", scripts[i]};
        req *q = req_new(r, REQ_HELLO_SCRIPT);
        q->script = i;
        send_cmd(r, q, 3, argv, NULL);
    }
    const char *ping[1] = {"PING"};
    send_cmd(r, req_new(r, REQ_HELLO_LAST), 1, ping, NULL);
}

static void
try_connect(sl_redisstore *r)
{
    r->st = ST_CONNECTING;
    redisAsyncContext *ac = redisAsyncConnect(r->url.host, r->url.port);
    if (!ac || ac->err) {
        char why[160];
        snprintf(why, sizeof why, "%s", ac ? ac->errstr : "out of memory");
        if (ac)
            redisAsyncFree(ac);
        go_down(r, why);
        return;
    }
    if (redisLibuvAttach(ac, r->loop) != REDIS_OK) {
        redisAsyncFree(ac);
        go_down(r, "could not watch the connection on the loop");
        return;
    }
    ac->data = r;
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    r->ac = ac;
    send_hello(r);
}

static void send_invalidate(sl_redisstore *r, kept *k);

/* Logged in: first the invalidations kept during the outage, then anything else. */
static void
become_ready(sl_redisstore *r)
{
    kept *k = r->kept_head;
    r->kept_head = NULL;
    r->n_kept = 0;
    r->kept_overflow = false;
    while (k) {
        kept *next = k->next;
        send_invalidate(r, k);
        k = next;
    }
    r->st = ST_READY;
    r->backoff_ms = r->backoff_min_ms;
    if (r->warned)
        SL_INFO("cache: redis at %s is back", r->where);
    else if (!r->ever_ready)
        SL_DEBUG("cache: connected to redis at %s", r->where);
    r->warned = false;
    r->ever_ready = true;
}

/* ---- replies --------------------------------------------------------------------------- */

/* The error's first word (WRONGPASS, NOAUTH, ERR...): never the rest, which might echo. */
static void
error_code(const redisReply *rep, char *out, size_t cap)
{
    size_t n = 0;
    while (n < rep->len && n + 1 < cap && rep->str[n] != ' ')
        n++;
    memcpy(out, rep->str, n);
    out[n] = '\0';
}

static void
answer_get(sl_redisstore *r, req *q, const redisReply *rep)
{
    sl_cache_stats *s = &r->cache.stats;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 ||
        rep->element[0]->type != REDIS_REPLY_INTEGER) {
        req_fail(q);
        return;
    }
    q->done = true;
    if (rep->element[0]->integer == 1 && rep->elements == 2 &&
        rep->element[1]->type == REDIS_REPLY_STRING) {
        const redisReply *v = rep->element[1];
        sl_cache_entry_parts parts;
        if (v->len < MAGIC_LEN || memcmp(v->str, MAGIC, MAGIC_LEN) != 0 ||
            sl_cache_entry_split((const uint8_t *)v->str + MAGIC_LEN, v->len - MAGIC_LEN,
                                 &parts) != 0) {
            sl__cache_miss(&r->cache, q->get_cb, q->arg, true);  /* not ours, or damaged */
            return;
        }
        sl_cache_answer a = {.hit = true, .entry = (const uint8_t *)v->str + MAGIC_LEN,
                             .len = v->len - MAGIC_LEN};
        atomic_fetch_add(&s->hits, 1);
        atomic_fetch_add(&s->bytes_served, a.len);
        q->get_cb(q->arg, &a);
        return;
    }
    sl_cache_ticket t = {0};
    if (rep->elements == 1 + q->n_tags) {
        t.valid = true;
        t.tokens = sl_calloc(q->n_tags, sizeof *t.tokens);
        t.n_tokens = q->n_tags;
        for (size_t i = 0; i < q->n_tags; i++) {
            const redisReply *e = rep->element[1 + i];
            t.tokens[i] = e->type == REDIS_REPLY_STRING ? sl_strndup(e->str, e->len)
                                                        : sl_strdup("");
        }
    }
    sl_cache_answer a = {.hit = false, .ticket = &t};
    atomic_fetch_add(&s->misses, 1);
    q->get_cb(q->arg, &a);
    sl_cache_ticket_release(&t);
}

static void
answer(sl_redisstore *r, req *q, const redisReply *rep)
{
    sl_cache_stats *s = &r->cache.stats;
    char code[32];
    if (rep->type == REDIS_REPLY_ERROR && rep->len >= 8 &&
        memcmp(rep->str, "NOSCRIPT", 8) == 0) {
        req_fail(q);
        go_down(r, "its scripts were flushed");  /* the next connection loads them again */
        return;
    }
    switch (q->kind) {
    case REQ_HELLO:
    case REQ_HELLO_SCRIPT:
    case REQ_HELLO_LAST:
        q->done = true;
        if (rep->type == REDIS_REPLY_ERROR) {
            char why[96];
            error_code(rep, code, sizeof code);
            snprintf(why, sizeof why, "%s: %s",
                     q->kind == REQ_HELLO_SCRIPT ? "could not load a script"
                                                 : "the login was refused",
                     code);
            go_down(r, why);
        } else if (q->kind == REQ_HELLO_SCRIPT) {
            snprintf(r->sha[q->script], sizeof r->sha[q->script], "%.*s",
                     rep->type == REDIS_REPLY_STRING ? (int)rep->len : 0, rep->str);
        } else if (q->kind == REQ_HELLO_LAST && r->st == ST_CONNECTING) {
            become_ready(r);
        }
        break;
    case REQ_GET:
        answer_get(r, q, rep);
        break;
    case REQ_PUT:
        q->done = true;
        if (rep->type == REDIS_REPLY_INTEGER && rep->integer == 1)
            atomic_fetch_add(&s->puts, 1);
        else if (rep->type == REDIS_REPLY_INTEGER)
            atomic_fetch_add(&s->stale_refused, 1);
        else
            atomic_fetch_add(&s->errors, 1);
        break;
    case REQ_INVALIDATE:
        if (rep->type != REDIS_REPLY_INTEGER) {
            req_fail(q);  /* kept: sent again after the next reconnection */
            break;
        }
        q->done = true;
        atomic_fetch_add(&s->invalidated, (uint64_t)(rep->integer > 0 ? rep->integer : 0));
        break;
    case REQ_BARRIER:
        q->done = true;
        q->barrier_cb(q->arg, rep->type != REDIS_REPLY_ERROR);
        break;
    }
}

static void
on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    req *q = privdata;
    unlink_req(q);
    if (!q->done) {
        if (reply)
            answer(q->r, q, reply);
        else
            req_fail(q);
    }
    kept_free(q->inv);
    free(q);
}

/* ---- the store's operations -------------------------------------------------------------- */

static char *
tag_key(const char *kind, const char *db, const char *table)
{
    return table ? sl_asprintf("PGPROXY:%s:%zu:%s:%s", kind, strlen(db), db, table)
                 : sl_asprintf("PGPROXY:%s:%zu:%s", kind, strlen(db), db);
}

static void
free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void
redis_get(sl_cache *c, const sl_cachekey *key, const sl_cache_tags *tags, sl_cache_get_cb cb,
          void *arg)
{
    sl_redisstore *r = (sl_redisstore *)c;
    if (r->st != ST_READY) {
        sl__cache_miss(c, cb, arg, false);
        return;
    }
    size_t n = tags->n_tables + 1, argc = 4 + n;
    const char **argv = sl_calloc(argc, sizeof *argv);
    char **gens = sl_calloc(n, sizeof *gens), nkeys[24];
    snprintf(nkeys, sizeof nkeys, "%zu", 1 + n);
    argv[0] = "EVALSHA";
    argv[1] = r->sha[SCRIPT_GET];
    argv[2] = nkeys;
    argv[3] = key->text;
    for (size_t i = 0; i < n; i++)
        argv[4 + i] = gens[i] = tag_key("gen", tags->database, i ? tags->tables[i - 1] : NULL);
    req *q = req_new(r, REQ_GET);
    q->get_cb = cb;
    q->arg = arg;
    q->n_tags = n;
    send_cmd(r, q, (int)argc, argv, NULL);
    free_strings(gens, n);
    free(argv);
}

static void
send_put(sl_redisstore *r, const sl_cachekey *key, const sl_cache_tags *tags,
         const uint8_t *entry, size_t len, uint32_t ttl, const sl_cache_ticket *ticket)
{
    size_t n = tags->n_tables + 1, argc = 4 + 2 * n + 2 + n;
    const char **argv = sl_calloc(argc, sizeof *argv);
    size_t *lens = sl_calloc(argc, sizeof *lens);
    char **names = sl_calloc(2 * n, sizeof *names), nkeys[24], ttl_text[16];
    char *value = sl_malloc(MAGIC_LEN + len);
    memcpy(value, MAGIC, MAGIC_LEN);
    memcpy(value + MAGIC_LEN, entry, len);
    snprintf(nkeys, sizeof nkeys, "%zu", 1 + 2 * n);
    snprintf(ttl_text, sizeof ttl_text, "%u", ttl);
    size_t a = 0;
    argv[a++] = "EVALSHA";
    argv[a++] = r->sha[SCRIPT_PUT];
    argv[a++] = nkeys;
    argv[a++] = key->text;
    for (size_t i = 0; i < 2 * n; i++) {
        const char *table = i % n ? tags->tables[i % n - 1] : NULL;
        argv[a++] = names[i] = tag_key(i < n ? "gen" : "tables", tags->database, table);
    }
    lens[a] = MAGIC_LEN + len;
    argv[a++] = value;
    argv[a++] = ttl_text;
    for (size_t i = 0; i < n; i++)
        argv[a++] = ticket->tokens[i];
    for (size_t i = 0; i < argc; i++)
        if (!lens[i])
            lens[i] = strlen(argv[i]);
    send_cmd(r, req_new(r, REQ_PUT), (int)argc, argv, lens);
    free(value);
    free_strings(names, 2 * n);
    free(lens);
    free(argv);
}

static void
redis_put(sl_cache *c, const sl_cachekey *key, const sl_cache_tags *tags, const uint8_t *entry,
          size_t len, uint32_t ttl_s, sl_cache_ticket *ticket)
{
    sl_redisstore *r = (sl_redisstore *)c;
    sl_cache_entry_parts parts;
    if (!ticket || !ticket->valid || r->st != ST_READY) {
        /* a miss answered while Redis was away: nothing to store it in */
    } else if (len > r->max_entry_bytes) {
        atomic_fetch_add(&c->stats.too_big, 1);
    } else if (ticket->n_tokens != tags->n_tables + 1 ||
               sl_cache_entry_split(entry, len, &parts) != 0) {
        atomic_fetch_add(&c->stats.errors, 1);  /* not the miss's tags, or not an entry */
    } else {
        send_put(r, key, tags, entry, len, sl__cache_pick_ttl(c, ttl_s, &r->rng), ticket);
    }
    sl_cache_ticket_release(ticket);
}

static void
new_token(sl_redisstore *r, char out[33])
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1) {  /* unlikely; still unique enough for one store */
        uint64_t x = r->rng++ ^ (uint64_t)sl_clock_wall_us(), y = (uint64_t)(uintptr_t)r;
        memcpy(b, &x, 8);
        memcpy(b + 8, &y, 8);
    }
    for (size_t i = 0; i < sizeof b; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void
send_invalidate(sl_redisstore *r, kept *k)
{
    char token[33];
    new_token(r, token);
    char *gen = tag_key("gen", k->database, k->table);
    char *set = tag_key("tables", k->database, k->table);
    const char *argv[] = {"EVALSHA", r->sha[SCRIPT_INVALIDATE], "2", gen, set, token};
    req *q = req_new(r, REQ_INVALIDATE);
    q->inv = k;
    send_cmd(r, q, 6, argv, NULL);
    free(gen);
    free(set);
}

static void
redis_invalidate(sl_cache *c, const char *database, const char *table)
{
    sl_redisstore *r = (sl_redisstore *)c;
    kept *k = sl_calloc(1, sizeof *k);
    k->database = sl_strdup(database);
    k->table = table ? sl_strdup(table) : NULL;
    atomic_fetch_add(&c->stats.invalidations, 1);
    if (r->st == ST_READY)
        send_invalidate(r, k);
    else
        kept_add(r, k);  /* sent as soon as Redis is back */
}

static void
on_handle_closed(uv_handle_t *h)
{
    sl_redisstore *r = h->data;
    if (--r->open_handles == 0) {
        sl_redis_url_free(&r->url);
        free(r);
    }
}

static void
redis_close(sl_cache *c)
{
    sl_redisstore *r = (sl_redisstore *)c;
    r->st = ST_CLOSING;
    for (req *q = r->pending.next; q != &r->pending; q = q->next)
        req_fail(q);
    drop_connection(r);
    while (r->kept_head) {
        kept *next = r->kept_head->next;
        kept_free(r->kept_head);
        r->kept_head = next;
    }
    uv_close((uv_handle_t *)&r->deadline_timer, on_handle_closed);
    uv_close((uv_handle_t *)&r->retry_timer, on_handle_closed);
}

/* Each invalidation sets a new random generation token (gen keys never expire): the same
 * tokens at two misses mean no invalidation came between them. */
static bool
redis_current(sl_cache *c, const sl_cache_tags *tags, const sl_cache_ticket *then,
              const sl_cache_ticket *now)
{
    (void)c;
    if (then->n_tokens != tags->n_tables + 1 || now->n_tokens != then->n_tokens)
        return false;
    for (size_t i = 0; i < then->n_tokens; i++)
        if (strcmp(then->tokens[i], now->tokens[i]) != 0)
            return false;
    return true;
}

static void
redis_barrier(sl_cache *c, void (*cb)(void *arg, bool ok), void *arg)
{
    sl_redisstore_barrier((sl_redisstore *)c, cb, arg);
}

static const sl_cache_ops redis_ops = {
    .get = redis_get,
    .put = redis_put,
    .invalidate = redis_invalidate,
    .current = redis_current,
    .close = redis_close,
    .barrier = redis_barrier,
};

int
sl_redisstore_open(sl_redisstore **out, uv_loop_t *loop, const sl_redisstore_opts *o,
                   sl_error *err)
{
    sl_redis_url url;
    if (sl_redis_url_parse(o->url, &url, err) != 0)
        return -1;
    if (o->user) {
        free(url.user);
        url.user = o->user[0] ? sl_strdup(o->user) : NULL;
    }
    if (o->password) {
        sl_redis_url_free(&(sl_redis_url){.password = url.password});
        url.password = o->password[0] ? sl_strdup(o->password) : NULL;
    }
    if (url.user && !url.password) {
        sl_error_set(err, SL_E_USAGE, "redis user \"%s\" given without a password", url.user);
        sl_redis_url_free(&url);
        return -1;
    }
    sl_redisstore *r = sl_calloc(1, sizeof *r);
    sl__cache_init(&r->cache, &redis_ops, o->ttl_s, o->jitter_s);
    r->loop = loop;
    r->url = url;
    snprintf(r->where, sizeof r->where, "%s:%d/%d", url.host, url.port, url.db);
    r->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 1000;
    r->backoff_min_ms = o->backoff_min_ms > 0 ? o->backoff_min_ms : 100;
    r->backoff_max_ms = o->backoff_max_ms > 0 ? o->backoff_max_ms : 5000;
    r->backoff_ms = r->backoff_min_ms;
    r->max_entry_bytes = o->max_entry_bytes ? o->max_entry_bytes : (size_t)64 << 20;
    r->pending.next = r->pending.prev = &r->pending;
    r->rng = (uint64_t)sl_clock_wall_us();
    uv_timer_init(loop, &r->deadline_timer);
    uv_timer_init(loop, &r->retry_timer);
    r->deadline_timer.data = r->retry_timer.data = r;
    r->open_handles = 2;
    try_connect(r);
    *out = r;
    return 0;
}

sl_cache *
sl_redisstore_cache(sl_redisstore *r)
{
    return &r->cache;
}

bool
sl_redisstore_ready(sl_redisstore *r)
{
    return r->st == ST_READY;
}

void
sl_redisstore_barrier(sl_redisstore *r, void (*cb)(void *arg, bool ok), void *arg)
{
    if (r->st != ST_READY) {
        cb(arg, false);
        return;
    }
    req *q = req_new(r, REQ_BARRIER);
    q->barrier_cb = cb;
    q->arg = arg;
    const char *ping[1] = {"PING"};
    send_cmd(r, q, 1, ping, NULL);
}
