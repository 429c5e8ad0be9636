/* dump/sort.c: dependency order of the dump items (see sort.h for the rules).
 *
 * Design: every dependency row becomes an edge "item A must come after item B" once both ends
 * are mapped to items. Keys (classid, objid) are looked up in small open-addressing hash tables.
 * Kahn's algorithm then emits, among the items whose dependencies are all emitted, the smallest
 * by the tie-break key, using a binary heap. Because every edge goes from an item to one of the
 * same or an earlier phase (after the phase adjustment), the smallest ready item is never of a
 * later phase than any item still waiting, so the output is ordered by phase as well. */
#include "dump/sort.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "io/bfile.h"

#define MAX_OWNER_CHAIN 32 /* internal-part chains are short (array -> type -> table) */

void
sl_dump_deps_add(sl_dump_deps *d, uint32_t classid, uint32_t objid, uint32_t ref_classid,
                 uint32_t ref_objid, char deptype)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 1024;
        d->v = sl_realloc(d->v, d->cap * sizeof *d->v);
    }
    d->v[d->n++] = (sl_dump_dep){classid, objid, ref_classid, ref_objid, deptype};
}

void
sl_dump_deps_free(sl_dump_deps *d)
{
    free(d->v);
    d->v = NULL;
    d->n = d->cap = 0;
}

/* ---- hash map: (classid, objid) -> long ---------------------------------------------------- */

typedef struct {
    uint64_t *keys;  /* 0 = empty slot (no catalog object has classid 0) */
    long *vals;
    size_t cap;      /* power of two */
    size_t n;
} keymap;

static uint64_t
mkkey(uint32_t classid, uint32_t objid)
{
    return ((uint64_t)classid << 32) | objid;
}

static size_t
slot_of(uint64_t k, size_t cap)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return (size_t)k & (cap - 1);
}

static void
keymap_init(keymap *m, size_t expected)
{
    size_t cap = 64;
    while (cap < expected * 2 + 1)
        cap *= 2;
    m->keys = sl_calloc(cap, sizeof *m->keys);
    m->vals = sl_malloc(cap * sizeof *m->vals);
    m->cap = cap;
    m->n = 0;
}

static void
keymap_free(keymap *m)
{
    free(m->keys);
    free(m->vals);
}

static long *
keymap_find(const keymap *m, uint64_t k)
{
    for (size_t i = slot_of(k, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == k)
            return &m->vals[i];
        if (m->keys[i] == 0)
            return NULL;
    }
}

/* Inserts k -> v unless k is present; returns the stored value. */
static long
keymap_put(keymap *m, uint64_t k, long v)
{
    if (k == 0)
        return v;
    if ((m->n + 1) * 2 > m->cap) {
        keymap old = *m;
        keymap_init(m, old.cap);
        for (size_t i = 0; i < old.cap; i++)
            if (old.keys[i])
                keymap_put(m, old.keys[i], old.vals[i]);
        keymap_free(&old);
    }
    size_t i = slot_of(k, m->cap);
    while (m->keys[i] && m->keys[i] != k)
        i = (i + 1) & (m->cap - 1);
    if (m->keys[i] == k)
        return m->vals[i];
    m->keys[i] = k;
    m->vals[i] = v;
    m->n++;
    return v;
}

/* ---- mapping objects to items ---------------------------------------------------------------- */

typedef struct {
    keymap holder;  /* key -> first item (not a shell) with that (classid, objid) */
    keymap shell;   /* key -> SHELL TYPE item */
    keymap owner;   /* key -> index into deps of its first 'i' row */
    keymap member;  /* keys of extension members */
    keymap support; /* support_key(): a type's dependency on a function (its I/O, typmod, ...) */
    const sl_dump_deps *deps;
} mapping;

/* A (type, function) pair: the type names the function as one of its support functions. */
static uint64_t
support_key(uint32_t type_oid, uint32_t proc_oid)
{
    return ((uint64_t)proc_oid << 32) | type_oid;
}

