/* cli/cmd_backup_cluster.c: "sluice backup cluster": flags in, sl_cluster_backup() out, with
 * each database's backup started as "sluice backup single" by this same executable. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/units.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "dump/cluster.h"
#include "io/codec.h"
#include "mydump/mycluster.h"

enum {
    OPT_COMPRESS = SL_OPT_COMMAND_BASE,
    OPT_DUMP_JOBS,
    OPT_DATABASES,
    OPT_MAX_CONNECTIONS,
    OPT_EXCLUDE_DATABASE,
    OPT_CONTINUE,
    OPT_FALLBACK_TOOLS,
};

static const char usage[] =
    "Back up a whole cluster (roles, tablespaces, every database) into one tar archive.\n\n"
    "Usage:\n"
    "  sluice backup cluster -o FILE.tar [OPTION]...\n\n"
    "The archive holds globals.sql (roles, memberships, tablespaces), databases.sql (CREATE\n"
    "DATABASE for each), one sluice backup per database under databases/ and manifest.json\n"
    "(sizes, SHA-256 checksums, row counts, times). It is written as FILE.tar.partial and\n"
    "renamed when complete. Connect as a superuser to save role password hashes.\n\n"
    "Output:\n"
    "  -o, --output=FILE          the archive (required)\n"
    "      --compress=METHOD[:LEVEL]  each database's backup: gzip (default), zstd or none\n"
    "      --dump-jobs=N          databases backed up at the same time (default 1)\n"
    "  -j, --jobs=N               worker connections for each database (default 1)\n"
    "      --max-connections=N    all connections together stay within N: fewer databases\n"
    "                             run at once if need be (default: half of the server's\n"
    "                             max_connections less its superuser reserve)\n"
    "Selection:\n"
    "      --databases=A,B        only these databases (exact names)\n"
    "      --exclude-database=PATTERN  not the databases matching it (repeatable)\n"
    "      --continue             a database whose backup fails is marked failed in the\n"
    "                             manifest and the others go on (the exit code is then\n"
    "                             that database's backup's)\n"
    "      --fallback-tools       a database holding objects sluice cannot back up (the\n"
    "                             message names them) is backed up with pg_dump instead,\n"
    "                             when it is installed, with a warning; without this flag\n"
    "                             that stays an error (exit 7)\n\n"
    "MySQL / MariaDB (--engine mysql or a mysql:// URL): every schema but mysql, sys,\n"
    "information_schema and performance_schema, one at a time, each as \"backup single\"\n"
    "does; globals.sql holds the roles, the users (SHOW CREATE USER: password hashes) and\n"
    "their grants (connect as a user who may read them all, such as root). -o, -j,\n"
    "--compress, --databases and --continue apply; the other flags above do not.\n\n";

static const struct option longopts[] = {
    SL_CLI_COMMON_LONGOPTS,
    {"output", required_argument, NULL, 'o'},
    {"jobs", required_argument, NULL, 'j'},
    {"compress", required_argument, NULL, OPT_COMPRESS},
    {"dump-jobs", required_argument, NULL, OPT_DUMP_JOBS},
    {"databases", required_argument, NULL, OPT_DATABASES},
    {"max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
    {"exclude-database", required_argument, NULL, OPT_EXCLUDE_DATABASE},
    {"continue", no_argument, NULL, OPT_CONTINUE},
    {"fallback-tools", no_argument, NULL, OPT_FALLBACK_TOOLS},
    {NULL, 0, NULL, 0},
};

typedef struct cluster_args {
    sl_cli_common common;
    sl_cluster_opts opts;
    const char *compress;
    sl_codec codec;
    int jobs;
    char **databases;            /* split --databases, NULL-terminated */
    const char **exclude;
    size_t nexclude;
    char *databases_text;
} cluster_args;

static void
handle_signal(int sig)
{
    (void)sig;
    sl_cluster_interrupt();
}

