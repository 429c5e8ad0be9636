/* dump/decor.h: the decorations of the objects a backup holds: owners, comments, security
 * labels, privileges (GRANT/REVOKE and default privileges), row-level security and policies,
 * large objects' metadata, publications and subscriptions.
 *
 * Calling order: the catalog core runs every object reader first, then hands their items to
 * sl_dump_read_decorations(), which appends the decoration items to `out`. Objects are named
 * generically with pg_identify_object(), so one query per family covers every object kind; the
 * objects' (classid, objid) pairs travel to the server as two oid arrays. The number of queries
 * is fixed (at most 7) whatever the number of objects.
 *
 * What is decorated: exactly the items of `objects` whose objsubid is 0 (columns, constraints,
 * indexes, triggers, rules and policies of those objects are reached through them), plus, when
 * no -n/-t filter is given, large objects, publications, subscriptions and default privileges
 * that are not tied to a schema. Database-level settings and comments are not dumped here.
 *
 * Items (item.h): decorations carry classid/objid 0 and ref_classid/ref_objid of the object they
 * decorate, so the sorter puts them after it. Owners go to the object's phase (at least
 * SL_PHASE_PRE_DATA); comments and security labels to the object's phase (SL_PHASE_FINAL for
 * parts that have no item of their own, such as a CHECK constraint written inside CREATE
 * TABLE; but the index of a primary key, unique or exclusion constraint goes with that
 * constraint's item, which makes it); privileges to SL_PHASE_FINAL; row security and
 * policies to SL_PHASE_POST; large objects (kind "BLOB") to SL_PHASE_PRE_DATA; publications
 * and subscriptions to SL_PHASE_FINAL.
 * Policies, large objects, publications (and their members), subscriptions and default
 * privileges are objects of their own: their items carry their catalog identity.
 *
 * Filter: data_only emits nothing; no_owner, no_privileges and no_comments drop their family
 * (grants made by a role other than the owner keep their SET SESSION AUTHORIZATION even with
 * no_owner, as pg_dump does: that role holds the grant option whoever owns the object).
 *
 * Ownership: `objects` is only read; `out` receives copies (sl_dump_items_add). On failure some
 * items may already have been appended to `out`; the caller frees the list either way.
 * Errors: -1 with err set (SL_E_SERVER naming the family being read), 0 on success. */
#ifndef SL_DUMP_DECOR_H
#define SL_DUMP_DECOR_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "dump/item.h"
#include "pg/conn.h"
#include "pg/pattern.h"

SL_MUSTCHECK int sl_dump_read_decorations(sl_conn *c, const sl_pattern_filter *f,
                                          const sl_dump_items *objects, sl_dump_items *out,
                                          sl_error *err);

/* ---- internal: shared by decor.c, acl.c, policy.c, publication.c and blob.c ---- */

/* One decorated object: where its (first) item is in `objects`. */
typedef struct sl__decor_ref {
    uint32_t classid;
    uint32_t objid;
    bool secondary;  /* the item follows another one (item.h ref_classid != 0) */
    int phase;
    size_t index;
} sl__decor_ref;

/* What every family reader needs; built once by sl_dump_read_decorations(). */
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

/* The object's item (its definition, else its earliest phase), or NULL when the backup does
 * not hold it. */
const sl_dump_item *sl__decor_find(const sl__decor_ctx *ctx, uint32_t classid, uint32_t objid);
/* Runs one of the family queries with $1 classids, $2 objids, $3 everything, then `extra`
 * parameters ($4...). *res is the caller's to PQclear on success. */
SL_MUSTCHECK int sl__decor_query(const sl__decor_ctx *ctx, PGresult **res, const char *what,
                                 const char *sql, int nextra, const char *const *extra,
                                 sl_error *err);
/* Value of a column as an oid (0 when NULL). */
uint32_t sl__decor_oid(const PGresult *res, int row, int col);
/* Value of a column, or NULL when NULL. */
const char *sl__decor_text(const PGresult *res, int row, int col);

#endif
