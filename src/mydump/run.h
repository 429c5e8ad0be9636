/* mydump/run.h: the state of one MySQL backup run, shared by the mydump/ modules (internal).
 * Who does what: mydump.c connects, takes the snapshot and drives the phases; catalog.c reads
 * what the database holds; objects.c writes every schema segment; rows.c one table's (or key
 * range's) rows. The leader connection writes the schema, the workers (one connection each)
 * the data. sl__mydump_stopping() is checked before each piece of work and at every row. */
#ifndef SL_MYDUMP_RUN_H
#define SL_MYDUMP_RUN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "base/error.h"
#include "base/progress.h"
#include "io/bfile.h"
#include "mydump/catalog.h"
#include "mydump/mydump.h"
#include "mysql/conn.h"

/* Rows of one table, or of a range of its integer primary key. */
typedef struct mydump_task {
    const sl_mydump_table *table;
    bool ranged;
    bool has_lo, has_hi;
    long long lo, hi;  /* key >= lo (has_lo), key < hi (has_hi) */
    int64_t weight;
} mydump_task;

typedef struct mydump_ctx {
    const sl_mydump_opts *opts;
    const char *database;
    sl_bfile_writer *writer;
    sl_progress *progress;
    sl_mydump_catalog *cat;
    size_t max_statement;
    mydump_task *tasks;
    size_t ntasks;
    atomic_size_t next_task;
    atomic_bool failed;
    pthread_mutex_t lock;
    sl_error first_error;
} mydump_ctx;

/* Keeps the run's first error and stops the run. Any thread. */
void sl__mydump_fail(mydump_ctx *d, const sl_error *err);
/* Whether the run must stop (an error, or a signal). */
bool sl__mydump_stopping(mydump_ctx *d);
/* One committed segment of text. */
SL_MUSTCHECK int sl__mydump_write_text(mydump_ctx *d, const char *text, size_t len,
                                       const sl_bfile_meta *meta, sl_error *err);

#endif
