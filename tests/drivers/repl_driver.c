/* tests/drivers/repl_driver.c: drives pg/replication.h for tests/e2e/test_replication.py, which
 * runs it against a real server (PG* variables say where; argv[1] names the database).
 *   repl_driver DB create SLOT PLUGIN     prints "CONSISTENT_LSN SNAPSHOT" and keeps the
 *                                         connection (so the snapshot) until stdin closes
 *   repl_driver DB slot SLOT              prints "exists plugin active confirmed" or "none"
 *   repl_driver DB stream SLOT N [CONFIRM_AT [OPTION VALUE]...]
 *                                         prints N messages as "START_LSN\tDATA" lines; with
 *                                         CONFIRM_AT k > 0 confirms the start of message k
 *                                         (1-based) before stopping
 *   repl_driver DB drop SLOT
 * Exit 0, or 1 with the error on stderr (3 when no message came within 20 s). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg/conn.h"
#include "pg/conninfo.h"
#include "pg/replication.h"

static int
fail(const sl_error *err)
{
    fprintf(stderr, "error: %s\n", err->message);
    return 1;
}

static int
create(sl_conn *c, const char *slot, const char *plugin)
{
    sl_error err = {0};
    sl_lsn at;
    char *snapshot = NULL, text[SL_LSN_TEXT];
    if (sl_repl_slot_create(c, slot, plugin, true, &at, &snapshot, &err) != 0)
        return fail(&err);
    sl_lsn_format(at, text);
    printf("%s %s\n", text, snapshot ? snapshot : "-");
    fflush(stdout);
    free(snapshot);
    while (getchar() != EOF) {
    }
    return 0;
}

static int
slot(sl_conn *c, const char *name)
{
    sl_error err = {0};
    sl_repl_slot_info info;
    if (sl_repl_slot_read(c, name, &info, &err) != 0)
        return fail(&err);
    char text[SL_LSN_TEXT];
    sl_lsn_format(info.confirmed, text);
    if (info.exists)
        printf("exists %s %s %s\n", info.plugin, info.active ? "active" : "idle", text);
    else
        printf("none\n");
    return 0;
}

static int
stream(sl_conn *c, const char *name, int n, int confirm_at, const char *const *options)
{
    sl_error err = {0};
    sl_repl_stream *s = NULL;
    if (sl_repl_start(&s, c, name, 0, options, 1000, &err) != 0)
        return fail(&err);
    sl_lsn confirm = 0;
    for (int i = 1; i <= n; i++) {
        sl_repl_msg m;
        int got = sl_repl_next(s, 20000, &m, &err);
        if (got != 1) {
            if (got == 0)
                fprintf(stderr, "error: no message %d within 20 s\n", i);
            else
                fprintf(stderr, "error: %s\n", got < 0 ? err.message : "stream ended");
            sl_error stop_err = {0};
            if (sl_repl_stop(s, &stop_err) != 0)
                fprintf(stderr, "error: %s\n", stop_err.message);
            return got == 0 ? 3 : 1;
        }
        char text[SL_LSN_TEXT];
        sl_lsn_format(m.start, text);
        printf("%s\t%.*s\n", text, (int)m.len, m.data);
        if (i == confirm_at)
            confirm = m.start;
    }
    fflush(stdout);
    if (confirm)
        sl_repl_confirm(s, confirm);
    if (sl_repl_stop(s, &err) != 0)
        return fail(&err);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: repl_driver DB create|slot|stream|drop SLOT ...\n");
        return 2;
    }
    sl_conninfo *ci = sl_conninfo_new();
    sl_conninfo_set(ci, "dbname", argv[1]);
    sl_conn *c = NULL;
    sl_error err = {0};
    if (sl_conn_open(&c, ci, SL_CONN_OPTS(.replication = true), &err) != 0)
        return fail(&err);
    const char *cmd = argv[2], *name = argv[3];
    int rc;
    if (strcmp(cmd, "create") == 0 && argc == 5)
        rc = create(c, name, argv[4]);
    else if (strcmp(cmd, "slot") == 0)
        rc = slot(c, name);
    else if (strcmp(cmd, "stream") == 0 && argc >= 5)
        rc = stream(c, name, atoi(argv[4]), argc >= 6 ? atoi(argv[5]) : 0,
                    argc >= 8 ? (const char *const *)argv + 6 : NULL);
    else if (strcmp(cmd, "drop") == 0)
        rc = sl_repl_slot_drop(c, name, &err) == 0 ? 0 : fail(&err);
    else
        rc = 2;
    sl_conn_close(c);
    sl_conninfo_free(ci);
    return rc;
}
