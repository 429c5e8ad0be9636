/* io/archive.c: a cluster archive read back (archive.h). */
#include "io/archive.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"
#include "io/checksum.h"
#include "io/sink.h"
#include "io/tar.h"

struct sl_archive {
    char *path;
    int fd;
    uint64_t size;
    sl_tar_member *members;
    size_t nmembers;
    sl_manifest manifest;
};

bool
sl_archive_is_tar(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    unsigned char block[SL_TAR_BLOCK];
    bool yes = read(fd, block, sizeof block) == (ssize_t)sizeof block &&
               memcmp(block + 257, "ustar", 5) == 0;
    close(fd);
    return yes;
}

bool
sl_archive_find(const sl_archive *a, const char *name, uint64_t *off, uint64_t *size)
{
    for (size_t i = 0; i < a->nmembers; i++) {
        if (strcmp(a->members[i].name, name) == 0) {
            *off = a->members[i].data_off;
            *size = a->members[i].size;
            return true;
        }
    }
    return false;
}

static int
walk(sl_archive *a, sl_error *err)
{
    uint64_t off = 0;
    size_t cap = 0;
    for (;;) {
        sl_tar_member m;
        int rc = sl_tar_next(a->fd, a->size, a->path, &off, &m, err);
        if (rc <= 0)
            return rc;
        if (a->nmembers == SL_ARCHIVE_MAX_MEMBERS) {
            sl_error_set(err, SL_E_ARCHIVE, "%s: more than %d members", a->path,
                         SL_ARCHIVE_MAX_MEMBERS);
            return -1;
        }
        if (a->nmembers == cap) {
            cap = cap ? 2 * cap : 16;
            a->members = sl_realloc(a->members, cap * sizeof *a->members);
        }
        a->members[a->nmembers++] = m;
    }
}

static int
read_manifest(sl_archive *a, sl_error *err)
{
    uint64_t off = 0, size = 0;
    if (!sl_archive_find(a, "manifest.json", &off, &size)) {
        sl_error_set(err, SL_E_ARCHIVE, "%s has no manifest.json: not a complete sluice cluster "
                     "archive", a->path);
        return -1;
    }
    if (size > SL_MANIFEST_MAX) {
        sl_error_set(err, SL_E_ARCHIVE, "%s: manifest.json is larger than 4 MiB", a->path);
        return -1;
    }
    char *text = sl_malloc(size ? size : 1);
    int rc = sl_pread_all(a->fd, text, size, off, a->path, err);
    if (rc == 0)
        rc = sl_manifest_parse(text, size, &a->manifest, err);
    free(text);
    return rc;
}

/* The manifest and the tar must agree: same members, same sizes, a member for every database
 * that was backed up. */
static int
cross_check(sl_archive *a, sl_error *err)
{
    const sl_manifest *m = &a->manifest;
    for (size_t i = 0; i < m->nmembers; i++) {
        uint64_t off = 0, size = 0;
        if (!sl_archive_find(a, m->members[i].name, &off, &size) ||
            size != m->members[i].size) {
            sl_error_set(err, SL_E_ARCHIVE, "%s: member %s is %s", a->path, m->members[i].name,
                         size != m->members[i].size && off ? "not the size the manifest says"
                                                           : "missing");
            return -1;
        }
    }
    for (size_t i = 0; i < a->nmembers; i++) {
        if (strcmp(a->members[i].name, "manifest.json") != 0 &&
            !sl_manifest_member_find(m, a->members[i].name)) {
            sl_error_set(err, SL_E_ARCHIVE, "%s: member %s is not in the manifest", a->path,
                         a->members[i].name);
            return -1;
        }
    }
    for (size_t i = 0; i < m->ndatabases; i++) {
        if (m->databases[i].ok && !sl_manifest_member_find(m, m->databases[i].member)) {
            sl_error_set(err, SL_E_ARCHIVE, "%s: the backup of a database (%s) is missing",
                         a->path, m->databases[i].member);
            return -1;
        }
    }
    return 0;
}

int
sl_archive_open(sl_archive **out, const char *path, sl_error *err)
{
    sl_archive *a = sl_calloc(1, sizeof *a);
    a->path = sl_strdup(path);
    a->fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (a->fd < 0 || fstat(a->fd, &st) != 0) {
        sl_error_errno(err, SL_E_IO, errno, "could not open \"%s\"", path);
        goto fail;
    }
    a->size = (uint64_t)st.st_size;
    if (walk(a, err) != 0 || read_manifest(a, err) != 0 || cross_check(a, err) != 0)
        goto fail;
    *out = a;
    return 0;
fail:
    sl_archive_close(a);
    return -1;
}

void
sl_archive_close(sl_archive *a)
{
    if (!a)
        return;
    if (a->fd >= 0)
        close(a->fd);
    sl_manifest_free(&a->manifest);
    free(a->members);
    free(a->path);
    free(a);
}

const sl_manifest *
sl_archive_manifest(const sl_archive *a)
{
    return &a->manifest;
}

int
sl_archive_pread(const sl_archive *a, void *buf, size_t n, uint64_t off, sl_error *err)
{
    return sl_pread_all(a->fd, buf, n, off, a->path, err);
}

const char *
sl_archive_path(const sl_archive *a)
{
    return a->path;
}
