/* libFuzzer target for mysql/script: any input must split without crashing, and the
 * statements (or the error) must not depend on where the chunks are cut. Statements stay
 * within the limit, are NUL-terminated, and are the input's bytes at their offset.
 * Build: cmake -DSL_FUZZ=ON -DCMAKE_C_COMPILER=clang ...; run: ./fuzz_myscript corpus/ */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzkit.h"
#include "base/buf.h"
#include "mysql/script.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
transcript(const uint8_t *data, size_t size, size_t step, sl_buf *out)
{
    sl_myscript *s = sl_myscript_new(1 << 12);
    sl_error err;
    sl_error_clear(&err);
    sl_myscript_stmt st;
    int rc = 0;
    for (size_t pos = 0;; pos += step) {
        if (pos >= size)
            sl_myscript_finish(s);
        else
            sl_myscript_feed(s, data + pos, size - pos < step ? size - pos : step);
        while ((rc = sl_myscript_next(s, &st, &err)) == 1) {
            if (st.offset + st.len > size || st.len > 1 << 12 || st.text[st.len] != '\0' ||
                memcmp(data + st.offset, st.text, st.len) != 0)
                abort();
            char head[80];
            if (strlen(sl_myscript_head(st.text, st.len, head, sizeof head)) >= sizeof head)
                abort();
            sl_buf_printf(out, "\n[%llu %llu]", (unsigned long long)st.line,
                          (unsigned long long)st.offset);
            sl_buf_append(out, st.text, st.len);
        }
        if (rc < 0) {
            sl_buf_printf(out, "\nerror: %s %s", err.message, err.context);
            break;
        }
        if (pos >= size)
            break;
    }
    sl_myscript_free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_same_in_chunks(data, size, 17, transcript, "statements");
    return 0;
}
