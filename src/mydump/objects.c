/* mydump/objects.c: see objects.h. */
#include "mydump/objects.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "mydump/createtable.h"
#include "mysql/quote.h"

/* The restore's session: what mysqldump's header sets (utf8mb4, UTC for TIMESTAMP values,
 * NO_AUTO_VALUE_ON_ZERO so that a 0 in an AUTO_INCREMENT column stays 0, and no other mode, so
 * that zero dates and backslash escapes are read as written), no checks while loading. */
#define SESSION_SQL                                                                       \
    "SET NAMES utf8mb4;\n"                                                                \
    "SET TIME_ZONE = '+00:00';\n"                                                         \
    "SET SQL_MODE = 'NO_AUTO_VALUE_ON_ZERO';\n"                                           \
    "SET FOREIGN_KEY_CHECKS = 0;\n"                                                       \
    "SET UNIQUE_CHECKS = 0;\n"                                                            \
    "SET SQL_NOTES = 0;\n"

/* The settings an object's own session changed, back to the preamble's. */
#define RESET_SQL "SET SQL_MODE = 'NO_AUTO_VALUE_ON_ZERO';\nSET NAMES utf8mb4;\n"

int
sl__mydump_preamble(mydump_ctx *d, const char *version, const char *started, sl_error *err)
{
    sl_buf b = SL_BUF_INIT;
    /* The sandbox line right after the signature: the mariadb client (10.11.8 and later) then
     * refuses every client command (system, source, ...) in the rest of the file. */
    sl_buf_puts(&b, SL_BFILE_SIGNATURE);
    sl_buf_puts(&b, "/*M!999999\\- enable the sandbox mode */\n--\n-- MySQL/MariaDB server ");
    for (const char *p = version; *p; p++)  /* server text in a comment: printable only */
        sl_buf_putc(&b, (*p >= 0x20 && *p < 0x7f) ? *p : '?');
    sl_buf_printf(&b,
                  "\n-- started: %s\n--\n"
                  "-- Restore with: sluice restore FILE --engine mysql --database DB (-j N),\n"
                  "-- or with the client: zstd -dc FILE | mariadb DB (gunzip -c for .gz).\n"
                  "--\n\n" SESSION_SQL "\n",
                  started);
    sl_bfile_meta meta = {.phase = SL_PHASE_PREAMBLE, .kind = "PREAMBLE", .rows = -1};
    int rc = sl__mydump_write_text(d, b.data, b.len, &meta, err);
    sl_buf_free(&b);
    return rc;
}

/* SHOW CREATE <what> `name`: the stored result with its first row in *row, which has at least
 * ncols non-NULL columns (NULL text means the user may not see the object's definition). */
static MYSQL_RES *
show_create(sl_mysql *c, const char *what, const char *name, unsigned ncols, MYSQL_ROW *row,
            sl_error *err)
{
    sl_buf sql = SL_BUF_INIT;
    sl_buf_printf(&sql, "SHOW CREATE %s ", what);
    sl_mysql_put_ident(&sql, name);
    MYSQL_RES *res = sl_mysql_query(c, sql.data, false, err);
    sl_buf_free(&sql);
    if (!res)
        return NULL;
    *row = mysql_fetch_row(res);
    bool ok = *row && mysql_num_fields(res) >= ncols;
    for (unsigned i = 0; ok && i < ncols; i++)
        ok = (*row)[i] != NULL;
    if (!ok) {
        mysql_free_result(res);
        sl_error_set(err, SL_E_SERVER, "SHOW CREATE %s gave no definition (missing "
                     "privileges?)", what);
        return NULL;
    }
    return res;
}

static bool
made_of(const char *s, const char *allowed)
{
    if (!*s || strlen(s) > 1024)
        return false;
    for (; *s; s++)
        if (!strchr(allowed, *s))
            return false;
    return true;
}

#define WORD_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"

/* An object's own session settings (server text written bare: checked to be words). */
static int
put_object_session(sl_buf *b, const char *sql_mode, const char *charset, const char *collation,
                   sl_error *err)
{
    if ((*sql_mode && !made_of(sql_mode, WORD_CHARS ",")) || !made_of(charset, WORD_CHARS) ||
        !made_of(collation, WORD_CHARS)) {
        sl_error_set(err, SL_E_SERVER, "the server sent a malformed sql_mode or character set");
        return -1;
    }
    sl_buf_printf(b,
                  "SET SQL_MODE = '%s';\nSET character_set_client = %s;\n"
                  "SET character_set_results = %s;\nSET collation_connection = %s;\n",
                  sql_mode, charset, charset, collation);
    return 0;
}

