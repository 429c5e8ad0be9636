/* io/tarwrite.c: tar members through a sink, hashed and listed (see tarwrite.h). */
#include "io/tarwrite.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/mem.h"
#include "io/checksum.h"
#include "io/tar.h"

static int
put_header(sl_sink *sink, const char *name, uint64_t size, sl_error *err)
{
    unsigned char block[SL_TAR_BLOCK];
    if (sl_tar_header(block, name, size, (int64_t)time(NULL), err) != 0)
        return -1;
    return sl_sink_write(sink, block, sizeof block, err);
}

static int
put_padding(sl_sink *sink, uint64_t size, sl_error *err)
{
    static const unsigned char zeros[SL_TAR_BLOCK];
    uint64_t pad = sl_tar_padding(size);
    return pad ? sl_sink_write(sink, zeros, (size_t)pad, err) : 0;
}

static void
note_member(json_t *members, const char *name, uint64_t size, const unsigned char *digest)
{
    if (!members)
        return;
    char hex[2 * SL_SHA256_LEN + 1];
    sl_sha256_hex(digest, hex);
    json_array_append_new(members, json_pack("{s:s, s:I, s:s}", "name", name, "size",
                                             (json_int_t)size, "sha256", hex));
}

int
sl_tarwrite_text(sl_sink *sink, const char *name, const char *text, size_t len,
                 json_t *members, sl_error *err)
{
    unsigned char digest[SL_SHA256_LEN];
    if (sl_sha256_digest(text, len, digest, err) != 0 || put_header(sink, name, len, err) != 0 ||
        (len && sl_sink_write(sink, text, len, err) != 0) || put_padding(sink, len, err) != 0)
        return -1;
    note_member(members, name, len, digest);
    return 0;
}

int
sl_tarwrite_file(sl_sink *sink, const char *name, const char *path, json_t *members,
                 sl_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        sl_error_errno(err, SL_E_IO, errno, "cannot open %s", path);
        return -1;
    }
    struct stat st;
    sl_sha256 *h = NULL;
    char *buf = NULL;
    int rc = -1;
    if (fstat(fd, &st) != 0) {
        sl_error_errno(err, SL_E_IO, errno, "cannot stat %s", path);
        goto out;
    }
    if (sl_sha256_new(&h, err) != 0 || put_header(sink, name, (uint64_t)st.st_size, err) != 0)
        goto out;
    enum { CHUNK = 1 << 20 };
    buf = sl_malloc(CHUNK);
    uint64_t left = (uint64_t)st.st_size;
    while (left > 0) {
        ssize_t got = read(fd, buf, left < CHUNK ? (size_t)left : CHUNK);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            sl_error_errno(err, SL_E_IO, got < 0 ? errno : EIO, "cannot read %s", path);
            goto out;
        }
        sl_sha256_update(h, buf, (size_t)got);
        if (sl_sink_write(sink, buf, (size_t)got, err) != 0)
            goto out;
        left -= (uint64_t)got;
    }
    unsigned char digest[SL_SHA256_LEN];
    if (sl_sha256_final(h, digest, err) != 0 || put_padding(sink, (uint64_t)st.st_size, err) != 0)
        goto out;
    note_member(members, name, (uint64_t)st.st_size, digest);
    rc = 0;
out:
    free(buf);
    sl_sha256_free(h);
    close(fd);
    return rc;
}

int
sl_tarwrite_end(sl_sink *sink, sl_error *err)
{
    static const unsigned char zeros[2 * SL_TAR_BLOCK];
    return sl_sink_write(sink, zeros, sizeof zeros, err);
}
