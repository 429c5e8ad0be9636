/* io/pgarchive.c: pg_dump's archives: open (the header and the table of contents, whose bytes
 * io/pgarchive_format.c reads), the index by dump id, and for a custom archive written to a
 * pipe the one scan of its data blocks that finds where each starts. The data streams are in
 * io/pgarchive_data.c.
 * Everything read comes from a file that may be damaged or hostile, so each length is checked
 * against what remains of the file before anything is allocated for it, the strings of the
 * TOC together are bounded by SL_PGARCHIVE_TOC_MAX, and the entry count by the bytes an entry
 * needs at the least. After open the archive is read-only: threads share it. */
#include "io/pgarchive.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"
#include "io/pgarchive_format.h"

static void
entry_free(sl_pgarchive_entry *e)
{
    free(e->tag);
    free(e->desc);
    free(e->defn);
    free(e->drop_stmt);
    free(e->copy_stmt);
    free(e->namespace_);
    free(e->tablespace);
    free(e->tableam);
    free(e->owner);
    free(e->deps);
    free(e->data_file);
}

static int
cmp_by_id(const void *x, const void *y)
{
    int a = ((const sl__pgar_id *)x)->id;
    int b = ((const sl__pgar_id *)y)->id;
    return (a > b) - (a < b);
}

const sl_pgarchive_entry *
sl_pgarchive_find(const sl_pgarchive *a, int dump_id)
{
    size_t lo = 0, hi = a->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a->by_id[mid].id == dump_id)
            return &a->entries[a->by_id[mid].index];
        if (a->by_id[mid].id < dump_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Dump ids are unique; a dependency on a dump id the archive does not hold (pg_dump -t
 * records dependencies on objects it left out) is dropped, as pg_restore ignores it, so
 * that every id left in deps names an entry. */
static int
index_entries(sl_pgarchive *a, sl__pgar_reader *r, sl_error *err)
{
    a->by_id = sl_malloc((a->count ? a->count : 1) * sizeof *a->by_id);
    for (size_t i = 0; i < a->count; i++)
        a->by_id[i] = (sl__pgar_id){a->entries[i].dump_id, i};
    qsort(a->by_id, a->count, sizeof *a->by_id, cmp_by_id);
    r->what[0] = '\0';
    for (size_t i = 1; i < a->count; i++) {
        if (a->by_id[i].id == a->by_id[i - 1].id) {
            sl__pgar_fail(r, r->pos, err, "the TOC holds dump id %d twice", a->by_id[i].id);
            return -1;
        }
    }
    for (size_t i = 0; i < a->count; i++) {
        sl_pgarchive_entry *e = &a->entries[i];
        size_t kept = 0;
        for (size_t k = 0; k < e->ndeps; k++) {
            if (sl_pgarchive_find(a, e->deps[k]))
                e->deps[kept++] = e->deps[k];
        }
        e->ndeps = kept;
    }
    return 0;
}

static int
read_toc(sl_pgarchive *a, sl__pgar_reader *r, sl_error *err)
{
    int64_t n;
    uint64_t at = r->pos;
    sl__pgar_what(r, "the TOC's entry count");
    if (sl__pgar_int(r, &n, err) != 0)
        return -1;
    /* An entry takes at least its integers and the strings pg_dump always writes: bounded by
     * what remains of the file before the array is allocated. */
    uint64_t least = 14 * (1 + (uint64_t)a->int_size);
    if (n < 0 || (uint64_t)n > (r->size - r->pos) / least) {
        sl__pgar_fail(r, at, err, "entry count %lld does not fit in the %llu bytes left",
                      (long long)n, (unsigned long long)(r->size - r->pos));
        return -1;
    }
    a->entries = sl_calloc(n ? (size_t)n : 1, sizeof *a->entries);
    for (size_t i = 0; i < (size_t)n; i++) {
        a->count = i + 1;  /* so that close frees what the failed entry holds */
        if (sl__pgar_read_entry(a, r, &a->entries[i], i, err) != 0)
            return -1;
    }
    a->count = (size_t)n;
    a->data_start = r->pos;
    return index_entries(a, r, err);
}

/* ---- custom archives written to a pipe: one scan for the data blocks ---- */

static int
skip_chunks(sl__pgar_reader *r, sl_error *err)
{
    for (;;) {
        int64_t len;
        uint64_t at = r->pos;
        if (sl__pgar_int(r, &len, err) != 0)
            return -1;
        if (len == 0)
            return 0;
        if (len < 0) {
            sl__pgar_fail(r, at, err, "chunk length %lld is negative", (long long)len);
            return -1;
        }
        if (sl__pgar_skip(r, (uint64_t)len, err) != 0)
            return -1;
    }
}

static int
skip_block(sl__pgar_reader *r, int type, sl_error *err)
{
    if (type == SL__PGAR_BLK_DATA)
        return skip_chunks(r, err);
    for (;;) {  /* BLOBS: (oid, chunks)* then oid 0 */
        int64_t oid;
        if (sl__pgar_int(r, &oid, err) != 0)
            return -1;
        if (oid == 0)
            return 0;
        if (skip_chunks(r, err) != 0)
            return -1;
    }
}

static int
scan_blocks(sl_pgarchive *a, sl__pgar_reader *r, sl_error *err)
{
    while (!sl__pgar_at_end(r)) {
        uint64_t at = r->pos;
        int type;
        int64_t id;
        sl__pgar_what(r, "the data block header at byte %llu", (unsigned long long)at);
        if (sl__pgar_byte(r, &type, err) != 0 || sl__pgar_int(r, &id, err) != 0)
            return -1;
        if (type != SL__PGAR_BLK_DATA && type != SL__PGAR_BLK_BLOBS) {
            sl__pgar_fail(r, at, err, "unknown data block type %d", type);
            return -1;
        }
        sl_pgarchive_entry *e = (sl_pgarchive_entry *)sl_pgarchive_find(a, (int)id);
        if (!e || !e->has_data) {
            sl__pgar_fail(r, at, err, "data block of dump id %lld, which has no data in the TOC",
                          (long long)id);
            return -1;
        }
        if (e->data_offset == 0)
            e->data_offset = at;
        sl__pgar_what(r, "the data of TOC entry %d", e->dump_id);
        if (skip_block(r, type, err) != 0)
            return -1;
    }
    return 0;
}

/* Offsets the TOC gives must point into the data part; without them (a pipe), the scan. */
static int
locate_data(sl_pgarchive *a, sl__pgar_reader *r, sl_error *err)
{
    bool scan = false;
    for (size_t i = 0; i < a->count; i++) {
        sl_pgarchive_entry *e = &a->entries[i];
        if (e->data_offset && (e->data_offset < a->data_start || e->data_offset >= a->size)) {
            r->what[0] = '\0';
            sl__pgar_fail(r, a->data_start, err,
                          "TOC entry %d's data offset %llu is outside the data (bytes %llu "
                          "to %llu)", e->dump_id, (unsigned long long)e->data_offset,
                          (unsigned long long)a->data_start, (unsigned long long)a->size);
            return -1;
        }
        if (e->has_data && !e->data_offset)
            scan = true;
    }
    return scan ? scan_blocks(a, r, err) : 0;
}

/* ---- open, close, accessors ---- */

static int
open_file(const char *path, int *fd, uint64_t *size, sl_error *err)
{
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (*fd < 0 || fstat(*fd, &st) != 0) {
        sl_error_errno(err, SL_E_IO, errno, "could not open \"%s\"", path);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        sl_error_set(err, SL_E_IO, "\"%s\" is not a regular file", path);
        return -1;
    }
    *size = (uint64_t)st.st_size;
    return 0;
}

int
sl_pgarchive_open(sl_pgarchive **out, const char *path, sl_error *err)
{
    sl_pgarchive *a = sl_calloc(1, sizeof *a);
    a->path = sl_strdup(path);
    struct stat st;
    int fd = -1;
    int rc = -1;
    if (stat(path, &st) != 0) {
        sl_error_errno(err, SL_E_IO, errno, "could not open \"%s\"", path);
        goto done;
    }
    a->format = S_ISDIR(st.st_mode) ? SL_PGARCHIVE_DIRECTORY : SL_PGARCHIVE_CUSTOM;
    a->toc_path = a->format == SL_PGARCHIVE_DIRECTORY ? sl_asprintf("%s/toc.dat", path)
                                                      : sl_strdup(path);
    if (open_file(a->toc_path, &fd, &a->size, err) != 0)
        goto done;
    sl__pgar_reader *r = sl_malloc(sizeof *r);
    sl__pgar_reader_init(r, fd, a->toc_path, a->size, 0, 1);
    if (sl__pgar_read_header(a, r, err) == 0 && read_toc(a, r, err) == 0 &&
        (a->format == SL_PGARCHIVE_DIRECTORY || locate_data(a, r, err) == 0))
        rc = 0;
    free(r);
done:
    if (fd >= 0)
        close(fd);
    if (rc == 0) {
        *out = a;
        return 0;
    }
    sl_pgarchive_close(a);
    return -1;
}

void
sl_pgarchive_close(sl_pgarchive *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->count; i++)
        entry_free(&a->entries[i]);
    free(a->entries);
    free(a->by_id);
    free(a->dbname);
    free(a->server_version);
    free(a->dump_version);
    free(a->toc_path);
    free(a->path);
    free(a);
}

