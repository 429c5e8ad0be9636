/* io/pgarchive_data.c: the data of one entry of a pg_dump archive, decompressed chunk by chunk.
 * A stream is the stored bytes of one table's data or one large object:
 *   custom: a run of chunks (an int length, that many bytes) ended by a zero length, inside the
 *           entry's data block (a type byte and the dump id first; for BLOBS, each large object
 *           is its oid and such a run, and oid 0 ends the block);
 *   directory: a whole file (NNNN.dat[.gz|.lz4|.zst], blob_OID.dat[...]) whose suffix says how
 *           it is compressed; a BLOBS entry's file lists "OID FILE" lines.
 * The decoders (pg_dump's compress_*.c): custom gzip data is a zlib stream (one per stream,
 * nothing after its end), directory .gz files are gzip files (members, concatenated), lz4 is
 * LZ4 frames, zstd zstd frames. A stream may hold no byte at all (nothing was written).
 * State: input buffer in[in_pos..in_len) holds stored bytes read but not yet decoded, in_off is
 * the file offset of in[0] (for messages); input_end says the stream has no more stored bytes;
 * boundary says the bytes decoded so far end where a stream/frame ends, so that input_end
 * without it is a truncated stream. gzip and zlib data are inflated by ISA-L (igzip): on pg_dump's
 * level-6 data it takes about a third of zlib's CPU, and a restore's client competes with the
 * server for the same cores. Memory: two SL_PGARCHIVE_CHUNK buffers, igzip's state, an
 * LZ4 frame's blocks (4 MiB at most), a zstd window of at most SL_CODEC_ZSTD_WINDOW_MAX. */
#include <errno.h>
#include <fcntl.h>
#include <isa-l/igzip_lib.h>
#include <lz4frame.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "base/mem.h"
#include "io/codec.h"
#include "io/pgarchive.h"
#include "io/pgarchive_format.h"

#define BLOB_LINE_MAX 1100  /* pg_dump's MAXPGPATH (1024) and an oid */

typedef enum {
    DEC_NONE,
    DEC_ZLIB,  /* zlib format (custom archives) */
    DEC_GZIP,  /* gzip members (directory archives' .gz files) */
    DEC_LZ4,
    DEC_ZSTD,
} dec_kind;

struct sl_pgarchive_data {
    const sl_pgarchive *a;
    const sl_pgarchive_entry *e;
    bool blobs;        /* a BLOBS entry: streams are large objects */
    bool live;         /* a stream (the data, or the current large object) is open */
    bool blobs_end;    /* the last large object was passed */
    int fd;            /* custom: the archive; directory: the current data file */
    char *file;        /* its path */
    sl__pgar_reader rd;
    uint64_t chunk_left;  /* custom: stored bytes left in the current chunk */
    bool input_end;
    int toc_fd;        /* directory BLOBS: the list of large objects */
    char *toc_file;
    sl__pgar_reader toc;
    dec_kind dec;
    bool boundary;
    struct inflate_state *z;  /* gzip/zlib: allocated at the first such stream */
    bool z_ended;      /* inflate saw the end of a stream/member */
    LZ4F_dctx *lz4;
    ZSTD_DCtx *zstd;
    unsigned char *in;
    size_t in_len, in_pos;
    uint64_t in_off;
    unsigned char *out;
};

static const char *const dec_names[] = {"uncompressed", "zlib", "gzip", "lz4", "zstd"};

/* ---- decoders ---- */

static int
dec_start(sl_pgarchive_data *d, dec_kind kind, sl_error *err)
{
    d->dec = kind;
    d->boundary = true;
    d->in_len = d->in_pos = 0;
    d->input_end = false;
    if (kind == DEC_ZLIB || kind == DEC_GZIP) {
        if (!d->z)
            d->z = sl_malloc(sizeof *d->z);
        isal_inflate_init(d->z);
        d->z->crc_flag = kind == DEC_GZIP ? ISAL_GZIP : ISAL_ZLIB;  /* checksums verified */
        d->z_ended = false;
    } else if (kind == DEC_LZ4) {
        if (!d->lz4 && LZ4F_isError(LZ4F_createDecompressionContext(&d->lz4, LZ4F_VERSION))) {
            d->lz4 = NULL;
            sl_error_set(err, SL_E_INTERNAL, "could not start an lz4 decompressor");
            return -1;
        }
        LZ4F_resetDecompressionContext(d->lz4);
    } else if (kind == DEC_ZSTD) {
        if (!d->zstd) {
            d->zstd = ZSTD_createDCtx();
            if (!d->zstd) {
                sl_error_set(err, SL_E_INTERNAL, "could not start a zstd decompressor");
                return -1;
            }
        }
        ZSTD_DCtx_reset(d->zstd, ZSTD_reset_session_and_parameters);
        ZSTD_DCtx_setParameter(d->zstd, ZSTD_d_windowLogMax, SL_CODEC_ZSTD_WINDOW_LOG_MAX);
    }
    return 0;
}

