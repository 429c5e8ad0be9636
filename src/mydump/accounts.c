/* mydump/accounts.c: roles, users and grants as a mysql-client script (see accounts.h). */
#include "mydump/accounts.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "mysql/quote.h"

/* The server's own accounts: they exist on every server of its kind. */
static const char *const system_users[] = {"mariadb.sys", "mysql.sys", "mysql.session",
                                           "mysql.infoschema"};

/* ER_NONEXISTING_GRANT, ER_NONEXISTING_TABLE_GRANT's sibling for SHOW GRANTS, and
 * ER_PASSWORD_NO_MATCH ("Can't find any matching row in the user table"). */
enum { ERR_NO_MATCH = 1133, ERR_NO_GRANT = 1141 };

typedef struct account {
    char *user, *host;
    bool role;
    bool skipped;
} account;

typedef struct accounts {
    account *v;
    size_t n;
} accounts;

static void
accounts_free(accounts *a)
{
    for (size_t i = 0; i < a->n; i++) {
        free(a->v[i].user);
        free(a->v[i].host);
    }
    free(a->v);
}

static bool
system_account(const char *user, const char *host)
{
    if (strcmp(host, "localhost") != 0)
        return false;
    for (size_t i = 0; i < sizeof system_users / sizeof *system_users; i++)
        if (strcmp(user, system_users[i]) == 0)
            return true;
    return false;
}

/* MariaDB marks roles in mysql.user; MySQL keeps roles as locked users (shown as users). */
static int
list_accounts(sl_mysql *c, accounts *out, sl_error *err)
{
    const char *sql = sl_mysql_is_mariadb(c)
                          ? "SELECT User, Host, is_role FROM mysql.user ORDER BY User, Host"
                          : "SELECT User, Host, 'N' FROM mysql.user ORDER BY User, Host";
    MYSQL_RES *res = sl_mysql_query(c, sql, false, err);
    if (!res) {
        sl_error_prefix(err, "could not list the server's accounts");
        return -1;
    }
    out->v = sl_calloc(mysql_num_rows(res) + 1, sizeof *out->v);
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) != NULL) {
        if (!row[0] || !row[1] || system_account(row[0], row[1]))
            continue;
        account *a = &out->v[out->n++];
        a->user = sl_strdup(row[0]);
        a->host = sl_strdup(row[1]);
        a->role = row[2] && row[2][0] == 'Y';
    }
    mysql_free_result(res);
    return 0;
}

/* `user`@`host`, or `role` for a role: how the server writes the account, too. */
static void
put_account(sl_buf *b, const account *a)
{
    sl_mysql_put_ident(b, a->user);
    if (!a->role) {
        sl_buf_putc(b, '@');
        sl_mysql_put_ident(b, a->host);
    }
}

/* Runs "VERB account" and returns its result, NULL with *missing set when the server does not
 * know the account (then it is skipped with a warning), NULL with err set on failure. */
static MYSQL_RES *
show(sl_mysql *c, const char *verb, account *a, bool *missing, sl_error *err)
{
    sl_buf sql = SL_BUF_INIT;
    sl_buf_printf(&sql, "%s ", verb);
    put_account(&sql, a);
    MYSQL_RES *res = sl_mysql_query(c, sql.data, false, err);
    sl_buf_free(&sql);
    *missing = false;
    if (res)
        return res;
    unsigned code = mysql_errno(sl_mysql_handle(c));
    if (code == ERR_NO_MATCH || code == ERR_NO_GRANT) {
        *missing = true;
        a->skipped = true;
        SL_WARN("account '%s'@'%s' skipped: the server lists it but cannot show it (%s)",
                a->user, a->host, err->message);
        sl_error_clear(err);
        return NULL;
    }
    sl_error_prefix(err, "%s '%s'@'%s'", verb, a->user, a->host);
    return NULL;
}

static int
put_roles(sl_buf *out, const accounts *all, sl_accounts_summary *s)
{
    for (size_t i = 0; i < all->n; i++) {
        if (!all->v[i].role)
            continue;
        sl_buf_puts(out, "CREATE ROLE IF NOT EXISTS ");
        put_account(out, &all->v[i]);
        sl_buf_puts(out, ";\n");
        s->roles++;
    }
    return 0;
}

static int
put_users(sl_mysql *c, sl_buf *out, accounts *all, sl_accounts_summary *s, sl_error *err)
{
    static const char prefix[] = "CREATE USER ";
    for (size_t i = 0; i < all->n; i++) {
        account *a = &all->v[i];
        if (a->role)
            continue;
        bool missing;
        MYSQL_RES *res = show(c, "SHOW CREATE USER", a, &missing, err);
        if (!res && missing) {
            s->skipped++;
            continue;
        }
        if (!res)
            return -1;
        MYSQL_ROW row = mysql_fetch_row(res);
        if (!row || !row[0] || strncmp(row[0], prefix, sizeof prefix - 1) != 0) {
            mysql_free_result(res);
            sl_error_set(err, SL_E_SERVER, "SHOW CREATE USER '%s'@'%s' gave no CREATE USER",
                         a->user, a->host);
            return -1;
        }
        sl_buf_printf(out, "CREATE USER IF NOT EXISTS %s;\n", row[0] + sizeof prefix - 1);
        mysql_free_result(res);
        s->users++;
    }
    return 0;
}

