/* proxy/sql.c: the analysis walks libpg_query's JSON parse tree (pg_query_parse, read by
 * sqltree.c). Design:
 *  - Order: scan first (sqlscan.c), refuse trees deeper than SL_SQLSCAN_MAX_DEPTH, then parse.
 *    A string that does not scan or parse, or is too deep, is OTHER, not cacheable, and sets
 *    writes_unknown and settings_unknown. So is a tree deeper than SL_SQL_MAX_TREE_DEPTH levels
 *    of JSON (about 300 nested subqueries), which also bounds the walker's recursion.
 *  - A node in the JSON is an object with one key, the node type (capitalized): {"RangeVar":
 *    {...}}. A field whose C type is a specific struct (InsertStmt.relation, TypeCast.typeName,
 *    FuncCall.over, SelectStmt.withClause...) is printed without that wrapper. The walker
 *    visits every value of the tree, so nothing nested escapes it: a FuncCall, a RangeVar, a
 *    LockingClause or a data-modifying statement anywhere in a SELECT is seen.
 *  - Cacheability is an allow-list of node types: any node type not listed in plain_nodes
 *    makes a SELECT uncacheable ("unsupported construct"), so a construct added by a later
 *    PostgreSQL is refused until someone looks at it.
 *  - CTE names shadow unqualified table names with the server's scoping: the query after WITH
 *    sees every CTE; the body of a CTE sees the CTEs before it, or all of them under WITH
 *    RECURSIVE. A target of INSERT/UPDATE/DELETE/MERGE is always a table.
 *  - Top-level statement types are classified in classify(); any utility statement not known
 *    there is DDL with writes_unknown. */
#include "proxy/sql.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pg_query.h>

#include "proxy/sqlscan.h"
#include "proxy/sqltree.h"

/* Immutable built-in functions (pg_proc.provolatile = 'i' in PostgreSQL 15 for the argument
 * types a query normally gives them), and the few the SQL grammar calls by name (EXTRACT,
 * SUBSTRING ... FROM, TRIM, POSITION, OVERLAY, AT TIME ZONE, LIKE ... ESCAPE, SIMILAR TO).
 * extract, date_part, date_trunc, timezone, overlaps and generate_series are stable on
 * timestamptz only through TimeZone, which the cache key holds, and length(bytea, name) only
 * through the named encoding. Not here on purpose: now() and every clock function, random(),
 * age() (one argument reads the clock), to_char/to_number/to_date/to_timestamp (locale),
 * format/concat/to_json (stable), to_tsvector (default_text_search_config), anything of
 * sequences, settings, the session or the catalog. */
static const char *const immutable_funcs[] = {
    /* numbers */
    "abs", "acos", "acosd", "acosh", "asin", "asind", "asinh", "atan", "atan2", "atan2d",
    "atand", "atanh", "cbrt", "ceil", "ceiling", "cos", "cosd", "cosh", "cot", "cotd",
    "degrees", "div", "exp", "floor", "gcd", "lcm", "ln", "log", "log10", "min_scale", "mod",
    "pi", "power", "radians", "round", "scale", "sign", "sin", "sind", "sinh", "sqrt", "tan",
    "tand", "tanh", "trim_scale", "trunc", "width_bucket", "num_nonnulls", "num_nulls",
    /* text */
    "ascii", "bit_length", "btrim", "char_length", "character_length", "chr", "initcap",
    "left", "length", "lower", "lpad", "ltrim", "md5", "octet_length", "overlay", "position",
    "repeat", "replace", "reverse", "right", "rpad", "rtrim", "split_part", "starts_with",
    "strpos", "substr", "substring", "translate", "upper", "to_hex", "encode", "decode",
    "sha224", "sha256", "sha384", "sha512", "quote_ident", "regexp_count", "regexp_instr",
    "regexp_like", "regexp_match", "regexp_matches", "regexp_replace", "regexp_split_to_array",
    "regexp_split_to_table", "regexp_substr", "string_to_array", "string_to_table",
    "like_escape", "similar_to_escape", "is_normalized", "normalize",
    /* date and time (see above) */
    "extract", "date_part", "date_trunc", "timezone", "make_date", "make_time",
    "make_timestamp", "make_interval", "isfinite", "justify_days", "justify_hours",
    "justify_interval", "overlaps",
    /* arrays and sets */
    "array_append", "array_cat", "array_dims", "array_length", "array_lower", "array_ndims",
    "array_position", "array_positions", "array_prepend", "array_remove", "array_replace",
    "array_upper", "cardinality", "trim_array", "unnest", "generate_series",
    "generate_subscripts",
    /* json */
    "json_array_length", "json_array_elements", "json_array_elements_text", "json_each",
    "json_each_text", "json_extract_path", "json_extract_path_text", "json_object_keys",
    "json_typeof", "jsonb_array_elements", "jsonb_array_elements_text", "jsonb_array_length",
    "jsonb_each", "jsonb_each_text", "jsonb_extract_path", "jsonb_extract_path_text",
    "jsonb_insert", "jsonb_object_keys", "jsonb_path_exists", "jsonb_path_match",
    "jsonb_path_query", "jsonb_path_query_array", "jsonb_path_query_first", "jsonb_pretty",
    "jsonb_set", "jsonb_strip_nulls", "jsonb_typeof",
    /* aggregates */
    "avg", "bit_and", "bit_or", "bit_xor", "bool_and", "bool_or", "count", "every", "max",
    "min", "sum", "array_agg", "string_agg", "stddev", "stddev_pop", "stddev_samp",
    "variance", "var_pop", "var_samp", "corr", "covar_pop", "covar_samp", "regr_avgx",
    "regr_avgy", "regr_count", "regr_intercept", "regr_r2", "regr_slope", "regr_sxx",
    "regr_sxy", "regr_syy", "mode", "percentile_cont", "percentile_disc",
    /* window functions */
    "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead",
    "first_value", "last_value", "nth_value",
};

/* Built-ins that are not cacheable but whose effects are known: they write no table the cache
 * holds (nextval/setval write sequences, and a SELECT on a sequence is never cached) and change
 * no setting. Calling them does not set writes_unknown. set_config() is handled apart. */
