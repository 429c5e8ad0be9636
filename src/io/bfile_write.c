/* io/bfile_write.c: the backup file writer (io/bfile.h).
 *
 * Design. One segment at a time may own the file: it is opened while no other segment owns it
 * and writes its members straight into NAME.partial at w->end. Every other segment writes to
 * its own unlinked spool file. A segment is "placed" when its bytes sit at w->end and its index
 * record is appended; placements happen under w->mu, in commit order:
 *   - a spooled segment that commits while no segment owns the file is copied in at once;
 *   - one that commits while a segment owns the file waits in w->queue (fd + record only: its
 *     buffers and compressor are freed at commit, so waiting costs no memory);
 *   - when the owner commits it is placed where it already is and the queue is copied in after
 *     it, unless a queued segment has a lower phase: then the owner's bytes are first moved to a
 *     spool so the file keeps phases non-decreasing, and it is placed after the queue.
 * A segment committed with a phase lower than one already placed is an engine bug and fails.
 * Invariants: bytes in [0, w->end) are final; only the owner writes beyond w->end; the queue
 * is empty whenever no segment owns the file. A failure while placing latches w->failed and
 * every later commit and the close report it; w->end and ftruncate() at close make bytes of an
 * aborted owner disappear. Memory: one block, one compressed block and one compressor (zstd's
 * with a window of at most 1 MiB) per open segment, and one small record per segment. */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"
#include "io/bfile.h"
#include "io/bfile_format.h"
#include "io/checksum.h"
#include "io/sink.h"

typedef struct rec {
    int phase;
    bool parallel;
    char *kind;
    char *schema;
    char *name;
    int64_t rows;
    uint64_t offset;
    uint64_t length;
    uint64_t raw_length;
    unsigned char sha256[32];
    char **tables;  /* schema, name, schema, name, ...: ntables pairs */
    size_t ntables;
} rec;

typedef struct queued {
    rec r;
    int fd;  /* spool holding the stored bytes */
} queued;

struct sl_bfile_writer {
    pthread_mutex_t mu;
    sl_sink *sink;
    sl_codec codec;
    sl_bfile_segment *owner;
    uint64_t end;
    rec *recs;
    size_t nrecs, caprecs;
    queued *queue;
    size_t nqueue, capqueue;
    int open_segments;
    int last_phase;
    bool failed;
    sl_error fail_err;
    _Atomic uint64_t bytes;
};

struct sl_bfile_segment {
    sl_bfile_writer *w;
    sl_compressor *comp;
    sl_sha256 *sha;
    char *block;
    size_t block_len;
    sl_buf out;
    bool direct;
    int fd;         /* the file (direct) or the spool */
    uint64_t base;  /* where the segment's first byte goes in fd */
    uint64_t stored;
    uint64_t raw;
    uint64_t written_back;  /* direct: write-back started for the first written_back bytes */
    bool failed;
};

int
sl_bfile_writer_open(sl_bfile_writer **out, const char *path, const sl_codec *codec, sl_error *err)
{
    sl_bfile_writer *w = sl_calloc(1, sizeof *w);
    if (sl_sink_open(&w->sink, path, err) != 0) {
        free(w);
        return -1;
    }
    pthread_mutex_init(&w->mu, NULL);
    w->codec = *codec;
    w->last_phase = SL_PHASE_PREAMBLE;
    *out = w;
    return 0;
}

uint64_t
sl_bfile_writer_bytes(sl_bfile_writer *w)
{
    return atomic_load(&w->bytes);
}

static void
rec_free(rec *r)
{
    free(r->kind);
    free(r->schema);
    free(r->name);
    for (size_t i = 0; i < 2 * r->ntables; i++)
        free(r->tables[i]);
    free(r->tables);
}

static void
fail_latch(sl_bfile_writer *w, const sl_error *err)
{
    if (!w->failed) {
        w->failed = true;
        w->fail_err = *err;
    }
}

