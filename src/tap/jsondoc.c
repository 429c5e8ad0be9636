/* tap/jsondoc.c: see jsondoc.h. */
#include "tap/jsondoc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

int
sl_tap_jsondoc_parse(json_t **out, const char *text, size_t len, const char *what,
                     const char *name, size_t flags, sl_error *err)
{
    if (memchr(text, '\0', len)) {
        sl_error_set(err, SL_E_USAGE, "%s \"%s\" holds a NUL byte: not JSON", what, name);
        return -1;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, flags, &jerr);
    if (!doc) {
        /* jansson's message may end with " near 'TOKEN'": input, cut off */
        char msg[JSON_ERROR_TEXT_LENGTH];
        snprintf(msg, sizeof msg, "%s", jerr.text);
        char *near = strstr(msg, " near ");
        if (near)
            *near = '\0';
        sl_error_set(err, SL_E_USAGE, "%s \"%s\": invalid JSON at line %d, column %d: %s", what,
                     name, jerr.line, jerr.column, msg);
        return -1;
    }
    *out = doc;
    return 0;
}

int
sl_tap_jsondoc_load(json_t **out, const char *path, const char *what, size_t max_bytes,
                    size_t flags, sl_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        sl_error_errno(err, SL_E_USAGE, errno, "could not open %s \"%s\"", what, path);
        return -1;
    }
    sl_buf text = SL_BUF_INIT;
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0 && text.len <= max_bytes)
        sl_buf_append(&text, chunk, got);
    int failed = ferror(f);
    fclose(f);
    int rc = -1;
    if (failed)
        sl_error_set(err, SL_E_USAGE, "could not read %s \"%s\"", what, path);
    else if (text.len > max_bytes)
        sl_error_set(err, SL_E_USAGE, "%s \"%s\" is larger than %zu MiB", what, path,
                     max_bytes >> 20);
    else
        rc = sl_tap_jsondoc_parse(out, text.data ? text.data : "", text.len, what, path, flags,
                                  err);
    sl_buf_free(&text);
    return rc;
}

/* Python's repr(float): the shortest digits that read back as d, in fixed notation when the
 * decimal exponent is in [-4, 16) (with ".0" when integral), else as d.ddde+XX. */
void
sl_tap_jsondoc_real(sl_buf *out, double d)
{
    char sci[40];
    for (int prec = 0; prec <= 16; prec++) {
        snprintf(sci, sizeof sci, "%.*e", prec, d);
        if (strtod(sci, NULL) == d)
            break;
    }
    /* sci: [-]D[.DDD]e[+-]XX */
    const char *p = sci;
    if (*p == '-') {
        sl_buf_putc(out, '-');
        p++;
    }
    char digits[24];
    size_t n = 0;
    for (; *p && *p != 'e' && n + 1 < sizeof digits; p++)
        if (*p != '.')
            digits[n++] = *p;
    digits[n] = '\0';
    int exp = *p == 'e' ? atoi(p + 1) : 0;
    if (exp >= 16 || exp < -4) {
        sl_buf_putc(out, digits[0]);
        if (n > 1)
            sl_buf_printf(out, ".%s", digits + 1);
        sl_buf_printf(out, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    } else if (exp < 0) {
        sl_buf_puts(out, "0.");
        for (int i = -1; i > exp; i--)
            sl_buf_putc(out, '0');
        sl_buf_puts(out, digits);
    } else {
        for (int i = 0; i <= exp; i++)
            sl_buf_putc(out, (size_t)i < n ? digits[i] : '0');
        sl_buf_putc(out, '.');
        sl_buf_puts(out, (size_t)exp + 1 < n ? digits + exp + 1 : "0");
    }
}

void
sl_tap_jsondoc_write(sl_jsonw *w, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *member;
        sl_jsonw_object_begin(w);
        json_object_foreach((json_t *)v, key, member) {
            sl_jsonw_keyz(w, key);
            sl_tap_jsondoc_write(w, member);
        }
        sl_jsonw_object_end(w);
        return;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *item;
        sl_jsonw_array_begin(w);
        json_array_foreach(v, i, item)
            sl_tap_jsondoc_write(w, item);
        sl_jsonw_array_end(w);
        return;
    }
    case JSON_STRING:
        sl_jsonw_string(w, json_string_value(v), json_string_length(v));
        return;
    case JSON_INTEGER:
        sl_jsonw_int(w, json_integer_value(v));
        return;
    case JSON_REAL: {
        sl_buf text = SL_BUF_INIT;
        sl_tap_jsondoc_real(&text, json_real_value(v));
        if (sl_jsonw_number(w, text.data, text.len) != 0)
            sl_jsonw_null(w);  /* not reached: a finite double prints as a JSON number */
        sl_buf_free(&text);
        return;
    }
    case JSON_TRUE:
        sl_jsonw_bool(w, true);
        return;
    case JSON_FALSE:
        sl_jsonw_bool(w, false);
        return;
    case JSON_NULL:
        sl_jsonw_null(w);
        return;
    }
}
