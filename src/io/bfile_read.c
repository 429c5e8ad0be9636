/* io/bfile_read.c: the backup file reader and its streams (io/bfile.h).
 * Opening reads only the head (to recognise a sluice file by its signature) and the tail (the
 * trailer, then the index it points to, streamed twice in INDEX_CHUNK pieces: io/bfile_index.h, so
 * that a large or hostile index costs what its entries need, never its text). Each check that
 * fails names the byte offset where the file stops making sense. A stream reads its byte range
 * with pread() on its own fd into IN_CAP and decompresses into OUT_CAP; memory is those two
 * buffers and a decoder. The input is topped up whenever less than a whole member (at most
 * SL_BFILE_BLOCK bytes of text, so MEMBER_MAX stored) is left in it, and the output holds a block:
 * each gzip member of a sluice file is then decoded in one call (io/codec.h), about twice as fast
 * as streaming it. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"
#include "io/bfile.h"
#include "io/bfile_format.h"
#include "io/bfile_index.h"
#include "io/checksum.h"
#include "io/sink.h"

#define HEAD_CAP (64u << 10)
#define MEMBER_MAX (SL_BFILE_BLOCK + (SL_BFILE_BLOCK >> 4) + (64u << 10))
#define IN_CAP (2 * MEMBER_MAX)
#define OUT_CAP SL_BFILE_BLOCK
#define INDEX_MAX (256ull << 20)  /* what a million entries take; memory stays below it */
#define INDEX_CHUNK ((size_t)256 << 10)

struct sl_bfile_reader {
    char *path;
    uint64_t size;
    uint64_t base;      /* where the backup starts in the file (a member of an archive) */
    sl_codec_kind codec;
    bool indexed;
    uint64_t data_end;  /* end of the last segment (the index offset), or the file size */
    sl_bfile_entry *entries;
    size_t n;
    char *strings;            /* the entries' strings */
    sl_bfile_table *tables;   /* the entries' "tables" */
    sl__bfile_field *fields;  /* the header */
    size_t nfields;
};

static void
corrupt(sl_error *err, const sl_bfile_reader *r, const char *fmt, ...) SL_PRINTF(3, 4);

static void
corrupt(sl_error *err, const sl_bfile_reader *r, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sl_error_set(err, SL_E_ARCHIVE, "backup file \"%s\" is corrupt: %s", r->path, msg);
}

/* Does the decompressed start of the file carry the sluice signature (or as much of it as a
 * cut-short file holds)? */
static bool
has_signature(int fd, uint64_t base, uint64_t size, sl_codec_kind kind)
{
    const size_t sig = sizeof SL_BFILE_SIGNATURE - 1;
    size_t n = size < HEAD_CAP ? (size_t)size : HEAD_CAP;
    unsigned char *head = sl_malloc(n ? n : 1);
    unsigned char out[sizeof SL_BFILE_SIGNATURE];
    size_t out_len = 0;
    sl_inflater *z = NULL;
    sl_error ignored;
    bool found = false;
    if (n == 0 || sl_pread_all(fd, head, n, base, "", &ignored) != 0
        || sl_inflater_new(&z, kind, &ignored) != 0)
        goto done;
    const unsigned char *p = head;
    size_t left = n;
    sl_inflater_reset(z, 0);
    /* Errors are ignored: what matters is how much of the signature came out before them. */
    for (int i = 0; i < 64 && out_len < sig; i++) {
        size_t before = left, had = out_len;
        if (sl_inflater_run(z, &p, &left, out, sig, &out_len, &ignored) != 0)
            break;
        if (left == before && out_len == had)
            break;
    }
    found = out_len > 0 && memcmp(out, SL_BFILE_SIGNATURE, out_len) == 0;
done:
    sl_inflater_free(z);
    free(head);
    return found;
}

/* A file shorter than a gzip or zstd magic number that starts like one is a cut-short
 * compressed file, not a script. */
static bool
magic_prefix(const unsigned char *head, size_t n)
{
    static const unsigned char gz[] = {0x1f, 0x8b}, zs[] = {0x28, 0xb5, 0x2f, 0xfd};
    return (n > 0 && n < sizeof gz && memcmp(head, gz, n) == 0)
           || (n > 0 && n < sizeof zs && memcmp(head, zs, n) == 0);
}

