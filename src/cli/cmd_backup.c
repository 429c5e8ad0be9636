/* cli/cmd_backup.c: "sluice backup single DB": flags in, sl_dump_run(), summary out. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/progress.h"
#include "base/units.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "dump/dump.h"
#include "mydump/mydump.h"

enum {
    OPT_COMPRESS = SL_OPT_COMMAND_BASE,
    OPT_EXCLUDE_TABLE_DATA,
    OPT_NO_COMMENTS,
    OPT_NOTIFY_CHANNEL,
    OPT_CHUNK_SIZE,
    OPT_PROGRESS_INTERVAL,
    OPT_LARGE_VALUE_SIZE,
    OPT_MAX_STATEMENT_SIZE,
    OPT_NO_LOCK,
};

static const char usage[] =
    "Back up one database into a psql-restorable SQL file, compressed in parallel.\n\n"
    "Usage:\n"
    "  sluice backup single DBNAME|URL|CONNINFO [OPTION]...\n"
    "  sluice backup cluster -o FILE.tar [OPTION]...   (see sluice backup cluster --help)\n\n"
    "Output:\n"
    "  -o, --output=FILE          backup file (default DBNAME.sql.gz, or .sql.zst / .sql\n"
    "                             by --compress); written as FILE.partial, mode 0600,\n"
    "                             renamed when complete\n"
    "      --compress=METHOD[:LEVEL]  gzip (default; LEVEL 1-12, default 1), zstd (LEVEL\n"
    "                             1-19, default 1) or none; by default taken from the\n"
    "                             output name (.gz, .zst, .sql); levels above 1 cost\n"
    "                             much more CPU for a few percent smaller output\n"
    "  -j, --jobs=N               worker connections and compressors (default 1); large\n"
    "                             tables are split so that all N work on one table\n"
    "      --chunk-size=MB        split tables larger than this into ranges (default 64)\n"
    "      --large-value-size=MB  read bytea/text values above this in slices, so memory\n"
    "                             stays bounded whatever a value's size (default 4)\n"
    "      --notify-channel=NAME  also publish progress as JSON with NOTIFY NAME\n"
    "      --progress-interval=S  seconds between progress lines when not on a terminal\n"
    "                             (default 10)\n"
    "Selection (patterns as in psql: * and ?, \"quoted\" for exact case):\n"
    "  -n, --schema=PATTERN       only these schemas (repeatable)\n"
    "  -N, --exclude-schema=PATTERN  not these schemas\n"
    "  -t, --table=PATTERN        only these tables (repeatable)\n"
    "  -T, --exclude-table=PATTERN  not these tables\n"
    "      --exclude-table-data=PATTERN  the table's definition but not its rows\n"
    "  -s, --schema-only          definitions only\n"
    "  -a, --data-only            rows only\n"
    "  -O, --no-owner             no ALTER ... OWNER TO\n"
    "  -x, --no-privileges        no GRANT / REVOKE\n"
    "      --no-comments          no COMMENT ON\n"
    "MySQL / MariaDB (--engine mysql; selection flags do not apply):\n"
    "      --max-statement-size=KB  bytes per INSERT statement (default 1024; kept below\n"
    "                             the server's max_allowed_packet)\n"
    "      --no-lock              no FLUSH TABLES WITH READ LOCK: non-InnoDB tables and\n"
    "                             DDL during the backup are then not consistent\n\n";

static const struct option longopts[] = {
    SL_CLI_COMMON_LONGOPTS,
    {"output", required_argument, NULL, 'o'},
    {"jobs", required_argument, NULL, 'j'},
    {"compress", required_argument, NULL, OPT_COMPRESS},
    {"schema", required_argument, NULL, 'n'},
    {"exclude-schema", required_argument, NULL, 'N'},
    {"table", required_argument, NULL, 't'},
    {"exclude-table", required_argument, NULL, 'T'},
    {"exclude-table-data", required_argument, NULL, OPT_EXCLUDE_TABLE_DATA},
    {"schema-only", no_argument, NULL, 's'},
    {"data-only", no_argument, NULL, 'a'},
    {"no-owner", no_argument, NULL, 'O'},
    {"no-privileges", no_argument, NULL, 'x'},
    {"no-comments", no_argument, NULL, OPT_NO_COMMENTS},
    {"notify-channel", required_argument, NULL, OPT_NOTIFY_CHANNEL},
    {"chunk-size", required_argument, NULL, OPT_CHUNK_SIZE},
    {"progress-interval", required_argument, NULL, OPT_PROGRESS_INTERVAL},
    {"large-value-size", required_argument, NULL, OPT_LARGE_VALUE_SIZE},
    {"max-statement-size", required_argument, NULL, OPT_MAX_STATEMENT_SIZE},
    {"no-lock", no_argument, NULL, OPT_NO_LOCK},
    {NULL, 0, NULL, 0},
};

typedef struct backup_args {
    sl_cli_common common;
    sl_dump_opts dump;
    sl_pattern_filter filter;
    sl_cli_patterns n, N, t, T, xd;
    const char *compress;
    const char *output;
    char *dbname;  /* the database's name as parsed (never a URL): for the default output */
    char *default_output;
    int max_statement_kb;
    bool no_lock;
    bool pg_only_given;  /* a flag only the PostgreSQL engine knows */
} backup_args;