static int
dec_fail(sl_pgarchive_data *d, sl_error *err, const char *msg)
{
    sl__pgar_fail(&d->rd, d->in_off + d->in_pos, err, "corrupt %s data: %s", dec_names[d->dec],
                  msg);
    return -1;
}

static const char *
inflate_error(int rc)
{
    switch (rc) {
    case ISAL_INVALID_BLOCK:
        return "invalid deflate block";
    case ISAL_INVALID_SYMBOL:
        return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK:
        return "invalid distance too far back";
    case ISAL_INVALID_WRAPPER:
        return "incorrect header";
    case ISAL_UNSUPPORTED_METHOD:
        return "unknown compression method";
    case ISAL_INCORRECT_CHECKSUM:
        return "incorrect data check";
    case ISAL_NEED_DICT:
        return "a preset dictionary is needed";
    }
    return "inflate failed";
}

static int
run_zlib(sl_pgarchive_data *d, size_t *produced, sl_error *err)
{
    if (d->z_ended) {
        if (d->in_pos == d->in_len) {  /* drained */
            *produced = 0;
            return 0;
        }
        if (d->dec == DEC_ZLIB)
            return dec_fail(d, err, "bytes after the end of the zlib stream");
        isal_inflate_reset(d->z);  /* the next gzip member */
        d->z->crc_flag = ISAL_GZIP;
        d->z_ended = false;
    }
    struct inflate_state *z = d->z;
    z->next_in = d->in + d->in_pos;
    z->avail_in = (uint32_t)(d->in_len - d->in_pos);
    z->next_out = d->out;
    z->avail_out = (uint32_t)SL_PGARCHIVE_CHUNK;
    int rc = isal_inflate(z);
    size_t used = (d->in_len - d->in_pos) - z->avail_in;
    d->in_pos += used;
    *produced = SL_PGARCHIVE_CHUNK - z->avail_out;
    if (rc < 0 || rc == ISAL_NEED_DICT)
        return dec_fail(d, err, inflate_error(rc));
    if (z->block_state == ISAL_BLOCK_FINISH) {
        d->boundary = true;
        d->z_ended = true;
        return 0;
    }
    if (used || *produced)
        d->boundary = false;
    return 0;
}

static int
run_lz4(sl_pgarchive_data *d, size_t *produced, sl_error *err)
{
    size_t in_n = d->in_len - d->in_pos;
    size_t out_n = SL_PGARCHIVE_CHUNK;
    size_t hint = LZ4F_decompress(d->lz4, d->out, &out_n, d->in + d->in_pos, &in_n, NULL);
    if (LZ4F_isError(hint))
        return dec_fail(d, err, LZ4F_getErrorName(hint));
    d->in_pos += in_n;
    *produced = out_n;
    if (hint == 0)
        d->boundary = true;  /* the frame is complete; the context starts a new one */
    else if (in_n || out_n)
        d->boundary = false;
    return 0;
}

static int
run_zstd(sl_pgarchive_data *d, size_t *produced, sl_error *err)
{
    ZSTD_inBuffer in = {d->in + d->in_pos, d->in_len - d->in_pos, 0};
    ZSTD_outBuffer out = {d->out, SL_PGARCHIVE_CHUNK, 0};
    size_t rc = ZSTD_decompressStream(d->zstd, &out, &in);
    if (ZSTD_isError(rc)) {
        if (ZSTD_getErrorCode(rc) == ZSTD_error_frameParameter_windowTooLarge)
            return dec_fail(d, err, "a zstd frame needs a window of more than 8 MiB (pg_dump "
                                    "-Z zstd:long?), more memory than sluice gives a stream; "
                                    "restore it with pg_restore");
        return dec_fail(d, err, ZSTD_getErrorName(rc));
    }
    d->in_pos += in.pos;
    *produced = out.pos;
    if (rc == 0)
        d->boundary = true;
    else if (in.pos || out.pos)
        d->boundary = false;
    return 0;
}

