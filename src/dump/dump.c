/* dump/dump.c: the backup of one database.
 *
 * Design note.
 * States: (1) a probe connection reads the database encoding; (2) the pool opens `jobs`
 *   connections that share one exported snapshot; (3) the leader (the caller's thread) reads
 *   the catalog inside the snapshot, locks the tables whose rows are copied (ACCESS SHARE, with
 *   lock_timeout) and writes the preamble and pre-data segments; (4) `jobs` worker threads pull
 *   tasks (a table, a ctid range of a large table, a batch of large objects) from one array,
 *   biggest first, each streaming COPY TO STDOUT into its own segment; (5) the leader writes the
 *   sequence values and one segment per post-data item, the \unrestrict segment, then the
 *   index and trailer. Every connection first runs session_sql, so that the database's own
 *   settings (search_path, DateStyle, ...) neither pick the operators and functions the
 *   backup calls nor change how values are printed.
 * Invariants: every connection reads the same snapshot; a segment holds whole statements; the
 *   file's phases never go backwards because the leader commits pre-data before the workers
 *   start and post-data after they are joined.
 * Cancel: the first failure is kept in `first_err` (written only under `err_mu`), `failed` is
 *   set and every busy connection gets a cancel request, so workers blocked in COPY return at
 *   once. A signal goes through pg/interrupt.h: its handler only sets `failed` and sends the
 *   cancel requests; it never writes `first_err`. When the run ends after a signal, its error
 *   is "interrupted by a signal" whatever the canceled statements reported. The writer is then
 *   aborted: no NAME and no NAME.partial remain. */
#include "dump/dump.h"

#include <libpq/libpq-fs.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/progress.h"
#include "dump/catalog.h"
#include "dump/script.h"
#include "pg/widerow.h"
#include "io/bfile.h"
#include "pg/copy.h"
#include "pg/interrupt.h"
#include "pg/pool.h"

#define BLOB_READ_CHUNK (64 * 1024)
#define BLOBS_PER_TASK 256
#define DEFAULT_CHUNK_BYTES (64LL * 1024 * 1024)
#define DEFAULT_LARGE_VALUE_BYTES (4LL * 1024 * 1024)
#define MAX_SLOTS 256

typedef enum {
    TASK_TABLE,  /* one table, or one ctid range of it */
    TASK_BLOBS,  /* a batch of large objects */
} task_kind;

typedef struct task {
    task_kind kind;
    const sl_catalog_table *table;
    int64_t first_page;  /* -1: the whole table */
    int64_t end_page;    /* -1: open-ended (the last range also takes pages added since) */
    const uint32_t *blobs;
    size_t nblobs;
    int64_t weight;      /* bytes expected, for biggest-first scheduling */
} task;

typedef struct dump_ctx {
    const sl_dump_opts *opts;
    sl_pool *pool;
    sl_bfile_writer *writer;
    sl_progress *progress;
    const sl_dump_catalog *cat;
    sl_widerow_plan *wide;
    task *tasks;
    size_t ntasks;
    atomic_size_t next_task;
    atomic_bool failed;
    pthread_mutex_t err_mu;
    sl_error first_err;  /* under err_mu */
    char restrict_key[SL_SCRIPT_KEY_LEN + 1];  /* of this backup's \restrict line */
} dump_ctx;

bool
sl_dump_interrupt(void)
{
    return sl_interrupt_signal();
}

/* Keeps the first error; later ones are usually "canceling statement" echoes of it. */
static void
record_failure(dump_ctx *d, const sl_error *err)
{
    pthread_mutex_lock(&d->err_mu);
    if (!atomic_load(&d->failed)) {
        d->first_err = *err;
        atomic_store(&d->failed, true);
        pthread_mutex_unlock(&d->err_mu);
        sl_pool_cancel_all(d->pool);  /* every busy connection: the pool lent them all */
        return;
    }
    pthread_mutex_unlock(&d->err_mu);
}

/* A signal cancels the statements of watched connections (unwatched by disarm at the end). */
static void
register_cancel(dump_ctx *d, sl_conn *c)
{
    (void)d;
    (void)sl_interrupt_watch(sl_conn_pg(c));
}

/* ---- sessions ------------------------------------------------------------------------ */

/* Run on every connection of a backup before it reads anything: the settings that a database's
 * or a role's own defaults (ALTER DATABASE/ROLE ... SET) must not decide. An empty search_path
 * makes every unqualified operator and function pg_catalog's, not a look-alike some schema of
 * the database defines; the others fix how values are printed into the script (COPY rows and
 * the deparsed constants of defaults and views), as pg_dump sets them, so that the restore
 * reads them back the same whatever its own settings; large bytea values are read in slices
 * that must come as hex (pg/widerow.c). row_security = off makes a table whose policies
 * would hide rows from the backup's role an error, as with pg_dump, not a silent loss. */
static const char session_sql[] =
    "SET search_path = ''; SET DateStyle = 'ISO'; SET IntervalStyle = 'postgres'; "
    "SET extra_float_digits = 3; SET standard_conforming_strings = on; "
    "SET quote_all_identifiers = off; SET bytea_output = 'hex'; SET row_security = off";