static const char *const known_funcs[] = {
    "now", "statement_timestamp", "transaction_timestamp", "clock_timestamp", "timeofday",
    "random", "setseed", "pg_sleep", "pg_sleep_for", "pg_sleep_until", "nextval", "setval",
    "currval", "lastval", "current_setting", "current_database", "current_schema",
    "current_schemas", "version", "pg_backend_pid", "txid_current", "txid_current_if_assigned",
    "pg_current_xact_id", "pg_current_xact_id_if_assigned", "inet_client_addr",
    "inet_client_port", "inet_server_addr", "inet_server_port", "age", "to_char", "to_number",
    "to_date", "to_timestamp", "format", "concat", "concat_ws", "to_json", "to_jsonb",
    "json_build_array", "json_build_object", "jsonb_build_array", "jsonb_build_object",
    "json_agg", "jsonb_agg", "json_object_agg", "jsonb_object_agg", "row_to_json",
    "array_to_json", "array_to_string", "to_tsvector", "to_tsquery", "plainto_tsquery",
    "phraseto_tsquery", "websearch_to_tsquery", "pg_typeof", "has_table_privilege",
    "has_schema_privilege", "has_column_privilege", "has_function_privilege",
    "pg_has_role", "gen_random_uuid", "pg_advisory_lock", "pg_advisory_unlock",
    "pg_try_advisory_lock", "pg_advisory_xact_lock", "pg_try_advisory_xact_lock",
    "pg_postmaster_start_time", "pg_conf_load_time", "pg_is_in_recovery",
    "pg_relation_size", "pg_total_relation_size", "pg_table_size", "pg_database_size",
    "pg_size_pretty", "obj_description", "col_description", "format_type",
    "pg_get_viewdef", "pg_get_indexdef", "pg_get_constraintdef", "pg_get_functiondef",
    "pg_get_expr", "pg_get_userbyid", "quote_literal", "quote_nullable",
};

/* Built-in operator symbols (the scanner turns != into <>). In PostgreSQL 15 no operator of
 * these symbols is volatile; the stable ones (+ - on timestamptz, comparisons across date/time
 * types, || of text and a non-text value) depend only on TimeZone and output settings, which
 * the key holds. Not here: @@, whose text @@ text and text @@ tsquery forms read
 * default_text_search_config. */
static const char *const builtin_ops[] = {
    "+", "-", "*", "/", "%", "^", "|/", "||/", "@", "&", "|", "#", "~", "<<", ">>", "=",
    "<>", "<", ">", "<=", ">=", "||", "~~", "!~~", "~~*", "!~~*", "!~", "~*", "!~*", "@>",
    "<@", "&&", "?", "?|", "?&", "->", "->>", "#>", "#>>", "#-", "@?", "^@", "-|-", "&<",
    "&>", "<<|", "|>>", "<->",
};

/* Cast targets whose input functions are immutable (the range types' are stable in pg_type
 * only because a range's subtype may be; these subtypes are immutable). */
static const char *const cast_types[] = {
    "bool", "boolean", "int2", "int4", "int8", "smallint", "integer", "int", "bigint",
    "numeric", "decimal", "float4", "float8", "real", "text", "varchar", "bpchar", "char",
    "name", "bytea", "uuid", "json", "jsonb", "bit", "varbit", "inet", "cidr", "macaddr",
    "macaddr8", "oid", "tsvector", "tsquery", "int4range", "int8range", "numrange", "xid",
};

/* Date/time types: their input reads the clock for 'now', 'today'..., so a cast to them is
 * cacheable only of a constant (checked for those words) or a parameter (the session checks
 * its value with sl_sql_text_is_time_dependent()), never of a column. */
static const char *const time_types[] = {
    "date", "time", "timetz", "timestamp", "timestamptz", "interval",
};

