/* io/retention.c: which backups of a directory to keep (retention.h). */
#include "io/retention.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/escape.h"
#include "base/log.h"
#include "base/mem.h"
#include "io/archive.h"
#include "io/bfile.h"

bool
sl_retention_parse_time(const char *iso, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = iso ? strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
    if (!end || *end)
        return false;
    *out = (int64_t)timegm(&tm);
    return true;
}

static bool
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The group and start time of one file; false when it is not a dated sluice backup. */
static bool
date_file(const char *path, char **group, char **started)
{
    sl_error err;
    sl_error_clear(&err);
    if (sl_archive_is_tar(path)) {
        sl_archive *a = NULL;
        if (sl_archive_open(&a, path, &err) != 0)
            return false;
        *group = sl_strdup("cluster");
        *started = sl_strdup(sl_archive_manifest(a)->started_at);
        sl_archive_close(a);
        return true;
    }
    sl_bfile_reader *r = NULL;
    if (sl_bfile_reader_open(&r, path, &err) != 0)
        return false;
    const char *db = sl_bfile_reader_header(r, "database");
    const char *at = sl_bfile_reader_header(r, "started_at");
    bool ok = sl_bfile_reader_indexed(r) && db && at;
    if (ok) {
        *group = sl_asprintf("database %s", db);
        *started = sl_strdup(at);
    }
    sl_bfile_reader_close(r);
    return ok;
}

static int
by_group_then_newest(const void *pa, const void *pb)
{
    const sl_retention_item *a = pa, *b = pb;
    int c = strcmp(a->group, b->group);
    if (c)
        return c;
    if (a->time != b->time)
        return a->time > b->time ? -1 : 1;
    return strcmp(a->path, b->path);
}

int
sl_retention_scan(const char *dir, sl_retention_item **items, size_t *n, sl_error *err)
{
    *items = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) {
        sl_error_errno(err, SL_E_IO, errno, "cannot read directory %s", dir);
        return -1;
    }
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || ends_with(e->d_name, ".partial"))
            continue;
        char *path = sl_asprintf("%s/%s", dir, e->d_name);
        struct stat st;
        char *group = NULL, *started = NULL;
        int64_t t = 0;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
            !date_file(path, &group, &started) || !sl_retention_parse_time(started, &t)) {
            if (group) {
                char *shown = sl_escape_dup(path);
                SL_WARN("%s is left alone: its start time cannot be read", shown);
                free(shown);
            }
            free(group);
            free(started);
            free(path);
            continue;
        }
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            *items = sl_realloc(*items, cap * sizeof **items);
        }
        (*items)[(*n)++] = (sl_retention_item){.path = path, .group = group, .time = t,
                                               .started_at = started};
    }
    closedir(d);
    if (*n)
        qsort(*items, *n, sizeof **items, by_group_then_newest);
    return 0;
}

void
sl_retention_free(sl_retention_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(items[i].path);
        free(items[i].group);
        free(items[i].started_at);
    }
    free(items);
}

/* Days and ISO weeks (Monday first) since 1970-01-01, a Thursday. */
static int64_t
day_of(int64_t t)
{
    return t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
}

static int64_t
week_of(int64_t t)
{
    int64_t d = day_of(t) + 3;
    return d >= 0 ? d / 7 : -((-d + 6) / 7);
}

/* One group, newest first. */
static void
apply_group(sl_retention_item *g, size_t n, const sl_retention_policy *p)
{
    int days = 0, weeks = 0;
    int64_t last_day = INT64_MIN, last_week = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        g[i].keep = false;
        g[i].why = NULL;
        int64_t day = day_of(g[i].time), week = week_of(g[i].time);
        if ((int)i < p->keep_last) {
            g[i].keep = true;
            g[i].why = "last";
        }
        if (day != last_day && days < p->keep_daily) {
            days++;
            last_day = day;
            if (!g[i].keep)
                g[i].why = "daily";
            g[i].keep = true;
        }
        if (week != last_week && weeks < p->keep_weekly) {
            weeks++;
            last_week = week;
            if (!g[i].keep)
                g[i].why = "weekly";
            g[i].keep = true;
        }
    }
    if (n && !g[0].keep) {
        g[0].keep = true;
        g[0].why = "newest";
    }
}

void
sl_retention_apply(sl_retention_item *items, size_t n, const sl_retention_policy *p)
{
    size_t start = 0;
    for (size_t i = 1; i <= n; i++) {
        if (i == n || strcmp(items[i].group, items[start].group) != 0) {
            apply_group(items + start, i - start, p);
            start = i;
        }
    }
}
