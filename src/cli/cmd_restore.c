/* cli/cmd_restore.c: "sluice restore FILE": restore a sluice backup file or a plain pg_dump
 * script into a database (restore/restore.h does the work). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/progress.h"
#include "base/units.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "io/archive.h"
#include "myrestore/myarchive.h"
#include "myrestore/restore.h"
#include "restore/restore.h"

enum {
    OPT_DATABASE = SL_OPT_COMMAND_BASE,
    OPT_CREATE,
    OPT_CLEAN,
    OPT_SINGLE_TXN,
    OPT_EXIT_ON_ERROR,
    OPT_CONTINUE_ON_ERROR,
    OPT_NO_OWNER,
    OPT_NO_PRIVILEGES,
    OPT_MAX_STATEMENT_SIZE,
    OPT_ARCHIVE_MEMBER,
    OPT_DATABASE_PROPERTIES,
    OPT_NO_COMMENTS,
    OPT_SKIP_BINLOG,
};

static const char usage[] =
    "Restore a sluice backup file (.sql, .sql.gz, .sql.zst), a pg_dump archive (custom -Fc\n"
    "or directory -Fd, any compression; no pg_restore needed) or a plain pg_dump -Fp script\n"
    "(plain, gzip or zstd: detected by content) into a database.\n\n"
    "Usage:\n"
    "  sluice restore FILE --database DB [OPTION]...\n"
    "  sluice restore cluster ARCHIVE.tar --confirm [OPTION]...  (see restore cluster --help)\n\n"
    "Target:\n"
    "      --database=DB          the database to restore into, by name (or -d DB, where DB\n"
    "                             may also be a URL or conninfo string naming the server)\n"
    "      --create               create the database first (CREATE DATABASE ... TEMPLATE\n"
    "                             template0, from the maintenance database postgres); refused\n"
    "                             when it exists, unless --clean is given too: then it is\n"
    "                             dropped and created again. The backed-up database's own\n"
    "                             owner, privileges, settings (ALTER DATABASE/ROLE ... SET),\n"
    "                             comment and security labels then apply to it, under its\n"
    "                             new name: its sessions set sluice.database_properties = on,\n"
    "                             which the backup's DO block for them checks (without it,\n"
    "                             as in a psql run of the file, they are left out)\n"
    "      --database-properties  apply those properties to the target without --create (a\n"
    "                             database made for this restore beforehand)\n"
    "      --clean                empty the existing database first: drop its event triggers,\n"
    "                             publications, large objects, extensions (but plpgsql),\n"
    "                             foreign data wrappers and every schema with CASCADE, then\n"
    "                             recreate schema public as a fresh PostgreSQL 15 database has\n"
    "                             it (owner pg_database_owner, its standard comment, USAGE for\n"
    "                             PUBLIC). Roles and database settings are kept.\n"
    "  Without --create or --clean, a database holding any object (a table, function, type,\n"
    "  ... or a schema other than public) is refused (exit 8) and left untouched.\n"
    "  A data-only backup (backup --data-only) goes into the existing tables of a database\n"
    "  that has the schema: each must exist and be empty; a superuser loads them with\n"
    "  triggers off (session_replication_role = replica), as pg_restore --disable-triggers.\n\n"
    "      --archive-member=NAME  FILE is a cluster archive (sluice backup cluster): restore\n"
    "                             its member NAME (databases/0001.sql.gz, as sluice list\n"
    "                             shows), read in place\n"
    "Restore:\n"
    "  -j, --jobs=N               connections for a sluice backup's or pg_dump archive's\n"
    "                             table data, indexes and constraints, each started once what\n"
    "                             it needs is in (default 1); a plain script always runs in\n"
    "                             order on one connection\n"
    "  -1, --single-transaction   all or nothing: one connection, BEGIN ... COMMIT; table data\n"
    "                             is loaded with COPY ... FREEZE where the table was created in\n"
    "                             that transaction; implies --exit-on-error\n"
    "      --exit-on-error        stop at the first failing statement (the default)\n"
    "      --continue-on-error    log each failing statement and go on; the count is printed\n"
    "                             at the end and the exit code is 5 if any failed\n"
    "      --no-owner             skip ALTER ... OWNER TO and SET SESSION AUTHORIZATION\n"
    "      --no-privileges        skip GRANT, REVOKE and ALTER DEFAULT PRIVILEGES\n"
    "What of a pg_dump archive (as pg_restore chooses it; sluice list shows the entries):\n"
    "  -n, --schema=PATTERN       only objects in these schemas (repeatable)\n"
    "  -N, --exclude-schema=PATTERN  not the objects in these schemas\n"
    "  -t, --table=PATTERN        only these tables, views and sequences and their data\n"
    "                             (psql patterns: * and ?, \"schema.table\" allowed)\n"
    "  -s, --schema-only          definitions only, no data\n"
    "  -a, --data-only            data only, into tables that exist; as a superuser with\n"
    "                             triggers off, as pg_restore --disable-triggers\n"
    "      --no-comments          skip COMMENT entries\n"
    "      --max-statement-size=MB  the memory SQL statements may take, for all connections\n"
    "                             together (default 16, at most 1024); COPY data does not\n"
    "                             count. A longer statement (an unterminated quote in a\n"
    "                             damaged or hostile file) stops the restore (exit 4)\n"
    "  maintenance_work_mem is 256MB on restore connections (index builds) unless\n"
    "  --maintenance-work-mem says otherwise. psql's \\connect DB switches database (plain\n"
    "  scripts); \\restrict and \\unrestrict are accepted and ignored; other meta-commands\n"
    "  are errors. A zstd frame that needs a window over 8 MiB (zstd --long, --ultra -20\n"
    "  and up) is refused (exit 4): decompress it first with zstd -d --long=31.\n"
    "  SIGINT or SIGTERM cancels the running statements and exits 9 saying what stays\n"
    "  restored (with --single-transaction: nothing).\n\n"
    "MySQL / MariaDB (--engine mysql, or a sluice file whose header says engine mysql):\n"
    "  sluice restore FILE --engine mysql [-h HOST] [-p PORT] [-U USER] [--database DB]\n"
    "  restores a sluice MySQL backup or a plain mysqldump / mariadb-dump script (plain,\n"
    "  gzip or zstd). The target is --database (or -d), else the backup's own database; a\n"
    "  plain script without one runs as the mysql client would (its USE statements choose).\n"
    "  --create creates the database (with the backup's character set and collation when\n"
    "  its header carries them), refused when it exists unless --clean; without --create\n"
    "  the database must exist, and one holding any table, view, routine or event is\n"
    "  refused (exit 8) unless --clean, which drops it and creates it again with its own\n"
    "  character set and collation (grants on it stay). -j N runs the table data, then the\n"
    "  index builds (one per table at a time), on N connections; everything else, and a\n"
    "  plain script, runs in order on one. --single-transaction (only with -j 1) turns\n"
    "  autocommit off: the rows loaded between two DDL statements commit together and a\n"
    "  failure rolls back what was not committed yet; MySQL commits every DDL statement\n"
    "  (CREATE, ALTER ...) implicitly, so the tables created before a failure stay.\n"
    "  DELIMITER lines are followed and MariaDB's sandbox line skipped; any other mysql\n"
    "  client command in the file (\\!, system, source, connect ...) is refused (exit 4)\n"
    "  and never run. A failing statement stops the restore (exit 5), naming the segment,\n"
    "  the statement's line, the server's error number and SQLSTATE. A statement over the\n"
    "  server's max_allowed_packet (or --max-statement-size, per connection) is refused.\n"
    "      --skip-binlog          SET SESSION sql_log_bin = 0 on every connection: faster,\n"
    "                             but replicas do not get the restored data (needs SUPER or\n"
    "                             BINLOG ADMIN)\n\n";

static const struct option longopts[] = {
    SL_CLI_COMMON_LONGOPTS,
    {"database", required_argument, NULL, OPT_DATABASE},
    {"create", no_argument, NULL, OPT_CREATE},
    {"clean", no_argument, NULL, OPT_CLEAN},
    {"jobs", required_argument, NULL, 'j'},
    {"single-transaction", no_argument, NULL, OPT_SINGLE_TXN},
    {"exit-on-error", no_argument, NULL, OPT_EXIT_ON_ERROR},
    {"continue-on-error", no_argument, NULL, OPT_CONTINUE_ON_ERROR},
    {"no-owner", no_argument, NULL, OPT_NO_OWNER},
    {"no-privileges", no_argument, NULL, OPT_NO_PRIVILEGES},
    {"max-statement-size", required_argument, NULL, OPT_MAX_STATEMENT_SIZE},
    {"archive-member", required_argument, NULL, OPT_ARCHIVE_MEMBER},
    {"database-properties", no_argument, NULL, OPT_DATABASE_PROPERTIES},
    {"schema", required_argument, NULL, 'n'},
    {"exclude-schema", required_argument, NULL, 'N'},
    {"table", required_argument, NULL, 't'},
    {"schema-only", no_argument, NULL, 's'},
    {"data-only", no_argument, NULL, 'a'},
    {"no-comments", no_argument, NULL, OPT_NO_COMMENTS},
    {"skip-binlog", no_argument, NULL, OPT_SKIP_BINLOG},
    {NULL, 0, NULL, 0},
};

typedef struct restore_args {
    sl_restore_opts opts;
    bool skip_binlog;  /* MySQL only */
    const char *member;
    sl_cli_patterns n, N, t;
} restore_args;