static bool
is_shell(const sl_dump_item *it)
{
    return it->kind && strcmp(it->kind, "SHELL TYPE") == 0;
}

static bool
is_secondary(const sl_dump_item *it)
{
    return it->ref_classid != 0;
}

/* Whether the item stands for its own (classid, objid): see sl_dump_find_unhandled. */
static bool
stands_for_key(const sl_dump_item *it)
{
    if (it->classid == 0 || it->objsubid != 0)
        return false;
    return !is_secondary(it) || it->classid != it->ref_classid || it->objid != it->ref_objid;
}

static void
mapping_init(mapping *mp, const sl_dump_items *items, const sl_dump_deps *deps,
             bool standing_only)
{
    keymap_init(&mp->holder, items->n);
    keymap_init(&mp->shell, 16);
    keymap_init(&mp->owner, deps->n / 2 + 1);
    keymap_init(&mp->member, 64);
    keymap_init(&mp->support, 16);
    mp->deps = deps;
    /* primaries first, so that a key's holder is its definition when there is one */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < items->n; i++) {
            const sl_dump_item *it = &items->v[i];
            if (it->classid == 0 || it->objsubid != 0 || is_secondary(it) != (pass == 1))
                continue;
            if (standing_only && !stands_for_key(it))
                continue;
            uint64_t k = mkkey(it->classid, it->objid);
            if (is_shell(it))
                keymap_put(&mp->shell, k, (long)i);
            else
                keymap_put(&mp->holder, k, (long)i);
        }
    }
    for (size_t i = 0; i < deps->n; i++) {
        const sl_dump_dep *d = &deps->v[i];
        if (d->deptype == 'i')
            keymap_put(&mp->owner, mkkey(d->classid, d->objid), (long)i);
        else if (d->deptype == 'e')
            keymap_put(&mp->member, mkkey(d->classid, d->objid), 1);
        else if (d->classid == SL_CLASS_TYPE && d->ref_classid == SL_CLASS_PROC)
            keymap_put(&mp->support, support_key(d->objid, d->ref_objid), 1);
    }
}

static void
mapping_free(mapping *mp)
{
    keymap_free(&mp->holder);
    keymap_free(&mp->shell);
    keymap_free(&mp->owner);
    keymap_free(&mp->member);
    keymap_free(&mp->support);
}

/* The key of the item that stands for object k (k itself or what it is a part of); 0 if none.
 * *member is set when k or an owner on the way is an extension member. */
static uint64_t
resolve(const mapping *mp, uint64_t k, bool *member)
{
    for (int step = 0; step < MAX_OWNER_CHAIN; step++) {
        if (member && keymap_find(&mp->member, k))
            *member = true;
        if (keymap_find(&mp->holder, k) || keymap_find(&mp->shell, k))
            return k;
        long *d = keymap_find(&mp->owner, k);
        if (!d)
            return 0;
        const sl_dump_dep *dep = &mp->deps->v[*d];
        k = mkkey(dep->ref_classid, dep->ref_objid);
    }
    return 0;
}

/* ---- graph ---------------------------------------------------------------------------- */

typedef struct {
    size_t *from, *to; /* edge i: item from[i] comes after item to[i] */
    bool *order_only;  /* the order is kept, but the two may run at the same time (see below) */
    size_t n, cap;
} edges;

static void
edge_add_as(edges *e, size_t from, size_t to, bool order_only)
{
    if (from == to)
        return;
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 1024;
        e->from = sl_realloc(e->from, e->cap * sizeof *e->from);
        e->to = sl_realloc(e->to, e->cap * sizeof *e->to);
        e->order_only = sl_realloc(e->order_only, e->cap * sizeof *e->order_only);
    }
    e->from[e->n] = from;
    e->to[e->n] = to;
    e->order_only[e->n] = order_only;
    e->n++;
}

static void
edge_add(edges *e, size_t from, size_t to)
{
    edge_add_as(e, from, to, false);
}