static void
put_delimited(sl_buf *b, const char *create)
{
    sl_buf_puts(b, "DELIMITER ;;\n");
    sl_buf_puts(b, create);
    sl_buf_puts(b, " ;;\nDELIMITER ;\n");
}

/* A base table: its CREATE without secondary indexes and foreign keys, which are kept on the
 * table for the post-data phases. */
static int
put_table(sl_mysql *c, sl_mydump_table *t, sl_buf *b, sl_error *err)
{
    MYSQL_ROW row;
    MYSQL_RES *res = show_create(c, "TABLE", t->name, 2, &row, err);
    if (!res)
        return -1;
    sl_buf create = SL_BUF_INIT, idx = SL_BUF_INIT, fks = SL_BUF_INIT;
    sl_error ignored;
    if (sl_mydump_create_split(row[1], t->autoinc, &create, &idx, &fks, &ignored) == 0) {
        sl_buf_append(b, create.data, create.len);
        t->indexes = idx.len ? sl_buf_steal(&idx) : NULL;
        t->fks = fks.len ? sl_buf_steal(&fks) : NULL;
    } else {
        sl_buf_puts(b, row[1]);  /* an unknown shape: whole, keys and all */
    }
    sl_buf_puts(b, ";\n\n");
    sl_buf_free(&create);
    sl_buf_free(&idx);
    sl_buf_free(&fks);
    mysql_free_result(res);
    return 0;
}

static int
put_sequence(sl_mysql *c, const sl_mydump_table *t, sl_buf *b, sl_error *err)
{
    MYSQL_ROW row;
    MYSQL_RES *res = show_create(c, "SEQUENCE", t->name, 2, &row, err);
    if (!res)
        return -1;
    sl_buf_printf(b, "%s;\n\n", row[1]);
    mysql_free_result(res);
    return 0;
}

/* A view's stand-in: a view with the same columns, so that views over it can be created
 * before the real one, whatever order the dependencies need (as mysqldump does). */
static void
put_stand_in(const sl_mydump_table *t, sl_buf *b)
{
    sl_buf_puts(b, "CREATE VIEW ");
    sl_mysql_put_ident(b, t->name);
    sl_buf_puts(b, " AS SELECT");
    /* all_columns is "`a`,`b`": each name quoted, commas only between them */
    const char *p = t->all_columns;
    bool first = true;
    while (*p == '`') {
        const char *q = p + 1;
        while (*q && !(*q == '`' && q[1] != '`'))
            q += *q == '`' ? 2 : 1;
        if (!*q)
            break;
        sl_buf_printf(b, "%s\n NULL AS ", first ? "" : ",");
        sl_buf_append(b, p, (size_t)(q + 1 - p));
        first = false;
        p = q + 1 + (q[1] == ',');
    }
    if (first)
        sl_buf_puts(b, " NULL");
    sl_buf_puts(b, ";\n\n");
}

static const char routines_sql[] =
    "SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES "
    "WHERE ROUTINE_SCHEMA = DATABASE() ORDER BY BINARY ROUTINE_TYPE, BINARY ROUTINE_NAME";

static int
put_routines(sl_mysql *c, sl_buf *b, sl_error *err)
{
    MYSQL_RES *list = sl_mysql_query(c, routines_sql, false, err);
    if (!list)
        return -1;
    MYSQL_ROW r;
    int rc = 0;
    while (rc == 0 && (r = mysql_fetch_row(list)) != NULL) {
        if (!r[0] || !r[1])
            continue;
        if (strcmp(r[1], "PROCEDURE") != 0 && strcmp(r[1], "FUNCTION") != 0) {
            sl_error_set(err, SL_E_UNSUPPORTED, "a routine of type %s cannot be backed up yet",
                         strcmp(r[1], "PACKAGE") == 0 ? "PACKAGE" : "PACKAGE BODY");
            rc = -1;
            break;
        }
        MYSQL_ROW row;
        MYSQL_RES *res = show_create(c, r[1], r[0], 5, &row, err);
        if (!res || put_object_session(b, row[1], row[3], row[4], err) != 0) {
            rc = -1;
        } else {
            put_delimited(b, row[2]);
            sl_buf_puts(b, RESET_SQL "\n");
        }
        if (res)
            mysql_free_result(res);
    }
    mysql_free_result(list);
    return rc;
}

