/* libFuzzer target for pg/pgoutput (the binary messages of a pgoutput slot): the input is a
 * run of messages, each a 1-byte length and that many bytes, decoded by one decoder so that
 * relations described earlier are used by later changes. Whatever the bytes, each message is
 * decoded or refused with an error; a decoded change's values lie inside its message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pg/pgoutput.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_values(const sl_pgoutput_value *v, size_t n, const uint8_t *msg, size_t len)
{
    for (size_t i = 0; v && i < n; i++)
        if (v[i].kind == 't' &&
            ((const uint8_t *)v[i].text < msg ||
             (const uint8_t *)v[i].text + v[i].len > msg + len))
            abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sl_pgoutput *d = sl_pgoutput_new();
    while (size > 0) {
        size_t len = data[0] < size - 1 ? data[0] : size - 1;
        /* a copy of exactly len bytes: a read past it is ASan's to see */
        uint8_t *msg = malloc(len ? len : 1);
        memcpy(msg, data + 1, len);
        sl_pgoutput_msg m;
        sl_error err;
        if (sl_pgoutput_decode(d, (const char *)msg, len, &m, &err) == 0 && m.rel) {
            check_values(m.old, m.rel->ncols, msg, len);
            check_values(m.new_row, m.rel->ncols, msg, len);
        }
        free(msg);
        data += 1 + len;
        size -= 1 + len;
    }
    sl_pgoutput_free(d);
    return 0;
}
