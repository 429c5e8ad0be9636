/* tests/fuzz/fuzz_pgarchive.c: arbitrary bytes as a pg_dump custom archive, through
 * io/pgarchive.c: open (header, TOC, the scan of a pipe's data blocks), then every entry's
 * data, large objects included. Nothing may crash, leak, read out of bounds or allocate by a
 * length the file does not hold; every refusal must be an sl_error of kind archive (or io).
 * Seeds: tests/fuzz/seeds/fuzz_pgarchive (pg_dump 15's archives and built 1.16 ones: see
 * tests/unit/data/pgarchive/README). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzzkit.h"
#include "io/pgarchive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void
check_kind(const sl_error *err)
{
    if (err->kind != SL_E_ARCHIVE && err->kind != SL_E_IO)
        abort();
}

/* Reads a stream to its end; returns the rc of the last read. */
static int
drain(sl_pgarchive_data *d, sl_error *err)
{
    const void *p;
    size_t n;
    int rc;
    while ((rc = sl_pgarchive_data_read(d, &p, &n, err)) == 1) {
        if (n == 0 || n > SL_PGARCHIVE_CHUNK)
            abort();
        (void)((const volatile char *)p)[n - 1];
    }
    return rc;
}

static void
read_entry(const sl_pgarchive *a, const sl_pgarchive_entry *e)
{
    sl_pgarchive_data *d = NULL;
    sl_error err = {0};
    if (sl_pgarchive_data_open(&d, a, e, &err) != 0) {
        check_kind(&err);
        return;
    }
    int rc;
    if (strcmp(e->desc, "BLOBS") == 0) {
        uint32_t oid;
        int k = 0;
        while ((rc = sl_pgarchive_blob_next(d, &oid, &err)) == 1)
            if (k++ % 2 == 0 && (rc = drain(d, &err)) < 0)  /* every other one skipped */
                break;
    } else {
        rc = drain(d, &err);
    }
    if (rc < 0)
        check_kind(&err);
    sl_pgarchive_data_close(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_file("pgarchive.dump", data, size);

    sl_pgarchive *a = NULL;
    sl_error err = {0};
    if (sl_pgarchive_open(&a, path, &err) != 0) {
        check_kind(&err);
        unlink(path);
        return 0;
    }
    for (size_t i = 0; i < sl_pgarchive_count(a); i++) {
        const sl_pgarchive_entry *e = sl_pgarchive_at(a, i);
        if (!e->tag || !e->desc || sl_pgarchive_find(a, e->dump_id) != e)
            abort();
        for (size_t k = 0; k < e->ndeps; k++)
            if (!sl_pgarchive_find(a, e->deps[k]))
                abort();
        if (e->has_data)
            read_entry(a, e);
    }
    sl_pgarchive_close(a);
    unlink(path);
    return 0;
}
