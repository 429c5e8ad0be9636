/* libFuzzer target for io/tarstream.c: any bytes as a decompressed tar stream must be read or
 * refused in bounded memory, with the same members and contents whether they come whole, cut
 * at a fuzzer-chosen point, or a byte at a time.
 * Build: cmake -DSL_FUZZ=ON -DCMAKE_C_COMPILER=clang ...; run: ./fuzz_tarstream corpus/ */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/tarstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct seen {
    uint64_t members, bytes, hash;
} seen;

static int
on_member(void *ctx, const char *name, uint64_t size, sl_error *err)
{
    (void)err;
    seen *s = ctx;
    s->members++;
    for (const char *p = name; *p; p++)
        s->hash = s->hash * 31 + (unsigned char)*p;
    s->hash ^= size;
    return 0;
}

static int
on_data(void *ctx, const void *data, size_t len, sl_error *err)
{
    (void)err;
    seen *s = ctx;
    s->bytes += len;
    for (size_t i = 0; i < len; i++)
        s->hash = s->hash * 131 + ((const unsigned char *)data)[i];
    return 0;
}

/* Feeds data in pieces of at most step bytes (0: whole); 0 read, -1 refused. */
static int
run(const uint8_t *data, size_t size, size_t step, seen *s)
{
    const sl_tarstream_ops ops = {.member = on_member, .data = on_data};
    sl_tarstream *t = sl_tarstream_new(&ops, s);
    sl_error err;
    sl_error_clear(&err);
    int rc = 0;
    for (size_t at = 0; at < size && rc == 0;) {
        size_t n = step && size - at > step ? step : size - at;
        rc = sl_tarstream_feed(t, data + at, n, &err);
        at += n;
    }
    if (rc == 0)
        rc = sl_tarstream_finish(t, &err);
    sl_tarstream_free(t);
    return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t cut = 1 + data[0] % 700;
    seen a = {0}, b = {0}, c = {0};
    int ra = run(data + 1, size - 1, 0, &a);
    int rb = run(data + 1, size - 1, cut, &b);
    int rc = run(data + 1, size - 1, size < 4096 ? 1 : 97, &c);
    if (ra != rb || ra != rc)
        abort();
    if (ra == 0 && (memcmp(&a, &b, sizeof a) != 0 || memcmp(&a, &c, sizeof a) != 0))
        abort();
    return 0;
}