static int
dec_run(sl_pgarchive_data *d, size_t *produced, sl_error *err)
{
    switch (d->dec) {
    case DEC_ZLIB:
    case DEC_GZIP:
        return run_zlib(d, produced, err);
    case DEC_LZ4:
        return run_lz4(d, produced, err);
    case DEC_ZSTD:
        return run_zstd(d, produced, err);
    case DEC_NONE:
        break;
    }
    *produced = 0;
    return 0;
}

/* ---- stored bytes ---- */

/* Custom: the next piece of the current chunk, or the next chunk's length (0: the end). */
static int
fill_custom(sl_pgarchive_data *d, sl_error *err)
{
    while (d->chunk_left == 0) {
        uint64_t at = d->rd.pos;
        int64_t len;
        if (sl__pgar_int(&d->rd, &len, err) != 0)
            return -1;
        if (len == 0) {
            d->input_end = true;
            return 0;
        }
        if (len < 0) {
            sl__pgar_fail(&d->rd, at, err, "chunk length %lld is negative", (long long)len);
            return -1;
        }
        d->chunk_left = (uint64_t)len;
    }
    size_t n = d->chunk_left < SL_PGARCHIVE_CHUNK ? (size_t)d->chunk_left : SL_PGARCHIVE_CHUNK;
    d->in_off = d->rd.pos;
    if (sl__pgar_read(&d->rd, d->in, n, err) != 0)
        return -1;
    d->in_len = n;
    d->in_pos = 0;
    d->chunk_left -= n;
    return 0;
}

static int
fill_file(sl_pgarchive_data *d, sl_error *err)
{
    uint64_t left = d->rd.size - d->rd.pos;
    size_t n = left < SL_PGARCHIVE_CHUNK ? (size_t)left : SL_PGARCHIVE_CHUNK;
    if (n == 0) {
        d->input_end = true;
        return 0;
    }
    d->in_off = d->rd.pos;
    if (sl__pgar_read(&d->rd, d->in, n, err) != 0)
        return -1;
    d->in_len = n;
    d->in_pos = 0;
    return 0;
}

static int
fill(sl_pgarchive_data *d, sl_error *err)
{
    return d->a->format == SL_PGARCHIVE_CUSTOM ? fill_custom(d, err) : fill_file(d, err);
}

/* ---- reading ---- */

int
sl_pgarchive_data_read(sl_pgarchive_data *d, const void **data, size_t *len, sl_error *err)
{
    while (d->live) {
        bool have = d->in_pos < d->in_len;
        if (!have && !d->input_end) {
            if (fill(d, err) != 0)
                return -1;
            continue;
        }
        if (d->dec == DEC_NONE && have) {
            *data = d->in + d->in_pos;
            *len = d->in_len - d->in_pos;
            d->in_pos = d->in_len;
            return 1;
        }
        size_t before = d->in_pos, produced = 0;
        if (d->dec != DEC_NONE && dec_run(d, &produced, err) != 0)
            return -1;
        if (produced) {
            *data = d->out;
            *len = produced;
            return 1;
        }
        if (have && d->in_pos == before)
            return dec_fail(d, err, "the decoder makes no progress");
        if (!have && d->input_end) {  /* drained */
            if (!d->boundary) {
                sl__pgar_fail(&d->rd, d->rd.pos, err, "truncated %s data",
                              dec_names[d->dec]);
                return -1;
            }
            d->live = false;
        }
    }
    return 0;
}

/* ---- opening ---- */

static int
open_at(sl_pgarchive_data *d, const char *path, sl_error *err)
{
    struct stat st;
    d->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (d->fd < 0 || fstat(d->fd, &st) != 0) {
        sl_error_errno(err, SL_E_IO, errno, "could not open \"%s\"", path);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        sl_error_set(err, SL_E_IO, "\"%s\" is not a regular file", path);
        return -1;
    }
    free(d->file);
    d->file = sl_strdup(path);
    sl__pgar_reader_init(&d->rd, d->fd, d->file, (uint64_t)st.st_size, 0, d->a->int_size);
    return 0;
}

/* A directory archive's data file: NAME, or NAME with the suffix of its compression (pg_dump
 * looks for them in this order too). */
