/* base/progress.h: what long work reports while it runs, and the final summary.
 * Workers add to counters from any thread (atomics, no lock on the hot path). A reporter thread
 * draws a bar on a TTY (redrawn a few times a second, cleared before every log line so the two
 * never interleave), or writes one log line every `interval_s` seconds otherwise. An optional
 * callback receives the same figures as a JSON text every `interval_s` seconds (the backup uses
 * it to NOTIFY a channel). sl_progress_stop() ends the thread; the caller then logs a summary
 * with sl_progress_summary().
 * Ownership: the caller owns the sl_progress (new/free); the callback's argument is borrowed. */
#ifndef SL_BASE_PROGRESS_H
#define SL_BASE_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"

typedef struct sl_progress sl_progress;

typedef struct sl_progress_opts {
    const char *label;          /* "backup", "restore" */
    int interval_s;             /* seconds between lines when not a TTY (0: 10) */
    bool tty;                   /* draw a bar (usually isatty(2) and not --quiet/json) */
    bool quiet;                 /* no periodic output at all (the callback still runs) */
    void (*callback)(const char *json, void *arg);
    void *callback_arg;
} sl_progress_opts;

sl_progress *sl_progress_new(const sl_progress_opts *opts);
void sl_progress_free(sl_progress *p);
void sl_progress_start(sl_progress *p);
void sl_progress_stop(sl_progress *p);

/* Totals known up front (0 when unknown: no ETA then). */
void sl_progress_set_totals(sl_progress *p, int64_t items, int64_t bytes);
void sl_progress_add(sl_progress *p, int64_t rows, int64_t bytes_in);
void sl_progress_item_done(sl_progress *p);
void sl_progress_set_bytes_out(sl_progress *p, int64_t bytes_out);

typedef struct sl_progress_figures {
    int64_t items_done, items_total;
    int64_t rows;
    int64_t bytes_in, bytes_total, bytes_out;
    double elapsed_s;
} sl_progress_figures;

void sl_progress_read(sl_progress *p, sl_progress_figures *out);
/* "12 tables, 1234567 rows, 1.2 GiB read, 300 MiB written in 12.3 s (100.0 MiB/s)". */
void sl_progress_summary(sl_progress *p, const char *items_name, sl_buf *out);

#endif
