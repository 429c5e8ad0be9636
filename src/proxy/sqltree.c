/* proxy/sqltree.c: a recursive-descent JSON reader into an array of nodes. Recursion is
 * bounded by max_depth; every read is bounded by the text's end. */
#include "proxy/sqltree.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t kind;
    uint32_t first;   /* first child */
    uint32_t last;    /* last child, while building */
    uint32_t next;    /* next sibling */
    uint32_t count;   /* children */
    uint32_t key;     /* member name: offset into the pool + 1, or 0 */
    uint32_t str;     /* string: offset into the pool + 1 */
    int64_t integer;
} tnode;

struct sl_sqltree {
    tnode *nodes;
    size_t n;
    size_t cap;
    char *pool;
    size_t pool_len;
    size_t pool_cap;
};

typedef struct {
    sl_sqltree *t;
    const char *p;
    const char *end;
    int depth;
    int max_depth;
    int rc; /* 0, -1 malformed, -2 out of memory */
} reader;

static uint32_t
new_node(reader *r, uint8_t kind)
{
    sl_sqltree *t = r->t;
    if (t->n == t->cap) {
        size_t ncap = t->cap * 2;
        tnode *nn = ncap > UINT32_MAX ? NULL : realloc(t->nodes, ncap * sizeof *nn);
        if (!nn) {
            r->rc = -2;
            return 0;
        }
        t->nodes = nn;
        t->cap = ncap;
    }
    tnode *nd = &t->nodes[t->n];
    memset(nd, 0, sizeof *nd);
    nd->kind = kind;
    return (uint32_t)t->n++;
}

static void
add_child(sl_sqltree *t, uint32_t parent, uint32_t child)
{
    tnode *p = &t->nodes[parent];
    if (p->last)
        t->nodes[p->last].next = child;
    else
        p->first = child;
    p->last = child;
    p->count++;
}

static bool
pool_put(reader *r, char c)
{
    sl_sqltree *t = r->t;
    if (t->pool_len == t->pool_cap) {
        size_t ncap = t->pool_cap * 2;
        char *np = ncap > UINT32_MAX ? NULL : realloc(t->pool, ncap);
        if (!np) {
            r->rc = -2;
            return false;
        }
        t->pool = np;
        t->pool_cap = ncap;
    }
    t->pool[t->pool_len++] = c;
    return true;
}

static bool
pool_append(reader *r, const char *src, size_t n)
{
    sl_sqltree *t = r->t;
    while (t->pool_cap - t->pool_len < n) {
        size_t ncap = t->pool_cap * 2;
        char *np = ncap > UINT32_MAX ? NULL : realloc(t->pool, ncap);
        if (!np) {
            r->rc = -2;
            return false;
        }
        t->pool = np;
        t->pool_cap = ncap;
    }
    memcpy(t->pool + t->pool_len, src, n);
    t->pool_len += n;
    return true;
}

