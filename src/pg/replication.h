/* pg/replication.h: logical decoding over the streaming replication protocol, as a consumer that
 * must never lose a change: a libpq replication=database connection (sl_conn_open with
 * .replication = true), the slot commands and a CopyBoth stream of XLogData messages.
 *
 * Slot:   sl_repl_slot_create() runs CREATE_REPLICATION_SLOT name LOGICAL plugin
 *         EXPORT_SNAPSHOT: the slot's changes start at its consistent point, and the snapshot it
 *         exports shows the database exactly as of that point, for as long as this connection
 *         runs no other command: another connection that runs SET TRANSACTION SNAPSHOT with it
 *         copies the rows the stream will not repeat (the initial sync of a CDC consumer).
 *         sl_repl_slot_read() says whether a slot exists, its plugin and confirmed LSN (through
 *         SQL on the same connection).
 * Stream: sl_repl_start() runs START_REPLICATION SLOT name LOGICAL lsn (options); then
 *         sl_repl_next() hands over one XLogData message at a time, answering the server's
 *         keepalives and sending a standby status update when one is asked for and at least
 *         every status interval. The positions it reports (write, flush and apply alike) are
 *         only ever the LSN the caller gave to sl_repl_confirm(): the consumer confirms a
 *         position once what came before it is stored for good (a Singer target's state), so
 *         the server keeps every change after it, and a restart from the slot loses nothing.
 *         sl_repl_stop() ends the stream (CopyDone, a last status update) and frees it.
 * Names:  slot and plugin names are refused unless they are what the server accepts for a slot
 *         (1 to 63 of a-z, 0-9, _) or a plugin (letters, digits, _, -); option names and values
 *         are quoted for the replication command grammar ("name" 'value'), so nothing from a
 *         config file changes the command.
 * Memory: libpq holds one message at a time (a change of a row with a 1 GB value is a 1 GB
 *         message: wal2json and pgoutput send a change whole); the stream holds nothing else.
 * Errors: -1 with err set: SL_E_USAGE for a name refused, SL_E_SERVER for what the server
 *         refused (its message and SQLSTATE), SL_E_CONNECT when the connection is lost. */
#ifndef SL_PG_REPLICATION_H
#define SL_PG_REPLICATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "pg/conn.h"

/* A WAL position; 0 is InvalidXLogRecPtr. */
typedef uint64_t sl_lsn;
#define SL_LSN_TEXT 20  /* "FFFFFFFF/FFFFFFFF" and a NUL */

/* "16/B374D848" (the server's %X/%X form); false for anything else. */
bool sl_lsn_parse(const char *text, sl_lsn *out);
void sl_lsn_format(sl_lsn lsn, char out[SL_LSN_TEXT]);

bool sl_repl_slot_name_ok(const char *name);

typedef struct sl_repl_slot_info {
    bool exists;
    char plugin[64];
    bool active;          /* a connection streams from it now */
    sl_lsn confirmed;     /* confirmed_flush_lsn (0: none yet) */
} sl_repl_slot_info;

SL_MUSTCHECK int sl_repl_slot_read(sl_conn *c, const char *name, sl_repl_slot_info *out,
                                   sl_error *err);
/* Creates the slot; *consistent is its start, *snapshot (the caller frees it) the exported
 * snapshot's name when export_snapshot is set (NULL otherwise). */
SL_MUSTCHECK int sl_repl_slot_create(sl_conn *c, const char *name, const char *plugin,
                                     bool export_snapshot, sl_lsn *consistent, char **snapshot,
                                     sl_error *err);
/* The same for a TEMPORARY slot (dropped when the connection ends) that always exports its
 * snapshot: a consistent point and the matching snapshot for a consumer that streams from
 * another slot of the same plugin which already exists (its older changes are skipped by
 * starting that slot's stream at *consistent). */
SL_MUSTCHECK int sl_repl_slot_create_temporary(sl_conn *c, const char *name, const char *plugin,
                                               sl_lsn *consistent, char **snapshot,
                                               sl_error *err);
SL_MUSTCHECK int sl_repl_slot_drop(sl_conn *c, const char *name, sl_error *err);

typedef struct sl_repl_stream sl_repl_stream;

/* One XLogData message: the change data the plugin wrote for the WAL at start. */
typedef struct sl_repl_msg {
    sl_lsn start;         /* where the record the data comes from starts */
    sl_lsn server_end;    /* the end of the WAL the server had when it sent it */
    int64_t send_time;    /* microseconds since 2000-01-01 (the server's clock) */
    const char *data;     /* valid until the next sl_repl_next() or sl_repl_stop() */
    size_t len;
} sl_repl_msg;

/* options: name, value pairs ending with NULL (a NULL value: the option without one), e.g.
 * {"format-version", "2", "include-timestamp", "1", NULL}. status_interval_ms: the longest
 * time between two status updates (the server's wal_sender_timeout is 60 s by default). */
SL_MUSTCHECK int sl_repl_start(sl_repl_stream **out, sl_conn *c, const char *slot, sl_lsn start,
                               const char *const *options, int status_interval_ms,
                               sl_error *err);
/* Waits at most timeout_ms for the next message: 1 with *msg set, 0 when none came in time,
 * 2 when the server ended the stream, -1 on error. */
SL_MUSTCHECK int sl_repl_next(sl_repl_stream *s, int timeout_ms, sl_repl_msg *msg,
                              sl_error *err);
/* Everything before lsn is stored for good: the next status updates report it (never less
 * than a position reported before). */
void sl_repl_confirm(sl_repl_stream *s, sl_lsn lsn);
/* The end of the server's WAL from its last message or keepalive (0 before any). */
sl_lsn sl_repl_server_end(const sl_repl_stream *s);
/* Sends a status update now (the confirmed position), e.g. before stopping. */
SL_MUSTCHECK int sl_repl_send_status(sl_repl_stream *s, sl_error *err);
/* The same, asking the server to answer at once with a keepalive: sl_repl_server_end() then
 * tells how far the server has decoded (every transaction that committed before it has been
 * sent), which an idle stream would otherwise not learn until the server's next keepalive. */
SL_MUSTCHECK int sl_repl_ask_position(sl_repl_stream *s, sl_error *err);
/* Ends the stream: a last status update, CopyDone, what the server still sends is read and
 * dropped until its command completes; frees s (NULL is accepted). The connection can run
 * commands again after a 0. */
SL_MUSTCHECK int sl_repl_stop(sl_repl_stream *s, sl_error *err);

#endif
