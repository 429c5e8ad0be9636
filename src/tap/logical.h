/* tap/logical.h: LOG_BASED streams (change data capture) from a wal2json or pgoutput
 * replication slot (logical_decoding_plugin), as
 * pipelinewise-tap-postgres runs them (tap_postgres/__init__.py sync_method_for_streams and
 * sync_strategies/logical_replication.py), on pg/replication.h.
 *
 * A LOG_BASED stream's life (tap/sync.c dispatches):
 *   1. No "lsn" bookmark: the initial copy. sl_tap_logical_snapshot_open() gives a WAL position
 *      and a snapshot that shows the database exactly as of it: a new slot's consistent point
 *      and exported snapshot when the slot does not exist yet (created unless create_slot is
 *      false), else those of a TEMPORARY slot made for the purpose. The stream's "lsn" becomes
 *      that position and its table is copied (FULL_TABLE's messages and xmin bookmarks) in a
 *      transaction that runs SET TRANSACTION SNAPSHOT with it, so that the stream later
 *      repeats nothing the copy had and misses nothing it lacked. pipelinewise instead takes
 *      pg_current_wal_lsn() before a copy in a snapshot of its own: a transaction that commits
 *      between the two is both copied and streamed, and one whose commit record is written
 *      before the position but which is not yet visible to the copy's snapshot is lost.
 *      As in pipelinewise, a stream streams from the next run on.
 *   2. "lsn" and "xmin": the copy was interrupted; sync resumes it as FULL_TABLE does.
 *   3. "lsn" alone: sl_tap_logical_stream() streams the changes of every such stream of the
 *      run from the smallest of their bookmarks.
 *
 * Streaming: START_REPLICATION with wal2json format-version 2 (one message per change, B and
 * C around each transaction), include-timestamp, add-tables (the streams' tables, escaped as
 * wal2json wants) and actions insert,update,delete; each message is decoded in one pass by
 * tap/wal2json.h (strict: anything else is SL_E_SERVER). Each change of a selected table becomes a
 * RECORD (the synced columns only, in the change's column order, then _sdc_deleted_at: null,
 * or the commit time for a delete, and _sdc_lsn with debug_lsn) with the bookmark's version
 * and the commit time as time_extracted. A value is the text of the column's output function
 * (the walsender runs with the same session settings as a COPY), written by tap/value.h as
 * FULL_TABLE writes it: numbers keep their digits (wal2json prints them as JSON numbers,
 * which are kept as text, never read as a double), timestamps, dates and timetz come out as
 * FULL_TABLE's (pipelinewise converts them differently in LOG_BASED and fails on a timetz
 * with a +05:30 offset or a fraction). A column that an update leaves unchanged and that is
 * stored out of line (TOAST) is not in the change: it is taken from the old row when the
 * table's REPLICA IDENTITY is FULL and otherwise left out of the RECORD, never sent as null.
 * A delete carries the replica identity's columns (the primary key by default).
 * pgoutput (pg/pgoutput.h, proto_version 1, publication_names: the publication) gives the
 * same changes: its values are the same output text, a delete's key columns come from the
 * old row 'K' (its other columns are not values), an unchanged out-of-line value from an old
 * row 'O'; the commit time is the transaction's begin message's. Both become one change
 * (action, stream, columns, commit time, lsn) that one writer makes a RECORD of.
 * A change naming a column the stream does not know re-reads the table (a SCHEMA follows,
 * as pipelinewise re-discovers). Changes of other tables are skipped.
 * Partitioned tables: a change comes under its partition's name (wal2json; pgoutput with a
 * publication without publish_via_partition_root). When a streamed table is partitioned,
 * wal2json gets no add-tables (a partition attached later would be filtered out unseen), and
 * each relation that is no stream's table is looked up once on the lookup connection: the
 * stream of its pg_partition_root, or none; one gone since is skipped with a warning. The
 * publication sluice creates publishes via the root; an existing one passes when it publishes
 * the table or every leaf partition of it.
 *
 * Positions: the "lsn" bookmark of every streamed stream becomes the end of the last commit
 * whose changes are all emitted (an integer, as pipelinewise keeps it); a STATE carries it
 * after a commit once itersize changes have passed since the last STATE, and at the end. A
 * run started with that state starts after that commit: nothing is lost or repeated. The
 * slot is told (status updates) only the position the run started from, the state given at
 * start, which the target had stored: what this run emits may not be stored yet.
 * Status updates go to the server every poll_interval seconds. Metrics: every 60 s of
 * streaming and at the end, one log line with the RECORDs emitted so far and their rate per
 * second, overall and per stream.
 * Stopping: break_at_end_lsn (the server has decoded past the WAL position taken when the run
 * started: everything committed before the run is emitted), logical_poll_total_seconds
 * without a change (10800 when 0), max_run_seconds; always between transactions.
 * Errors: -1 with err set. wal_level other than logical is SL_E_USAGE naming it; a slot that
 * is missing (with create_slot false) or of another plugin is SL_E_USAGE; what the server
 * refuses (wal2json missing or not allowed, a slot in use) is its message. A wal2json message
 * over SL_TAP_LOGICAL_MAX_MESSAGE bytes is SL_E_UNSUPPORTED.
 * Ownership: everything given is borrowed; tables' rel and want may be replaced by the
 * replan hook during a stream. */
