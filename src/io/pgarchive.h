/* io/pgarchive.h: pg_dump's custom (-Fc) and directory (-Fd) archives, read natively.
 * The archive's own format (pg_dump's pg_backup_archiver.c, _custom.c, _directory.c): a header
 * ("PGDMP", version major.minor.rev, int and offset widths, format, compression, creation
 * time, database name, server and pg_dump versions), then the table of contents: one entry per
 * object with its dump id, tag, description ("TABLE", "INDEX", "TABLE DATA", "BLOBS", ...),
 * section, the SQL that creates it (defn), the COPY statement of its data, its schema, owner,
 * tablespace, table access method and the dump ids it depends on. A custom archive holds the
 * TOC and every entry's data in one file (data blocks: a type byte, the dump id, then chunks of
 * a length and bytes, a zero length ending the block; the TOC gives each block's offset unless
 * pg_dump wrote to a pipe); a directory archive holds toc.dat with the same header and TOC,
 * and each entry's data in its own file (NNNN.dat, compressed: NNNN.dat.gz / .lz4 / .zst;
 * large objects: blobs.toc or blobs_NNNN.toc listing "OID blob_OID.dat" lines).
 * Archive versions 1.12 to 1.16 are read (pg_dump 9.6 to 17; 1.14 is PostgreSQL 12-15, 1.15
 * adds the compression algorithm to the header (16), 1.16 the relkind to each entry and large
 * objects in several BLOBS entries (17)). Compression: none, gzip (zlib streams), lz4 (frames)
 * and zstd (streams), whichever the header names.
 *
 * Calling order: sl_pgarchive_open() -> sl_pgarchive_at()* and
 *   { sl_pgarchive_data_open() -> sl_pgarchive_data_read()* | _blob_next()... -> _data_close() }*
 *   -> sl_pgarchive_close().
 * Open reads the header and the whole TOC and checks them (known version and format, integer
 * widths 1..8 bytes, string lengths within the file and within SL_PGARCHIVE_TOC_MAX bytes for
 * all strings together, dependency ids that exist: a dependency on a dump id the archive does
 * not hold, which pg_dump writes for objects it left out, is dropped from deps, as pg_restore
 * ignores it); for a custom archive whose TOC lacks data offsets (pg_dump to a pipe) it scans
 * the data blocks once, skipping their chunks by length, to learn where each entry's data
 * starts. It reads no data.
 * Data: each open data stream has its own file descriptor (threads read entries in parallel)
 * and hands out decompressed bytes in chunks of at most SL_PGARCHIVE_CHUNK bytes; memory is
 * bounded by the stream's buffers whatever the data's size. A BLOBS entry's data is a sequence
 * of large objects: _blob_next() gives the next one's OID (0: no more) and then _data_read()
 * gives that object's bytes until it returns 0.
 * Ownership: the archive owns its entries (read-only after open; may be shared between
 * threads); a data stream belongs to one thread and must be closed before the archive.
 * Errors: SL_E_ARCHIVE for anything wrong with the archive, naming the file and the byte
 *   offset (in toc.dat or the data file for a directory archive); a version newer than 1.16 is
 *   SL_E_ARCHIVE saying which version and that sluice reads up to 1.16; SL_E_IO for the file
 *   system. -1/0; _data_read() and _blob_next() return 1 (a chunk / a blob), 0 (end), -1. */
#ifndef SL_IO_PGARCHIVE_H
#define SL_IO_PGARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define SL_PGARCHIVE_TOC_MAX ((size_t)1 << 30)  /* bytes of all TOC strings together */
#define SL_PGARCHIVE_CHUNK ((size_t)1 << 16)

typedef enum {
    SL_PGARCHIVE_CUSTOM,     /* pg_dump -Fc: one file */
    SL_PGARCHIVE_DIRECTORY,  /* pg_dump -Fd: a directory with toc.dat */
} sl_pgarchive_format;

typedef enum {
    SL_PGARCHIVE_COMP_NONE,
    SL_PGARCHIVE_COMP_GZIP,
    SL_PGARCHIVE_COMP_LZ4,
    SL_PGARCHIVE_COMP_ZSTD,
} sl_pgarchive_comp;