int
sl__mydump_pre_data(mydump_ctx *d, sl_mysql *c, sl_error *err)
{
    sl_buf b = SL_BUF_INIT;
    int rc = -1;
    for (size_t i = 0; i < d->cat->ntables; i++) {
        sl_mydump_table *t = &d->cat->tables[i];
        int r = t->kind == SL_MYDUMP_TABLE      ? put_table(c, t, &b, err)
                : t->kind == SL_MYDUMP_SEQUENCE ? put_sequence(c, t, &b, err)
                                                : (put_stand_in(t, &b), 0);
        if (r != 0) {
            sl_error_context(err, "`%s`", t->name);
            goto done;
        }
    }
    if (put_routines(c, &b, err) != 0)
        goto done;
    sl_bfile_meta meta = {.phase = SL_PHASE_PRE_DATA, .kind = "PRE-DATA", .rows = -1};
    rc = sl__mydump_write_text(d, b.data ? b.data : "", b.len, &meta, err);
done:
    sl_buf_free(&b);
    return rc;
}

/* SETVAL to the first value not handed out yet (as mysqldump: next_not_cached_value, so that
 * no value a session may already hold is handed out again). */
int
sl__mydump_sequence_values(mydump_ctx *d, sl_mysql *c, sl_error *err)
{
    sl_buf b = SL_BUF_INIT, sql = SL_BUF_INIT;
    int rc = -1;
    for (size_t i = 0; i < d->cat->ntables; i++) {
        const sl_mydump_table *t = &d->cat->tables[i];
        if (t->kind != SL_MYDUMP_SEQUENCE)
            continue;
        sl_buf_reset(&sql);
        sl_buf_puts(&sql, "SELECT next_not_cached_value FROM ");
        sl_mysql_put_ident(&sql, t->name);
        MYSQL_RES *res = sl_mysql_query(c, sql.data, false, err);
        if (!res)
            goto done;
        MYSQL_ROW row = mysql_fetch_row(res);
        bool ok = row && row[0] && made_of(row[0], "-0123456789");
        if (ok) {
            sl_buf_puts(&b, "DO SETVAL(");
            sl_mysql_put_ident(&b, t->name);
            sl_buf_printf(&b, ", %s, 0);\n", row[0]);
        }
        mysql_free_result(res);
        if (!ok) {
            sl_error_set(err, SL_E_SERVER, "sequence `%s`: no value read", t->name);
            goto done;
        }
    }
    rc = 0;
    if (b.len) {
        sl_bfile_meta meta = {.phase = SL_PHASE_DATA, .kind = SL_BFILE_KIND_SEQUENCE_SET,
                              .rows = -1};
        rc = sl__mydump_write_text(d, b.data, b.len, &meta, err);
    }
done:
    sl_buf_free(&b);
    sl_buf_free(&sql);
    return rc;
}

/* One ALTER TABLE per table for its moved clauses (a parallel segment each). */
static int
write_alters(mydump_ctx *d, int phase, const char *kind, bool fks, sl_error *err)
{
    sl_buf b = SL_BUF_INIT;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < d->cat->ntables; i++) {
        const sl_mydump_table *t = &d->cat->tables[i];
        const char *clauses = fks ? t->fks : t->indexes;
        if (!clauses)
            continue;
        sl_buf_reset(&b);
        sl_buf_puts(&b, "ALTER TABLE ");
        sl_mysql_put_ident(&b, t->name);
        sl_buf_printf(&b, "\n  %s;\n\n", clauses);
        /* an index needs its table's rows in; a foreign key waits for every index, so that
         * the referenced table's key exists whatever the order */
        sl_bfile_table own = {d->database, t->name};
        sl_bfile_meta meta = {.phase = phase, .parallel = true, .kind = kind,
                              .schema = d->database, .name = t->name, .rows = -1,
                              .tables = fks ? NULL : &own, .ntables = fks ? 0 : 1};
        rc = sl__mydump_write_text(d, b.data, b.len, &meta, err);
    }
    sl_buf_free(&b);
    return rc;
}

