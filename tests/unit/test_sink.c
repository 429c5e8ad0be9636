/* tests/unit/test_sink.c: atomic files (NAME.partial -> NAME), spools, positional copies and
 * SHA-256, without a server. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#define SCRATCH_FILE "out.sql"
#include "scratch.h"

#include "io/checksum.h"
#include "io/sink.h"

static void
test_close_renames_with_mode_0600(void **state)
{
    scratch *f = *state;
    sl_sink *s = NULL;
    sl_error err = {0};
    mode_t old = umask(0);
    assert_int_equal(sl_sink_open(&s, f->path, &err), 0);
    umask(old);
    assert_string_equal(sl_sink_path(s), f->path);
    assert_string_equal(sl_sink_dir(s), f->dir);
    assert_int_equal(access(f->partial, F_OK), 0);
    assert_int_equal(access(f->path, F_OK), -1);  /* nothing looks complete yet */
    assert_int_equal(sl_sink_write(s, "hello ", 6, &err), 0);
    assert_int_equal(sl_sink_write(s, "world\n", 6, &err), 0);
    assert_int_equal(sl_sink_close(s, &err), 0);
    assert_int_equal(access(f->partial, F_OK), -1);
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_size, 12);
    char buf[16] = "";
    int fd = open(f->path, O_RDONLY);
    assert_int_equal(read(fd, buf, sizeof buf), 12);
    close(fd);
    assert_string_equal(buf, "hello world\n");
}

static void
test_abort_unlinks(void **state)
{
    scratch *f = *state;
    sl_sink *s = NULL;
    sl_error err = {0};
    assert_int_equal(sl_sink_open(&s, f->path, &err), 0);
    assert_int_equal(sl_sink_write(s, "x", 1, &err), 0);
    sl_sink_abort(s);
    assert_int_equal(access(f->partial, F_OK), -1);
    assert_int_equal(access(f->path, F_OK), -1);
    sl_sink_abort(NULL);
    assert_int_equal(sl_sink_close(NULL, &err), 0);
}

/* A stale NAME.partial, even a symlink to somewhere else, is replaced, not written through. */
static void
test_stale_partial_replaced(void **state)
{
    scratch *f = *state;
    char victim[160];
    snprintf(victim, sizeof victim, "%s/victim", f->dir);
    int fd = open(victim, O_CREAT | O_WRONLY, 0644);
    assert_int_equal(write(fd, "keep", 4), 4);
    close(fd);
    assert_int_equal(symlink(victim, f->partial), 0);
    sl_sink *s = NULL;
    sl_error err = {0};
    assert_int_equal(sl_sink_open(&s, f->path, &err), 0);
    assert_int_equal(sl_sink_write(s, "new", 3, &err), 0);
    assert_int_equal(sl_sink_close(s, &err), 0);
    struct stat st;
    assert_int_equal(stat(victim, &st), 0);
    assert_int_equal(st.st_size, 4);
    assert_int_equal(lstat(f->path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
}

static void
test_missing_directory(void **state)
{
    scratch *f = *state;
    char path[200];
    snprintf(path, sizeof path, "%s/no/such/x.sql", f->dir);
    sl_sink *s = NULL;
    sl_error err = {0};
    assert_int_equal(sl_sink_open(&s, path, &err), -1);
    assert_int_equal(err.kind, SL_E_IO);
    assert_non_null(strstr(err.message, "could not create"));
    assert_non_null(strstr(err.message, "/no/such/x.sql.partial"));
    assert_int_equal(sl_spool_open("/nonexistent-dir-for-sluice", &err), -1);
    assert_int_equal(err.kind, SL_E_IO);
}

static void
test_spool_and_copy(void **state)
{
    scratch *f = *state;
    sl_error err = {0};
    int a = sl_spool_open(f->dir, &err), b = sl_spool_open(f->dir, &err);
    assert_true(a >= 0 && b >= 0);
    /* spools leave no name behind */
    char cmd[160];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A %s)\"", f->dir);
    assert_int_equal(system(cmd), 0);
    size_t n = 3u << 20;
    char *data = malloc(n), *back = malloc(n);
    for (size_t i = 0; i < n; i++)
        data[i] = (char)(i * 31 + (i >> 12));
    assert_int_equal(sl_pwrite_all(a, data, n, 0, "a", &err), 0);
    assert_int_equal(sl_sink_copy_range(a, 100, b, 7, n - 100, "b", &err), 0);
    assert_int_equal(sl_pread_all(b, back, n - 100, 7, "b", &err), 0);
    assert_memory_equal(back, data + 100, n - 100);
    /* reading past the end is a truncated file */
    assert_int_equal(sl_pread_all(b, back, 10, n, "b", &err), -1);
    assert_int_equal(err.kind, SL_E_ARCHIVE);
    assert_non_null(strstr(err.message, "truncated"));
    free(data);
    free(back);
    close(a);
    close(b);
}

static void
test_sha256_vectors(void **state)
{
    (void)state;
    unsigned char d[SL_SHA256_LEN], e[SL_SHA256_LEN];
    char hex[SL_SHA256_HEX_LEN + 1];
    sl_error err = {0};
    assert_int_equal(sl_sha256_digest("abc", 3, d, &err), 0);
    sl_sha256_hex(d, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_true(sl_sha256_parse_hex(hex, e));
    assert_memory_equal(d, e, SL_SHA256_LEN);
    /* incremental equals one-shot; empty input has its own well-known digest */
    sl_sha256 *h = NULL;
    assert_int_equal(sl_sha256_new(&h, &err), 0);
    sl_sha256_update(h, "a", 1);
    sl_sha256_update(h, "", 0);
    sl_sha256_update(h, "bc", 2);
    assert_int_equal(sl_sha256_final(h, e, &err), 0);
    assert_memory_equal(d, e, SL_SHA256_LEN);
    assert_int_equal(sl_sha256_reset(h, &err), 0);
    assert_int_equal(sl_sha256_final(h, e, &err), 0);
    sl_sha256_hex(e, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sl_sha256_free(h);
    /* only exactly 64 lowercase hex digits parse */
    assert_false(sl_sha256_parse_hex(
        "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", e));
    assert_false(sl_sha256_parse_hex("ba78", e));
    assert_false(sl_sha256_parse_hex(NULL, e));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        SCRATCH_TEST(test_close_renames_with_mode_0600),
        SCRATCH_TEST(test_abort_unlinks),
        SCRATCH_TEST(test_stale_partial_replaced),
        SCRATCH_TEST(test_missing_directory),
        SCRATCH_TEST(test_spool_and_copy),
        cmocka_unit_test(test_sha256_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