#ifndef SL_TAP_LOGICAL_H
#define SL_TAP_LOGICAL_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/error.h"
#include "base/jsonw.h"
#include "pg/conn.h"
#include "pg/conninfo.h"
#include "pg/replication.h"
#include "tap/catalog.h"
#include "tap/config.h"
#include "tap/discover.h"
#include "tap/state.h"

#define SL_TAP_LOGICAL_MAX_MESSAGE ((size_t)512 << 20)

/* Where the replication connection goes (the primary, never a secondary). */
typedef struct sl_tap_logical_conn {
    const sl_conninfo *ci;
    const sl_conn_opts *opts;   /* copied; .replication is set */
} sl_tap_logical_conn;

/* SL_E_USAGE unless the server's wal_level is logical. */
SL_MUSTCHECK int sl_tap_logical_check_server(sl_conn *c, sl_error *err);
/* pg_current_wal_insert_lsn(): every commit before the call is at or before it. */
SL_MUSTCHECK int sl_tap_logical_current_lsn(sl_conn *c, sl_lsn *out, sl_error *err);
/* The slot's name: replication_slot_name, else pipelinewise's pipelinewise_<dbname> when
 * such a slot exists (its older name), else pipelinewise_<dbname>_<tap_id> (without
 * "_<tap_id>" when there is none), lowercased with anything but a-z, 0-9 and _ made _. The
 * caller frees it. lookup NULL: the name without looking at the server. */
SL_MUSTCHECK int sl_tap_logical_slot_name(sl_conn *lookup, const sl_tap_config *cfg,
                                          char **out, sl_error *err);

typedef struct sl_tap_logical_snapshot sl_tap_logical_snapshot;
/* See 1. above. *lsn: the position; sl_tap_logical_snapshot_name(): the snapshot to SET. */
SL_MUSTCHECK int sl_tap_logical_snapshot_open(sl_tap_logical_snapshot **out,
                                              const sl_tap_config *cfg,
                                              const sl_tap_logical_conn *rc, bool create_slot,
                                              sl_lsn *lsn, sl_error *err);
const char *sl_tap_logical_snapshot_name(const sl_tap_logical_snapshot *s);
/* Closes the connection that holds the snapshot (a temporary slot goes with it). */
void sl_tap_logical_snapshot_close(sl_tap_logical_snapshot *s);

/* One streamed stream: its catalog entry and what sync planned for it. */
typedef struct sl_tap_logical_table {
    const sl_tap_stream *s;
    sl_tap_relation *rel;
    size_t *want;               /* indices into rel->cols of the synced columns */
    size_t nwant;
} sl_tap_logical_table;

/* pgoutput's publication: publication_name, else the slot's name without the lookup of an
 * older one (pipelinewise_<dbname>[_<tap_id>]). The caller frees it. */
char *sl_tap_logical_publication_name(const sl_tap_config *cfg);
/* Creates the publication FOR TABLE these tables when it does not exist (nothing when n is 0);
 * SL_E_USAGE naming the tables an existing one does not publish. Runs before the slot is made:
 * pgoutput reads the publication as of each change's position. */
SL_MUSTCHECK int sl_tap_logical_publication(sl_conn *c, const sl_tap_config *cfg,
                                            const sl_tap_logical_table *t, size_t n,
                                            sl_error *err);

typedef struct sl_tap_logical_args {
    const sl_tap_config *cfg;
    sl_tap_logical_conn conn;
    sl_tap_state *state;
    sl_tap_logical_table *tables;
    size_t ntables;
    sl_lsn end_lsn;             /* the position taken when the run started */
    sl_conn *lookup;            /* the primary: which partitioned table a partition is of */
    /* messages are appended to out through w; flush sends them on */
    sl_buf *out;
    sl_jsonw *w;
    int (*flush)(void *ctx, sl_error *err);
    /* writes table i's SCHEMA into out */
    void (*schema)(void *ctx, size_t i);
    /* re-reads table i's relation and columns (a change named a column it does not know) */
    int (*replan)(void *ctx, size_t i, sl_error *err);
    void *ctx;
} sl_tap_logical_args;

SL_MUSTCHECK int sl_tap_logical_stream(const sl_tap_logical_args *a, sl_error *err);

/* The wal2json add-tables value for these tables: "schema.table" joined by ",", with space,
 * quote, comma, period, asterisk and backslash escaped by a backslash. Appends to out. */
void sl_tap_logical_add_tables(sl_buf *out, const sl_tap_logical_table *t, size_t n);

#endif
