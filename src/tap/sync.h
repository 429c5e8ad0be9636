/* tap/sync.h: Singer sync of the streams a catalog selects, FULL_TABLE, INCREMENTAL and
 * LOG_BASED, with pipelinewise-tap-postgres's messages and state (its do_sync,
 * sync_traditional_stream, full_table.sync_table / sync_view and incremental.sync_table; the
 * LOG_BASED specifics are tap/logical.h's).
 *
 * Order of a run:
 *   1. Plan, before anything is emitted: each selected stream's relation is read as discovery
 *      reads it (live facts win over the catalog's, as pipelinewise's refresh_streams_schema
 *      merges them), its synced columns decided (tap/catalog.h), the state prepared as
 *      sync_method_for_streams does (a changed replication method or key resets the stream's
 *      bookmark; last_replication_method is written) and checked; a LOG_BASED stream's part of
 *      the run is chosen by its bookmarks (logical.h: initial copy, resumed copy, stream).
 *      With any LOG_BASED stream the server's wal_level is checked and its WAL insert position
 *      taken (the end for break_at_end_lsn). Any error here (a missing relation or column, a
 *      LOG_BASED view, a bookmark of the wrong kind) stops the run with nothing emitted. With
 *      use_secondary the connection given reads the replica; LOG_BASED's wal_level, position,
 *      publication and partition lookups go to the primary on a connection of their own.
 *   1b. When a LOG_BASED stream has no lsn yet: the slot's snapshot (logical.h), which the
 *      whole of step 2 reads in one REPEATABLE READ transaction. With use_secondary the
 *      snapshot is the replica's, taken once it has replayed past the slot's position
 *      (secondary_catchup_seconds at most): what committed before the position is in the copy,
 *      what committed after is streamed (and may be in the copy too: at least once). A
 *      resumed copy waits for the replica to reach its stream's lsn the same way.
 *   2. Streams in tap_stream_id order, the state's currently_syncing one first. Each: SCHEMA
 *      (only the synced columns; key_properties; bookmark_properties: [] or [replication key]),
 *      STATE with the stream's version, ACTIVATE_VERSION (FULL_TABLE: on a stream's first run;
 *      INCREMENTAL: always), the RECORDs with a STATE every itersize rows, FULL_TABLE's closing
 *      ACTIVATE_VERSION (and its xmin bookmark set to null), then currently_syncing null and a
 *      STATE. A LOG_BASED stream's initial copy is a FULL_TABLE with its lsn bookmark set
 *      first; its SCHEMA has _sdc_deleted_at (and _sdc_lsn with debug_lsn).
 *   3. The LOG_BASED streams that had an lsn stream their changes (tap/logical.h).
 * FULL_TABLE of a plain table streams one unsorted `COPY (SELECT columns, ctid ...)`: a seq
 * scan in one process from the first page (synchronized scans and parallel workers off), so
 * rows come in their physical order and the last row's position is a point to resume from. A
 * STATE carries it ("sluice_ctid") with the horizon of the snapshot the rows were read in
 * ("sluice_snapshot_xmin": no row version that snapshot missed has an older xmin). A run that
 * finds them keeps the version and reads `WHERE ctid > position OR age(xmin) <= age(horizon)`:
 * the rows not reached, and every row inserted or updated since wherever it now lies (an update
 * may move a row before the position); rows sent before and changed since come again, which
 * Singer allows. This costs the server a plain scan, where pipelinewise's ORDER BY xmin sorts
 * the table (twice the time on the bench table).
 * A partitioned table (positions repeat across partitions), a LOG_BASED stream's initial copy
 * (its resume is pipelinewise's: lsn and xmin), and a table resumed from an xmin bookmark
 * pipelinewise wrote, are read as pipelinewise reads them, oldest transaction first
 * (`ORDER BY age(xmin) DESC`, "xmin" in the STATE, a resumed run reading
 * `age(xmin) <= age(bookmark)`, right across xid wraparound). With fast_sync a partitioned
 * FULL_TABLE stream is read unsorted instead, with no bookmark: a run stopped midway starts
 * it over (an xmin bookmark already in the state is still resumed from). With
 * diagnostic_mode the plan logs the server's version, work_mem, shared_buffers and
 * effective_cache_size, and each stream's size and row estimate. A view has no xmin nor position:
 * it is read whole every run with a new version.
 * INCREMENTAL streams `... WHERE key >= bookmark ORDER BY key` and keeps as
 * replication_key_value the RECORD's value of the key in the last row that had one (NULL keys
 * never reach the state; with no bookmark, rows with a NULL key are sent last).
 *
 * Output: messages are compact JSON lines appended to one buffer that goes to emit when it
 * passes 1 MiB and right after each STATE, so a STATE is never out before the records it
 * covers. Memory: that buffer, one row, the state.
 * Errors: -1 with err set. The run stops at the first error; what was emitted before stays
 * emitted (complete lines only), and the last STATE emitted is a point a new run resumes from.
 * Ownership: sync borrows everything it is given and updates the state in place. */
#ifndef SL_TAP_SYNC_H
#define SL_TAP_SYNC_H

#include "base/error.h"
#include "pg/conn.h"
#include "tap/catalog.h"
#include "tap/config.h"
#include "tap/discover.h"
#include "tap/logical.h"
#include "tap/state.h"

typedef struct sl_tap_sync_args {
    const sl_tap_config *cfg;
    const sl_tap_catalog *catalog;
    const char *catalog_name;   /* the catalog's file, for messages */
    sl_tap_state *state;
    sl_tap_emit_fn emit;        /* receives the messages' text */
    void *ctx;
    sl_tap_logical_conn logical;/* LOG_BASED: where the replication connection goes */
    bool create_slot;           /* LOG_BASED: create the slot when it does not exist */
} sl_tap_sync_args;

SL_MUSTCHECK int sl_tap_sync(sl_conn *c, const sl_tap_sync_args *a, sl_error *err);

#endif