static int
open_data_file(sl_pgarchive_data *d, const char *name, sl_error *err)
{
    static const struct { const char *suffix; dec_kind dec; } kinds[] = {
        {"", DEC_NONE}, {".gz", DEC_GZIP}, {".lz4", DEC_LZ4}, {".zst", DEC_ZSTD}};
    if (d->fd >= 0)
        close(d->fd);
    d->fd = -1;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        char *path = sl_asprintf("%s/%s%s", d->a->path, name, kinds[i].suffix);
        bool there = access(path, F_OK) == 0;
        int rc = there ? open_at(d, path, err) : 0;
        free(path);
        if (!there)
            continue;
        if (rc != 0 || dec_start(d, kinds[i].dec, err) != 0)
            return -1;
        /* A compressed file holds at least one frame/member, even for no data. */
        d->boundary = kinds[i].dec == DEC_NONE;
        return 0;
    }
    sl_error_set(err, SL_E_ARCHIVE, "pg_dump archive \"%s\": data file \"%s\" is missing",
                 d->a->path, name);
    return -1;
}

static dec_kind
custom_dec(const sl_pgarchive *a)
{
    static const dec_kind by_comp[] = {DEC_NONE, DEC_ZLIB, DEC_LZ4, DEC_ZSTD};
    return by_comp[a->comp];
}

/* Custom: the block header at the entry's offset must name the entry. */
static int
open_custom(sl_pgarchive_data *d, sl_error *err)
{
    const sl_pgarchive_entry *e = d->e;
    if (!e->data_offset) {
        sl_error_set(err, SL_E_ARCHIVE,
                     "pg_dump archive \"%s\": no data block for TOC entry %d", d->a->path,
                     e->dump_id);
        return -1;
    }
    if (open_at(d, d->a->path, err) != 0)
        return -1;
    d->rd.pos = e->data_offset;
    sl__pgar_what(&d->rd, "the data block header of TOC entry %d", e->dump_id);
    int type;
    int64_t id;
    if (sl__pgar_byte(&d->rd, &type, err) != 0 || sl__pgar_int(&d->rd, &id, err) != 0)
        return -1;
    int want = d->blobs ? SL__PGAR_BLK_BLOBS : SL__PGAR_BLK_DATA;
    if (type != want || id != e->dump_id) {
        sl__pgar_fail(&d->rd, e->data_offset, err, "data block of type %d for dump id %lld "
                      "where type %d for dump id %d was expected", type, (long long)id, want,
                      e->dump_id);
        return -1;
    }
    sl__pgar_what(&d->rd, "the data of TOC entry %d", e->dump_id);
    if (d->blobs)
        return 0;
    d->live = true;
    return dec_start(d, custom_dec(d->a), err);
}

static int
open_directory(sl_pgarchive_data *d, sl_error *err)
{
    const sl_pgarchive_entry *e = d->e;
    if (!e->data_file) {
        sl_error_set(err, SL_E_ARCHIVE,
                     "pg_dump archive \"%s\": no data file for TOC entry %d", d->a->path,
                     e->dump_id);
        return -1;
    }
    if (!d->blobs) {
        if (open_data_file(d, e->data_file, err) != 0)
            return -1;
        sl__pgar_what(&d->rd, "the data of TOC entry %d", e->dump_id);
        d->live = true;
        return 0;
    }
    d->toc_file = sl_asprintf("%s/%s", d->a->path, e->data_file);
    struct stat st;
    d->toc_fd = open(d->toc_file, O_RDONLY | O_CLOEXEC);
    if (d->toc_fd < 0 || fstat(d->toc_fd, &st) != 0) {
        sl_error_errno(err, SL_E_IO, errno, "could not open \"%s\"", d->toc_file);
        return -1;
    }
    sl__pgar_reader_init(&d->toc, d->toc_fd, d->toc_file, (uint64_t)st.st_size, 0, 4);
    return 0;
}

int
sl_pgarchive_data_open(sl_pgarchive_data **out, const sl_pgarchive *a,
                       const sl_pgarchive_entry *e, sl_error *err)
{
    if (!e->has_data) {
        sl_error_set(err, SL_E_INTERNAL, "TOC entry %d has no data", e->dump_id);
        return -1;
    }
    sl_pgarchive_data *d = sl_calloc(1, sizeof *d);
    d->a = a;
    d->e = e;
    d->fd = d->toc_fd = -1;
    d->blobs = strcmp(e->desc, "BLOBS") == 0;
    d->in = sl_malloc(SL_PGARCHIVE_CHUNK);
    d->out = sl_malloc(SL_PGARCHIVE_CHUNK);
    int rc = a->format == SL_PGARCHIVE_CUSTOM ? open_custom(d, err) : open_directory(d, err);
    if (rc != 0) {
        sl_pgarchive_data_close(d);
        return -1;
    }
    *out = d;
    return 0;
}

/* ---- large objects ---- */