static void
handle_signal(int sig)
{
    (void)sig;
    sl_dump_interrupt();
}

static int
parse_one(backup_args *a, int opt, const char *arg, sl_error *err)
{
    int chunk_mb = 0;
    /* strchr() would also find a long option's number cut to a char, and NUL */
    if ((opt > 0 && opt < 128 && strchr("nNtTsaOx", opt)) || opt == OPT_EXCLUDE_TABLE_DATA ||
        opt == OPT_NO_COMMENTS || opt == OPT_NOTIFY_CHANNEL || opt == OPT_LARGE_VALUE_SIZE)
        a->pg_only_given = true;
    switch (opt) {
    case OPT_MAX_STATEMENT_SIZE:
        return sl_cli_parse_int("--max-statement-size", arg, 1, 1 << 20, &a->max_statement_kb,
                                err);
    case OPT_NO_LOCK: a->no_lock = true; return 0;
    case 'o': a->output = arg; return 0;
    case 'j': return sl_cli_parse_int("--jobs", arg, 1, 64, &a->dump.jobs, err);
    case OPT_COMPRESS: a->compress = arg; return 0;
    case 'n': sl_cli_patterns_add(&a->n, arg); return 0;
    case 'N': sl_cli_patterns_add(&a->N, arg); return 0;
    case 't': sl_cli_patterns_add(&a->t, arg); return 0;
    case 'T': sl_cli_patterns_add(&a->T, arg); return 0;
    case OPT_EXCLUDE_TABLE_DATA: sl_cli_patterns_add(&a->xd, arg); return 0;
    case 's': a->filter.schema_only = true; return 0;
    case 'a': a->filter.data_only = true; return 0;
    case 'O': a->filter.no_owner = true; return 0;
    case 'x': a->filter.no_privileges = true; return 0;
    case OPT_NO_COMMENTS: a->filter.no_comments = true; return 0;
    case OPT_NOTIFY_CHANNEL: a->dump.notify_channel = arg; return 0;
    case OPT_CHUNK_SIZE:
        if (sl_cli_parse_int("--chunk-size", arg, 1, 1 << 20, &chunk_mb, err) != 0)
            return -1;
        a->dump.chunk_bytes = (int64_t)chunk_mb << 20;
        return 0;
    case OPT_LARGE_VALUE_SIZE:
        if (sl_cli_parse_int("--large-value-size", arg, 1, 1024, &chunk_mb, err) != 0)
            return -1;
        a->dump.large_value_bytes = (int64_t)chunk_mb << 20;
        return 0;
    case OPT_PROGRESS_INTERVAL:
        return sl_cli_parse_int("--progress-interval", arg, 1, 86400,
                                &a->dump.progress_interval_s, err);
    }
    sl_error_set(err, SL_E_INTERNAL, "option %d has no handler", opt);
    return -1;
}

static const char *
extension_for(sl_codec_kind kind)
{
    return kind == SL_CODEC_GZIP ? ".sql.gz" : kind == SL_CODEC_ZSTD ? ".sql.zst" : ".sql";
}

