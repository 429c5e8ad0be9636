/* io/manifest.h: manifest.json of a cluster archive (its writer is dump/cluster.c, which
 * documents the fields), read back. The document is at most SL_MANIFEST_MAX bytes (a larger
 * one is refused before it is read: memory stays bounded) and every field is checked: a
 * member name must be one the writer makes (io/tar.h), a checksum 64 hex digits, a database's
 * name its exact bytes (name_hex). Unknown fields are ignored, so that a later format can add
 * some; a format_version other than 1 is refused.
 * Ownership: sl_manifest_free() frees everything (and accepts a zeroed manifest).
 * Errors: SL_E_ARCHIVE "manifest.json: ..." naming the field. */
#ifndef SL_IO_MANIFEST_H
#define SL_IO_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "io/checksum.h"
#include "io/tar.h"

#define SL_MANIFEST_MAX (4u << 20)

typedef struct sl_manifest_member {
    char name[SL_TAR_NAME_MAX + 1];
    uint64_t size;
    unsigned char sha256[SL_SHA256_LEN];
} sl_manifest_member;

typedef struct sl_manifest_database {
    char *name;          /* exact bytes (NUL-terminated: names hold no NUL) */
    char member[SL_TAR_NAME_MAX + 1];
    bool ok;             /* false: its backup failed (the member is absent) */
    bool by_pg_dump;     /* backed up by pg_dump (--fallback-tools): a plain gzip script */
    char *error;         /* why, when !ok; else NULL */
    int64_t rows, database_size;
    char *create_sql;    /* CREATE DATABASE with its options */
    char *alter_sql;     /* for a database the target has already (postgres) */
    char *started_at, *finished_at;
} sl_manifest_database;

typedef struct sl_manifest {
    bool mysql;          /* "engine": "mysql" (mydump/mycluster.h); absent: PostgreSQL */
    char *server_version, *started_at, *finished_at;
    sl_manifest_member *members;
    size_t nmembers;
    sl_manifest_database *databases;
    size_t ndatabases;
    size_t nskipped;
    int roles, memberships, tablespaces;
    bool passwords_saved;
} sl_manifest;

SL_MUSTCHECK int sl_manifest_parse(const char *text, size_t len, sl_manifest *out,
                                   sl_error *err);
void sl_manifest_free(sl_manifest *m);
/* The member of that name, or NULL. */
const sl_manifest_member *sl_manifest_member_find(const sl_manifest *m, const char *name);

#endif