typedef struct {
    const sl_dump_items *items;
    mapping mp;
    size_t *same_next;  /* next item with the same key (holder chain), or SIZE_MAX */
    size_t *sec_head;   /* first secondary of an item, or SIZE_MAX */
    size_t *sec_next;   /* next secondary of the same ref, or SIZE_MAX */
    edges e;
} graph;

static void
graph_chains(graph *g)
{
    size_t n = g->items->n;
    g->same_next = sl_malloc((n + 1) * sizeof *g->same_next);
    g->sec_head = sl_malloc((n + 1) * sizeof *g->sec_head);
    g->sec_next = sl_malloc((n + 1) * sizeof *g->sec_next);
    size_t *last_same = sl_malloc((n + 1) * sizeof *last_same);
    size_t *last_sec = sl_malloc((n + 1) * sizeof *last_sec);
    for (size_t i = 0; i < n; i++)
        g->same_next[i] = g->sec_head[i] = g->sec_next[i] = last_same[i] = last_sec[i] = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        const sl_dump_item *it = &g->items->v[i];
        if (it->classid == 0 || it->objsubid != 0 || is_shell(it))
            continue;
        long *h = keymap_find(&g->mp.holder, mkkey(it->classid, it->objid));
        if (!h || (size_t)*h == i)
            continue;
        size_t head = (size_t)*h;
        size_t tail = last_same[head] == SIZE_MAX ? head : last_same[head];
        g->same_next[tail] = i;
        last_same[head] = i;
        edge_add(&g->e, i, tail); /* items sharing a key keep the readers' order */
    }
    for (size_t i = 0; i < n; i++) {
        const sl_dump_item *it = &g->items->v[i];
        if (!is_secondary(it))
            continue;
        uint64_t k = resolve(&g->mp, mkkey(it->ref_classid, it->ref_objid), NULL);
        long *h = k ? keymap_find(&g->mp.holder, k) : NULL;
        if (!h)
            continue; /* decorates something no item defines (e.g. a built-in schema) */
        size_t p = (size_t)*h;
        edge_add(&g->e, i, p);
        if (last_sec[p] == SIZE_MAX)
            g->sec_head[p] = i;
        else
            g->sec_next[last_sec[p]] = i;
        last_sec[p] = i;
    }
    free(last_same);
    free(last_sec);
}

/* Secondaries of `from` follow the secondaries of the same kind of `to`. That order matters
 * only where the phase runs in order (matview refreshes in the final phase), so the edge never
 * splits a parallel phase. */
static void
propagate_secondaries(graph *g, size_t from, size_t to)
{
    for (size_t s = g->sec_head[from]; s != SIZE_MAX; s = g->sec_next[s]) {
        for (size_t t = g->sec_head[to]; t != SIZE_MAX; t = g->sec_next[t]) {
            if (strcmp(g->items->v[s].kind, g->items->v[t].kind) == 0) {
                edge_add_as(&g->e, s, t, true);
                break;
            }
        }
    }
}

/* An object finished by a later secondary of its own key (a partition's index by its attachment
 * to the parent's index, which only then becomes valid) is ready for an item of that phase or a
 * later one only after it: a foreign key to a partitioned table waits for the attachments. */
static void
edges_to_finishers(graph *g, size_t from, size_t to, bool order_only)
{
    for (size_t s = g->same_next[to]; s != SIZE_MAX; s = g->same_next[s]) {
        const sl_dump_item *f = &g->items->v[s];
        if (is_secondary(f) && f->phase <= g->items->v[from].phase)
            edge_add_as(&g->e, from, s, order_only);
    }
}

