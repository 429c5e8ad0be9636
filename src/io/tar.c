/* io/tar.c: ustar headers written and read (tar.h). */
#include "io/tar.h"

#include <stdio.h>
#include <string.h>

#include "io/sink.h"

enum {
    OFF_NAME = 0,
    OFF_MODE = 100,
    OFF_UID = 108,
    OFF_GID = 116,
    OFF_SIZE = 124,
    OFF_MTIME = 136,
    OFF_CHKSUM = 148,
    OFF_TYPE = 156,
    OFF_MAGIC = 257,
    OFF_VERSION = 263,
    OFF_UNAME = 265,
    OFF_GNAME = 297,
    OFF_PREFIX = 345,
};

#define OCTAL_SIZE_MAX 077777777777ULL  /* 11 octal digits */

/* Writes v as width-1 octal digits and a NUL. */
static void
put_octal(unsigned char *field, size_t width, uint64_t v)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%0*llo", (int)(width - 1), (unsigned long long)v);
    memcpy(field, tmp, width - 1);
    field[width - 1] = '\0';
}

/* The base-256 form: 0x80, then the value big-endian in the rest of the field. */
static void
put_base256(unsigned char *field, size_t width, uint64_t v)
{
    memset(field, 0, width);
    field[0] = 0x80;
    for (size_t i = width - 1; i > 0 && v; i--, v >>= 8)
        field[i] = (unsigned char)(v & 0xff);
}

static unsigned
checksum(const unsigned char *block)
{
    unsigned sum = 0;
    for (int i = 0; i < SL_TAR_BLOCK; i++)
        sum += (i >= OFF_CHKSUM && i < OFF_CHKSUM + 8) ? ' ' : block[i];
    return sum;
}

bool
sl_tar_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > SL_TAR_NAME_MAX || name[0] == '/' || strstr(name, ".."))
        return false;
    for (size_t i = 0; i < n; i++)
        if (name[i] < 0x21 || name[i] > 0x7e)
            return false;
    return true;
}

int
sl_tar_header(unsigned char *block, const char *name, uint64_t size, int64_t mtime,
              sl_error *err)
{
    if (!sl_tar_name_ok(name)) {
        sl_error_set(err, SL_E_INTERNAL, "not a tar member name: %s", name);
        return -1;
    }
    memset(block, 0, SL_TAR_BLOCK);
    memcpy(block + OFF_NAME, name, strlen(name));
    put_octal(block + OFF_MODE, 8, 0600);
    put_octal(block + OFF_UID, 8, 0);
    put_octal(block + OFF_GID, 8, 0);
    if (size > OCTAL_SIZE_MAX)
        put_base256(block + OFF_SIZE, 12, size);
    else
        put_octal(block + OFF_SIZE, 12, size);
    put_octal(block + OFF_MTIME, 12, mtime > 0 ? (uint64_t)mtime : 0);
    block[OFF_TYPE] = '0';
    memcpy(block + OFF_MAGIC, "ustar", 6);
    memcpy(block + OFF_VERSION, "00", 2);
    memcpy(block + OFF_UNAME, "sluice", 6);
    memcpy(block + OFF_GNAME, "sluice", 6);
    char sum[8];
    snprintf(sum, sizeof sum, "%06o", checksum(block));
    memcpy(block + OFF_CHKSUM, sum, 7);  /* six digits and a NUL ... */
    block[OFF_CHKSUM + 7] = ' ';         /* ... then a space, as tar writes it */
    return 0;
}

uint64_t
sl_tar_padding(uint64_t size)
{
    return (SL_TAR_BLOCK - size % SL_TAR_BLOCK) % SL_TAR_BLOCK;
}

/* A numeric field: octal digits between optional spaces and a NUL/space end, or base-256. */
static bool
get_number(const unsigned char *field, size_t width, uint64_t *out)
{
    if (field[0] & 0x80) {
        if (field[0] != 0x80)
            return false;  /* negative, or a value over 2^88: no member is that large */
        uint64_t v = 0;
        for (size_t i = 1; i < width; i++) {
            if (v >> 56)
                return false;
            v = (v << 8) | field[i];
        }
        *out = v;
        return true;
    }
    size_t i = 0;
    while (i < width && field[i] == ' ')
        i++;
    uint64_t v = 0;
    size_t digits = 0;
    for (; i < width && field[i] >= '0' && field[i] <= '7'; i++, digits++) {
        if (v >> 60)
            return false;
        v = v * 8 + (uint64_t)(field[i] - '0');
    }
    for (; i < width; i++)
        if (field[i] != ' ' && field[i] != '\0')
            return false;
    *out = v;
    return digits > 0;
}

