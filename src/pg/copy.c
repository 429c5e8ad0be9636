/* pg/copy.c: COPY OUT and COPY IN streams on a borrowed connection.
 * Both run libpq in blocking mode: PQgetCopyData(async=0) hands over one row at a time in a
 * buffer libpq allocates (freed before the next call), and PQputCopyData() flushes libpq's
 * output buffer as it fills, so neither side ever holds more than a row and a socket buffer. */
#include "pg/copy.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"

/* PQputCopyData takes an int length: larger puts are cut into pieces of this size. */
#define PUT_PIECE (1 << 30)

struct sl_copy_reader {
    sl_conn *conn;
    char *chunk;  /* libpq's buffer from the last PQgetCopyData, or NULL */
    uint64_t bytes;
    uint64_t rows;
    bool done;    /* the COPY has finished (successfully or not); results are drained */
};

struct sl_copy_writer {
    sl_conn *conn;
};

static uint64_t
cmd_tuples(PGresult *res)
{
    const char *t = PQcmdTuples(res);
    return t && *t ? strtoull(t, NULL, 10) : 0;
}

/* Reads the results that follow a COPY until libpq has none left, so the connection is ready
 * for the next statement. Returns the first non-success result (the caller clears it), or NULL
 * with *rows set from the command-complete result. */
static PGresult *
drain_results(PGconn *pg, uint64_t *rows)
{
    PGresult *failed = NULL;
    PGresult *res;
    while ((res = PQgetResult(pg)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_COMMAND_OK && rows)
            *rows = cmd_tuples(res);
        if (st == PGRES_COPY_IN) {
            /* the server still expects data after an error on our side: end it */
            PQputCopyEnd(pg, "client stopped the COPY");
        } else if (st == PGRES_COPY_OUT) {
            char *buf = NULL;
            while (PQgetCopyData(pg, &buf, 0) > 0) {
                PQfreemem(buf);
                buf = NULL;
            }
        }
        if (st != PGRES_COMMAND_OK && !failed && st != PGRES_COPY_IN && st != PGRES_COPY_OUT) {
            failed = res;
            continue;
        }
        PQclear(res);
        if (PQstatus(pg) == CONNECTION_BAD)
            break;
    }
    return failed;
}

static int
start_copy(sl_conn *conn, const char *sql, ExecStatusType want, sl_error *err)
{
    PGresult *res = PQexec(sl_conn_pg(conn), sql);
    ExecStatusType st = PQresultStatus(res);
    int rc = 0;
    if (st != want) {
        if (st == PGRES_FATAL_ERROR || st == PGRES_NONFATAL_ERROR || !res)
            sl_conn_error_from(conn, res, err);
        else
            sl_error_set(err, SL_E_INTERNAL, "statement did not start a COPY %s",
                         want == PGRES_COPY_OUT ? "TO STDOUT" : "FROM STDIN");
        rc = -1;
    }
    PQclear(res);
    if (rc != 0) {
        if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT)
            PQclear(drain_results(sl_conn_pg(conn), NULL));
        sl_buf head = SL_BUF_INIT;
        sl_conninfo_redact_sql(sql, strnlen(sql, 4096), &head);
        sl_error_context(err, "statement %.200s", head.data);
        sl_buf_free(&head);
    }
    return rc;
}

int
sl_copy_reader_open(sl_copy_reader **out, sl_conn *conn, const char *sql, sl_error *err)
{
    if (start_copy(conn, sql, PGRES_COPY_OUT, err) != 0)
        return -1;
    sl_copy_reader *r = sl_calloc(1, sizeof *r);
    r->conn = conn;
    *out = r;
    return 0;
}

static int
finish_reader(sl_copy_reader *r, sl_error *err)
{
    PGresult *failed = drain_results(sl_conn_pg(r->conn), &r->rows);
    r->done = true;
    if (failed || PQstatus(sl_conn_pg(r->conn)) == CONNECTION_BAD) {
        sl_conn_error_from(r->conn, failed, err);
        PQclear(failed);
        return -1;
    }
    return 0;
}

int
sl_copy_reader_next(sl_copy_reader *r, const char **data, size_t *len, sl_error *err)
{
    PQfreemem(r->chunk);
    r->chunk = NULL;
    if (r->done)
        return 0;
    int n = PQgetCopyData(sl_conn_pg(r->conn), &r->chunk, /*async=*/0);
    if (n > 0) {
        *data = r->chunk;
        *len = (size_t)n;
        r->bytes += (uint64_t)n;
        return 1;
    }
    if (n == -1)  /* the COPY is over: its result says whether it succeeded */
        return finish_reader(r, err) == 0 ? 0 : -1;
    /* -2: libpq failed (connection lost, out of memory) */
    sl_conn_error_from(r->conn, NULL, err);
    PQclear(drain_results(sl_conn_pg(r->conn), NULL));
    r->done = true;
    return -1;
}

uint64_t
sl_copy_reader_bytes(const sl_copy_reader *r)
{
    return r->bytes;
}

uint64_t
sl_copy_reader_rows(const sl_copy_reader *r)
{
    return r->rows;
}

void
sl_copy_reader_close(sl_copy_reader *r)
{
    if (!r)
        return;
    PQfreemem(r->chunk);
    if (!r->done) {
        /* Reading the rest of a large table just to drop it could take hours: ask the server
         * to stop, then drain what is already on its way. */
        sl_conn_cancel(r->conn);
        PQclear(drain_results(sl_conn_pg(r->conn), NULL));
    }
    free(r);
}

int
sl_copy_writer_open(sl_copy_writer **out, sl_conn *conn, const char *sql, sl_error *err)
{
    if (start_copy(conn, sql, PGRES_COPY_IN, err) != 0)
        return -1;
    sl_copy_writer *w = sl_calloc(1, sizeof *w);
    w->conn = conn;
    *out = w;
    return 0;
}

int
sl_copy_writer_put(sl_copy_writer *w, const void *data, size_t len, sl_error *err)
{
    const char *p = data;
    while (len > 0) {
        int piece = len > PUT_PIECE ? PUT_PIECE : (int)len;
        if (PQputCopyData(sl_conn_pg(w->conn), p, piece) != 1) {
            sl_conn_error_from(w->conn, NULL, err);
            return -1;
        }
        p += piece;
        len -= (size_t)piece;
    }
    return 0;
}

int
sl_copy_writer_end(sl_copy_writer *w, uint64_t *rows, sl_error *err)
{
    if (!w)
        return 0;
    PGconn *pg = sl_conn_pg(w->conn);
    uint64_t n = 0;
    int rc = -1;
    if (PQputCopyEnd(pg, NULL) != 1) {
        sl_conn_error_from(w->conn, NULL, err);
        PQclear(drain_results(pg, NULL));
        goto done;
    }
    PGresult *failed = drain_results(pg, &n);
    if (failed || PQstatus(pg) == CONNECTION_BAD) {
        sl_conn_error_from(w->conn, failed, err);  /* e.g. a bad row, with its line in detail */
        PQclear(failed);
        goto done;
    }
    if (rows)
        *rows = n;
    rc = 0;
done:
    free(w);
    return rc;
}

void
sl_copy_writer_abort(sl_copy_writer *w, const char *reason)
{
    if (!w)
        return;
    PGconn *pg = sl_conn_pg(w->conn);
    if (PQputCopyEnd(pg, reason ? reason : "aborted by sluice") == 1) {
        /* the server answers with the error we asked for: expected, not reported */
        PQclear(drain_results(pg, NULL));
    }
    free(w);
}
