/* base/procs.h: child processes, a few at a time. The cluster faces back up and restore each
 * database in a process of its own (one engine's workers own a process's signal handling);
 * this module starts them, at most `parallel` at once, reaps them and stops them all when one
 * fails or a signal asks.
 * sl_procs_run(): for i in 0..n-1 calls start(ctx, i) to start child i (returns its pid), and
 *   when a child ends, finished(ctx, i, status) with its waitpid status; -1 from either stops
 *   the run: every running child gets SIGTERM and is waited for, and the call returns -1 with
 *   err as the callback set it. *stop set (by a signal handler) does the same with
 *   SL_E_CANCELED. Children end in any order; finished() runs in this process, one at a time.
 * sl_procs_pipe_text(): a pipe holding text (at most 64 KiB, a pipe's capacity, so nothing
 *   blocks), write end closed: a child that inherits the read end reads text then EOF. For
 *   secrets (a conninfo with a password): they never reach argv or the environment. The read
 *   end is close-on-exec; sl_procs_inherit() clears that in the child before exec. */
#ifndef SL_BASE_PROCS_H
#define SL_BASE_PROCS_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/error.h"

typedef struct sl_procs_ops {
    pid_t (*start)(void *ctx, size_t i, sl_error *err);
    int (*finished)(void *ctx, size_t i, int status, sl_error *err);
} sl_procs_ops;

SL_MUSTCHECK int sl_procs_run(size_t n, int parallel, const sl_procs_ops *ops, void *ctx,
                              volatile sig_atomic_t *stop, sl_error *err);

SL_MUSTCHECK int sl_procs_pipe_text(const char *text, size_t len, int *read_fd, sl_error *err);
/* In a child between fork and exec: keeps fd open across exec. */
void sl_procs_inherit(int fd);

#endif
