/* proxy/sqlscan.h: the tokens of one SQL string as PostgreSQL's own scanner reads them
 * (libpg_query's pg_query_scan), comments included, and what the token stream alone can tell
 * before the string is parsed.
 * Calling:   sl_sqlscan_run() -> read .tokens -> sl_sqlscan_free(). Pure: no I/O.
 * Tokens:    offsets are bytes into the string; .token is the number of pg_query.proto's Token
 *            enum (single characters are their ASCII code, the others are SL_SQLSCAN_T_*).
 * Depth:     sl_sqlscan_depth_bound() is an upper bound, from tokens, of how deep the parse tree
 *            of the string can nest. libpg_query 15-4.0.0 turns a tree into JSON or protobuf
 *            with plain recursion and no stack check, so a long operator chain (`1+1+...+1`,
 *            100 000 terms) overflows the thread's stack and kills the process. sql.c parses
 *            only strings whose bound stays under SL_SQLSCAN_MAX_DEPTH.
 * Threads:   libpg_query keeps its memory contexts in thread-local storage (since 9.5-1.4.1)
 *            and frees a thread's top context when the thread exits: any thread may scan, each
 *            call is independent. A thread that scans or parses needs 1 MB of stack: the
 *            deepest trees the bound lets through (500 NOTs, + terms or ARRAY[ levels, 250
 *            nested subqueries) took under 256 kB, and under 512 kB with AddressSanitizer.
 * Ownership: sl_sqlscan owns its token array; *error (when set) is the caller's to free. */
#ifndef SL_PROXY_SQLSCAN_H
#define SL_PROXY_SQLSCAN_H

#include <stddef.h>

/* Token numbers of pg_query.proto (libpg_query 15-4.0.0) that the proxy looks at. */
enum {
    SL_SQLSCAN_T_SCONST = 261,      /* 'string' (also E'', $$...$$) */
    SL_SQLSCAN_T_SQL_COMMENT = 275, /* -- to the end of the line */
    SL_SQLSCAN_T_C_COMMENT = 276,   /* slash-star comment, nested ones included */
};

/* Deeper trees than this are not parsed (see Depth above). */
#define SL_SQLSCAN_MAX_DEPTH 1000

typedef struct {
    int start; /* first byte */
    int end;   /* one past the last byte */
    int token; /* pg_query.proto Token number */
} sl_sqlscan_token;

typedef struct {
    sl_sqlscan_token *tokens;
    size_t n;
} sl_sqlscan;

/* 0 with *out filled; -1 when the scanner rejects the string (an unterminated quote or
 * comment, ...) with *error set to its message (malloc'd), or on out of memory (*error NULL).
 * *out is empty on failure. */
int sl_sqlscan_run(const char *sql, sl_sqlscan *out, char **error);
void sl_sqlscan_free(sl_sqlscan *s);

/* An upper bound of the parse tree's nesting depth in nodes: for each token, the tokens before
 * it in its own list item (since the last ',' or ';' at its bracket level) summed over every
 * enclosing bracket level. Commas only ever separate siblings and brackets bound what nests,
 * so a node cannot have more ancestors than that sum (times a small constant per token, which
 * SL_SQLSCAN_MAX_DEPTH absorbs). */
size_t sl_sqlscan_depth_bound(const sl_sqlscan *s);

#endif