/* Custom: past what is left of the current object's chunks by their lengths, unread. */
static int
skip_rest(sl_pgarchive_data *d, sl_error *err)
{
    if (sl__pgar_skip(&d->rd, d->chunk_left, err) != 0)
        return -1;
    d->chunk_left = 0;
    d->in_len = d->in_pos = 0;
    for (;;) {
        uint64_t at = d->rd.pos;
        int64_t len;
        if (sl__pgar_int(&d->rd, &len, err) != 0)
            return -1;
        if (len == 0)
            return 0;
        if (len < 0) {
            sl__pgar_fail(&d->rd, at, err, "chunk length %lld is negative", (long long)len);
            return -1;
        }
        if (sl__pgar_skip(&d->rd, (uint64_t)len, err) != 0)
            return -1;
    }
}

/* Custom: the next oid (after skipping what is left of the current object). */
static int
blob_next_custom(sl_pgarchive_data *d, uint32_t *oid, sl_error *err)
{
    if (d->live && !d->input_end && skip_rest(d, err) != 0)
        return -1;
    d->live = false;
    sl__pgar_what(&d->rd, "a large object's oid in TOC entry %d", d->e->dump_id);
    int64_t v;
    if (sl__pgar_int(&d->rd, &v, err) != 0)
        return -1;
    if (v == 0) {
        d->blobs_end = true;
        return 0;
    }
    *oid = (uint32_t)(int32_t)v;  /* pg_dump writes an oid as a (signed) int */
    sl__pgar_what(&d->rd, "large object %u of TOC entry %d", *oid, d->e->dump_id);
    d->chunk_left = 0;
    if (dec_start(d, custom_dec(d->a), err) != 0)
        return -1;
    d->live = true;
    return 1;
}

/* Directory: the next "OID FILE" line of the list. */
static int
read_blob_line(sl_pgarchive_data *d, char *line, sl_error *err)
{
    size_t n = 0;
    sl__pgar_what(&d->toc, "a line of the list of large objects");
    while (!sl__pgar_at_end(&d->toc)) {
        int c;
        if (sl__pgar_byte(&d->toc, &c, err) != 0)
            return -1;
        if (c == '\n')
            break;
        if (n + 1 >= BLOB_LINE_MAX) {
            sl__pgar_fail(&d->toc, d->toc.pos, err, "line longer than %d bytes", BLOB_LINE_MAX);
            return -1;
        }
        line[n++] = (char)c;
    }
    line[n] = '\0';
    return 0;
}

static int
blob_next_directory(sl_pgarchive_data *d, uint32_t *oid, sl_error *err)
{
    d->live = false;
    if (sl__pgar_at_end(&d->toc)) {
        d->blobs_end = true;
        return 0;
    }
    uint64_t at = d->toc.pos;
    char line[BLOB_LINE_MAX];
    if (read_blob_line(d, line, err) != 0)
        return -1;
    char *space = strchr(line, ' ');
    char *name = space ? space + 1 : NULL;
    uint64_t v = 0;
    bool ok = space && space > line && name[0] && !strchr(name, '/') && !strchr(name, ' ') &&
              strcmp(name, "..") != 0 && strcmp(name, ".") != 0;
    for (const char *p = line; ok && p < space; p++) {
        ok = *p >= '0' && *p <= '9' && (v = v * 10 + (uint64_t)(*p - '0')) <= UINT32_MAX;
    }
    if (!ok || v == 0) {
        sl__pgar_fail(&d->toc, at, err, "not an \"OID FILE\" line");
        return -1;
    }
    *oid = (uint32_t)v;
    if (open_data_file(d, name, err) != 0)
        return -1;
    sl__pgar_what(&d->rd, "large object %u of TOC entry %d", *oid, d->e->dump_id);
    d->live = true;
    return 1;
}

int
sl_pgarchive_blob_next(sl_pgarchive_data *d, uint32_t *oid, sl_error *err)
{
    if (!d->blobs || d->blobs_end)
        return 0;
    return d->a->format == SL_PGARCHIVE_CUSTOM ? blob_next_custom(d, oid, err)
                                               : blob_next_directory(d, oid, err);
}

void
sl_pgarchive_data_close(sl_pgarchive_data *d)
{
    if (!d)
        return;
    if (d->fd >= 0)
        close(d->fd);
    if (d->toc_fd >= 0)
        close(d->toc_fd);
    free(d->z);
    LZ4F_freeDecompressionContext(d->lz4);
    ZSTD_freeDCtx(d->zstd);
    free(d->file);
    free(d->toc_file);
    free(d->in);
    free(d->out);
    free(d);
}
