/* io/pgarchive_format.c: the byte layout of pg_dump's archives: the bounded reader of its
 * integers and strings, the header and one TOC entry (pg_backup_archiver.c's ReadHead,
 * ReadToc, ReadInt, ReadStr, ReadOffset; pg_backup_custom.c's and pg_backup_directory.c's
 * _ReadExtraToc). Every length is checked against what remains of the file, and the strings
 * of a TOC together against SL_PGARCHIVE_TOC_MAX, before anything is allocated for them. */
#include "io/pgarchive_format.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"

/* ---- the bounded reader ---- */

void
sl__pgar_reader_init(sl__pgar_reader *r, int fd, const char *file, uint64_t size, uint64_t pos,
                     int int_size)
{
    r->fd = fd;
    r->file = file;
    r->size = size;
    r->pos = pos;
    r->int_size = int_size;
    r->buf_off = 0;
    r->buf_len = 0;
    r->what[0] = '\0';
}

void
sl__pgar_what(sl__pgar_reader *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->what, sizeof r->what, fmt, ap);
    va_end(ap);
}

void
sl__pgar_fail(const sl__pgar_reader *r, uint64_t at, sl_error *err, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sl_error_set(err, SL_E_ARCHIVE, "pg_dump archive \"%s\": %s at byte %llu%s%s%s", r->file,
                 msg, (unsigned long long)at, r->what[0] ? " (reading " : "", r->what,
                 r->what[0] ? ")" : "");
}

static int
pread_full(sl__pgar_reader *r, void *dst, size_t n, uint64_t off, sl_error *err)
{
    char *p = dst;
    while (n) {
        ssize_t got = pread(r->fd, p, n, (off_t)off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            sl_error_errno(err, SL_E_IO, errno, "could not read \"%s\" at byte %llu", r->file,
                           (unsigned long long)off);
            return -1;
        }
        if (got == 0) {  /* the file shrank since we measured it */
            sl__pgar_fail(r, off, err, "truncated");
            return -1;
        }
        p += got;
        n -= (size_t)got;
        off += (uint64_t)got;
    }
    return 0;
}

int
sl__pgar_read(sl__pgar_reader *r, void *dst, size_t n, sl_error *err)
{
    if (n > r->size - r->pos) {
        sl__pgar_fail(r, r->size, err, "truncated");
        return -1;
    }
    unsigned char *p = dst;
    while (n) {
        if (r->pos >= r->buf_off && r->pos < r->buf_off + r->buf_len) {
            size_t at = (size_t)(r->pos - r->buf_off);
            size_t k = r->buf_len - at < n ? r->buf_len - at : n;
            memcpy(p, r->buf + at, k);
            p += k;
            n -= k;
            r->pos += k;
        } else if (n >= sizeof r->buf) {  /* large reads bypass the buffer */
            if (pread_full(r, p, n, r->pos, err) != 0)
                return -1;
            r->pos += n;
            n = 0;
        } else {
            uint64_t left = r->size - r->pos;
            size_t k = left < sizeof r->buf ? (size_t)left : sizeof r->buf;
            if (pread_full(r, r->buf, k, r->pos, err) != 0)
                return -1;
            r->buf_off = r->pos;
            r->buf_len = k;
        }
    }
    return 0;
}

int
sl__pgar_skip(sl__pgar_reader *r, uint64_t n, sl_error *err)
{
    if (n > r->size - r->pos) {
        sl__pgar_fail(r, r->size, err, "truncated");
        return -1;
    }
    r->pos += n;
    return 0;
}

int
sl__pgar_byte(sl__pgar_reader *r, int *out, sl_error *err)
{
    unsigned char b;
    if (sl__pgar_read(r, &b, 1, err) != 0)
        return -1;
    *out = b;
    return 0;
}

int
sl__pgar_int(sl__pgar_reader *r, int64_t *out, sl_error *err)
{
    uint64_t at = r->pos;
    unsigned char b[9];
    if (sl__pgar_read(r, b, 1 + (size_t)r->int_size, err) != 0)
        return -1;
    if (b[0] > 1) {
        sl__pgar_fail(r, at, err, "sign byte %d of an integer is not 0 or 1", b[0]);
        return -1;
    }
    uint64_t v = 0;
    for (int i = r->int_size; i >= 1; i--)
        v = (v << 8) | b[i];
    if (v > (b[0] ? (uint64_t)1 << 31 : (uint64_t)INT32_MAX)) {
        sl__pgar_fail(r, at, err, "integer out of range");
        return -1;
    }
    *out = b[0] ? -(int64_t)v : (int64_t)v;
    return 0;
}

bool
sl__pgar_at_end(const sl__pgar_reader *r)
{
    return r->pos >= r->size;
}

