/* proxy/settings.c: the reloadable settings file's parser (see settings.h). */
#include "proxy/settings.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"

const char *
sl_settings_level_name(sl_log_level level)
{
    switch (level) {
    case SL_LOG_ERROR:
        return "error";
    case SL_LOG_WARN:
        return "warn";
    case SL_LOG_INFO:
        return "info";
    case SL_LOG_DEBUG:
        return "debug";
    }
    return "info";
}

/* Leading decimal digits up to max; *rest points after them. */
static bool
parse_uint(const char *v, unsigned long long max, unsigned long long *out, const char **rest)
{
    char *end = NULL;
    errno = 0;
    if (!isdigit((unsigned char)v[0]))
        return false;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || n > max)
        return false;
    *rest = end;
    *out = n;
    return true;
}

static bool
parse_seconds(const char *v, unsigned long long min, unsigned long long max, uint32_t *out)
{
    unsigned long long n;
    const char *rest;
    if (!parse_uint(v, max, &n, &rest) || *rest || n < min)
        return false;
    *out = (uint32_t)n;
    return true;
}

static bool
parse_size(const char *v, size_t *out)
{
    static const struct { const char *unit; unsigned long long mult; } units[] = {
        {"", 1}, {"B", 1}, {"kB", 1024}, {"KiB", 1024}, {"MB", 1 << 20}, {"MiB", 1 << 20},
        {"GB", 1 << 30}, {"GiB", 1 << 30},
    };
    unsigned long long n;
    const char *rest;
    if (!parse_uint(v, 1ull << 30, &n, &rest))
        return false;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(rest, units[i].unit) != 0)
            continue;
        unsigned long long bytes = n * units[i].mult;
        if (bytes < 1024 || bytes > (1ull << 30))
            return false;
        *out = (size_t)bytes;
        return true;
    }
    return false;
}

static bool
parse_level(const char *v, sl_log_level *out)
{
    static const struct { const char *name; sl_log_level level; } names[] = {
        {"debug", SL_LOG_DEBUG}, {"info", SL_LOG_INFO}, {"warn", SL_LOG_WARN},
        {"warning", SL_LOG_WARN}, {"error", SL_LOG_ERROR},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcasecmp(v, names[i].name) == 0) {
            *out = names[i].level;
            return true;
        }
    }
    return false;
}

static char *
trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = 0;
    return s;
}

/* One "key = value" line into *s; the reason it is refused, or NULL. */
static const char *
parse_line(char *line, sl_settings *s)
{
    char *eq = strchr(line, '=');
    if (!eq)
        return "expected key = value";
    *eq = 0;
    const char *key = trim(line), *v = trim(eq + 1);
    if (strcmp(key, "ttl") == 0)
        return parse_seconds(v, 1, 31536000, &s->ttl_s)
                   ? NULL : "ttl: expected 1 to 31536000 seconds";
    if (strcmp(key, "ttl_jitter") == 0)
        return parse_seconds(v, 0, 86400, &s->jitter_s)
                   ? NULL : "ttl_jitter: expected 0 to 86400 seconds";
    if (strcmp(key, "cache_max_entry") == 0)
        return parse_size(v, &s->cache_max_entry)
                   ? NULL : "cache_max_entry: expected a size from 1kB to 1GB (e.g. 64kB)";
    if (strcmp(key, "log_level") == 0)
        return parse_level(v, &s->log_level)
                   ? NULL : "log_level: expected debug, info, warn or error";
    return "unknown key (expected ttl, ttl_jitter, cache_max_entry or log_level)";
}

int
sl_settings_parse(const char *text, sl_settings *io, sl_error *err)
{
    sl_settings s = *io;
    int lineno = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        lineno++;
        char line[1024];
        if (n >= sizeof line) {
            sl_error_set(err, SL_E_USAGE, "line %d: longer than %zu bytes", lineno,
                         sizeof line - 1);
            return -1;
        }
        memcpy(line, p, n);
        line[n] = 0;
        p += n + (nl ? 1 : 0);
        char *t = trim(line);
        if (!*t || *t == '#')
            continue;
        const char *why = parse_line(t, &s);
        if (why) {  /* the line itself is not shown: it may be anything */
            sl_error_set(err, SL_E_USAGE, "line %d: %s", lineno, why);
            return -1;
        }
    }
    *io = s;
    return 0;
}

void
sl_settings_diff(const sl_settings *a, const sl_settings *b, sl_buf *out)
{
    const char *sep = out->len ? ", " : "";
    if (a->ttl_s != b->ttl_s) {
        sl_buf_printf(out, "%sttl %u -> %u", sep, a->ttl_s, b->ttl_s);
        sep = ", ";
    }
    if (a->jitter_s != b->jitter_s) {
        sl_buf_printf(out, "%sttl_jitter %u -> %u", sep, a->jitter_s, b->jitter_s);
        sep = ", ";
    }
    if (a->cache_max_entry != b->cache_max_entry) {
        sl_buf_printf(out, "%scache_max_entry %zu -> %zu", sep, a->cache_max_entry,
                      b->cache_max_entry);
        sep = ", ";
    }
    if (a->log_level != b->log_level)
        sl_buf_printf(out, "%slog_level %s -> %s", sep, sl_settings_level_name(a->log_level),
                      sl_settings_level_name(b->log_level));
}

int
sl_settings_read(const char *path, const sl_settings *base, sl_settings *out, sl_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        sl_error_set(err, SL_E_USAGE, "could not open \"%s\": %s", path, strerror(errno));
        return -1;
    }
    char *text = sl_malloc(SL_SETTINGS_MAX_FILE + 1);
    size_t n = fread(text, 1, SL_SETTINGS_MAX_FILE + 1, f);
    bool failed = ferror(f);
    fclose(f);
    int rc = -1;
    if (failed) {
        sl_error_set(err, SL_E_USAGE, "could not read \"%s\"", path);
    } else if (n > SL_SETTINGS_MAX_FILE) {
        sl_error_set(err, SL_E_USAGE, "\"%s\" is over %d bytes", path, SL_SETTINGS_MAX_FILE);
    } else if (memchr(text, 0, n)) {
        sl_error_set(err, SL_E_USAGE, "\"%s\" holds a NUL byte", path);
    } else {
        text[n] = 0;
        *out = *base;
        rc = sl_settings_parse(text, out, err);
        if (rc != 0)
            sl_error_prefix(err, "\"%s\"", path);
    }
    free(text);
    return rc;
}