static int
restore_opt(void *ctx, int opt, const char *arg, sl_error *err)
{
    restore_args *a = ctx;
    sl_restore_opts *o = &a->opts;
    switch (opt) {
    case OPT_ARCHIVE_MEMBER:
        a->member = arg;
        return 0;
    case OPT_DATABASE_PROPERTIES:
        o->database_properties = true;
        return 0;
    case 'n':
        sl_cli_patterns_add(&a->n, arg);
        o->schemas = a->n.v;
        return 0;
    case 'N':
        sl_cli_patterns_add(&a->N, arg);
        o->exclude_schemas = a->N.v;
        return 0;
    case 't':
        sl_cli_patterns_add(&a->t, arg);
        o->tables = a->t.v;
        return 0;
    case 's':
        o->schema_only = true;
        return 0;
    case 'a':
        o->data_only = true;
        return 0;
    case OPT_NO_COMMENTS:
        o->no_comments = true;
        return 0;
    case OPT_SKIP_BINLOG:
        a->skip_binlog = true;
        return 0;
    case OPT_DATABASE:
        /* A name only: a URL or conninfo string here would be taken for a database name and
         * shown in every message, password included. */
        if (strstr(arg, "://") || strchr(arg, '=')) {
            sl_error_set(err, SL_E_USAGE,
                         "--database takes a database name: give a URL or conninfo string with "
                         "-d (a name holding \"=\" too, as -d \"dbname='a=b'\")");
            return -1;
        }
        o->database = arg;
        return 0;
    case OPT_CREATE:
        o->create = true;
        return 0;
    case OPT_CLEAN:
        o->clean = true;
        return 0;
    case 'j':
        return sl_cli_parse_int("-j", arg, 1, 256, &o->jobs, err);
    case '1':
    case OPT_SINGLE_TXN:
        o->single_transaction = true;
        return 0;
    case OPT_EXIT_ON_ERROR:
        o->continue_on_error = false;
        return 0;
    case OPT_CONTINUE_ON_ERROR:
        o->continue_on_error = true;
        return 0;
    case OPT_NO_OWNER:
        o->no_owner = true;
        return 0;
    case OPT_NO_PRIVILEGES:
        o->no_privileges = true;
        return 0;
    case OPT_MAX_STATEMENT_SIZE: {
        int mb = 0;
        if (sl_cli_parse_int("--max-statement-size", arg, 1, 1024, &mb, err) != 0)
            return -1;
        o->max_statement = (size_t)mb << 20;
        return 0;
    }
    }
    sl_error_set(err, SL_E_INTERNAL, "option %d has no handler", opt);
    return -1;
}