/* ---- header and TOC ---- */

/* A string of the TOC: NULL for length -1; the length is checked against what remains of the
 * file and against the archive's budget for all strings before the allocation. */
static int
read_str(sl_pgarchive *a, sl__pgar_reader *r, char **out, sl_error *err)
{
    uint64_t at = r->pos;
    int64_t len;
    *out = NULL;
    if (sl__pgar_int(r, &len, err) != 0)
        return -1;
    if (len == -1)
        return 0;
    if (len < 0) {
        sl__pgar_fail(r, at, err, "string length %lld is negative", (long long)len);
        return -1;
    }
    if ((uint64_t)len > r->size - r->pos) {
        size_t used = strlen(r->what);
        snprintf(r->what + used, sizeof r->what - used, ", %lld bytes from byte %llu",
                 (long long)len, (unsigned long long)at);
        sl__pgar_fail(r, r->size, err, "truncated");
        return -1;
    }
    if ((size_t)len + 1 > SL_PGARCHIVE_TOC_MAX - a->strings) {
        sl__pgar_fail(r, at, err, "the TOC's strings exceed %zu bytes", SL_PGARCHIVE_TOC_MAX);
        return -1;
    }
    a->strings += (size_t)len + 1;
    char *s = sl_malloc((size_t)len + 1);
    if (sl__pgar_read(r, s, (size_t)len, err) != 0) {
        free(s);
        return -1;
    }
    s[len] = '\0';
    *out = s;
    return 0;
}

static int
read_int32(sl__pgar_reader *r, int *out, sl_error *err)
{
    int64_t v;
    if (sl__pgar_int(r, &v, err) != 0)
        return -1;
    if (v < INT32_MIN || v > INT32_MAX) {
        sl__pgar_fail(r, r->pos, err, "integer out of range");
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* Unsigned decimal digits only (pg_dump writes oids and dump ids with %u / %d). */
static bool
parse_u32(const char *s, uint32_t *out)
{
    if (!s || !*s)
        return false;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > UINT32_MAX)
            return false;
    }
    *out = (uint32_t)v;
    return true;
}

static int
read_oid(sl_pgarchive *a, sl__pgar_reader *r, uint32_t *out, sl_error *err)
{
    uint64_t at = r->pos;
    char *s = NULL;
    if (read_str(a, r, &s, err) != 0)
        return -1;
    bool ok = parse_u32(s, out);
    free(s);
    if (!ok) {
        sl__pgar_fail(r, at, err, "not an oid");
        return -1;
    }
    return 0;
}

static int
read_version(sl_pgarchive *a, sl__pgar_reader *r, sl_error *err)
{
    unsigned char v[3];
    sl__pgar_what(r, "the header's version");
    if (sl__pgar_read(r, v, 3, err) != 0)
        return -1;
    a->version = SL__PGAR_VERSION(v[0], v[1], v[2]);
    snprintf(a->version_str, sizeof a->version_str, "%d.%d.%d", v[0], v[1], v[2]);
    if (a->version > SL__PGAR_V_MAX) {
        sl_error_set(err, SL_E_ARCHIVE,
                     "pg_dump archive \"%s\": archive version %d.%d is newer than sluice "
                     "reads (up to 1.16, pg_dump 17)", r->file, v[0], v[1]);
        return -1;
    }
    if (a->version < SL__PGAR_V1_12) {
        sl_error_set(err, SL_E_ARCHIVE,
                     "pg_dump archive \"%s\": archive version %d.%d is older than sluice "
                     "reads (1.12 and later, pg_dump 9.6 and later)", r->file, v[0], v[1]);
        return -1;
    }
    return 0;
}

static int
read_sizes_and_format(sl_pgarchive *a, sl__pgar_reader *r, sl_error *err)
{
    int b;
    sl__pgar_what(r, "the header's integer size");
    if (sl__pgar_byte(r, &b, err) != 0)
        return -1;
    if (b < 1 || b > 8) {
        sl__pgar_fail(r, r->pos - 1, err, "integer size %d is not 1 to 8", b);
        return -1;
    }
    a->int_size = r->int_size = b;
    sl__pgar_what(r, "the header's offset size");
    if (sl__pgar_byte(r, &b, err) != 0)
        return -1;
    if (b < 1 || b > 8) {
        sl__pgar_fail(r, r->pos - 1, err, "offset size %d is not 1 to 8", b);
        return -1;
    }
    a->off_size = b;
    sl__pgar_what(r, "the header's format");
    if (sl__pgar_byte(r, &b, err) != 0)
        return -1;
    int want = a->format == SL_PGARCHIVE_CUSTOM ? SL__PGAR_FMT_CUSTOM : SL__PGAR_FMT_TAR;
    if (b != want) {
        sl__pgar_fail(r, r->pos - 1, err, "format %d where %d was expected (%s)", b, want,
                      a->format == SL_PGARCHIVE_CUSTOM ? "custom" : "directory");
        return -1;
    }
    return 0;
}

