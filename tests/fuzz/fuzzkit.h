/* tests/fuzz/fuzzkit.h: what several libFuzzer targets share.
 *   fuzz_write_file(): targets whose reader takes a path write each input to one file per
 *     process (tmpfs when there is one: it is written for every input) and remove it after.
 *   fuzz_same_in_chunks(): targets of a streaming parser check that feeding the input in chunks
 *     of any size gives the same transcript as feeding it whole; the first byte picks the chunk
 *     size (1 to modulo). */
#ifndef SL_TESTS_FUZZKIT_H
#define SL_TESTS_FUZZKIT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"

/* Writes data to the target's file, named after name (e.g. "bfile.sql"), and returns its path. */
static inline const char *
fuzz_write_file(const char *name, const uint8_t *data, size_t size)
{
    static char path[128];
    if (!path[0])
        snprintf(path, sizeof path, "%s/sl-fuzz-%d-%s",
                 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (int)getpid(), name);
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    return path;
}

typedef void (*fuzz_transcript)(const uint8_t *data, size_t size, size_t step, sl_buf *out);

static inline void
fuzz_same_in_chunks(const uint8_t *data, size_t size, size_t modulo, fuzz_transcript transcript,
                    const char *what)
{
    if (size == 0)
        return;
    size_t step = (size_t)data[0] % modulo + 1;
    data++;
    size--;
    sl_buf whole = SL_BUF_INIT, cut = SL_BUF_INIT;
    transcript(data, size, size + 1, &whole);
    transcript(data, size, step, &cut);
    if (whole.len != cut.len || (whole.len && memcmp(whole.data, cut.data, whole.len) != 0)) {
        fprintf(stderr, "chunking changed the %s (step %zu)\n", what, step);
        abort();
    }
    sl_buf_free(&whole);
    sl_buf_free(&cut);
}

#endif
