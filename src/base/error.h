/* base/error.h: the error object every fallible function fills.
 * A function returns a status (-1 on failure) and fills the caller's sl_error: a kind (one row
 * of error_kinds.def), a message, the server's SQLSTATE when it gave one, and a context (what
 * sluice was doing: a table, a statement, a file offset). The caller owns the sl_error; it is a
 * plain value, never allocated. Messages are lowercase, no final period, and name the thing. */
#ifndef SL_BASE_ERROR_H
#define SL_BASE_ERROR_H

#include <stdarg.h>
#include <stdbool.h>

#define SL_MUSTCHECK __attribute__((warn_unused_result))
#define SL_PRINTF(f, a) __attribute__((format(printf, f, a)))

typedef enum {
#define SL_ERROR_KIND(sym, code, name) sym,
#include "base/error_kinds.def"
#undef SL_ERROR_KIND
} sl_error_kind;

typedef struct sl_error {
    sl_error_kind kind;
    char sqlstate[6];   /* "" unless the server reported one */
    char message[1024];
    char context[512];  /* "" or e.g. "table public.t", "statement at line 12 (offset 345)" */
} sl_error;

void sl_error_clear(sl_error *err);
/* Sets kind and message, clears sqlstate and context. err may be NULL. */
void sl_error_set(sl_error *err, sl_error_kind kind, const char *fmt, ...) SL_PRINTF(3, 4);
/* Like sl_error_set, appending ": strerror(errnum)". */
void sl_error_errno(sl_error *err, sl_error_kind kind, int errnum, const char *fmt, ...)
    SL_PRINTF(4, 5);
/* Prepends "PREFIX: " to the message (what the caller was doing). */
void sl_error_prefix(sl_error *err, const char *fmt, ...) SL_PRINTF(2, 3);
/* Sets the context if none was set yet (the innermost context wins). */
void sl_error_context(sl_error *err, const char *fmt, ...) SL_PRINTF(2, 3);
void sl_error_set_sqlstate(sl_error *err, const char *sqlstate);
bool sl_error_failed(const sl_error *err);

const char *sl_error_kind_name(sl_error_kind kind);
int sl_error_exit_code(sl_error_kind kind);
/* One line for a human: "message (SQLSTATE xxxxx) [context]". Returns buf. */
const char *sl_error_format(const sl_error *err, char *buf, unsigned long cap);

#endif
