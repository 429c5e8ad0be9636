/* restore/freeze.c: see freeze.h. */
#include "restore/freeze.h"

#include "restore/statement.h"

const char *
sl__restore_copy_sql(sl_conn *c, const sl_split_item *it, sl_buf *scratch)
{
    if (!sl_statement_copy_freeze(it->text, it->len, scratch))
        return it->text;
    sl_buf rel = SL_BUF_INIT;
    bool freeze = false;
    if (sl_statement_copy_relation(it->text, &rel)) {
        PGresult *res = NULL;
        sl_error qerr;
        sl_error_clear(&qerr);
        const char *params[] = {rel.data};
        if (sl_conn_query(c, &res,
                          "SELECT c.relkind = 'r' AND c.xmin::text::bigint ="
                          " pg_catalog.txid_current() % 4294967296"
                          " FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass($1)",
                          1, params, &qerr) == 0) {
            freeze = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
            PQclear(res);
        }
    }
    sl_buf_free(&rel);
    return freeze ? scratch->data : it->text;
}