static int
read_compression(sl_pgarchive *a, sl__pgar_reader *r, sl_error *err)
{
    uint64_t at = r->pos;
    sl__pgar_what(r, "the header's compression");
    if (a->version >= SL__PGAR_V1_15) {  /* pg_compress_algorithm: none, gzip, lz4, zstd */
        int b;
        if (sl__pgar_byte(r, &b, err) != 0)
            return -1;
        if (b > 3) {
            sl__pgar_fail(r, at, err, "unknown compression algorithm %d", b);
            return -1;
        }
        a->comp = (sl_pgarchive_comp)b;
        return 0;
    }
    int level;  /* before 1.15 a zlib level: 0 none, -1 (default) or 1..9 gzip */
    if (read_int32(r, &level, err) != 0)
        return -1;
    if (level < -1 || level > 9) {
        sl__pgar_fail(r, at, err, "compression level %d is not -1 to 9", level);
        return -1;
    }
    a->comp = level == 0 ? SL_PGARCHIVE_COMP_NONE : SL_PGARCHIVE_COMP_GZIP;
    return 0;
}

static int
read_created(sl_pgarchive *a, sl__pgar_reader *r, sl_error *err)
{
    static const char *const names[] = {"second", "minute", "hour", "day", "month", "year",
                                        "dst flag"};
    int t[7];
    for (int i = 0; i < 7; i++) {
        sl__pgar_what(r, "the header's creation %s", names[i]);
        if (read_int32(r, &t[i], err) != 0)
            return -1;
    }
    /* fields of any value (a damaged header) are printed, never overflowed */
    snprintf(a->created, sizeof a->created, "%04lld-%02lld-%02d %02d:%02d:%02d",
             (long long)t[5] + 1900, (long long)t[4] + 1, t[3], t[2], t[1], t[0]);
    return 0;
}

int
sl__pgar_read_header(sl_pgarchive *a, sl__pgar_reader *r, sl_error *err)
{
    char magic[5];
    sl__pgar_what(r, "the header's magic");
    if (sl__pgar_read(r, magic, 5, err) != 0)
        return -1;
    if (memcmp(magic, "PGDMP", 5) != 0) {
        sl__pgar_fail(r, 0, err, "not a pg_dump archive (no \"PGDMP\")");
        return -1;
    }
    if (read_version(a, r, err) != 0 || read_sizes_and_format(a, r, err) != 0 ||
        read_compression(a, r, err) != 0 || read_created(a, r, err) != 0)
        return -1;
    sl__pgar_what(r, "the header's database name");
    if (read_str(a, r, &a->dbname, err) != 0)
        return -1;
    sl__pgar_what(r, "the header's server version");
    if (read_str(a, r, &a->server_version, err) != 0)
        return -1;
    sl__pgar_what(r, "the header's pg_dump version");
    return read_str(a, r, &a->dump_version, err);
}

/* The section of an entry is in the TOC since 1.11; every version read here has it. */
static int
read_section(sl__pgar_reader *r, sl_pgarchive_entry *e, sl_error *err)
{
    uint64_t at = r->pos;
    if (read_int32(r, &e->section, err) != 0)
        return -1;
    if (e->section < SL_PGARCHIVE_SECTION_NONE || e->section > SL_PGARCHIVE_SECTION_POST_DATA) {
        sl__pgar_fail(r, at, err, "section %d is not 1 to 4", e->section);
        return -1;
    }
    return 0;
}

/* Dependencies: dump ids as decimal strings, ended by a NULL string. Each costs at least
 * 1 + int_size bytes of the file, so the list is bounded by the file's size; its memory is
 * counted in the strings' budget too. */
static int
read_deps(sl_pgarchive *a, sl__pgar_reader *r, sl_pgarchive_entry *e, sl_error *err)
{
    size_t cap = 0;
    for (;;) {
        uint64_t at = r->pos;
        char *s = NULL;
        if (read_str(a, r, &s, err) != 0)
            return -1;
        if (!s)
            return 0;
        uint32_t id;
        bool ok = parse_u32(s, &id) && id > 0 && id <= INT32_MAX;
        free(s);
        if (!ok) {
            sl__pgar_fail(r, at, err, "not a dump id");
            return -1;
        }
        if (sizeof(int) > SL_PGARCHIVE_TOC_MAX - a->strings) {
            sl__pgar_fail(r, at, err, "the TOC's strings exceed %zu bytes", SL_PGARCHIVE_TOC_MAX);
            return -1;
        }
        a->strings += sizeof(int);
        if (e->ndeps == cap) {
            cap = cap ? cap * 2 : 8;
            e->deps = sl_realloc(e->deps, cap * sizeof *e->deps);
        }
        e->deps[e->ndeps++] = (int)id;
    }
}

