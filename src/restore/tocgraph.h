/* restore/tocgraph.h: a pg_dump archive's selected entries (restore/toc.h) as a restore/graph.h
 * graph: items 0..plan->n-1 are the plan's entries, the three after them barriers (nothing to
 * run). path is the archive (a directory archive's data files give the sizes). NULL with err
 * set when the archive's dependencies form a cycle. The caller frees the graph. */
#ifndef SL_RESTORE_TOCGRAPH_H
#define SL_RESTORE_TOCGRAPH_H

#include "base/error.h"
#include "restore/graph.h"
#include "restore/toc.h"

sl_graph *sl_tocgraph_build(const sl_toc_plan *plan, const char *path, sl_error *err);

#endif
