/* restore/report.c: see report.h. */
#include "restore/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

static int
compare_tables(const void *a, const void *b)
{
    const sl_bfile_entry *x = *(const sl_bfile_entry *const *)a;
    const sl_bfile_entry *y = *(const sl_bfile_entry *const *)b;
    int c = strcmp(x->schema ? x->schema : "", y->schema ? y->schema : "");
    return c ? c : strcmp(x->name ? x->name : "", y->name ? y->name : "");
}

/* "; table data complete for 2 of 3 tables (public.a, public.b)": a table counts once all
 * its TABLE DATA segments (a large table has several) completed. */
static void
describe_tables(const engine *eng, sl_buf *msg)
{
    size_t count = sl_bfile_reader_count(eng->reader), n = 0;
    const sl_bfile_entry *first = sl_bfile_reader_entry(eng->reader, 0);
    const sl_bfile_entry **data = sl_calloc(count ? count : 1, sizeof *data);
    for (size_t i = 0; i < count; i++)
        if (sl_bfile_kind_is(first[i].kind, SL_BFILE_KIND_TABLE_DATA))
            data[n++] = &first[i];
    qsort(data, n, sizeof *data, compare_tables);
    sl_buf names = SL_BUF_INIT;
    size_t tables = 0, complete = 0, unnamed = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        bool all = true;
        for (; j < n && compare_tables(&data[i], &data[j]) == 0; j++)
            all = all && eng->done[data[j] - first];
        tables++;
        if (all && names.len < 400) {
            sl_buf_printf(&names, "%s%s%s%s", names.len ? ", " : "",
                          data[i]->schema ? data[i]->schema : "", data[i]->schema ? "." : "",
                          data[i]->name ? data[i]->name : "");
        } else if (all) {
            unnamed++;
        }
        complete += all;
        i = j;
    }
    if (tables > 0) {
        sl_buf_printf(msg, "; table data complete for %zu of %zu tables", complete, tables);
        if (complete > 0)
            sl_buf_printf(msg, " (%s%s)", names.data, unnamed ? ", ..." : "");
    }
    sl_buf_free(&names);
    free(data);
}

void
sl__restore_interrupted(const engine *eng, sl_error *err)
{
    const sl_restore_opts *o = eng->opts;
    sl_buf msg = SL_BUF_INIT;
    char where[sizeof err->context] = "";
    sl_buf_puts(&msg, "restore interrupted by a signal: ");
    if (o->single_transaction && !eng->committed) {
        sl_buf_puts(&msg, "nothing was restored (--single-transaction: its transaction was "
                          "rolled back)");
    } else if (atomic_load(&eng->statements) == 0) {
        sl_buf_puts(&msg, "nothing was restored yet");
    } else if (eng->archive && eng->done) {
        long long done = 0;
        for (size_t i = 0; i < eng->plan.n; i++)
            done += eng->done[i];
        sl_buf_printf(&msg, "%lld of %zu entries of the archive restored; the statements in "
                            "progress were canceled and rolled back", done, eng->plan.n);
    } else if (!eng->reader || !eng->done || !sl_bfile_reader_indexed(eng->reader)) {
        /* the canceled statement's location, when one was running, is err's context */
        snprintf(where, sizeof where, "%s", err->context);
        if (where[0]) {
            sl_buf_puts(&msg, "the statements of the script before the one in progress stay "
                              "committed; that one was canceled and rolled back");
        } else {
            long long n = atomic_load(&eng->statements);
            sl_buf_printf(&msg, "%lld statement%s of the script ran and stay%s committed", n,
                          n == 1 ? "" : "s", n == 1 ? "s" : "");
        }
    } else {
        long long total = 0, done = 0;
        for (size_t i = 0; i < sl_bfile_reader_count(eng->reader); i++) {
            if (sl_bfile_reader_entry(eng->reader, i)->phase == SL_PHASE_PREAMBLE)
                continue;
            total++;
            done += eng->done[i];
        }
        sl_buf_printf(&msg, "%lld of %lld segments restored", done, total);
        describe_tables(eng, &msg);
        sl_buf_puts(&msg, "; the statements in progress were canceled and rolled back");
    }
    sl_error_set(err, SL_E_CANCELED, "%s", msg.data);
    if (where[0])
        sl_error_context(err, "%s", where);
    sl_buf_free(&msg);
}