static int
prepare_session(sl_conn *c, sl_error *err)
{
    if (sl_conn_exec(c, session_sql, err) != 0) {
        sl_error_prefix(err, "could not set the backup's session settings");
        return -1;
    }
    return 0;
}

/* ---- segments of SQL text ------------------------------------------------------------ */

/* Sets meta's schema and name from an object's, as the index can hold them: UTF-8 (script.h).
 * buf holds both strings and must outlive meta. */
static void
meta_names(sl_bfile_meta *meta, const char *schema, const char *name, sl_buf *buf)
{
    sl_buf_reset(buf);
    sl_script_put_utf8(buf, schema);
    size_t name_at = buf->len + 1;
    sl_buf_append(buf, "", 1);  /* the NUL between the two */
    sl_script_put_utf8(buf, name);
    meta->schema = schema ? buf->data : NULL;
    meta->name = name ? buf->data + name_at : NULL;
}

static int
write_text_segment(dump_ctx *d, const char *text, size_t len, const sl_bfile_meta *meta,
                   sl_error *err)
{
    sl_bfile_segment *seg = NULL;
    if (sl_bfile_segment_open(d->writer, &seg, err) != 0)
        return -1;
    if (sl_bfile_segment_write(seg, text, len, err) != 0) {
        sl_bfile_segment_abort(seg);
        return -1;
    }
    return sl_bfile_segment_commit(seg, meta, err);
}

static void
iso_now(char *buf, size_t cap)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The preamble: sluice's signature, \restrict (before any text taken from the database), a
 * comment saying what was backed up and the session settings every restore connection runs.
 * The database's name and the server's version go through the comment sanitizer. */
static int
write_preamble(dump_ctx *d, const char *dbname, const char *encoding, const char *version,
               sl_error *err)
{
    char started[32];
    iso_now(started, sizeof started);
    sl_buf b = SL_BUF_INIT;
    sl_buf_puts(&b, SL_BFILE_SIGNATURE);
    sl_buf_printf(&b, "\\restrict %s\n--\n-- database: ", d->restrict_key);
    sl_script_put_comment_text(&b, dbname);
    sl_buf_puts(&b, "\n-- server version: ");
    sl_script_put_comment_text(&b, version);
    sl_buf_printf(&b,
                  "\n-- started: %s\n--\n"
                  "-- Restore with: sluice restore FILE --database DB (parallel with -j N),\n"
                  "-- or with psql: gunzip -c FILE | psql -d DB (zstd -dc for .zst).\n--\n\n",
                  started);
    sl_buf_printf(&b,
                  "SET statement_timeout = 0;\n"
                  "SET lock_timeout = 0;\n"
                  "SET idle_in_transaction_session_timeout = 0;\n"
                  "SET client_encoding = '%s';\n"
                  "SET standard_conforming_strings = on;\n"
                  "SELECT pg_catalog.set_config('search_path', '', false);\n"
                  "SET check_function_bodies = false;\n"
                  "SET xmloption = content;\n"
                  "SET client_min_messages = warning;\n"
                  "SET row_security = off;\n\n",
                  encoding);
    sl_bfile_meta meta = {.phase = SL_PHASE_PREAMBLE, .kind = "PREAMBLE", .rows = -1};
    int rc = write_text_segment(d, b.data, b.len, &meta, err);
    sl_buf_free(&b);
    return rc;
}

/* "-- KIND schema.name": names may hold anything, the sanitizer keeps them on this line. */
static void
put_item_comment(sl_buf *b, const sl_dump_item *it)
{
    sl_buf_puts(b, "-- ");
    sl_script_put_comment_text(b, it->kind);
    sl_buf_putc(b, ' ');
    if (it->schema) {
        sl_script_put_comment_text(b, it->schema);
        sl_buf_putc(b, '.');
    }
    sl_script_put_comment_text(b, it->name);
    sl_buf_putc(b, '\n');
}

/* Writes all items of one phase as a single sequential segment (empty phases write none). */
static int
write_phase_segment(dump_ctx *d, const sl_dump_items *items, int phase, const char *kind,
                    sl_error *err)
{
    sl_buf b = SL_BUF_INIT;
    for (size_t i = 0; i < items->n; i++) {
        const sl_dump_item *it = &items->v[i];
        if (it->phase != phase)
            continue;
        put_item_comment(&b, it);
        sl_buf_puts(&b, it->sql);
        sl_buf_putc(&b, '\n');
    }
    int rc = 0;
    if (b.len) {
        sl_bfile_meta meta = {.phase = phase, .kind = kind, .rows = -1};
        rc = write_text_segment(d, b.data, b.len, &meta, err);
    }
    sl_buf_free(&b);
    return rc;
}

/* The last segment: \unrestrict ends what \restrict began (psql allows meta-commands again). */
static int
write_unrestrict(dump_ctx *d, sl_error *err)
{
    char line[SL_SCRIPT_KEY_LEN + 16];
    int n = snprintf(line, sizeof line, "\\unrestrict %s\n", d->restrict_key);
    sl_bfile_meta meta = {.phase = SL_PHASE_FINAL, .kind = "UNRESTRICT", .rows = -1};
    return write_text_segment(d, line, (size_t)n, &meta, err);
}

