/* io/retention.h: which backups of a directory to keep ("sluice prune").
 * A backup's time is the time its backup started, read from the file itself: a cluster
 * archive's manifest (io/archive.h), a sluice backup file's index header (io/bfile.h); file
 * times are not trusted (a copy changes them). Files that are neither (and every *.partial, a
 * backup still being written or one that was cut short) are not candidates: nothing is ever
 * removed that cannot be dated.
 * Backups form groups: the cluster archives, and the backup files of each database; the
 * policy applies to each group on its own, newest first: keep the newest keep_last; the newest
 * of each of the keep_daily most recent days (UTC) that have one; the newest of each of the
 * keep_weekly most recent ISO weeks that have one; and always the group's newest.
 * Errors: SL_E_IO when the directory cannot be read (a file that cannot be read is skipped
 * with a warning). */
#ifndef SL_IO_RETENTION_H
#define SL_IO_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

typedef struct sl_retention_policy {
    int keep_last, keep_daily, keep_weekly;
} sl_retention_policy;

typedef struct sl_retention_item {
    char *path;
    char *group;        /* "cluster", or "database NAME" */
    int64_t time;       /* seconds since 1970, UTC */
    char *started_at;   /* as the file says it */
    bool keep;
    const char *why;    /* static: "last", "daily", "weekly", "newest", or NULL */
} sl_retention_item;

/* Every dated backup directly in dir (not below), newest first within each group. */
SL_MUSTCHECK int sl_retention_scan(const char *dir, sl_retention_item **items, size_t *n,
                                   sl_error *err);
void sl_retention_free(sl_retention_item *items, size_t n);
/* Sets keep and why of every item (items as scan returns them: grouped, newest first). */
void sl_retention_apply(sl_retention_item *items, size_t n, const sl_retention_policy *p);
/* "2026-12-02T10:00:00Z" (the form sluice writes) as seconds; false for anything else. */
bool sl_retention_parse_time(const char *iso, int64_t *out);

#endif
