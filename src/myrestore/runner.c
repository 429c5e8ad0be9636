/* myrestore/runner.c: see runner.h. */
#include "myrestore/runner.h"

#include <stdbool.h>

#include "mysql/script.h"

static int
run_statement(const sl__myrun *r, const sl_myscript_stmt *st, sl_error *err)
{
    if (r->dry)
        return 0;
    if (atomic_load(r->stop)) {
        sl_error_set(err, SL_E_CANCELED, "stopped before the statement at line %llu of %s",
                     (unsigned long long)st->line, r->what);
        return -1;
    }
    if (sl_mysql_exec_len(r->conn, st->text, st->len, err) == 0) {
        atomic_fetch_add(r->statements, 1);
        return 0;
    }
    if (sl_mysql_error_is_client(r->conn))
        err->kind = SL_E_CONNECT;
    char head[120];
    sl_myscript_head(st->text, st->len, head, sizeof head);
    sl_error_context(err, "%s, statement at line %llu: %s", r->what,
                     (unsigned long long)st->line, head);
    return -1;
}

/* Takes the statements the splitter has: 0 when it wants more input, -1 on error. */
static int
drain(const sl__myrun *r, sl_myscript *s, sl_error *err)
{
    sl_myscript_stmt st;
    int rc;
    while ((rc = sl_myscript_next(s, &st, err)) == 1)
        if (run_statement(r, &st, err) != 0)
            return -1;
    if (rc < 0)
        sl_error_prefix(err, "%s", r->what);
    return rc;
}

int
sl__myrestore_run_text(const sl__myrun *r, sl_bfile_stream *stream, const char *mem,
                       size_t mem_len, sl_error *err)
{
    sl_myscript *s = sl_myscript_new(r->max_statement);
    int rc = 0;
    if (!stream) {
        sl_myscript_feed(s, mem, mem_len);
        rc = drain(r, s, err);
    }
    while (stream && rc == 0) {
        const char *data;
        size_t len;
        int got = sl_bfile_stream_read(stream, &data, &len, err);
        if (got < 0) {
            rc = -1;
            break;
        }
        if (got == 0)
            break;
        if (r->progress)
            sl_progress_add(r->progress, 0, (int64_t)len);
        sl_myscript_feed(s, data, len);
        rc = drain(r, s, err);
    }
    if (rc == 0) {
        sl_myscript_finish(s);
        rc = drain(r, s, err);
    }
    sl_myscript_free(s);
    return rc;
}