/* Groups of a parallel phase: an object and the items that decorate it (its comment, owner,
 * grants) share a segment, so a restore worker never runs a COMMENT ON before the object it
 * names exists. Groups are found through an open-addressing table keyed by catalog identity. */
typedef struct group_slot {
    uint32_t classid, objid;
    size_t group;  /* index into the group list + 1; 0 = empty slot */
} group_slot;

static size_t
slot_find(group_slot *slots, size_t cap, uint32_t classid, uint32_t objid)
{
    size_t h = ((size_t)classid * 2654435761u ^ (size_t)objid * 40503u) & (cap - 1);
    while (slots[h].group && (slots[h].classid != classid || slots[h].objid != objid))
        h = (h + 1) & (cap - 1);
    return h;
}

static int
write_group(dump_ctx *d, const sl_dump_items *items, const size_t *members, size_t n, int phase,
            sl_buf *text, sl_error *err)
{
    const sl_dump_item *first = &items->v[members[0]];
    sl_buf_reset(text);
    for (size_t i = 0; i < n; i++)
        sl_buf_puts(text, items->v[members[i]].sql);
    sl_bfile_meta meta = {.phase = phase, .parallel = true, .kind = first->kind, .rows = -1};
    sl_buf names = SL_BUF_INIT;
    meta_names(&meta, first->schema, first->name, &names);
    int rc = write_text_segment(d, text->data, text->len, &meta, err);
    sl_buf_free(&names);
    return rc;
}

/* Items of a phase that may run at the same time get a segment per group, so a restore can
 * spread index builds and foreign keys over its workers. */
static int
write_parallel_items(dump_ctx *d, const sl_dump_items *items, int phase, sl_error *err)
{
    size_t cap = 16;
    while (cap < items->n * 2)
        cap *= 2;
    group_slot *slots = sl_calloc(cap, sizeof *slots);
    size_t *group_of = sl_calloc(items->n ? items->n : 1, sizeof *group_of);
    size_t ngroups = 0;
    for (size_t i = 0; i < items->n; i++) {
        const sl_dump_item *it = &items->v[i];
        if (it->phase != phase)
            continue;
        uint32_t cls = it->ref_classid ? it->ref_classid : it->classid;
        uint32_t obj = it->ref_classid ? it->ref_objid : it->objid;
        size_t h = slot_find(slots, cap, cls, obj);
        if (slots[h].group) {
            group_of[i] = slots[h].group;
            continue;
        }
        group_of[i] = ++ngroups;
        h = slot_find(slots, cap, it->classid, it->objid);
        if (!slots[h].group)
            slots[h] = (group_slot){it->classid, it->objid, ngroups};
    }
    /* Members of each group, in item order, then one segment per group in order of first
     * appearance (which keeps the sorted order of the objects themselves). */
    size_t *members = sl_calloc(items->n ? items->n : 1, sizeof *members);
    sl_buf text = SL_BUF_INIT;
    int rc = 0;
    size_t *start = sl_calloc(ngroups + 2, sizeof *start);
    for (size_t i = 0; i < items->n; i++)
        if (group_of[i])
            start[group_of[i] + 1]++;
    for (size_t g = 1; g <= ngroups + 1; g++)
        start[g] += start[g - 1];
    size_t *fill = sl_calloc(ngroups + 1, sizeof *fill);
    for (size_t i = 0; i < items->n; i++)
        if (group_of[i])
            members[start[group_of[i]] + fill[group_of[i]]++] = i;
    for (size_t g = 1; g <= ngroups && rc == 0; g++)
        rc = write_group(d, items, members + start[g], start[g + 1] - start[g], phase, &text,
                         err);
    sl_buf_free(&text);
    free(fill);
    free(start);
    free(members);
    free(group_of);
    free(slots);
    return rc;
}

/* Phases between the data and the final one run in parallel at restore; the others in order. */
static int
write_post_data(dump_ctx *d, const sl_dump_items *items, sl_error *err)
{
    int phase = SL_PHASE_DATA;
    for (;;) {
        int next = -1;
        for (size_t i = 0; i < items->n; i++)
            if (items->v[i].phase > phase && (next < 0 || items->v[i].phase < next))
                next = items->v[i].phase;
        if (next < 0)
            return 0;
        phase = next;
        int rc = phase < SL_PHASE_FINAL ? write_parallel_items(d, items, phase, err)
                                        : write_phase_segment(d, items, phase, "FINAL", err);
        if (rc != 0)
            return -1;
    }
}

/* ---- data tasks ---------------------------------------------------------------------- */

static int
compare_tasks(const void *a, const void *b)
{
    const task *x = a, *y = b;
    return x->weight < y->weight ? 1 : x->weight > y->weight ? -1 : 0;
}

static void
add_task(dump_ctx *d, size_t *cap, const task *t)
{
    if (d->ntasks == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        d->tasks = sl_realloc(d->tasks, *cap * sizeof *d->tasks);
    }
    d->tasks[d->ntasks++] = *t;
}