/* The compression comes from --compress, else from the output name; the two must agree so that
 * "x.sql.gz" always holds gzip and gunzip users are never surprised. */
static int
settle_output(backup_args *a, sl_error *err)
{
    if (a->compress) {
        if (sl_codec_parse(&a->dump.codec, a->compress, err) != 0)
            return -1;
    } else {
        a->dump.codec.kind = a->output ? sl_codec_from_filename(a->output) : SL_CODEC_GZIP;
    }
    if (!a->output && (strchr(a->dbname, '/') || a->dbname[0] == '.')) {
        sl_error_set(err, SL_E_USAGE,
                     "give --output: the database name cannot name a file in this directory");
        return -1;
    }
    if (!a->output) {
        a->default_output = sl_asprintf("%s%s", a->dbname, extension_for(a->dump.codec.kind));
        a->output = a->default_output;
    } else if (a->compress && sl_codec_from_filename(a->output) != a->dump.codec.kind &&
               sl_codec_from_filename(a->output) != SL_CODEC_NONE) {
        sl_error_set(err, SL_E_USAGE,
                     "output \"%s\" does not match --compress=%s: name it *%s", a->output,
                     a->compress, extension_for(a->dump.codec.kind));
        return -1;
    }
    a->dump.output = a->output;
    return 0;
}

static int
on_option(void *ctx, int opt, const char *arg, sl_error *err)
{
    return parse_one(ctx, opt, arg, err);
}

static int
parse_args(backup_args *a, int argc, char **argv, int *exit_code)
{
    const sl_cli_spec spec = {.name = "backup", .shortopts = "o:j:n:N:t:T:saOx",
                              .longopts = longopts, .connects = true, .usage = usage,
                              .on_opt = on_option, .ctx = a, .max_operands = 2};
    int first;
    if (sl_cli_parse(&spec, &a->common, argc, argv, &first, exit_code) != 0)
        return -1;
    if (first >= argc || strcmp(argv[first], "single") != 0) {
        char shown[512];
        *exit_code = sl_cli_usage_error(
            "backup",
            first < argc
                ? "unknown backup kind \"%s\": expected \"single DBNAME\" or \"cluster\""
                : "missing \"single DBNAME\" or \"cluster\"%s",
            first < argc ? sl_cli_shown_arg(argv[first], shown, sizeof shown) : "");
        return -1;
    }
    /* The operand may be a URL or conninfo string too: parsed now, so that a bad one is a
     * usage error and messages name the database, never the string. */
    if (first + 1 < argc) {
        sl_error err;
        sl_error_clear(&err);
        sl_conninfo_set(a->common.conninfo, "dbname", argv[first + 1]);
        if (sl_conninfo_check(a->common.conninfo, &err) != 0) {
            *exit_code = sl_cli_usage_error("backup", "%s", err.message);
            return -1;
        }
    }
    const char *dbname = sl_conninfo_get(a->common.conninfo, "dbname");
    if (!dbname || !*dbname) {
        *exit_code = sl_cli_usage_error("backup", "missing the database name");
        return -1;
    }
    a->dbname = sl_strdup(dbname);
    if (a->filter.schema_only && a->filter.data_only) {
        *exit_code =
            sl_cli_usage_error("backup", "--schema-only and --data-only exclude each other");
        return -1;
    }
    return 0;
}

static void
log_summary(const backup_args *a, const sl_dump_summary *s)
{
    char in[32], out[32], rate[32], target[512];
    double mbs = s->elapsed_s > 0 ? s->bytes_in / s->elapsed_s : 0;
    SL_INFO("backup of %s complete: %s, %lld tables, %lld rows, %lld large objects, %s of "
            "data into %s (%s) in %.1f s (%s/s)",
            sl_conninfo_describe(a->common.conninfo, NULL, target, sizeof target), a->output,
            (long long)s->tables, (long long)s->rows,
            (long long)s->blobs, sl_units_bytes(s->bytes_in, in, sizeof in),
            sl_units_bytes(s->bytes_out, out, sizeof out),
            sl_codec_name(a->dump.codec.kind), s->elapsed_s,
            sl_units_bytes((int64_t)mbs, rate, sizeof rate));
}

