/* myrestore/runner.h: runs one piece of mysql-client script text on one connection
 * (internal): a segment of a sluice file streamed decompressed, the preamble held in memory,
 * or a whole plain script. Statements are cut by mysql/script.h and sent one at a time.
 * Ownership: the run borrows everything it points to.
 * Errors: -1 with err set: the script's own error (SL_E_ARCHIVE: a client command, an
 * unterminated string...), the server's (SL_E_SERVER, or SL_E_CONNECT for a lost
 * connection) with the context naming `what`, the statement's line and first bytes, or
 * SL_E_CANCELED when *stop was set (checked before each statement). */
#ifndef SL_MYRESTORE_RUNNER_H
#define SL_MYRESTORE_RUNNER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "base/progress.h"
#include "io/bfile.h"
#include "mysql/conn.h"

typedef struct sl__myrun {
    sl_mysql *conn;
    const char *what;          /* "segment 3 (TABLE DATA db.t)", "file x.sql", "the preamble" */
    size_t max_statement;      /* 0: mysql/script.h's default */
    const atomic_bool *stop;   /* set: stop before the next statement */
    atomic_llong *statements;  /* counted as they succeed */
    sl_progress *progress;     /* decompressed bytes read, or NULL */
    bool dry;                  /* only cut the statements (a check before the run) */
} sl__myrun;

/* Runs the stream to its end, or mem when stream is NULL. */
SL_MUSTCHECK int sl__myrestore_run_text(const sl__myrun *r, sl_bfile_stream *stream,
                                        const char *mem, size_t mem_len, sl_error *err);

#endif
