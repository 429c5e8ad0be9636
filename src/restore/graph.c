/* restore/graph.c: see graph.h.
 *
 * Design note. Building collects (item, on) pairs; sl_graph_seal() sorts them twice into two
 * compact adjacency lists (who waits on an item, what an item waits on), drops repeated pairs,
 * counts each item's unfinished dependencies and runs Kahn's algorithm once on a copy of the
 * counts: an item it cannot reach sits in or behind a cycle, and following unreached
 * dependencies from it lands in the cycle itself, whose item the error names.
 * States: an item waits (count > 0), is ready (in the heap, or parked behind its lock), runs,
 * or is done. The heap orders ready items by weight, heaviest first, then by index. _take()
 * pops until it finds an item whose lock is free; one whose lock a running item holds is
 * parked on that lock's list, and _done() puts the lock's parked items back into the heap when
 * it frees the lock. So every ready item is in the heap or parked behind a held lock, and
 * _take() returns SL_GRAPH_NONE only when the heap is empty: nothing could start. Lock keys
 * are mapped to dense ids at seal (sorted, binary search). Costs: seal O((n + e) log(n + e)),
 * take and done O(log n) per item moved. */
#include "restore/graph.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

#define NO_ID SIZE_MAX

enum { WAITING, READY, RUNNING, DONE };

typedef struct edge {
    size_t item, on;
} edge;

typedef struct node {
    uint64_t weight;
    uint64_t lock;
    size_t lock_id;  /* index into the lock arrays, NO_ID without a lock */
    size_t waiting;  /* dependencies not done yet */
    size_t parked_next;
    int state;
} node;

struct sl_graph {
    size_t n;
    node *v;
    edge *edges;
    size_t nedges, cap_edges;
    bool sealed;
    size_t *out_start, *out;  /* out[out_start[i] .. out_start[i+1]): items waiting on i */
    size_t *in_start, *in;    /* in[in_start[i] .. in_start[i+1]): items i waits on */
    size_t *heap, nheap;
    size_t nlocks;
    bool *held;
    size_t *parked;           /* per lock: the first parked item, NO_ID when none */
    size_t ndone, nrunning;
};

sl_graph *
sl_graph_new(size_t n)
{
    sl_graph *g = sl_calloc(1, sizeof *g);
    g->n = n;
    g->v = sl_calloc(n ? n : 1, sizeof *g->v);
    for (size_t i = 0; i < n; i++)
        g->v[i].lock_id = NO_ID;
    return g;
}

void
sl_graph_free(sl_graph *g)
{
    if (!g)
        return;
    free(g->v);
    free(g->edges);
    free(g->out_start);
    free(g->out);
    free(g->in_start);
    free(g->in);
    free(g->heap);
    free(g->held);
    free(g->parked);
    free(g);
}

void
sl_graph_item(sl_graph *g, size_t i, uint64_t weight, uint64_t lock)
{
    if (i >= g->n)
        return;
    g->v[i].weight = weight;
    g->v[i].lock = lock;
}

void
sl_graph_depend(sl_graph *g, size_t i, size_t on)
{
    if (g->sealed || i >= g->n || on >= g->n || i == on)
        return;
    if (g->nedges == g->cap_edges) {
        g->cap_edges = g->cap_edges ? g->cap_edges * 2 : 64;
        g->edges = sl_realloc(g->edges, g->cap_edges * sizeof *g->edges);
    }
    g->edges[g->nedges++] = (edge){i, on};
}

/* ---- the ready heap: heaviest first, then the lower index ---- */

static bool
before(const sl_graph *g, size_t a, size_t b)
{
    if (g->v[a].weight != g->v[b].weight)
        return g->v[a].weight > g->v[b].weight;
    return a < b;
}

static void
heap_push(sl_graph *g, size_t i)
{
    size_t k = g->nheap++;
    while (k > 0) {
        size_t parent = (k - 1) / 2;
        if (!before(g, i, g->heap[parent]))
            break;
        g->heap[k] = g->heap[parent];
        k = parent;
    }
    g->heap[k] = i;
    g->v[i].state = READY;
}

