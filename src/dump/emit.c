/* dump/emit.c: see emit.h. */
#include "dump/emit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

/* Sets meta's schema and name from an object's, as the index can hold them: UTF-8 (script.h).
 * buf holds both strings and must outlive meta. */
void
sl__dump_meta_names(sl_bfile_meta *meta, const char *schema, const char *name, sl_buf *buf)
{
    sl_buf_reset(buf);
    sl_script_put_utf8(buf, schema);
    size_t name_at = buf->len + 1;
    sl_buf_append(buf, "", 1);  /* the NUL between the two */
    sl_script_put_utf8(buf, name);
    meta->schema = schema ? buf->data : NULL;
    meta->name = name ? buf->data + name_at : NULL;
}

int
sl__dump_write_text(dump_ctx *d, const char *text, size_t len, const sl_bfile_meta *meta,
                    sl_error *err)
{
    sl_bfile_segment *seg = NULL;
    if (sl_bfile_segment_open(d->writer, &seg, err) != 0)
        return -1;
    if (sl_bfile_segment_write(seg, text, len, err) != 0) {
        sl_bfile_segment_abort(seg);
        return -1;
    }
    return sl_bfile_segment_commit(seg, meta, err);
}

/* "-- KIND schema.name": names may hold anything, the sanitizer keeps them on this line. */
static void
put_item_comment(sl_buf *b, const sl_dump_item *it)
{
    sl_buf_puts(b, "-- ");
    sl_script_put_comment_text(b, it->kind);
    sl_buf_putc(b, ' ');
    if (it->schema) {
        sl_script_put_comment_text(b, it->schema);
        sl_buf_putc(b, '.');
    }
    sl_script_put_comment_text(b, it->name);
    sl_buf_putc(b, '\n');
}

/* Writes all items of one phase as a single sequential segment (empty phases write none). */
int
sl__dump_write_phase(dump_ctx *d, const sl_dump_items *items, int phase, const char *kind,
                     sl_error *err)
{
    sl_buf b = SL_BUF_INIT;
    for (size_t i = 0; i < items->n; i++) {
        const sl_dump_item *it = &items->v[i];
        if (it->phase != phase)
            continue;
        put_item_comment(&b, it);
        sl_buf_puts(&b, it->sql);
        sl_buf_putc(&b, '\n');
    }
    int rc = 0;
    if (b.len) {
        sl_bfile_meta meta = {.phase = phase, .kind = kind, .rows = -1};
        rc = sl__dump_write_text(d, b.data, b.len, &meta, err);
    }
    sl_buf_free(&b);
    return rc;
}

/* The last segment: \unrestrict ends what \restrict began (psql allows meta-commands again). */
int
sl__dump_write_unrestrict(dump_ctx *d, sl_error *err)
{
    char line[SL_SCRIPT_KEY_LEN + 16];
    int n = snprintf(line, sizeof line, "\\unrestrict %s\n", d->restrict_key);
    sl_bfile_meta meta = {.phase = SL_PHASE_FINAL, .kind = "UNRESTRICT", .rows = -1};
    return sl__dump_write_text(d, line, (size_t)n, &meta, err);
}

/* Groups of a parallel phase: an object and the items that decorate it (its comment, owner,
 * grants) share a segment, so a restore worker never runs a COMMENT ON before the object it
 * names exists. Groups are found through an open-addressing table keyed by catalog identity. */
typedef struct group_slot {
    uint32_t classid, objid;
    size_t group;  /* index into the group list + 1; 0 = empty slot */
} group_slot;

static size_t
slot_find(group_slot *slots, size_t cap, uint32_t classid, uint32_t objid)
{
    size_t h = ((size_t)classid * 2654435761u ^ (size_t)objid * 40503u) & (cap - 1);
    while (slots[h].group && (slots[h].classid != classid || slots[h].objid != objid))
        h = (h + 1) & (cap - 1);
    return h;
}

/* The tables a group's segment needs (io/bfile.h "tables"): those of its members, each once,
 * in the index's UTF-8 as TABLE DATA segments name them (sl__dump_meta_names), so a restore
 * can match them. None when the group's object names none (a restore then waits for the
 * phases before it) or when there are more than the index holds. The names live in *buf. */
