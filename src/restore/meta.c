/* restore/meta.c: see meta.h. */
#include "restore/meta.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"

int
sl__restore_meta(run *r, const sl_split_item *it, sl_error *err)
{
    engine *eng = r->w->eng;
    char *name = NULL, *arg = NULL;
    int rc = RUN_OK;
    char head[96];
    sl__restore_head(it->text, it->len, head, sizeof head);
    if (sl_splitter_parse_meta(it->text, &name, &arg, err) != 0) {
        sl__restore_locate(err, r->wh, it->line, it->offset, head);
        return RUN_FAIL;
    }
    if (strcmp(name, "restrict") == 0 || strcmp(name, "unrestrict") == 0) {
        SL_DEBUG("ignoring \\%s at line %llu (it only guards psql)", name,
                 (unsigned long long)it->line);
    } else if ((strcmp(name, "connect") == 0 || strcmp(name, "c") == 0) && r->plain && arg &&
               !eng->opts->single_transaction) {
        sl_conninfo *ci = sl_conninfo_with_dbname(eng->target, arg);
        sl_conn *c = NULL;
        if (sl_conn_open(&c, ci, &eng->conn_opts, err) != 0) {
            sl_conninfo_free(ci);
            sl__restore_locate(err, r->wh, it->line, it->offset, head);
            rc = RUN_FAIL;
        } else {
            SL_INFO("\\connect at line %llu: now restoring into database \"%s\"",
                    (unsigned long long)it->line, arg);
            sl_conn_close(r->w->conn);
            r->w->conn = c;
            sl__restore_watch(r->w);
            sl_conninfo_free(eng->target);
            eng->target = ci;
        }
    } else {
        if (strcmp(name, "connect") == 0 || strcmp(name, "c") == 0)
            sl_error_set(err, SL_E_UNSUPPORTED, "\\%s %s is not supported here%s", name,
                         arg ? arg : "",
                         eng->opts->single_transaction ? " (--single-transaction)" : "");
        else
            sl_error_set(err, SL_E_UNSUPPORTED, "unsupported psql meta-command \\%s at line %llu",
                         name, (unsigned long long)it->line);
        rc = sl__restore_statement_failed(r, it->line, it->offset, head, err);
    }
    free(name);
    free(arg);
    return rc;
}
