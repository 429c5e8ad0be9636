/* restore/verify.h: check a backup file end to end without a server, reading it as restore
 * would.
 * sl_verify_file() opens the file with the bfile reader (which checks the trailer, the index
 * checksum, and that the segments tile the file in phase order), then decompresses every
 * segment, checking its SHA-256 and decompressed length against the index, that the first
 * segment starts with the sluice signature, and that each TABLE DATA segment holds as many
 * COPY rows as the index says (pg/copyscan.h counts them). A plain script (no sluice index)
 * is only decompressed end to end.
 * Ownership: the report belongs to the caller (sl_verify_report_free, which accepts a report
 * that was never filled). Memory is bounded by one stream plus one record per table.
 * Errors: SL_E_ARCHIVE naming the byte offset, SL_E_IO for the file system; -1/0. */
#ifndef SL_RESTORE_VERIFY_H
#define SL_RESTORE_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "io/archive.h"
#include "io/codec.h"

typedef struct sl_verify_table {
    char *schema;
    char *name;
    int64_t rows;        /* COPY rows counted (all of the table's TABLE DATA segments) */
    uint64_t bytes;      /* decompressed bytes of its data */
    uint64_t stored;     /* stored (compressed) bytes of its data */
    int segments;
} sl_verify_table;

typedef struct sl_verify_report {
    bool indexed;            /* false: a plain script, only decompressed */
    const char *pg_dump_format;  /* a pg_dump archive: "custom" or "directory"; else NULL */
    const char *compression;     /* a pg_dump archive's: "none", "gzip", "lz4", "zstd" */
    int64_t large_objects;       /* a pg_dump archive's, read whole */
    sl_codec_kind codec;
    uint64_t file_bytes;
    uint64_t raw_bytes;      /* decompressed bytes of all segments (or of the whole script) */
    size_t segments;
    int64_t rows;            /* sum over tables */
    sl_verify_table *tables; /* sorted by schema, name */
    size_t ntables;
    char *database;          /* from the index header; NULL when absent */
    char *server_version;
    char *started_at;
} sl_verify_report;

SL_MUSTCHECK int sl_verify_file(const char *path, sl_verify_report *out, sl_error *err);
/* The same for a backup that is length bytes of path from offset base (io/bfile.h). */
SL_MUSTCHECK int sl_verify_range(const char *path, uint64_t base, uint64_t length,
                                 sl_verify_report *out, sl_error *err);
void sl_verify_report_free(sl_verify_report *rep);

/* A pg_dump archive (io/pgarchive.h): its TOC read and checked, every entry's data read and
 * decompressed, every TABLE DATA's COPY rows counted (it must end with its "\." line), every
 * large object read. segments counts TOC entries, tables are TABLE DATA entries; database,
 * server_version and started_at come from the header (the creation time). */
SL_MUSTCHECK int sl_verify_pgarchive(const char *path, sl_verify_report *out, sl_error *err);

/* A cluster archive: every member's size and SHA-256 against the manifest, then every
 * database's backup checked as sl_verify_file() does, in place. each is called for each
 * database whose backup is in the archive, once it is verified. */
typedef void (*sl_archive_verified_fn)(void *ctx, const sl_manifest_database *db,
                                       const sl_verify_report *rep);

SL_MUSTCHECK int sl_verify_archive(sl_archive *a, sl_archive_verified_fn each, void *ctx,
                                   sl_error *err);

#endif