/* One pass over the index's stored bytes, in chunks: each goes to the SHA-256 and to the index
 * reader. A checksum mismatch is reported before what the reader found (damage explains it). */
static int
index_pass(sl_bfile_reader *r, int fd, const sl__bfile_index_opts *o, const unsigned char *want,
           unsigned char *buf, sl__bfile_index **out, sl_error *err)
{
    sl__bfile_index *x = sl__bfile_index_new(o);
    sl_sha256 *sha = NULL;
    sl_error perr;
    bool parse_failed = false;
    unsigned char got[32];
    int rc = -1;
    sl_error_clear(&perr);
    if (sl_sha256_new(&sha, err) != 0)
        goto done;
    for (uint64_t at = 0; at < o->index_length;) {
        size_t k = o->index_length - at < INDEX_CHUNK ? (size_t)(o->index_length - at)
                                                      : INDEX_CHUNK;
        if (sl_pread_all(fd, buf, k, r->base + o->index_offset + at, r->path, err) != 0)
            goto done;
        sl_sha256_update(sha, buf, k);
        if (!parse_failed && sl__bfile_index_feed(x, buf, k, &perr) != 0)
            parse_failed = true;
        at += k;
    }
    if (sl_sha256_final(sha, got, err) != 0)
        goto done;
    if (memcmp(got, want, 32) != 0) {
        corrupt(err, r, "the index at offset %llu does not match its checksum",
                (unsigned long long)o->index_offset);
        goto done;
    }
    if (parse_failed || sl__bfile_index_finish(x, &perr) != 0) {
        *err = perr;
        goto done;
    }
    *out = x;
    x = NULL;
    rc = 0;
done:
    sl__bfile_index_free(x);
    sl_sha256_free(sha);
    return rc;
}

/* Reads the index twice (io/bfile_index.h): once to check it and count what it holds, once to
 * keep exactly that, so that memory follows what is kept and not the index's text. */
static int
load_index(sl_bfile_reader *r, int fd, uint64_t off, uint64_t len, const unsigned char *want,
           sl_error *err)
{
    uint64_t trailer_at = r->size - sl__bfile_trailer_size(r->codec);
    unsigned char *buf = NULL;
    sl__bfile_index *x = NULL;
    int rc = -1;
    r->data_end = off;
    if (off > trailer_at || len != trailer_at - off || len > INDEX_MAX) {
        corrupt(err, r, "the trailer at offset %llu points to an index at offset %llu of %llu "
                        "bytes, which does not end at the trailer",
                (unsigned long long)trailer_at, (unsigned long long)off, (unsigned long long)len);
        goto done;
    }
    buf = sl_malloc(INDEX_CHUNK);
    sl__bfile_index_opts o = {.path = r->path, .codec = r->codec, .index_offset = off,
                              .index_length = len};
    if (index_pass(r, fd, &o, want, buf, &x, err) != 0)
        goto done;
    o.keep = true;
    o.capacity = sl__bfile_index_count(x);
    o.string_bytes = sl__bfile_index_string_bytes(x);
    o.table_count = sl__bfile_index_table_count(x);
    sl__bfile_index_free(x);
    x = NULL;
    if (index_pass(r, fd, &o, want, buf, &x, err) != 0)
        goto done;
    if (sl__bfile_index_count(x) != o.capacity) {
        corrupt(err, r, "the index at offset %llu changed while it was read",
                (unsigned long long)off);
        goto done;
    }
    r->n = o.capacity;
    sl__bfile_index_take(x, &r->entries, &r->strings, &r->tables, &r->fields, &r->nfields);
    rc = 0;
done:
    sl__bfile_index_free(x);
    free(buf);
    return rc;
}