static void
skip_ws(reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
        r->p++;
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool
put_utf8(reader *r, uint32_t cp)
{
    if (cp < 0x80)
        return pool_put(r, (char)cp);
    if (cp < 0x800)
        return pool_put(r, (char)(0xc0 | (cp >> 6))) && pool_put(r, (char)(0x80 | (cp & 0x3f)));
    return pool_put(r, (char)(0xe0 | (cp >> 12))) && pool_put(r, (char)(0x80 | ((cp >> 6) & 0x3f)))
           && pool_put(r, (char)(0x80 | (cp & 0x3f)));
}

/* Reads a string at r->p (on its '"') into the pool; returns its offset + 1, or 0. Raw bytes
 * are copied as they are (libpg_query prints the query's bytes); \u escapes of the basic plane
 * are decoded, and a NUL or a surrogate is refused. */
static uint32_t
read_string(reader *r)
{
    size_t start = r->t->pool_len;
    if (r->p >= r->end || *r->p != '"')
        goto bad;
    r->p++;
    while (r->p < r->end && *r->p != '"') {
        const char *run = r->p;
        while (r->p < r->end && *r->p != '"' && *r->p != '\\' && (unsigned char)*r->p >= 0x20)
            r->p++;
        if (r->p > run && !pool_append(r, run, (size_t)(r->p - run)))
            return 0;
        if (r->p >= r->end || *r->p == '"')
            break;
        char c = *r->p++;
        if ((unsigned char)c < 0x20)
            goto bad;
        if (r->p >= r->end)
            goto bad;
        char e = *r->p++;
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            static const char out[] = "\"\\/\b\f\n\r\t";
            if (!pool_put(r, out[simple - "\"\\/bfnrt"]))
                return 0;
        } else if (e == 'u' && r->end - r->p >= 4) {
            uint32_t cp = 0;
            for (int k = 0; k < 4; k++) {
                int h = hexval(r->p[k]);
                if (h < 0)
                    goto bad;
                cp = cp << 4 | (uint32_t)h;
            }
            r->p += 4;
            if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff))
                goto bad;
            if (!put_utf8(r, cp))
                return 0;
        } else {
            goto bad;
        }
    }
    if (r->p >= r->end)
        goto bad;
    r->p++;
    if (!pool_put(r, '\0'))
        return 0;
    return (uint32_t)start + 1;
bad:
    if (r->rc == 0)
        r->rc = -1;
    return 0;
}

static uint32_t read_value(reader *r);

static uint32_t
read_container(reader *r, bool object)
{
    uint32_t self = new_node(r, object ? SL_SQLTREE_OBJECT : SL_SQLTREE_ARRAY);
    if (!self)
        return 0;
    if (++r->depth > r->max_depth) {
        r->rc = -1;
        return 0;
    }
    r->p++; /* '{' or '[' */
    skip_ws(r);
    if (r->p < r->end && *r->p == (object ? '}' : ']')) {
        r->p++;
        r->depth--;
        return self;
    }
    for (;;) {
        uint32_t key = 0;
        skip_ws(r);
        if (object) {
            if (!(key = read_string(r)))
                return 0;
            skip_ws(r);
            if (r->p >= r->end || *r->p != ':') {
                r->rc = -1;
                return 0;
            }
            r->p++;
        }
        uint32_t child = read_value(r);
        if (!child)
            return 0;
        r->t->nodes[child].key = key;
        add_child(r->t, self, child);
        skip_ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == (object ? '}' : ']')) {
            r->p++;
            r->depth--;
            return self;
        }
        r->rc = -1;
        return 0;
    }
}

static bool
literal(reader *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return false;
    r->p += n;
    return true;
}

static uint32_t
read_int(reader *r)
{
    bool neg = r->p < r->end && *r->p == '-';
    uint64_t v = 0;
    if (neg)
        r->p++;
    const char *digits = r->p;
    while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
        if (v > (UINT64_MAX - 9) / 10) {
            r->rc = -1;
            return 0;
        }
        v = v * 10 + (uint64_t)(*r->p++ - '0');
    }
    if (r->p == digits || v > (uint64_t)INT64_MAX + neg
        || (r->p < r->end && (*r->p == '.' || *r->p == 'e' || *r->p == 'E'))) {
        r->rc = -1;
        return 0;
    }
    uint32_t n = new_node(r, SL_SQLTREE_INT);
    if (n)
        r->t->nodes[n].integer = neg ? (int64_t)(0 - v) : (int64_t)v;
    return n;
}

