/* libFuzzer target for proxy/sql, proxy/sqlscan and proxy/hint: the analysis of any bytes
 * must finish without crashing or leaking, and what it answers must hold together: a cacheable
 * string is one SELECT that writes nothing; statement ranges lie within the string; a string
 * the analysis could not read writes unknown tables. The same bytes are read as comment hints
 * and as a pgproxy parameter hook, and as JSON for sqltree.
 * Build: cmake -DSL_FUZZ=ON -DCMAKE_C_COMPILER=clang ...; run: ./fuzz_proxysql corpus/ */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/hint.h"
#include "proxy/sql.h"
#include "proxy/sqlscan.h"
#include "proxy/sqltree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_names(const sl_sql_name *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!names[i].name || !names[i].name[0] || (names[i].schema && !names[i].schema[0]))
            abort();
}

static void
check_analysis(const char *text, size_t len, bool non_standard)
{
    sl_sql_analysis *a = NULL;
    sl_error err;
    sl_error_clear(&err);
    if (sl_sql_analyze(text, SL_SQL_OPTS(.non_standard_strings = non_standard), &a, &err) != 0)
        abort(); /* only out of memory may fail */
    if (a->cacheable
        && (a->n_stmts != 1 || a->kind != SL_SQL_CACHEABLE_SELECT || a->n_writes != 0
            || a->writes_unknown || a->settings_unknown || a->session_unmodelled
            || a->n_funcs != 0 || a->reason[0] || a->parse_error))
        abort();
    if (!a->cacheable && !a->reason[0])
        abort();
    if (a->parse_error && !(a->writes_unknown && a->n_stmts == 0))
        abort();
    for (size_t i = 0; i < a->n_stmts; i++) {
        const sl_sql_stmt *st = &a->stmts[i];
        if (st->offset < 0 || st->len < 0 || (size_t)st->offset + (size_t)st->len > len)
            abort();
        if (st->kind == SL_SQL_SESSION_SET && !st->set_name)
            abort();
        if (st->kind == SL_SQL_SESSION_SET && !st->set_reset && !st->set_value)
            abort();
        if (st->kind == SL_SQL_SESSION_UNMODELLED && !a->session_unmodelled)
            abort();
    }
    check_names(a->reads, a->n_reads);
    check_names(a->writes, a->n_writes);
    check_names(a->funcs, a->n_funcs);
    sl_sql_analysis_free(a);
}

static void
check_hints(const char *text, const uint8_t *data, size_t size)
{
    sl_hint_comment c;
    sl_error err;
    if (sl_hint_comments(text, false, &c, &err) != 0)
        abort();
    if (c.ttl < 0 || c.ttl > SL_HINT_MAX_TTL || strlen(c.key) > SL_HINT_MAX_KEY)
        abort();
    sl_hint_param p;
    if (sl_hint_param_parse((const char *)data, size, &p, &err) != 0)
        abort();
    if (p.is_hook && (size < 8 || memcmp(data, "PGPROXY,", 8) != 0 || memchr(data, 0, size)))
        abort();
    if (!p.is_hook && (p.no_cache || p.cache_key || p.invalidate))
        abort();
    sl_hint_param_free(&p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    size_t len = strlen(text);
    check_analysis(text, len, false);
    check_analysis(text, len, true);
    check_hints(text, data, size);
    sl_sqltree *tree = NULL;
    int rc = sl_sqltree_parse((const char *)data, size, 64, &tree);
    if ((rc == 0) != (tree != NULL) || rc == -2)
        abort();
    sl_sqltree_free(tree);
    free(text);
    return 0;
}