static void
graph_dep_edges(graph *g, const sl_dump_deps *deps)
{
    for (size_t i = 0; i < deps->n; i++) {
        const sl_dump_dep *d = &deps->v[i];
        if (d->deptype == 'e')
            continue;
        uint64_t fk = resolve(&g->mp, mkkey(d->classid, d->objid), NULL);
        uint64_t tk = resolve(&g->mp, mkkey(d->ref_classid, d->ref_objid), NULL);
        if (!fk || !tk || fk == tk)
            continue;
        /* A partition's clone of its parent's trigger, FK or index ('P' on the parent's) is
         * made by whichever of the two comes second: the parent's object creates it on the
         * existing partitions, the partition receives it when attached. When the clone is not
         * an item but written as part of another (a clone trigger as part of its partition),
         * the 'P' row orders nothing: followed, it would make the partition wait for the
         * parent's trigger and pull that trigger into pre-data, where it fires on the data. */
        if (d->deptype == 'P' && fk != mkkey(d->classid, d->objid))
            continue;
        /* Only the functions the type itself names need it as a shell; any other function
         * (an SQL function cannot even be created on a shell type) waits for the whole type. */
        long *target = NULL;
        if (d->classid == SL_CLASS_PROC &&
            keymap_find(&g->mp.support, support_key((uint32_t)tk, d->objid)))
            target = keymap_find(&g->mp.shell, tk);
        if (!target)
            target = keymap_find(&g->mp.holder, tk);
        if (!target)
            target = keymap_find(&g->mp.shell, tk); /* a type that is only a shell */
        if (!target)
            continue;
        size_t to = (size_t)*target;
        long *h = keymap_find(&g->mp.holder, fk);
        if (!h)
            continue; /* a shell depends on nothing but its schema */
        for (size_t from = (size_t)*h; from != SIZE_MAX; from = g->same_next[from]) {
            /* a partition's index and its parent's are made independently of each other */
            edge_add_as(&g->e, from, to, d->deptype == 'P');
            edges_to_finishers(g, from, to, d->deptype == 'P');
            propagate_secondaries(g, from, to);
        }
    }
}

/* Moves items between phases so that no item depends on one of a later phase (sort.h). */
static void
adjust_phases(graph *g)
{
    sl_dump_item *v = g->items->v;
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < g->e.n; i++) {
            sl_dump_item *a = &v[g->e.from[i]], *b = &v[g->e.to[i]];
            if (!is_secondary(a) && !is_secondary(b) && b->phase > a->phase) {
                SL_DEBUG("sort: %s %s.%s moves from phase %d to %d, needed by %s %s.%s",
                         b->kind, b->schema ? b->schema : "", b->name ? b->name : "", b->phase,
                         a->phase, a->kind, a->schema ? a->schema : "", a->name ? a->name : "");
                b->phase = a->phase;
                changed = true;
            }
        }
    }
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < g->e.n; i++) {
            sl_dump_item *a = &v[g->e.from[i]], *b = &v[g->e.to[i]];
            if (is_secondary(a) && b->phase > a->phase) {
                a->phase = b->phase;
                changed = true;
            }
        }
    }
}

/* Phases whose items a restore runs at the same time, one segment per object with the items
 * that decorate it (emit.c; io/bfile.h). */
static bool
is_parallel_phase(int phase)
{
    return phase > SL_PHASE_DATA && phase < SL_PHASE_FINAL;
}

/* Whether emit.c writes a and b into one segment of a parallel phase: it groups an object with
 * the items that name it as their ref. */
static bool
same_segment(const sl_dump_item *a, const sl_dump_item *b)
{
    uint64_t ka = is_secondary(a) ? mkkey(a->ref_classid, a->ref_objid)
                                  : mkkey(a->classid, a->objid);
    uint64_t kb = is_secondary(b) ? mkkey(b->ref_classid, b->ref_objid)
                                  : mkkey(b->classid, b->objid);
    return ka == kb || (is_secondary(a) && ka == mkkey(b->classid, b->objid));
}

/* An item that needs another item of the same parallel phase in another segment (a foreign key
 * to a partitioned table needs its partitions' indexes attached, which are items of the post-data
 * phase too) moves to the next phase, and what needs it follows it there. Phases only grow, up
 * to SL_PHASE_FINAL, which runs in order, so this ends. */
/* An item that moves to a later phase needs something besides its tables (an item of that
 * phase, maybe on another table): its segment names none, so a restore runs it after every
 * segment of the phases before its own, as it did before the move. */
static void
forget_tables(sl_dump_item *a)
{
    for (size_t k = 0; k < 4; k++) {
        free(a->tables[k]);
        a->tables[k] = NULL;
    }
}

