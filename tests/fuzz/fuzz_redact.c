/* libFuzzer target for the text functions of pg/conninfo: the SQL redactor, the message scrub
 * and the reading of connection failures take statements from backup files and text from
 * servers, so any input must go through them without crashing. And whatever SQL follows it, a
 * password in one of the forms the redactor knows never survives in any prefix of the text.
 * Build: cmake -DSL_FUZZ=ON -DCMAKE_C_COMPILER=clang ...; run: ./fuzz_redact corpus/ */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "pg/conninfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT 512

/* Statement openings that end just before a password; the password is closed by the suffix. */
static const struct {
    const char *open, *close;
} forms[] = {
    {"ALTER ROLE r PASSWORD '", "'"},
    {"CREATE ROLE r ENCRYPTED PASSWORD E'", "'"},
    {"CREATE USER MAPPING FOR u SERVER s OPTIONS (user 'u', password '", "')"},
    {"CREATE SUBSCRIPTION s CONNECTION 'host=h password=", " dbname=d'"},
    {"CREATE SUBSCRIPTION s CONNECTION 'host=h password=''", "'' dbname=d'"},
    {"CREATE SUBSCRIPTION s CONNECTION 'postgresql://u:", "@h/db'"},
    {"CREATE SUBSCRIPTION s CONNECTION $c$host=h password=", "$c$"},
    {"\\connect host=h password=", " dbname=d"},
};

static const char *
part(const char *s, char *four)
{
    memcpy(four, s, 4);
    four[4] = '\0';
    return four;
}

static void
check_form(const uint8_t *data, size_t size)
{
    char four[5];
    /* a password of 8 letters and digits from the first bytes, the rest is whatever SQL */
    char pw[9];
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                "0123456789";
    for (int i = 0; i < 8; i++)
        pw[i] = alnum[(i + 1 < (int)size ? data[i + 1] : i) % (sizeof alnum - 1)];
    pw[8] = '\0';
    size_t form = size ? data[0] % (sizeof forms / sizeof forms[0]) : 0;
    size_t rest = size > 9 ? 9 : size;
    /* every prefix is redacted: the SQL after the password is kept short */
    size_t noise = size - rest > 64 ? 64 : size - rest;
    sl_buf stmt = SL_BUF_INIT;
    sl_buf_printf(&stmt, "%s%s%s", forms[form].open, pw, forms[form].close);
    sl_buf_append(&stmt, data + rest, noise);
    for (size_t len = 0; len <= stmt.len; len++) {
        sl_buf out = SL_BUF_INIT;
        sl_conninfo_redact_sql(stmt.data, len, &out);
        for (int i = 0; i + 4 <= 8; i++) {
            part(pw + i, four);
            bool sql_own = memmem(data + rest, noise, four, 4) ||
                           strstr(forms[form].open, four) || strstr(forms[form].close, four);
            if (!sql_own && memmem(out.data, out.len, four, 4)) {
                fprintf(stderr, "secret part %s shown: %s\n", four, out.data);
                abort();
            }
        }
        sl_buf_free(&out);
    }
    sl_buf_free(&stmt);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';

    sl_buf out = SL_BUF_INIT;
    size_t n = sl_conninfo_redact_sql(text, size, &out);
    if (out.len > size + n * strlen(SL_CONNINFO_REDACTED))
        abort();
    sl_buf_free(&out);

    char msg[256];
    snprintf(msg, sizeof msg, "%s", text);
    sl_conninfo_redact_message(msg, sizeof msg, text, size, true);
    snprintf(msg, sizeof msg, "%s", text);
    sl_conninfo_redact_message(msg, sizeof msg, text, size, false);
    sl_conninfo_redact_password(msg, sizeof msg, text);

    sl_conninfo_failure f;
    sl_conninfo_failure_read(text, &f);

    check_form(data, size);
    free(text);
    return 0;
}
