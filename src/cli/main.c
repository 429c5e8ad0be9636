/* cli/main.c: dispatches "sluice COMMAND ..." to the command's entry point. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "cli/commands.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"status", sl_cmd_status, "show server version, settings, databases and replication slots"},
    {"backup", sl_cmd_backup, "back up one database, or a whole cluster into a tar archive"},
    {"restore", sl_cmd_restore, "restore a sluice backup or a pg_dump -Fp script into a database"},
    {"verify", sl_cmd_verify, "check a backup file end to end: checksums, index, row counts"},
    {"list", sl_cmd_list, "show the databases, sizes, row counts and checksums of an archive"},
    {"prune", sl_cmd_prune, "remove old backups from a directory by a retention policy"},
    {"tap", sl_cmd_tap, "a Singer tap, pipelinewise-tap-postgres compatible (also tap-sluice)"},
    {"proxy", sl_cmd_proxy, "a transparent PostgreSQL wire-protocol proxy"},
};

static void
print_help(FILE *out)
{
    fprintf(out,
            "sluice moves data in and out of PostgreSQL over the wire protocol.\n\n"
            "Usage:\n  sluice COMMAND [OPTION]...\n\nCommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\n\"sluice COMMAND --help\" shows a command's flags.\n\n"
            "Exit codes:\n");
#define SL_ERROR_KIND(sym, code, name) fprintf(out, "  %d  %s\n", code, name);
#include "base/error_kinds.def"
#undef SL_ERROR_KIND
}

int
sl_cli_getopt_failed(const char *command, int ret, char **argv)
{
    /* An unknown --name=VALUE is shown without its value: it may be a password or a URL. */
    const char *arg = argv[optind - 1];
    int shown = (int)strcspn(arg, "=");
    if (ret == ':')
        fprintf(stderr, "sluice %s: option \"%.*s\" requires a value\n", command, shown, arg);
    else if (optopt)
        fprintf(stderr, "sluice %s: unknown option \"-%c\"\n", command, optopt);
    else
        fprintf(stderr, "sluice %s: unknown option \"%.*s\"\n", command, shown, arg);
    fprintf(stderr, "Try \"sluice %s --help\" for more information.\n", command);
    return sl_error_exit_code(SL_E_USAGE);
}

/* The program's file name without its directory. */
static const char *
program_name(const char *argv0)
{
    const char *slash = strrchr(argv0, '/');
    return slash ? slash + 1 : argv0;
}

int
main(int argc, char **argv)
{
    /* Installed as tap-sluice too: Meltano and pipelinewise call a tap with Singer's arguments
     * only, so under that name the program is "sluice tap". */
    if (argc >= 1 && strcmp(program_name(argv[0]), "tap-sluice") == 0) {
        opterr = 0;
        return sl_cmd_tap(argc, argv);
    }
    if (argc < 2) {
        print_help(stderr);
        return sl_error_exit_code(SL_E_USAGE);
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "help") == 0 || strcmp(name, "-?") == 0) {
        print_help(stdout);
        return 0;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("sluice %s\n", SL_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(name, commands[i].name) == 0) {
            opterr = 0;
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "sluice: unknown command \"%s\"\nTry \"sluice --help\" for the commands.\n",
            name);
    return sl_error_exit_code(SL_E_USAGE);
}