int
sl_bfile_segment_open(sl_bfile_writer *w, sl_bfile_segment **out, sl_error *err)
{
    sl_bfile_segment *s = sl_calloc(1, sizeof *s);
    s->w = w;
    s->fd = -1;
    if (sl_compressor_new(&s->comp, &w->codec, err) != 0 || sl_sha256_new(&s->sha, err) != 0)
        goto fail;
    pthread_mutex_lock(&w->mu);
    if (w->failed) {
        *err = w->fail_err;
        pthread_mutex_unlock(&w->mu);
        goto fail;
    }
    if (!w->owner) {
        w->owner = s;
        s->direct = true;
        s->fd = sl_sink_fd(w->sink);
        s->base = w->end;
    }
    w->open_segments++;
    pthread_mutex_unlock(&w->mu);
    if (!s->direct && (s->fd = sl_spool_open(sl_sink_dir(w->sink), err)) < 0) {
        pthread_mutex_lock(&w->mu);
        w->open_segments--;
        pthread_mutex_unlock(&w->mu);
        goto fail;
    }
    *out = s;
    return 0;
fail:
    sl_compressor_free(s->comp);
    sl_sha256_free(s->sha);
    free(s);
    return -1;
}

/* Compresses one block (the segment's last when last) and writes what the compressor gives
 * where the segment's bytes go. */
static int
emit(sl_bfile_segment *s, const char *p, size_t n, bool last, sl_error *err)
{
    const char *stored = p;
    size_t stored_len = n;
    if (s->w->codec.kind != SL_CODEC_NONE) {
        sl_buf_reset(&s->out);
        if (sl_compressor_stream(s->comp, p, n, last, &s->out, err) != 0)
            return -1;
        stored = s->out.data;
        stored_len = s->out.len;
    }
    const char *what = s->direct ? sl_sink_partial(s->w->sink) : "spool file";
    if (sl_pwrite_all(s->fd, stored, stored_len, s->base + s->stored, what, err) != 0)
        return -1;
    sl_sha256_update(s->sha, stored, stored_len);
    s->stored += stored_len;
    if (s->direct && s->stored - s->written_back >= SL_SINK_WRITEBACK) {
        sl_sink_writeback(s->fd, s->base + s->written_back, s->stored - s->written_back);
        s->written_back = s->stored;
    }
    s->raw += n;
    atomic_fetch_add(&s->w->bytes, stored_len);
    return 0;
}

int
sl_bfile_segment_write(sl_bfile_segment *s, const void *data, size_t len, sl_error *err)
{
    const char *p = data;
    if (s->failed) {
        sl_error_set(err, SL_E_INTERNAL, "write to a backup segment that already failed");
        return -1;
    }
    while (len) {
        if (s->block_len == 0 && len >= SL_BFILE_BLOCK) {  /* whole block: no copy */
            if (emit(s, p, SL_BFILE_BLOCK, false, err) != 0)
                goto fail;
            p += SL_BFILE_BLOCK;
            len -= SL_BFILE_BLOCK;
            continue;
        }
        if (!s->block)
            s->block = sl_malloc(SL_BFILE_BLOCK);
        size_t n = SL_BFILE_BLOCK - s->block_len < len ? SL_BFILE_BLOCK - s->block_len : len;
        memcpy(s->block + s->block_len, p, n);
        s->block_len += n;
        p += n;
        len -= n;
        if (s->block_len == SL_BFILE_BLOCK) {
            s->block_len = 0;
            if (emit(s, s->block, SL_BFILE_BLOCK, false, err) != 0)
                goto fail;
        }
    }
    return 0;
fail:
    s->failed = true;
    return -1;
}

static void
push_rec(sl_bfile_writer *w, const rec *r)
{
    if (w->nrecs == w->caprecs) {
        w->caprecs = w->caprecs ? 2 * w->caprecs : 64;
        w->recs = sl_realloc(w->recs, w->caprecs * sizeof *w->recs);
    }
    w->recs[w->nrecs++] = *r;
}

/* Places r at w->end, copying it from spool_fd unless it is already there (spool_fd < 0).
 * Takes ownership of r's strings and of spool_fd. Caller holds w->mu. */
static int
place(sl_bfile_writer *w, rec *r, int spool_fd, sl_error *err)
{
    int rc = -1;
    if (r->phase < w->last_phase) {
        sl_error_set(err, SL_E_INTERNAL,
                     "backup segment %s %s%s%s in phase %d was committed after phase %d", r->kind,
                     r->schema ? r->schema : "", r->schema ? "." : "", r->name ? r->name : "",
                     r->phase, w->last_phase);
        goto done;
    }
    if (spool_fd >= 0) {
        if (sl_sink_copy_range(spool_fd, 0, sl_sink_fd(w->sink), w->end, r->length,
                               sl_sink_partial(w->sink), err) != 0)
            goto done;
        sl_sink_writeback(sl_sink_fd(w->sink), w->end, r->length);
    }
    r->offset = w->end;
    w->end += r->length;
    w->last_phase = r->phase;
    push_rec(w, r);
    r = NULL;
    rc = 0;
done:
    if (spool_fd >= 0)
        close(spool_fd);
    if (r) {
        rec_free(r);
        fail_latch(w, err);
    }
    return rc;
}

