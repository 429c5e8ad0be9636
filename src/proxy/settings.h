/* proxy/settings.h: the settings a running proxy reloads on SIGHUP (or the admin console's
 * RELOAD), from the file given with --config.
 * File:   one "key = value" per line; blank lines and lines starting with '#' are skipped.
 *         Keys: ttl (seconds, 1..31536000), ttl_jitter (seconds, 0..86400),
 *         cache_max_entry (bytes, or with kB/MB/GB, 1kB..1GB), log_level (debug, info, warn,
 *         error). Any other key, or a bad value, is an error naming the line, and then nothing
 *         of the file is applied (the settings in force stay).
 * Layers: the command line's values are the base; the file's keys override them, at start
 *         and at every reload, so removing a key from the file brings back the flag's value.
 * Apply:  sl_settings_reload() reads the file, sets every cache's TTL and jitter, the largest
 *         entry stored and the log level, and logs each setting that changed. It may run on
 *         any thread (a mutex serialises reloads); the sessions read the new values at their
 *         next use. */
#ifndef SL_PROXY_SETTINGS_H
#define SL_PROXY_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "base/log.h"

typedef struct sl_settings {
    uint32_t ttl_s;
    uint32_t jitter_s;
    size_t cache_max_entry;
    sl_log_level log_level;
} sl_settings;

enum { SL_SETTINGS_MAX_FILE = 64 * 1024 };

/* Applies the text's keys over *io; on -1 (err names the line) *io is unchanged. */
SL_MUSTCHECK int sl_settings_parse(const char *text, sl_settings *io, sl_error *err);

/* Reads the file at path (at most SL_SETTINGS_MAX_FILE bytes) and applies its keys over base
 * into *out; -1 with err naming the file (and the line). */
SL_MUSTCHECK int sl_settings_read(const char *path, const sl_settings *base, sl_settings *out,
                                  sl_error *err);

/* Appends "ttl 60 -> 30, log_level info -> debug" for what differs (nothing when equal). */
void sl_settings_diff(const sl_settings *before, const sl_settings *after, sl_buf *out);

const char *sl_settings_level_name(sl_log_level level);

#endif
