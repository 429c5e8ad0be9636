/* mydump/rows.c: see rows.h. */
#include "mydump/rows.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "mysql/quote.h"

typedef enum { VALUE_NUMBER, VALUE_HEX, VALUE_TEXT } value_form;

/* How a column's values are written, from the result's field metadata. Charset 63 is
 * "binary": BINARY, VARBINARY and BLOB columns (temporal and numeric fields carry it too, so
 * only string types are looked at for it). */
static value_form
form_of(const MYSQL_FIELD *f)
{
    switch (f->type) {
    case MYSQL_TYPE_TINY: case MYSQL_TYPE_SHORT: case MYSQL_TYPE_LONG: case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_LONGLONG: case MYSQL_TYPE_DECIMAL: case MYSQL_TYPE_NEWDECIMAL:
    case MYSQL_TYPE_FLOAT: case MYSQL_TYPE_DOUBLE: case MYSQL_TYPE_YEAR:
        return VALUE_NUMBER;
    case MYSQL_TYPE_BIT: case MYSQL_TYPE_GEOMETRY:
        return VALUE_HEX;
    case MYSQL_TYPE_STRING: case MYSQL_TYPE_VAR_STRING: case MYSQL_TYPE_VARCHAR:
    case MYSQL_TYPE_TINY_BLOB: case MYSQL_TYPE_BLOB: case MYSQL_TYPE_MEDIUM_BLOB:
    case MYSQL_TYPE_LONG_BLOB:
        return f->charsetnr == 63 ? VALUE_HEX : VALUE_TEXT;
    default:
        return VALUE_TEXT;
    }
}

static void
put_value(sl_buf *out, value_form form, const char *v, unsigned long len)
{
    if (!v)
        sl_buf_puts(out, "NULL");
    else if (form == VALUE_HEX)
        sl_mysql_put_hex(out, (const unsigned char *)v, len);
    else if (form == VALUE_NUMBER && sl_mysql_is_number(v, len))
        sl_buf_append(out, v, len);
    else
        sl_mysql_put_literal(out, v, len);
}

static void
select_sql(const mydump_task *t, sl_buf *sql)
{
    sl_buf_printf(sql, "SELECT /*!40001 SQL_NO_CACHE */ %s FROM ", t->table->select_list);
    sl_mysql_put_ident(sql, t->table->name);
    if (!t->ranged || (!t->has_lo && !t->has_hi))
        return;
    sl_buf_puts(sql, " WHERE ");
    if (t->has_lo) {
        sl_mysql_put_ident(sql, t->table->int_key);
        sl_buf_printf(sql, " >= %lld%s", t->lo, t->has_hi ? " AND " : "");
    }
    if (t->has_hi) {
        sl_mysql_put_ident(sql, t->table->int_key);
        sl_buf_printf(sql, " < %lld", t->hi);
    }
}

typedef struct statement {
    sl_buf text;
    size_t head_len;  /* "INSERT INTO ... VALUES\n" */
    bool has_rows;
} statement;

static int
flush_statement(mydump_ctx *d, sl_bfile_segment *seg, statement *s, sl_error *err)
{
    if (!s->has_rows)
        return 0;
    sl_buf_puts(&s->text, ";\n");
    int rc = sl_bfile_segment_write(seg, s->text.data, s->text.len, err);
    sl_progress_set_bytes_out(d->progress, (int64_t)sl_bfile_writer_bytes(d->writer));
    s->text.len = s->head_len;
    s->text.data[s->head_len] = '\0';
    s->has_rows = false;
    return rc;
}

/* Appends one row; the statement is written out first when the row would not fit in it. */
static int
add_row(mydump_ctx *d, sl_bfile_segment *seg, statement *s, const sl_buf *row, sl_error *err)
{
    if (s->has_rows && s->text.len + row->len + 3 > d->max_statement &&
        flush_statement(d, seg, s, err) != 0)
        return -1;
    if (s->has_rows)
        sl_buf_puts(&s->text, ",\n");
    sl_buf_append(&s->text, row->data, row->len);
    s->has_rows = true;
    return 0;
}

static int
stream_rows(mydump_ctx *d, sl_mysql *c, const mydump_task *t, sl_bfile_segment *seg,
            statement *s, int64_t *rows, sl_error *err)
{
    sl_buf sql = SL_BUF_INIT, row = SL_BUF_INIT;
    value_form *forms = NULL;
    int rc = -1;
    select_sql(t, &sql);
    MYSQL_RES *res = sl_mysql_query(c, sql.data, true, err);
    if (!res)
        goto done;
    unsigned n = mysql_num_fields(res);
    MYSQL_FIELD *fields = mysql_fetch_fields(res);
    forms = sl_calloc(n ? n : 1, sizeof *forms);
    for (unsigned i = 0; forms && i < n; i++)
        forms[i] = form_of(&fields[i]);
    for (;;) {
        MYSQL_ROW r;
        unsigned long *lens;
        int got = sl_mysql_next_row(c, res, &r, &lens, err);
        if (got < 0)
            goto done;
        if (got == 0)
            break;
        if (sl__mydump_stopping(d)) {
            sl_error_set(err, SL_E_CANCELED, "backup canceled");
            goto done;
        }
        sl_buf_reset(&row);
        sl_buf_putc(&row, '(');
        unsigned long bytes = 0;
        for (unsigned i = 0; i < n; i++) {
            if (i)
                sl_buf_putc(&row, ',');
            put_value(&row, forms ? forms[i] : VALUE_TEXT, r[i], lens[i]);
            bytes += lens[i];
        }
        sl_buf_putc(&row, ')');
        if (add_row(d, seg, s, &row, err) != 0)
            goto done;
        (*rows)++;
        sl_progress_add(d->progress, 1, (int64_t)bytes);
    }
    rc = 0;
done:
    /* freeing a streamed result reads what is left of it: after an error that may be much */
    if (res)
        mysql_free_result(res);
    free(forms);
    sl_buf_free(&sql);
    sl_buf_free(&row);
    return rc;
}

int
sl__mydump_table_rows(mydump_ctx *d, sl_mysql *c, const mydump_task *t, sl_error *err)
{
    const sl_mydump_table *tb = t->table;
    statement s = {SL_BUF_INIT, 0, false};
    sl_bfile_segment *seg = NULL;
    int64_t rows = 0;
    int rc = -1;
    sl_buf_puts(&s.text, "INSERT INTO ");
    sl_mysql_put_ident(&s.text, tb->name);
    if (tb->partial)
        sl_buf_printf(&s.text, " (%s)", tb->select_list);
    sl_buf_puts(&s.text, " VALUES\n");
    s.head_len = s.text.len;
    if (sl_bfile_segment_open(d->writer, &seg, err) != 0 ||
        stream_rows(d, c, t, seg, &s, &rows, err) != 0 || flush_statement(d, seg, &s, err) != 0)
        goto done;
    sl_bfile_meta meta = {.phase = SL_PHASE_DATA, .parallel = true,
                          .kind = SL_BFILE_KIND_TABLE_DATA, .schema = d->database,
                          .name = tb->name, .rows = rows};
    rc = sl_bfile_segment_commit(seg, &meta, err);
    seg = NULL;  /* commit frees the segment whatever it returns */
done:
    if (rc != 0)
        sl_error_context(err, "table `%s`", tb->name);
    sl_bfile_segment_abort(seg);
    sl_buf_free(&s.text);
    return rc;
}