static void
handle_signal(int sig)
{
    (void)sig;
    (void)sl_restore_interrupt();
}

/* Parses the flags; -1 with *code set when the command is done (help or bad usage). */
static int
parse(int argc, char **argv, sl_cli_common *common, restore_args *a, int *code)
{
    sl_restore_opts *o = &a->opts;
    const sl_cli_spec spec = {.name = "restore", .shortopts = "j:1n:N:t:sa", .longopts = longopts,
                              .connects = true, .usage = usage, .on_opt = restore_opt,
                              .ctx = a, .max_operands = 1};
    int first;
    if (sl_cli_parse(&spec, common, argc, argv, &first, code) != 0)
        return -1;
    if (first >= argc) {
        *code = sl_cli_usage_error("restore", "no backup file given");
        return -1;
    }
    o->input = argv[first];
    if (o->schema_only && o->data_only) {
        *code = sl_cli_usage_error("restore", "--schema-only and --data-only cannot be used "
                                              "together");
        return -1;
    }
    if (o->single_transaction && o->continue_on_error) {
        *code = sl_cli_usage_error("restore", "--continue-on-error cannot be used with "
                                              "--single-transaction (one failure aborts it all)");
        return -1;
    }
    return 0;
}

/* A cluster archive is restored whole by "restore cluster", or one member of it in place. */
static int
settle_input(const char *member, sl_restore_opts *o, sl_error *err)
{
    bool tar = sl_archive_is_tar(o->input);
    if (!member && !tar)
        return 0;
    if (!tar) {
        sl_error_set(err, SL_E_USAGE, "--archive-member: \"%s\" is not a cluster archive",
                     o->input);
        return -1;
    }
    if (!member) {
        sl_error_set(err, SL_E_USAGE, "\"%s\" is a cluster archive: restore it with \"sluice "
                     "restore cluster\", or one database of it with --archive-member",
                     o->input);
        return -1;
    }
    sl_archive *ar = NULL;
    if (sl_archive_open(&ar, o->input, err) != 0)
        return -1;
    bool found = sl_archive_find(ar, member, &o->input_base, &o->input_length);
    sl_archive_close(ar);
    if (!found || strcmp(member, "manifest.json") == 0) {
        sl_error_set(err, SL_E_USAGE, "the archive has no database backup named %s "
                     "(sluice list shows them)", member);
        return -1;
    }
    return 0;
}

