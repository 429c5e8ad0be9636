/* proxy/statements.h: the prepared statements a client has named in Parse, name -> SQL text,
 * so that a later Bind or Execute can be tied to its SQL (what a cache keys on). The unnamed
 * statement is the name "". A session owns one; _free releases it and every copy it holds. */
#ifndef SL_PROXY_STATEMENTS_H
#define SL_PROXY_STATEMENTS_H

#include <stddef.h>

typedef struct sl_statements sl_statements;

sl_statements *sl_statements_new(void);
void sl_statements_free(sl_statements *st);
/* Records (or replaces) name's SQL; both are copied. */
void sl_statements_set(sl_statements *st, const char *name, const char *sql);
/* name's SQL, or NULL; valid until the next set/remove/clear of that name. */
const char *sl_statements_get(const sl_statements *st, const char *name);
void sl_statements_remove(sl_statements *st, const char *name);
void sl_statements_clear(sl_statements *st);
size_t sl_statements_count(const sl_statements *st);

#endif