static size_t
heap_pop(sl_graph *g)
{
    size_t top = g->heap[0];
    size_t last = g->heap[--g->nheap];
    size_t k = 0;
    for (;;) {
        size_t c = 2 * k + 1;
        if (c >= g->nheap)
            break;
        if (c + 1 < g->nheap && before(g, g->heap[c + 1], g->heap[c]))
            c++;
        if (!before(g, g->heap[c], last))
            break;
        g->heap[k] = g->heap[c];
        k = c;
    }
    if (g->nheap > 0)
        g->heap[k] = last;
    return top;
}

/* ---- seal ---- */

static int
by_on(const void *a, const void *b)
{
    const edge *x = a, *y = b;
    if (x->on != y->on)
        return x->on < y->on ? -1 : 1;
    return x->item < y->item ? -1 : x->item > y->item;
}

static int
by_item(const void *a, const void *b)
{
    const edge *x = a, *y = b;
    if (x->item != y->item)
        return x->item < y->item ? -1 : 1;
    return x->on < y->on ? -1 : x->on > y->on;
}

/* Sorted with cmp, repeated pairs dropped; fills a compact list keyed by one end. */
static void
build_list(sl_graph *g, int (*cmp)(const void *, const void *), bool by_on_side,
           size_t **startp, size_t **listp)
{
    if (g->nedges > 0)
        qsort(g->edges, g->nedges, sizeof *g->edges, cmp);
    size_t m = 0;
    for (size_t k = 0; k < g->nedges; k++)
        if (m == 0 || cmp(&g->edges[m - 1], &g->edges[k]) != 0)
            g->edges[m++] = g->edges[k];
    g->nedges = m;
    size_t *start = sl_calloc(g->n + 1, sizeof *start);
    size_t *list = sl_calloc(m ? m : 1, sizeof *list);
    for (size_t k = 0; k < m; k++)
        start[(by_on_side ? g->edges[k].on : g->edges[k].item) + 1]++;
    for (size_t i = 0; i < g->n; i++)
        start[i + 1] += start[i];
    for (size_t k = 0; k < m; k++)  /* sorted by the key: the lists come out in place */
        list[k] = by_on_side ? g->edges[k].item : g->edges[k].on;
    *startp = start;
    *listp = list;
}

static int
compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void
map_locks(sl_graph *g)
{
    uint64_t *keys = sl_calloc(g->n ? g->n : 1, sizeof *keys);
    size_t m = 0;
    for (size_t i = 0; i < g->n; i++)
        if (g->v[i].lock != SL_GRAPH_NO_LOCK)
            keys[m++] = g->v[i].lock;
    if (m > 0)
        qsort(keys, m, sizeof *keys, compare_u64);
    size_t nk = 0;
    for (size_t k = 0; k < m; k++)
        if (nk == 0 || keys[nk - 1] != keys[k])
            keys[nk++] = keys[k];
    for (size_t i = 0; i < g->n; i++) {
        if (g->v[i].lock == SL_GRAPH_NO_LOCK)
            continue;
        const uint64_t *hit = bsearch(&g->v[i].lock, keys, nk, sizeof *keys, compare_u64);
        g->v[i].lock_id = (size_t)(hit - keys);
    }
    g->nlocks = nk;
    g->held = sl_calloc(nk ? nk : 1, sizeof *g->held);
    g->parked = sl_calloc(nk ? nk : 1, sizeof *g->parked);
    for (size_t k = 0; k < nk; k++)
        g->parked[k] = NO_ID;
    free(keys);
}

/* An item Kahn's algorithm could not reach: its unreached dependencies lead into a cycle
 * (each step goes to an unreached item, and there are finitely many), n steps are enough. */
