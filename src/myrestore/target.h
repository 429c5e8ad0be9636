/* myrestore/target.h: gets the target database of a MySQL restore ready (internal).
 * Without --create the database must exist; a database holding any table, view, routine or
 * event is refused (SL_E_REFUSED) unless --clean, which drops it and creates it again with
 * its own default character set and collation (grants on it, kept by the server in
 * mysql.db, stay). With --create the database must not exist (SL_E_REFUSED) unless --clean
 * (dropped first); it is created with the character set and collation the backup's header
 * carries ("character_set", "collation"), else the server's defaults.
 * On success the connection has the database selected. Names are quoted by mysql/quote.h. */
#ifndef SL_MYRESTORE_TARGET_H
#define SL_MYRESTORE_TARGET_H

#include <stdbool.h>

#include "base/error.h"
#include "mysql/conn.h"

typedef struct sl__mytarget {
    const char *database;
    bool create, clean;
    const char *charset;    /* for --create, or NULL */
    const char *collation;  /* for --create, or NULL */
} sl__mytarget;

SL_MUSTCHECK int sl__myrestore_target(sl_mysql *c, const sl__mytarget *t, sl_error *err);

#endif
