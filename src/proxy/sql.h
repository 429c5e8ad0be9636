/* proxy/sql.h: what a statement is, read by PostgreSQL's own parser (libpg_query 15-4.0.0):
 * whether the proxy may answer it from its cache, which tables it reads and writes, and what
 * it does to the session. Pure: no I/O, no catalog. The session calls it for each simple Query
 * string and each Parse; it decides the cache's correctness, so every doubt ends in "not
 * cacheable", and every statement that might write what the analysis cannot name sets
 * writes_unknown (the cache then drops every entry of the database).
 * Calling:   sl_sql_analyze() -> read the sl_sql_analysis -> sl_sql_analysis_free().
 * Names:     as the server sees them: unquoted identifiers folded to lower case by the grammar,
 *            quoted ones as written; schema NULL when the name is unqualified. The analysis
 *            knows only names: the session resolves them to OIDs with its search_path, expands
 *            views to their base tables, partitions and inheritance children to their family,
 *            and writes to what foreign keys with ON DELETE/UPDATE actions, triggers and rules
 *            also touch; a read name it cannot resolve to an ordinary table, partitioned table,
 *            view or materialized view (a sequence, a foreign table) makes the entry uncacheable.
 *            What the names hide is the session's to check too: a view's definition may call
 *            now() or a user function (analyze pg_get_viewdef() of each view it expands, and
 *            cache only when that is cacheable as well), and a row-level security policy may
 *            read a setting (current_setting('app.tenant')), so the key holds every setting the
 *            session has SET, or tables with relrowsecurity are not cached. A CREATE or RENAME
 *            that puts a name earlier in search_path shadows a table of that name: entries whose
 *            statement reads that name unqualified go too (writes lists the new names).
 * Functions: a cacheable SELECT calls only functions of an allow-list of immutable built-ins
 *            (see sql.c), unqualified or in pg_catalog. Those names are trusted to resolve to
 *            pg_catalog, which holds as long as search_path does not list pg_catalog after
 *            another schema (sl_sql_search_path_is_safe()). Calls of functions on neither that
 *            list nor the list of known read-only built-ins are listed in .funcs and set
 *            writes_unknown and settings_unknown: a function can write any table or change a
 *            setting. A session may clear both after finding in pg_proc that every one of them
 *            is STABLE or IMMUTABLE (PostgreSQL runs SQL and PL/pgSQL ones read-only; a C
 *            function's declaration is trusted) and has no SET clause in proconfig.
 * Operators: built-in operator symbols (+ - * / = < ~~ @> || ...) are accepted: on built-in
 *            types they are immutable, or stable only through settings the cache key holds
 *            (TimeZone, DateStyle, IntervalStyle, extra_float_digits, bytea_output...).
 *            OPERATOR(schema.op) outside pg_catalog and unknown symbols are not cacheable. A
 *            user-defined operator spelled like a built-in one on a user type cannot be seen in
 *            the tree; a session that must exclude it checks pg_operator for the statement's
 *            relations' column types.
 * Threads:   see sqlscan.h: any thread, 1 MB of stack.
 * Ownership: the analysis and every string in it belong to the caller (sl_sql_analysis_free). */
#ifndef SL_PROXY_SQL_H
#define SL_PROXY_SQL_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

typedef enum {
    SL_SQL_CACHEABLE_SELECT,    /* a plain SELECT the cache may answer */
    SL_SQL_READ_UNCACHEABLE,    /* reads only, but not from the cache (.reason says why) */
    SL_SQL_WRITE,               /* INSERT/UPDATE/DELETE/MERGE/TRUNCATE/COPY FROM/DO/CALL ... */
    SL_SQL_DDL,                 /* CREATE/ALTER/DROP/GRANT ...: drops entries of what it names */
    SL_SQL_TRANSACTION,         /* BEGIN/COMMIT/ROLLBACK/SAVEPOINT/PREPARE TRANSACTION ... */
    SL_SQL_SESSION_SET,         /* SET/RESET of one setting the session can follow */
    SL_SQL_SESSION_UNMODELLED,  /* the session stops using the cache (.reason says why) */
    SL_SQL_OTHER,               /* no effect on cached results (SHOW, LISTEN, VACUUM, ...) */
} sl_sql_kind;

typedef enum {
    SL_SQL_TXN_NONE,              /* not transaction control */
    SL_SQL_TXN_BEGIN,             /* BEGIN, START TRANSACTION */
    SL_SQL_TXN_COMMIT,            /* COMMIT, END (also COMMIT AND CHAIN) */
    SL_SQL_TXN_ROLLBACK,          /* ROLLBACK, ABORT */
    SL_SQL_TXN_SAVEPOINT,         /* SAVEPOINT name */
    SL_SQL_TXN_RELEASE,           /* RELEASE SAVEPOINT name */
    SL_SQL_TXN_ROLLBACK_TO,       /* ROLLBACK TO SAVEPOINT name */
    SL_SQL_TXN_PREPARE,           /* PREPARE TRANSACTION 'gid' */
    SL_SQL_TXN_COMMIT_PREPARED,   /* COMMIT PREPARED 'gid': writes what another session did */
    SL_SQL_TXN_ROLLBACK_PREPARED, /* ROLLBACK PREPARED 'gid' */
} sl_sql_txn;