static void
split_parallel_phases(graph *g)
{
    sl_dump_item *v = g->items->v;
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < g->e.n; i++) {
            sl_dump_item *a = &v[g->e.from[i]], *b = &v[g->e.to[i]];
            if (b->phase > a->phase) {
                a->phase = b->phase;
                forget_tables(a);
                changed = true;
            } else if (!g->e.order_only[i] && a->phase == b->phase &&
                       is_parallel_phase(a->phase) && !same_segment(a, b)) {
                SL_DEBUG("sort: %s %s.%s moves from phase %d to the next one: it needs %s %s.%s",
                         a->kind, a->schema ? a->schema : "", a->name ? a->name : "", a->phase,
                         b->kind, b->schema ? b->schema : "", b->name ? b->name : "");
                a->phase = a->phase == SL_PHASE_INDEX ? SL_PHASE_POST : SL_PHASE_FINAL;
                forget_tables(a);
                changed = true;
            }
        }
    }
}

/* ---- ordering ------------------------------------------------------------------------- */

static int
strcmp_null(const char *a, const char *b)
{
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

static int
item_cmp(const sl_dump_items *items, size_t x, size_t y)
{
    const sl_dump_item *a = &items->v[x], *b = &items->v[y];
    if (a->phase != b->phase)
        return a->phase < b->phase ? -1 : 1;
    if (a->priority != b->priority)
        return a->priority < b->priority ? -1 : 1;
    int c = strcmp_null(a->schema, b->schema);
    if (c == 0)
        c = strcmp_null(a->name, b->name);
    if (c == 0)
        c = strcmp_null(a->kind, b->kind);
    if (c == 0)
        c = x < y ? -1 : (x > y);
    return c;
}

typedef struct {
    size_t *v;
    size_t n;
    const sl_dump_items *items;
} heap;

static void
heap_push(heap *h, size_t x)
{
    size_t i = h->n++;
    h->v[i] = x;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (item_cmp(h->items, h->v[p], h->v[i]) <= 0)
            break;
        size_t t = h->v[p];
        h->v[p] = h->v[i];
        h->v[i] = t;
        i = p;
    }
}

static size_t
heap_pop(heap *h)
{
    size_t top = h->v[0];
    h->v[0] = h->v[--h->n];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && item_cmp(h->items, h->v[l], h->v[m]) < 0)
            m = l;
        if (r < h->n && item_cmp(h->items, h->v[r], h->v[m]) < 0)
            m = r;
        if (m == i)
            break;
        size_t t = h->v[m];
        h->v[m] = h->v[i];
        h->v[i] = t;
        i = m;
    }
    return top;
}

static void
describe_item(sl_buf *b, const sl_dump_item *it)
{
    sl_buf_printf(b, "%s %s%s%s", it->kind ? it->kind : "?", it->schema ? it->schema : "",
                  it->schema ? "." : "", it->name ? it->name : "?");
}

/* Names the objects of one cycle among the items not emitted (indeg > 0). */
static void
report_cycle(const graph *g, const size_t *indeg, const size_t *out_start, const size_t *out_edge,
             sl_error *err)
{
    size_t n = g->items->n;
    /* one "depends on" edge per waiting item, towards another waiting item */
    size_t *dep_of = sl_malloc(n * sizeof *dep_of);
    for (size_t i = 0; i < n; i++)
        dep_of[i] = SIZE_MAX;
    for (size_t t = 0; t < n; t++) {
        for (size_t k = out_start[t]; k < out_start[t + 1]; k++) {
            size_t f = g->e.from[out_edge[k]];
            if (indeg[f] && indeg[t] && dep_of[f] == SIZE_MAX)
                dep_of[f] = t;
        }
    }
    size_t start = SIZE_MAX;
    for (size_t i = 0; i < n && start == SIZE_MAX; i++)
        if (indeg[i] && dep_of[i] != SIZE_MAX)
            start = i;
    sl_buf msg = SL_BUF_INIT;
    if (start != SIZE_MAX) {
        /* advance n steps to be inside the cycle, then print it once */
        size_t x = start;
        for (size_t i = 0; i < n && dep_of[x] != SIZE_MAX; i++)
            x = dep_of[x];
        size_t y = x;
        do {
            if (msg.len)
                sl_buf_puts(&msg, " -> ");
            describe_item(&msg, &g->items->v[y]);
            y = dep_of[y];
        } while (y != x && y != SIZE_MAX && msg.len < 700);
        sl_buf_puts(&msg, " -> ");
        describe_item(&msg, &g->items->v[x]);
    }
    sl_error_set(err, SL_E_UNSUPPORTED, "dependency cycle that cannot be ordered: %s",
                 msg.data ? msg.data : "(unknown)");
    sl_buf_free(&msg);
    free(dep_of);
}

