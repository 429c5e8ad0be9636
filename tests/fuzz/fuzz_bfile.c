/* tests/fuzz/fuzz_bfile.c: arbitrary bytes as a backup file, through the reader, every stream
 * (with and without verification) and sl_verify_file(). Nothing may crash, leak or read out of
 * bounds; every refusal must be an sl_error of kind archive (or io). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzzkit.h"
#include "io/bfile.h"
#include "restore/verify.h"


static void
check_kind(const sl_error *err)
{
    if (err->kind != SL_E_ARCHIVE && err->kind != SL_E_IO)
        abort();
}

static void
drain(const sl_bfile_reader *r, const sl_bfile_entry *e, bool verify)
{
    sl_bfile_stream *s = NULL;
    sl_error err = {0};
    const char *data;
    size_t len;
    int rc;
    if (sl_bfile_stream_open(&s, r, e, verify, &err) != 0) {
        check_kind(&err);
        return;
    }
    while ((rc = sl_bfile_stream_read(s, &data, &len, &err)) == 1)
        if (len == 0)
            abort();  /* a chunk is never empty */
    if (rc < 0)
        check_kind(&err);
    (void)sl_bfile_stream_offset(s);
    sl_bfile_stream_close(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_file("bfile.sql", data, size);

    sl_bfile_reader *r = NULL;
    sl_error err = {0};
    if (sl_bfile_reader_open(&r, path, &err) == 0) {
        size_t n = sl_bfile_reader_count(r);
        for (size_t i = 0; i < n && i < 64; i++)
            drain(r, sl_bfile_reader_entry(r, i), i % 2 == 0);
        drain(r, NULL, false);
        (void)sl_bfile_reader_header(r, "database");
        sl_bfile_reader_close(r);
    } else {
        check_kind(&err);
    }
    sl_verify_report rep;
    sl_error verr = {0};
    if (sl_verify_file(path, &rep, &verr) == 0)
        sl_verify_report_free(&rep);
    else
        check_kind(&verr);
    unlink(path);
    return 0;
}
