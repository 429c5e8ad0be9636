/* tests/drivers/proxysql_driver.c: shows proxy/sql to tests/e2e/test_proxysql_catalog.py, which
 * checks what the analysis trusts against a real server's catalog.
 *   proxysql_driver lists     prints "LIST\tNAME" lines: func (immutable functions), known
 *                             (uncacheable known built-ins), type, timetype, op
 *   proxysql_driver analyze [nonstandard]
 *                             reads one query string on stdin, prints
 *                             "KIND\tCACHEABLE\tWRITES_UNKNOWN\tREASON"; nonstandard: as for
 *                             a session with standard_conforming_strings off
 * Exit 0, or 1 with the error on stderr. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/sql.h"

static void
print_list(const char *label, sl_sql_list which)
{
    size_t n;
    const char *const *names = sl_sql_allow_list(which, &n);
    for (size_t i = 0; i < n; i++)
        printf("%s\t%s\n", label, names[i]);
}

static int
analyze(bool non_standard)
{
    size_t cap = 1 << 16, len = 0, got;
    char *sql = malloc(cap);
    while (sql && (got = fread(sql + len, 1, cap - len - 1, stdin)) > 0) {
        len += got;
        if (cap - len == 1) {
            char *ns = realloc(sql, cap * 2);
            if (!ns)
                free(sql);
            sql = ns;
            cap *= 2;
        }
    }
    if (!sql)
        return 1;
    sql[len] = '\0';
    sl_sql_analysis *a = NULL;
    sl_error err = {0};
    if (sl_sql_analyze(sql, SL_SQL_OPTS(.non_standard_strings = non_standard), &a, &err) != 0) {
        fprintf(stderr, "error: %s\n", err.message);
        free(sql);
        return 1;
    }
    printf("%s\t%d\t%d\t%s\n", sl_sql_kind_name(a->kind), a->cacheable, a->writes_unknown,
           a->reason);
    sl_sql_analysis_free(a);
    free(sql);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "lists") == 0) {
        print_list("func", SL_SQL_LIST_IMMUTABLE_FUNCS);
        print_list("known", SL_SQL_LIST_KNOWN_FUNCS);
        print_list("type", SL_SQL_LIST_CAST_TYPES);
        print_list("timetype", SL_SQL_LIST_TIME_TYPES);
        print_list("op", SL_SQL_LIST_OPERATORS);
        return 0;
    }
    if (argc >= 2 && argc <= 3 && strcmp(argv[1], "analyze") == 0)
        return analyze(argc == 3 && strcmp(argv[2], "nonstandard") == 0);
    fprintf(stderr, "usage: proxysql_driver lists|analyze\n");
    return 1;
}