static int
drain(sl_bfile_writer *w, sl_error *err)
{
    int rc = 0;
    for (size_t i = 0; i < w->nqueue; i++) {
        if (rc == 0)
            rc = place(w, &w->queue[i].r, w->queue[i].fd, err);
        else {
            rec_free(&w->queue[i].r);
            close(w->queue[i].fd);
        }
    }
    w->nqueue = 0;
    return rc;
}

/* After a failure nothing more goes into the file: drop what waits. Caller holds w->mu. */
static void
discard_queue(sl_bfile_writer *w)
{
    for (size_t i = 0; i < w->nqueue; i++) {
        rec_free(&w->queue[i].r);
        close(w->queue[i].fd);
    }
    w->nqueue = 0;
}

static void
enqueue(sl_bfile_writer *w, const rec *r, int fd)
{
    if (w->nqueue == w->capqueue) {
        w->capqueue = w->capqueue ? 2 * w->capqueue : 16;
        w->queue = sl_realloc(w->queue, w->capqueue * sizeof *w->queue);
    }
    w->queue[w->nqueue].r = *r;
    w->queue[w->nqueue].fd = fd;
    w->nqueue++;
}

/* The owner commits: it stays where it is unless a queued segment must come before it. */
static int
place_owner(sl_bfile_writer *w, sl_bfile_segment *s, rec *r, sl_error *err)
{
    bool move = false;
    for (size_t i = 0; i < w->nqueue; i++)
        if (w->queue[i].r.phase < r->phase)
            move = true;
    if (!move) {
        if (place(w, r, -1, err) != 0)
            return -1;
        return drain(w, err);
    }
    int fd = sl_spool_open(sl_sink_dir(w->sink), err);
    if (fd < 0 || sl_sink_copy_range(sl_sink_fd(w->sink), s->base, fd, 0, r->length,
                                     sl_sink_partial(w->sink), err) != 0) {
        if (fd >= 0)
            close(fd);
        rec_free(r);
        fail_latch(w, err);
        return -1;
    }
    enqueue(w, r, fd);
    return drain(w, err);
}

/* What the index can hold and a reader takes back: UTF-8 (JSON), SL_BFILE_NAME_MAX bytes. */
static bool
name_ok(const char *s)
{
    if (!s)
        return true;
    if (strlen(s) > SL_BFILE_NAME_MAX)
        return false;
    json_t *j = json_string(s);
    json_decref(j);
    return j != NULL;
}

/* The names a reader takes back: a bounded list of non-empty names (io/bfile.h "tables"). */
static bool
tables_ok(const sl_bfile_meta *meta)
{
    if (meta->ntables > SL_BFILE_TABLES_MAX || (meta->ntables > 0 && !meta->tables))
        return false;
    for (size_t i = 0; i < meta->ntables; i++) {
        const sl_bfile_table *t = &meta->tables[i];
        if (!t->schema || !t->name || !t->schema[0] || !t->name[0] || !name_ok(t->schema) ||
            !name_ok(t->name))
            return false;
    }
    return true;
}

static void
segment_release(sl_bfile_segment *s)
{
    sl_compressor_free(s->comp);
    sl_sha256_free(s->sha);
    free(s->block);
    sl_buf_free(&s->out);
    free(s);
}

/* Ends the segment's membership in the writer. Caller holds w->mu. */
static void
segment_leave(sl_bfile_segment *s)
{
    sl_bfile_writer *w = s->w;
    w->open_segments--;
    if (w->owner == s)
        w->owner = NULL;
}

