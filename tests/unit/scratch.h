/* tests/unit/scratch.h: a cmocka fixture giving each test an empty scratch directory under /tmp
 * with a file name in it (not created), removed with everything in it after the test.
 * Use: SCRATCH_TEST(test) in the test table; the test's state is a scratch *. */
#ifndef SL_TESTS_SCRATCH_H
#define SL_TESTS_SCRATCH_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SCRATCH_FILE
#define SCRATCH_FILE "db.sql"
#endif

typedef struct scratch {
    char dir[64];
    char path[128];     /* dir/SCRATCH_FILE */
    char partial[160];  /* path.partial */
} scratch;

#define SCRATCH_TEST(fn) cmocka_unit_test_setup_teardown(fn, scratch_setup, scratch_teardown)

static int
scratch_setup(void **state)
{
    scratch *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/sl-unit-XXXXXX");
    if (!f || !mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/%s", f->dir, SCRATCH_FILE);
    snprintf(f->partial, sizeof f->partial, "%s.partial", f->path);
    *state = f;
    return 0;
}

static int
scratch_teardown(void **state)
{
    scratch *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

#endif
