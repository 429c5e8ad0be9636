/* io/archive.h: a cluster archive (dump/cluster.h) read back: its members found by walking
 * the tar (io/tar.h), its manifest (io/manifest.h) read and checked against them (same
 * members, same sizes, a backup for every database backed up). Members are read in place,
 * never extracted; restore/verify.h checks their contents.
 * Memory: one record per member (at most SL_ARCHIVE_MAX_MEMBERS) and the manifest (at most
 * SL_MANIFEST_MAX bytes of text).
 * Errors: SL_E_ARCHIVE naming the member or the offset; SL_E_IO for the file system. */
#ifndef SL_IO_ARCHIVE_H
#define SL_IO_ARCHIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "io/manifest.h"

#define SL_ARCHIVE_MAX_MEMBERS 100000

typedef struct sl_archive sl_archive;

/* Whether path starts with a ustar header (a cluster archive rather than a backup file). */
bool sl_archive_is_tar(const char *path);

SL_MUSTCHECK int sl_archive_open(sl_archive **out, const char *path, sl_error *err);
void sl_archive_close(sl_archive *a);  /* accepts NULL */
const sl_manifest *sl_archive_manifest(const sl_archive *a);
const char *sl_archive_path(const sl_archive *a);
/* Where member name's contents are; false when the archive has no such member. */
bool sl_archive_find(const sl_archive *a, const char *name, uint64_t *off, uint64_t *size);

/* Reads n bytes at offset off of the archive (within a member sl_archive_find() gave). */
SL_MUSTCHECK int sl_archive_pread(const sl_archive *a, void *buf, size_t n, uint64_t off,
                                  sl_error *err);

#endif