/* A heap table bigger than one chunk is cut into ctid page ranges; the last range is open so
 * that pages added after the size was read (invisible rows, but pages all the same) are still
 * scanned. The ranges are of equal size and their count is a multiple of the jobs, so that a
 * table alone keeps every worker busy to its end: 5 ranges of 64 MB on 2 workers leave one
 * idle while the fifth is read, 6 of 54 MB do not. */
static void
plan_tasks(dump_ctx *d, const sl_dump_catalog *cat, const uint32_t *blobs, size_t nblobs,
           int64_t block_size)
{
    size_t cap = 0;
    int64_t chunk = d->opts->chunk_bytes > 0 ? d->opts->chunk_bytes : DEFAULT_CHUNK_BYTES;
    int64_t jobs = d->opts->jobs > 0 ? d->opts->jobs : 1;
    for (size_t i = 0; i < cat->ntables; i++) {
        const sl_catalog_table *t = &cat->tables[i];
        int64_t pages = t->bytes / block_size;
        int64_t chunk_pages = chunk / block_size;
        if (!t->is_heap || t->bytes <= chunk || chunk_pages < 1) {
            add_task(d, &cap, &(task){.kind = TASK_TABLE, .table = t, .first_page = -1,
                                      .end_page = -1, .weight = t->bytes});
            continue;
        }
        int64_t n = (pages + chunk_pages - 1) / chunk_pages;
        n = (n + jobs - 1) / jobs * jobs;
        if (n > pages)
            n = pages;
        for (int64_t k = 0; k < n; k++) {
            int64_t end = k + 1 == n ? -1 : pages * (k + 1) / n;
            add_task(d, &cap, &(task){.kind = TASK_TABLE, .table = t, .first_page = pages * k / n,
                                      .end_page = end, .weight = t->bytes / n});
        }
    }
    for (size_t i = 0; i < nblobs; i += BLOBS_PER_TASK) {
        size_t n = nblobs - i < BLOBS_PER_TASK ? nblobs - i : BLOBS_PER_TASK;
        add_task(d, &cap, &(task){.kind = TASK_BLOBS, .blobs = blobs + i, .nblobs = n,
                                  .weight = (int64_t)n * BLOB_READ_CHUNK});
    }
    if (d->ntasks > 1)  /* no tables at all leaves d->tasks NULL, which qsort may not take */
        qsort(d->tasks, d->ntasks, sizeof *d->tasks, compare_tasks);
}

/* "(a, b)" -> "a, b" for a SELECT list; "" when the table has no columns. */
static void
select_list(const char *copy_columns, sl_buf *out)
{
    size_t n = copy_columns ? strlen(copy_columns) : 0;
    if (n >= 2 && copy_columns[0] == '(' && copy_columns[n - 1] == ')')
        sl_buf_append(out, copy_columns + 1, n - 2);
}

/* The task's rows as a condition: the table's own condition (an extension configuration
 * table's, catalog.h) and the ctid range on alias.ctid ("" for every row of the table). */
static void
range_where(const task *t, const char *alias, sl_buf *out)
{
    if (t->table->where)
        sl_buf_printf(out, "(%s)%s", t->table->where, t->first_page < 0 ? "" : " AND ");
    if (t->first_page < 0)
        return;
    sl_buf_printf(out, "%sctid >= '(%lld,0)'::pg_catalog.tid", alias, (long long)t->first_page);
    if (t->end_page >= 0)
        sl_buf_printf(out, " AND %sctid < '(%lld,0)'::pg_catalog.tid", alias,
                      (long long)t->end_page);
}

static void
copy_out_sql(const task *t, const char *cols, sl_buf *sql)
{
    const sl_catalog_table *tb = t->table;
    if (t->first_page < 0 && !tb->where) {
        sl_buf_printf(sql, "COPY %s %s TO STDOUT", tb->qualified, cols);
        return;
    }
    sl_buf_puts(sql, "COPY (SELECT ");
    select_list(cols, sql);
    sl_buf_printf(sql, " FROM ONLY %s WHERE ", tb->qualified);
    range_where(t, "", sql);
    sl_buf_puts(sql, ") TO STDOUT");
}

typedef struct segment_sink {
    sl_bfile_segment *seg;
    sl_progress *progress;
} segment_sink;

static int
emit_to_segment(void *arg, const char *data, size_t len, sl_error *err)
{
    segment_sink *s = arg;
    sl_progress_add(s->progress, 0, (int64_t)len);
    return sl_bfile_segment_write(s->seg, data, len, err);
}

/* Rows of a table that may hold large values: ordinary rows go out as COPY sends them (minus
 * the flag and ctid), the wide ones are remembered and written afterwards in slices. */
