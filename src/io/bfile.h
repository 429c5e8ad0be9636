/* io/bfile.h: sluice's backup file: a psql-restorable SQL script, plain or compressed as a
 * sequence of independent gzip members / zstd frames, carrying an index that gzip, zstd and psql
 * ignore.
 *
 * Layout. The file is a sequence of segments. A segment is a run of whole members (frames) whose
 * decompressed text is a run of whole SQL statements (a COPY block stays inside one segment).
 * After the last segment comes the index (a JSON document: header + one entry per segment) and
 * a fixed-size trailer pointing at it:
 *   gzip:  the index is carried in the FEXTRA field (subfield "SL") of empty gzip members
 *          (65,000 bytes per member); the trailer is one more empty member whose FEXTRA holds
 *          the index offset, length and SHA-256. gunzip outputs nothing for them.
 *   zstd:  the index is a skippable frame (magic 0x184D2A5B); the trailer is a fixed-size
 *          skippable frame. zstd -d skips both.
 *   none:  the index is one SQL comment line "-- sluice-index: {json}" (preceded by a newline
 *          in case the last segment lacks one); the trailer is a fixed-width comment line
 *          "-- sluice-trailer 1 ...". psql ignores both.
 *   The exact bytes are in io/bfile_format.h. The index JSON is
 *   {"format":1,"codec":"gzip|zstd|none","header":{database, server_version, ...},
 *    "entries":[{"seq","phase","parallel","kind","schema","name","rows","offset","length",
 *                "raw_length","sha256"[,"tables"]}...]}.
 *   "tables" (optional, since sluice 0.2; a file without it reads as before, and older readers
 *   skip it as any member they do not know, so the format number stays 1): [[schema, name],
 *   ...], the tables whose rows the segment's objects need in place: the table an index,
 *   constraint, trigger, rule, policy or statistics object is on, and a foreign key's
 *   referenced table. A restore may start such a segment as soon as those tables' TABLE DATA
 *   segments (and, after the INDEX phase, their INDEX-phase segments) are done, instead of
 *   after the whole of the phases before it. At most SL_BFILE_TABLES_MAX pairs of strings.
 * Every byte is covered by a checksum: each entry carries the SHA-256 of its segment's stored
 * (compressed) bytes, the trailer the SHA-256 of the index. Segments tile the file from offset 0
 * to the index, in order. The first segment (phase 0, kind "PREAMBLE") starts with the line
 * "-- sluice backup format 1" and holds the session settings every restore connection runs.
 *
 * Writing: sl_bfile_writer_open() -> { sl_bfile_segment_open() -> _write()* -> _commit() }*
 *          -> sl_bfile_writer_close() (or _abort()).
 *   Order: segments land in commit order, except that the segment writing directly into the
 *   file (the first one opened while no other one did) keeps its place ahead of segments that
 *   commit while it is open, unless one of those has a lower phase. Committing a segment whose
 *   phase is lower than one already in the file is an error (SL_E_INTERNAL): commit phases in
 *   order. Every segment must be committed or aborted before the writer is closed or aborted;
 *   _close() frees w also when it fails (and then leaves nothing behind, like _abort()).
 *   Segments may be open in several threads at once (one segment per thread). A segment's text
 *   is cut into blocks (SL_BFILE_BLOCK bytes) and each block is compressed in the thread that
 *   writes it: one gzip member per block; zstd: one frame per segment (its window at most
 *   SL_CODEC_ZSTD_OWN_WINDOW_LOG), so that matches reach across blocks (sluice 0.1 wrote a
 *   frame per block; both read alike). A segment that is written while another one owns the
 *   file goes to an unlinked spool file in the output directory and is copied in when it
 *   commits, so memory stays bounded by two blocks per open segment whatever the size of a
 *   table. Names (kind, schema, name, header fields) must be UTF-8 (the index is JSON) and at
 *   most SL_BFILE_NAME_MAX bytes (a header field that is not is left out). The file is
 *   written as NAME.partial (mode 0600), fsynced and renamed to NAME by _close(); _abort()
 *   removes every trace.
 * Reading: sl_bfile_reader_open() reads the trailer and index and checks them (trailer shape,
 *   index SHA-256, entries tiling the file from 0 to the index, phases known and non-decreasing);
 *   it does not read the segments. The index is read as it streams by (io/bfile_index.h): the
 *   reader keeps the entries, about 120 bytes each plus their names and 16 bytes per table
 *   they name, so its memory stays within twice the index's size (itself below the file's,
 *   and at most 256 MiB) whatever the index holds.
 *   A file with neither a trailer nor the signature at the start of its decompressed text is
 *   a plain script (pg_dump -Fp, maybe compressed): no index, read as one stream, compression
 *   detected by content. A file that starts with the signature but has no
 *   trailer is refused as truncated.
 *   sl_bfile_stream_open() streams one segment (or the whole file) decompressed; each stream has
 *   its own file descriptor, so restore workers read segments in parallel.
 * Errors: SL_E_ARCHIVE for anything wrong with the file, always naming the byte offset; SL_E_IO
 *   for the file system. -1 on failure, 0 on success; _read() returns 1 chunk, 0 end, -1 error.
 * Threads: writer calls are thread-safe; a segment, a reader's entries and a stream are used by
 *   one thread at a time (the reader itself is read-only after open and may be shared). */