int
sl_bfile_segment_commit(sl_bfile_segment *s, const sl_bfile_meta *meta, sl_error *err)
{
    sl_bfile_writer *w = s->w;
    rec r = {0};
    int rc = -1;
    if (s->failed) {
        sl_error_set(err, SL_E_INTERNAL, "commit of a backup segment that already failed");
        goto fail_unlocked;
    }
    if (!meta->kind || !name_ok(meta->kind) || !name_ok(meta->schema) || !name_ok(meta->name)) {
        sl_error_set(err, SL_E_UNSUPPORTED, "backup segment %.200s %.200s.%.200s: names must be "
                     "UTF-8 of at most %zu bytes", meta->kind ? meta->kind : "(no kind)",
                     meta->schema ? meta->schema : "", meta->name ? meta->name : "",
                     SL_BFILE_NAME_MAX);
        goto fail_unlocked;
    }
    if (!tables_ok(meta)) {
        sl_error_set(err, SL_E_UNSUPPORTED, "backup segment %.200s %.200s.%.200s: its tables "
                     "must be at most %d, their names non-empty UTF-8 of at most %zu bytes",
                     meta->kind, meta->schema ? meta->schema : "", meta->name ? meta->name : "",
                     SL_BFILE_TABLES_MAX, SL_BFILE_NAME_MAX);
        goto fail_unlocked;
    }
    if (!sl_bfile_phase_known(meta->phase)) {
        sl_error_set(err, SL_E_INTERNAL, "backup segment %.200s %.200s.%.200s: phase %d is not "
                     "one of sluice's phases", meta->kind, meta->schema ? meta->schema : "",
                     meta->name ? meta->name : "", meta->phase);
        goto fail_unlocked;
    }
    /* a zstd segment is one frame: its end is written even when no text is left */
    if ((s->block_len || s->w->codec.kind == SL_CODEC_ZSTD) &&
        emit(s, s->block, s->block_len, true, err) != 0)
        goto fail_unlocked;
    if (sl_sha256_final(s->sha, r.sha256, err) != 0)
        goto fail_unlocked;
    r.phase = meta->phase;
    r.parallel = meta->parallel;
    r.kind = sl_strdup(meta->kind);
    r.schema = meta->schema ? sl_strdup(meta->schema) : NULL;
    r.name = meta->name ? sl_strdup(meta->name) : NULL;
    r.rows = meta->rows;
    r.ntables = meta->ntables;
    r.tables = sl_calloc(2 * r.ntables + 1, sizeof *r.tables);
    for (size_t i = 0; i < r.ntables; i++) {
        r.tables[2 * i] = sl_strdup(meta->tables[i].schema);
        r.tables[2 * i + 1] = sl_strdup(meta->tables[i].name);
    }
    r.length = s->stored;
    r.raw_length = s->raw;

    pthread_mutex_lock(&w->mu);
    bool direct = w->owner == s;
    segment_leave(s);
    if (w->failed) {
        *err = w->fail_err;
        rec_free(&r);
        if (direct)
            discard_queue(w);
    } else if (direct) {
        rc = place_owner(w, s, &r, err);
    } else if (w->owner) {
        enqueue(w, &r, s->fd);
        s->fd = -1;
        rc = 0;
    } else {
        rc = place(w, &r, s->fd, err);
        s->fd = -1;
    }
    pthread_mutex_unlock(&w->mu);
    if (!direct && s->fd >= 0)
        close(s->fd);
    segment_release(s);
    return rc;

fail_unlocked:
    sl_bfile_segment_abort(s);
    return -1;
}

void
sl_bfile_segment_abort(sl_bfile_segment *s)
{
    if (!s)
        return;
    sl_bfile_writer *w = s->w;
    pthread_mutex_lock(&w->mu);
    bool direct = w->owner == s;
    segment_leave(s);
    if (direct) {
        /* Its bytes beyond w->end are overwritten by what comes next or cut at close. */
        sl_error e = {0};
        if (w->failed)
            discard_queue(w);
        else
            (void)drain(w, &e);  /* a failure is latched in w and reported by the next call */
    }
    pthread_mutex_unlock(&w->mu);
    if (!direct && s->fd >= 0)
        close(s->fd);
    segment_release(s);
}