typedef struct {
    char *schema; /* NULL when unqualified */
    char *name;
} sl_sql_name;

typedef struct {
    sl_sql_kind kind;
    char reason[160];  /* why not cacheable / why unmodelled / why writes_unknown; "" if none */
    int offset;        /* the statement's bytes in the string */
    int len;
    sl_sql_txn txn;    /* SL_SQL_TRANSACTION: which one */
    bool txn_chain;    /* COMMIT/ROLLBACK AND CHAIN: a new transaction starts at once */
    /* SL_SQL_SESSION_SET: the setting (lower case, as the server names it), its value as text
     * (NULL for RESET and SET ... TO DEFAULT, which set reset), and SET LOCAL (is_local is
     * always SESSION_UNMODELLED; the flag is kept for the log). The value renders each item
     * of the list as the server received it: strings single-quoted with '' doubled, numbers
     * as written, items joined with ", "; so `a, b` and `'a, b'` (one schema named "a, b")
     * differ. Two spellings of one value may render differently: never two values alike.
     * Inside a transaction block a SET is undone by ROLLBACK (and by ROLLBACK TO a savepoint
     * made before it): the session keeps the settings of each level, as the server does. */
    char *set_name;
    char *set_value;
    bool set_reset;
    bool set_local;
} sl_sql_stmt;

typedef struct {
    sl_sql_kind kind;      /* of the one statement; of several, the first present of
                            * UNMODELLED, DDL, WRITE, TRANSACTION, SESSION_SET, READ_UNCACHEABLE,
                            * OTHER (none is ever CACHEABLE_SELECT) */
    bool cacheable;        /* exactly one statement, and it is SL_SQL_CACHEABLE_SELECT */
    char reason[160];      /* when not cacheable: the first reason found */
    char *parse_error;     /* the parser's (or scanner's) message, or NULL */
    bool writes_unknown;   /* may write tables not in .writes: drop the whole database */
    bool settings_unknown; /* may change settings unseen (DO, CALL, unknown functions) */
    bool session_unmodelled; /* some statement is SL_SQL_SESSION_UNMODELLED */
    sl_sql_stmt *stmts;
    size_t n_stmts;
    sl_sql_name *reads;    /* tables read (CTE names excluded), each once */
    size_t n_reads;
    sl_sql_name *writes;   /* tables written or redefined, each once */
    size_t n_writes;
    sl_sql_name *funcs;    /* functions on neither list, each once */
    size_t n_funcs;
} sl_sql_analysis;

/* What the analysis must know of the session. Zero is the server's default. */
typedef struct {
    /* standard_conforming_strings is off (the session follows it from ParameterStatus). The
     * parser reads '...' as standard strings, where a backslash is an ordinary character; with
     * the setting off the server reads it as an escape, so `SELECT 'x\'; --'; DELETE FROM t`
     * is one SELECT to the parser and a SELECT and a DELETE to the server. Without a backslash
     * both read alike; with one, the string is not analyzed (as if it did not parse). */
    bool non_standard_strings;
} sl_sql_opts;
#define SL_SQL_OPTS(...) (&(sl_sql_opts){__VA_ARGS__})

/* Analyzes one query string (NUL-terminated; it may hold several statements). Never fails on
 * its input: a string the parser rejects, or one nested too deeply to parse safely, is not
 * cacheable and sets writes_unknown (it may be valid SQL of a newer server). opts may be NULL
 * (the defaults). -1 only when out of memory (SL_E_INTERNAL). */
SL_MUSTCHECK int sl_sql_analyze(const char *sql, const sl_sql_opts *opts,
                                sl_sql_analysis **out, sl_error *err);
void sl_sql_analysis_free(sl_sql_analysis *a);

const char *sl_sql_kind_name(sl_sql_kind kind);

/* True when a text value holds a date/time word whose meaning moves with the clock ("now",
 * "today", "tomorrow", "yesterday", any case, as a whole word): the server turns such a
 * literal into a time when it parses it, so `ts > 'today'` changes answer at midnight. The
 * analysis rejects such literals in the SQL; the session must check text-format parameter
 * values the same way (`ts > $1` with $1 = 'now'). */
bool sl_sql_text_is_time_dependent(const char *s, size_t len);

/* True when a search_path value leaves pg_catalog first (unlisted, or listed first), so that
 * the allow-listed function names of a cacheable SELECT resolve to the built-ins. */
bool sl_sql_search_path_is_safe(const char *value);

/* The lists the analysis trusts, for tests that check them against a server's catalog. */
typedef enum {
    SL_SQL_LIST_IMMUTABLE_FUNCS, /* functions a cacheable SELECT may call */
    SL_SQL_LIST_KNOWN_FUNCS,     /* uncacheable built-ins that write no table, set nothing */
    SL_SQL_LIST_CAST_TYPES,      /* cast targets of any argument */
    SL_SQL_LIST_TIME_TYPES,      /* cast targets of constants and parameters only */
    SL_SQL_LIST_OPERATORS,       /* operator symbols */
} sl_sql_list;

const char *const *sl_sql_allow_list(sl_sql_list which, size_t *n);

#endif
