/* Unit tests for io/tar.c: headers that GNU tar reads (checked in tests/e2e with Python's
 * tarfile and tar -t), read back by sl_tar_next(); every kind of damage refused with the
 * offset; sizes above ustar's octal limit in base-256. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/tar.h"

/* An archive in a temporary file: members of the given sizes (contents: their index byte),
 * then the two end blocks. Returns the fd; *size gets the file's size. */
static int
make_archive(const uint64_t *sizes, size_t n, uint64_t *size)
{
    char path[] = "/tmp/sluice-test-tar-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    unsigned char block[SL_TAR_BLOCK];
    sl_error err;
    sl_error_clear(&err);
    for (size_t i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "databases/%04zu.sql.gz", i);
        assert_int_equal(sl_tar_header(block, name, sizes[i], 1700000000, &err), 0);
        assert_int_equal(write(fd, block, sizeof block), (ssize_t)sizeof block);
        uint64_t total = sizes[i] + sl_tar_padding(sizes[i]);
        unsigned char *data = calloc(1, total ? total : 1);
        memset(data, (int)i + 1, sizes[i]);
        assert_int_equal(write(fd, data, total), (ssize_t)total);
        free(data);
    }
    memset(block, 0, sizeof block);
    assert_int_equal(write(fd, block, sizeof block), (ssize_t)sizeof block);
    assert_int_equal(write(fd, block, sizeof block), (ssize_t)sizeof block);
    *size = (uint64_t)lseek(fd, 0, SEEK_END);
    return fd;
}

static void
test_members_read_back(void **state)
{
    (void)state;
    const uint64_t sizes[] = {0, 1, 511, 512, 513, 4096};
    uint64_t size = 0;
    int fd = make_archive(sizes, 6, &size);
    sl_error err;
    sl_error_clear(&err);
    uint64_t off = 0;
    sl_tar_member m;
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(sl_tar_next(fd, size, "a.tar", &off, &m, &err), 1);
        char name[64];
        snprintf(name, sizeof name, "databases/%04zu.sql.gz", i);
        assert_string_equal(m.name, name);
        assert_int_equal(m.size, sizes[i]);
        assert_int_equal(m.mtime, 1700000000);
        assert_int_equal(m.data_off % SL_TAR_BLOCK, 0);
    }
    assert_int_equal(sl_tar_next(fd, size, "a.tar", &off, &m, &err), 0);
    assert_int_equal(off, size);
    close(fd);
}

/* One byte changed anywhere in a header is caught (checksum, or a field that no longer
 * parses); the same for an archive cut at any block. */
static void
test_damage_is_refused(void **state)
{
    (void)state;
    const uint64_t sizes[] = {100};
    uint64_t size = 0;
    int fd = make_archive(sizes, 1, &size);
    sl_error err;
    sl_tar_member m;
    for (size_t at = 0; at < SL_TAR_BLOCK; at++) {
        unsigned char byte, flipped;
        assert_int_equal(pread(fd, &byte, 1, (off_t)at), 1);
        flipped = byte ^ 0x01;
        assert_int_equal(pwrite(fd, &flipped, 1, (off_t)at), 1);
        uint64_t off = 0;
        sl_error_clear(&err);
        int rc = sl_tar_next(fd, size, "a.tar", &off, &m, &err);
        if (rc == 1) {
            /* only bytes tar does not check may change: the checksum field's trailing
             * space/NUL (a tolerated variation) */
            assert_true(at >= 148 && at < 156);
        } else {
            assert_int_equal(rc, -1);
            assert_int_equal(err.kind, SL_E_ARCHIVE);
            assert_non_null(strstr(err.message, "a.tar"));
        }
        assert_int_equal(pwrite(fd, &byte, 1, (off_t)at), 1);
    }
    for (uint64_t cut = 0; cut < size; cut += SL_TAR_BLOCK) {
        uint64_t off = 0;
        sl_error_clear(&err);
        int rc = sl_tar_next(fd, cut, "a.tar", &off, &m, &err);
        if (rc == 1)
            rc = sl_tar_next(fd, cut, "a.tar", &off, &m, &err);
        assert_int_equal(rc, -1);
        assert_non_null(strstr(err.message, "truncated"));
    }
    /* something after the end blocks */
    unsigned char junk = 'x';
    assert_int_equal(pwrite(fd, &junk, 1, (off_t)size), 1);
    uint64_t off = 0;
    sl_error_clear(&err);
    assert_int_equal(sl_tar_next(fd, size + 1, "a.tar", &off, &m, &err), 1);
    assert_int_equal(sl_tar_next(fd, size + 1, "a.tar", &off, &m, &err), -1);
    assert_non_null(strstr(err.message, "after the end"));
    close(fd);
}

static void
test_large_size_and_names(void **state)
{
    (void)state;
    unsigned char block[SL_TAR_BLOCK];
    sl_error err;
    sl_error_clear(&err);
    uint64_t big = 20ULL << 30;  /* over ustar's 8 GiB */
    assert_int_equal(sl_tar_header(block, "databases/0001.sql.zst", big, 0, &err), 0);
    assert_int_equal(block[124], 0x80);
    char path[] = "/tmp/sluice-test-tar-XXXXXX";
    int fd = mkstemp(path);
    unlink(path);
    assert_int_equal(write(fd, block, sizeof block), (ssize_t)sizeof block);
    uint64_t off = 0;
    sl_tar_member m;
    /* the archive "holds" the member: its claimed size is what the file size says */
    assert_int_equal(sl_tar_next(fd, SL_TAR_BLOCK + big, "a.tar", &off, &m, &err), 1);
    assert_int_equal(m.size, big);
    close(fd);
    const char *bad_names[] = {"", "/etc/passwd", "../x", "a/../b", "has space", "tab\tname",
                               "0123456789012345678901234567890123456789012345678901234567890"
                               "1234567890123456789012345678901234567890"};
    for (size_t i = 0; i < sizeof bad_names / sizeof *bad_names; i++) {
        sl_error_clear(&err);
        assert_int_equal(sl_tar_header(block, bad_names[i], 1, 0, &err), -1);
        assert_int_equal(err.kind, SL_E_INTERNAL);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_members_read_back),
        cmocka_unit_test(test_damage_is_refused),
        cmocka_unit_test(test_large_size_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
