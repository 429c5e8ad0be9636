/* cli/cmd_prune.c: "sluice prune DIR": which backups of a directory a retention policy keeps
 * (io/retention.h); removes the others only with --apply. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/escape.h"
#include "base/log.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "io/retention.h"

enum {
    OPT_KEEP_LAST = SL_OPT_COMMAND_BASE,
    OPT_KEEP_DAILY,
    OPT_KEEP_WEEKLY,
    OPT_APPLY,
};

static const char usage[] =
    "Remove old backups from a directory, keeping what a retention policy asks for. Without\n"
    "--apply nothing is removed: the plan is printed.\n\n"
    "Usage:\n"
    "  sluice prune DIR [--keep-last N] [--keep-daily N] [--keep-weekly N] [--apply]\n\n"
    "A backup's time is when it started, read from the file (a cluster archive's manifest,\n"
    "a backup file's index), never the file's modification time. Cluster archives form one\n"
    "group and each database's backup files another; in each group the newest is always\n"
    "kept. Files that are not sluice backups, and every *.partial (a backup being written),\n"
    "are never touched.\n\n"
    "Options:\n"
    "      --keep-last=N          the N newest\n"
    "      --keep-daily=N         the newest of each of the N most recent days with a backup\n"
    "      --keep-weekly=N        the newest of each of the N most recent ISO weeks with one\n"
    "      --apply                remove what the policy does not keep\n"
    "      --json                 the plan as one JSON document on stdout\n";

static const struct option longopts[] = {
    {"keep-last", required_argument, NULL, OPT_KEEP_LAST},
    {"keep-daily", required_argument, NULL, OPT_KEEP_DAILY},
    {"keep-weekly", required_argument, NULL, OPT_KEEP_WEEKLY},
    {"apply", no_argument, NULL, OPT_APPLY},
    {"json", no_argument, NULL, SL_OPT_JSON},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"log-format", required_argument, NULL, SL_OPT_LOG_FORMAT},
    {"help", no_argument, NULL, SL_OPT_HELP},
    {NULL, 0, NULL, 0},
};

typedef struct args {
    sl_retention_policy policy;
    bool apply, json, any_keep;
} args;

static int
on_option(void *ctx, int opt, const char *arg, sl_error *err)
{
    args *a = ctx;
    switch (opt) {
    case OPT_KEEP_LAST:
        a->any_keep = true;
        return sl_cli_parse_int("--keep-last", arg, 0, 1000000, &a->policy.keep_last, err);
    case OPT_KEEP_DAILY:
        a->any_keep = true;
        return sl_cli_parse_int("--keep-daily", arg, 0, 1000000, &a->policy.keep_daily, err);
    case OPT_KEEP_WEEKLY:
        a->any_keep = true;
        return sl_cli_parse_int("--keep-weekly", arg, 0, 1000000, &a->policy.keep_weekly,
                                err);
    case OPT_APPLY: a->apply = true; return 0;
    case SL_OPT_JSON: a->json = true; return 0;
    }
    sl_error_set(err, SL_E_INTERNAL, "option %d has no handler", opt);
    return -1;
}

static void
print_json(const sl_retention_item *items, size_t n, bool applied)
{
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_pack("{s:o, s:o, s:o, s:b, s:s?}", "path",
                                              sl_escape_json_string(items[i].path), "group",
                                              sl_escape_json_string(items[i].group),
                                              "started_at",
                                              sl_escape_json_string(items[i].started_at),
                                              "keep", items[i].keep, "why", items[i].why));
    json_t *root = json_pack("{s:b, s:o}", "applied", applied, "backups", list);
    char *text = sl_escape_json_dumps(root, JSON_INDENT(2));
    if (text)
        puts(text);
    free(text);
    json_decref(root);
}

int
sl_cmd_prune(int argc, char **argv)
{
    sl_cli_common common;
    sl_error err;
    sl_error_clear(&err);
    args a = {0};
    int code = 0, first = 0;
    sl_retention_item *items = NULL;
    size_t n = 0;
    sl_cli_common_init(&common);
    const sl_cli_spec spec = {.name = "prune", .longopts = longopts, .usage = usage,
                              .on_opt = on_option, .ctx = &a, .max_operands = 1};
    if (sl_cli_parse(&spec, &common, argc, argv, &first, &code) != 0)
        goto done;
    if (first >= argc || !a.any_keep) {
        code = sl_cli_usage_error("prune", first >= argc ? "no directory given"
                                           : "give at least one of --keep-last, --keep-daily, "
                                             "--keep-weekly");
        goto done;
    }
    if (sl_cli_common_finish(&common, &err) != 0 ||
        sl_retention_scan(argv[first], &items, &n, &err) != 0) {
        code = sl_cli_fail(&err);
        goto done;
    }
    sl_retention_apply(items, n, &a.policy);
    size_t removed = 0, kept = 0;
    for (size_t i = 0; i < n; i++) {
        /* both come from outside: a file name, and a time read from the file */
        char *path = sl_escape_dup(items[i].path), *at = sl_escape_dup(items[i].started_at);
        if (items[i].keep) {
            kept++;
            if (!a.json)
                printf("keep    %s  %s (%s)\n", at, path, items[i].why);
        } else if (!a.apply) {
            if (!a.json)
                printf("remove  %s  %s (dry run: give --apply)\n", at, path);
        } else if (unlink(items[i].path) == 0) {
            removed++;
            if (!a.json)
                printf("removed %s  %s\n", at, path);
        } else {
            sl_error_errno(&err, SL_E_IO, errno, "cannot remove %s", path);
            sl_log_error(&err);
            code = sl_error_exit_code(SL_E_IO);
        }
        free(path);
        free(at);
    }
    if (a.json)
        print_json(items, n, a.apply);
    SL_INFO("prune: %zu backups kept, %zu %s", kept, a.apply ? removed : n - kept,
            a.apply ? "removed" : "would be removed (dry run)");
done:
    sl_retention_free(items, n);
    sl_cli_common_free(&common);
    return code;
}
