/* io/sink.h: files written atomically, and the unlinked spool files beside them.
 * A sink owns its file descriptor. sl_sink_open() creates NAME.partial with mode 0600 whatever
 * the umask (a stale NAME.partial from an interrupted run is replaced). sl_sink_close() fsyncs,
 * renames NAME.partial to NAME and fsyncs the directory, so NAME either does not exist or is
 * complete. sl_sink_abort() closes and unlinks NAME.partial. Exactly one of the two must be
 * called; both accept NULL and free the sink. A sink is used by one thread at a time, except
 * that sl_sink_fd() may be used with pwrite() from several threads on disjoint ranges.
 * Errors: SL_E_IO naming the file; -1 on failure, 0 on success. */
#ifndef SL_IO_SINK_H
#define SL_IO_SINK_H

#include <stdint.h>
#include <stddef.h>

#include "base/error.h"

typedef struct sl_sink sl_sink;

SL_MUSTCHECK int sl_sink_open(sl_sink **out, const char *path, sl_error *err);
/* Appends at the sink's own position (sequential writers), starting write-back every
 * SL_SINK_WRITEBACK bytes. */
SL_MUSTCHECK int sl_sink_write(sl_sink *s, const void *data, size_t len, sl_error *err);
int sl_sink_fd(const sl_sink *s);
const char *sl_sink_path(const sl_sink *s);      /* NAME */
const char *sl_sink_partial(const sl_sink *s);   /* NAME.partial */
/* Directory NAME is in ("." when NAME has no slash), for spool files. */
const char *sl_sink_dir(const sl_sink *s);
SL_MUSTCHECK int sl_sink_close(sl_sink *s, sl_error *err);
void sl_sink_abort(sl_sink *s);

/* Starts writing [off, off + len) of fd back to the disk without waiting for it
 * (sync_file_range): a writer that calls this as it goes leaves the fsync of sl_sink_close()
 * little to wait for, instead of the whole file's write-back at the end. Errors are left to
 * that fsync, which reports them. SL_SINK_WRITEBACK is how much to gather between calls. */
#define SL_SINK_WRITEBACK ((uint64_t)8 << 20)
void sl_sink_writeback(int fd, uint64_t off, uint64_t len);

/* An anonymous temporary file in dir (O_TMPFILE, else mkstemp + unlink): nothing is left
 * behind however the process ends. Returns the fd (mode 0600) or -1 with err set. */
int sl_spool_open(const char *dir, sl_error *err);

/* Writes all of data at offset off of fd (pwrite loop); what names the file for errors. */
SL_MUSTCHECK int sl_pwrite_all(int fd, const void *data, size_t len, uint64_t off,
                               const char *what, sl_error *err);
/* Reads exactly len bytes at offset off; a short file is SL_E_ARCHIVE "... is truncated". */
SL_MUSTCHECK int sl_pread_all(int fd, void *data, size_t len, uint64_t off, const char *what,
                              sl_error *err);
/* Copies len bytes from src_fd at src_off to dst_fd at dst_off (copy_file_range where the file
 * system allows it, else a read/write loop with one 1 MiB buffer). */
SL_MUSTCHECK int sl_sink_copy_range(int src_fd, uint64_t src_off, int dst_fd,
                                    uint64_t dst_off, uint64_t len, const char *what,
                                    sl_error *err);

#endif