bool
sl_tar_fields_read(const unsigned char *block, sl_tar_fields *f, const char **why)
{
    uint64_t stored = 0;
    if (!get_number(block + OFF_CHKSUM, 8, &stored) || stored != checksum(block)) {
        *why = "a tar header's checksum is wrong";
        return false;
    }
    if (memcmp(block + OFF_MAGIC, "ustar", 5) != 0) {
        *why = "not a ustar header";
        return false;
    }
    if (!get_number(block + OFF_SIZE, 12, &f->size) ||
        !get_number(block + OFF_MTIME, 12, &f->mtime)) {
        *why = "a tar header's size or time is not a number";
        return false;
    }
    f->type = (char)block[OFF_TYPE];
    /* name: up to 100 bytes; POSIX ustar puts a long path's start in the 155-byte prefix
     * (GNU tar's header uses those bytes otherwise, but never with the POSIX magic) */
    size_t plen = 0, nlen = strnlen((const char *)block + OFF_NAME, 100);
    if (memcmp(block + OFF_MAGIC, "ustar\0", 6) == 0)
        plen = strnlen((const char *)block + OFF_PREFIX, 155);
    if (nlen == 0) {
        *why = "a member name that is empty";
        return false;
    }
    size_t at = 0;
    if (plen) {
        memcpy(f->name, block + OFF_PREFIX, plen);
        f->name[plen] = '/';
        at = plen + 1;
    }
    memcpy(f->name + at, block + OFF_NAME, nlen);
    f->name[at + nlen] = '\0';
    return true;
}

bool
sl_tar_block_is_zero(const unsigned char *block)
{
    for (int i = 0; i < SL_TAR_BLOCK; i++)
        if (block[i])
            return false;
    return true;
}

static bool
all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static int
bad(sl_error *err, const char *what, uint64_t off, const char *why)
{
    sl_error_set(err, SL_E_ARCHIVE, "%s: %s at offset %llu", what, why, (unsigned long long)off);
    return -1;
}

/* After the first zero block: the rest of the file must be zeros (a second end block, and
 * the padding of tar's records). */
static int
check_end(int fd, uint64_t size, const char *what, uint64_t off, sl_error *err)
{
    unsigned char block[SL_TAR_BLOCK];
    for (uint64_t at = off; at < size; at += SL_TAR_BLOCK) {
        size_t n = size - at < SL_TAR_BLOCK ? (size_t)(size - at) : SL_TAR_BLOCK;
        if (sl_pread_all(fd, block, n, at, what, err) != 0)
            return -1;
        if (!all_zero(block, n))
            return bad(err, what, at, "data after the end of the archive");
    }
    return 0;
}

int
sl_tar_next(int fd, uint64_t size, const char *what, uint64_t *off, sl_tar_member *m,
            sl_error *err)
{
    unsigned char block[SL_TAR_BLOCK];
    uint64_t at = *off;
    if (at == size)
        return bad(err, what, at, "the archive is truncated (no end blocks)");
    if (size - at < SL_TAR_BLOCK)
        return bad(err, what, at, "the archive is truncated");
    if (sl_pread_all(fd, block, SL_TAR_BLOCK, at, what, err) != 0)
        return -1;
    if (all_zero(block, SL_TAR_BLOCK)) {
        /* two zero blocks end an archive: one alone is an archive cut short */
        if (size - at < 2 * SL_TAR_BLOCK)
            return bad(err, what, at, "the archive is truncated (one end block)");
        if (check_end(fd, size, what, at + SL_TAR_BLOCK, err) != 0)
            return -1;
        *off = size;
        return 0;
    }
    sl_tar_fields f;
    const char *why = NULL;
    if (!sl_tar_fields_read(block, &f, &why))
        return bad(err, what, at, why);
    if (f.type != '0' && f.type != '\0')
        return bad(err, what, at, "a member that is not a regular file");
    if (block[OFF_PREFIX] != '\0' || strlen(f.name) > SL_TAR_NAME_MAX)
        return bad(err, what, at, "a member name that is too long");
    uint64_t msize = f.size, mtime = f.mtime;
    uint64_t data = at + SL_TAR_BLOCK;
    if (msize > size - data || sl_tar_padding(msize) > size - data - msize)
        return bad(err, what, at, "the archive is truncated inside a member");
    memcpy(m->name, f.name, strlen(f.name) + 1);
    m->size = msize;
    m->data_off = data;
    m->mtime = (int64_t)(mtime > INT64_MAX ? INT64_MAX : mtime);
    *off = data + msize + sl_tar_padding(msize);
    return 1;
}