static int
stream_rows(dump_ctx *d, sl_conn *c, const task *t, const sl_widerow_table *w,
            sl_bfile_segment *seg, int64_t *rows, sl_error *err)
{
    sl_buf sql = SL_BUF_INIT, where = SL_BUF_INIT, ctid = SL_BUF_INIT, wide_rows = SL_BUF_INIT;
    sl_copy_reader *r = NULL;
    int rc = -1;
    const char *cols = t->table->copy_columns && strcmp(t->table->copy_columns, "()") != 0
                           ? t->table->copy_columns
                           : "";
    if (w) {
        range_where(t, "t.", &where);
        sl_widerow_copy_sql(d->wide, w, t->table, where.data ? where.data : "", &sql);
    } else {
        copy_out_sql(t, cols, &sql);
    }
    sl_conn_log_statement("COPY", sql.data);
    if (sl_copy_reader_open(&r, c, sql.data, err) != 0)
        goto done;
    for (;;) {
        const char *data;
        size_t len, keep = 0;
        int got = sl_copy_reader_next(r, &data, &len, err);
        if (got < 0)
            goto done;
        if (got == 0)
            break;
        /* a row that is not one line could end the COPY data early for psql */
        if (!sl_script_is_copy_row(data, len)) {
            sl_error_set(err, SL_E_SERVER, "the server sent a malformed COPY row (row %lld of "
                         "this part: not one line)", (long long)*rows + 1);
            goto done;
        }
        if (w) {
            int wide = sl_widerow_split_line(data, len, &keep, &ctid, err);
            if (wide < 0)
                goto done;
            if (wide) {
                sl_buf_append(&wide_rows, ctid.data, ctid.len + 1);  /* NUL-separated */
                continue;
            }
            if (sl_bfile_segment_write(seg, data, keep, err) != 0 ||
                sl_bfile_segment_write(seg, "\n", 1, err) != 0)
                goto done;
        } else if (sl_bfile_segment_write(seg, data, len, err) != 0) {
            goto done;
        }
        (*rows)++;  /* text COPY sends exactly one row per message */
        sl_progress_add(d->progress, 1, (int64_t)len);
        if ((*rows & 0xfff) == 0)
            sl_progress_set_bytes_out(d->progress, (int64_t)sl_bfile_writer_bytes(d->writer));
    }
    sl_copy_reader_close(r);
    r = NULL;
    segment_sink sink = {seg, d->progress};
    for (size_t off = 0; off < wide_rows.len; off += strlen(wide_rows.data + off) + 1) {
        if (sl_widerow_write(c, w, t->table, wide_rows.data + off, emit_to_segment, &sink, err)
            != 0)
            goto done;
        (*rows)++;
        sl_progress_add(d->progress, 1, 0);
    }
    rc = 0;
done:
    sl_copy_reader_close(r);
    sl_buf_free(&sql);
    sl_buf_free(&where);
    sl_buf_free(&ctid);
    sl_buf_free(&wide_rows);
    return rc;
}

static int
run_table_task(dump_ctx *d, sl_conn *c, const task *t, sl_error *err)
{
    const sl_catalog_table *tb = t->table;
    const sl_widerow_table *w = sl_widerow_for(d->wide, (size_t)(tb - d->cat->tables));
    sl_buf head = SL_BUF_INIT, names = SL_BUF_INIT;
    sl_bfile_segment *seg = NULL;
    int64_t rows = 0;
    int rc = -1;
    const char *cols = tb->copy_columns && strcmp(tb->copy_columns, "()") != 0
                           ? tb->copy_columns
                           : "";
    sl_buf_printf(&head, "COPY %s %s FROM stdin;\n", tb->qualified, cols);
    if (sl_bfile_segment_open(d->writer, &seg, err) != 0 ||
        sl_bfile_segment_write(seg, head.data, head.len, err) != 0 ||
        stream_rows(d, c, t, w, seg, &rows, err) != 0 ||
        sl_bfile_segment_write(seg, "\\.\n\n", 4, err) != 0)
        goto done;
    sl_bfile_meta meta = {.phase = SL_PHASE_DATA, .parallel = true,
                          .kind = SL_BFILE_KIND_TABLE_DATA, .rows = rows};
    meta_names(&meta, tb->schema, tb->name, &names);
    rc = sl_bfile_segment_commit(seg, &meta, err);
    seg = NULL;  /* commit frees the segment whatever it returns */
done:
    if (rc != 0)
        sl_error_context(err, "table %s", tb->qualified);
    sl_bfile_segment_abort(seg);
    sl_buf_free(&head);
    sl_buf_free(&names);
    return rc;
}

static void
hex_append(sl_buf *b, const unsigned char *data, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    sl_buf_reserve(b, len * 2);
    char *p = b->data + b->len;
    for (size_t i = 0; i < len; i++) {
        *p++ = digits[data[i] >> 4];
        *p++ = digits[data[i] & 15];
    }
    b->len += len * 2;
    b->data[b->len] = '\0';
}

/* One large object as psql-runnable SQL, 64 KiB per statement: the descriptor numbering of a
 * fresh transaction starts at 0, hence the BEGIN/COMMIT around each object. */