int
sl_dump_sort(sl_dump_items *items, const sl_dump_deps *deps, sl_error *err)
{
    size_t n = items->n;
    int rc = -1;
    graph g = {.items = items};
    mapping_init(&g.mp, items, deps, false);
    graph_chains(&g);
    graph_dep_edges(&g, deps);
    adjust_phases(&g);
    split_parallel_phases(&g);

    /* CSR of "who waits for t": out_edge[out_start[t] .. out_start[t+1]) */
    size_t *indeg = sl_calloc(n + 1, sizeof *indeg);
    size_t *out_start = sl_calloc(n + 2, sizeof *out_start);
    size_t *out_edge = sl_malloc((g.e.n + 1) * sizeof *out_edge);
    for (size_t i = 0; i < g.e.n; i++) {
        indeg[g.e.from[i]]++;
        out_start[g.e.to[i] + 1]++;
    }
    for (size_t t = 0; t < n; t++)
        out_start[t + 1] += out_start[t];
    size_t *fill = sl_malloc((n + 1) * sizeof *fill);
    memcpy(fill, out_start, (n + 1) * sizeof *fill);
    for (size_t i = 0; i < g.e.n; i++)
        out_edge[fill[g.e.to[i]]++] = i;

    heap h = {sl_malloc((n + 1) * sizeof(size_t)), 0, items};
    size_t *order = sl_malloc((n + 1) * sizeof *order);
    size_t done = 0;
    for (size_t i = 0; i < n; i++)
        if (!indeg[i])
            heap_push(&h, i);
    while (h.n) {
        size_t t = heap_pop(&h);
        order[done++] = t;
        for (size_t k = out_start[t]; k < out_start[t + 1]; k++) {
            size_t f = g.e.from[out_edge[k]];
            if (--indeg[f] == 0)
                heap_push(&h, f);
        }
    }
    if (done < n) {
        report_cycle(&g, indeg, out_start, out_edge, err);
        goto done;
    }
    sl_dump_item *sorted = sl_malloc((n + 1) * sizeof *sorted);
    for (size_t i = 0; i < n; i++)
        sorted[i] = items->v[order[i]];
    if (n > 0)  /* an empty list has no array (-t naming only an extension's table) */
        memcpy(items->v, sorted, n * sizeof *sorted);
    free(sorted);
    rc = 0;
done:
    free(order);
    free(h.v);
    free(fill);
    free(out_edge);
    free(out_start);
    free(indeg);
    free(g.e.from);
    free(g.e.to);
    free(g.e.order_only);
    free(g.same_next);
    free(g.sec_head);
    free(g.sec_next);
    mapping_free(&g.mp);
    return rc;
}

long
sl_dump_find_unhandled(const sl_dump_items *items, const sl_dump_deps *deps, const uint32_t *objs,
                       size_t n)
{
    mapping mp;
    long missing = -1;
    mapping_init(&mp, items, deps, true);
    for (size_t i = 0; i < n && missing < 0; i++) {
        bool member = false;
        uint64_t k = resolve(&mp, mkkey(objs[2 * i], objs[2 * i + 1]), &member);
        if (!k && !member)
            missing = (long)i;
    }
    mapping_free(&mp);
    return missing;
}
