/* tests/unit/test_hex.c: base/hex.h writes lower-case hex, two digits a byte, and keeps a
 * buffer NUL-terminated when it appends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/hex.h"

static void
test_encode(void **state)
{
    (void)state;
    const unsigned char bytes[] = {0x00, 0x0f, 0x10, 0xab, 0xff};
    char out[11];
    memset(out, '#', sizeof out);
    sl_hex_encode(out, bytes, sizeof bytes);
    assert_memory_equal(out, "000f10abff", 10);
    assert_int_equal(out[10], '#');  /* no NUL written */
}

static void
test_append(void **state)
{
    (void)state;
    sl_buf b = SL_BUF_INIT;
    sl_buf_puts(&b, "\\x");
    const unsigned char one[] = {0xde, 0xad};
    sl_hex_append(&b, one, sizeof one);
    sl_hex_append(&b, NULL, 0);
    const unsigned char two[] = {0xbe, 0xef};
    sl_hex_append(&b, two, sizeof two);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "\\xdeadbeef");
    sl_buf_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_append),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
