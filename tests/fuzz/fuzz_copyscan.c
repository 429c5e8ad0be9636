/* libFuzzer target for pg/copyscan, the COPY row counter: any text must be counted without
 * crashing, and the count must not depend on how the text is cut into chunks (whole, at a
 * fuzzer-chosen point, or one byte at a time).
 * Build: cmake -DSL_FUZZ=ON -DCMAKE_C_COMPILER=clang ...; run: ./fuzz_copyscan corpus/ */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pg/copyscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t cut = data[0] % size;
    const char *text = (const char *)data + 1;
    size_t n = size - 1;
    sl_copyscan whole = {0}, two = {0}, bytes = {0};
    sl_copyscan_feed(&whole, text, n);
    sl_copyscan_feed(&two, text, cut < n ? cut : n);
    sl_copyscan_feed(&two, text + (cut < n ? cut : n), n - (cut < n ? cut : n));
    for (size_t i = 0; i < n; i++)
        sl_copyscan_feed(&bytes, text + i, 1);
    bool a = sl_copyscan_finish(&whole), b = sl_copyscan_finish(&two),
         c = sl_copyscan_finish(&bytes);
    if (a != b || a != c || whole.rows != two.rows || whole.rows != bytes.rows)
        abort();
    return 0;
}
