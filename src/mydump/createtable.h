/* mydump/createtable.h: SHOW CREATE TABLE's text cut in two, so that a restore loads the rows
 * before it builds secondary indexes and foreign keys.
 * Why cutting the server's own text is exact: the body of CREATE TABLE is a list of elements
 * (columns, keys, constraints) separated by commas at parenthesis depth 0; the scanner here
 * skips over everything quoted (`ident` with `` inside, 'text' and "text" with their doubled
 * quotes and backslash escapes) and comments, so a name holding a newline, a comma or the word
 * KEY can never start or end an element. Each element that is a secondary index (KEY, INDEX,
 * UNIQUE, FULLTEXT, SPATIAL) or a foreign key (FOREIGN KEY, CONSTRAINT `c` FOREIGN KEY) is
 * taken out verbatim and becomes "ADD <element>" of an ALTER TABLE: the grammar of a key in
 * CREATE TABLE and in ALTER TABLE ... ADD is the same, so the index comes back with its name,
 * columns, prefix lengths, type, comment and visibility. Kept in the CREATE: columns, the
 * PRIMARY KEY, CHECK constraints, periods, and the first index that starts with the
 * AUTO_INCREMENT column when no primary key does (the server refuses such a column without
 * one). Everything after the body (engine, charset, partitions) stays as it is.
 * sl_mydump_create_split() fills create (the table without the moved elements), indexes and
 * fks ("ADD ..." clauses joined by ",\n", empty when none). -1 (SL_E_UNSUPPORTED) when the
 * text does not have the expected shape: the caller then keeps it whole. Pure. */
#ifndef SL_MYDUMP_CREATETABLE_H
#define SL_MYDUMP_CREATETABLE_H

#include "base/buf.h"
#include "base/error.h"

/* A view's text with every `db`. qualifier of the view's own database removed, so that the
 * view follows the database it is restored into. The server writes a view's tables without
 * their database when all of them are in the current one, and every one with it otherwise (a
 * view that also reads another database): then the qualifiers of the current database are
 * removed here, those of other databases kept. Only a quoted identifier equal to db and
 * directly followed by '.', and not itself after a '.', is removed, never text inside a string
 * literal or comment (the scanner above). Not exact in one case: a table or alias spelled like
 * the database, used as `name`.`column`, loses its qualifier too; the column then resolves the
 * same unless another table of the view has a column of that name (the restore then fails
 * loudly, it never picks another column silently). Pure. */
void sl_mydump_unqualify(const char *text, const char *db, sl_buf *out);

SL_MUSTCHECK int sl_mydump_create_split(const char *ddl, const char *autoinc_column,
                                        sl_buf *create, sl_buf *indexes, sl_buf *fks,
                                        sl_error *err);

#endif