static int
write_blob(dump_ctx *d, sl_conn *c, sl_bfile_segment *seg, uint32_t oid, sl_buf *b,
           sl_error *err)
{
    PGconn *pg = sl_conn_pg(c);
    int fd = lo_open(pg, oid, INV_READ);
    if (fd < 0) {
        sl_error_set(err, SL_E_SERVER, "could not open large object %u: %s", oid,
                     PQerrorMessage(pg));
        return -1;
    }
    sl_buf_reset(b);
    sl_buf_printf(b, "BEGIN;\nSELECT pg_catalog.lo_open('%u', 131072);\n", oid);
    int rc = sl_bfile_segment_write(seg, b->data, b->len, err);
    unsigned char chunk[BLOB_READ_CHUNK];
    while (rc == 0) {
        int n = lo_read(pg, fd, (char *)chunk, sizeof chunk);
        if (n < 0) {
            sl_error_set(err, SL_E_SERVER, "could not read large object %u: %s", oid,
                         PQerrorMessage(pg));
            rc = -1;
            break;
        }
        if (n == 0)
            break;
        sl_buf_reset(b);
        sl_buf_puts(b, "SELECT pg_catalog.lowrite(0, '\\x");
        hex_append(b, chunk, (size_t)n);
        sl_buf_puts(b, "');\n");
        rc = sl_bfile_segment_write(seg, b->data, b->len, err);
        sl_progress_add(d->progress, 0, n);
    }
    lo_close(pg, fd);
    if (rc == 0)
        rc = sl_bfile_segment_write(seg, "SELECT pg_catalog.lo_close(0);\nCOMMIT;\n\n", 39, err);
    return rc;
}

static int
run_blob_task(dump_ctx *d, sl_conn *c, const task *t, sl_error *err)
{
    sl_bfile_segment *seg = NULL;
    sl_buf b = SL_BUF_INIT;
    int rc = -1;
    if (sl_bfile_segment_open(d->writer, &seg, err) != 0)
        goto done;
    for (size_t i = 0; i < t->nblobs; i++)
        if (write_blob(d, c, seg, t->blobs[i], &b, err) != 0)
            goto done;
    sl_bfile_meta meta = {.phase = SL_PHASE_DATA, .parallel = true, .kind = SL_BFILE_KIND_BLOBS,
                          .rows = -1};
    rc = sl_bfile_segment_commit(seg, &meta, err);
    seg = NULL;
done:
    sl_bfile_segment_abort(seg);
    sl_buf_free(&b);
    return rc;
}

static void *
worker_main(void *arg)
{
    dump_ctx *d = arg;
    sl_conn *c = NULL;
    sl_error err;
    sl_error_clear(&err);
    if (sl_pool_acquire(d->pool, &c, &err) != 0) {
        record_failure(d, &err);
        return NULL;
    }
    register_cancel(d, c);
    if (prepare_session(c, &err) != 0) {
        record_failure(d, &err);
        sl_pool_release(d->pool, c);
        return NULL;
    }
    while (!atomic_load(&d->failed)) {
        size_t i = atomic_fetch_add(&d->next_task, 1);
        if (i >= d->ntasks)
            break;
        const task *t = &d->tasks[i];
        int rc = t->kind == TASK_TABLE ? run_table_task(d, c, t, &err)
                                       : run_blob_task(d, c, t, &err);
        if (rc != 0) {
            record_failure(d, &err);
            break;
        }
        if (t->kind == TASK_TABLE && (t->end_page < 0))
            sl_progress_item_done(d->progress);
    }
    sl_pool_release(d->pool, c);
    return NULL;
}

static int
run_workers(dump_ctx *d, int jobs, sl_error *err)
{
    pthread_t threads[MAX_SLOTS];
    int started = 0;
    if (jobs > MAX_SLOTS / 2)
        jobs = MAX_SLOTS / 2;
    for (; started < jobs; started++)
        if (pthread_create(&threads[started], NULL, worker_main, d) != 0)
            break;
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    if (started == 0) {
        sl_error_set(err, SL_E_INTERNAL, "could not start worker threads");
        return -1;
    }
    if (atomic_load(&d->failed)) {
        pthread_mutex_lock(&d->err_mu);
        *err = d->first_err;  /* kind NONE after a signal: sl_dump_run() then names it */
        pthread_mutex_unlock(&d->err_mu);
        return -1;
    }
    return 0;
}

/* ---- catalog facts the engine needs itself -------------------------------------------- */

