/* Unit tests for dump/script.c: what a backup writes outside quotes, so that psql never reads a
 * name or a server's text as a meta-command. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "dump/script.h"

static const struct {
    const char *name;
    const char *in;
    const char *want;
} comments[] = {
    {"plain name", "public.t", "public.t"},
    {"NULL", NULL, ""},
    {"empty", "", ""},
    {"LF starts a meta-command", "evil\n\\! id > pwned\n", "evil\\n\\\\! id > pwned\\n"},
    {"CR ends a comment in psql's lexer", "x\r\\! id\r", "x\\r\\\\! id\\r"},
    {"CRLF", "a\r\nb", "a\\r\\nb"},
    {"backslash doubled, so escapes stay unambiguous", "a\\nb", "a\\\\nb"},
    {"restrict look-alike", "\n\\restrict k\n", "\\n\\\\restrict k\\n"},
    {"terminal escape and bell", "\x1b[31mred\x1b[0m\x1b]0;t\x07",
     "\\x1b[31mred\\x1b[0m\\x1b]0;t\\x07"},
    {"tab, vertical tab, form feed", "a\tb\vc\fd", "a\\tb\\x0bc\\x0cd"},
    {"DEL", "a\x7f", "a\\x7f"},
    {"quotes and comment markers are harmless in a comment", "q'\"x*/ /* -- ;",
     "q'\"x*/ /* -- ;"},
    {"UTF-8 kept", "\xe2\x82\xac\xc3\xa9", "\xe2\x82\xac\xc3\xa9"},
    {"C1 bytes of UTF-8 continuation kept", "\xc2\x85", "\xc2\x85"},
};

static void
test_comment_text(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof comments / sizeof comments[0]; i++) {
        sl_buf b = SL_BUF_INIT;
        sl_buf_puts(&b, "-- ");
        sl_script_put_comment_text(&b, comments[i].in);
        if (strcmp(b.data + 3, comments[i].want) != 0)
            fail_msg("%s: got \"%s\", want \"%s\"", comments[i].name, b.data + 3,
                     comments[i].want);
        if (strpbrk(b.data, "\r\n"))
            fail_msg("%s: a line break reached the comment", comments[i].name);
        sl_buf_free(&b);
    }
}

/* Every byte value: nothing but printable text and bytes >= 0x80 comes out. */
static void
test_comment_text_every_byte(void **state)
{
    (void)state;
    char all[256];
    for (int i = 1; i < 256; i++)
        all[i - 1] = (char)i;
    all[255] = '\0';
    sl_buf b = SL_BUF_INIT;
    sl_script_put_comment_text(&b, all);
    for (size_t i = 0; i < b.len; i++) {
        unsigned char c = (unsigned char)b.data[i];
        if (c < 0x20 || c == 0x7f)
            fail_msg("control byte 0x%02x at %zu", c, i);
    }
    sl_buf_free(&b);
}

static const struct {
    const char *name;
    const char *in;
    const char *want;
} utf8[] = {
    {"ASCII", "public.t", "public.t"},
    {"NULL", NULL, ""},
    {"two, three and four bytes", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
     "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"},
    {"LATIN1 e acute", "caf\xe9", "caf\\xe9"},
    {"SQL_ASCII bytes", "t\xff\xfe", "t\\xff\\xfe"},
    {"lone continuation byte", "a\x80" "b", "a\\x80b"},
    {"truncated sequence at the end", "a\xe2\x82", "a\\xe2\\x82"},
    {"truncated sequence before ASCII", "\xe2\x82x", "\\xe2\\x82x"},
    {"overlong slash", "\xc0\xaf", "\\xc0\\xaf"},
    {"overlong three bytes", "\xe0\x80\xaf", "\\xe0\\x80\\xaf"},
    {"surrogate", "\xed\xa0\x80", "\\xed\\xa0\\x80"},
    {"above U+10FFFF", "\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"},
    {"largest code point", "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"},
    {"control characters are left to the comment sanitizer", "a\nb", "a\nb"},
};

static void
test_utf8(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof utf8 / sizeof utf8[0]; i++) {
        sl_buf b = SL_BUF_INIT;
        sl_buf_puts(&b, "");
        sl_script_put_utf8(&b, utf8[i].in);
        if (strcmp(b.data ? b.data : "", utf8[i].want) != 0)
            fail_msg("%s: got \"%s\", want \"%s\"", utf8[i].name, b.data, utf8[i].want);
        sl_buf_free(&b);
    }
}

static const struct {
    const char *in;
    bool want;
} integers[] = {
    {"0", true},
    {"42", true},
    {"-1", true},
    {"9223372036854775807", true},
    {"-9223372036854775808", true},
    {"", false},
    {"-", false},
    {"1e3", false},
    {" 1", false},
    {"1 ", false},
    {"+1", false},
    {"1.0", false},
    {"12345678901234567890", false},
    {"1);\n\\! id\n--", false},
    {"1\n", false},
    {"0x10", false},
    {NULL, false},
};

static void
test_integer(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof integers / sizeof integers[0]; i++)
        if (sl_script_is_integer(integers[i].in) != integers[i].want)
            fail_msg("\"%s\": want %s", integers[i].in ? integers[i].in : "NULL",
                     integers[i].want ? "accepted" : "refused");
}

static const struct {
    const char *in;
    bool want;
} words[] = {
    {"UTF8", true},
    {"SQL_ASCII", true},
    {"EUC_JP", true},
    {"WIN1252", true},
    {"", false},
    {"UTF8';\n\\! id\n--", false},
    {"UTF-8", false},
    {"a b", false},
    {"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", true},   /* 63 */
    {"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", false},  /* 64 */
    {NULL, false},
};

static void
test_word(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (sl_script_is_word(words[i].in) != words[i].want)
            fail_msg("\"%s\": want %s", words[i].in ? words[i].in : "NULL",
                     words[i].want ? "accepted" : "refused");
}

static const struct {
    const char *name;
    const char *row;
    bool want;
} rows[] = {
    {"one row", "1\tone\n", true},
    {"escaped newline and CR", "1\ta\\nb\\rc\n", true},
    {"NULL", "\\N\n", true},
    {"empty row", "\n", true},
    {"no newline", "1\tone", false},
    {"empty message", "", false},
    {"two rows", "1\n2\n", false},
    {"end of data then a meta-command", "1\n\\.\n\\! id\n", false},
    {"raw CR", "1\r\\! id\n", false},
};

static void
test_copy_row(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (sl_script_is_copy_row(rows[i].row, strlen(rows[i].row)) != rows[i].want)
            fail_msg("%s: want %s", rows[i].name, rows[i].want ? "accepted" : "refused");
}

static void
test_restrict_key(void **state)
{
    (void)state;
    char a[SL_SCRIPT_KEY_LEN + 1], b[SL_SCRIPT_KEY_LEN + 1];
    sl_error err;
    sl_error_clear(&err);
    assert_int_equal(sl_script_restrict_key(a, &err), 0);
    assert_int_equal(sl_script_restrict_key(b, &err), 0);
    assert_int_equal(strlen(a), SL_SCRIPT_KEY_LEN);
    assert_int_equal(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
                     SL_SCRIPT_KEY_LEN);
    assert_string_not_equal(a, b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_comment_text),
        cmocka_unit_test(test_comment_text_every_byte),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_integer),
        cmocka_unit_test(test_word),
        cmocka_unit_test(test_copy_row),
        cmocka_unit_test(test_restrict_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
