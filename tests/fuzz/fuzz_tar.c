/* libFuzzer target for io/tar.c's reader: any bytes as an archive must be walked to its end or
 * refused, in constant memory, and every member it accepts must lie inside the file.
 * Build: cmake -DSL_FUZZ=ON -DCMAKE_C_COMPILER=clang ...; run: ./fuzz_tar corpus/ */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "io/tar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz_tar", 0);
    if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
        abort();
    uint64_t off = 0;
    sl_tar_member m;
    sl_error err;
    sl_error_clear(&err);
    int rc;
    while ((rc = sl_tar_next(fd, size, "fuzz.tar", &off, &m, &err)) == 1) {
        if (m.data_off + m.size > size || off > size || m.name[0] == '\0')
            abort();
    }
    if (rc == 0 && off != size)
        abort();
    close(fd);
    return 0;
}
