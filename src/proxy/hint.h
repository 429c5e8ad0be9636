/* proxy/hint.h: what a client tells the cache about one statement, in the two ways sluice
 * reads. Pure: no I/O.
 *
 * 1. pgproxy's statement parameter hook (github.com/taufik-rama/pgproxy, cache.go), read
 *    exactly as pgproxy reads it, for clients written against it. With
 *    PGPROXY_ENABLE_PARAMETER_HOOK, the first (or, with PGPROXY_PARAMETER_HOOK_POSITION=last,
 *    the last) parameter of each Bind is the hook: a UTF-8 text value that starts with
 *    "PGPROXY,", then a comma-separated list of NO_CACHE, CACHE_KEY:<suffix> and
 *    INVALIDATE:<suffix>. Matching is case-sensitive and exact; the last CACHE_KEY and the last
 *    INVALIDATE win; any other part (the leading "PGPROXY" itself included in pgproxy, which
 *    logs it) is ignored and logged. Simple Query messages never carry a hook.
 *    pgproxy's own behaviour around it, which sluice keeps or fixes (see the session):
 *    - the key suffix defaults to "DEFAULT"; its Redis key is "PGPROXY:<suffix>:<hash>", hash
 *      = base64 (standard alphabet, no padding) of SHA-256 of the whole encoded Bind message
 *      (type byte, length, portal, statement name, formats, parameters, result formats), the
 *      hook parameter replaced by an empty value; for a simple Query, of the encoded Query
 *      message. The SQL text is not hashed: two statements of one name collide.
 *    - it blanks the hook position in the key whenever that parameter is valid UTF-8, hook or
 *      not: with hooks on, two Binds differing only in an ordinary first parameter share a key
 *      (wrong rows). sluice removes the parameter from the key only when it is a hook.
 *    - a Bind with no parameters makes it index out of range (Go panics); sluice sees no hook.
 *    - an unknown position value is logged and read as "first", but then nothing is blanked.
 *    - INVALIDATE runs 3 s after the Bind, even with NO_CACHE, and deletes every key that
 *      contains the suffix anywhere (Redis SCAN MATCH "*<suffix>*" in batches of 1000, then
 *      DEL; the memory store uses strings.Contains): USER:1 also drops USER:10 and keys of
 *      other programs; glob characters in the suffix are not escaped.
 *    - a value is JSON {"row_description": base64 (omitted when none), "data_row": [base64],
 *      "command_complete": base64, "ready_for_query": base64}, each the encoded backend
 *      message, stored with SETEX for TTL + rand(0..max(jitter,1)-1) seconds.
 *
 * 2. Comment hints, for clients that cannot add a parameter: a comment (-- or slash-star)
 *    whose text starts with "sluice:" (any case) holds directives separated by commas or
 *    blanks: no_cache, ttl=<1..31536000 seconds>, key=<1..200 of A-Z a-z 0-9 _ : . ->. They are
 *    found among the scanner's comment tokens, so text inside a string literal or a quoted
 *    identifier is never a hint. A malformed directive is ignored, counted, and the first one
 *    named in .reason for the caller's log; the others still apply; the last of a kind wins.
 *    A string the scanner rejects has no hints, nor has one with a backslash while
 *    standard_conforming_strings is off (see sl_sql_opts: the scanner would not see the
 *    comments the server sees).
 * Ownership: sl_hint_param owns its strings (sl_hint_param_free); sl_hint_comment is plain. */
#ifndef SL_PROXY_HINT_H
#define SL_PROXY_HINT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "proxy/sqlscan.h"

#define SL_HINT_PGPROXY_PREFIX "PGPROXY,"
#define SL_HINT_DEFAULT_KEY "DEFAULT"
#define SL_HINT_MAX_TTL 31536000
#define SL_HINT_MAX_KEY 200

typedef enum {
    SL_HINT_FIRST, /* PGPROXY_PARAMETER_HOOK_POSITION=first (pgproxy's default) */
    SL_HINT_LAST,  /* =last */
} sl_hint_position;

typedef struct {
    bool is_hook;      /* the value is a hook: valid UTF-8 starting with "PGPROXY," */
    bool no_cache;     /* NO_CACHE */
    char *cache_key;   /* CACHE_KEY's suffix ("" allowed), or NULL: SL_HINT_DEFAULT_KEY */
    char *invalidate;  /* INVALIDATE's suffix, or NULL */
    size_t n_ignored;  /* parts that were none of the three */
    char reason[160];  /* the first ignored part, or why the value is no hook */
} sl_hint_param;

/* Reads one parameter value (len bytes, not NUL-terminated; NULL for SQL NULL) as pgproxy
 * does. Never fails on its input: a value that is no hook gives is_hook false and a reason.
 * -1 only when out of memory (SL_E_INTERNAL). */
SL_MUSTCHECK int sl_hint_param_parse(const char *value, size_t len, sl_hint_param *out,
                                     sl_error *err);
void sl_hint_param_free(sl_hint_param *h);

/* "first" or "last" (as pgproxy compares: exact); -1 for anything else, which pgproxy logs and
 * reads as first. */
int sl_hint_position_parse(const char *s, sl_hint_position *out);

/* Which parameter holds the hook among n (n > 0): 0 or n - 1. */
size_t sl_hint_position_index(sl_hint_position pos, size_t n);

/* "PGPROXY:<suffix>:<hash>" into buf; the length it needs (like snprintf). */
size_t sl_hint_redis_key(char *buf, size_t cap, const char *suffix, const char *hash);

typedef struct {
    bool no_cache;
    int ttl;                          /* seconds, or 0: none given */
    char key[SL_HINT_MAX_KEY + 1];    /* "" : none given */
    size_t n_ignored;                 /* malformed directives */
    char reason[160];                 /* the first of them */
} sl_hint_comment;

/* The comment hints of a string from its scanner tokens (sl_sqlscan_run of the same sql). */
void sl_hint_comments_scan(const char *sql, const sl_sqlscan *scan, sl_hint_comment *out);
/* The same, scanning sql itself. -1 only when out of memory (SL_E_INTERNAL); a string the
 * scanner rejects gives no hints and a reason. */
SL_MUSTCHECK int sl_hint_comments(const char *sql, bool non_standard_strings,
                                  sl_hint_comment *out, sl_error *err);

#endif