static json_t *
str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *
index_json(const sl_bfile_writer *w, const sl_bfile_header *hdr)
{
    json_t *root = json_object();
    json_t *h = json_object();
    json_t *entries = json_array();
    json_object_set_new(root, "format", json_integer(SL_BFILE_FORMAT));
    json_object_set_new(root, "codec", json_string(sl_codec_name(w->codec.kind)));
    const char *keys[] = {"database", "server_version", "snapshot", "started_at",
                          "sluice_version", "engine", "binlog_file", "binlog_position",
                          "gtid_executed", "character_set", "collation"};
    const char *vals[] = {hdr ? hdr->database : NULL, hdr ? hdr->server_version : NULL,
                          hdr ? hdr->snapshot : NULL, hdr ? hdr->started_at : NULL,
                          hdr ? hdr->sluice_version : NULL, hdr ? hdr->engine : NULL,
                          hdr ? hdr->binlog_file : NULL, hdr ? hdr->binlog_position : NULL,
                          hdr ? hdr->gtid_executed : NULL, hdr ? hdr->character_set : NULL,
                          hdr ? hdr->collation : NULL};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (vals[i] && name_ok(vals[i]))
            json_object_set_new(h, keys[i], json_string(vals[i]));
    json_object_set_new(root, "header", h);
    for (size_t i = 0; i < w->nrecs; i++) {
        const rec *r = &w->recs[i];
        char hex[SL_SHA256_HEX_LEN + 1];
        sl_sha256_hex(r->sha256, hex);
        json_t *e = json_object();
        json_object_set_new(e, "seq", json_integer((json_int_t)i));
        json_object_set_new(e, "phase", json_integer(r->phase));
        json_object_set_new(e, "parallel", json_boolean(r->parallel));
        json_object_set_new(e, "kind", json_string(r->kind));
        json_object_set_new(e, "schema", str_or_null(r->schema));
        json_object_set_new(e, "name", str_or_null(r->name));
        json_object_set_new(e, "rows", json_integer(r->rows));
        json_object_set_new(e, "offset", json_integer((json_int_t)r->offset));
        json_object_set_new(e, "length", json_integer((json_int_t)r->length));
        json_object_set_new(e, "raw_length", json_integer((json_int_t)r->raw_length));
        json_object_set_new(e, "sha256", json_string(hex));
        if (r->ntables > 0) {
            json_t *tables = json_array();
            for (size_t k = 0; k < r->ntables; k++) {
                json_t *pair = json_array();
                json_array_append_new(pair, json_string(r->tables[2 * k]));
                json_array_append_new(pair, json_string(r->tables[2 * k + 1]));
                json_array_append_new(tables, pair);
            }
            json_object_set_new(e, "tables", tables);
        }
        json_array_append_new(entries, e);
    }
    json_object_set_new(root, "entries", entries);
    return root;
}

static void
writer_free(sl_bfile_writer *w)
{
    for (size_t i = 0; i < w->nrecs; i++)
        rec_free(&w->recs[i]);
    discard_queue(w);
    free(w->recs);
    free(w->queue);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

/* Appends index and trailer at w->end and cuts the file there. */
static int
write_tail(sl_bfile_writer *w, const sl_bfile_header *hdr, sl_error *err)
{
    int fd = sl_sink_fd(w->sink);
    const char *what = sl_sink_partial(w->sink);
    json_t *root = index_json(w, hdr);
    char *text = json_dumps(root, JSON_COMPACT);
    sl_buf tail = SL_BUF_INIT;
    unsigned char digest[32];
    int rc = -1;
    if (!text) {
        sl_error_set(err, SL_E_INTERNAL, "could not serialise the backup index");
        goto done;
    }
    sl__bfile_index_encode(w->codec.kind, text, strlen(text), &tail);
    size_t index_len = tail.len;
    if (sl_sha256_digest(tail.data, index_len, digest, err) != 0)
        goto done;
    sl__bfile_trailer_encode(w->codec.kind, w->end, index_len, digest, &tail);
    if (sl_pwrite_all(fd, tail.data, tail.len, w->end, what, err) != 0)
        goto done;
    if (ftruncate(fd, (off_t)(w->end + tail.len)) != 0) {
        sl_error_errno(err, SL_E_IO, errno, "could not truncate \"%s\"", what);
        goto done;
    }
    rc = 0;
done:
    sl_buf_free(&tail);
    free(text);
    json_decref(root);
    return rc;
}

int
sl_bfile_writer_close(sl_bfile_writer *w, const sl_bfile_header *hdr, sl_error *err)
{
    int rc = -1;
    pthread_mutex_lock(&w->mu);
    if (w->failed)
        *err = w->fail_err;
    else if (w->open_segments)
        sl_error_set(err, SL_E_INTERNAL, "backup file closed with %d segments still open",
                     w->open_segments);
    else
        rc = write_tail(w, hdr, err);
    pthread_mutex_unlock(&w->mu);
    if (rc == 0) {
        rc = sl_sink_close(w->sink, err);
        w->sink = NULL;
    }
    sl_sink_abort(w->sink);
    writer_free(w);
    return rc;
}

void
sl_bfile_writer_abort(sl_bfile_writer *w)
{
    if (!w)
        return;
    sl_sink_abort(w->sink);
    writer_free(w);
}