#ifndef SL_IO_BFILE_H
#define SL_IO_BFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "io/codec.h"

#define SL_BFILE_FORMAT 1
#define SL_BFILE_SIGNATURE "-- sluice backup format 1\n"
#define SL_BFILE_BLOCK (1u << 20)

typedef struct sl_bfile_writer sl_bfile_writer;
/* A table a segment needs ("tables" in the index). */
typedef struct sl_bfile_table {
    const char *schema;
    const char *name;
} sl_bfile_table;
/* The most tables one index entry may name. */
#define SL_BFILE_TABLES_MAX 16

typedef struct sl_bfile_segment sl_bfile_segment;
typedef struct sl_bfile_reader sl_bfile_reader;
typedef struct sl_bfile_stream sl_bfile_stream;

/* What a segment is, for the index. Strings are copied. */
typedef struct sl_bfile_meta {
    int phase;           /* restore order: phases run in increasing order; see below */
    bool parallel;       /* segments of this phase may run at the same time */
    const char *kind;    /* SL_BFILE_KIND_* below, or "PREAMBLE", "PRE-DATA", "INDEX",
                          * "CONSTRAINT", "FK CONSTRAINT", "TRIGGER", "MATVIEW REFRESH", "ACL",
                          * ... */
    const char *schema;  /* NULL when not about one object */
    const char *name;    /* table / object name, NULL when not about one object */
    int64_t rows;        /* rows in a TABLE DATA segment, -1 otherwise */
    const sl_bfile_table *tables;  /* the tables it needs ("tables" above), ntables of them */
    size_t ntables;                /* 0: none named (the restore waits for earlier phases) */
} sl_bfile_meta;

/* Phases used by dump and restore (the file stores the number, so keep them stable).
 * These six numbers are the only known phases: the dump's sort moves an item between phases
 * (dump/sort.c: to an earlier phase for what needs it, or from INDEX to POST or FINAL) but
 * always from one of them to another, never to a number between them. A file whose index
 * gives a segment any other phase (negative, between two of them, after FINAL) is corrupt:
 * the reader refuses it (SL_E_ARCHIVE) and the writer refuses to commit such a segment
 * (SL_E_INTERNAL). Within a file phases never decrease. */
/* Macros rather than an enum so that the catalog queries, which return an item's phase,
 * can spell them by name (dump/item.h SL_SQL_INT). */
#define SL_PHASE_PREAMBLE 0   /* session settings; run first on every restore connection */
#define SL_PHASE_PRE_DATA 10  /* schemas, types, tables, functions...: in order, one session */
#define SL_PHASE_DATA 20      /* table data and large objects: parallel */
#define SL_PHASE_INDEX 30     /* indexes, primary/unique/exclusion constraints: parallel */
#define SL_PHASE_POST 40      /* FKs, triggers, rules, policies, statistics...: parallel */
#define SL_PHASE_FINAL 50     /* matview refresh, ACLs, comments, publications: in order */

/* Is phase one of the SL_PHASE_* values? */
bool sl_bfile_phase_known(int64_t phase);

/* The kinds of segment that restore and verify act on (a segment's kind is stored as text in
 * the index, so keep them stable; the other kinds, one per kind of schema item, are shown and
 * kept but not interpreted). Compare with sl_bfile_kind_is(), never with a literal. */
#define SL_BFILE_KIND_TABLE_DATA "TABLE DATA"      /* COPY rows of one table (or a ctid range
                                                    * of it); rows counts them */
#define SL_BFILE_KIND_BLOBS "BLOBS"                /* large objects' contents */
#define SL_BFILE_KIND_SEQUENCE_SET "SEQUENCE SET"  /* setval() of every dumped sequence */

/* Is kind (an index entry's, may be NULL) the SL_BFILE_KIND_* what? */
bool sl_bfile_kind_is(const char *kind, const char *what);

/* The longest kind, schema, name or header field the index holds (bytes): a reader takes at
 * most this much of any JSON string of the index. */
#define SL_BFILE_NAME_MAX ((size_t)64 << 10)

