/* io/sink.c: NAME.partial -> fsync -> rename -> fsync(dir); spool files; positional I/O. */
#include "io/sink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"

struct sl_sink {
    int fd;
    uint64_t pos;
    uint64_t written_back;  /* sl_sink_write(): write-back started for [0, written_back) */
    char *path;
    char *partial;
    char *dir;
};

static char *
dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return sl_strdup(".");
    if (slash == path)
        return sl_strdup("/");
    return sl_strndup(path, (size_t)(slash - path));
}

static void
sink_free(sl_sink *s)
{
    free(s->path);
    free(s->partial);
    free(s->dir);
    free(s);
}

int
sl_sink_open(sl_sink **out, const char *path, sl_error *err)
{
    sl_sink *s = sl_calloc(1, sizeof *s);
    s->fd = -1;
    s->path = sl_strdup(path);
    s->partial = sl_asprintf("%s.partial", path);
    s->dir = dir_of(path);
    /* O_EXCL | O_NOFOLLOW: never write through a file or link someone else put there; a stale
     * NAME.partial of ours is removed first (it never looks complete anyway). */
    for (int attempt = 0; attempt < 2 && s->fd < 0; attempt++) {
        s->fd = open(s->partial, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (s->fd < 0 && errno == EEXIST && attempt == 0 && unlink(s->partial) == 0)
            continue;
        if (s->fd < 0) {
            sl_error_errno(err, SL_E_IO, errno, "could not create \"%s\"", s->partial);
            goto fail;
        }
    }
    if (fchmod(s->fd, 0600) != 0) {  /* the umask may have taken bits away; make it exact */
        sl_error_errno(err, SL_E_IO, errno, "could not set the mode of \"%s\"", s->partial);
        goto fail;
    }
    *out = s;
    return 0;
fail:
    if (s->fd >= 0) {
        close(s->fd);
        unlink(s->partial);
    }
    sink_free(s);
    return -1;
}

int
sl_sink_write(sl_sink *s, const void *data, size_t len, sl_error *err)
{
    if (sl_pwrite_all(s->fd, data, len, s->pos, s->partial, err) != 0)
        return -1;
    s->pos += len;
    if (s->pos - s->written_back >= SL_SINK_WRITEBACK) {
        sl_sink_writeback(s->fd, s->written_back, s->pos - s->written_back);
        s->written_back = s->pos;
    }
    return 0;
}

void
sl_sink_writeback(int fd, uint64_t off, uint64_t len)
{
    if (len)
        (void)sync_file_range(fd, (off_t)off, (off_t)len, SYNC_FILE_RANGE_WRITE);
}

int
sl_sink_fd(const sl_sink *s)
{
    return s->fd;
}

const char *
sl_sink_path(const sl_sink *s)
{
    return s->path;
}

const char *
sl_sink_partial(const sl_sink *s)
{
    return s->partial;
}

const char *
sl_sink_dir(const sl_sink *s)
{
    return s->dir;
}

static int
fsync_dir(const char *dir, sl_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        sl_error_errno(err, SL_E_IO, errno, "could not open directory \"%s\"", dir);
        return -1;
    }
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    /* Some file systems cannot fsync a directory; the rename is then as durable as it gets. */
    if (rc != 0 && saved != EINVAL && saved != EROFS) {
        sl_error_errno(err, SL_E_IO, saved, "could not fsync directory \"%s\"", dir);
        return -1;
    }
    return 0;
}

int
sl_sink_close(sl_sink *s, sl_error *err)
{
    if (!s)
        return 0;
    int rc = -1;
    if (fsync(s->fd) != 0) {
        sl_error_errno(err, SL_E_IO, errno, "could not fsync \"%s\"", s->partial);
        goto done;
    }
    int fd = s->fd;
    s->fd = -1;
    if (close(fd) != 0) {
        sl_error_errno(err, SL_E_IO, errno, "could not close \"%s\"", s->partial);
        goto done;
    }
    if (rename(s->partial, s->path) != 0) {
        sl_error_errno(err, SL_E_IO, errno, "could not rename \"%s\" to \"%s\"", s->partial,
                       s->path);
        goto done;
    }
    if (fsync_dir(s->dir, err) != 0)
        goto done_renamed;
    rc = 0;
    goto done_renamed;
done:
    if (s->fd >= 0)
        close(s->fd);
    unlink(s->partial);
done_renamed:
    sink_free(s);
    return rc;
}

void
sl_sink_abort(sl_sink *s)
{
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    unlink(s->partial);
    sink_free(s);
}

int
sl_spool_open(const char *dir, sl_error *err)
{
    int fd = open(dir, O_RDWR | O_TMPFILE | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    /* File systems without O_TMPFILE: a named file, unlinked at once. */
    char *tmpl = sl_asprintf("%s/.sluice-spool-XXXXXX", dir);
    fd = mkostemp(tmpl, O_CLOEXEC);
    if (fd < 0)
        sl_error_errno(err, SL_E_IO, errno, "could not create a spool file in \"%s\"", dir);
    else
        unlink(tmpl);
    free(tmpl);
    return fd;
}

int
sl_pwrite_all(int fd, const void *data, size_t len, uint64_t off, const char *what,
              sl_error *err)
{
    const char *p = data;
    while (len) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            sl_error_errno(err, SL_E_IO, n < 0 ? errno : ENOSPC, "could not write to \"%s\"",
                           what);
            return -1;
        }
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

int
sl_pread_all(int fd, void *data, size_t len, uint64_t off, const char *what, sl_error *err)
{
    char *p = data;
    while (len) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            sl_error_errno(err, SL_E_IO, errno, "could not read \"%s\" at offset %llu", what,
                           (unsigned long long)off);
            return -1;
        }
        if (n == 0) {
            sl_error_set(err, SL_E_ARCHIVE, "\"%s\" is truncated: it ends at offset %llu", what,
                         (unsigned long long)off);
            return -1;
        }
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

static int
copy_loop(int src_fd, uint64_t src_off, int dst_fd, uint64_t dst_off, uint64_t len,
          const char *what, sl_error *err)
{
    size_t cap = 1u << 20;
    char *buf = sl_malloc(cap);
    int rc = -1;
    while (len) {
        size_t n = len < cap ? (size_t)len : cap;
        if (sl_pread_all(src_fd, buf, n, src_off, what, err) != 0
            || sl_pwrite_all(dst_fd, buf, n, dst_off, what, err) != 0)
            goto done;
        src_off += n;
        dst_off += n;
        len -= n;
    }
    rc = 0;
done:
    free(buf);
    return rc;
}

int
sl_sink_copy_range(int src_fd, uint64_t src_off, int dst_fd, uint64_t dst_off, uint64_t len,
                   const char *what, sl_error *err)
{
    while (len) {
        loff_t in = (loff_t)src_off, outp = (loff_t)dst_off;
        size_t want = len > (1u << 30) ? (1u << 30) : (size_t)len;
        ssize_t n = copy_file_range(src_fd, &in, dst_fd, &outp, want, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)  /* EXDEV, ENOSYS, EINVAL...: the file system cannot; copy by hand */
            return copy_loop(src_fd, src_off, dst_fd, dst_off, len, what, err);
        src_off += (uint64_t)n;
        dst_off += (uint64_t)n;
        len -= (uint64_t)n;
    }
    return 0;
}
