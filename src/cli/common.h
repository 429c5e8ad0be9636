/* cli/common.h: flags every command shares (connection, session settings, logging) and the
 * one place that turns an sl_error into a message and an exit code.
 * A command lists SL_CLI_COMMON_LONGOPTS in its getopt_long table, appends SL_CLI_COMMON_SHORT
 * to its short string, and passes each option it does not know to sl_cli_common_opt(). */
#ifndef SL_CLI_COMMON_H
#define SL_CLI_COMMON_H

#include <getopt.h>
#include <stdbool.h>
#include <sys/types.h>

#include "base/error.h"
#include "mysql/conn.h"
#include "mysql/url.h"
#include "pg/conn.h"

enum {
    SL_OPT_WORK_MEM = 1000,
    SL_OPT_MAINT_WORK_MEM,
    SL_OPT_LOCK_TIMEOUT,
    SL_OPT_RETRIES,
    SL_OPT_LOG_FORMAT,
    SL_OPT_HELP,
    SL_OPT_JSON,                 /* --json: for commands that print a report */
    SL_OPT_CONNINFO_FD,
    SL_OPT_ENGINE,
    SL_OPT_COMMAND_BASE = 1100,  /* commands number their own long-only options from here */
};

#define SL_CLI_COMMON_SHORT "h:p:U:d:Wwvq"
#define SL_CLI_COMMON_LONGOPTS                                            \
    {"host", required_argument, NULL, 'h'},                               \
    {"port", required_argument, NULL, 'p'},                               \
    {"username", required_argument, NULL, 'U'},                           \
    {"dbname", required_argument, NULL, 'd'},                             \
    {"password", no_argument, NULL, 'W'},                                 \
    {"no-password", no_argument, NULL, 'w'},                              \
    {"verbose", no_argument, NULL, 'v'},                                  \
    {"quiet", no_argument, NULL, 'q'},                                    \
    {"work-mem", required_argument, NULL, SL_OPT_WORK_MEM},               \
    {"maintenance-work-mem", required_argument, NULL, SL_OPT_MAINT_WORK_MEM}, \
    {"lock-timeout", required_argument, NULL, SL_OPT_LOCK_TIMEOUT},       \
    {"retries", required_argument, NULL, SL_OPT_RETRIES},                 \
    {"conninfo-fd", required_argument, NULL, SL_OPT_CONNINFO_FD},         \
    {"engine", required_argument, NULL, SL_OPT_ENGINE},                   \
    {"log-format", required_argument, NULL, SL_OPT_LOG_FORMAT},           \
    {"help", no_argument, NULL, SL_OPT_HELP}

/* The help text for the shared flags, printed by every command's --help. */
extern const char sl_cli_common_help[];

/* The database engine a command works on: --engine, a mysql:// URL as -d, or (restore) the
 * backup file's header. */
typedef enum {
    SL_CLI_ENGINE_PG,     /* PostgreSQL (the default) */
    SL_CLI_ENGINE_MYSQL,  /* MySQL or MariaDB */
} sl_cli_engine;

typedef struct sl_cli_common {
    sl_cli_engine engine;
    bool engine_given;      /* --engine or a URL chose it (restore: the file must agree) */
    char *mysql_url;        /* -d mysql://... as given (holds a password maybe: never shown) */
    sl_mysql_url mysql_parts;  /* that URL taken apart */
    bool pg_conninfo;       /* -d was a postgres:// URL or a conninfo string */
    sl_conninfo *conninfo;
    sl_conn_opts conn_opts;
    bool prompt_password;
    int verbosity;  /* -1 quiet, 0 normal, 1+ verbose */
    bool json_log;
    bool help;
} sl_cli_common;

void sl_cli_common_init(sl_cli_common *c);
void sl_cli_common_free(sl_cli_common *c);
/* Handles one shared option. 1 handled, 0 not a shared option, -1 bad value (err set). */
int sl_cli_common_opt(sl_cli_common *c, int opt, const char *arg, sl_error *err);
/* Appends the comma-separated items of arg to *list (a NULL-terminated array of copies; a
 * name holding a comma is given by repeating the flag); _free frees the list. */
void sl_cli_split_list(char ***list, const char *arg);
void sl_cli_split_list_free(char **list);
/* Starts this same executable with argv (argv[0] is only a name) in a child process that
 * keeps keep_fd open across exec and has the default SIGINT/SIGTERM handling: how the cluster
 * commands run one "sluice backup single" or "sluice restore" per database. Returns the pid,
 * or -1 with err set. */
pid_t sl_cli_spawn_self(const char *const *argv, int keep_fd, sl_error *err);
/* The MySQL target the shared flags name (-h -p -U -d, -W's password, a mysql:// URL). The
 * strings belong to c and live until sl_cli_common_free(). */
SL_MUSTCHECK int sl_cli_mysql_target(const sl_cli_common *c, sl_mysql_target *t,
                                     sl_error *err);
/* After parsing: sets up logging and prompts for the password if -W was given. */
SL_MUSTCHECK int sl_cli_common_finish(sl_cli_common *c, sl_error *err);
/* How a command reads its flags. Shared flags go to the sl_cli_common; the command's own go to
 * on_opt, which returns 0 when it took the option, -1 for a bad value (err set). */
typedef struct sl_cli_spec {
    const char *name;                /* "backup": for messages */
    const char *shortopts;           /* the command's own short options ("o:j:") */
    const struct option *longopts;   /* its long options, shared ones included */
    bool connects;                   /* takes the connection flags (and shows their help) */
    const char *usage;               /* --help text */
    int (*on_opt)(void *ctx, int opt, const char *arg, sl_error *err);
    void *ctx;
    int max_operands;                /* more than this many operands is a usage error */
} sl_cli_spec;

/* Parses argv: 0 to go on (*first_operand = index of the first operand), or -1 when the
 * command is over: help printed (*exit_code 0) or a usage error reported (*exit_code 2). */
int sl_cli_parse(const sl_cli_spec *spec, sl_cli_common *common, int argc, char **argv,
                 int *first_operand, int *exit_code);
/* An on_opt for commands whose only own flag is --json: ctx is a bool set by it. */
int sl_cli_json_opt(void *ctx, int opt, const char *arg, sl_error *err);
/* Reports an unknown option or missing argument the way getopt saw it. Returns exit code 2. */
int sl_cli_usage_error(const char *command, const char *fmt, ...) SL_PRINTF(2, 3);
/* arg (an operand, an option) as a message may show it: a password it holds (a URL, a conninfo
 * string) redacted. Returns buf. */
const char *sl_cli_shown_arg(const char *arg, char *buf, size_t cap);
/* Logs err and returns the exit code its kind maps to. */
int sl_cli_fail(const sl_error *err);
/* Parses a positive integer flag value ("-j 4"). */
SL_MUSTCHECK int sl_cli_parse_int(const char *flag, const char *arg, int min, int max, int *out,
                                  sl_error *err);

/* A growable NULL-terminated array of borrowed argv strings (-n, -t ... patterns); v is
 * NULL until the first one; free(v) when done. */
typedef struct sl_cli_patterns {
    const char **v;
    size_t n;
} sl_cli_patterns;
void sl_cli_patterns_add(sl_cli_patterns *p, const char *s);

#endif
