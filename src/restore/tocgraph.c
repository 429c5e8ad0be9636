/* restore/tocgraph.c: see tocgraph.h.
 * The graph (restore/graph.h) holds one node per selected entry plus three barriers: "data
 * done", "main done" and "ACLs done". Pre-data entries run one after the other in TOC order (as
 * pg_restore runs them before forking workers); data and post-data entries after the last of
 * them, each once the entries its TOC dependencies name are in -- a dependency on a TABLE
 * counts as one on its TABLE DATA too, so an index starts as soon as its table's rows are in
 * (pg_restore's repoint_table_dependencies). ACLs run after every main entry, then what must
 * follow them (materialized view data, event triggers), each pass in TOC order. Weights: a
 * TABLE DATA entry's stored size (the next block's offset, or its file's size); a post-data
 * entry inherits its table's, so the big table's index starts first. Lock keys keep two
 * entries that lock one table exclusively (its COPY, ALTER TABLE ADD CONSTRAINT, CREATE
 * TRIGGER / RULE) apart, as pg_restore's has_lock_conflicts does. */
#include "restore/tocgraph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/mem.h"

static bool
desc_is(const sl_pgarchive_entry *e, const char *what)
{
    return e->desc && strcmp(e->desc, what) == 0;
}

static int
compare_offsets(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Every data block's offset in a custom archive, sorted, and the file's size after them. */
typedef struct offsets {
    uint64_t *v;
    size_t n;
    uint64_t file_size;
} offsets;

static void
offsets_make(const sl_pgarchive *a, const char *path, offsets *o)
{
    o->v = sl_calloc(sl_pgarchive_count(a) + 1, sizeof *o->v);
    o->n = 0;
    for (size_t i = 0; i < sl_pgarchive_count(a); i++)
        if (sl_pgarchive_at(a, i)->data_offset)
            o->v[o->n++] = sl_pgarchive_at(a, i)->data_offset;
    qsort(o->v, o->n, sizeof *o->v, compare_offsets);
    struct stat st;
    o->file_size = stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* The stored size of a TABLE DATA entry, from the archive's layout: its file's size, or the
 * distance to the next data block (to the end of the file for the last). */
static uint64_t
stored_size(const offsets *o, const char *path, const sl_pgarchive_entry *e)
{
    if (e->data_file) {
        struct stat st;
        char file[4096];
        snprintf(file, sizeof file, "%s/%s", path, e->data_file);
        return stat(file, &st) == 0 ? (uint64_t)st.st_size : 0;
    }
    size_t lo = 0, hi = o->n;
    while (lo < hi) {  /* the first offset above e's */
        size_t mid = lo + (hi - lo) / 2;
        if (o->v[mid] <= e->data_offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint64_t next = lo < o->n ? o->v[lo] : o->file_size;
    return next > e->data_offset ? next - e->data_offset : 0;
}

typedef struct toc_index {
    size_t *by_id;      /* dump id -> item index + 1 (0: not restored) */
    size_t *data_of;    /* dump id of a TABLE -> its TABLE DATA item + 1 */
    int max_id;
    size_t data_done;   /* the barrier after every data entry */
} toc_index;

static size_t
lookup(const size_t *map, int max_id, int id)
{
    return id > 0 && id <= max_id ? map[id] : 0;
}

static void
index_items(const sl_toc_plan *p, toc_index *ix)
{
    ix->max_id = 0;
    for (size_t i = 0; i < sl_pgarchive_count(p->archive); i++)
        if (sl_pgarchive_at(p->archive, i)->dump_id > ix->max_id)
            ix->max_id = sl_pgarchive_at(p->archive, i)->dump_id;
    ix->by_id = sl_calloc((size_t)ix->max_id + 1, sizeof *ix->by_id);
    ix->data_of = sl_calloc((size_t)ix->max_id + 1, sizeof *ix->data_of);
    for (size_t i = 0; i < p->n; i++) {
        const sl_pgarchive_entry *e = p->items[i].e;
        if (e->dump_id > 0)
            ix->by_id[e->dump_id] = i + 1;
        if (desc_is(e, "TABLE DATA") && p->items[i].data)
            for (size_t d = 0; d < e->ndeps; d++)
                if (e->deps[d] > 0 && e->deps[d] <= ix->max_id)
                    ix->data_of[e->deps[d]] = i + 1;
    }
}

static bool
locks_table(const sl_pgarchive_entry *e)
{
    return desc_is(e, "TABLE DATA") || desc_is(e, "CONSTRAINT") ||
           desc_is(e, "CHECK CONSTRAINT") || desc_is(e, "FK CONSTRAINT") ||
           desc_is(e, "RULE") || desc_is(e, "TRIGGER");
}

/* Dependencies, weights and locks of a main-pass item that is not pre-data. */
static void
link_main(const sl_toc_plan *plan, sl_graph *g, const toc_index *ix, size_t i, size_t last_pre,
          uint64_t *weight, uint64_t *lock)
{
    const sl_toc_item *it = &plan->items[i];
    const sl_pgarchive_entry *e = it->e;
    if (last_pre != SL_GRAPH_NONE)
        sl_graph_depend(g, i, last_pre);
    for (size_t d = 0; d < e->ndeps; d++) {
        size_t on = lookup(ix->by_id, ix->max_id, e->deps[d]);
        if (on && on - 1 != i && plan->items[on - 1].pass == SL_TOC_PASS_MAIN)
            sl_graph_depend(g, i, on - 1);
        if (it->section != SL_PGARCHIVE_SECTION_POST_DATA)
            continue;
        size_t data = lookup(ix->data_of, ix->max_id, e->deps[d]);
        if (!data && on && desc_is(plan->items[on - 1].e, "TABLE")) {
            /* a table without rows of its own, a partitioned one: a trigger or index on it
             * reaches its partitions, so it waits for all the rows */
            sl_graph_depend(g, i, ix->data_done);
            continue;
        }
        if (!data || data - 1 == i)
            continue;
        /* on a table: on its rows too */
        sl_graph_depend(g, i, data - 1);
        if (weight[data - 1] > weight[i])
            weight[i] = weight[data - 1];
        if (locks_table(e) && !*lock)
            *lock = (uint64_t)e->deps[d];
    }
    if (desc_is(e, "TABLE DATA") && e->ndeps > 0)
        *lock = (uint64_t)e->deps[0];  /* its TABLE: what a post-data entry's lock names */
}

sl_graph *
sl_tocgraph_build(const sl_toc_plan *p, const char *path, sl_error *err)
{
    size_t main_done = p->n, acl_done = p->n + 1, nodes = p->n + 3;
    sl_graph *g = sl_graph_new(nodes);
    toc_index ix;
    index_items(p, &ix);
    ix.data_done = p->n + 2;
    uint64_t *weight = sl_calloc(nodes, sizeof *weight);
    uint64_t *lock = sl_calloc(nodes, sizeof *lock);
    offsets offs;
    offsets_make(p->archive, path, &offs);
    for (size_t i = 0; i < p->n; i++)
        weight[i] = desc_is(p->items[i].e, "TABLE DATA") && p->items[i].data
                        ? stored_size(&offs, path, p->items[i].e)
                        : p->items[i].weight;
    size_t last_pre = SL_GRAPH_NONE, last_acl = SL_GRAPH_NONE, last_post = SL_GRAPH_NONE;
    for (size_t i = 0; i < p->n; i++) {
        const sl_toc_item *it = &p->items[i];
        int section = it->section;
        if (it->pass == SL_TOC_PASS_ACL) {
            sl_graph_depend(g, i, last_acl != SL_GRAPH_NONE ? last_acl : main_done);
            sl_graph_depend(g, acl_done, i);
            last_acl = i;
        } else if (it->pass == SL_TOC_PASS_POST_ACL) {
            sl_graph_depend(g, i, last_post != SL_GRAPH_NONE ? last_post : acl_done);
            last_post = i;
        } else if (section != SL_PGARCHIVE_SECTION_DATA &&
                   section != SL_PGARCHIVE_SECTION_POST_DATA) {
            link_main(p, g, &ix, i, last_pre, weight, &lock[i]);
            sl_graph_depend(g, main_done, i);
            last_pre = i;
        } else {
            link_main(p, g, &ix, i, last_pre, weight, &lock[i]);
            sl_graph_depend(g, main_done, i);
            if (section == SL_PGARCHIVE_SECTION_DATA)
                sl_graph_depend(g, ix.data_done, i);
        }
    }
    if (last_pre != SL_GRAPH_NONE)
        sl_graph_depend(g, ix.data_done, last_pre);
    sl_graph_depend(g, main_done, ix.data_done);
    sl_graph_depend(g, acl_done, main_done);
    for (size_t i = 0; i < nodes; i++)
        sl_graph_item(g, i, weight[i], lock[i]);
    free(offs.v);
    free(weight);
    free(lock);
    free(ix.by_id);
    free(ix.data_of);
    if (sl_graph_seal(g, err) != 0) {
        sl_error_prefix(err, "the archive's dependencies");
        sl_graph_free(g);
        return NULL;
    }
    return g;
}