/* Looks for a trailer of each codec at the end of the file. */
static bool
find_trailer(sl_bfile_reader *r, int fd, uint64_t *off, uint64_t *len, unsigned char *digest,
             uint64_t *damaged_at)
{
    static const sl_codec_kind kinds[] = {SL_CODEC_GZIP, SL_CODEC_ZSTD, SL_CODEC_NONE};
    unsigned char tail[SL__BFILE_TRAILER_MAX];
    size_t n = r->size < sizeof tail ? (size_t)r->size : sizeof tail;
    sl_error ignored;
    if (sl_pread_all(fd, tail, n, r->base + r->size - n, r->path, &ignored) != 0)
        return false;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t ts = sl__bfile_trailer_size(kinds[i]);
        if (ts <= n && sl__bfile_trailer_decode(kinds[i], tail + n - ts, off, len, digest)) {
            r->codec = kinds[i];
            return true;
        }
    }
    /* Not a trailer, but its tag is there: a damaged trailer rather than a cut-short file. */
    const unsigned char *tag =
        memmem(tail, n, SL__BFILE_TRAILER_TAG, sizeof SL__BFILE_TRAILER_TAG - 1);
    if (tag)
        *damaged_at = r->size - n + (uint64_t)(tag - tail);
    return false;
}

int
sl_bfile_reader_open(sl_bfile_reader **out, const char *path, sl_error *err)
{
    return sl_bfile_reader_open_range(out, path, 0, UINT64_MAX, err);
}

int
sl_bfile_reader_open_range(sl_bfile_reader **out, const char *path, uint64_t base,
                           uint64_t length, sl_error *err)
{
    sl_bfile_reader *r = sl_calloc(1, sizeof *r);
    r->path = sl_strdup(path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    uint64_t off = 0, len = 0, damaged_at = UINT64_MAX;
    unsigned char digest[32];
    if (fd < 0) {
        sl_error_errno(err, SL_E_IO, errno, "could not open \"%s\"", path);
        goto fail;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        sl_error_errno(err, SL_E_IO, S_ISDIR(st.st_mode) ? EISDIR : errno,
                       "could not read \"%s\"", path);
        goto fail;
    }
    if (length == UINT64_MAX) {
        r->size = (uint64_t)st.st_size;
    } else if (base > (uint64_t)st.st_size || length > (uint64_t)st.st_size - base) {
        sl_error_set(err, SL_E_ARCHIVE, "\"%s\" is truncated: it ends before offset %llu",
                     path, (unsigned long long)(base + length));
        goto fail;
    } else {
        r->base = base;
        r->size = length;
    }
    if (find_trailer(r, fd, &off, &len, digest, &damaged_at)) {
        r->indexed = true;
        if (load_index(r, fd, off, len, digest, err) != 0)
            goto fail;
    } else if (damaged_at != UINT64_MAX) {
        corrupt(err, r, "the trailer at offset %llu is damaged", (unsigned long long)damaged_at);
        goto fail;
    } else {
        unsigned char head[4] = {0};
        size_t hn = r->size < 4 ? (size_t)r->size : 4;
        if (sl_pread_all(fd, head, hn, r->base, path, err) != 0)
            goto fail;
        r->codec = sl_codec_detect(head, hn);
        if (magic_prefix(head, hn)) {
            sl_error_set(err, SL_E_ARCHIVE, "backup file \"%s\" is truncated: it ends inside a "
                         "compressed header at offset %zu", path, hn);
            goto fail;
        }
        if (has_signature(fd, r->base, r->size, r->codec)) {
            sl_error_set(err, SL_E_ARCHIVE,
                         "backup file \"%s\" is truncated: no index at the end (file is %llu "
                         "bytes, ends at offset %llu)", path, (unsigned long long)r->size,
                         (unsigned long long)r->size);
            goto fail;
        }
        r->data_end = r->size;  /* a plain script: one stream */
    }
    close(fd);
    *out = r;
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    sl_bfile_reader_close(r);
    return -1;
}

void
sl_bfile_reader_close(sl_bfile_reader *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nfields; i++) {
        free(r->fields[i].key);
        free(r->fields[i].value);
    }
    free(r->fields);
    free(r->strings);
    free(r->tables);
    free(r->entries);
    free(r->path);
    free(r);
}

bool
sl_bfile_reader_indexed(const sl_bfile_reader *r)
{
    return r->indexed;
}

sl_codec_kind
sl_bfile_reader_codec(const sl_bfile_reader *r)
{
    return r->codec;
}

