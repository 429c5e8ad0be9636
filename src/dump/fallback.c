/* dump/fallback.c: pg_dump for what sluice cannot back up (fallback.h). */
#include "dump/fallback.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/mem.h"

/* The pg_dump to run, malloc'd, or NULL. */
static char *
find_pg_dump(int server_version)
{
    const char *path = getenv("PATH");
    char *copy = sl_strdup(path ? path : "");
    char *found = NULL;
    for (char *save = NULL, *dir = strtok_r(copy, ":", &save); dir && !found;
         dir = strtok_r(NULL, ":", &save)) {
        char *candidate = sl_asprintf("%s/pg_dump", dir);
        if (access(candidate, X_OK) == 0)
            found = candidate;
        else
            free(candidate);
    }
    free(copy);
    if (!found) {
        char *candidate =
            sl_asprintf("/usr/lib/postgresql/%d/bin/pg_dump", server_version / 10000);
        if (access(candidate, X_OK) == 0)
            found = candidate;
        else
            free(candidate);
    }
    return found;
}

/* A passfile line that matches any target: "*:*:*:*:PASSWORD", ':' and '\' escaped. */
static int
write_passfile(const char *path, const char *password, sl_error *err)
{
    sl_buf line = SL_BUF_INIT;
    sl_buf_puts(&line, "*:*:*:*:");
    for (const char *p = password; *p; p++) {
        if (*p == ':' || *p == '\\')
            sl_buf_putc(&line, '\\');
        sl_buf_putc(&line, *p);
    }
    sl_buf_putc(&line, '\n');
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int rc = -1;
    if (fd < 0)
        sl_error_errno(err, SL_E_IO, errno, "cannot create %s", path);
    else if (write(fd, line.data, line.len) != (ssize_t)line.len)
        sl_error_errno(err, SL_E_IO, errno, "cannot write %s", path);
    else
        rc = 0;
    if (fd >= 0)
        close(fd);
    explicit_bzero(line.data, line.len);
    sl_buf_free(&line);
    return rc;
}

static int
run_pg_dump(const char *bin, const char *conninfo, const char *path, const char *passfile,
            sl_error *err)
{
    const char *argv[] = {bin, "--format=plain", "--compress=1", "--no-password",
                          "--file", path, "--dbname", conninfo, NULL};
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        sl_error_errno(err, SL_E_IO, errno, "cannot start pg_dump");
        return -1;
    }
    if (pid == 0) {
        if (passfile)
            setenv("PGPASSFILE", passfile, 1);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            sl_error_errno(err, SL_E_IO, errno, "cannot wait for pg_dump");
            return -1;
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        sl_error_set(err, SL_E_SERVER, "pg_dump failed (%s %d)",
                     WIFEXITED(status) ? "exit code" : "signal",
                     WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        return -1;
    }
    return 0;
}

int
sl_fallback_pg_dump(sl_conn *c, const char *dbname, const char *path, sl_error *err)
{
    char *bin = find_pg_dump(sl_conn_server_version(c));
    if (!bin) {
        sl_error_set(err, SL_E_UNSUPPORTED, "pg_dump is not installed (--fallback-tools)");
        return -1;
    }
    char *password = sl_conn_password(c);
    char *passfile = password ? sl_asprintf("%s.pgpass", path) : NULL;
    char *conninfo = sl_conn_conninfo_public(c, dbname);
    int rc = passfile ? write_passfile(passfile, password, err) : 0;
    if (rc == 0)
        rc = run_pg_dump(bin, conninfo, path, passfile, err);
    if (passfile)
        unlink(passfile);
    if (password)
        explicit_bzero(password, strlen(password));
    free(password);
    free(passfile);
    free(conninfo);
    free(bin);
    return rc;
}