static bool
starts_with_magic(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st;
    char magic[5];
    bool yes = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
               pread(fd, magic, 5, 0) == 5 && memcmp(magic, "PGDMP", 5) == 0;
    close(fd);
    return yes;
}

bool
sl_pgarchive_detect(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return false;
    if (!S_ISDIR(st.st_mode))
        return starts_with_magic(path);
    char *toc = sl_asprintf("%s/toc.dat", path);
    bool yes = starts_with_magic(toc);
    free(toc);
    return yes;
}

sl_pgarchive_format
sl_pgarchive_format_of(const sl_pgarchive *a)
{
    return a->format;
}

sl_pgarchive_comp
sl_pgarchive_compression(const sl_pgarchive *a)
{
    return a->comp;
}

const char *
sl_pgarchive_version(const sl_pgarchive *a)
{
    return a->version_str;
}

const char *
sl_pgarchive_dbname(const sl_pgarchive *a)
{
    return a->dbname;
}

const char *
sl_pgarchive_server_version(const sl_pgarchive *a)
{
    return a->server_version;
}

const char *
sl_pgarchive_dump_version(const sl_pgarchive *a)
{
    return a->dump_version;
}

const char *
sl_pgarchive_created(const sl_pgarchive *a)
{
    return a->created;
}

size_t
sl_pgarchive_count(const sl_pgarchive *a)
{
    return a->count;
}

const sl_pgarchive_entry *
sl_pgarchive_at(const sl_pgarchive *a, size_t i)
{
    return i < a->count ? &a->entries[i] : NULL;
}
