/* restore/engine.h: the state of one restore run, shared by the restore/ modules (internal).
 * An engine holds the file reader, the target conninfo and `jobs` workers; a worker is one
 * connection (opened once, the preamble run on it once) and, while segments run, one thread.
 * Who does what, in calling order:
 *   restore.c   builds the engine, gets the target ready, opens the connections, runs
 *               the preamble on each, then hands over to
 *   schedule.c  the segments over the workers by their dependencies (restore/graph.h), the
 *               heaviest runnable first; deadlock retry;
 *   runner.c    one piece of SQL text (a segment, the preamble, a plain script) on one
 *               connection: splitter, statements, COPY streaming, with
 *   meta.c      psql meta-commands (\connect, \restrict) and
 *   freeze.c    the COPY FREEZE rewrite of --single-transaction;
 *   report.c    at the end, what a signal left restored;
 *   restore.c   commits, makes the data durable, fills the summary, sl__restore_engine_free().
 * Stopping (pg/workers.h): the first fatal error (any error without --continue-on-error, or a
 *   lost connection, a corrupt file) is kept by eng->jobs, which stops the run and cancels the
 *   statements running on the worker connections; workers ask sl__restore_stopping() between
 *   items (a worker waiting for one is woken, or notices within a fraction of a second), and
 *   the errors caused by the cancel are not reported.
 * Signals: SIGINT/SIGTERM go through pg/workers.h, armed for the whole run. The handler only
 *   stops the run and cancels the statement running on every worker connection (each is
 *   watched from when it opens); the canceled statements fail and are rolled back by the
 *   server, workers take no new segment and run no further statement, and the workers' errors
 *   go through sl__restore_fail() as any failure does. At the end the run reports, as its one
 *   error, what had been restored when the signal came (report.c). */
#ifndef SL_RESTORE_ENGINE_H
#define SL_RESTORE_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "base/buf.h"
#include "base/progress.h"
#include "io/bfile.h"
#include "pg/conn.h"
#include "pg/workers.h"
#include "restore/restore.h"
#include "restore/splitter.h"
#include "restore/toc.h"

enum { RUN_OK = 0, RUN_FAIL = -1, RUN_RETRY = 1 };

typedef struct engine engine;

typedef struct worker {
    engine *eng;
    int id;
    sl_conn *conn;
    const sl_bfile_entry *current;  /* the segment it runs (eng->lock) */
    int watch;                      /* its pg/workers.h watch slot, -1 when not watched */
} worker;

struct engine {
    const sl_restore_opts *opts;
    sl_bfile_reader *reader;      /* a sluice file or plain script; NULL for an archive */
    sl_pgarchive *archive;        /* a pg_dump archive, with ... */
    sl_toc_plan plan;             /* ... what of it is restored, and ... */
    sl_toc_opts toc;              /* ... how */
    sl_conninfo *target;  /* a plain script's \connect replaces it */
    sl_conn_opts conn_opts;
    sl_buf preamble;
    sl_splitter_budget *budget;  /* statement memory shared by the workers */
    worker *workers;
    int nworkers;
    sl_progress *progress;
    atomic_llong statements, errors, segments, rows, bytes;
    sl_workers *jobs;             /* threads, the first error, cancel and signals */
    pthread_mutex_t lock;         /* the scheduling state below and workers' `current` */
    pthread_cond_t changed;       /* an item done or the run failed: look at the graph again */
    struct sl_graph *graph;       /* what runs next (restore/graph.h), during the run */
    size_t nentries;              /* graph items below this are index entries (or the
                                   * archive's selected entries); the others are barriers */
    bool *done;                   /* per index entry: the segment completed (report.c) */
    bool committed;               /* --single-transaction: its COMMIT succeeded */
};

/* Decompressed text: a stream of the file, or the preamble in memory. */
typedef struct source {
    sl_bfile_stream *stream;
    sl_toc_text *toc;
    const char *mem;
    size_t mem_len;
    bool mem_sent;
} source;

/* What is being run, for messages. */
typedef struct where {
    const sl_bfile_entry *entry;  /* a segment, or NULL */
    const char *label;            /* when entry is NULL: "the preamble", "file x.sql" */
} where;

/* The first fatal error: kept, the run stops, every worker connection's statement canceled
 * (the failed one's is idle: its cancel does nothing). */
void sl__restore_fail(engine *eng, const sl_error *err);
/* Whether the run must stop: a fatal error or a signal. */
bool sl__restore_stopping(const engine *eng);
/* A signal, or another worker's failure, cancels the statement running on w's connection;
 * call again when w->conn changes. */
void sl__restore_watch(worker *w);
/* Closes the connections and frees everything the engine holds (not the engine itself). */
void sl__restore_engine_free(engine *eng);

#endif
