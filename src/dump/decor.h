/* dump/decor.h: what the decoration families (decorations.c's owners, comments and labels,
 * acl.c, blob.c, policy.c, publication.c) share: the objects the backup holds, looked up by
 * (classid, objid) and sent to the server as the family queries' $1 and $2, and the runner of
 * those queries. A leaf of the decoration readers: it calls none of them.
 * Ownership: the context borrows the connection, the filter and the objects' list. */
#ifndef SL_DUMP_DECOR_H
#define SL_DUMP_DECOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "dump/item.h"
#include "pg/catalog.h"
#include "pg/conn.h"
#include "pg/pattern.h"

/* One decorated object: where its (first) item is in `objects`. */
typedef struct sl__decor_ref {
    uint32_t classid;
    uint32_t objid;
    bool secondary;  /* the item follows another one (item.h ref_classid != 0) */
    int phase;
    size_t index;
} sl__decor_ref;

/* What every family reader needs; built once by sl_dump_read_decorations()
 * (sl__decor_ctx_build, then sl__decor_ctx_free when every family has run). */
typedef struct sl__decor_ctx {
    sl_conn *conn;
    const sl_pattern_filter *f;
    const sl_dump_items *objects;
    sl__decor_ref *refs;   /* sorted by (classid, objid, secondary, phase) */
    size_t nrefs;
    char *classids;        /* "{1259,1255,...}": the server's $1 */
    char *objids;          /* "{16384,16390,...}": the server's $2, pairwise with classids */
    bool everything_on;    /* no -n/-t: database-wide things are dumped too */
    const char *everything;/* the same as the server's $3: "true" or "false" */
    const char *schemas;   /* f->schema_oids (may be NULL: every schema) */
} sl__decor_ctx;

void sl__decor_ctx_build(sl__decor_ctx *ctx, sl_conn *c, const sl_pattern_filter *f,
                         const sl_dump_items *objects);
void sl__decor_ctx_free(sl__decor_ctx *ctx);

/* The object's item (its definition, else its earliest phase), or NULL when the backup does
 * not hold it. */
const sl_dump_item *sl__decor_find(const sl__decor_ctx *ctx, uint32_t classid, uint32_t objid);
/* Runs one of the family queries with $1 classids, $2 objids, $3 everything, then `extra`
 * parameters ($4...). *res is the caller's to PQclear on success. A value of a column of type
 * oid that is not an oid fails with SL_E_INTERNAL. */
SL_MUSTCHECK int sl__decor_query(const sl__decor_ctx *ctx, PGresult **res, const char *what,
                                 const char *sql, int nextra, const char *const *extra,
                                 sl_error *err);
/* Value of a column as an oid (0 when NULL). sl__decor_query has checked every column of type
 * oid (pg/catalog.h's parser); a column of another type that holds no oid reads as 0. */
uint32_t sl__decor_oid(const PGresult *res, int row, int col);
/* Value of a column, or NULL when NULL. */
const char *sl__decor_text(const PGresult *res, int row, int col);

#endif
