#include "base/error.h"

#include <stdio.h>
#include <string.h>

void
sl_error_clear(sl_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

static void
set_message(sl_error *err, sl_error_kind kind, const char *fmt, va_list ap)
{
    err->kind = kind;
    err->sqlstate[0] = '\0';
    err->context[0] = '\0';
    vsnprintf(err->message, sizeof err->message, fmt, ap);
}

void
sl_error_set(sl_error *err, sl_error_kind kind, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    set_message(err, kind, fmt, ap);
    va_end(ap);
}

void
sl_error_errno(sl_error *err, sl_error_kind kind, int errnum, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    set_message(err, kind, fmt, ap);
    va_end(ap);
    size_t len = strlen(err->message);
    char ebuf[128];
    const char *e = strerror_r(errnum, ebuf, sizeof ebuf);
    snprintf(err->message + len, sizeof err->message - len, ": %s", e);
}

void
sl_error_prefix(sl_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(prefix, sizeof prefix - 2, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t plen = strlen(prefix);
    memcpy(prefix + plen, ": ", 3);
    plen += 2;
    /* Shift the old message right, keeping the tail cut if it no longer fits. */
    size_t cap = sizeof err->message;
    size_t old = strnlen(err->message, cap - 1);
    size_t keep = old < cap - 1 - plen ? old : cap - 1 - plen;
    memmove(err->message + plen, err->message, keep);
    err->message[plen + keep] = '\0';
    memcpy(err->message, prefix, plen);
}

void
sl_error_context(sl_error *err, const char *fmt, ...)
{
    if (!err || err->context[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->context, sizeof err->context, fmt, ap);
    va_end(ap);
}

void
sl_error_set_sqlstate(sl_error *err, const char *sqlstate)
{
    if (!err)
        return;
    snprintf(err->sqlstate, sizeof err->sqlstate, "%s", sqlstate ? sqlstate : "");
}

bool
sl_error_failed(const sl_error *err)
{
    return err && err->kind != SL_E_NONE;
}

const char *
sl_error_kind_name(sl_error_kind kind)
{
    switch (kind) {
#define SL_ERROR_KIND(sym, code, name) \
    case sym:                          \
        return name;
#include "base/error_kinds.def"
#undef SL_ERROR_KIND
    }
    return "unknown";
}

int
sl_error_exit_code(sl_error_kind kind)
{
    switch (kind) {
#define SL_ERROR_KIND(sym, code, name) \
    case sym:                          \
        return code;
#include "base/error_kinds.def"
#undef SL_ERROR_KIND
    }
    return 1;
}

const char *
sl_error_format(const sl_error *err, char *buf, unsigned long cap)
{
    int n = snprintf(buf, cap, "%s", err->message);
    if (err->sqlstate[0] && n >= 0 && (unsigned long)n < cap)
        n += snprintf(buf + n, cap - n, " (SQLSTATE %s)", err->sqlstate);
    if (err->context[0] && n >= 0 && (unsigned long)n < cap)
        snprintf(buf + n, cap - n, " [%s]", err->context);
    return buf;
}
