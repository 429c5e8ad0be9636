/* pg/notifier.c: see notifier.h. */
#include "pg/notifier.h"

#include <stdlib.h>

#include "base/log.h"
#include "base/mem.h"

struct sl_notifier {
    sl_conn *conn;
    char *channel;
    bool broken;
};

int
sl_notifier_open(sl_notifier **out, const sl_conninfo *ci, const sl_conn_opts *conn_opts,
                 const char *channel, sl_error *err)
{
    sl_conn *c = NULL;
    if (sl_conn_open(&c, ci, conn_opts, err) != 0)
        return -1;
    sl_notifier *n = sl_calloc(1, sizeof *n);
    n->conn = c;
    n->channel = sl_strdup(channel);
    *out = n;
    return 0;
}

void
sl_notifier_send(const char *json, void *arg)
{
    sl_notifier *n = arg;
    if (n->broken)
        return;
    const char *params[2] = {n->channel, json};
    PGresult *res = NULL;
    sl_error err;
    if (sl_conn_query(n->conn, &res, "SELECT pg_catalog.pg_notify($1, $2)", 2, params, &err)
        != 0) {
        SL_WARN("progress notifications stop: %s", err.message);
        n->broken = true;
        return;
    }
    PQclear(res);
}

void
sl_notifier_close(sl_notifier *n)
{
    if (!n)
        return;
    sl_conn_close(n->conn);
    free(n->channel);
    free(n);
}
