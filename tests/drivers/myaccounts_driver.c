/* tests/drivers/myaccounts_driver.c: drives mydump/accounts.h for
 * tests/e2e/test_mysql_accounts.py, against a real server.
 *   myaccounts_driver HOST PORT USER     prints the accounts script on stdout and the summary
 *                                        ("roles N users N grants N skipped N") on stderr
 * The password comes from ~/.my.cnf, as for sluice. Exit 0, or 1 with the error on stderr. */
#include <stdio.h>

#include "base/buf.h"
#include "mydump/accounts.h"
#include "mysql/conn.h"

int
main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: myaccounts_driver HOST PORT USER\n");
        return 2;
    }
    sl_error err;
    sl_error_clear(&err);
    sl_mysql_target t = {.host = argv[1], .port = argv[2], .user = argv[3]};
    sl_mysql *c = sl_mysql_connect(&t, &err);
    sl_buf out = SL_BUF_INIT;
    sl_accounts_summary s;
    int rc = 1;
    if (c && sl_accounts_read(c, &out, &s, &err) == 0) {
        fwrite(out.data, 1, out.len, stdout);
        fprintf(stderr, "roles %d users %d grants %d skipped %d\n", s.roles, s.users, s.grants,
                s.skipped);
        rc = 0;
    } else {
        fprintf(stderr, "error: %s\n", err.message);
    }
    sl_buf_free(&out);
    sl_mysql_close(c);
    return rc;
}
