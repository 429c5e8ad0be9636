/* tests/unit/test_pgoutput.c: pg/pgoutput.h on messages built byte by byte as the server
 * writes them: a relation and its changes decoded; every message cut short at each length,
 * lengths and counts larger than the message, bytes left over, unknown types and relations
 * refused with an error (under ASan: never a read past the end). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "pg/pgoutput.h"

static void
put_be(sl_buf *b, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--)
        sl_buf_putc(b, (char)(v >> (8 * i)));
}

static void
put_str(sl_buf *b, const char *s)
{
    sl_buf_append(b, s, strlen(s) + 1);
}

/* R: relation 16384 public.items (id int4 key, name text, big text), replica identity d. */
static void
relation_msg(sl_buf *b)
{
    sl_buf_putc(b, 'R');
    put_be(b, 16384, 4);
    put_str(b, "public");
    put_str(b, "items");
    sl_buf_putc(b, 'd');
    put_be(b, 3, 2);
    static const char *const names[] = {"id", "name", "big"};
    for (int i = 0; i < 3; i++) {
        sl_buf_putc(b, i == 0 ? 1 : 0);
        put_str(b, names[i]);
        put_be(b, i == 0 ? 23 : 25, 4);
        put_be(b, 0xffffffff, 4);
    }
}

static void
put_text(sl_buf *b, const char *s)
{
    sl_buf_putc(b, 't');
    put_be(b, strlen(s), 4);
    sl_buf_append(b, s, strlen(s));
}

/* U: an old row O (1, "one", "big"), new row (1, null, unchanged). */
static void
update_msg(sl_buf *b)
{
    sl_buf_putc(b, 'U');
    put_be(b, 16384, 4);
    sl_buf_putc(b, 'O');
    put_be(b, 3, 2);
    put_text(b, "1");
    put_text(b, "one");
    put_text(b, "big");
    sl_buf_putc(b, 'N');
    put_be(b, 3, 2);
    put_text(b, "1");
    sl_buf_putc(b, 'n');
    sl_buf_putc(b, 'u');
}

static void
test_relation_and_changes_decode(void **state)
{
    (void)state;
    sl_pgoutput *d = sl_pgoutput_new();
    sl_buf b = SL_BUF_INIT;
    sl_pgoutput_msg m;
    sl_error err;
    relation_msg(&b);
    assert_int_equal(sl_pgoutput_decode(d, b.data, b.len, &m, &err), 0);
    assert_int_equal(m.type, 'R');
    assert_string_equal(m.rel->schema, "public");
    assert_string_equal(m.rel->name, "items");
    assert_int_equal(m.rel->ncols, 3);
    assert_true(m.rel->cols[0].key);
    assert_false(m.rel->cols[1].key);
    assert_string_equal(m.rel->cols[2].name, "big");
    assert_int_equal(m.rel->cols[1].type, 25);
    assert_int_equal(m.rel->cols[1].typmod, -1);

    sl_buf_reset(&b);
    update_msg(&b);
    assert_int_equal(sl_pgoutput_decode(d, b.data, b.len, &m, &err), 0);
    assert_int_equal(m.type, 'U');
    assert_int_equal(m.old_kind, 'O');
    assert_int_equal(m.old[2].kind, 't');
    assert_memory_equal(m.old[2].text, "big", 3);
    assert_int_equal(m.new_row[0].len, 1);
    assert_int_equal(m.new_row[1].kind, 'n');
    assert_int_equal(m.new_row[2].kind, 'u');

    sl_buf_reset(&b);
    sl_buf_putc(&b, 'B');
    put_be(&b, 0x16B374D848ull, 8);
    put_be(&b, 123456789, 8);
    put_be(&b, 742, 4);
    assert_int_equal(sl_pgoutput_decode(d, b.data, b.len, &m, &err), 0);
    assert_int_equal(m.type, 'B');
    assert_true(m.lsn == 0x16B374D848ull);
    assert_true(m.commit_time == 123456789);
    assert_int_equal(m.xid, 742);

    sl_buf_reset(&b);
    sl_buf_putc(&b, 'C');
    sl_buf_putc(&b, 0);
    put_be(&b, 10, 8);
    put_be(&b, 20, 8);
    put_be(&b, 30, 8);
    assert_int_equal(sl_pgoutput_decode(d, b.data, b.len, &m, &err), 0);
    assert_true(m.lsn == 20 && m.commit_time == 30);

    sl_buf_reset(&b);
    sl_buf_putc(&b, 'D');
    put_be(&b, 16384, 4);
    sl_buf_putc(&b, 'K');
    put_be(&b, 3, 2);
    put_text(&b, "1");
    sl_buf_putc(&b, 'n');
    sl_buf_putc(&b, 'n');
    assert_int_equal(sl_pgoutput_decode(d, b.data, b.len, &m, &err), 0);
    assert_int_equal(m.type, 'D');
    assert_int_equal(m.old_kind, 'K');
    assert_null(m.new_row);

    sl_buf_reset(&b);
    sl_buf_putc(&b, 'Y');
    put_be(&b, 1, 4);
    assert_int_equal(sl_pgoutput_decode(d, b.data, b.len, &m, &err), 0);
    assert_int_equal(m.type, 0);
    sl_buf_free(&b);
    sl_pgoutput_free(d);
}

