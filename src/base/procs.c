/* base/procs.c: child processes, a few at a time (procs.h). */
#include "base/procs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/mem.h"

typedef struct run {
    pid_t *pids;  /* pids[i]: child i while it runs, else 0 */
    size_t n;
    volatile sig_atomic_t *stop;
} run;

static bool
stopping(void *arg)
{
    const run *r = arg;
    return r->stop && *r->stop;
}

static void
stop_all(run *r)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->pids[i] > 0)
            kill(r->pids[i], SIGTERM);
    for (size_t i = 0; i < r->n; i++) {
        if (r->pids[i] > 0) {
            while (waitpid(r->pids[i], NULL, 0) < 0 && errno == EINTR) {
            }
            r->pids[i] = 0;
        }
    }
}

static long
index_of(const run *r, pid_t pid)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->pids[i] == pid)
            return (long)i;
    return -1;
}

int
sl_procs_run(size_t n, int parallel, const sl_procs_ops *ops, void *ctx,
             volatile sig_atomic_t *stop, sl_error *err)
{
    run r = {.pids = sl_calloc(n ? n : 1, sizeof *r.pids), .n = n, .stop = stop};
    size_t next = 0, running = 0;
    int rc = 0;
    while (next < n || running > 0) {
        if (stopping(&r)) {
            sl_error_set(err, SL_E_CANCELED, "interrupted");
            rc = -1;
            break;
        }
        for (; running < (size_t)parallel && next < n; next++, running++) {
            r.pids[next] = ops->start(ctx, next, err);
            if (r.pids[next] <= 0) {
                r.pids[next] = 0;
                rc = -1;
                break;
            }
        }
        if (rc != 0)
            break;
        /* polled so that a signal is seen within a few milliseconds whatever SA_RESTART */
        int status = 0;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        long i = pid > 0 ? index_of(&r, pid) : -1;
        if (i < 0) {
            if (pid <= 0)
                sl_clock_sleep_ms(10, stopping, &r);
            continue;
        }
        r.pids[i] = 0;
        running--;
        if (ops->finished(ctx, (size_t)i, status, err) != 0) {
            rc = -1;
            break;
        }
    }
    stop_all(&r);
    free(r.pids);
    return rc;
}

int
sl_procs_pipe_text(const char *text, size_t len, int *read_fd, sl_error *err)
{
    int fds[2];
    if (len > 65536) {
        sl_error_set(err, SL_E_INTERNAL, "%zu bytes do not fit in a pipe", len);
        return -1;
    }
    if (pipe2(fds, O_CLOEXEC) != 0) {
        sl_error_errno(err, SL_E_IO, errno, "cannot create a pipe");
        return -1;
    }
    /* Linux pipes hold 64 KiB: the whole text goes in before anyone reads */
    size_t put = 0;
    while (put < len) {
        ssize_t w = write(fds[1], text + put, len - put);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            sl_error_errno(err, SL_E_IO, errno, "cannot write to a pipe");
            close(fds[0]);
            close(fds[1]);
            return -1;
        }
        put += (size_t)w;
    }
    close(fds[1]);
    *read_fd = fds[0];
    return 0;
}

void
sl_procs_inherit(int fd)
{
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0)
        fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
}