static const char triggers_sql[] =
    "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() "
    "ORDER BY BINARY EVENT_OBJECT_TABLE, EVENT_MANIPULATION, ACTION_TIMING, ACTION_ORDER";
static const char events_sql[] =
    "SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE() "
    "ORDER BY BINARY EVENT_NAME";

/* Triggers (SHOW CREATE TRIGGER: name, sql_mode, statement, charset, collation) or events
 * (name, sql_mode, time_zone, statement, charset, collation), each in its own session. */
static int
put_programs(sl_mysql *c, bool events, sl_buf *b, sl_error *err)
{
    MYSQL_RES *list = sl_mysql_query(c, events ? events_sql : triggers_sql, false, err);
    if (!list)
        return -1;
    unsigned at = events ? 3 : 2;
    MYSQL_ROW r;
    int rc = 0;
    while (rc == 0 && (r = mysql_fetch_row(list)) != NULL) {
        MYSQL_ROW row;
        MYSQL_RES *res = r[0] ? show_create(c, events ? "EVENT" : "TRIGGER", r[0], at + 3,
                                            &row, err)
                              : NULL;
        if (!res || put_object_session(b, row[1], row[at + 1], row[at + 2], err) != 0) {
            rc = r[0] ? -1 : 0;
        } else if (events && !made_of(row[2], WORD_CHARS "+-:/")) {
            sl_error_set(err, SL_E_SERVER, "the server sent a malformed time zone");
            rc = -1;
        } else {
            if (events)
                sl_buf_printf(b, "SET TIME_ZONE = '%s';\n", row[2]);
            put_delimited(b, row[at]);
            sl_buf_puts(b, RESET_SQL);
            if (events)
                sl_buf_puts(b, "SET TIME_ZONE = '+00:00';\n");
            sl_buf_putc(b, '\n');
        }
        if (res)
            mysql_free_result(res);
    }
    mysql_free_result(list);
    return rc;
}

/* The real views, replacing the stand-ins. */
static int
put_views(mydump_ctx *d, sl_mysql *c, sl_buf *b, sl_error *err)
{
    for (size_t i = 0; i < d->cat->ntables; i++) {
        const sl_mydump_table *t = &d->cat->tables[i];
        if (t->kind != SL_MYDUMP_VIEW)
            continue;
        MYSQL_ROW row;
        MYSQL_RES *res = show_create(c, "VIEW", t->name, 4, &row, err);
        if (!res)
            return -1;
        int rc = put_object_session(b, "", row[2], row[3], err);
        if (rc == 0) {
            sl_buf text = SL_BUF_INIT;
            sl_mydump_unqualify(row[1], d->database, &text);
            sl_buf_puts(b, "DROP VIEW IF EXISTS ");
            sl_mysql_put_ident(b, t->name);
            sl_buf_printf(b, ";\n%s;\n" RESET_SQL "\n", text.data ? text.data : "");
            sl_buf_free(&text);
        }
        mysql_free_result(res);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static int
write_buffer(mydump_ctx *d, sl_buf *b, int phase, const char *kind, sl_error *err)
{
    if (!b->len)
        return 0;
    sl_bfile_meta meta = {.phase = phase, .kind = kind, .rows = -1};
    return sl__mydump_write_text(d, b->data, b->len, &meta, err);
}

int
sl__mydump_post_data(mydump_ctx *d, sl_mysql *c, sl_error *err)
{
    sl_buf triggers = SL_BUF_INIT, views = SL_BUF_INIT, events = SL_BUF_INIT;
    int rc = -1;
    if (write_alters(d, SL_PHASE_INDEX, "INDEX", false, err) != 0 ||
        write_alters(d, SL_PHASE_POST, "FK CONSTRAINT", true, err) != 0 ||
        put_programs(c, false, &triggers, err) != 0 ||
        write_buffer(d, &triggers, SL_PHASE_POST, "TRIGGER", err) != 0 ||
        put_views(d, c, &views, err) != 0 ||
        write_buffer(d, &views, SL_PHASE_FINAL, "VIEW", err) != 0 ||
        put_programs(c, true, &events, err) != 0 ||
        write_buffer(d, &events, SL_PHASE_FINAL, "EVENT", err) != 0)
        goto done;
    rc = 0;
done:
    sl_buf_free(&triggers);
    sl_buf_free(&views);
    sl_buf_free(&events);
    return rc;
}