static size_t
item_in_cycle(const sl_graph *g, const bool *reached)
{
    size_t i = 0;
    while (reached[i])
        i++;
    for (size_t step = 0; step < g->n; step++) {
        for (size_t k = g->in_start[i]; k < g->in_start[i + 1]; k++) {
            if (!reached[g->in[k]]) {
                i = g->in[k];
                break;
            }
        }
    }
    return i;
}

static int
check_cycles(sl_graph *g, sl_error *err)
{
    size_t *count = sl_calloc(g->n ? g->n : 1, sizeof *count);
    size_t *queue = sl_calloc(g->n ? g->n : 1, sizeof *queue);
    bool *reached = sl_calloc(g->n ? g->n : 1, sizeof *reached);
    size_t head = 0, tail = 0;
    for (size_t i = 0; i < g->n; i++) {
        count[i] = g->v[i].waiting;
        if (count[i] == 0)
            queue[tail++] = i;
    }
    while (head < tail) {
        size_t i = queue[head++];
        reached[i] = true;
        for (size_t k = g->out_start[i]; k < g->out_start[i + 1]; k++)
            if (--count[g->out[k]] == 0)
                queue[tail++] = g->out[k];
    }
    int rc = 0;
    if (tail < g->n) {
        size_t i = item_in_cycle(g, reached);
        sl_error_set(err, SL_E_ARCHIVE,
                     "the restore items' dependencies form a cycle: item %zu depends on itself "
                     "(%zu of %zu items could never start)",
                     i, g->n - tail, g->n);
        rc = -1;
    }
    free(reached);
    free(queue);
    free(count);
    return rc;
}

int
sl_graph_seal(sl_graph *g, sl_error *err)
{
    if (g->sealed)
        return 0;
    build_list(g, by_item, false, &g->in_start, &g->in);
    build_list(g, by_on, true, &g->out_start, &g->out);
    free(g->edges);
    g->edges = NULL;
    for (size_t i = 0; i < g->n; i++)
        g->v[i].waiting = g->in_start[i + 1] - g->in_start[i];
    g->sealed = true;
    if (check_cycles(g, err) != 0)
        return -1;
    map_locks(g);
    g->heap = sl_calloc(g->n ? g->n : 1, sizeof *g->heap);
    for (size_t i = 0; i < g->n; i++)
        if (g->v[i].waiting == 0)
            heap_push(g, i);
    return 0;
}

/* ---- running ---- */

size_t
sl_graph_take(sl_graph *g)
{
    while (g->heap && g->nheap > 0) {
        size_t i = heap_pop(g);
        node *x = &g->v[i];
        if (x->lock_id != NO_ID && g->held[x->lock_id]) {
            x->parked_next = g->parked[x->lock_id];  /* back in the heap at the lock's release */
            g->parked[x->lock_id] = i;
            continue;
        }
        if (x->lock_id != NO_ID)
            g->held[x->lock_id] = true;
        x->state = RUNNING;
        g->nrunning++;
        return i;
    }
    return SL_GRAPH_NONE;
}

void
sl_graph_done(sl_graph *g, size_t i)
{
    if (i >= g->n || g->v[i].state != RUNNING)
        return;
    node *x = &g->v[i];
    x->state = DONE;
    g->nrunning--;
    g->ndone++;
    if (x->lock_id != NO_ID) {
        g->held[x->lock_id] = false;
        for (size_t p = g->parked[x->lock_id]; p != NO_ID; p = g->v[p].parked_next)
            heap_push(g, p);
        g->parked[x->lock_id] = NO_ID;
    }
    for (size_t k = g->out_start[i]; k < g->out_start[i + 1]; k++) {
        size_t d = g->out[k];
        if (--g->v[d].waiting == 0)
            heap_push(g, d);
    }
}

bool
sl_graph_finished(const sl_graph *g)
{
    return g->ndone == g->n;
}

size_t
sl_graph_running(const sl_graph *g)
{
    return g->nrunning;
}
