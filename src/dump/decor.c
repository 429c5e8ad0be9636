/* dump/decor.c: the objects a backup holds, as the decoration families see them (decor.h). */
#include "dump/decor.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"

/* Orders by object, then the object's definition before its secondary items (a matview's
 * refresh), then by phase: the first item of an object is where it is created. */
static int
ref_cmp(const void *a, const void *b)
{
    const sl__decor_ref *x = a, *y = b;
    if (x->classid != y->classid)
        return x->classid < y->classid ? -1 : 1;
    if (x->objid != y->objid)
        return x->objid < y->objid ? -1 : 1;
    if (x->secondary != y->secondary)
        return x->secondary ? 1 : -1;
    if (x->phase != y->phase)
        return x->phase < y->phase ? -1 : 1;
    return x->index < y->index ? -1 : (x->index > y->index);
}

static bool
same_object(const sl__decor_ref *x, uint32_t classid, uint32_t objid)
{
    return x->classid == classid && x->objid == objid;
}

static bool
before_object(const sl__decor_ref *x, uint32_t classid, uint32_t objid)
{
    return x->classid < classid || (x->classid == classid && x->objid < objid);
}

static bool
has_patterns(const char **patterns)
{
    return patterns && patterns[0];
}

void
sl__decor_ctx_build(sl__decor_ctx *ctx, sl_conn *c, const sl_pattern_filter *f,
                    const sl_dump_items *objects)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->conn = c;
    ctx->f = f;
    ctx->objects = objects;
    ctx->everything_on = !has_patterns(f->include_schemas) &&
                         !has_patterns(f->include_tables) && !f->tables_only;
    ctx->everything = ctx->everything_on ? "true" : "false";
    ctx->schemas = f->schema_oids;
    ctx->refs = sl_malloc((objects->n ? objects->n : 1) * sizeof *ctx->refs);
    for (size_t i = 0; i < objects->n; i++) {
        const sl_dump_item *it = &objects->v[i];
        if (it->classid == 0 || it->objid == 0 || it->objsubid != 0)
            continue;
        ctx->refs[ctx->nrefs++] =
            (sl__decor_ref){it->classid, it->objid, it->ref_classid != 0, it->phase, i};
    }
    qsort(ctx->refs, ctx->nrefs, sizeof *ctx->refs, ref_cmp);

    sl_buf cls = SL_BUF_INIT, oids = SL_BUF_INIT;
    sl_buf_putc(&cls, '{');
    sl_buf_putc(&oids, '{');
    for (size_t i = 0; i < ctx->nrefs; i++) {
        if (i > 0 && same_object(&ctx->refs[i - 1], ctx->refs[i].classid, ctx->refs[i].objid))
            continue;  /* one object may have several items (e.g. a matview and its refresh) */
        if (cls.len > 1) {
            sl_buf_putc(&cls, ',');
            sl_buf_putc(&oids, ',');
        }
        sl_buf_printf(&cls, "%u", ctx->refs[i].classid);
        sl_buf_printf(&oids, "%u", ctx->refs[i].objid);
    }
    sl_buf_putc(&cls, '}');
    sl_buf_putc(&oids, '}');
    ctx->classids = sl_buf_steal(&cls);
    ctx->objids = sl_buf_steal(&oids);
}

void
sl__decor_ctx_free(sl__decor_ctx *ctx)
{
    free(ctx->refs);
    free(ctx->classids);
    free(ctx->objids);
}

const sl_dump_item *
sl__decor_find(const sl__decor_ctx *ctx, uint32_t classid, uint32_t objid)
{
    size_t lo = 0, hi = ctx->nrefs;
    while (lo < hi) {  /* lower bound: the first item of the object, its earliest phase */
        size_t mid = lo + (hi - lo) / 2;
        if (before_object(&ctx->refs[mid], classid, objid))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < ctx->nrefs && same_object(&ctx->refs[lo], classid, objid))
        return &ctx->objects->v[ctx->refs[lo].index];
    return NULL;
}

int
sl__decor_query(const sl__decor_ctx *ctx, PGresult **res, const char *what, const char *sql,
                int nextra, const char *const *extra, sl_error *err)
{
    const char *params[8] = {ctx->classids, ctx->objids, ctx->everything};
    if (nextra > 5) {
        sl_error_set(err, SL_E_INTERNAL, "too many parameters reading %s", what);
        return -1;
    }
    for (int i = 0; i < nextra; i++)
        params[3 + i] = extra[i];
    if (sl_conn_query(ctx->conn, res, sql, 3 + nextra, params, err) != 0) {
        sl_error_prefix(err, "reading %s", what);
        return -1;
    }
    /* every value of an oid column is checked once here, so sl__decor_oid cannot misread */
    uint32_t oid;
    for (int col = 0; col < PQnfields(*res); col++) {
        if (PQftype(*res, col) != SL_CATALOG_TYPE_OID)
            continue;
        for (int r = 0; r < PQntuples(*res); r++) {
            if (PQgetisnull(*res, r, col) ||
                sl_catalog_parse_oid(PQgetvalue(*res, r, col), &oid))
                continue;
            sl_error_set(err, SL_E_INTERNAL, "catalog query for %s returned a bad oid \"%s\"",
                         what, PQgetvalue(*res, r, col));
            PQclear(*res);
            *res = NULL;
            return -1;
        }
    }
    return 0;
}

uint32_t
sl__decor_oid(const PGresult *res, int row, int col)
{
    uint32_t oid = 0;
    if (!PQgetisnull(res, row, col))
        (void)sl_catalog_parse_oid(PQgetvalue(res, row, col), &oid);  /* 0 if not an oid */
    return oid;
}

const char *
sl__decor_text(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}
