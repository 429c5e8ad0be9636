/* proxy/statements.c: a chained hash table of statement names (see statements.h); it doubles
 * when it holds as many entries as buckets, so lookups stay short for clients that prepare
 * thousands of statements. */
#include "proxy/statements.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

typedef struct entry {
    struct entry *next;
    char *name;
    char *sql;
} entry;

struct sl_statements {
    entry **buckets;
    size_t nbuckets; /* a power of two */
    size_t count;
};

static size_t
hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return (size_t)h;
}

sl_statements *
sl_statements_new(void)
{
    sl_statements *st = sl_calloc(1, sizeof *st);
    st->nbuckets = 16;
    st->buckets = sl_calloc(st->nbuckets, sizeof *st->buckets);
    return st;
}

void
sl_statements_clear(sl_statements *st)
{
    for (size_t i = 0; i < st->nbuckets; i++) {
        for (entry *e = st->buckets[i], *next; e; e = next) {
            next = e->next;
            free(e->name);
            free(e->sql);
            free(e);
        }
        st->buckets[i] = NULL;
    }
    st->count = 0;
}

void
sl_statements_free(sl_statements *st)
{
    if (!st)
        return;
    sl_statements_clear(st);
    free(st->buckets);
    free(st);
}

static entry **
find(const sl_statements *st, const char *name)
{
    entry **at = &st->buckets[hash(name) & (st->nbuckets - 1)];
    while (*at && strcmp((*at)->name, name) != 0)
        at = &(*at)->next;
    return at;
}

static void
grow(sl_statements *st)
{
    size_t n = st->nbuckets * 2;
    entry **b = sl_calloc(n, sizeof *b);
    for (size_t i = 0; i < st->nbuckets; i++) {
        for (entry *e = st->buckets[i], *next; e; e = next) {
            next = e->next;
            size_t h = hash(e->name) & (n - 1);
            e->next = b[h];
            b[h] = e;
        }
    }
    free(st->buckets);
    st->buckets = b;
    st->nbuckets = n;
}

void
sl_statements_set(sl_statements *st, const char *name, const char *sql)
{
    entry **at = find(st, name);
    if (*at) {
        free((*at)->sql);
        (*at)->sql = sl_strdup(sql);
        return;
    }
    if (st->count >= st->nbuckets) {
        grow(st);
        at = find(st, name);
    }
    entry *e = sl_malloc(sizeof *e);
    e->next = NULL;
    e->name = sl_strdup(name);
    e->sql = sl_strdup(sql);
    *at = e;
    st->count++;
}

const char *
sl_statements_get(const sl_statements *st, const char *name)
{
    entry *e = *find(st, name);
    return e ? e->sql : NULL;
}

void
sl_statements_remove(sl_statements *st, const char *name)
{
    entry **at = find(st, name);
    entry *e = *at;
    if (!e)
        return;
    *at = e->next;
    free(e->name);
    free(e->sql);
    free(e);
    st->count--;
}

size_t
sl_statements_count(const sl_statements *st)
{
    return st->count;
}
