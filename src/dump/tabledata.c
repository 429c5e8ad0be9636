/* dump/tabledata.c: see tabledata.h. */
#include "dump/tabledata.h"

#include <string.h>

#include "base/buf.h"
#include "dump/emit.h"
#include "pg/copy.h"

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
    int64_t rows_told = *rows, bytes = 0;  /* rows and bytes not yet added to the progress */
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
        bytes += (int64_t)len;
        /* the counters are shared by the workers: added to per row they cost a cache-line
         * transfer each time */
        if ((*rows & 0xfff) == 0) {
            sl_progress_add(d->progress, *rows - rows_told, bytes);
            rows_told = *rows;
            bytes = 0;
            sl_progress_set_bytes_out(d->progress, (int64_t)sl_bfile_writer_bytes(d->writer));
        }
    }
    sl_progress_add(d->progress, *rows - rows_told, bytes);
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

int
sl__dump_table_data(dump_ctx *d, sl_conn *c, const task *t, sl_error *err)
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
    sl__dump_meta_names(&meta, tb->schema, tb->name, &names);
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
