/* restore/runner.h: runs one piece of SQL text on one worker's connection (internal).
 * Every piece -- the preamble kept in memory, one segment of a sluice file, a whole plain
 * script -- goes through sl__restore_run_text(): a source of decompressed chunks, a splitter
 * (restore/splitter.h), and the connection. COPY data goes straight from the decompressed
 * chunk to PQputCopyData. Meta-commands go to restore/meta.h, COPY statements of
 * --single-transaction through restore/freeze.h.
 * Returns RUN_OK, RUN_FAIL (err set, its context naming the statement), or RUN_RETRY for a
 * deadlock that may be retried (*retry_at: the statement to resume from). */
#ifndef SL_RESTORE_RUNNER_H
#define SL_RESTORE_RUNNER_H

#include "pg/copy.h"
#include "restore/engine.h"

/* One pass of sl__restore_run_text(). */
typedef struct run {
    worker *w;
    const where *wh;
    bool plain;               /* a plain script: \connect allowed */
    bool can_retry;           /* a deadlock may be retried */
    uint64_t skip;            /* statements already done by an earlier attempt */
    uint64_t idx;             /* statements seen */
    uint64_t retry_at;
    sl_copy_writer *cw;
    bool copy_skip;           /* the COPY failed or was skipped: drop its data */
    bool end_pending;         /* COPY data complete; end it before the next item */
    uint64_t copy_line, copy_offset;
    char copy_head[96];
    sl_buf sql;               /* scratch for rewritten statements */
} run;

int sl__restore_run_text(worker *w, source *src, const where *wh, bool plain, bool can_retry,
                         uint64_t skip, uint64_t *retry_at, sl_error *err);
/* A statement (or meta-command) failed: RUN_OK to go on (--continue-on-error, logged and
 * counted), RUN_RETRY for a deadlock that may be retried, RUN_FAIL to stop. */
int sl__restore_statement_failed(run *r, uint64_t line, uint64_t offset, const char *head,
                                 sl_error *err);
/* Sets err's context to the statement's place: line, offset, segment and its object. */
void sl__restore_locate(sl_error *err, const where *wh, uint64_t line, uint64_t offset,
                        const char *head);
/* The first line of a statement, cut short and with its secrets redacted, for messages. */
void sl__restore_head(const char *text, size_t len, char *out, size_t cap);

#endif
