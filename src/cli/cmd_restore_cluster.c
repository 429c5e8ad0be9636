/* cli/cmd_restore_cluster.c: "sluice restore cluster ARCHIVE --confirm": flags in,
 * sl_cluster_restore() out, each database restored by "sluice restore --archive-member" run
 * from this same executable; a table of results at the end. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/escape.h"
#include "base/log.h"
#include "base/mem.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "restore/cluster.h"

enum {
    OPT_CONFIRM = SL_OPT_COMMAND_BASE,
    OPT_CLEAN,
    OPT_DUMP_JOBS,
    OPT_DATABASES,
    OPT_MAX_CONNECTIONS,
};

static const char usage[] =
    "Restore a cluster archive (sluice backup cluster) onto a server: roles, memberships and\n"
    "tablespaces first, then every database, several at a time.\n\n"
    "Usage:\n"
    "  sluice restore cluster ARCHIVE --confirm [OPTION]...\n\n"
    "ARCHIVE is one of (told apart by content):\n"
    "  - a sluice cluster archive (sluice backup cluster);\n"
    "  - a pg_dumpall script, plain or compressed with gzip or zstd: run as psql would run\n"
    "    it (\\connect switches database), in order, on one connection;\n"
    "  - a compressed tar of globals.sql and dumps/NAME.sql.gz (.sql.zst, .sql) per database,\n"
    "    as dbbackup lays out its cluster backups: globals first, then each database created\n"
    "    with the target's default encoding and locale (the layout does not record them) and\n"
    "    restored; its pg_dump custom-format members (dumps/NAME.dump) are reported and\n"
    "    left out.\n\n"
    "Options:\n"
    "      --confirm              required: this changes roles and creates databases on the\n"
    "                             server the connection flags name\n"
    "      --databases=A,B        only these databases (exact names; the globals are always\n"
    "                             restored)\n"
    "      --clean                drop a database the server has already, then restore it;\n"
    "                             without it such a database is refused (exit 8) before\n"
    "                             anything changes (postgres is restored into when empty)\n"
    "      --dump-jobs=N          databases restored at the same time (default 1)\n"
    "  -j, --jobs=N               connections for each database's restore (default 1)\n"
    "      --max-connections=N    all connections together stay within N: fewer databases\n"
    "                             run at once if need be (default: half of the server's\n"
    "                             max_connections less its superuser reserve)\n"
    "Roles and tablespaces that exist already are kept (their attributes are set again).\n"
    "A database whose restore fails is reported and the others go on; the exit code is then\n"
    "that restore's.\n\n";

static const struct option longopts[] = {
    SL_CLI_COMMON_LONGOPTS,
    {"confirm", no_argument, NULL, OPT_CONFIRM},
    {"clean", no_argument, NULL, OPT_CLEAN},
    {"dump-jobs", required_argument, NULL, OPT_DUMP_JOBS},
    {"databases", required_argument, NULL, OPT_DATABASES},
    {"max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
    {"jobs", required_argument, NULL, 'j'},
    {NULL, 0, NULL, 0},
};

typedef struct args {
    sl_cli_common common;
    sl_cluster_restore_opts opts;
    bool confirm;
    int jobs;
    char **databases;
} args;

static void
handle_signal(int sig)
{
    (void)sig;
    sl_cluster_restore_interrupt();
}

static int
on_option(void *ctx, int opt, const char *arg, sl_error *err)
{
    args *a = ctx;
    switch (opt) {
    case OPT_CONFIRM: a->confirm = true; return 0;
    case OPT_CLEAN: a->opts.clean = true; return 0;
    case OPT_DUMP_JOBS:
        return sl_cli_parse_int("--dump-jobs", arg, 1, 64, &a->opts.dump_jobs, err);
    case 'j': return sl_cli_parse_int("--jobs", arg, 1, 256, &a->jobs, err);
    case OPT_DATABASES: sl_cli_split_list(&a->databases, arg); return 0;
    case OPT_MAX_CONNECTIONS:
        return sl_cli_parse_int("--max-connections", arg, 2, 100000, &a->opts.max_connections,
                                err);
    }
    sl_error_set(err, SL_E_INTERNAL, "option %d has no handler", opt);
    return -1;
}

static pid_t
start_child(void *ctx, int conninfo_fd, const char *archive, const char *member,
            sl_error *err)
{
    const args *a = ctx;
    char fd_arg[32], jobs_arg[32], member_arg[64], retries_arg[32];
    snprintf(fd_arg, sizeof fd_arg, "--conninfo-fd=%d", conninfo_fd);
    snprintf(jobs_arg, sizeof jobs_arg, "--jobs=%d", a->jobs);
    snprintf(member_arg, sizeof member_arg, "--archive-member=%s", member ? member : "");
    snprintf(retries_arg, sizeof retries_arg, "--retries=%d",
             a->common.conn_opts.connect_retries);
    /* member NULL: archive is the database's own backup file */
    /* the databases are made for this restore: their own settings, grants, comment apply */
    const char *argv[] = {"sluice", "restore", fd_arg, "-q", "--database-properties", jobs_arg,
                          retries_arg,
                          a->common.json_log ? "--log-format=json" : "--log-format=human",
                          member ? member_arg : "--", member ? "--" : archive,
                          member ? archive : NULL, NULL};
    return sl_cli_spawn_self(argv, conninfo_fd, err);
}

