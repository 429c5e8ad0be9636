/* restore/runner.c: see runner.h.
 * The end of a COPY is held back until the next item or the end of the segment: a segment's
 * checksum is only known at its end, so a corrupt TABLE DATA segment has its COPY aborted
 * instead of committed. */
#include "restore/runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "pg/conninfo.h"
#include "pg/copy.h"
#include "restore/freeze.h"
#include "restore/meta.h"
#include "restore/statement.h"

static int
source_read(source *src, const char **data, size_t *len, sl_error *err)
{
    if (src->stream)
        return sl_bfile_stream_read(src->stream, data, len, err);
    if (src->toc)
        return sl_toc_text_read(src->toc, data, len, err);
    if (src->mem_sent)
        return 0;
    src->mem_sent = true;
    *data = src->mem;
    *len = src->mem_len;
    return 1;
}

/* The first line of a statement (or meta-command), cut short and with its secrets redacted
 * (pg/conninfo.h), for messages: a statement's text reaches them only through here. */
void
sl__restore_head(const char *text, size_t len, char *out, size_t cap)
{
    size_t line = 0;
    while (line < len && line < 1024 && text[line] != '\n' && text[line] != '\r')
        line++;
    sl_buf b = SL_BUF_INIT;
    sl_conninfo_redact_sql(text, line, &b);
    size_t n = b.len < cap - 4 ? b.len : cap - 4;
    memcpy(out, b.data, n);
    out[n] = '\0';
    if (line < len || n < b.len)
        strcat(out, "...");
    sl_buf_free(&b);
}

void
sl__restore_locate(sl_error *err, const where *wh, uint64_t line, uint64_t offset,
                   const char *head)
{
    char seg[sizeof err->context];
    const char *what = wh->entry ? sl_bfile_entry_describe(wh->entry, seg, sizeof seg)
                                 : wh->label;
    err->context[0] = '\0';  /* the location replaces what a lower layer said */
    sl_error_context(err, "statement at line %llu (offset %llu) of %s: %s",
                     (unsigned long long)line, (unsigned long long)offset, what, head);
}

int
sl__restore_statement_failed(run *r, uint64_t line, uint64_t offset, const char *head,
                             sl_error *err)
{
    engine *eng = r->w->eng;
    sl__restore_locate(err, r->wh, line, offset, head);
    if (sl__restore_stopping(eng))
        return RUN_FAIL;
    if (err->kind == SL_E_SERVER && strcmp(err->sqlstate, "40P01") == 0 && r->can_retry) {
        r->retry_at = r->idx - 1;
        return RUN_RETRY;
    }
    if (eng->opts->existing_roles_ok && err->kind == SL_E_SERVER &&
        strcmp(err->sqlstate, "42710") == 0 && strncmp(head, "CREATE ROLE ", 12) == 0) {
        SL_INFO("%s: kept as it is", err->message);
        sl_error_clear(err);
        return RUN_OK;
    }
    bool recoverable = err->kind == SL_E_SERVER || err->kind == SL_E_UNSUPPORTED;
    if (!eng->opts->continue_on_error || !recoverable ||
        PQstatus(sl_conn_pg(r->w->conn)) != CONNECTION_OK)
        return RUN_FAIL;
    sl_log_error(err);
    atomic_fetch_add(&eng->errors, 1);
    sl_error_clear(err);
    return RUN_OK;
}

static int
copy_finish(run *r, sl_error *err)
{
    if (!r->end_pending)
        return RUN_OK;
    r->end_pending = false;
    uint64_t rows = 0;
    sl_copy_writer *cw = r->cw;
    r->cw = NULL;
    if (sl_copy_writer_end(cw, &rows, err) != 0)
        return sl__restore_statement_failed(r, r->copy_line, r->copy_offset, r->copy_head,
                                            err);
    atomic_fetch_add(&r->w->eng->rows, (long long)rows);
    sl_progress_add(r->w->eng->progress, (int64_t)rows, 0);
    return RUN_OK;
}

