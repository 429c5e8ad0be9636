/* tests/unit/test_admin.c: proxy/admin.h without a server: who is refused and why, each
 * command's answer as messages (RowDescription, DataRows, CommandComplete, ReadyForQuery), an
 * unknown command or one the proxy cannot do is an ERROR that leaves the session usable, and
 * an extended-protocol message is refused once, then skipped up to Sync. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pg/proto.h"
#include "proxy/admin.h"

/* "T D D C Z" for the types of the messages in b; an ErrorResponse as "E<sqlstate>". */
static void
types(const sl_buf *b, char *out, size_t cap)
{
    size_t pos = 0, n = 0;
    out[0] = 0;
    while (pos + 5 <= b->len) {
        const uint8_t *m = (const uint8_t *)b->data + pos;
        uint32_t len = (uint32_t)m[1] << 24 | (uint32_t)m[2] << 16 | (uint32_t)m[3] << 8 | m[4];
        if (m[0] == 'E') {
            const char *code = sl_proto_error_field(m + 5, len - 4, 'C');
            n += (size_t)snprintf(out + n, cap - n, "%sE%s", n ? " " : "", code ? code : "?");
        } else {
            n += (size_t)snprintf(out + n, cap - n, "%s%c", n ? " " : "", m[0]);
        }
        pos += 1 + len;
    }
    assert_int_equal(pos, b->len);
}

typedef struct {
    sl_proxy_context ctx;
    sl_admin *a;
    sl_buf out;
} fixture;

static const char *const users[] = {"ops"};

static int
setup(void **state)
{
    fixture *f = test_calloc(1, sizeof *f);
    f->ctx.stats = sl_stats_new();
    f->ctx.admin_users = users;
    f->ctx.n_admin_users = 1;
    f->ctx.max_message = 1 << 20;
    snprintf(f->ctx.upstream.shown, sizeof f->ctx.upstream.shown, "127.0.0.1:5432");
    sl_buf_init(&f->out);
    f->a = sl_admin_open(&f->ctx, NULL, "ops", true, &f->out);
    assert_non_null(f->a);
    char t[256];
    types(&f->out, t, sizeof t);
    assert_string_equal(t, "R S S S S S S S Z");
    sl_buf_reset(&f->out);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    sl_admin_free(f->a);
    sl_stats_free(f->ctx.stats);
    sl_buf_free(&f->out);
    test_free(f);
    return 0;
}

static void
command(fixture *f, const char *sql, const char *want)
{
    char t[512];
    sl_buf_reset(&f->out);
    sl_admin_command(f->a, sql, &f->out);
    types(&f->out, t, sizeof t);
    if (strcmp(t, want) != 0)
        fail_msg("%s: got \"%s\", want \"%s\"", sql, t, want);
}

static void
test_refusals_say_why(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *user;
        bool local;
        size_t n_users;
        const char *why;
    } cases[] = {
        {"ops", true, 0, "not enabled"},
        {"intruder", true, 1, "the user is not in --admin-users"},
        {"ops", false, 1, "from a loopback address"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        f->ctx.n_admin_users = cases[i].n_users;
        sl_buf b = SL_BUF_INIT;
        assert_null(sl_admin_open(&f->ctx, NULL, cases[i].user, cases[i].local, &b));
        assert_true(b.len > 5 && b.data[0] == 'E');
        const uint8_t *body = (const uint8_t *)b.data + 5;
        assert_string_equal(sl_proto_error_field(body, b.len - 5, 'V'), "FATAL");
        assert_string_equal(sl_proto_error_field(body, b.len - 5, 'C'), "28000");
        if (!strstr(sl_proto_error_field(body, b.len - 5, 'M'), cases[i].why))
            fail_msg("case %zu: %s", i, sl_proto_error_field(body, b.len - 5, 'M'));
        sl_buf_free(&b);
    }
    f->ctx.n_admin_users = 1;
}

static void
test_commands(void **state)
{
    fixture *f = *state;
    command(f, "SHOW VERSION", "T D C Z");
    command(f, "  show   version ; ", "T D C Z");
    command(f, "SHOW STATS", "T D D D D D D D D D D D D D D D D C Z");
    command(f, "SHOW CLIENTS", "T C Z");  /* nobody connected */
    command(f, "SHOW SERVERS", "T C Z");
    command(f, "", "I Z");
    command(f, "SELECT 1", "E42601 Z");
    command(f, "INVALIDATE ALL", "E55000 Z");  /* no cache */
    command(f, "RELOAD", "E58030 Z");          /* no --config */
    sl_stats_client *c = sl_stats_client_open(f->ctx.stats, 7, "127.0.0.1:1");
    sl_stats_client_identify(c, "u", "db");
    sl_stats_client_server(c, true);
    command(f, "SHOW CLIENTS", "T D C Z");
    command(f, "SHOW SERVERS", "T D C Z");
    sl_stats_client_close(c);
}

static void
test_extended_protocol_is_refused_once_until_sync(void **state)
{
    fixture *f = *state;
    sl_framer fr;
    sl_framer_init(&fr, 1 << 20, sl_admin_framer_ops(), f->a);
    /* Parse, Bind, Execute, Sync, then a Query */
    static const uint8_t in[] = {
        'P', 0, 0, 0, 9, 0, 'x', 0, 0, 0,
        'B', 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0,
        'E', 0, 0, 0, 9, 0, 0, 0, 0, 0,
        'S', 0, 0, 0, 4,
        'Q', 0, 0, 0, 17, 'S', 'H', 'O', 'W', ' ', 'V', 'E', 'R', 'S', 'I', 'O', 'N', 0,
        'X', 0, 0, 0, 4,
    };
    sl_buf_reset(&f->out);
    assert_int_equal(sl_framer_feed(&fr, in, sizeof in, &f->out), 0);
    char t[256];
    types(&f->out, t, sizeof t);
    assert_string_equal(t, "E0A000 Z T D C Z");
    assert_true(sl_admin_done(f->a));
    sl_framer_free(&fr);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_refusals_say_why, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extended_protocol_is_refused_once_until_sync, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
