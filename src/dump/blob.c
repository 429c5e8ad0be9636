/* dump/blob.c: large objects' lo_create() items (blob.h). */
#include "dump/blob.h"

#include <stdio.h>

#include "io/bfile.h"
#include "pg/catalog.h"

int
sl__blob_read(const sl__decor_ctx *ctx, sl_dump_items *out, sl_error *err)
{
    PGresult *res = NULL;
    if (!ctx->everything_on)
        return 0;
    if (sl_conn_query(ctx->conn, &res,
                      "SELECT oid FROM pg_catalog.pg_largeobject_metadata ORDER BY oid", 0, NULL,
                      err) != 0) {
        sl_error_prefix(err, "reading large objects");
        return -1;
    }
    for (int r = 0; r < PQntuples(res); r++) {
        /* the OID goes into the script as the number parsed here, not as the server's text */
        uint32_t oid = sl__decor_oid(res, r, 0);
        char name[16], sql[96];
        snprintf(name, sizeof name, "%u", oid);
        snprintf(sql, sizeof sql, "SELECT pg_catalog.lo_create('%u');\n", oid);
        sl_dump_item it = {
            .phase = SL_PHASE_PRE_DATA,
            .priority = SL_DECOR_PRIO_BLOB,
            .kind = "BLOB",
            .name = name,
            .sql = sql,
            .classid = SL_CLASS_LARGEOBJECT,
            .objid = oid,
        };
        sl_dump_items_add(out, &it);
    }
    PQclear(res);
    return 0;
}
