/* myrestore/target.c: see target.h. */
#include "myrestore/target.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "mysql/quote.h"

/* The first row of a small query: its columns copied into vals (NULL for SQL NULL). 1 a row,
 * 0 none, -1 error. */
static int
first_row(sl_mysql *c, const char *sql, char **vals, unsigned n, sl_error *err)
{
    MYSQL_RES *res = sl_mysql_query(c, sql, false, err);
    if (!res)
        return -1;
    MYSQL_ROW row = mysql_fetch_row(res);
    int rc = 0;
    if (row && mysql_num_fields(res) >= n) {
        for (unsigned i = 0; i < n; i++)
            vals[i] = row[i] ? sl_strdup(row[i]) : NULL;
        rc = 1;
    }
    mysql_free_result(res);
    return rc;
}

/* The database's default character set and collation: 1 it exists, 0 it does not. */
static int
database_defaults(sl_mysql *c, const char *db, char **cs, char **coll, sl_error *err)
{
    sl_buf q = SL_BUF_INIT;
    sl_buf_puts(&q, "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM "
                    "information_schema.SCHEMATA WHERE SCHEMA_NAME = ");
    sl_mysql_put_literal(&q, db, strlen(db));
    char *vals[2] = {NULL, NULL};
    int rc = first_row(c, q.data, vals, 2, err);
    sl_buf_free(&q);
    *cs = vals[0];
    *coll = vals[1];
    return rc;
}

/* What the database holds that a restore would collide with: tables, views, routines, events. */
static int
object_count(sl_mysql *c, const char *db, long *count, sl_error *err)
{
    sl_buf lit = SL_BUF_INIT, q = SL_BUF_INIT;
    sl_mysql_put_literal(&lit, db, strlen(db));
    sl_buf_printf(&q,
                  "SELECT (SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s)"
                  " + (SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = %s)"
                  " + (SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = %s)",
                  lit.data, lit.data, lit.data);
    char *val = NULL;
    int rc = first_row(c, q.data, &val, 1, err);
    *count = val ? atol(val) : 0;
    free(val);
    sl_buf_free(&lit);
    sl_buf_free(&q);
    return rc < 0 ? -1 : 0;
}

static int
exec_named(sl_mysql *c, const char *verb, const char *db, const char *cs, const char *coll,
           sl_error *err)
{
    sl_buf q = SL_BUF_INIT;
    sl_buf_printf(&q, "%s ", verb);
    sl_mysql_put_ident(&q, db);
    if (cs) {
        sl_buf_puts(&q, " CHARACTER SET ");
        sl_mysql_put_literal(&q, cs, strlen(cs));
    }
    if (coll) {
        sl_buf_puts(&q, " COLLATE ");
        sl_mysql_put_literal(&q, coll, strlen(coll));
    }
    int rc = sl_mysql_exec(c, q.data, err);
    if (rc != 0)
        sl_error_prefix(err, "%s \"%s\"", verb, db);
    sl_buf_free(&q);
    return rc;
}

static int
select_database(sl_mysql *c, const char *db, sl_error *err)
{
    if (mysql_select_db(sl_mysql_handle(c), db) != 0) {
        sl_mysql_error(c, SL_E_SERVER, NULL, err);
        sl_error_prefix(err, "could not use database \"%s\"", db);
        return -1;
    }
    return 0;
}

static int
prepare_existing(sl_mysql *c, const sl__mytarget *t, const char *cs, const char *coll,
                 sl_error *err)
{
    long count = 0;
    if (object_count(c, t->database, &count, err) != 0)
        return -1;
    if (count > 0 && !t->clean) {
        sl_error_set(err, SL_E_REFUSED, "database \"%s\" is not empty (%ld tables, views, "
                     "routines or events): give --clean to drop and recreate it, or restore "
                     "into another database", t->database, count);
        return -1;
    }
    if (count == 0)
        return 0;
    if (exec_named(c, "DROP DATABASE", t->database, NULL, NULL, err) != 0)
        return -1;
    return exec_named(c, "CREATE DATABASE", t->database, cs, coll, err);
}

int
sl__myrestore_target(sl_mysql *c, const sl__mytarget *t, sl_error *err)
{
    if (strlen(t->database) == 0) {
        sl_error_set(err, SL_E_USAGE, "empty target database name");
        return -1;
    }
    char *cs = NULL, *coll = NULL;
    int rc = -1;
    int exists = database_defaults(c, t->database, &cs, &coll, err);
    if (exists < 0)
        goto done;
    if (t->create) {
        if (exists && !t->clean) {
            sl_error_set(err, SL_E_REFUSED, "database \"%s\" exists: give --clean with "
                         "--create to drop and create it again", t->database);
            goto done;
        }
        if (exists && exec_named(c, "DROP DATABASE", t->database, NULL, NULL, err) != 0)
            goto done;
        if (exec_named(c, "CREATE DATABASE", t->database, t->charset, t->collation, err) != 0)
            goto done;
    } else if (!exists) {
        sl_error_set(err, SL_E_USAGE, "database \"%s\" does not exist: give --create to "
                     "create it", t->database);
        goto done;
    } else if (prepare_existing(c, t, cs, coll, err) != 0) {
        goto done;
    }
    rc = select_database(c, t->database, err);
done:
    free(cs);
    free(coll);
    return rc;
}