/* Node types a cacheable SELECT may hold besides those walk_node() checks itself. */
static const char *const plain_nodes[] = {
    "SelectStmt", "ResTarget", "ColumnRef", "A_Star", "ParamRef", "BoolExpr", "NullTest",
    "BooleanTest", "SubLink", "CaseExpr", "CaseWhen", "CoalesceExpr", "MinMaxExpr",
    "A_ArrayExpr", "A_Indirection", "A_Indices", "RowExpr", "SortBy", "WindowDef",
    "RangeSubselect", "JoinExpr", "Alias", "CommonTableExpr", "String", "Integer", "Float",
    "Boolean", "BitString", "List", "CollateClause", "GroupingSet", "GroupingFunc",
    "RangeFunction", "NamedArgExpr", "CTESearchClause", "CTECycleClause",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Deeper JSON is not read (as jansson, which this replaces, refused it): about 300 nested
 * subqueries. It also bounds the walker's recursion. */
#define SL_SQL_MAX_TREE_DEPTH 2048

/* Shorthands over the parse tree: every function that reads it has its tree in `t`. */
#define GET(n, key) sl_sqltree_get(t, (n), (key))
#define STR(n) sl_sqltree_str(t, (n))
#define INT(n) sl_sqltree_int(t, (n))
#define IS_TRUE(n) sl_sqltree_is_true(t, (n))
#define FIRST(n) sl_sqltree_first(t, (n))
#define NEXT(n) sl_sqltree_next(t, (n))

static bool
in_list(const char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

/* ---- result building ---- */

typedef struct {
    const sl_sqltree *t; /* the parse tree */
    const char *sql;     /* the text it was parsed from (locations point into it) */
    size_t sql_len;
    sl_sql_analysis *a;
    sl_sql_stmt *st;
    bool cacheable;    /* the statement is still a cacheable SELECT */
    bool write;        /* a data-modifying statement was found */
    bool set_config;   /* set_config() is called */
    bool oom;
    const char **scope; /* CTE names visible here */
    size_t n_scope;
    size_t cap_scope;
} walker;

static void
vreason(char *dst, size_t cap, const char *fmt, va_list ap)
{
    if (dst[0] == '\0')
        vsnprintf(dst, cap, fmt, ap);
}

/* The statement is not cacheable; the first reason given is kept. */
static void SL_PRINTF(2, 3)
deny(walker *w, const char *fmt, ...)
{
    va_list ap;
    w->cacheable = false;
    va_start(ap, fmt);
    vreason(w->st->reason, sizeof w->st->reason, fmt, ap);
    va_end(ap);
}

static void SL_PRINTF(2, 3)
set_reason(sl_sql_stmt *st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreason(st->reason, sizeof st->reason, fmt, ap);
    va_end(ap);
}

static bool
name_eq(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* Adds schema.name to a set of names once. */
static void
add_name(walker *w, sl_sql_name **set, size_t *n, const char *schema, const char *name)
{
    if (!name)
        return;
    for (size_t i = 0; i < *n; i++)
        if (name_eq((*set)[i].schema, schema) && strcmp((*set)[i].name, name) == 0)
            return;
    sl_sql_name *ns = realloc(*set, (*n + 1) * sizeof *ns);
    if (!ns) {
        w->oom = true;
        return;
    }
    *set = ns;
    ns[*n].schema = schema ? strdup(schema) : NULL;
    ns[*n].name = strdup(name);
    if ((schema && !ns[*n].schema) || !ns[*n].name) {
        free(ns[*n].schema);
        free(ns[*n].name);
        w->oom = true;
        return;
    }
    (*n)++;
}

static const char *
str_field(const sl_sqltree *t, sl_sqlnode obj, const char *key)
{
    return STR(GET(obj, key));
}

/* {"T": {...}} -> "T" and its fields; NULL when v is no node. */
static const char *
node_type(const sl_sqltree *t, sl_sqlnode v, sl_sqlnode *fields)
{
    if (sl_sqltree_kind_of(t, v) != SL_SQLTREE_OBJECT || sl_sqltree_count(t, v) != 1)
        return NULL;
    sl_sqlnode member = FIRST(v);
    const char *key = sl_sqltree_key(t, member);
    if (!key || !isupper((unsigned char)key[0]))
        return NULL;
    *fields = member;
    return key;
}

/* The strings of a list of String nodes ([{"String": {"sval": "x"}}, ...]); at most 3. */
static size_t
string_list(const sl_sqltree *t, sl_sqlnode list, const char *out[3])
{
    size_t n = 0;
    sl_sqlnode item, f;
    for (item = FIRST(list); item; item = NEXT(item)) {
        const char *type = node_type(t, item, &f);
        if (!type || strcmp(type, "String") != 0 || n == 3)
            return 0;
        out[n++] = STR(GET(f, "sval"));
        if (!out[n - 1])
            return 0;
    }
    return n;
}

/* ---- the walker ---- */

static void walk(walker *w, sl_sqlnode v);

static void
walk_fields_except(walker *w, sl_sqlnode fields, const char *skip1, const char *skip2)
{
    const sl_sqltree *t = w->t;
    for (sl_sqlnode v = FIRST(fields); v; v = NEXT(v)) {
        const char *key = sl_sqltree_key(t, v);
        if (!key)
            continue;
        if ((skip1 && strcmp(key, skip1) == 0) || (skip2 && strcmp(key, skip2) == 0))
            continue;
        if (strcmp(key, "withClause") == 0)
            continue; /* walked first, by walk_node(), for its scope */
        if (strcmp(key, "intoClause") == 0)
            deny(w, "SELECT INTO");
        walk(w, v);
    }
}

static bool
scope_has(const walker *w, const char *name)
{
    for (size_t i = w->n_scope; i-- > 0;)
        if (strcmp(w->scope[i], name) == 0)
            return true;
    return false;
}

static void
scope_push(walker *w, const char *name)
{
    if (!name)
        return;
    if (w->n_scope == w->cap_scope) {
        size_t ncap = w->cap_scope ? w->cap_scope * 2 : 8;
        const char **ns = realloc(w->scope, ncap * sizeof *ns);
        if (!ns) {
            w->oom = true;
            return;
        }
        w->scope = ns;
        w->cap_scope = ncap;
    }
    w->scope[w->n_scope++] = name;
}

static const char *
cte_name(const sl_sqltree *t, sl_sqlnode cte)
{
    sl_sqlnode f;
    const char *type = node_type(t, cte, &f);
    return type && strcmp(type, "CommonTableExpr") == 0 ? str_field(t, f, "ctename") : NULL;
}

/* Walks the CTE bodies of a WITH and leaves every CTE name in scope for what follows. */
static void
walk_with(walker *w, sl_sqlnode with)
{
    const sl_sqltree *t = w->t;
    sl_sqlnode ctes = GET(with, "ctes"), cte;
    if (IS_TRUE(GET(with, "recursive"))) {
        for (cte = FIRST(ctes); cte; cte = NEXT(cte))
            scope_push(w, cte_name(t, cte));
        for (cte = FIRST(ctes); cte; cte = NEXT(cte))
            walk(w, cte);
        return;
    }
    for (cte = FIRST(ctes); cte; cte = NEXT(cte)) {
        walk(w, cte);
        scope_push(w, cte_name(t, cte));
    }
}

static bool
is_system_schema(const char *s)
{
    return strcmp(s, "pg_catalog") == 0 || strcmp(s, "information_schema") == 0
           || strncmp(s, "pg_toast", 8) == 0;
}

static bool
is_temp_schema(const char *s)
{
    return strncmp(s, "pg_temp", 7) == 0 || strncmp(s, "pg_toast_temp", 13) == 0;
}

/* A relation read by the statement (FROM, JOIN, a subquery's FROM, TABLE t). */
static void
read_rangevar(walker *w, sl_sqlnode f)
{
    const sl_sqltree *t = w->t;
    const char *schema = str_field(t, f, "schemaname"), *name = str_field(t, f, "relname");
    if (!name)
        return;
    if (!schema && scope_has(w, name))
        return; /* a CTE */
    add_name(w, &w->a->reads, &w->a->n_reads, schema, name);
    if (schema && is_temp_schema(schema))
        deny(w, "reads a temporary table (%s.%s)", schema, name);
    else if ((schema && is_system_schema(schema)) || strncmp(name, "pg_", 3) == 0)
        deny(w, "reads a system catalog (%s%s%s)", schema ? schema : "", schema ? "." : "",
             name);
}

static void
write_rangevar(walker *w, sl_sqlnode f)
{
    const sl_sqltree *t = w->t;
    const char *name = str_field(t, f, "relname");
    if (name)
        add_name(w, &w->a->writes, &w->a->n_writes, str_field(t, f, "schemaname"), name);
}

static void
unknown_func(walker *w, const char *schema, const char *name)
{
    add_name(w, &w->a->funcs, &w->a->n_funcs, schema, name);
    w->a->writes_unknown = true;
    w->a->settings_unknown = true;
    deny(w, "calls %s%s%s(), which is not a known built-in", schema ? schema : "",
         schema ? "." : "", name);
}

static void
check_func(walker *w, sl_sqlnode f)
{
    const sl_sqltree *t = w->t;
    const char *parts[3];
    size_t n = string_list(t, GET(f, "funcname"), parts);
    if (n == 0 || n == 3) {
        w->a->writes_unknown = true;
        w->a->settings_unknown = true;
        deny(w, "calls a function with an unreadable name");
        return;
    }
    const char *schema = n == 2 ? parts[0] : NULL, *name = parts[n - 1];
    if (schema && strcmp(schema, "pg_catalog") != 0) {
        unknown_func(w, schema, name);
        return;
    }
    if (in_list(immutable_funcs, NELEM(immutable_funcs), name))
        return;
    if (strcmp(name, "set_config") == 0) {
        w->set_config = true;
        deny(w, "calls set_config()");
    } else if (in_list(known_funcs, NELEM(known_funcs), name)) {
        deny(w, "calls %s(), which is not immutable", name);
    } else {
        unknown_func(w, schema, name);
    }
}

static void
check_operator(walker *w, sl_sqlnode f)
{
    const sl_sqltree *t = w->t;
    const char *kind = str_field(t, f, "kind");
    if (kind && strncmp(kind, "AEXPR_BETWEEN", 13) == 0)
        return;
    if (kind && strncmp(kind, "AEXPR_NOT_BETWEEN", 17) == 0)
        return;
    const char *parts[3];
    size_t n = string_list(t, GET(f, "name"), parts);
    if (n == 0 || n == 3 || (n == 2 && strcmp(parts[0], "pg_catalog") != 0))
        deny(w, "uses an operator outside pg_catalog");
    else if (!in_list(builtin_ops, NELEM(builtin_ops), parts[n - 1]))
        deny(w, "uses the operator %s, which is not a known built-in", parts[n - 1]);
}

static void
check_cast(walker *w, sl_sqlnode f)
{
    const sl_sqltree *t = w->t;
    sl_sqlnode tn = GET(f, "typeName"), argf;
    const char *parts[3];
    size_t n = string_list(t, GET(tn, "names"), parts);
    if (n == 0 || n == 3 || (n == 2 && strcmp(parts[0], "pg_catalog") != 0)) {
        deny(w, "casts to a type outside pg_catalog");
        return;
    }
    const char *type = parts[n - 1];
    if (in_list(cast_types, NELEM(cast_types), type))
        return;
    if (!in_list(time_types, NELEM(time_types), type)) {
        deny(w, "casts to %s, which is not a known immutable type", type);
        return;
    }
    const char *at = node_type(t, GET(f, "arg"), &argf);
    if (!at || (strcmp(at, "A_Const") != 0 && strcmp(at, "ParamRef") != 0))
        deny(w, "casts an expression to %s", type);
}

static void
check_const(walker *w, sl_sqlnode f)
{
    const sl_sqltree *t = w->t;
    const char *s = str_field(t, GET(f, "sval"), "sval");
    if (s && sl_sql_text_is_time_dependent(s, strlen(s)))
        deny(w, "holds a literal that reads the clock ('%.40s')", s);
}

/* A data-modifying statement anywhere (top level or in a WITH). */
static void
walk_modify(walker *w, const char *type, sl_sqlnode f)
{
    const sl_sqltree *t = w->t;
    sl_sqlnode rel = GET(f, "relation");
    w->write = true;
    deny(w, "modifies data");
    if (rel)
        write_rangevar(w, rel);
    (void)type;
    walk_fields_except(w, f, "relation", NULL);
}

static void
walk_node(walker *w, const char *type, sl_sqlnode f)
{
    const sl_sqltree *t = w->t;
    if (sl_sqltree_kind_of(t, f) != SL_SQLTREE_OBJECT)
        return;
    size_t mark = w->n_scope;
    sl_sqlnode with = GET(f, "withClause");
    if (with)
        walk_with(w, with);
    if (strcmp(type, "RangeVar") == 0) {
        read_rangevar(w, f);
    } else if (strcmp(type, "InsertStmt") == 0 || strcmp(type, "UpdateStmt") == 0
               || strcmp(type, "DeleteStmt") == 0 || strcmp(type, "MergeStmt") == 0) {
        walk_modify(w, type, f);
    } else if (strcmp(type, "FuncCall") == 0) {
        check_func(w, f);
        walk_fields_except(w, f, "funcname", NULL);
    } else if (strcmp(type, "A_Expr") == 0) {
        check_operator(w, f);
        walk_fields_except(w, f, "name", NULL);
    } else if (strcmp(type, "TypeCast") == 0) {
        check_cast(w, f);
        walk(w, GET(f, "arg"));
    } else if (strcmp(type, "A_Const") == 0) {
        check_const(w, f);
    } else if (strcmp(type, "SQLValueFunction") == 0) {
        deny(w, "reads the clock or the session (CURRENT_DATE, CURRENT_USER, ...)");
    } else if (strcmp(type, "LockingClause") == 0) {
        deny(w, "locks rows (FOR UPDATE/SHARE)");
    } else if (strcmp(type, "ColumnRef") == 0) {
        /* column names only */
    } else {
        if (!in_list(plain_nodes, NELEM(plain_nodes), type))
            deny(w, "unsupported construct %s", type);
        walk_fields_except(w, f, NULL, NULL);
    }
    w->n_scope = mark;
}

static void
walk(walker *w, sl_sqlnode v)
{
    const sl_sqltree *t = w->t;
    sl_sqlnode f, item;
    if (w->oom)
        return;
    if (sl_sqltree_kind_of(t, v) == SL_SQLTREE_ARRAY) {
        for (item = FIRST(v); item; item = NEXT(item))
            walk(w, item);
        return;
    }
    if (sl_sqltree_kind_of(t, v) != SL_SQLTREE_OBJECT)
        return;
    const char *type = node_type(t, v, &f);
    if (type)
        walk_node(w, type, f);
    else
        walk_fields_except(w, v, NULL, NULL); /* a struct printed without its type */
}

/* ---- statements ---- */

static bool
is_temp_rangevar(const sl_sqltree *t, sl_sqlnode rv)
{
    const char *p = str_field(t, rv, "relpersistence"), *schema = str_field(t, rv, "schemaname");
    return (p && strcmp(p, "t") == 0) || (schema && is_temp_schema(schema));
}

/* CREATE TABLE/VIEW/TABLE AS/SELECT INTO of rel: temporary ones shadow names the session
 * cannot follow. */
static void
creates(walker *w, sl_sqlnode rel, const char *what)
{
    const sl_sqltree *t = w->t;
    if (rel && is_temp_rangevar(t, rel)) {
        w->st->kind = SL_SQL_SESSION_UNMODELLED;
        w->st->reason[0] = '\0'; /* this says more than "SELECT INTO" */
        set_reason(w->st, "creates a temporary %s", what);
        return;
    }
    w->st->kind = SL_SQL_DDL;
    if (rel)
        write_rangevar(w, rel);
}

/* set_config() makes the statement SESSION_UNMODELLED whatever else it does: say so. */
static void
unmodelled_by_set_config(walker *w)
{
    w->st->kind = SL_SQL_SESSION_UNMODELLED;
    w->st->reason[0] = '\0';
    set_reason(w->st, "calls set_config()");
}

static void
classify_select(walker *w, sl_sqlnode f)
{
    const sl_sqltree *t = w->t;
    sl_sqlnode into = GET(f, "intoClause");
    walk_node(w, "SelectStmt", f);
    if (into) {
        creates(w, GET(into, "rel"), "table");
        return;
    }
    if (w->write) {
        w->st->kind = SL_SQL_WRITE;
    } else {
        w->st->kind = w->cacheable ? SL_SQL_CACHEABLE_SELECT : SL_SQL_READ_UNCACHEABLE;
    }
}

static void
classify_copy(walker *w, sl_sqlnode f)
{
    const sl_sqltree *t = w->t;
    sl_sqlnode rel = GET(f, "relation");
    bool from = IS_TRUE(GET(f, "is_from"));
    deny(w, "COPY");
    if (rel && from)
        write_rangevar(w, rel);
    else if (rel)
        read_rangevar(w, rel);
    walk(w, GET(f, "query"));
    w->st->kind = (from || w->write) ? SL_SQL_WRITE : SL_SQL_READ_UNCACHEABLE;
}

static void
classify_txn(walker *w, sl_sqlnode f)
{
    const sl_sqltree *t = w->t;
    static const struct {
        const char *name;
        sl_sql_txn txn;
    } map[] = {
        {"TRANS_STMT_BEGIN", SL_SQL_TXN_BEGIN},
        {"TRANS_STMT_START", SL_SQL_TXN_BEGIN},
        {"TRANS_STMT_COMMIT", SL_SQL_TXN_COMMIT},
        {"TRANS_STMT_ROLLBACK", SL_SQL_TXN_ROLLBACK},
        {"TRANS_STMT_SAVEPOINT", SL_SQL_TXN_SAVEPOINT},
        {"TRANS_STMT_RELEASE", SL_SQL_TXN_RELEASE},
        {"TRANS_STMT_ROLLBACK_TO", SL_SQL_TXN_ROLLBACK_TO},
        {"TRANS_STMT_PREPARE", SL_SQL_TXN_PREPARE},
        {"TRANS_STMT_COMMIT_PREPARED", SL_SQL_TXN_COMMIT_PREPARED},
        {"TRANS_STMT_ROLLBACK_PREPARED", SL_SQL_TXN_ROLLBACK_PREPARED},
    };
    const char *kind = str_field(t, f, "kind");
    w->st->kind = SL_SQL_TRANSACTION;
    w->st->txn_chain = IS_TRUE(GET(f, "chain"));
    for (size_t i = 0; kind && i < NELEM(map); i++)
        if (strcmp(map[i].name, kind) == 0)
            w->st->txn = map[i].txn;
    if (w->st->txn == SL_SQL_TXN_NONE) {
        w->st->kind = SL_SQL_SESSION_UNMODELLED;
        set_reason(w->st, "unknown transaction statement %s", kind ? kind : "?");
    } else if (w->st->txn == SL_SQL_TXN_COMMIT_PREPARED) {
        /* commits writes a session made earlier, maybe through another proxy or none */
        w->a->writes_unknown = true;
        set_reason(w->st, "COMMIT PREPARED commits writes made elsewhere");
    }
}

/* An integer constant's value read from the statement text at its location. libpg_query 15's
 * JSON output prints a negative integer constant as {"ival": {}}, the same as 0, so the tree
 * alone cannot tell SET x = -3 from SET x = 0. Accepts "[-][blanks]digits" not followed by
 * another digit, a dot or a letter; false for anything else (the SET is then not modelled). */
static bool
int_from_source(const walker *w, int64_t loc, long long *out)
{
    if (loc < 0 || (size_t)loc >= w->sql_len)
        return false;
    const char *p = w->sql + loc, *end = w->sql + w->sql_len;
    bool neg = *p == '-';
    if (neg)
        for (p++; p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'); p++)
            ;
    long long v = 0;
    const char *digits = p;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        if (v > (LLONG_MAX - (*p - '0')) / 10)
            return false;
        v = v * 10 + (*p - '0');
    }
    if (p == digits || (p < end && (*p == '.' || isalnum((unsigned char)*p) || *p == '_')))
        return false;
    *out = neg ? -v : v;
    return true;
}

/* Renders SET's value list; false when an item is not a constant. */
static bool
render_set_args(const walker *w, sl_sqlnode args, char **out)
{
    const sl_sqltree *t = w->t;
    size_t cap = 64, len = 0;
    sl_sqlnode item, f;
    char *buf = malloc(cap);
    if (!buf)
        return false;
    buf[0] = '\0';
    for (item = FIRST(args); item; item = NEXT(item)) {
        const char *type = node_type(t, item, &f);
        const char *s = NULL, *num = NULL;
        char tmp[32];
        if (!type || strcmp(type, "A_Const") != 0)
            goto fail;
        sl_sqlnode iv = GET(GET(f, "ival"), "ival");
        if ((s = str_field(t, GET(f, "sval"), "sval")) == NULL) {
            num = str_field(t, GET(f, "fval"), "fval");
            long long v = INT(iv);
            if (!num && GET(f, "ival") && (iv || int_from_source(w, INT(GET(f, "location")),
                                                                &v))) {
                snprintf(tmp, sizeof tmp, "%lld", v);
                num = tmp;
            }
            if (!num)
                goto fail;
        }
        const char *src = s ? s : num;
        size_t need = len + 2 * strlen(src) + 5;
        if (need > cap) {
            char *nb = realloc(buf, need * 2);
            if (!nb)
                goto fail;
            buf = nb;
            cap = need * 2;
        }
        if (item != FIRST(args)) {
            memcpy(buf + len, ", ", 2);
            len += 2;
        }
        if (s)
            buf[len++] = '\'';
        for (const char *p = src; *p; p++) {
            if (s && *p == '\'')
                buf[len++] = '\'';
            buf[len++] = *p;
        }
        if (s)
            buf[len++] = '\'';
        buf[len] = '\0';
    }
    *out = buf;
    return true;
fail:
    free(buf);
    return false;
}

static void
classify_set(walker *w, sl_sqlnode f)
{
    const sl_sqltree *t = w->t;
    sl_sql_stmt *st = w->st;
    const char *kind = str_field(t, f, "kind"), *name = str_field(t, f, "name");
    st->set_local = IS_TRUE(GET(f, "is_local"));
    st->kind = SL_SQL_SESSION_UNMODELLED;
    if (!kind) {
        set_reason(st, "unreadable SET");
    } else if (strcmp(kind, "VAR_RESET_ALL") == 0) {
        set_reason(st, "RESET ALL");
    } else if (strcmp(kind, "VAR_SET_MULTI") == 0) {
        st->kind = SL_SQL_OTHER; /* SET TRANSACTION ..., SET SESSION CHARACTERISTICS ... */
    } else if (!name) {
        set_reason(st, "unreadable SET");
    } else if (strcmp(name, "role") == 0 || strcmp(name, "session_authorization") == 0) {
        set_reason(st, "changes the role (%s)", name);
    } else if (st->set_local) {
        set_reason(st, "SET LOCAL %s", name);
    } else if (strcmp(kind, "VAR_SET_CURRENT") == 0) {
        set_reason(st, "SET %s FROM CURRENT", name);
    } else if (!(st->set_name = strdup(name))) {
        w->oom = true;
    } else if (strcmp(kind, "VAR_SET_DEFAULT") == 0 || strcmp(kind, "VAR_RESET") == 0) {
        st->kind = SL_SQL_SESSION_SET;
        st->set_reset = true;
    } else if (strcmp(kind, "VAR_SET_VALUE") == 0) {
        if (render_set_args(w, GET(f, "args"), &st->set_value))
            st->kind = SL_SQL_SESSION_SET;
        else
            set_reason(st, "SET %s to a value that is not a list of constants", name);
    } else {
        set_reason(st, "unknown SET form %s", kind);
    }
}

/* DROP of tables, views, sequences, indexes: their names; anything else: unknown. */
static void
classify_drop(walker *w, sl_sqlnode f)
{
    const sl_sqltree *t = w->t;
    static const char *const rel_types[] = {
        "OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_FOREIGN_TABLE",
        "OBJECT_SEQUENCE", "OBJECT_INDEX",
    };
    const char *type = str_field(t, f, "removeType"), *behavior = str_field(t, f, "behavior");
    sl_sqlnode objs = GET(f, "objects"), obj, lf;
    w->st->kind = SL_SQL_DDL;
    if (!type || !in_list(rel_types, NELEM(rel_types), type)
        || (behavior && strcmp(behavior, "DROP_CASCADE") == 0)) {
        w->a->writes_unknown = true;
        set_reason(w->st, "DROP of %s%s", type && strncmp(type, "OBJECT_", 7) == 0 ? type + 7
                                           : type                                   ? type
                                                                                    : "?",
                   behavior && strcmp(behavior, "DROP_CASCADE") == 0 ? " CASCADE" : "");
        return;
    }
    for (obj = FIRST(objs); obj; obj = NEXT(obj)) {
        const char *parts[3], *ot = node_type(t, obj, &lf);
        size_t n = ot && strcmp(ot, "List") == 0 ? string_list(t, GET(lf, "items"), parts)
                                                : 0;
        if (n == 0) {
            w->a->writes_unknown = true;
            set_reason(w->st, "DROP of an unreadable name");
            continue;
        }
        add_name(w, &w->a->writes, &w->a->n_writes, n >= 2 ? parts[n - 2] : NULL, parts[n - 1]);
    }
}

/* GRANT/REVOKE on tables changes what a role sees: their names; anything else: unknown. */
static void
classify_grant(walker *w, sl_sqlnode f)
{
    const sl_sqltree *t = w->t;
    const char *objtype = str_field(t, f, "objtype"), *targ = str_field(t, f, "targtype");
    sl_sqlnode objs = GET(f, "objects"), obj, rf;
    w->st->kind = SL_SQL_DDL;
    if (!objtype || strcmp(objtype, "OBJECT_TABLE") != 0 || !targ
        || strcmp(targ, "ACL_TARGET_OBJECT") != 0) {
        w->a->writes_unknown = true;
        set_reason(w->st, "GRANT/REVOKE beyond named tables");
        return;
    }
    for (obj = FIRST(objs); obj; obj = NEXT(obj)) {
        const char *ot = node_type(t, obj, &rf);
        if (ot && strcmp(ot, "RangeVar") == 0)
            write_rangevar(w, rf);
    }
}

/* Utility statements that name the one relation they change in a field. */
static const struct {
    const char *type;
    const char *field;
    sl_sql_kind kind;
} rel_stmts[] = {
    {"AlterTableStmt", "relation", SL_SQL_DDL},
    {"IndexStmt", "relation", SL_SQL_DDL},
    {"CreateTrigStmt", "relation", SL_SQL_DDL},
    {"RuleStmt", "relation", SL_SQL_DDL},
    {"CreatePolicyStmt", "table", SL_SQL_DDL},
    {"AlterPolicyStmt", "table", SL_SQL_DDL},
    {"RefreshMatViewStmt", "relation", SL_SQL_WRITE},
    {"CreateSeqStmt", "sequence", SL_SQL_DDL},
    {"AlterSeqStmt", "sequence", SL_SQL_DDL},
};

/* Statements that change no result the cache holds. */
static const char *const other_stmts[] = {
    "VariableShowStmt", "ListenStmt", "UnlistenStmt", "NotifyStmt", "VacuumStmt",
    "ClusterStmt", "ReindexStmt", "CheckPointStmt", "PrepareStmt", "DeallocateStmt",
    "ClosePortalStmt", "FetchStmt", "ConstraintsSetStmt", "LockStmt", "LoadStmt",
    "AlterSystemStmt", "AlterDatabaseSetStmt", "AlterRoleSetStmt", "CommentStmt",
    "SecLabelStmt",
};

/* RENAME and SET SCHEMA of a relation: the old name is gone, and the new one may now shadow a
 * table of the same name later in search_path, so both are written. */
static void
classify_rename(walker *w, const char *type, sl_sqlnode f)
{
    const sl_sqltree *t = w->t;
    sl_sqlnode rel = GET(f, "relation");
    w->st->kind = SL_SQL_DDL;
    if (!rel) {
        w->a->writes_unknown = true;
        set_reason(w->st, "%s of an object that is not a relation", type);
        return;
    }
    write_rangevar(w, rel);
    const char *newname = str_field(t, f, "newname"), *newschema = str_field(t, f, "newschema");
    const char *rt = str_field(t, f, "renameType"), *relt = str_field(t, f, "relationType");
    bool renames_rel = rt && (strcmp(rt, "OBJECT_TABLE") == 0 || strcmp(rt, "OBJECT_VIEW") == 0
                              || strcmp(rt, "OBJECT_MATVIEW") == 0
                              || strcmp(rt, "OBJECT_FOREIGN_TABLE") == 0);
    (void)relt;
    if (newname && renames_rel)
        add_name(w, &w->a->writes, &w->a->n_writes, str_field(t, rel, "schemaname"), newname);
    if (newschema)
        add_name(w, &w->a->writes, &w->a->n_writes, newschema, str_field(t, rel, "relname"));
}

static void
classify(walker *w, const char *type, sl_sqlnode f)
{
    const sl_sqltree *t = w->t;
    sl_sql_stmt *st = w->st;
    for (size_t i = 0; i < NELEM(rel_stmts); i++) {
        if (strcmp(type, rel_stmts[i].type) == 0) {
            sl_sqlnode rel = GET(f, rel_stmts[i].field);
            st->kind = rel_stmts[i].kind;
            if (rel && strcmp(type, "CreateSeqStmt") == 0 && is_temp_rangevar(t, rel)) {
                st->kind = SL_SQL_SESSION_UNMODELLED;
                set_reason(st, "creates a temporary sequence");
            } else if (rel) {
                write_rangevar(w, rel);
            }
            return;
        }
    }
    if (strcmp(type, "SelectStmt") == 0) {
        classify_select(w, f);
    } else if (strcmp(type, "InsertStmt") == 0 || strcmp(type, "UpdateStmt") == 0
               || strcmp(type, "DeleteStmt") == 0 || strcmp(type, "MergeStmt") == 0) {
        walk_node(w, type, f);
        st->kind = SL_SQL_WRITE;
    } else if (strcmp(type, "CopyStmt") == 0) {
        classify_copy(w, f);
    } else if (strcmp(type, "TruncateStmt") == 0) {
        sl_sqlnode rels = GET(f, "relations"), rv, rf;
        st->kind = SL_SQL_WRITE;
        for (rv = FIRST(rels); rv; rv = NEXT(rv)) {
            if (node_type(t, rv, &rf))
                write_rangevar(w, rf);
        }
        /* TRUNCATE ... CASCADE also empties the tables whose foreign keys point here */
        const char *b = str_field(t, f, "behavior");
        if (b && strcmp(b, "DROP_CASCADE") == 0)
            w->a->writes_unknown = true;
    } else if (strcmp(type, "ExplainStmt") == 0 || strcmp(type, "DeclareCursorStmt") == 0) {
        deny(w, strcmp(type, "ExplainStmt") == 0 ? "EXPLAIN" : "DECLARE CURSOR");
        walk(w, GET(f, "query"));
        st->kind = w->write ? SL_SQL_WRITE : SL_SQL_READ_UNCACHEABLE;
    } else if (strcmp(type, "CreateStmt") == 0) {
        creates(w, GET(f, "relation"), "table");
        sl_sqlnode parents = GET(f, "inhRelations"), rv, rf;
        for (rv = FIRST(parents); rv; rv = NEXT(rv)) {
            if (node_type(t, rv, &rf))
                write_rangevar(w, rf); /* a new partition or child shows in its parent */
        }
    } else if (strcmp(type, "CreateTableAsStmt") == 0) {
        walk(w, GET(f, "query"));
        creates(w, GET(GET(f, "into"), "rel"), "table");
    } else if (strcmp(type, "ViewStmt") == 0) {
        creates(w, GET(f, "view"), "view");
    } else if (strcmp(type, "TransactionStmt") == 0) {
        classify_txn(w, f);
    } else if (strcmp(type, "VariableSetStmt") == 0) {
        classify_set(w, f);
    } else if (strcmp(type, "DiscardStmt") == 0) {
        st->kind = SL_SQL_SESSION_UNMODELLED;
        set_reason(st, "DISCARD");
    } else if (strcmp(type, "DoStmt") == 0 || strcmp(type, "CallStmt") == 0) {
        st->kind = SL_SQL_WRITE;
        w->a->writes_unknown = true;
        w->a->settings_unknown = true;
        set_reason(st, "%s runs code that may write anything", type[0] == 'D' ? "DO" : "CALL");
    } else if (strcmp(type, "ExecuteStmt") == 0) {
        st->kind = SL_SQL_OTHER;
        w->a->writes_unknown = true;
        w->a->settings_unknown = true;
        set_reason(st, "EXECUTE runs a prepared statement the analysis has not seen");
    } else if (strcmp(type, "DropStmt") == 0) {
        classify_drop(w, f);
    } else if (strcmp(type, "GrantStmt") == 0) {
        classify_grant(w, f);
    } else if (strcmp(type, "RenameStmt") == 0 || strcmp(type, "AlterObjectSchemaStmt") == 0) {
        classify_rename(w, type, f);
    } else if (in_list(other_stmts, NELEM(other_stmts), type)) {
        st->kind = SL_SQL_OTHER;
    } else {
        st->kind = SL_SQL_DDL;
        w->a->writes_unknown = true;
        set_reason(st, "%s may change any table", type);
    }
}

/* ---- the analysis ---- */

static const sl_sql_kind kind_priority[] = {
    SL_SQL_SESSION_UNMODELLED, SL_SQL_DDL,   SL_SQL_WRITE,           SL_SQL_TRANSACTION,
    SL_SQL_SESSION_SET,        SL_SQL_OTHER, SL_SQL_READ_UNCACHEABLE,
};

static void
summarize(sl_sql_analysis *a)
{
    if (a->n_stmts == 0) {
        a->kind = SL_SQL_OTHER;
        if (!a->reason[0])
            snprintf(a->reason, sizeof a->reason, "no statement");
        return;
    }
    for (size_t i = 0; i < a->n_stmts; i++) {
        sl_sql_stmt *st = &a->stmts[i];
        if (st->kind != SL_SQL_CACHEABLE_SELECT && !st->reason[0])
            set_reason(st, "not a SELECT (%s)", sl_sql_kind_name(st->kind));
        if (st->kind == SL_SQL_SESSION_UNMODELLED)
            a->session_unmodelled = true;
        if (!a->reason[0] && st->reason[0])
            snprintf(a->reason, sizeof a->reason, "%s", st->reason);
    }
    if (a->n_stmts == 1) {
        a->kind = a->stmts[0].kind;
        a->cacheable = a->kind == SL_SQL_CACHEABLE_SELECT;
    } else {
        a->kind = SL_SQL_READ_UNCACHEABLE;
        for (size_t p = 0; p < NELEM(kind_priority); p++) {
            for (size_t i = 0; i < a->n_stmts; i++) {
                if (a->stmts[i].kind == kind_priority[p]) {
                    a->kind = kind_priority[p];
                    p = NELEM(kind_priority) - 1;
                    break;
                }
            }
        }
        snprintf(a->reason, sizeof a->reason, "several statements");
    }
    if (a->cacheable)
        a->reason[0] = '\0';
}

/* The string could not be analyzed: nothing about it is known. */
static int
unknown(sl_sql_analysis *a, const char *why, const char *detail)
{
    a->kind = SL_SQL_OTHER;
    a->writes_unknown = true;
    a->settings_unknown = true;
    snprintf(a->reason, sizeof a->reason, "%.80s%s%.70s", why, detail ? ": " : "",
             detail ? detail : "");
    a->parse_error = strdup(detail ? detail : why);
    return a->parse_error ? 0 : -1;
}

static int
analyze_tree(sl_sql_analysis *a, const sl_sqltree *t, const char *sql, size_t sql_len)
{
    sl_sqlnode stmts = GET(sl_sqltree_root(t), "stmts"), raw;
    size_t n = sl_sqltree_count(t, stmts);
    walker w = {.t = t, .sql = sql, .sql_len = sql_len, .a = a};
    int rc = -1;
    if (n > 0 && !(a->stmts = calloc(n, sizeof *a->stmts)))
        return -1;
    for (raw = FIRST(stmts); raw; raw = NEXT(raw)) {
        sl_sql_stmt *st = &a->stmts[a->n_stmts++];
        sl_sqlnode f;
        int64_t loc = INT(GET(raw, "stmt_location"));
        int64_t len = INT(GET(raw, "stmt_len"));
        st->offset = loc >= 0 && (size_t)loc <= sql_len ? (int)loc : 0;
        st->len = len > 0 && (size_t)(st->offset + len) <= sql_len ? (int)len
                                                                    : (int)sql_len - st->offset;
        w.st = st;
        w.cacheable = true;
        w.write = w.set_config = false;
        w.n_scope = 0;
        const char *type = node_type(t, GET(raw, "stmt"), &f);
        if (!type) {
            st->kind = SL_SQL_OTHER;
            a->writes_unknown = a->settings_unknown = true;
            set_reason(st, "unreadable parse tree");
            continue;
        }
        classify(&w, type, f);
        if (w.set_config)
            unmodelled_by_set_config(&w);
        if (w.oom)
            goto done;
    }
    summarize(a);
    rc = 0;
done:
    free(w.scope);
    return rc;
}

int
sl_sql_analyze(const char *sql, const sl_sql_opts *opts, sl_sql_analysis **out, sl_error *err)
{
    sl_sql_analysis *a = calloc(1, sizeof *a);
    sl_sqlscan scan = {0};
    char *scan_error = NULL;
    PgQueryParseResult pr = {0};
    sl_sqltree *tree = NULL;
    int rc = -1;
    if (!a)
        goto done;
    if (opts && opts->non_standard_strings && strchr(sql, '\\')) {
        rc = unknown(a, "holds a backslash while standard_conforming_strings is off", NULL);
        goto done;
    }
    if (sl_sqlscan_run(sql, &scan, &scan_error) != 0) {
        if (!scan_error)
            goto done;
        rc = unknown(a, "does not parse", scan_error);
        goto done;
    }
    if (sl_sqlscan_depth_bound(&scan) > SL_SQLSCAN_MAX_DEPTH) {
        rc = unknown(a, "nested too deeply to parse safely", NULL);
        goto done;
    }
    pr = pg_query_parse(sql);
    if (pr.error) {
        rc = unknown(a, "does not parse", pr.error->message);
        goto done;
    }
    rc = sl_sqltree_parse(pr.parse_tree, strlen(pr.parse_tree), SL_SQL_MAX_TREE_DEPTH, &tree);
    if (rc == -1)
        rc = unknown(a, "parse tree nested too deeply to read", NULL);
    if (rc != 0)
        goto done;
    rc = analyze_tree(a, tree, sql, strlen(sql));
done:
    sl_sqltree_free(tree);
    pg_query_free_parse_result(pr);
    free(scan_error);
    sl_sqlscan_free(&scan);
    if (rc != 0) {
        sl_sql_analysis_free(a);
        sl_error_set(err, SL_E_INTERNAL, "out of memory analyzing a statement");
        return -1;
    }
    *out = a;
    return 0;
}

static void
free_names(sl_sql_name *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(names[i].schema);
        free(names[i].name);
    }
    free(names);
}

void
sl_sql_analysis_free(sl_sql_analysis *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n_stmts; i++) {
        free(a->stmts[i].set_name);
        free(a->stmts[i].set_value);
    }
    free(a->stmts);
    free_names(a->reads, a->n_reads);
    free_names(a->writes, a->n_writes);
    free_names(a->funcs, a->n_funcs);
    free(a->parse_error);
    free(a);
}

const char *
sl_sql_kind_name(sl_sql_kind kind)
{
    switch (kind) {
    case SL_SQL_CACHEABLE_SELECT:
        return "cacheable select";
    case SL_SQL_READ_UNCACHEABLE:
        return "uncacheable read";
    case SL_SQL_WRITE:
        return "write";
    case SL_SQL_DDL:
        return "ddl";
    case SL_SQL_TRANSACTION:
        return "transaction";
    case SL_SQL_SESSION_SET:
        return "session set";
    case SL_SQL_SESSION_UNMODELLED:
        return "session unmodelled";
    case SL_SQL_OTHER:
        return "other";
    }
    return "?";
}

bool
sl_sql_text_is_time_dependent(const char *s, size_t len)
{
    static const char *const words[] = {"now", "today", "tomorrow", "yesterday"};
    size_t i = 0;
    while (i < len) {
        if (!isalpha((unsigned char)s[i])) {
            i++;
            continue;
        }
        size_t start = i;
        while (i < len && isalpha((unsigned char)s[i]))
            i++;
        for (size_t k = 0; k < NELEM(words); k++)
            if (strlen(words[k]) == i - start && strncasecmp(s + start, words[k], i - start) == 0)
                return true;
    }
    return false;
}

bool
sl_sql_search_path_is_safe(const char *value)
{
    size_t pos = 0;
    const char *p = value;
    while (p && *p) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        const char *start = p;
        bool quoted = *p == '"';
        if (quoted) {
            p++;
            while (*p && !(*p == '"' && p[1] != '"'))
                p += *p == '"' ? 2 : 1;
            if (*p)
                p++;
        } else {
            while (*p && *p != ',')
                p++;
        }
        size_t len = (size_t)(p - start);
        while (len > 0 && (start[len - 1] == ' ' || start[len - 1] == '\t'))
            len--;
        /* unquoted names fold to lower case; a quoted "pg_catalog" is the same schema */
        bool is_cat = (len == 10 && strncasecmp(start, "pg_catalog", 10) == 0 && !quoted)
                      || (len == 12 && strncmp(start, "\"pg_catalog\"", 12) == 0);
        if (is_cat && pos > 0)
            return false;
        pos++;
        while (*p && *p != ',')
            p++;
        if (*p == ',')
            p++;
    }
    return true;
}

const char *const *
sl_sql_allow_list(sl_sql_list which, size_t *n)
{
    switch (which) {
    case SL_SQL_LIST_IMMUTABLE_FUNCS:
        *n = NELEM(immutable_funcs);
        return immutable_funcs;
    case SL_SQL_LIST_KNOWN_FUNCS:
        *n = NELEM(known_funcs);
        return known_funcs;
    case SL_SQL_LIST_CAST_TYPES:
        *n = NELEM(cast_types);
        return cast_types;
    case SL_SQL_LIST_TIME_TYPES:
        *n = NELEM(time_types);
        return time_types;
    case SL_SQL_LIST_OPERATORS:
        *n = NELEM(builtin_ops);
        return builtin_ops;
    }
    *n = 0;
    return NULL;
}