typedef enum {
    SL_PGARCHIVE_SECTION_NONE = 1,  /* pg_dump's values (SECTION_NONE ... SECTION_POST_DATA) */
    SL_PGARCHIVE_SECTION_PRE_DATA,
    SL_PGARCHIVE_SECTION_DATA,
    SL_PGARCHIVE_SECTION_POST_DATA,
} sl_pgarchive_section;

/* One TOC entry. Strings are NUL-terminated; NULL when the archive holds no value (pg_dump
 * writes a NULL string as length -1) or the version predates the field. */
typedef struct sl_pgarchive_entry {
    int dump_id;
    bool has_data;         /* hadDumper: the entry has a data block / data file */
    uint32_t table_oid;    /* catalog of the object (0 when none) */
    uint32_t oid;          /* the object's oid (0 when none) */
    char *tag;             /* the object's name, as pg_restore -l prints it */
    char *desc;            /* "TABLE", "TABLE DATA", "INDEX", "BLOBS", "ACL", ... */
    int section;           /* sl_pgarchive_section; derived from desc before 1.11 */
    char *defn;            /* SQL creating the object (may be "" or NULL) */
    char *drop_stmt;
    char *copy_stmt;       /* "COPY s.t (a, b) FROM stdin;\n" for TABLE DATA */
    char *namespace_;      /* schema */
    char *tablespace;
    char *tableam;
    char *owner;
    char relkind;          /* 1.16 and later; 0 before */
    int *deps;             /* dump ids this entry depends on */
    size_t ndeps;
    /* where the data is: custom: offset of its block in the file (0: none); directory: the
     * data file's name inside the directory (NULL: none). */
    uint64_t data_offset;
    char *data_file;
} sl_pgarchive_entry;

typedef struct sl_pgarchive sl_pgarchive;
typedef struct sl_pgarchive_data sl_pgarchive_data;

/* Is path a pg_dump custom archive (a file starting with "PGDMP") or a directory holding a
 * toc.dat that does? Reads at most the first bytes; false for anything else, also when the
 * path cannot be read. */
bool sl_pgarchive_detect(const char *path);

SL_MUSTCHECK int sl_pgarchive_open(sl_pgarchive **out, const char *path, sl_error *err);
void sl_pgarchive_close(sl_pgarchive *a);

sl_pgarchive_format sl_pgarchive_format_of(const sl_pgarchive *a);
sl_pgarchive_comp sl_pgarchive_compression(const sl_pgarchive *a);
/* "1.14.0" */
const char *sl_pgarchive_version(const sl_pgarchive *a);
/* Header fields; NULL when absent. created is "YYYY-MM-DD HH:MM:SS" as the header gives it
 * (pg_dump's local time). */
const char *sl_pgarchive_dbname(const sl_pgarchive *a);
const char *sl_pgarchive_server_version(const sl_pgarchive *a);
const char *sl_pgarchive_dump_version(const sl_pgarchive *a);
const char *sl_pgarchive_created(const sl_pgarchive *a);

size_t sl_pgarchive_count(const sl_pgarchive *a);
/* Entries in TOC order (the order pg_restore -l prints), one array:
 * sl_pgarchive_at(a, i) == sl_pgarchive_at(a, 0) + i. */
const sl_pgarchive_entry *sl_pgarchive_at(const sl_pgarchive *a, size_t i);
/* The entry with that dump id, or NULL. */
const sl_pgarchive_entry *sl_pgarchive_find(const sl_pgarchive *a, int dump_id);

/* Opens e's data (e->has_data must be true). */
SL_MUSTCHECK int sl_pgarchive_data_open(sl_pgarchive_data **out, const sl_pgarchive *a,
                                        const sl_pgarchive_entry *e, sl_error *err);
/* The next chunk of decompressed data: *data valid until the next call. For a BLOBS entry,
 * the current large object's bytes (0 at its end). */
SL_MUSTCHECK int sl_pgarchive_data_read(sl_pgarchive_data *d, const void **data, size_t *len,
                                        sl_error *err);
/* BLOBS entries: moves to the next large object; 1 with *oid set, 0 when there is none. */
SL_MUSTCHECK int sl_pgarchive_blob_next(sl_pgarchive_data *d, uint32_t *oid, sl_error *err);
void sl_pgarchive_data_close(sl_pgarchive_data *d);

#endif
