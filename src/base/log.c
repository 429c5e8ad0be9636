#include "base/log.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/escape.h"

static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int log_max = SL_LOG_INFO; /* atomic: a running proxy changes it (SIGHUP) */
static sl_log_format log_format = SL_LOG_HUMAN;
static void (*clear_hook)(void);

static const char *const level_names[] = {"error", "warning", "info", "debug"};

void
sl_log_setup(sl_log_level max_level, sl_log_format format)
{
    atomic_store(&log_max, (int)max_level);
    log_format = format;
}

void
sl_log_set_level(sl_log_level max_level)
{
    atomic_store(&log_max, (int)max_level);
}

bool
sl_log_enabled(sl_log_level level)
{
    return (int)level <= atomic_load_explicit(&log_max, memory_order_relaxed);
}

sl_log_format
sl_log_get_format(void)
{
    return log_format;
}

void
sl_log_lock(void)
{
    pthread_mutex_lock(&log_mutex);
}

void
sl_log_unlock(void)
{
    pthread_mutex_unlock(&log_mutex);
}

void
sl_log_set_clear_hook(void (*hook)(void))
{
    sl_log_lock();
    clear_hook = hook;
    sl_log_unlock();
}

/* The whole line, built before the lock is taken: one message is one line, whatever it holds
 * (a server's DETAIL with newlines, a table name with ESC sequences). */
static void
format_line(sl_buf *line, sl_log_level level, const char *msg, const sl_error *err)
{
    if (log_format == SL_LOG_JSON) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        json_t *o = json_object();
        json_object_set_new(o, "ts", json_real((double)ts.tv_sec + ts.tv_nsec / 1e9));
        json_object_set_new(o, "level", json_string(level_names[level]));
        json_object_set_new(o, "msg", sl_escape_json_string(msg));
        if (err) {
            json_object_set_new(o, "kind", json_string(sl_error_kind_name(err->kind)));
            if (err->sqlstate[0])
                json_object_set_new(o, "sqlstate", sl_escape_json_string(err->sqlstate));
            if (err->context[0])
                json_object_set_new(o, "context", sl_escape_json_string(err->context));
        }
        char *text = sl_escape_json_dumps(o, JSON_COMPACT);
        if (text)
            sl_buf_puts(line, text);
        free(text);
        json_decref(o);
    } else {
        sl_buf_puts(line, "sluice: ");
        if (level != SL_LOG_INFO)
            sl_buf_printf(line, "%s: ", level_names[level]);
        sl_escape_text(line, msg, strlen(msg));
    }
    sl_buf_putc(line, '\n');
}

static void
emit(sl_log_level level, const char *msg, const sl_error *err)
{
    sl_buf line = SL_BUF_INIT;
    format_line(&line, level, msg, err);
    sl_log_lock();
    if (clear_hook)
        clear_hook();
    fwrite(line.data, 1, line.len, stderr);
    fflush(stderr);
    sl_log_unlock();
    sl_buf_free(&line);
}

void
sl_log(sl_log_level level, const char *fmt, ...)
{
    if (!sl_log_enabled(level))
        return;
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    emit(level, msg, NULL);
}

void
sl_log_error(const sl_error *err)
{
    char line[2048];
    if (log_format == SL_LOG_JSON)
        emit(SL_LOG_ERROR, err->message, err);
    else
        emit(SL_LOG_ERROR, sl_error_format(err, line, sizeof line), NULL);
}