size_t
sl_bfile_reader_count(const sl_bfile_reader *r)
{
    return r->n;
}

const sl_bfile_entry *
sl_bfile_reader_entry(const sl_bfile_reader *r, size_t i)
{
    return i < r->n ? &r->entries[i] : NULL;
}

const char *
sl_bfile_reader_header(const sl_bfile_reader *r, const char *field)
{
    for (size_t i = 0; i < r->nfields; i++)
        if (strcmp(r->fields[i].key, field) == 0)
            return r->fields[i].value;
    return NULL;
}

const char *
sl_bfile_reader_path(const sl_bfile_reader *r)
{
    return r->path;
}

uint64_t
sl_bfile_reader_size(const sl_bfile_reader *r)
{
    return r->size;
}

/* ---- streams ---- */

struct sl_bfile_stream {
    const sl_bfile_reader *r;
    int fd;
    bool verify;
    const sl_bfile_entry *first, *cur, *last;  /* NULL for a plain script */
    uint64_t pos, end;      /* stored range of the current part still to read */
    uint64_t chunk_off;     /* stored offset of the bytes last handed out (codec none) */
    uint64_t raw;           /* decompressed bytes of the current part */
    sl_inflater *z;
    sl_sha256 *sha;
    unsigned char *in;
    const unsigned char *in_p;
    size_t in_len;
    unsigned char *out;
    bool done;
};

bool
sl_bfile_kind_is(const char *kind, const char *what)
{
    return kind && strcmp(kind, what) == 0;
}

const char *
sl_bfile_entry_describe(const sl_bfile_entry *e, char *buf, size_t cap)
{
    snprintf(buf, cap, "segment %d (%s%s%s%s%s)", e->seq, e->kind, e->schema || e->name ? " " : "",
             e->schema ? e->schema : "", e->schema && e->name ? "." : "", e->name ? e->name : "");
    return buf;
}

static int
start_part(sl_bfile_stream *s, sl_error *err)
{
    s->raw = 0;
    s->in_len = 0;
    if (s->cur) {
        s->pos = s->cur->offset;
        s->end = s->cur->offset + s->cur->length;
    } else {
        s->pos = 0;
        s->end = s->r->data_end;
    }
    sl_inflater_reset(s->z, s->pos);
    return s->sha ? sl_sha256_reset(s->sha, err) : 0;
}

int
sl_bfile_stream_open(sl_bfile_stream **out, const sl_bfile_reader *r, const sl_bfile_entry *entry,
                     bool verify, sl_error *err)
{
    sl_bfile_stream *s = sl_calloc(1, sizeof *s);
    s->r = r;
    s->verify = verify && r->indexed;
    s->fd = open(r->path, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0) {
        sl_error_errno(err, SL_E_IO, errno, "could not open \"%s\"", r->path);
        goto fail;
    }
    if (r->indexed) {
        s->first = entry ? entry : r->entries;
        s->last = entry ? entry + 1 : r->entries + r->n;
        s->cur = s->first;
        if (s->cur == s->last)
            s->done = true;
    }
    if (sl_inflater_new(&s->z, r->codec, err) != 0
        || (s->verify && sl_sha256_new(&s->sha, err) != 0))
        goto fail;
    if (r->indexed)  /* segments are sluice's own frames: -j streams hold 1 MiB windows */
        sl_inflater_own_frames_only(s->z);
    s->in = sl_malloc(IN_CAP);
    s->out = sl_malloc(OUT_CAP);
    if (!s->done && start_part(s, err) != 0)
        goto fail;
    *out = s;
    return 0;
fail:
    sl_bfile_stream_close(s);
    return -1;
}

void
sl_bfile_stream_close(sl_bfile_stream *s)
{
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    sl_inflater_free(s->z);
    sl_sha256_free(s->sha);
    free(s->in);
    free(s->out);
    free(s);
}

uint64_t
sl_bfile_stream_offset(const sl_bfile_stream *s)
{
    if (s->r->codec == SL_CODEC_NONE)
        return s->chunk_off;
    return sl_inflater_member_offset(s->z);
}