static void
print_results(const sl_cluster_restore_summary *s)
{
    fprintf(stderr, "  %-40s %-8s %10s\n", "DATABASE", "RESULT", "SECONDS");
    for (size_t i = 0; i < s->n; i++) {
        char *name = sl_escape_dup(s->dbs[i].name);
        char result[32];
        snprintf(result, sizeof result, s->dbs[i].ok ? "ok" : "failed (exit %d)",
                 s->dbs[i].exit_code);
        fprintf(stderr, "  %-40s %-8s %10.1f\n", name, result, s->dbs[i].seconds);
        free(name);
    }
}

int
sl_cmd_restore_cluster(int argc, char **argv)
{
    args a;
    memset(&a, 0, sizeof a);
    sl_cli_common_init(&a.common);
    a.jobs = 1;
    a.opts.dump_jobs = 1;
    a.opts.start = start_child;
    a.opts.start_ctx = &a;
    sl_error err;
    sl_error_clear(&err);
    int code = 0, first = 0;
    sl_cluster_restore_summary sum = {0};
    const sl_cli_spec spec = {.name = "restore cluster", .shortopts = "j:",
                              .longopts = longopts, .connects = true, .usage = usage,
                              .on_opt = on_option, .ctx = &a, .max_operands = 1};
    if (sl_cli_parse(&spec, &a.common, argc, argv, &first, &code) != 0)
        goto done;
    if (first >= argc) {
        code = sl_cli_usage_error("restore cluster", "no archive given");
        goto done;
    }
    if (!a.confirm) {
        code = sl_cli_usage_error("restore cluster", "give --confirm: this creates roles, "
                                  "tablespaces and databases on the target server");
        goto done;
    }
    a.opts.archive = argv[first];
    a.opts.jobs = a.jobs;
    a.opts.databases = (const char *const *)a.databases;
    if (sl_cli_common_finish(&a.common, &err) != 0) {
        code = sl_cli_fail(&err);
        goto done;
    }
    signal(SIGINT, handle_signal);
    signal(SIGTERM, handle_signal);
    int rc = sl_cluster_restore(a.common.conninfo, &a.common.conn_opts, &a.opts, &sum, &err);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (sum.n)
        print_results(&sum);
    if (rc != 0) {
        sl_error_prefix(&err, "cluster restore failed");
        code = sl_cli_fail(&err);
        goto done;
    }
    SL_INFO("cluster restore %s: %zu databases (%d failed), %d global statements, %d "
            "tablespaces kept, in %.1f s",
            sum.failed ? "finished with failures" : "done", sum.n, sum.failed,
            sum.global_statements, sum.tablespaces_existing, sum.elapsed_s);
    code = sum.failed ? sum.exit_code : 0;
done:
    sl_cluster_restore_summary_free(&sum);
    sl_cli_split_list_free(a.databases);
    sl_cli_common_free(&a.common);
    return code;
}