/* 1: a MySQL restore (--engine mysql, or a sluice file of engine mysql), 0: PostgreSQL, -1 a
 * file that contradicts --engine (err set). */
static int
choose_engine(const sl_cli_common *c, const restore_args *a, sl_error *err)
{
    if (a->member)
        return c->engine == SL_CLI_ENGINE_MYSQL ? (sl_error_set(err, SL_E_USAGE, "--engine "
                                                  "mysql cannot restore an archive member"),
                                                  -1)
                                                : 0;
    bool indexed = false;
    sl_error probe_err;
    sl_error_clear(&probe_err);
    int my = sl_myrestore_probe(a->opts.input, &indexed, &probe_err);
    if (my < 0)  /* unreadable as a sluice file: the engine asked for reports it */
        return c->engine == SL_CLI_ENGINE_MYSQL;
    if (c->engine_given && c->engine == SL_CLI_ENGINE_PG && my) {
        sl_error_set(err, SL_E_USAGE, "\"%s\" is a MySQL backup: restore it with --engine "
                     "mysql (or without --engine)", a->opts.input);
        return -1;
    }
    if (c->engine_given && c->engine == SL_CLI_ENGINE_MYSQL && indexed && !my) {
        sl_error_set(err, SL_E_USAGE, "\"%s\" is a PostgreSQL backup: restore it without "
                     "--engine mysql", a->opts.input);
        return -1;
    }
    return my || c->engine == SL_CLI_ENGINE_MYSQL;
}

/* The flags a MySQL restore does not take. */
static const char *
mysql_unsupported(const sl_restore_opts *o)
{
    if (o->continue_on_error)
        return "--continue-on-error";
    if (o->no_owner || o->no_privileges)
        return "--no-owner / --no-privileges";
    if (o->schemas || o->exclude_schemas || o->tables || o->schema_only || o->data_only ||
        o->no_comments)
        return "-n / -N / -t / -s / -a / --no-comments";
    if (o->database_properties)
        return "--database-properties";
    return NULL;
}

static void
handle_mysql_signal(int sig)
{
    (void)sig;
    (void)sl_myrestore_interrupt();
}

static int
restore_mysql(const sl_cli_common *common, const restore_args *a, const sl_restore_opts *o)
{
    sl_error err;
    sl_error_clear(&err);
    const char *bad = mysql_unsupported(o);
    if (bad)
        return sl_cli_usage_error("restore", "%s is not supported for MySQL", bad);
    sl_mysql_target t;
    if (sl_cli_mysql_target(common, &t, &err) != 0)
        return sl_cli_fail(&err);
    sl_myrestore_opts mo = {.input = o->input, .database = o->database, .create = o->create,
                            .clean = o->clean, .jobs = o->jobs,
                            .single_transaction = o->single_transaction,
                            .max_statement = o->max_statement,
                            .quiet = common->verbosity < 0};
    mo.progress_tty = isatty(STDERR_FILENO) && !mo.quiet && !common->json_log;
    mo.skip_binlog = a->skip_binlog;
    sl_myrestore_summary sum = {0};
    signal(SIGINT, handle_mysql_signal);
    signal(SIGTERM, handle_mysql_signal);
    int rc = sl_myrestore_run(&t, &mo, &sum, &err);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    char size[32];
    sl_log(rc == 0 ? SL_LOG_INFO : SL_LOG_WARN,
           "restore %s: %lld segments, %lld statements, %lld rows, %s of SQL in %.1f s",
           rc == 0 ? "done" : "incomplete", (long long)sum.segments, (long long)sum.statements,
           (long long)sum.rows, sl_units_bytes(sum.bytes, size, sizeof size), sum.elapsed_s);
    return rc == 0 ? 0 : sl_cli_fail(&err);
}

static void
handle_archive_signal(int sig)
{
    (void)sig;
    (void)sl_myarchive_interrupt();
}

