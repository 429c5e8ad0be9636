/* restore/engine.c: see engine.h. */
#include "restore/engine.h"

#include <stdlib.h>

#include "restore/graph.h"

void
sl__restore_fail(engine *eng, const sl_error *err)
{
    (void)sl_workers_fail(eng->jobs, err);
}

bool
sl__restore_stopping(const engine *eng)
{
    return sl_workers_stopping(eng->jobs);
}

void
sl__restore_watch(worker *w)
{
    sl_workers_unwatch(w->eng->jobs, w->watch);
    w->watch = sl_workers_watch(w->eng->jobs, w->conn ? sl_conn_pg(w->conn) : NULL);
}

void
sl__restore_engine_free(engine *eng)
{
    for (int i = 0; i < eng->nworkers; i++)
        sl_conn_close(eng->workers[i].conn);
    free(eng->workers);
    free(eng->done);
    sl_progress_free(eng->progress);
    sl_splitter_budget_free(eng->budget);
    sl_buf_free(&eng->preamble);
    sl_conninfo_free(eng->target);
    sl_bfile_reader_close(eng->reader);
    sl_toc_plan_free(&eng->plan);
    sl_pgarchive_close(eng->archive);
    sl_workers_free(eng->jobs);
    sl_graph_free(eng->graph);
    pthread_cond_destroy(&eng->changed);
    pthread_mutex_destroy(&eng->lock);
}
