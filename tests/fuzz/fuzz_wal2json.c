/* libFuzzer target for tap/wal2json (a wal2json format-version 2 message): any bytes are either
 * decoded or refused with SL_E_SERVER naming a byte, never a crash or a read past them; a
 * decoded message's texts are NUL-terminated, NUL-free and of their stated length, and the
 * same decoder, reused, decodes the same bytes the same way. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "tap/wal2json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_text(const char *s, size_t len, sl_buf *out)
{
    if (!s) {
        sl_buf_puts(out, "(null)");
        return;
    }
    if (strlen(s) != len)
        abort();
    sl_buf_printf(out, "[%zu]", len);
    sl_buf_append(out, s, len);
}

static void
transcript(sl_tap_wal2json *d, const uint8_t *msg, size_t len, sl_buf *out)
{
    sl_tap_wal2json_msg m;
    sl_error err;
    sl_error_clear(&err);
    if (sl_tap_wal2json_decode(d, (const char *)msg, len, &m, &err) != 0) {
        if (err.kind != SL_E_SERVER || !strstr(err.message, " at byte "))
            abort();
        sl_buf_printf(out, "error: %s", err.message);
        return;
    }
    if (!m.action)
        abort();
    sl_buf_printf(out, "%c ", m.action);
    check_text(m.schema, m.schema ? strlen(m.schema) : 0, out);
    check_text(m.table, m.table ? strlen(m.table) : 0, out);
    check_text(m.timestamp, m.timestamp ? strlen(m.timestamp) : 0, out);
    const sl_tap_wal2json_col *lists[2] = {m.columns, m.identity};
    size_t n[2] = {m.ncolumns, m.nidentity};
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < n[k]; i++) {
            check_text(lists[k][i].name, lists[k][i].name_len, out);
            check_text(lists[k][i].text, lists[k][i].len, out);
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a copy of exactly size bytes: a read past it is ASan's to see */
    uint8_t *msg = malloc(size ? size : 1);
    memcpy(msg, data, size);
    sl_tap_wal2json *d = sl_tap_wal2json_new();
    sl_buf first = SL_BUF_INIT, again = SL_BUF_INIT;
    transcript(d, msg, size, &first);
    transcript(d, msg, size, &again);
    if (first.len != again.len || memcmp(first.data, again.data, first.len) != 0)
        abort();
    sl_buf_free(&first);
    sl_buf_free(&again);
    sl_tap_wal2json_free(d);
    free(msg);
    return 0;
}