/* The header stored in the index: who and what was backed up. Strings are copied. */
typedef struct sl_bfile_header {
    const char *database;
    const char *server_version;  /* server_version string */
    const char *snapshot;        /* exported snapshot id, or NULL */
    const char *started_at;      /* ISO 8601 UTC */
    const char *sluice_version;
    /* The server's kind: NULL (left out: a PostgreSQL backup, as every file before the field
     * existed) or "mysql" (MySQL or MariaDB: the script is for the mysql client). */
    const char *engine;
    /* MySQL: where the backup's snapshot stands in the binary log, for point-in-time
     * recovery (SHOW MASTER STATUS's File and Position, and the GTID set when the server
     * has one); NULL when the binary log is off. */
    const char *binlog_file;
    const char *binlog_position;
    const char *gtid_executed;
    /* MySQL: the database's default character set and collation (information_schema.SCHEMATA),
     * which restore --create gives the database it creates; NULL when unknown. */
    const char *character_set;
    const char *collation;
} sl_bfile_header;

SL_MUSTCHECK int sl_bfile_writer_open(sl_bfile_writer **out, const char *path,
                                      const sl_codec *codec, sl_error *err);
SL_MUSTCHECK int sl_bfile_segment_open(sl_bfile_writer *w, sl_bfile_segment **out,
                                       sl_error *err);
SL_MUSTCHECK int sl_bfile_segment_write(sl_bfile_segment *s, const void *data, size_t len,
                                        sl_error *err);
/* Flushes, appends the segment to the file (or queues it) and records meta; frees s. */
SL_MUSTCHECK int sl_bfile_segment_commit(sl_bfile_segment *s, const sl_bfile_meta *meta,
                                         sl_error *err);
void sl_bfile_segment_abort(sl_bfile_segment *s);
/* Writes the index and trailer, fsyncs, renames NAME.partial to NAME; frees w. */
SL_MUSTCHECK int sl_bfile_writer_close(sl_bfile_writer *w, const sl_bfile_header *hdr,
                                       sl_error *err);
void sl_bfile_writer_abort(sl_bfile_writer *w);
/* Stored (compressed) bytes produced so far, spooled ones included, for progress. */
uint64_t sl_bfile_writer_bytes(sl_bfile_writer *w);

/* One index entry, as read back. */
typedef struct sl_bfile_entry {
    int seq;  /* position in the file, from 0 */
    int phase;
    bool parallel;
    const char *kind;
    const char *schema;  /* may be NULL */
    const char *name;    /* may be NULL */
    int64_t rows;        /* -1 when not a TABLE DATA segment */
    uint64_t offset;     /* first byte of the segment in the file */
    uint64_t length;     /* stored bytes */
    uint64_t raw_length; /* decompressed bytes */
    unsigned char sha256[32];
    const sl_bfile_table *tables;  /* "tables", NULL when the entry names none */
    size_t ntables;
} sl_bfile_entry;

SL_MUSTCHECK int sl_bfile_reader_open(sl_bfile_reader **out, const char *path, sl_error *err);
/* The same for a backup that is length bytes of path from offset base (a member of a cluster
 * archive, io/tar.h); offsets in the entries and in messages count from base. */
SL_MUSTCHECK int sl_bfile_reader_open_range(sl_bfile_reader **out, const char *path,
                                            uint64_t base, uint64_t length, sl_error *err);
void sl_bfile_reader_close(sl_bfile_reader *r);
bool sl_bfile_reader_indexed(const sl_bfile_reader *r);   /* false: a plain script */
sl_codec_kind sl_bfile_reader_codec(const sl_bfile_reader *r);
size_t sl_bfile_reader_count(const sl_bfile_reader *r);
const sl_bfile_entry *sl_bfile_reader_entry(const sl_bfile_reader *r, size_t i);
/* The one way messages name a segment: "segment 7 (TABLE DATA public.t)". Returns buf; 200
 * bytes hold it unless the names are long (then it is cut short). */
const char *sl_bfile_entry_describe(const sl_bfile_entry *e, char *buf, size_t cap);
/* The header fields (NULL when absent or not indexed). */
const char *sl_bfile_reader_header(const sl_bfile_reader *r, const char *field);
const char *sl_bfile_reader_path(const sl_bfile_reader *r);
uint64_t sl_bfile_reader_size(const sl_bfile_reader *r);  /* bytes in the file */

/* entry NULL streams the whole file (every segment in order, or a plain script). With
 * verify=true the stream checks each entry's SHA-256 and raw length at its end (a plain script
 * has nothing to check). Every segment must end on a member boundary. A chunk from _read()
 * stays valid until the next call on the same stream. */
SL_MUSTCHECK int sl_bfile_stream_open(sl_bfile_stream **out, const sl_bfile_reader *r,
                                      const sl_bfile_entry *entry, bool verify, sl_error *err);
SL_MUSTCHECK int sl_bfile_stream_read(sl_bfile_stream *s, const char **data, size_t *len,
                                      sl_error *err);
/* Stored-byte offset of the member being decompressed (for error messages). */
uint64_t sl_bfile_stream_offset(const sl_bfile_stream *s);
void sl_bfile_stream_close(sl_bfile_stream *s);

#endif
