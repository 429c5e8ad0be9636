/* io/tar.h: the tar archive a cluster backup is: POSIX ustar members, readable by tar -t and
 * tar -x, written to and read from a file descriptor with a hard memory bound (one 512-byte
 * header; contents are copied, never held).
 * Writer: sl_tar_put_header() for a member of known size, then exactly size bytes, then
 * sl_tar_pad(); sl_tar_put_end() writes the two zero blocks that end an archive. Member names
 * are the writer's own (short, ASCII, no "..": checked), mode 0600. A size above ustar's
 * 8 GiB - 1 is written in the base-256 form GNU tar and bsdtar read.
 * Reader: sl_tar_next() reads the header at *off and moves *off past the member; it accepts
 * regular files (type '0' or NUL) only and refuses a bad checksum, a name that is not
 * NUL-terminated, a size the file does not hold, and anything after the end blocks but
 * zeros. Errors: SL_E_ARCHIVE naming the archive and the offset; SL_E_IO for the system. */
#ifndef SL_IO_TAR_H
#define SL_IO_TAR_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

#define SL_TAR_BLOCK 512
#define SL_TAR_NAME_MAX 99  /* bytes of a member name (ustar's name field, NUL-terminated) */

/* The header block of a member (a buffer of SL_TAR_BLOCK bytes); -1 with SL_E_INTERNAL for a
 * name the writer should never make. */
SL_MUSTCHECK int sl_tar_header(unsigned char *block, const char *name, uint64_t size,
                               int64_t mtime, sl_error *err);
/* A name the writer makes: 1 to SL_TAR_NAME_MAX printable ASCII bytes without blanks, no
 * leading '/', no "..". */
bool sl_tar_name_ok(const char *name);
/* Bytes of zero padding after a member of size bytes. */
uint64_t sl_tar_padding(uint64_t size);

/* One header block as any ustar/POSIX/GNU writer makes it: checksum, "ustar" magic, size and
 * time (octal or base-256), type, and name (with the ustar prefix field joined by '/').
 * false with *why set when the block is not a valid header. */
typedef struct sl_tar_fields {
    char type;          /* '0' or '\0' a file, '5' a directory, 'x'/'g' pax, 'L' GNU name */
    char name[256];
    uint64_t size;
    uint64_t mtime;
} sl_tar_fields;
bool sl_tar_fields_read(const unsigned char *block, sl_tar_fields *f, const char **why);
bool sl_tar_block_is_zero(const unsigned char *block);

typedef struct sl_tar_member {
    char name[SL_TAR_NAME_MAX + 1];
    uint64_t size;
    uint64_t data_off;  /* where its contents start in the archive */
    int64_t mtime;
} sl_tar_member;

/* Reads the member at *off of the archive fd (size: the archive's size; what: its name for
 * messages). 1 with *m filled and *off past the member, 0 at the end of the archive, -1 on
 * error. */
SL_MUSTCHECK int sl_tar_next(int fd, uint64_t size, const char *what, uint64_t *off,
                             sl_tar_member *m, sl_error *err);

#endif
