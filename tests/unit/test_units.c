/* tests/unit/test_units.c: base/units.h prints sizes in IEC units, whoever prints them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/units.h"

static const struct {
    int64_t bytes;
    const char *text;
} sizes[] = {
    {0, "0 B"},
    {1023, "1023 B"},
    {1024, "1.0 KiB"},
    {1536, "1.5 KiB"},
    {200LL << 20, "200.0 MiB"},
    {(5LL << 30) / 4, "1.2 GiB"},
    {3LL << 40, "3.0 TiB"},
    {2048LL << 40, "2048.0 TiB"},  /* TiB is the largest unit */
};

static void
test_iec_units(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char buf[32];
        assert_ptr_equal(sl_units_bytes(sizes[i].bytes, buf, sizeof buf), buf);
        assert_string_equal(buf, sizes[i].text);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_iec_units)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
