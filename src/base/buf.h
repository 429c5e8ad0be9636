/* base/buf.h: a growable byte buffer, always NUL-terminated so text can be used as a C string.
 * The struct is public on purpose: readers use .data/.len directly. sl_buf_init() or
 * SL_BUF_INIT makes an empty buffer that owns nothing; sl_buf_free() releases it; reset keeps
 * the allocation for reuse in loops. */
#ifndef SL_BASE_BUF_H
#define SL_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct sl_buf {
    char *data;  /* NULL until the first append; NUL-terminated after */
    size_t len;
    size_t cap;
} sl_buf;

#define SL_BUF_INIT {NULL, 0, 0}

void sl_buf_init(sl_buf *b);
void sl_buf_free(sl_buf *b);
void sl_buf_reset(sl_buf *b);
void sl_buf_reserve(sl_buf *b, size_t extra);
void sl_buf_append(sl_buf *b, const void *data, size_t len);
void sl_buf_puts(sl_buf *b, const char *s);
void sl_buf_putc(sl_buf *b, char c);
void sl_buf_printf(sl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sl_buf_vprintf(sl_buf *b, const char *fmt, va_list ap);
/* Hands the data to the caller (who frees it) and leaves the buffer empty. */
char *sl_buf_steal(sl_buf *b);

#endif
