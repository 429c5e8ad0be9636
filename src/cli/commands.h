/* cli/commands.h: one entry point per command; main.c dispatches on argv[1].
 * Each returns the process exit code (0, or sl_error_exit_code() of what failed). argv[0] is
 * the command name, so getopt_long works as usual. */
#ifndef SL_CLI_COMMANDS_H
#define SL_CLI_COMMANDS_H

int sl_cmd_status(int argc, char **argv);
int sl_cmd_backup(int argc, char **argv);
/* "backup cluster ...": argv[0] is "cluster" (sl_cmd_backup hands it over). */
int sl_cmd_backup_cluster(int argc, char **argv);
int sl_cmd_restore(int argc, char **argv);
/* "restore cluster ...": argv[0] is "cluster" (sl_cmd_restore hands it over). */
int sl_cmd_restore_cluster(int argc, char **argv);
int sl_cmd_verify(int argc, char **argv);
int sl_cmd_list(int argc, char **argv);
int sl_cmd_prune(int argc, char **argv);
int sl_cmd_tap(int argc, char **argv);
int sl_cmd_proxy(int argc, char **argv);

/* Reports a getopt failure (unknown flag or missing value) and returns exit code 2.
 * Call with the command name when getopt_long returns '?' or ':' (opterr=0, ":" short string). */
int sl_cli_getopt_failed(const char *command, int ret, char **argv);

#endif
