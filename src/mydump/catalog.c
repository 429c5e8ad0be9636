/* mydump/catalog.c: see catalog.h. */
#include "mydump/catalog.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "mysql/quote.h"

/* BINARY ordering: the same order on every server whatever the collation of the catalog. */
static const char tables_sql[] =
    "SELECT TABLE_NAME, TABLE_TYPE, COALESCE(DATA_LENGTH, 0) FROM information_schema.TABLES "
    "WHERE TABLE_SCHEMA = DATABASE() ORDER BY BINARY TABLE_NAME";

/* A column is left out when the server computes it: generated columns (IS_GENERATED), and a
 * system-versioned table's row start/end (EXTRA). */
static const char columns_sql[] =
    "SELECT TABLE_NAME, COLUMN_NAME, IS_GENERATED = 'ALWAYS' OR EXTRA LIKE 'ROW %' "
    "OR EXTRA LIKE '%GENERATED%', EXTRA LIKE '%auto_increment%', COLUMN_KEY = 'PRI' AND "
    "DATA_TYPE IN ('tinyint','smallint','mediumint','int','bigint') "
    "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
    "ORDER BY BINARY TABLE_NAME, ORDINAL_POSITION";

/* Tables whose primary key has exactly one column. */
static const char one_key_sql[] =
    "SELECT TABLE_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() "
    "AND INDEX_NAME = 'PRIMARY' GROUP BY TABLE_NAME HAVING COUNT(*) = 1";

static sl_mydump_table *
find(sl_mydump_catalog *cat, const char *name)
{
    for (size_t i = 0; i < cat->ntables; i++)
        if (strcmp(cat->tables[i].name, name) == 0)
            return &cat->tables[i];
    return NULL;
}

static int
read_tables(sl_mydump_catalog *cat, sl_mysql *c, sl_error *err)
{
    MYSQL_RES *res = sl_mysql_query(c, tables_sql, false, err);
    if (!res)
        return -1;
    size_t n = (size_t)mysql_num_rows(res);
    cat->tables = sl_calloc(n ? n : 1, sizeof *cat->tables);
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) != NULL) {
        if (!row[0] || !row[1])
            continue;
        sl_mydump_table *t = &cat->tables[cat->ntables++];
        t->name = sl_strdup(row[0]);
        t->kind = strcmp(row[1], "VIEW") == 0       ? SL_MYDUMP_VIEW
                  : strcmp(row[1], "SEQUENCE") == 0 ? SL_MYDUMP_SEQUENCE
                                                    : SL_MYDUMP_TABLE;
        t->bytes = row[2] ? atoll(row[2]) : 0;
    }
    mysql_free_result(res);
    return 0;
}

typedef struct column_lists {
    sl_buf select, all;
} column_lists;

static void
finish_lists(sl_mydump_table *t, column_lists *l)
{
    if (!t)
        return;
    t->select_list = sl_strdup(l->select.data ? l->select.data : "");
    t->all_columns = sl_strdup(l->all.data ? l->all.data : "");
    sl_buf_reset(&l->select);
    sl_buf_reset(&l->all);
}

static int
read_columns(sl_mydump_catalog *cat, sl_mysql *c, sl_error *err)
{
    MYSQL_RES *res = sl_mysql_query(c, columns_sql, false, err);
    if (!res)
        return -1;
    column_lists l = {SL_BUF_INIT, SL_BUF_INIT};
    sl_mydump_table *cur = NULL;
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) != NULL) {
        if (!row[0] || !row[1])
            continue;
        if (!cur || strcmp(cur->name, row[0]) != 0) {
            finish_lists(cur, &l);
            cur = find(cat, row[0]);
            if (!cur)
                continue;  /* created since the table list was read */
        }
        bool computed = row[2] && strcmp(row[2], "1") == 0;
        if (l.all.len)
            sl_buf_putc(&l.all, ',');
        sl_mysql_put_ident(&l.all, row[1]);
        if (computed) {
            cur->partial = true;
        } else {
            if (l.select.len)
                sl_buf_putc(&l.select, ',');
            sl_mysql_put_ident(&l.select, row[1]);
        }
        if (row[3] && strcmp(row[3], "1") == 0 && !cur->autoinc)
            cur->autoinc = sl_strdup(row[1]);
        if (row[4] && strcmp(row[4], "1") == 0 && !cur->int_key)
            cur->int_key = sl_strdup(row[1]);
    }
    finish_lists(cur, &l);
    sl_buf_free(&l.select);
    sl_buf_free(&l.all);
    mysql_free_result(res);
    return 0;
}

/* An integer column of a primary key splits the table only when it is the whole key. */
static int
keep_single_keys(sl_mydump_catalog *cat, sl_mysql *c, sl_error *err)
{
    MYSQL_RES *res = sl_mysql_query(c, one_key_sql, false, err);
    if (!res)
        return -1;
    bool *single = sl_calloc(cat->ntables ? cat->ntables : 1, sizeof *single);
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) != NULL) {
        sl_mydump_table *t = row[0] ? find(cat, row[0]) : NULL;
        if (t)
            single[t - cat->tables] = true;
    }
    mysql_free_result(res);
    for (size_t i = 0; i < cat->ntables; i++) {
        if (!single[i]) {
            free(cat->tables[i].int_key);
            cat->tables[i].int_key = NULL;
        }
    }
    free(single);
    return 0;
}

int
sl_mydump_catalog_read(sl_mydump_catalog **out, sl_mysql *c, sl_error *err)
{
    sl_mydump_catalog *cat = sl_calloc(1, sizeof *cat);
    if (read_tables(cat, c, err) != 0 || read_columns(cat, c, err) != 0 ||
        keep_single_keys(cat, c, err) != 0) {
        sl_error_prefix(err, "could not read the database's catalog");
        sl_mydump_catalog_free(cat);
        return -1;
    }
    for (size_t i = 0; i < cat->ntables; i++) {
        if (!cat->tables[i].select_list)  /* no column seen: dropped meanwhile */
            cat->tables[i].select_list = sl_strdup("");
        if (!cat->tables[i].all_columns)
            cat->tables[i].all_columns = sl_strdup("");
    }
    *out = cat;
    return 0;
}

void
sl_mydump_catalog_free(sl_mydump_catalog *cat)
{
    if (!cat)
        return;
    for (size_t i = 0; i < cat->ntables; i++) {
        sl_mydump_table *t = &cat->tables[i];
        free(t->name);
        free(t->select_list);
        free(t->all_columns);
        free(t->autoinc);
        free(t->int_key);
        free(t->indexes);
        free(t->fks);
    }
    free(cat->tables);
    free(cat);
}