static int
on_option(void *ctx, int opt, const char *arg, sl_error *err)
{
    cluster_args *a = ctx;
    switch (opt) {
    case 'o': a->opts.output = arg; return 0;
    case 'j': return sl_cli_parse_int("--jobs", arg, 1, 64, &a->jobs, err);
    case OPT_COMPRESS: a->compress = arg; return 0;
    case OPT_DUMP_JOBS:
        return sl_cli_parse_int("--dump-jobs", arg, 1, 64, &a->opts.dump_jobs, err);
    case OPT_DATABASES: sl_cli_split_list(&a->databases, arg); return 0;
    case OPT_EXCLUDE_DATABASE:
        a->exclude = sl_realloc(a->exclude, (a->nexclude + 2) * sizeof *a->exclude);
        a->exclude[a->nexclude++] = arg;
        a->exclude[a->nexclude] = NULL;
        return 0;
    case OPT_CONTINUE: a->opts.keep_going = true; return 0;
    case OPT_FALLBACK_TOOLS: a->opts.fallback_tools = true; return 0;
    case OPT_MAX_CONNECTIONS:
        return sl_cli_parse_int("--max-connections", arg, 2, 100000, &a->opts.max_connections,
                                err);
    }
    sl_error_set(err, SL_E_INTERNAL, "option %d has no handler", opt);
    return -1;
}

/* The flags a child gets: what decides how it connects and works, never where (that comes
 * through the pipe). */
static pid_t
start_child(void *ctx, int conninfo_fd, const char *path, sl_error *err)
{
    const cluster_args *a = ctx;
    char fd_arg[32], jobs_arg[16], retries_arg[16];
    snprintf(fd_arg, sizeof fd_arg, "--conninfo-fd=%d", conninfo_fd);
    snprintf(jobs_arg, sizeof jobs_arg, "%d", a->jobs);
    snprintf(retries_arg, sizeof retries_arg, "--retries=%d",
             a->common.conn_opts.connect_retries);
    const char *argv[32];
    int n = 0;
    argv[n++] = "sluice";
    argv[n++] = "backup";
    argv[n++] = "single";
    argv[n++] = fd_arg;
    argv[n++] = "-q";
    argv[n++] = "-o";
    argv[n++] = path;
    argv[n++] = "-j";
    argv[n++] = jobs_arg;
    argv[n++] = "--compress";
    argv[n++] = sl_codec_name(a->codec.kind);
    argv[n++] = retries_arg;
    argv[n++] = a->common.json_log ? "--log-format=json" : "--log-format=human";
    if (a->common.conn_opts.lock_timeout) {
        argv[n++] = "--lock-timeout";
        argv[n++] = a->common.conn_opts.lock_timeout;
    }
    if (a->common.conn_opts.work_mem) {
        argv[n++] = "--work-mem";
        argv[n++] = a->common.conn_opts.work_mem;
    }
    argv[n] = NULL;
    return sl_cli_spawn_self(argv, conninfo_fd, err);
}

/* --engine mysql: one "sluice backup single" per schema, told where to connect by a
 * mysql:// URL through the pipe url_fd (never argv); the schema is its operand. */
static pid_t
start_mysql_child(void *ctx, int url_fd, const char *database, const char *path,
                  sl_error *err)
{
    const cluster_args *a = ctx;
    char fd_arg[32], jobs_arg[16];
    snprintf(fd_arg, sizeof fd_arg, "--conninfo-fd=%d", url_fd);
    snprintf(jobs_arg, sizeof jobs_arg, "%d", a->jobs);
    const char *argv[] = {"sluice",
                          "backup",
                          "single",
                          fd_arg,
                          "-q",
                          "-o",
                          path,
                          "-j",
                          jobs_arg,
                          "--compress",
                          sl_codec_name(a->codec.kind),
                          a->common.json_log ? "--log-format=json" : "--log-format=human",
                          "--",
                          database,
                          NULL};
    return sl_cli_spawn_self(argv, url_fd, err);
}

static void
handle_signal_mysql(int sig)
{
    (void)sig;
    sl_mycluster_interrupt();
}

