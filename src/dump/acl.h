/* dump/acl.h: privileges of the dumped objects and default privileges, as GRANT/REVOKE.
 * Like pg_dump, each ACL is reproduced relative to what the object has right after CREATE and
 * ALTER OWNER (pg_init_privs when initdb or an extension set it, else acldefault(kind,
 * owner)): privileges of the base that the object lost are revoked, privileges it gained are
 * granted. Grants made by a role other than the owner run under SET SESSION AUTHORIZATION of
 * that role (PostgreSQL 15's GRANTED BY only accepts the current user). Column privileges
 * (pg_attribute.attacl) follow their table's; default privileges (pg_default_acl) become ALTER
 * DEFAULT PRIVILEGES statements relative to the built-in defaults.
 * One query reads everything (sl__acl_read); the statement text is built by the pure helpers
 * below, which have unit tests. */
#ifndef SL_DUMP_ACL_H
#define SL_DUMP_ACL_H

#include <stdbool.h>

#include "base/buf.h"
#include "base/error.h"
#include "dump/decor.h"

/* One grant or revoke: privileges for one grantee (and grantor) on one object or column set. */
typedef struct sl__acl_stmt {
    bool grant;           /* false: REVOKE */
    const char *privs;    /* "SELECT, UPDATE" or "SELECT (a), INSERT (b)" */
    const char *keyword;  /* "TABLE", "FUNCTION", ...; for default privileges "TABLES", ... */
    const char *object;   /* quoted identity; NULL for default privileges */
    const char *prefix;   /* default privileges: "FOR ROLE r [IN SCHEMA s]"; else NULL */
    const char *grantee;  /* quoted role name or PUBLIC */
    const char *grantor;  /* quoted role when it is not the owner; else NULL */
    bool grant_option;    /* WITH GRANT OPTION */
} sl__acl_stmt;

/* The GRANT ... ON keyword for a pg_identify_object() type ("table" -> "TABLE", "aggregate" ->
 * "FUNCTION", "server" -> "FOREIGN SERVER"); NULL when the kind has no privileges. */
const char *sl__acl_keyword(const char *type);
/* Appends the statement(s), each ending in ";\n". */
void sl__acl_append(sl_buf *b, const sl__acl_stmt *s);

SL_MUSTCHECK int sl__acl_read(const sl__decor_ctx *ctx, sl_dump_items *out, sl_error *err);

#endif
