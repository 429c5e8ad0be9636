/* mydump/catalog.h: what one MySQL/MariaDB database holds, as a backup needs it: its tables,
 * views and sequences by name, each with the columns a backup reads (generated ones and system
 * versioning's row start/end left out: the server computes them), the AUTO_INCREMENT column
 * and a single-column integer primary key (the one a table can be split by).
 * Read from information_schema for DATABASE() (the connection's selected database), so no
 * name of the database is ever spliced into SQL. Every name is kept as the server sent it.
 * Ownership: sl_mydump_catalog_read() returns a catalog the caller frees. */
#ifndef SL_MYDUMP_CATALOG_H
#define SL_MYDUMP_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "mysql/conn.h"

typedef enum {
    SL_MYDUMP_TABLE,     /* a base table (system-versioned ones too) */
    SL_MYDUMP_VIEW,      /* a view */
    SL_MYDUMP_SEQUENCE,  /* a MariaDB sequence */
} sl_mydump_kind;

typedef struct sl_mydump_table {
    char *name;
    sl_mydump_kind kind;
    int64_t bytes;        /* DATA_LENGTH, an estimate */
    char *select_list;    /* "`a`,`b`": the columns the backup reads and writes */
    char *all_columns;    /* "`a`,`b`,`g`": every column (a view's stand-in needs them) */
    bool partial;         /* some column is left out: INSERTs name their columns */
    char *autoinc;        /* the AUTO_INCREMENT column, or NULL */
    char *int_key;        /* the single integer primary key column, or NULL */
    /* filled by the schema writer: ADD clauses moved out of CREATE TABLE */
    char *indexes;
    char *fks;
} sl_mydump_table;

typedef struct sl_mydump_catalog {
    sl_mydump_table *tables;  /* sorted by name */
    size_t ntables;
} sl_mydump_catalog;

SL_MUSTCHECK int sl_mydump_catalog_read(sl_mydump_catalog **out, sl_mysql *c, sl_error *err);
void sl_mydump_catalog_free(sl_mydump_catalog *cat);

#endif
