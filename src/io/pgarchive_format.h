/* io/pgarchive_format.h (internal to io/): what io/pgarchive.c (the archive object, its TOC),
 * io/pgarchive_format.c (the byte layout) and io/pgarchive_data.c (data streams) share: the
 * archive object, a bounded reader of pg_dump's integers and strings, the readers of the
 * header and of one TOC entry. See io/pgarchive.h for the format.
 * The reader reads one file through pread() with a small buffer, knows the file's size, and
 * refuses to read past it: every length from the file is checked against what remains before
 * anything is allocated for it. Its errors name the file, the byte offset and what was being
 * read (r->what, which the caller keeps up to date: "the TOC entry 17's defn"). */
#ifndef SL_IO_PGARCHIVE_FORMAT_H
#define SL_IO_PGARCHIVE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "io/pgarchive.h"

/* pg_dump's archive version numbers: (major * 256 + minor) * 256 + rev. */
#define SL__PGAR_VERSION(maj, min, rev) (((maj) * 256 + (min)) * 256 + (rev))
#define SL__PGAR_V1_12 SL__PGAR_VERSION(1, 12, 0)
#define SL__PGAR_V1_14 SL__PGAR_VERSION(1, 14, 0)
#define SL__PGAR_V1_15 SL__PGAR_VERSION(1, 15, 0)
#define SL__PGAR_V1_16 SL__PGAR_VERSION(1, 16, 0)
#define SL__PGAR_V_MAX SL__PGAR_VERSION(1, 16, 255)

#define SL__PGAR_FMT_CUSTOM 1  /* the format byte of a custom archive */
#define SL__PGAR_FMT_TAR 3     /* ... and of a directory archive's toc.dat (shared with tar) */
#define SL__PGAR_BLK_DATA 1    /* custom data blocks: one entry's data */
#define SL__PGAR_BLK_BLOBS 3   /* ... large objects: (oid, data)* then oid 0 */
#define SL__PGAR_OFF_NOT_SET 1 /* custom TOC data offset flags */
#define SL__PGAR_OFF_SET 2
#define SL__PGAR_OFF_NO_DATA 3

typedef struct sl__pgar_reader {
    int fd;
    const char *file;  /* the file's path, for messages */
    uint64_t size;     /* the file's size */
    uint64_t pos;      /* offset of the next byte */
    int int_size;      /* bytes of an integer after its sign byte */
    unsigned char buf[8192];
    uint64_t buf_off;  /* file offset of buf[0] */
    size_t buf_len;
    char what[160];    /* what is being read: "the TOC entry 17's defn" */
} sl__pgar_reader;

typedef struct sl__pgar_id {
    int id;        /* a dump id */
    size_t index;  /* its entry */
} sl__pgar_id;

struct sl_pgarchive {
    char *path;       /* as given: the custom archive, or the directory */
    char *toc_path;   /* the file holding header and TOC (path, or path/toc.dat) */
    sl_pgarchive_format format;
    sl_pgarchive_comp comp;
    int version;      /* SL__PGAR_VERSION(...) */
    int int_size;
    int off_size;
    uint64_t size;    /* of toc_path */
    uint64_t data_start; /* custom: where the first data block may start (after the TOC) */
    char version_str[16];
    char created[96];
    char *dbname;
    char *server_version;
    char *dump_version;
    sl_pgarchive_entry *entries;
    size_t count;
    sl__pgar_id *by_id; /* sorted by dump id */
    size_t strings;   /* bytes of all TOC strings and deps (bounded by SL_PGARCHIVE_TOC_MAX) */
};

void sl__pgar_reader_init(sl__pgar_reader *r, int fd, const char *file, uint64_t size,
                          uint64_t pos, int int_size);
/* Sets r->what (printf-style). */
void sl__pgar_what(sl__pgar_reader *r, const char *fmt, ...) SL_PRINTF(2, 3);
/* SL_E_ARCHIVE "pg_dump archive "FILE": MESSAGE at byte AT (reading WHAT)". */
void sl__pgar_fail(const sl__pgar_reader *r, uint64_t at, sl_error *err, const char *fmt, ...)
    SL_PRINTF(4, 5);
SL_MUSTCHECK int sl__pgar_read(sl__pgar_reader *r, void *dst, size_t n, sl_error *err);
SL_MUSTCHECK int sl__pgar_skip(sl__pgar_reader *r, uint64_t n, sl_error *err);
SL_MUSTCHECK int sl__pgar_byte(sl__pgar_reader *r, int *out, sl_error *err);
/* pg_dump's ReadInt: a sign byte (0 or 1) and int_size bytes, least significant first; the
 * value must fit a 32-bit int (for a negative value, its magnitude may be 2^31). */
SL_MUSTCHECK int sl__pgar_int(sl__pgar_reader *r, int64_t *out, sl_error *err);
bool sl__pgar_at_end(const sl__pgar_reader *r);

/* The header (from its first byte): fills a's version, sizes, compression, creation time,
 * names; checks the format byte against a->format. */
SL_MUSTCHECK int sl__pgar_read_header(sl_pgarchive *a, sl__pgar_reader *r, sl_error *err);
/* TOC entry number i (from 0) into e, which the caller frees whatever the result. */
SL_MUSTCHECK int sl__pgar_read_entry(sl_pgarchive *a, sl__pgar_reader *r, sl_pgarchive_entry *e,
                                     size_t i, sl_error *err);

#endif