/* A data file's name inside a directory archive: a plain name, never a path. */
static bool
plain_file_name(const char *s)
{
    return s[0] && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 && !strchr(s, '/');
}

static int
read_extra(sl_pgarchive *a, sl__pgar_reader *r, sl_pgarchive_entry *e, sl_error *err)
{
    uint64_t at = r->pos;
    if (a->format == SL_PGARCHIVE_DIRECTORY) {
        sl__pgar_what(r, "the TOC entry %d's data file name", e->dump_id);
        if (read_str(a, r, &e->data_file, err) != 0)
            return -1;
        if (e->data_file && !e->data_file[0]) {
            free(e->data_file);
            e->data_file = NULL;
        }
        if (e->data_file && !plain_file_name(e->data_file)) {
            sl__pgar_fail(r, at, err, "data file name is not a plain file name");
            return -1;
        }
        return 0;
    }
    sl__pgar_what(r, "the TOC entry %d's data offset", e->dump_id);
    unsigned char b[9];
    if (sl__pgar_read(r, b, 1 + (size_t)a->off_size, err) != 0)
        return -1;
    if (b[0] != SL__PGAR_OFF_NOT_SET && b[0] != SL__PGAR_OFF_SET && b[0] != SL__PGAR_OFF_NO_DATA) {
        sl__pgar_fail(r, at, err, "unknown data offset flag %d", b[0]);
        return -1;
    }
    uint64_t off = 0;
    for (int i = a->off_size; i >= 1; i--)
        off = (off << 8) | b[i];
    e->data_offset = b[0] == SL__PGAR_OFF_SET ? off : 0;
    if (b[0] == SL__PGAR_OFF_SET && off == 0) {
        sl__pgar_fail(r, at, err, "data offset 0");
        return -1;
    }
    return 0;
}

/* The entry's fields in pg_dump's order (ReadToc); versions before 1.12 are refused at the
 * header, so only 1.14's tableam and 1.16's relkind depend on the version. */
int
sl__pgar_read_entry(sl_pgarchive *a, sl__pgar_reader *r, sl_pgarchive_entry *e, size_t i,
                    sl_error *err)
{
    int had_dumper;
    sl__pgar_what(r, "the TOC entry %zu's dump id", i + 1);
    uint64_t at = r->pos;
    if (read_int32(r, &e->dump_id, err) != 0)
        return -1;
    if (e->dump_id <= 0) {
        sl__pgar_fail(r, at, err, "dump id %d is not positive", e->dump_id);
        return -1;
    }
    int id = e->dump_id;
#define FIELD(name, call)                                                                    \
    do {                                                                                     \
        sl__pgar_what(r, "the TOC entry %d's " name, id);                                    \
        if ((call) != 0)                                                                     \
            return -1;                                                                       \
    } while (0)
    FIELD("data flag", read_int32(r, &had_dumper, err));
    e->has_data = had_dumper != 0;
    FIELD("table oid", read_oid(a, r, &e->table_oid, err));
    FIELD("oid", read_oid(a, r, &e->oid, err));
    FIELD("tag", read_str(a, r, &e->tag, err));
    FIELD("desc", read_str(a, r, &e->desc, err));
    FIELD("section", read_section(r, e, err));
    FIELD("defn", read_str(a, r, &e->defn, err));
    FIELD("drop statement", read_str(a, r, &e->drop_stmt, err));
    FIELD("copy statement", read_str(a, r, &e->copy_stmt, err));
    FIELD("schema", read_str(a, r, &e->namespace_, err));
    FIELD("tablespace", read_str(a, r, &e->tablespace, err));
    if (a->version >= SL__PGAR_V1_14)
        FIELD("table access method", read_str(a, r, &e->tableam, err));
    if (a->version >= SL__PGAR_V1_16) {
        int relkind;
        FIELD("relkind", read_int32(r, &relkind, err));
        e->relkind = (char)relkind;
    }
    FIELD("owner", read_str(a, r, &e->owner, err));
    char *with_oids = NULL;  /* "false"; tables WITH OIDS are gone since PostgreSQL 12 */
    FIELD("with-oids flag", read_str(a, r, &with_oids, err));
    free(with_oids);
    FIELD("dependencies", read_deps(a, r, e, err));
#undef FIELD
    if (!e->desc || !e->tag) {
        sl__pgar_fail(r, at, err, "TOC entry %d has no %s", id, e->desc ? "tag" : "desc");
        return -1;
    }
    return read_extra(a, r, e, err);
}

