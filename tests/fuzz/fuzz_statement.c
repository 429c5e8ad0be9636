/* libFuzzer target for restore/statement: any statement text must be decided without crashing
 * or reading past its end; a COPY relation is a piece of the text, and a FREEZE rewrite keeps
 * the text up to its ';'.
 * Build: cmake -DSL_FUZZ=ON -DCMAKE_C_COMPILER=clang ...; run: ./fuzz_statement corpus/ */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "restore/statement.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    size_t len = strlen(text);
    (void)sl_statement_skipped(text, true, false);
    (void)sl_statement_skipped(text, false, true);
    if (sl_statement_skipped(text, false, false))
        abort();  /* nothing is left out without an option */
    sl_buf rel = SL_BUF_INIT, sql = SL_BUF_INIT;
    if (sl_statement_copy_relation(text, &rel) && !strstr(text, rel.data))
        abort();
    if (sl_statement_copy_freeze(text, len, &sql)) {
        static const char tail[] = " WITH (FREEZE);";
        if (sql.len < sizeof tail - 1 || strcmp(sql.data + sql.len - (sizeof tail - 1), tail) ||
            strncmp(sql.data, text, sql.len - (sizeof tail - 1)) != 0)
            abort();
    }
    sl_buf_free(&rel);
    sl_buf_free(&sql);
    free(text);
    return 0;
}