/* Past the single-quoted literal at p (backslash and doubled-quote escapes). */
static const char *
skip_literal(const char *p)
{
    for (p++; *p; p++) {
        if (*p == '\\' && p[1])
            p++;
        else if (*p == '\'' && p[1] == '\'')
            p++;
        else if (*p == '\'')
            return p + 1;
    }
    return p;
}

/* MariaDB's grant line on *.* carries the account's authentication ("TO `u`@`h` IDENTIFIED
 * BY PASSWORD '...'" or "IDENTIFIED VIA plugin USING '...' OR ..."): run again, it would
 * change the password of an account that existed on the target. Writes line without it: the
 * clause runs from " IDENTIFIED " right after the account to " REQUIRE ", " WITH " or the
 * end, literals skipped. */
static void
put_grant(sl_buf *out, const char *line, const account *a)
{
    sl_buf acct = SL_BUF_INIT;
    sl_buf_puts(&acct, " TO ");
    put_account(&acct, a);
    sl_buf_puts(&acct, " IDENTIFIED ");
    const char *at = strstr(line, acct.data);
    if (!at) {
        sl_buf_printf(out, "%s;\n", line);
        sl_buf_free(&acct);
        return;
    }
    const char *clause = at + acct.len - strlen(" IDENTIFIED ");
    const char *p = clause + 1;
    while (*p && strncmp(p, " REQUIRE ", 9) != 0 && strncmp(p, " WITH ", 6) != 0)
        p = *p == '\'' ? skip_literal(p) : p + 1;
    sl_buf_append(out, line, (size_t)(clause - line));
    sl_buf_printf(out, "%s;\n", p);
    sl_buf_free(&acct);
}

/* Whether line grants to a (or sets a's default role): MariaDB's SHOW GRANTS of a role lists
 * the grants of the roles granted to it too, under their own names. */
static bool
grants_to(const char *line, const account *a)
{
    sl_buf acct = SL_BUF_INIT;
    put_account(&acct, a);
    bool mine = false;
    for (const char *p = line; !mine && (p = strstr(p, acct.data)) != NULL; p++) {
        char after = p[acct.len];
        bool ends = after == '\0' || after == ' ';
        mine = ends && ((p - line >= 4 && strncmp(p - 4, " TO ", 4) == 0) ||
                        (p - line >= 5 && strncmp(p - 5, " FOR ", 5) == 0));
    }
    sl_buf_free(&acct);
    return mine;
}

static int
put_grants_of(sl_mysql *c, sl_buf *out, account *a, sl_accounts_summary *s, sl_error *err)
{
    bool missing;
    MYSQL_RES *res = show(c, "SHOW GRANTS FOR", a, &missing, err);
    if (!res && missing) {
        s->skipped++;
        return 0;
    }
    if (!res)
        return -1;
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) != NULL) {
        if (!row[0] || !grants_to(row[0], a))
            continue;
        put_grant(out, row[0], a);
        s->grants++;
    }
    mysql_free_result(res);
    return 0;
}

/* Roles' grants first: a user's grant of a role needs the role, and a role granted to a role
 * needs both. */
static int
put_grants(sl_mysql *c, sl_buf *out, accounts *all, sl_accounts_summary *s, sl_error *err)
{
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < all->n; i++) {
            account *a = &all->v[i];
            if (a->role != (pass == 0) || a->skipped)
                continue;
            if (put_grants_of(c, out, a, s, err) != 0)
                return -1;
        }
    return 0;
}

int
sl_accounts_read(sl_mysql *c, sl_buf *out, sl_accounts_summary *summary, sl_error *err)
{
    memset(summary, 0, sizeof *summary);
    accounts all = {0};
    int rc = -1;
    if (list_accounts(c, &all, err) != 0)
        goto done;
    sl_buf_puts(out, SL_ACCOUNTS_SIGNATURE "\n"
                     "/*M!999999\\- enable the sandbox mode */\n"
                     "-- roles, users (with their password hashes) and grants\n"
                     "/*!40101 SET NAMES utf8mb4 */;\n");
    if (put_roles(out, &all, summary) != 0 || put_users(c, out, &all, summary, err) != 0 ||
        put_grants(c, out, &all, summary, err) != 0)
        goto done;
    rc = 0;
done:
    accounts_free(&all);
    return rc;
}
