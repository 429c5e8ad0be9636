/* proxy/cacheflow.h: what a session needs to answer a simple Query from the cache, apart from
 * the wire: the settings that go into the key, the catalog query that resolves the tables a
 * cacheable SELECT reads, and the verdict on its answer. Pure: no I/O.
 * Settings: every ParameterStatus the server sent, every SET the session saw complete, and the
 * startup packet's parameters (options included) each go into the key under a prefix of their
 * source, so one name from two sources never collides.
 * Catalog query: the proxy's own simple Query, sent on the session's idle server connection
 * in autocommit; it reads pg_class only. The names the analysis found reach the server as hex
 * digits (decode(..., 'hex') in the client encoding), and the server quotes them itself
 * (quote_ident): no byte of a name is ever part of the SQL text, whatever quotes, backslashes
 * or dollar signs it holds and whatever standard_conforming_strings is. Every function and
 * operator is schema-qualified, so nothing a user created can stand in for them.
 * Its answer: a row (0, search_path, 't' when the session has a temporary schema (it made a
 * temporary object, which may shadow any name: the session must stop using the cache) else
 * NULL), then one row (1, verdict, viewdef) per name, the
 * verdict NULL when the name does not resolve, else relkind, relpersistence, 'y'/'n' for
 * row-level security and 's'/'u' for a system or user relation; viewdef is a view's
 * pg_get_viewdef() (names qualified where the session's search_path would not find them, so
 * its reads resolve with the same search_path in the next round), NULL for anything else. */
#ifndef SL_PROXY_CACHEFLOW_H
#define SL_PROXY_CACHEFLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "proxy/cachekey.h"
#include "proxy/sql.h"

typedef struct {
    char **names;   /* "<source>:<name>" */
    char **values;  /* NULL: reset to the default */
    size_t n, cap;
    sl_cachekey_setting *sorted; /* by name, for keys; rebuilt after a change */
    bool sorted_ok;
} sl_cacheflow_settings;

void sl_cacheflow_settings_set(sl_cacheflow_settings *s, char source, const char *name,
                               const char *value);
const char *sl_cacheflow_settings_get(const sl_cacheflow_settings *s, char source,
                                      const char *name);
void sl_cacheflow_settings_free(sl_cacheflow_settings *s);

/* Appends the catalog query for n names, a complete Query message, to out. */
void sl_cacheflow_catalog_query(sl_buf *out, const sl_sql_name *names, size_t n);

/* The reason a verdict of the catalog query forbids caching, or NULL when the relation may
 * be cached (an ordinary, partitioned or materialized table or a view, permanent, without
 * row-level security, not a system relation: a view only if its definition is cacheable
 * too, which the caller checks). verdict NULL: the name did not resolve. */
const char *sl_cacheflow_refusal(const char *verdict);

/* The key of a simple Query: sql is the whole Query string, settings every setting known
 * (non-const: it keeps its sorted copy for the next key). */
SL_MUSTCHECK int sl_cacheflow_key(sl_cachekey *out, const char *database, const char *user,
                                  const char *sql, sl_cacheflow_settings *settings,
                                  const char *suffix, sl_error *err);

/* The key of a catalog verdict (verdicts.h) for a statement reading names, appended to out:
 * everything the catalog query's answer depends on but the catalog, each field framed by its
 * length (NULL distinct from "": an unqualified name). search_path is the value the catalog
 * query read, not the session's SETs: ALTER ROLE ... SET search_path and the like are in it.
 * Names in the order the analysis gives them (a different order is only another key). */
void sl_cacheflow_verdict_key(sl_buf *out, const char *database, const char *user,
                              const char *search_path, const sl_sql_name *names, size_t n);

/* A short fingerprint of a text for the log (FNV-1a 64), never the text itself. */
uint64_t sl_cacheflow_fingerprint(const char *s, size_t len);

#endif
