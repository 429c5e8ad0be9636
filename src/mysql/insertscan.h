/* mysql/insertscan.h: counts the rows of multi-row INSERT statements as a MySQL backup's data
 * segments hold them ("INSERT INTO `t` [(`a`,...)] VALUES\n(...),\n(...);\n"), fed in chunks
 * of any size, so that a reader of a backup file can check a segment's row count without a
 * server. A row is a '(' at parenthesis depth 0 right after VALUES or after a ',' at depth 0;
 * quoted text ('...' and "..." with backslash escapes and doubled quotes, `...` with doubled
 * backticks) is skipped, so no byte of a value can start or end a row.
 * Usage: zero the struct, _feed()*, then _finish(): true when the text ended outside quotes
 * and parentheses, after a complete statement (or held none). Pure. */
#ifndef SL_MYSQL_INSERTSCAN_H
#define SL_MYSQL_INSERTSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sl_mysql_insertscan {
    int64_t rows;
    int64_t depth;
    int state;  /* internal */
    char last;  /* the last byte outside quotes and spaces at depth 0 */
} sl_mysql_insertscan;

void sl_mysql_insertscan_feed(sl_mysql_insertscan *s, const char *data, size_t len);
bool sl_mysql_insertscan_finish(const sl_mysql_insertscan *s);

#endif