static int
query_value(sl_conn *c, const char *sql, char **out, sl_error *err)
{
    PGresult *res = NULL;
    if (sl_conn_query(c, &res, sql, 0, NULL, err) != 0)
        return -1;
    *out = sl_strdup(PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
    return 0;
}

static int
read_blob_oids(sl_conn *c, const sl_pattern_filter *f, uint32_t **oids, size_t *n, sl_error *err)
{
    *oids = NULL;
    *n = 0;
    if (f->schema_only || f->tables_only || (f->include_schemas && f->include_schemas[0]))
        return 0;
    PGresult *res = NULL;
    if (sl_conn_query(c, &res, "SELECT oid FROM pg_catalog.pg_largeobject_metadata ORDER BY oid",
                      0, NULL, err) != 0)
        return -1;
    *n = (size_t)PQntuples(res);
    *oids = sl_calloc(*n ? *n : 1, sizeof **oids);
    for (size_t i = 0; i < *n; i++)
        (*oids)[i] = (uint32_t)strtoul(PQgetvalue(res, (int)i, 0), NULL, 10);
    PQclear(res);
    return 0;
}

/* ACCESS SHARE locks on every table whose rows are copied, so that none can be dropped or
 * altered while the backup runs; lock_timeout (30s by default) keeps a busy table from
 * stalling the backup forever. Batched to keep statements short. */
static int
lock_tables(sl_conn *c, const sl_dump_catalog *cat, sl_error *err)
{
    sl_buf sql = SL_BUF_INIT;
    int rc = 0;
    for (size_t i = 0; i < cat->ntables && rc == 0; i++) {
        sl_buf_puts(&sql, sql.len ? ", " : "LOCK TABLE ONLY ");
        sl_buf_puts(&sql, cat->tables[i].qualified);
        if ((i + 1) % 500 == 0 || i + 1 == cat->ntables) {
            sl_buf_puts(&sql, " IN ACCESS SHARE MODE");
            rc = sl_conn_exec(c, sql.data, err);
            sl_buf_reset(&sql);
        }
    }
    sl_buf_free(&sql);
    if (rc != 0)
        sl_error_prefix(err, "could not lock the tables to back up");
    return rc;
}

/* ---- progress over NOTIFY ------------------------------------------------------------ */

typedef struct notifier {
    sl_conn *conn;
    const char *channel;
    bool broken;
} notifier;

static void
notify_progress(const char *json, void *arg)
{
    notifier *n = arg;
    if (n->broken)
        return;
    const char *params[2] = {n->channel, json};
    PGresult *res = NULL;
    sl_error err;
    if (sl_conn_query(n->conn, &res, "SELECT pg_catalog.pg_notify($1, $2)", 2, params, &err)
        != 0) {
        SL_WARN("progress notifications stop: %s", err.message);
        n->broken = true;
        return;
    }
    PQclear(res);
}

/* ---- the whole backup ------------------------------------------------------------------ */

static int
open_pool(dump_ctx *d, const sl_conninfo *ci, const sl_conn_opts *copts, char **encoding,
          char **version, sl_pool **pool, sl_error *err)
{
    sl_conn *probe = NULL;
    int rc = -1;
    if (sl_conn_open(&probe, ci, copts, err) != 0)
        return -1;
    if (prepare_session(probe, err) != 0 ||
        query_value(probe,
                    "SELECT pg_catalog.pg_encoding_to_char(encoding) FROM pg_catalog.pg_database"
                    " WHERE datname = pg_catalog.current_database()",
                    encoding, err) != 0 ||
        query_value(probe, "SELECT pg_catalog.current_setting('server_version')", version, err)
            != 0)
        goto done;
    /* written into the preamble's SET client_encoding = '...' */
    if (!sl_script_is_word(*encoding)) {
        sl_error_set(err, SL_E_SERVER, "the server sent a malformed encoding name for the "
                     "database (not 1 to 63 letters, digits or underscores)");
        goto done;
    }
    sl_conninfo *wci = sl_conninfo_with_dbname(ci, NULL);
    sl_conninfo_set(wci, "client_encoding", *encoding);
    rc = sl_pool_open(pool, wci, copts,
                      SL_POOL_OPTS(.min = 1, .max = d->opts->jobs, .snapshot = true), err);
    sl_conninfo_free(wci);
done:
    sl_conn_close(probe);
    return rc;
}

static int
write_schema_and_data(dump_ctx *d, const sl_dump_catalog *cat,
                      const char *dbname, const char *encoding, const char *version,
                      sl_error *err)
{
    const sl_pattern_filter *f = d->opts->filter;
    if (write_preamble(d, dbname, encoding, version, err) != 0)
        return -1;
    if (write_phase_segment(d, &cat->items, SL_PHASE_PRE_DATA, "PRE-DATA", err) != 0)
        return -1;
    if (!f->schema_only && d->ntasks > 0 && run_workers(d, d->opts->jobs, err) != 0)
        return -1;
    if (write_phase_segment(d, &cat->items, SL_PHASE_DATA, SL_BFILE_KIND_SEQUENCE_SET, err) != 0 ||
        write_post_data(d, &cat->items, err) != 0 || write_unrestrict(d, err) != 0)
        return -1;
    return 0;
}

static int
dump_in_snapshot(dump_ctx *d, sl_conn **leaderp, const char *encoding, const char *version,
                 sl_dump_summary *summary, sl_error *err)
{
    sl_pattern_filter *f = d->opts->filter;
    sl_dump_catalog *cat = NULL;
    uint32_t *blobs = NULL;
    size_t nblobs = 0;
    char *dbname = NULL, *block = NULL;
    sl_conn *leader = *leaderp;
    int rc = -1;
    if (prepare_session(leader, err) != 0 ||
        query_value(leader, "SELECT pg_catalog.current_database()", &dbname, err) != 0 ||
        query_value(leader, "SELECT pg_catalog.current_setting('block_size')", &block, err) != 0)
        goto done;
    if (sl_pattern_filter_resolve(f, leader, err) != 0 ||
        sl_dump_catalog_read(&cat, leader, f, err) != 0)
        goto done;
    if (read_blob_oids(leader, f, &blobs, &nblobs, err) != 0)
        goto done;
    if (!f->schema_only && lock_tables(leader, cat, err) != 0)
        goto done;
    if (!f->schema_only) {
        int64_t large = d->opts->large_value_bytes > 0 ? d->opts->large_value_bytes
                                                       : DEFAULT_LARGE_VALUE_BYTES;
        if (sl_widerow_plan_read(&d->wide, leader, cat->tables, cat->ntables, large, err) != 0)
            goto done;
        plan_tasks(d, cat, blobs, nblobs, atoll(block) > 0 ? atoll(block) : 8192);
    }
    d->cat = cat;
    int64_t total_bytes = 0;
    for (size_t i = 0; i < cat->ntables; i++)
        total_bytes += cat->tables[i].bytes;
    sl_progress_set_totals(d->progress, f->schema_only ? 0 : (int64_t)cat->ntables,
                           f->schema_only ? 0 : total_bytes);
    SL_INFO("backing up database \"%s\" (%zu tables, %zu large objects, snapshot %s, %d jobs)",
            dbname, cat->ntables, nblobs, sl_pool_snapshot(d->pool), d->opts->jobs);
    /* The workers take every connection of the pool, this one included: its transaction, and
     * so the locks, stay open while it is idle in the pool. */
    sl_pool_release(d->pool, leader);
    *leaderp = NULL;
    sl_progress_start(d->progress);
    rc = write_schema_and_data(d, cat, dbname, encoding, version, err);
    sl_progress_set_bytes_out(d->progress, (int64_t)sl_bfile_writer_bytes(d->writer));
    sl_progress_stop(d->progress);
    if (rc == 0 && sl_interrupt_fired())
        rc = -1;  /* a signal while the leader was between statements: no file either */
    if (rc == 0) {
        char started[32];
        iso_now(started, sizeof started);
        sl_buf db = SL_BUF_INIT;
        sl_script_put_utf8(&db, dbname);
        sl_buf_putc(&db, '\0');  /* data is never NULL, even for an empty name */
        sl_bfile_header hdr = {.database = db.data, .server_version = version,
                               .snapshot = sl_pool_snapshot(d->pool), .started_at = started,
                               .sluice_version = "1"};
        sl_bfile_writer *w = d->writer;
        d->writer = NULL;  /* close frees it, success or not */
        rc = sl_bfile_writer_close(w, &hdr, err);
        sl_buf_free(&db);
        summary->tables = (int64_t)cat->ntables;
        summary->blobs = (int64_t)nblobs;
    }
done:
    sl_widerow_plan_free(d->wide);
    d->wide = NULL;
    sl_dump_catalog_free(cat);
    free(blobs);
    free(dbname);
    free(block);
    return rc;
}

int
sl_dump_run(const sl_conninfo *ci, const sl_conn_opts *conn_opts, const sl_dump_opts *opts,
            sl_dump_summary *summary, sl_error *err)
{
    dump_ctx d = {.opts = opts};
    notifier note = {.channel = opts->notify_channel};
    char *encoding = NULL, *version = NULL;
    sl_conn *leader = NULL;
    int rc = -1;
    memset(summary, 0, sizeof *summary);
    pthread_mutex_init(&d.err_mu, NULL);
    sl_interrupt_arm(&d.failed);
    if (sl_script_restrict_key(d.restrict_key, err) != 0)
        goto done;
    if (opts->notify_channel && sl_conn_open(&note.conn, ci, conn_opts, err) != 0)
        goto done;
    if (open_pool(&d, ci, conn_opts, &encoding, &version, &d.pool, err) != 0)
        goto done;
    if (sl_bfile_writer_open(&d.writer, opts->output, &opts->codec, err) != 0)
        goto done;
    d.progress = sl_progress_new(&(sl_progress_opts){
        .label = "backup", .tty = opts->progress_tty, .quiet = opts->quiet,
        .interval_s = opts->progress_interval_s,
        .callback = note.conn ? notify_progress : NULL, .callback_arg = &note});
    if (sl_pool_acquire(d.pool, &leader, err) != 0)
        goto done;
    register_cancel(&d, leader);
    rc = dump_in_snapshot(&d, &leader, encoding, version, summary, err);
done:
    if (rc != 0 && sl_interrupt_fired())
        sl_error_set(err, SL_E_CANCELED, "backup interrupted by a signal");
    if (leader)
        sl_pool_release(d.pool, leader);
    sl_bfile_writer_abort(d.writer);  /* NULL after a successful close */
    if (d.progress) {
        sl_progress_figures fig;
        sl_progress_read(d.progress, &fig);
        summary->rows = fig.rows;
        summary->bytes_in = fig.bytes_in;
        summary->bytes_out = fig.bytes_out;
        summary->elapsed_s = fig.elapsed_s;
    }
    sl_progress_free(d.progress);
    sl_pool_close(d.pool);
    sl_conn_close(note.conn);
    sl_interrupt_disarm();
    free(d.tasks);
    free(encoding);
    free(version);
    pthread_mutex_destroy(&d.err_mu);
    return rc;
}