static int
run_statement(run *r, const sl_split_item *it, sl_error *err)
{
    engine *eng = r->w->eng;
    uint64_t idx = r->idx++;
    if (idx < r->skip ||
        sl_statement_skipped(it->text, eng->opts->no_owner, eng->opts->no_privileges)) {
        r->copy_skip = it->copy_in;
        return RUN_OK;
    }
    char head[96];
    sl__restore_head(it->text, it->len, head, sizeof head);
    atomic_fetch_add(&eng->statements, 1);
    if (!it->copy_in) {
        if (sl_conn_exec(r->w->conn, it->text, err) != 0)
            return sl__restore_statement_failed(r, it->line, it->offset, head, err);
        return RUN_OK;
    }
    r->copy_line = it->line;
    r->copy_offset = it->offset;
    memcpy(r->copy_head, head, sizeof r->copy_head);
    r->copy_skip = false;
    const char *sql = r->w->eng->opts->single_transaction
                          ? sl__restore_copy_sql(r->w->conn, it, &r->sql)
                          : it->text;
    if (sl_log_enabled(SL_LOG_DEBUG)) {
        char label[48];
        snprintf(label, sizeof label, "COPY at line %llu", (unsigned long long)it->line);
        sl_conn_log_statement(label, sql);
    }
    if (sl_copy_writer_open(&r->cw, r->w->conn, sql, err) != 0) {
        r->cw = NULL;
        r->copy_skip = true;
        return sl__restore_statement_failed(r, it->line, it->offset, head, err);
    }
    return RUN_OK;
}

static int
run_item(run *r, const sl_split_item *it, sl_error *err)
{
    if (it->kind != SL_SPLIT_COPY_DATA) {
        int rc = copy_finish(r, err);
        if (rc != RUN_OK)
            return rc;
    }
    switch (it->kind) {
    case SL_SPLIT_STATEMENT:
        return run_statement(r, it, err);
    case SL_SPLIT_COPY_DATA:
        if (r->cw && !r->copy_skip && sl_copy_writer_put(r->cw, it->text, it->len, err) != 0) {
            sl__restore_locate(err, r->wh, r->copy_line, r->copy_offset, r->copy_head);
            return RUN_FAIL;
        }
        return RUN_OK;
    case SL_SPLIT_COPY_END:
        r->end_pending = r->cw != NULL;
        r->copy_skip = false;
        return RUN_OK;
    case SL_SPLIT_META:
        return sl__restore_meta(r, it, err);
    }
    return RUN_OK;
}

int
sl__restore_run_text(worker *w, source *src, const where *wh, bool plain, bool can_retry,
                     uint64_t skip, uint64_t *retry_at, sl_error *err)
{
    engine *eng = w->eng;
    run r = {.w = w, .wh = wh, .plain = plain, .can_retry = can_retry, .skip = skip};
    sl_buf_init(&r.sql);
    sl_splitter *sp = sl_splitter_new(SL_SPLITTER_OPTS(.max_statement = eng->opts->max_statement,
                                                       .budget = eng->budget));
    int rc = RUN_OK;
    for (bool more = true; more && rc == RUN_OK;) {
        if (sl__restore_stopping(eng)) {
            sl_error_set(err, SL_E_CANCELED, "restore stopped");
            rc = RUN_FAIL;
            break;
        }
        const char *data = NULL;
        size_t len = 0;
        int got = source_read(src, &data, &len, err);
        if (got < 0) {
            rc = RUN_FAIL;
            break;
        }
        if (got == 0) {
            sl_splitter_finish(sp);
            more = false;
        } else {
            sl_splitter_feed(sp, data, len);
            atomic_fetch_add(&eng->bytes, (long long)len);
            sl_progress_add(eng->progress, 0, (int64_t)len);
        }
        sl_split_item it;
        int n = 0;
        while (rc == RUN_OK && (n = sl_splitter_next(sp, &it, err)) == 1) {
            if (sl__restore_stopping(eng)) {  /* a signal between two statements */
                sl_error_set(err, SL_E_CANCELED, "restore stopped");
                rc = RUN_FAIL;
                break;
            }
            rc = run_item(&r, &it, err);
        }
        if (rc == RUN_OK && n < 0) {
            char seg[sizeof err->context];
            if (wh->entry)
                sl_error_context(err, "%s at file offset %llu",
                                 sl_bfile_entry_describe(wh->entry, seg, sizeof seg),
                                 (unsigned long long)wh->entry->offset);
            else
                sl_error_context(err, "%s", wh->label);
            rc = RUN_FAIL;
        }
    }
    if (rc == RUN_OK)
        rc = copy_finish(&r, err);  /* the segment checked out: the last COPY may commit */
    if (r.cw) {
        sl_copy_writer_abort(r.cw, rc == RUN_OK ? NULL : "the restore failed");
        r.cw = NULL;
    }
    if (rc == RUN_RETRY)
        *retry_at = r.retry_at;
    sl_splitter_free(sp);
    sl_buf_free(&r.sql);
    return rc;
}
