/* mysql/quote.h: names and values written into SQL sent to MySQL/MariaDB, quoted the one way
 * that keeps them inert: identifiers in backticks (a backtick doubled), values as string
 * literals escaped by the connector for the connection's character set and sql_mode.
 * Ownership: both append to the caller's sl_buf. */
#ifndef SL_MYSQL_QUOTE_H
#define SL_MYSQL_QUOTE_H

#include "base/buf.h"
#include "mysql/conn.h"

/* `name` with every backtick doubled. */
void sl_mysql_quote_ident(sl_buf *out, const char *name);
/* 'value' escaped by mysql_real_escape_string for c. */
void sl_mysql_quote_literal(sl_mysql *c, sl_buf *out, const char *value);

#endif
