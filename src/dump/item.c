#include "dump/item.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

static char *
dup_or_null(const char *s)
{
    return s ? sl_strdup(s) : NULL;
}

sl_dump_item *
sl_dump_items_add(sl_dump_items *list, const sl_dump_item *it)
{
    if (list->n == list->cap) {
        list->cap = list->cap ? list->cap * 2 : 256;
        list->v = sl_realloc(list->v, list->cap * sizeof *list->v);
    }
    sl_dump_item *d = &list->v[list->n++];
    *d = *it;
    d->schema = dup_or_null(it->schema);
    d->name = dup_or_null(it->name);
    d->sql = dup_or_null(it->sql);
    for (size_t k = 0; k < 4; k++)
        d->tables[k] = dup_or_null(it->tables[k]);
    return d;
}

void
sl_dump_items_free(sl_dump_items *list)
{
    for (size_t i = 0; i < list->n; i++) {
        free(list->v[i].schema);
        free(list->v[i].name);
        free(list->v[i].sql);
        for (size_t k = 0; k < 4; k++)
            free(list->v[i].tables[k]);
    }
    free(list->v);
    list->v = NULL;
    list->n = list->cap = 0;
}
