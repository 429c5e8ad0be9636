/* proxy/sqltree.h: libpg_query's JSON parse tree as a compact read-only tree. jansson took
 * 120 us to load the 1.7 kB tree of an ordinary SELECT (a hash table per object); this reads
 * it into one array of nodes and one string pool in a few microseconds, which matters when
 * every statement a client sends is analyzed.
 * Calling:   sl_sqltree_parse() -> sl_sqltree_get/_first/_next/_str/... -> sl_sqltree_free().
 * Input:     any bytes: the JSON is read strictly (RFC 8259 values; numbers must be integers
 *            that fit an int64_t, which is all libpg_query prints), nesting at most max_depth.
 *            Strings are unescaped; one that would hold a NUL is refused.
 * Nodes:     a node is an index, 0 meaning none; every accessor accepts 0 and answers "none",
 *            so lookups chain without checks. Object members are nodes with a key; arrays and
 *            objects list their children in order.
 * Ownership: the tree owns its nodes and strings; pointers stay valid until _free(). */
#ifndef SL_PROXY_SQLTREE_H
#define SL_PROXY_SQLTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint32_t sl_sqlnode;

typedef enum {
    SL_SQLTREE_NONE,   /* index 0, or a lookup that found nothing */
    SL_SQLTREE_OBJECT,
    SL_SQLTREE_ARRAY,
    SL_SQLTREE_STRING,
    SL_SQLTREE_INT,
    SL_SQLTREE_TRUE,
    SL_SQLTREE_FALSE,
    SL_SQLTREE_NULL,
} sl_sqltree_kind;

typedef struct sl_sqltree sl_sqltree;

/* 0 with *out set; -1 when the text is not such JSON or nests deeper than max_depth; -2 when
 * out of memory. The root is sl_sqltree_root(). */
int sl_sqltree_parse(const char *json, size_t len, int max_depth, sl_sqltree **out);
void sl_sqltree_free(sl_sqltree *t);

sl_sqlnode sl_sqltree_root(const sl_sqltree *t);
sl_sqltree_kind sl_sqltree_kind_of(const sl_sqltree *t, sl_sqlnode n);
/* The value of an object's member, or 0. */
sl_sqlnode sl_sqltree_get(const sl_sqltree *t, sl_sqlnode obj, const char *key);
/* First child of an object or array (in order), or 0; then the next sibling, or 0. */
sl_sqlnode sl_sqltree_first(const sl_sqltree *t, sl_sqlnode n);
sl_sqlnode sl_sqltree_next(const sl_sqltree *t, sl_sqlnode n);
/* Children of an object or array. */
size_t sl_sqltree_count(const sl_sqltree *t, sl_sqlnode n);
/* The member name of an object's child, or NULL. */
const char *sl_sqltree_key(const sl_sqltree *t, sl_sqlnode n);
/* A string's text, or NULL when n is no string. */
const char *sl_sqltree_str(const sl_sqltree *t, sl_sqlnode n);
/* An integer's value, or 0. */
int64_t sl_sqltree_int(const sl_sqltree *t, sl_sqlnode n);
bool sl_sqltree_is_true(const sl_sqltree *t, sl_sqlnode n);

#endif