/* --engine mysql: the same output flags, sl_mydump_run(), the same kind of summary. */
static int
run_mysql(backup_args *a)
{
    sl_error err;
    sl_error_clear(&err);
    sl_mysql_target target;
    if (a->pg_only_given) {
        return sl_cli_usage_error("backup", "selection, ownership, comment and notify flags "
                                  "are not available with --engine mysql yet");
    }
    if (sl_cli_mysql_target(&a->common, &target, &err) != 0)
        return sl_cli_fail(&err);
    sl_mydump_opts o = {.output = a->output, .codec = a->dump.codec, .jobs = a->dump.jobs,
                        .chunk_bytes = a->dump.chunk_bytes,
                        .max_statement = (int64_t)a->max_statement_kb << 10,
                        .no_lock = a->no_lock, .progress_tty = a->dump.progress_tty,
                        .quiet = a->dump.quiet,
                        .progress_interval_s = a->dump.progress_interval_s};
    sl_mydump_summary s;
    if (sl_mydump_run(&target, &o, &s, &err) != 0) {
        sl_error_prefix(&err, "backup of MySQL database \"%s\" failed", a->dbname);
        return sl_cli_fail(&err);
    }
    char in[32], out[32], rate[32];
    double mbs = s.elapsed_s > 0 ? s.bytes_in / s.elapsed_s : 0;
    SL_INFO("backup of MySQL database \"%s\" complete: %s, %lld tables, %lld rows, %s of data "
            "into %s (%s) in %.1f s (%s/s)",
            a->dbname, a->output, (long long)s.tables, (long long)s.rows,
            sl_units_bytes(s.bytes_in, in, sizeof in), sl_units_bytes(s.bytes_out, out, sizeof out),
            sl_codec_name(a->dump.codec.kind), s.elapsed_s,
            sl_units_bytes((int64_t)mbs, rate, sizeof rate));
    return 0;
}

static void
handle_signal_mysql(int sig)
{
    (void)sig;
    sl_mydump_interrupt();
}

int
sl_cmd_backup(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "cluster") == 0)
        return sl_cmd_backup_cluster(argc - 1, argv + 1);
    backup_args a;
    memset(&a, 0, sizeof a);
    sl_cli_common_init(&a.common);
    a.dump.jobs = 1;
    a.dump.filter = &a.filter;
    sl_error err;
    sl_error_clear(&err);
    int code = 0;
    if (parse_args(&a, argc, argv, &code) != 0)
        goto done;
    a.filter.include_schemas = a.n.v;
    a.filter.exclude_schemas = a.N.v;
    a.filter.include_tables = a.t.v;
    a.filter.exclude_tables = a.T.v;
    a.filter.exclude_table_data = a.xd.v;
    if (sl_cli_common_finish(&a.common, &err) != 0 || settle_output(&a, &err) != 0) {
        code = sl_cli_fail(&err);
        goto done;
    }
    a.dump.quiet = a.common.verbosity < 0;
    a.dump.progress_tty = isatty(STDERR_FILENO) && !a.common.json_log && !a.dump.quiet;
    if (a.common.engine == SL_CLI_ENGINE_MYSQL) {
        signal(SIGINT, handle_signal_mysql);
        signal(SIGTERM, handle_signal_mysql);
        code = run_mysql(&a);
        goto done;
    }
    signal(SIGINT, handle_signal);
    signal(SIGTERM, handle_signal);
    sl_dump_summary summary;
    if (sl_dump_run(a.common.conninfo, &a.common.conn_opts, &a.dump, &summary, &err) != 0) {
        char target[512];
        sl_error_prefix(&err, "backup of %s failed",
                        sl_conninfo_describe(a.common.conninfo, NULL, target, sizeof target));
        code = sl_cli_fail(&err);
        goto done;
    }
    log_summary(&a, &summary);
done:
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    sl_pattern_filter_clear(&a.filter);
    sl_cli_common_free(&a.common);
    free(a.n.v);
    free(a.N.v);
    free(a.t.v);
    free(a.T.v);
    free(a.xd.v);
    free(a.default_output);
    free(a.dbname);
    return code;
}
