/* libFuzzer target for restore/splitter: any input must split without crashing, and the items
 * must not depend on where the chunks are cut (whole input vs. cut at a fuzzer-chosen size).
 * Statements stay within the limit (and the shared budget gives back what they took), COPY
 * data within its chunk size, and every meta-command line parses or is refused as a corrupt
 * file.
 * Build: cmake -DSL_FUZZ=ON -DCMAKE_C_COMPILER=clang ...; run: ./fuzz_splitter corpus/ */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzkit.h"
#include "base/buf.h"
#include "restore/splitter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
parse_meta(const char *line)
{
    char *name = NULL, *arg = NULL;
    sl_error err;
    sl_error_clear(&err);
    if (sl_splitter_parse_meta(line, &name, &arg, &err) == 0) {
        if (!name)
            abort();
    } else if (err.kind != SL_E_ARCHIVE) {
        abort();
    }
    free(name);
    free(arg);
}

/* Splits data in chunks of `step` bytes; writes a transcript of items (COPY data joined) and
 * the error message, if any, to out. */
static void
transcript(const uint8_t *data, size_t size, size_t step, sl_buf *out)
{
    sl_splitter_budget *budget = sl_splitter_budget_new(1 << 16);
    sl_splitter *s = sl_splitter_new(SL_SPLITTER_OPTS(.max_statement = 1 << 16,
                                                      .max_copy_chunk = 64, .budget = budget));
    sl_error err;
    sl_error_clear(&err);
    sl_split_item it;
    int rc = 0;
    bool in_data = false;
    for (size_t pos = 0;; pos += step) {
        if (pos >= size)
            sl_splitter_finish(s);
        else
            sl_splitter_feed(s, data + pos, size - pos < step ? size - pos : step);
        while ((rc = sl_splitter_next(s, &it, &err)) == 1) {
            if (it.offset + it.len > size || (it.kind == SL_SPLIT_COPY_DATA && it.len > 64)
                || (it.kind == SL_SPLIT_STATEMENT && it.len > 1 << 16)
                || (it.kind != SL_SPLIT_COPY_DATA && strlen(it.text) != it.len))
                abort();
            if (it.kind == SL_SPLIT_META)
                parse_meta(it.text);
            if (it.kind == SL_SPLIT_COPY_DATA && in_data) {
                sl_buf_append(out, it.text, it.len);
                continue;
            }
            in_data = it.kind == SL_SPLIT_COPY_DATA;
            sl_buf_printf(out, "\n[%d %d %llu %llu]", (int)it.kind, (int)it.copy_in,
                          (unsigned long long)it.line, (unsigned long long)it.offset);
            sl_buf_append(out, it.text, it.len);
        }
        if (rc < 0) {
            sl_buf_printf(out, "\nerror: %s", err.message);
            break;
        }
        if (pos >= size)
            break;
    }
    sl_splitter_free(s);
    sl_splitter_budget_free(budget);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_same_in_chunks(data, size, 17, transcript, "items");
    return 0;
}