static uint32_t
read_value(reader *r)
{
    skip_ws(r);
    if (r->p >= r->end) {
        r->rc = -1;
        return 0;
    }
    switch (*r->p) {
    case '{':
        return read_container(r, true);
    case '[':
        return read_container(r, false);
    case '"': {
        uint32_t s = read_string(r);
        uint32_t n = s ? new_node(r, SL_SQLTREE_STRING) : 0;
        if (n)
            r->t->nodes[n].str = s;
        return n;
    }
    case 't':
        if (literal(r, "true"))
            return new_node(r, SL_SQLTREE_TRUE);
        break;
    case 'f':
        if (literal(r, "false"))
            return new_node(r, SL_SQLTREE_FALSE);
        break;
    case 'n':
        if (literal(r, "null"))
            return new_node(r, SL_SQLTREE_NULL);
        break;
    default:
        return read_int(r);
    }
    r->rc = -1;
    return 0;
}

int
sl_sqltree_parse(const char *json, size_t len, int max_depth, sl_sqltree **out)
{
    sl_sqltree *t = calloc(1, sizeof *t);
    reader r = {.t = t, .p = json, .end = json + len, .max_depth = max_depth};
    if (!t)
        return -2;
    t->cap = 64;
    t->pool_cap = len + 1; /* unescaped strings never outgrow the text */
    t->nodes = malloc(t->cap * sizeof *t->nodes);
    t->pool = malloc(t->pool_cap);
    if (!t->nodes || !t->pool) {
        sl_sqltree_free(t);
        return -2;
    }
    memset(&t->nodes[0], 0, sizeof t->nodes[0]); /* node 0: none */
    t->n = 1;
    uint32_t root = read_value(&r);
    skip_ws(&r);
    if (r.rc == 0 && (!root || r.p != r.end))
        r.rc = -1;
    if (r.rc != 0) {
        sl_sqltree_free(t);
        return r.rc;
    }
    *out = t;
    return 0;
}

void
sl_sqltree_free(sl_sqltree *t)
{
    if (!t)
        return;
    free(t->nodes);
    free(t->pool);
    free(t);
}

sl_sqlnode
sl_sqltree_root(const sl_sqltree *t)
{
    return t->n > 1 ? 1 : 0;
}

static const tnode *
node(const sl_sqltree *t, sl_sqlnode n)
{
    return n > 0 && n < t->n ? &t->nodes[n] : &t->nodes[0];
}

sl_sqltree_kind
sl_sqltree_kind_of(const sl_sqltree *t, sl_sqlnode n)
{
    return (sl_sqltree_kind)node(t, n)->kind;
}

sl_sqlnode
sl_sqltree_get(const sl_sqltree *t, sl_sqlnode obj, const char *key)
{
    if (node(t, obj)->kind != SL_SQLTREE_OBJECT)
        return 0;
    for (sl_sqlnode c = node(t, obj)->first; c; c = node(t, c)->next)
        if (strcmp(t->pool + node(t, c)->key - 1, key) == 0)
            return c;
    return 0;
}

sl_sqlnode
sl_sqltree_first(const sl_sqltree *t, sl_sqlnode n)
{
    return node(t, n)->first;
}

sl_sqlnode
sl_sqltree_next(const sl_sqltree *t, sl_sqlnode n)
{
    return node(t, n)->next;
}

size_t
sl_sqltree_count(const sl_sqltree *t, sl_sqlnode n)
{
    return node(t, n)->count;
}

const char *
sl_sqltree_key(const sl_sqltree *t, sl_sqlnode n)
{
    uint32_t k = node(t, n)->key;
    return k ? t->pool + k - 1 : NULL;
}

const char *
sl_sqltree_str(const sl_sqltree *t, sl_sqlnode n)
{
    const tnode *nd = node(t, n);
    return nd->kind == SL_SQLTREE_STRING ? t->pool + nd->str - 1 : NULL;
}

int64_t
sl_sqltree_int(const sl_sqltree *t, sl_sqlnode n)
{
    return node(t, n)->kind == SL_SQLTREE_INT ? node(t, n)->integer : 0;
}

bool
sl_sqltree_is_true(const sl_sqltree *t, sl_sqlnode n)
{
    return node(t, n)->kind == SL_SQLTREE_TRUE;
}