/* A whole cluster archive with --engine mysql, or one whose manifest says mysql: restored by
 * myrestore/myarchive.h. 1 when input is such an archive (*code set), 0 otherwise. */
static int
restore_mysql_archive(const sl_cli_common *common, const restore_args *a,
                      const sl_restore_opts *o, int *code)
{
    if (a->member || !sl_archive_is_tar(o->input))
        return 0;
    sl_error err;
    sl_error_clear(&err);
    sl_archive *ar = NULL;
    bool mysql = false;
    if (sl_archive_open(&ar, o->input, &err) == 0)
        mysql = sl_archive_manifest(ar)->mysql;
    sl_archive_close(ar);
    if (!mysql && !(common->engine_given && common->engine == SL_CLI_ENGINE_MYSQL))
        return 0;
    const char *bad = mysql_unsupported(o);
    if (bad || o->database || o->create || o->single_transaction) {
        *code = sl_cli_usage_error("restore", "%s is not supported for a MySQL cluster archive",
                                   bad ? bad : "--database / --create / --single-transaction");
        return 1;
    }
    sl_mysql_target t;
    if (sl_cli_mysql_target(common, &t, &err) != 0) {
        *code = sl_cli_fail(&err);
        return 1;
    }
    sl_myarchive_opts mo = {.archive = o->input, .clean = o->clean, .jobs = o->jobs,
                            .quiet = common->verbosity < 0};
    sl_myarchive_summary sum = {0};
    signal(SIGINT, handle_archive_signal);
    signal(SIGTERM, handle_archive_signal);
    int rc = sl_myarchive_restore(&t, &mo, &sum, &err);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    sl_log(rc == 0 ? SL_LOG_INFO : SL_LOG_WARN,
           "cluster restore %s: %d databases, %lld statements, %lld rows in %.1f s",
           rc == 0 ? "done" : "incomplete", sum.databases, (long long)sum.statements,
           (long long)sum.rows, sum.elapsed_s);
    *code = rc == 0 ? 0 : sl_cli_fail(&err);
    return 1;
}

int
sl_cmd_restore(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "cluster") == 0)
        return sl_cmd_restore_cluster(argc - 1, argv + 1);
    sl_cli_common common;
    restore_args args = {.opts = {.jobs = 1}};
    sl_restore_opts opts = {0};
    sl_restore_summary sum = {0};
    sl_error err;
    sl_error_clear(&err);
    int code = 0;
    sl_cli_common_init(&common);
    if (parse(argc, argv, &common, &args, &code) != 0)
        goto done;
    opts = args.opts;
    if (sl_cli_common_finish(&common, &err) != 0) {
        code = sl_cli_fail(&err);
        goto done;
    }
    if (restore_mysql_archive(&common, &args, &opts, &code))
        goto done;
    if (settle_input(args.member, &opts, &err) != 0) {
        code = sl_cli_fail(&err);
        goto done;
    }
    int mysql = choose_engine(&common, &args, &err);
    if (mysql < 0) {
        code = sl_cli_fail(&err);
        goto done;
    }
    if (mysql) {
        code = restore_mysql(&common, &args, &opts);
        goto done;
    }
    if (args.skip_binlog) {
        code = sl_cli_usage_error("restore", "--skip-binlog is for MySQL restores");
        goto done;
    }
    if (!opts.database)
        opts.database = sl_conninfo_get(common.conninfo, "dbname");
    if (!opts.database || !*opts.database) {
        code = sl_cli_usage_error("restore", "no target database: give --database DB");
        goto done;
    }
    opts.quiet = common.verbosity < 0;
    opts.progress_tty = isatty(STDERR_FILENO) && !opts.quiet && !common.json_log;
    signal(SIGINT, handle_signal);
    signal(SIGTERM, handle_signal);
    int rc = sl_restore_run(common.conninfo, &common.conn_opts, &opts, &sum, &err);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    char size[32], errors[48] = "";
    if (sum.errors)
        snprintf(errors, sizeof errors, ", %lld failed", (long long)sum.errors);
    sl_log(rc == 0 ? SL_LOG_INFO : SL_LOG_WARN,
           "restore %s: %lld segments, %lld statements%s, %lld rows, %s of SQL in %.1f s",
           rc == 0 ? "done" : "incomplete", (long long)sum.segments, (long long)sum.statements,
           errors, (long long)sum.rows, sl_units_bytes(sum.bytes, size, sizeof size),
           sum.elapsed_s);
    if (rc != 0)
        code = sl_cli_fail(&err);
done:
    free(args.n.v);
    free(args.N.v);
    free(args.t.v);
    sl_cli_common_free(&common);
    return code;
}