static size_t
group_tables(const sl_dump_items *items, const size_t *members, size_t n, sl_buf *buf,
             sl_bfile_table *out)
{
    if (!items->v[members[0]].tables[1])
        return 0;
    size_t offsets[SL_BFILE_TABLES_MAX][2], nt = 0;
    sl_buf_reset(buf);
    for (size_t i = 0; i < n; i++) {
        char *const *t = items->v[members[i]].tables;
        for (size_t k = 0; k < 4; k += 2) {
            if (!t[k] || !t[k + 1])
                continue;
            size_t at = buf->len;
            sl_script_put_utf8(buf, t[k]);
            sl_buf_append(buf, "", 1);
            size_t name_at = buf->len;
            sl_script_put_utf8(buf, t[k + 1]);
            sl_buf_append(buf, "", 1);
            bool seen = false;
            for (size_t j = 0; j < nt && !seen; j++)
                seen = strcmp(buf->data + offsets[j][0], buf->data + at) == 0 &&
                       strcmp(buf->data + offsets[j][1], buf->data + name_at) == 0;
            if (seen) {
                buf->len = at;
                continue;
            }
            if (nt == SL_BFILE_TABLES_MAX)
                return 0;
            offsets[nt][0] = at;
            offsets[nt++][1] = name_at;
        }
    }
    for (size_t j = 0; j < nt; j++)  /* buf no longer grows: its pointers stay */
        out[j] = (sl_bfile_table){buf->data + offsets[j][0], buf->data + offsets[j][1]};
    return nt;
}

static int
write_group(dump_ctx *d, const sl_dump_items *items, const size_t *members, size_t n, int phase,
            sl_buf *text, sl_error *err)
{
    const sl_dump_item *first = &items->v[members[0]];
    sl_buf_reset(text);
    for (size_t i = 0; i < n; i++)
        sl_buf_puts(text, items->v[members[i]].sql);
    sl_bfile_meta meta = {.phase = phase, .parallel = true, .kind = first->kind, .rows = -1};
    sl_buf names = SL_BUF_INIT, table_names = SL_BUF_INIT;
    sl_bfile_table tables[SL_BFILE_TABLES_MAX];
    meta.ntables = group_tables(items, members, n, &table_names, tables);
    meta.tables = tables;
    sl__dump_meta_names(&meta, first->schema, first->name, &names);
    int rc = sl__dump_write_text(d, text->data, text->len, &meta, err);
    sl_buf_free(&names);
    sl_buf_free(&table_names);
    return rc;
}

/* Items of a phase that may run at the same time get a segment per group, so a restore can
 * spread index builds and foreign keys over its workers. */
static int
write_parallel_items(dump_ctx *d, const sl_dump_items *items, int phase, sl_error *err)
{
    size_t cap = 16;
    while (cap < items->n * 2)
        cap *= 2;
    group_slot *slots = sl_calloc(cap, sizeof *slots);
    size_t *group_of = sl_calloc(items->n ? items->n : 1, sizeof *group_of);
    size_t ngroups = 0;
    for (size_t i = 0; i < items->n; i++) {
        const sl_dump_item *it = &items->v[i];
        if (it->phase != phase)
            continue;
        uint32_t cls = it->ref_classid ? it->ref_classid : it->classid;
        uint32_t obj = it->ref_classid ? it->ref_objid : it->objid;
        size_t h = slot_find(slots, cap, cls, obj);
        if (slots[h].group) {
            group_of[i] = slots[h].group;
            continue;
        }
        group_of[i] = ++ngroups;
        h = slot_find(slots, cap, it->classid, it->objid);
        if (!slots[h].group)
            slots[h] = (group_slot){it->classid, it->objid, ngroups};
    }
    /* Members of each group, in item order, then one segment per group in order of first
     * appearance (which keeps the sorted order of the objects themselves). */
    size_t *members = sl_calloc(items->n ? items->n : 1, sizeof *members);
    sl_buf text = SL_BUF_INIT;
    int rc = 0;
    size_t *start = sl_calloc(ngroups + 2, sizeof *start);
    for (size_t i = 0; i < items->n; i++)
        if (group_of[i])
            start[group_of[i] + 1]++;
    for (size_t g = 1; g <= ngroups + 1; g++)
        start[g] += start[g - 1];
    size_t *fill = sl_calloc(ngroups + 1, sizeof *fill);
    for (size_t i = 0; i < items->n; i++)
        if (group_of[i])
            members[start[group_of[i]] + fill[group_of[i]]++] = i;
    for (size_t g = 1; g <= ngroups && rc == 0; g++)
        rc = write_group(d, items, members + start[g], start[g + 1] - start[g], phase, &text,
                         err);
    sl_buf_free(&text);
    free(fill);
    free(start);
    free(members);
    free(group_of);
    free(slots);
    return rc;
}

/* Phases between the data and the final one run in parallel at restore; the others in order. */
int
sl__dump_write_post_data(dump_ctx *d, const sl_dump_items *items, sl_error *err)
{
    int phase = SL_PHASE_DATA;
    for (;;) {
        int next = -1;
        for (size_t i = 0; i < items->n; i++)
            if (items->v[i].phase > phase && (next < 0 || items->v[i].phase < next))
                next = items->v[i].phase;
        if (next < 0)
            return 0;
        phase = next;
        int rc = phase < SL_PHASE_FINAL ? write_parallel_items(d, items, phase, err)
                                        : sl__dump_write_phase(d, items, phase, "FINAL", err);
        if (rc != 0)
            return -1;
    }
}
