#include "base/mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *
checked(void *p, size_t n)
{
    if (!p && n) {
        fprintf(stderr, "sluice: out of memory (%zu bytes)\n", n);
        abort();
    }
    return p;
}

void *
sl_malloc(size_t n)
{
    return checked(malloc(n ? n : 1), n ? n : 1);
}

void *
sl_calloc(size_t count, size_t n)
{
    return checked(calloc(count ? count : 1, n ? n : 1), 1);
}

void *
sl_realloc(void *p, size_t n)
{
    return checked(realloc(p, n ? n : 1), n ? n : 1);
}

char *
sl_strdup(const char *s)
{
    return sl_strndup(s, strlen(s));
}

char *
sl_strndup(const char *s, size_t n)
{
    char *d = sl_malloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *
sl_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = sl_malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}
