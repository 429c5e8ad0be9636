#include "cli/common.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/procs.h"
#include "cli/commands.h"

const char sl_cli_common_help[] =
    "Connection (unset values come from PG* environment variables, .pgpass, service files):\n"
    "  -h, --host=HOST            server host or socket directory\n"
    "  -p, --port=PORT            server port\n"
    "  -U, --username=USER        user name\n"
    "  -d, --dbname=DB|URL|CONNINFO  database, or a postgres:// URL or conninfo string, or\n"
    "                             mysql://USER:PASSWORD@HOST:PORT/DB?socket=PATH&ssl-mode=MODE\n"
    "                             &ssl-ca=FILE (or mariadb://...: selects --engine mysql)\n"
    "  -W, --password             ask for the password on the terminal\n"
    "  -w, --no-password          never ask for a password\n"
    "      --conninfo-fd=FD       read a conninfo string or URL from file descriptor FD, as -d\n"
    "                             takes one (a password in it stays off the command line)\n"
    "      --retries=N            retry transient connection failures N times (default 5)\n"
    "      --engine=postgres|mysql  the server's kind (default postgres; mysql also means\n"
    "                             MariaDB, and takes -h -p -U -d -W as the mysql client\n"
    "                             does, with ~/.my.cnf [client] for what is unset)\n"
    "Session settings (applied on every connection):\n"
    "      --work-mem=SIZE        work_mem\n"
    "      --maintenance-work-mem=SIZE  maintenance_work_mem\n"
    "      --lock-timeout=TIME    lock_timeout while taking the backup's locks (default 30s)\n"
    "Output:\n"
    "  -v, --verbose              more detail (statements, timings)\n"
    "  -q, --quiet                warnings and errors only\n"
    "      --log-format=human|json  log lines for people or machines (default human)\n"
    "      --help                 show this help\n";

void
sl_cli_common_init(sl_cli_common *c)
{
    memset(c, 0, sizeof *c);
    c->conninfo = sl_conninfo_new();
    c->conn_opts.app_name = "sluice";
    c->conn_opts.connect_retries = 5;
    c->conn_opts.lock_timeout = "30s";
}

static void
forget_mysql_url(sl_cli_common *c)
{
    if (c->mysql_url) {
        explicit_bzero(c->mysql_url, strlen(c->mysql_url));
        free(c->mysql_url);
        c->mysql_url = NULL;
    }
    sl_mysql_url_free(&c->mysql_parts);
}

void
sl_cli_common_free(sl_cli_common *c)
{
    forget_mysql_url(c);
    sl_conninfo_free(c->conninfo);
    c->conninfo = NULL;
}

pid_t
sl_cli_spawn_self(const char *const *argv, int keep_fd, sl_error *err)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        sl_error_errno(err, SL_E_IO, errno, "cannot start a %s process", argv[1]);
        return -1;
    }
    if (pid == 0) {
        sl_procs_inherit(keep_fd);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        execv("/proc/self/exe", (char *const *)argv);
        _exit(127);
    }
    return pid;
}

void
sl_cli_split_list(char ***list, const char *arg)
{
    size_t n = 0;
    while (*list && (*list)[n])
        n++;
    char *copy = sl_strdup(arg);
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        *list = sl_realloc(*list, (n + 2) * sizeof **list);
        (*list)[n++] = sl_strdup(tok);
        (*list)[n] = NULL;
    }
    free(copy);
}

void
sl_cli_split_list_free(char **list)
{
    for (size_t i = 0; list && list[i]; i++)
        free(list[i]);
    free(list);
}

