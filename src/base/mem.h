/* base/mem.h: allocation that never returns NULL. Out of memory is not an error sluice can
 * recover from in the middle of a COPY stream, so these print one line and abort(), like
 * Redis's zmalloc; everything else reports through sl_error. */
#ifndef SL_BASE_MEM_H
#define SL_BASE_MEM_H

#include <stddef.h>

void *sl_malloc(size_t n);
void *sl_calloc(size_t count, size_t n);
void *sl_realloc(void *p, size_t n);
char *sl_strdup(const char *s);
char *sl_strndup(const char *s, size_t n);
char *sl_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