/* The current part's stored bytes are all decoded: check it, then move to the next one. */
static int
end_part(sl_bfile_stream *s, sl_error *err)
{
    char what[600];
    if (s->cur)
        sl_bfile_entry_describe(s->cur, what, sizeof what);
    if (!sl_inflater_at_boundary(s->z)) {
        if (s->cur)
            corrupt(err, s->r, "%s ends inside the compressed member at offset %llu", what,
                    (unsigned long long)sl_inflater_member_offset(s->z));
        else
            sl_error_set(err, SL_E_ARCHIVE, "backup file \"%s\" is truncated: the compressed "
                         "member at offset %llu is incomplete", s->r->path,
                         (unsigned long long)sl_inflater_member_offset(s->z));
        return -1;
    }
    if (s->verify) {
        unsigned char got[32];
        if (sl_sha256_final(s->sha, got, err) != 0)
            return -1;
        if (memcmp(got, s->cur->sha256, 32) != 0) {
            corrupt(err, s->r, "checksum mismatch in %s at offset %llu", what,
                    (unsigned long long)s->cur->offset);
            return -1;
        }
        if (s->raw != s->cur->raw_length) {
            corrupt(err, s->r, "%s at offset %llu decompresses to %llu bytes, the index says %llu",
                    what, (unsigned long long)s->cur->offset, (unsigned long long)s->raw,
                    (unsigned long long)s->cur->raw_length);
            return -1;
        }
    }
    if (!s->cur || ++s->cur == s->last) {
        s->done = true;
        return 0;
    }
    return start_part(s, err);
}

/* Moves the unconsumed input to the front and reads as much of the part as fits after it. */
static int
fill(sl_bfile_stream *s, sl_error *err)
{
    if (s->in_len)
        memmove(s->in, s->in_p, s->in_len);
    size_t room = IN_CAP - s->in_len;
    size_t n = s->end - s->pos < room ? (size_t)(s->end - s->pos) : room;
    unsigned char *dst = s->in + s->in_len;
    if (sl_pread_all(s->fd, dst, n, s->r->base + s->pos, s->r->path, err) != 0)
        return -1;
    if (s->sha)
        sl_sha256_update(s->sha, dst, n);
    s->in_p = s->in;
    s->in_len += n;
    s->chunk_off = s->pos;
    s->pos += n;
    return 0;
}

static void
decode_error(sl_bfile_stream *s, sl_error *err)
{
    char what[600];
    /* a frame refused for its window size is not damage: say the file cannot be read here */
    const char *state = sl_inflater_window_refused(s->z) ? "cannot be read" : "is corrupt";
    if (s->cur) {
        sl_bfile_entry_describe(s->cur, what, sizeof what);
        sl_error_prefix(err, "backup file \"%s\" %s: %s", s->r->path, state, what);
    } else {
        sl_error_prefix(err, "backup file \"%s\" %s", s->r->path, state);
    }
}

int
sl_bfile_stream_read(sl_bfile_stream *s, const char **data, size_t *len, sl_error *err)
{
    while (!s->done) {
        if (s->in_len < MEMBER_MAX && s->pos < s->end && fill(s, err) != 0)
            return -1;
        if (s->r->codec == SL_CODEC_NONE && s->in_len) {
            *data = (const char *)s->in_p;  /* plain text: hand out the read buffer itself */
            *len = s->in_len;
            s->raw += s->in_len;
            s->in_len = 0;
            return 1;
        }
        size_t produced = 0, before = s->in_len;
        if (sl_inflater_run(s->z, &s->in_p, &s->in_len, s->out, OUT_CAP, &produced, err) != 0) {
            decode_error(s, err);
            return -1;
        }
        if (produced) {
            s->raw += produced;
            *data = (const char *)s->out;
            *len = produced;
            return 1;
        }
        if (s->in_len == 0 && s->pos == s->end) {
            if (end_part(s, err) != 0)
                return -1;
        } else if (s->in_len && s->in_len == before) {
            corrupt(err, s->r, "undecodable data in the member at offset %llu",
                    (unsigned long long)sl_bfile_stream_offset(s));
            return -1;
        }
    }
    return 0;
}