/* Each message cut at every length before its end is an error, and so is one byte more. */
static void
test_truncated_and_padded_messages_are_refused(void **state)
{
    (void)state;
    sl_pgoutput *d = sl_pgoutput_new();
    sl_buf r = SL_BUF_INIT, u = SL_BUF_INIT;
    sl_pgoutput_msg m;
    sl_error err;
    relation_msg(&r);
    update_msg(&u);
    for (size_t n = 0; n < r.len; n++) {
        char *cut = malloc(n + 1);   /* exactly n bytes readable (ASan sees past them) */
        memcpy(cut, r.data, n);
        assert_int_equal(sl_pgoutput_decode(d, cut, n, &m, &err), -1);
        free(cut);
    }
    assert_int_equal(sl_pgoutput_decode(d, r.data, r.len, &m, &err), 0);
    for (size_t n = 0; n < u.len; n++) {
        char *cut = malloc(n + 1);
        memcpy(cut, u.data, n);
        assert_int_equal(sl_pgoutput_decode(d, cut, n, &m, &err), -1);
        free(cut);
    }
    sl_buf_putc(&u, 0);
    assert_int_equal(sl_pgoutput_decode(d, u.data, u.len, &m, &err), -1);
    sl_buf_free(&r);
    sl_buf_free(&u);
    sl_pgoutput_free(d);
}

static void
test_garbled_messages_are_refused(void **state)
{
    (void)state;
    sl_pgoutput *d = sl_pgoutput_new();
    sl_buf b = SL_BUF_INIT;
    sl_pgoutput_msg m;
    sl_error err;
    /* a change of a relation never described */
    sl_buf_putc(&b, 'I');
    put_be(&b, 7, 4);
    sl_buf_putc(&b, 'N');
    put_be(&b, 0, 2);
    assert_int_equal(sl_pgoutput_decode(d, b.data, b.len, &m, &err), -1);
    assert_non_null(strstr(err.message, "before describing it"));
    /* a relation claiming 65535 columns in a few bytes */
    sl_buf_reset(&b);
    sl_buf_putc(&b, 'R');
    put_be(&b, 1, 4);
    put_str(&b, "s");
    put_str(&b, "t");
    sl_buf_putc(&b, 'd');
    put_be(&b, 0xffff, 2);
    assert_int_equal(sl_pgoutput_decode(d, b.data, b.len, &m, &err), -1);
    /* a value length far past the message */
    sl_buf_reset(&b);
    relation_msg(&b);
    assert_int_equal(sl_pgoutput_decode(d, b.data, b.len, &m, &err), 0);
    sl_buf_reset(&b);
    sl_buf_putc(&b, 'I');
    put_be(&b, 16384, 4);
    sl_buf_putc(&b, 'N');
    put_be(&b, 3, 2);
    sl_buf_putc(&b, 't');
    put_be(&b, 0xffffffff, 4);
    sl_buf_append(&b, "abc", 3);
    assert_int_equal(sl_pgoutput_decode(d, b.data, b.len, &m, &err), -1);
    /* a tuple of another column count than its relation */
    sl_buf_reset(&b);
    sl_buf_putc(&b, 'I');
    put_be(&b, 16384, 4);
    sl_buf_putc(&b, 'N');
    put_be(&b, 1, 2);
    sl_buf_putc(&b, 'n');
    assert_int_equal(sl_pgoutput_decode(d, b.data, b.len, &m, &err), -1);
    /* a column kind that is none of n, u, t; an insert with an old row; an unknown type */
    sl_buf_reset(&b);
    sl_buf_putc(&b, 'I');
    put_be(&b, 16384, 4);
    sl_buf_putc(&b, 'N');
    put_be(&b, 3, 2);
    sl_buf_append(&b, "nnx", 3);
    assert_int_equal(sl_pgoutput_decode(d, b.data, b.len, &m, &err), -1);
    sl_buf_reset(&b);
    sl_buf_putc(&b, 'I');
    put_be(&b, 16384, 4);
    sl_buf_putc(&b, 'O');
    put_be(&b, 3, 2);
    sl_buf_append(&b, "nnn", 3);
    assert_int_equal(sl_pgoutput_decode(d, b.data, b.len, &m, &err), -1);
    assert_int_equal(sl_pgoutput_decode(d, "Z", 1, &m, &err), -1);
    sl_buf_free(&b);
    sl_pgoutput_free(d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relation_and_changes_decode),
        cmocka_unit_test(test_truncated_and_padded_messages_are_refused),
        cmocka_unit_test(test_garbled_messages_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
