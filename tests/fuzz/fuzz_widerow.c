/* libFuzzer target for pg/widerow's line splitter, which reads COPY lines a server sends
 * ("fields...\t[tf]\tctid"): whatever the line, it either refuses it, or keeps a prefix that
 * ends right before "\tf\t", or takes as the ctid exactly what follows the last tab of a line
 * whose flag field is "t"; it never reads or keeps more than the line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "pg/widerow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* its own copy, exactly size bytes, so that a read past the line is caught */
    char *line = malloc(size ? size : 1);
    memcpy(line, data, size);
    size_t len = size && line[size - 1] == '\n' ? size - 1 : size;
    size_t keep = 0;
    sl_buf ctid = SL_BUF_INIT;
    sl_error err;
    sl_error_clear(&err);
    int rc = sl_widerow_split_line(line, size, &keep, &ctid, &err);
    if (rc == 0) {
        if (keep + 3 > len || memcmp(line + keep, "\tf\t", 3) != 0
            || memchr(line + keep + 3, '\t', len - keep - 3))
            abort();
    } else if (rc == 1) {
        const char *tab = memrchr(line, '\t', len);
        if (!tab || tab - line < 2 || memcmp(tab - 2, "\tt", 2) != 0
            || ctid.len != len - (size_t)(tab + 1 - line)
            || memcmp(ctid.data ? ctid.data : "", tab + 1, ctid.len) != 0)
            abort();
    } else if (rc != -1 || !err.message[0]) {
        abort();
    }
    sl_buf_free(&ctid);
    free(line);
    return 0;
}