int
sl_cli_parse_int(const char *flag, const char *arg, int min, int max, int *out, sl_error *err)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno || !end || *end || end == arg || v < min || v > max) {
        sl_error_set(err, SL_E_USAGE,
                     "invalid value \"%s\" for %s: expected an integer from %d to %d",
                     arg, flag, min, max);
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* -d mysql://...: the MySQL engine, and where to connect. An earlier -d database name gives
 * way to the URL's; -h -p -U, a later -d name and -W's password win over it. */
static int
set_mysql_url(sl_cli_common *c, const char *arg, sl_error *err)
{
    if (c->engine_given && c->engine == SL_CLI_ENGINE_PG && !c->mysql_url) {
        sl_error_set(err, SL_E_USAGE, "--engine postgres cannot connect to a mysql:// URL");
        return -1;
    }
    forget_mysql_url(c);
    if (sl_mysql_url_parse(arg, &c->mysql_parts, err) != 0)
        return -1;
    c->mysql_url = sl_strdup(arg);
    c->engine = SL_CLI_ENGINE_MYSQL;
    c->engine_given = true;
    sl_conninfo_set(c->conninfo, "dbname", NULL);
    return 1;
}

/* -d's value (or --conninfo-fd's): a mysql:// URL, or for PostgreSQL a database name, a URL
 * or a conninfo string. */
static int
set_dbname(sl_cli_common *c, const char *arg, sl_error *err)
{
    if (sl_mysql_url_is(arg))
        return set_mysql_url(c, arg, err);
    bool conninfo = strstr(arg, "://") != NULL || strchr(arg, '=') != NULL;
    if (conninfo && c->engine == SL_CLI_ENGINE_MYSQL) {
        sl_error_set(err, SL_E_USAGE,
                     "the MySQL engine takes a mysql:// URL or a database name as -d, not a "
                     "postgres:// URL or a conninfo string");
        return -1;
    }
    c->pg_conninfo = c->pg_conninfo || conninfo;
    /* A URL or conninfo string libpq cannot parse is refused here, before anything
     * connects anywhere (it would otherwise be taken for a database name). */
    sl_conninfo_set(c->conninfo, "dbname", arg);
    return sl_conninfo_check(c->conninfo, err) == 0 ? 1 : -1;
}

/* --conninfo-fd: the whole of what the descriptor holds (at most 64 KiB) is taken as -d's
 * value; the copy in memory is wiped once sl_conninfo holds it. */
static int
read_conninfo_fd(sl_cli_common *c, const char *arg, sl_error *err)
{
    int fd = -1;
    if (sl_cli_parse_int("--conninfo-fd", arg, 0, 1 << 20, &fd, err) != 0)
        return -1;
    enum { CAP = 64 * 1024 };
    char *text = sl_calloc(1, CAP + 1);
    size_t len = 0;
    bool failed = false;
    for (;;) {
        ssize_t got = read(fd, text + len, CAP - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            sl_error_errno(err, SL_E_USAGE, errno, "cannot read --conninfo-fd %d", fd);
            failed = true;
            break;
        }
        if (got == 0 || (len += (size_t)got) == CAP)
            break;
    }
    close(fd);
    int rc = -1;
    if (!failed) {
        if (len == CAP) {
            sl_error_set(err, SL_E_USAGE, "--conninfo-fd %d holds more than 64 KiB", fd);
        } else {
            rc = set_dbname(c, text, err) == 1 ? 0 : -1;
        }
    }
    explicit_bzero(text, CAP);
    free(text);
    return rc == 0 ? 1 : -1;
}

static int
parse_engine(sl_cli_common *c, const char *arg, sl_error *err)
{
    if (strcmp(arg, "postgres") == 0 || strcmp(arg, "postgresql") == 0 ||
        strcmp(arg, "pg") == 0)
        c->engine = SL_CLI_ENGINE_PG;
    else if (strcmp(arg, "mysql") == 0 || strcmp(arg, "mariadb") == 0)
        c->engine = SL_CLI_ENGINE_MYSQL;
    else {
        sl_error_set(err, SL_E_USAGE,
                     "invalid value \"%s\" for --engine: expected postgres or mysql", arg);
        return -1;
    }
    if (c->engine == SL_CLI_ENGINE_PG && c->mysql_url) {
        sl_error_set(err, SL_E_USAGE, "--engine postgres cannot connect to a mysql:// URL");
        return -1;
    }
    if (c->engine == SL_CLI_ENGINE_MYSQL && c->pg_conninfo) {
        sl_error_set(err, SL_E_USAGE,
                     "--engine mysql cannot connect to a postgres:// URL or a conninfo string");
        return -1;
    }
    c->engine_given = true;
    return 1;
}

/* An explicit value if there is one, else the URL's. */
static const char *
either(const char *given, const char *from_url)
{
    return given ? given : from_url;
}

int
sl_cli_mysql_target(const sl_cli_common *c, sl_mysql_target *t, sl_error *err)
{
    (void)err;
    memset(t, 0, sizeof *t);
    const sl_mysql_url *u = &c->mysql_parts;
    const char *host = sl_conninfo_get(c->conninfo, "host");
    t->host = either(host, u->host);
    t->port = either(sl_conninfo_get(c->conninfo, "port"), u->port);
    t->user = either(sl_conninfo_get(c->conninfo, "user"), u->user);
    t->password = either(sl_conninfo_get(c->conninfo, "password"), u->password);
    t->database = either(sl_conninfo_get(c->conninfo, "dbname"), u->database);
    /* -h names the server: the URL's socket gives way to it as its host does. */
    t->socket = host ? NULL : u->socket;
    t->ssl_mode = u->ssl_mode;
    t->ssl_ca = u->ssl_ca;
    return 0;
}

int
sl_cli_common_opt(sl_cli_common *c, int opt, const char *arg, sl_error *err)
{
    switch (opt) {
    case 'h':
        sl_conninfo_set(c->conninfo, "host", arg);
        return 1;
    case 'p':
        sl_conninfo_set(c->conninfo, "port", arg);
        return 1;
    case 'U':
        sl_conninfo_set(c->conninfo, "user", arg);
        return 1;
    case 'd':
        return set_dbname(c, arg, err);
    case SL_OPT_CONNINFO_FD:
        return read_conninfo_fd(c, arg, err);
    case SL_OPT_ENGINE:
        return parse_engine(c, arg, err);
    case 'W':
        c->prompt_password = true;
        return 1;
    case 'w':
        c->prompt_password = false;
        return 1;
    case 'v':
        c->verbosity = c->verbosity < 0 ? 1 : c->verbosity + 1;
        return 1;
    case 'q':
        c->verbosity = -1;
        return 1;
    case SL_OPT_WORK_MEM:
        c->conn_opts.work_mem = arg;
        return 1;
    case SL_OPT_MAINT_WORK_MEM:
        c->conn_opts.maintenance_work_mem = arg;
        return 1;
    case SL_OPT_LOCK_TIMEOUT:
        c->conn_opts.lock_timeout = arg;
        return 1;
    case SL_OPT_RETRIES:
        return sl_cli_parse_int("--retries", arg, 0, 100, &c->conn_opts.connect_retries, err) == 0
                   ? 1
                   : -1;
    case SL_OPT_LOG_FORMAT:
        if (strcmp(arg, "json") == 0)
            c->json_log = true;
        else if (strcmp(arg, "human") == 0)
            c->json_log = false;
        else {
            sl_error_set(err, SL_E_USAGE,
                         "invalid value \"%s\" for --log-format: expected human or json",
                         arg);
            return -1;
        }
        return 1;
    case SL_OPT_HELP:
        c->help = true;
        return 1;
    }
    return 0;
}

int
sl_cli_common_finish(sl_cli_common *c, sl_error *err)
{
    sl_log_level level = c->verbosity < 0 ? SL_LOG_WARN
                         : c->verbosity > 0 ? SL_LOG_DEBUG
                                            : SL_LOG_INFO;
    sl_log_setup(level, c->json_log ? SL_LOG_JSON : SL_LOG_HUMAN);
    if (c->prompt_password && sl_conn_prompt_password(c->conninfo, err) != 0)
        return -1;
    return 0;
}

const char *
sl_cli_shown_arg(const char *arg, char *buf, size_t cap)
{
    sl_buf b = SL_BUF_INIT;
    sl_conninfo_redact_sql(arg, strlen(arg), &b);
    snprintf(buf, cap, "%s", b.data);
    sl_buf_free(&b);
    return buf;
}

int
sl_cli_usage_error(const char *command, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "sluice %s: %s\nTry \"sluice %s --help\" for more information.\n", command,
            msg, command);
    return sl_error_exit_code(SL_E_USAGE);
}