static int
run_mysql(cluster_args *a)
{
    sl_error err;
    sl_error_clear(&err);
    if (a->opts.dump_jobs != 1 || a->opts.max_connections || a->nexclude ||
        a->opts.fallback_tools)
        return sl_cli_usage_error("backup cluster", "--dump-jobs, --max-connections, "
                                  "--exclude-database and --fallback-tools are not available "
                                  "with --engine mysql");
    sl_mysql_target target;
    if (sl_cli_mysql_target(&a->common, &target, &err) != 0)
        return sl_cli_fail(&err);
    sl_mycluster_opts o = {.output = a->opts.output, .member_suffix = a->opts.member_suffix,
                           .databases = a->opts.databases, .keep_going = a->opts.keep_going,
                           .start = start_mysql_child, .start_ctx = a};
    signal(SIGINT, handle_signal_mysql);
    signal(SIGTERM, handle_signal_mysql);
    sl_mycluster_summary s;
    if (sl_mycluster_backup(&target, &o, &s, &err) != 0) {
        sl_error_prefix(&err, "cluster backup failed");
        return sl_cli_fail(&err);
    }
    char size[32];
    SL_INFO("cluster backup %s: %d databases (%d failed), %d roles, %d users, %d grants, "
            "%lld rows, %s in %.1f s",
            s.failed ? "finished with failures" : "complete", s.databases, s.failed, s.roles,
            s.users, s.grants, (long long)s.rows, sl_units_bytes(s.bytes, size, sizeof size),
            s.elapsed_s);
    return s.failed ? s.exit_code : 0;
}

static int
parse_args(cluster_args *a, int argc, char **argv, int *exit_code)
{
    const sl_cli_spec spec = {.name = "backup cluster", .shortopts = "o:j:",
                              .longopts = longopts, .connects = true, .usage = usage,
                              .on_opt = on_option, .ctx = a, .max_operands = 0};
    int first;
    if (sl_cli_parse(&spec, &a->common, argc, argv, &first, exit_code) != 0)
        return -1;
    if (!a->opts.output) {
        *exit_code = sl_cli_usage_error("backup cluster", "missing --output=FILE.tar");
        return -1;
    }
    return 0;
}

static void
log_summary(const sl_cluster_summary *s)
{
    char size[32];
    SL_INFO("cluster backup %s: %d databases (%d failed, %d skipped), %d roles, %d "
            "tablespaces, %lld rows, %s in %.1f s",
            s->failed ? "finished with failures" : "complete", s->databases, s->failed,
            s->skipped, s->roles, s->tablespaces, (long long)s->rows,
            sl_units_bytes(s->bytes, size, sizeof size), s->elapsed_s);
}

int
sl_cmd_backup_cluster(int argc, char **argv)
{
    cluster_args a;
    memset(&a, 0, sizeof a);
    sl_cli_common_init(&a.common);
    a.jobs = 1;
    a.opts.dump_jobs = 1;
    a.opts.start = start_child;
    a.opts.start_ctx = &a;
    sl_error err;
    sl_error_clear(&err);
    int code = 0;
    if (parse_args(&a, argc, argv, &code) != 0)
        goto done;
    a.codec.kind = SL_CODEC_GZIP;
    if (sl_cli_common_finish(&a.common, &err) != 0 ||
        (a.compress && sl_codec_parse(&a.codec, a.compress, &err) != 0)) {
        code = sl_cli_fail(&err);
        goto done;
    }
    a.opts.member_suffix = a.codec.kind == SL_CODEC_GZIP   ? ".sql.gz"
                           : a.codec.kind == SL_CODEC_ZSTD ? ".sql.zst"
                                                           : ".sql";
    a.opts.jobs = a.jobs;
    a.opts.databases = (const char *const *)a.databases;
    a.opts.exclude = a.exclude;
    if (a.common.engine == SL_CLI_ENGINE_MYSQL) {
        code = run_mysql(&a);
        goto done;
    }
    signal(SIGINT, handle_signal);
    signal(SIGTERM, handle_signal);
    sl_cluster_summary summary;
    if (sl_cluster_backup(a.common.conninfo, &a.common.conn_opts, &a.opts, &summary, &err) !=
        0) {
        sl_error_prefix(&err, "cluster backup failed");
        code = sl_cli_fail(&err);
        goto done;
    }
    log_summary(&summary);
    code = summary.failed ? summary.exit_code : 0;
done:
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    sl_cli_common_free(&a.common);
    sl_cli_split_list_free(a.databases);
    free(a.exclude);
    return code;
}
