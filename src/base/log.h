/* base/log.h: the one logger. Writes to stderr, one line per call, from any thread (a mutex
 * keeps lines whole). Human lines ("sluice: warning: ...") by default; with
 * SL_LOG_JSON one JSON object per line ({"ts":..,"level":..,"msg":..}) for machines.
 * -v raises the level to debug, -q lowers it to warnings. Never log a password or a
 * conninfo string: log host, port, user and database names only.
 * Messages may hold any text (names from a database, a file or a server): the logger escapes
 * control characters (base/escape.h), so a message is always one line and never acts on the
 * terminal; in JSON lines it also writes DEL and C1 as \u escapes and repairs invalid UTF-8. */
#ifndef SL_BASE_LOG_H
#define SL_BASE_LOG_H

#include <stdbool.h>

#include "base/error.h"

typedef enum {
    SL_LOG_ERROR,  /* the command will fail */
    SL_LOG_WARN,   /* something the user should know; the command goes on */
    SL_LOG_INFO,   /* milestones and the final summary */
    SL_LOG_DEBUG,  /* statements, timings: -v */
} sl_log_level;

typedef enum {
    SL_LOG_HUMAN,  /* "sluice: warning: msg" */
    SL_LOG_JSON,   /* one JSON object per line */
} sl_log_format;

void sl_log_setup(sl_log_level max_level, sl_log_format format);
/* Changes only the level, from any thread while others log (a proxy's reload). */
void sl_log_set_level(sl_log_level max_level);
bool sl_log_enabled(sl_log_level level);
sl_log_format sl_log_get_format(void);
void sl_log(sl_log_level level, const char *fmt, ...) SL_PRINTF(2, 3);
/* Logs an sl_error at SL_LOG_ERROR with its kind, SQLSTATE and context as fields. */
void sl_log_error(const sl_error *err);
/* Serialises writers to stderr (the progress bar uses it to keep its line intact). */
void sl_log_lock(void);
void sl_log_unlock(void);
/* Set by the progress bar: called under the log lock before a log line, to clear the bar. */
void sl_log_set_clear_hook(void (*hook)(void));

#define SL_ERROR(...) sl_log(SL_LOG_ERROR, __VA_ARGS__)
#define SL_WARN(...) sl_log(SL_LOG_WARN, __VA_ARGS__)
#define SL_INFO(...) sl_log(SL_LOG_INFO, __VA_ARGS__)
#define SL_DEBUG(...) \
    do { if (sl_log_enabled(SL_LOG_DEBUG)) sl_log(SL_LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