int
sl_cli_fail(const sl_error *err)
{
    sl_log_error(err);
    return sl_error_exit_code(err->kind);
}

int
sl_cli_parse(const sl_cli_spec *spec, sl_cli_common *common, int argc, char **argv,
             int *first_operand, int *exit_code)
{
    char shortopts[128];
    snprintf(shortopts, sizeof shortopts, ":%s%s", spec->connects ? SL_CLI_COMMON_SHORT : "vq",
             spec->shortopts ? spec->shortopts : "");
    sl_error err;
    sl_error_clear(&err);
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, shortopts, spec->longopts, NULL)) != -1) {
        if (opt == '?' || opt == ':') {
            *exit_code = sl_cli_getopt_failed(spec->name, opt, argv);
            return -1;
        }
        /* A command without the connection flags may use their letters (tap's -d). */
        bool conn_letter = opt > 0 && opt < 128 && strchr("hpUdWw", opt) != NULL;
        int mine = spec->connects || !conn_letter ? sl_cli_common_opt(common, opt, optarg, &err)
                                                  : 0;
        if (mine == 0)
            mine = spec->on_opt && spec->on_opt(spec->ctx, opt, optarg, &err) == 0 ? 1 : -1;
        if (mine < 0) {
            *exit_code = sl_cli_usage_error(spec->name, "%s", err.message);
            return -1;
        }
    }
    if (common->help) {
        fputs(spec->usage, stdout);
        if (spec->connects)
            fputs(sl_cli_common_help, stdout);
        *exit_code = 0;
        return -1;
    }
    if (argc - optind > spec->max_operands) {
        char shown[512];
        *exit_code = sl_cli_usage_error(
            spec->name, "unexpected argument \"%s\"",
            sl_cli_shown_arg(argv[optind + spec->max_operands], shown, sizeof shown));
        return -1;
    }
    *first_operand = optind;
    return 0;
}

int
sl_cli_json_opt(void *ctx, int opt, const char *arg, sl_error *err)
{
    (void)arg;
    if (opt != SL_OPT_JSON) {
        sl_error_set(err, SL_E_INTERNAL, "option %d has no handler", opt);
        return -1;
    }
    *(bool *)ctx = true;
    return 0;
}

void
sl_cli_patterns_add(sl_cli_patterns *p, const char *s)
{
    p->v = sl_realloc(p->v, (p->n + 2) * sizeof *p->v);
    p->v[p->n++] = s;
    p->v[p->n] = NULL;
}
