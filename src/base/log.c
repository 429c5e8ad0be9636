#include "base/log.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;
static sl_log_level log_max = SL_LOG_INFO;
static sl_log_format log_format = SL_LOG_HUMAN;
static void (*clear_hook)(void);

static const char *const level_names[] = {"error", "warning", "info", "debug"};

void
sl_log_setup(sl_log_level max_level, sl_log_format format)
{
    log_max = max_level;
    log_format = format;
}

bool
sl_log_enabled(sl_log_level level)
{
    return level <= log_max;
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

static void
emit(sl_log_level level, const char *msg, const sl_error *err)
{
    sl_log_lock();
    if (clear_hook)
        clear_hook();
    if (log_format == SL_LOG_JSON) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        json_t *o = json_object();
        json_object_set_new(o, "ts", json_real((double)ts.tv_sec + ts.tv_nsec / 1e9));
        json_object_set_new(o, "level", json_string(level_names[level]));
        json_object_set_new(o, "msg", json_string(msg));
        if (err) {
            json_object_set_new(o, "kind", json_string(sl_error_kind_name(err->kind)));
            if (err->sqlstate[0])
                json_object_set_new(o, "sqlstate", json_string(err->sqlstate));
            if (err->context[0])
                json_object_set_new(o, "context", json_string(err->context));
        }
        char *line = json_dumps(o, JSON_COMPACT);
        if (line)
            fprintf(stderr, "%s\n", line);
        free(line);
        json_decref(o);
    } else if (level == SL_LOG_INFO) {
        fprintf(stderr, "sluice: %s\n", msg);
    } else {
        fprintf(stderr, "sluice: %s: %s\n", level_names[level], msg);
    }
    fflush(stderr);
    sl_log_unlock();
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
