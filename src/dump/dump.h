/* dump/dump.h: back up one database into a sluice backup file (io/bfile.h).
 * sl_dump_run() takes one snapshot, reads the catalog in it (dump/catalog.h), then writes:
 * the preamble, pre-data, every table's rows with COPY (large tables split into ctid ranges so
 * that all -j workers share one table), large objects, sequence values, and post-data items,
 * each as segments of the file, so that a restore can run them in parallel.
 * For psql the script is bracketed by "\restrict KEY" (the preamble's second line, before any
 * text from the database) and "\unrestrict KEY" (a last segment of its own, phase FINAL, kind
 * "UNRESTRICT"), KEY fresh per backup; nothing from the database or the server is written
 * outside quotes unless dump/script.h made it safe there.
 * Memory is bounded by a few compression blocks per worker, whatever the database size.
 * Errors: -1 with err set; the output file is then removed (no NAME, no NAME.partial).
 * Cancel: SIGINT/SIGTERM during sl_dump_run() cancel every running query and fail with
 * SL_E_CANCELED. */
#ifndef SL_DUMP_DUMP_H
#define SL_DUMP_DUMP_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "io/codec.h"
#include "pg/conn.h"
#include "pg/pattern.h"

typedef struct sl_dump_opts {
    const char *output;          /* file name; NAME.partial while writing */
    sl_codec codec;
    int jobs;                    /* worker connections (>= 1) */
    sl_pattern_filter *filter;
    const char *notify_channel;  /* NULL, or NOTIFY progress JSON on this channel */
    int64_t chunk_bytes;         /* split tables larger than this into ctid ranges (0: auto) */
    int64_t large_value_bytes;   /* values above this are read in slices (0: 4 MiB) */
    bool progress_tty;           /* draw a progress bar */
    bool quiet;
    int progress_interval_s;
} sl_dump_opts;

typedef struct sl_dump_summary {
    int64_t tables, rows, bytes_in, bytes_out, blobs;
    double elapsed_s;
} sl_dump_summary;

/* Cancels the running backup from a signal handler (async-signal-safe: pg/workers.h).
 * Returns false when no backup is running. */
bool sl_dump_interrupt(void);

SL_MUSTCHECK int sl_dump_run(const sl_conninfo *ci, const sl_conn_opts *conn_opts,
                             const sl_dump_opts *opts, sl_dump_summary *summary, sl_error *err);

#endif
