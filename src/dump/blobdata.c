/* dump/blobdata.c: see blobdata.h. */
#include "dump/blobdata.h"

#include <libpq/libpq-fs.h>

#include "base/buf.h"
#include "base/hex.h"

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
        sl_hex_append(b, chunk, (size_t)n);
        sl_buf_puts(b, "');\n");
        rc = sl_bfile_segment_write(seg, b->data, b->len, err);
        sl_progress_add(d->progress, 0, n);
    }
    lo_close(pg, fd);
    if (rc == 0)
        rc = sl_bfile_segment_write(seg, "SELECT pg_catalog.lo_close(0);\nCOMMIT;\n\n", 39, err);
    return rc;
}

int
sl__dump_blob_data(dump_ctx *d, sl_conn *c, const task *t, sl_error *err)
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
