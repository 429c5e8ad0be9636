/* io/tarstream.c: a tar archive read as a stream (tarstream.h). */
#include "io/tarstream.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "io/tar.h"

typedef enum { HEADER, CONTENTS, LONGNAME, SKIP, END } state;

struct sl_tarstream {
    const sl_tarstream_ops *ops;
    void *ctx;
    state st;
    unsigned char block[SL_TAR_BLOCK];
    size_t have;          /* bytes of block filled (HEADER, END) */
    uint64_t left;        /* contents bytes left of the current entry */
    uint64_t pad;         /* padding after them */
    uint64_t pos;         /* decompressed bytes consumed: for messages */
    char type;            /* of the entry whose contents are read */
    char *longname;       /* LONGNAME: the pax or GNU record being read */
    size_t longlen;
    char *next_name;      /* what a pax/GNU header said the next member is called */
};

static int
bad(sl_tarstream *t, sl_error *err, const char *why)
{
    sl_error_set(err, SL_E_ARCHIVE, "tar stream: %s at byte %llu", why,
                 (unsigned long long)t->pos);
    return -1;
}

sl_tarstream *
sl_tarstream_new(const sl_tarstream_ops *ops, void *ctx)
{
    sl_tarstream *t = sl_calloc(1, sizeof *t);
    t->ops = ops;
    t->ctx = ctx;
    return t;
}

void
sl_tarstream_free(sl_tarstream *t)
{
    if (!t)
        return;
    free(t->longname);
    free(t->next_name);
    free(t);
}

/* The "path" record of a pax header ("LEN path=VALUE\n" records). */
static char *
pax_path(const char *rec, size_t len)
{
    size_t at = 0;
    while (at < len) {
        size_t n = 0, i = at;
        while (i < len && rec[i] >= '0' && rec[i] <= '9' && n < len)
            n = n * 10 + (size_t)(rec[i++] - '0');
        if (n == 0 || at + n > len || i >= len || rec[i] != ' ')
            return NULL;
        const char *kv = rec + i + 1;
        size_t kvlen = at + n - (i + 1);
        if (kvlen > 5 && memcmp(kv, "path=", 5) == 0 && kv[kvlen - 1] == '\n') {
            char *v = sl_malloc(kvlen - 5);
            memcpy(v, kv + 5, kvlen - 6);
            v[kvlen - 6] = '\0';
            return v;
        }
        at += n;
    }
    return NULL;
}

static int
start_entry(sl_tarstream *t, sl_error *err)
{
    sl_tar_fields f;
    const char *why = NULL;
    if (!sl_tar_fields_read(t->block, &f, &why))
        return bad(t, err, why);
    t->type = f.type;
    t->left = f.size;
    t->pad = sl_tar_padding(f.size);
    if (f.type == 'x' || f.type == 'L') {
        if (f.size > SL_TARSTREAM_NAME_MAX + 64)
            return bad(t, err, "a long-name or pax header is too large");
        free(t->longname);
        t->longname = sl_malloc((size_t)f.size + 1);
        t->longlen = 0;
        t->st = LONGNAME;
        return 0;
    }
    if (f.type == 'g' || f.type == '5') {
        t->st = SKIP;
        return 0;
    }
    if (f.type != '0' && f.type != '\0')
        return bad(t, err, "a member that is not a regular file or a directory");
    char *name = t->next_name ? t->next_name : sl_strdup(f.name);
    t->next_name = NULL;
    const char *shown = strncmp(name, "./", 2) == 0 ? name + 2 : name;
    int rc = t->ops->member(t->ctx, shown, f.size, err);
    free(name);
    if (rc != 0)
        return -1;
    t->st = CONTENTS;
    return 0;
}

/* A long-name record is complete: it names the next member. */
static int
end_longname(sl_tarstream *t, sl_error *err)
{
    t->longname[t->longlen] = '\0';
    char *name = t->type == 'L' ? sl_strdup(t->longname) : pax_path(t->longname, t->longlen);
    free(t->longname);
    t->longname = NULL;
    if (t->type == 'x' && !name)
        return 0;  /* a pax header without a path: nothing about the name */
    if (!name || !*name || strlen(name) > SL_TARSTREAM_NAME_MAX) {
        free(name);
        return bad(t, err, "a long member name that is empty or too long");
    }
    free(t->next_name);
    t->next_name = name;
    return 0;
}

/* Consumes contents, long names or skipped bytes, then the padding. */
static int
take_body(sl_tarstream *t, const unsigned char **p, size_t *n, sl_error *err)
{
    size_t k = t->left < *n ? (size_t)t->left : *n;
    if (k && t->st == CONTENTS && t->ops->data(t->ctx, *p, k, err) != 0)
        return -1;
    if (k && t->st == LONGNAME) {
        memcpy(t->longname + t->longlen, *p, k);
        t->longlen += k;
    }
    *p += k;
    *n -= k;
    t->left -= k;
    t->pos += k;
    size_t pad = t->pad < *n ? (size_t)t->pad : *n;
    *p += pad;
    *n -= pad;
    t->pad -= pad;
    t->pos += pad;
    if (t->left == 0 && t->pad == 0) {
        if (t->st == LONGNAME && end_longname(t, err) != 0)
            return -1;
        t->st = HEADER;
    }
    return 0;
}

int
sl_tarstream_feed(sl_tarstream *t, const void *data, size_t len, sl_error *err)
{
    const unsigned char *p = data;
    while (len > 0) {
        if (t->st == CONTENTS || t->st == LONGNAME || t->st == SKIP) {
            if (take_body(t, &p, &len, err) != 0)
                return -1;
            continue;
        }
        size_t k = SL_TAR_BLOCK - t->have < len ? SL_TAR_BLOCK - t->have : len;
        memcpy(t->block + t->have, p, k);
        t->have += k;
        p += k;
        len -= k;
        if (t->have < SL_TAR_BLOCK)
            break;
        t->have = 0;
        bool zero = sl_tar_block_is_zero(t->block);
        if (t->st == END && !zero)
            return bad(t, err, "data after the end of the archive");
        t->pos += SL_TAR_BLOCK;
        if (zero) {
            t->st = END;
            continue;
        }
        if (start_entry(t, err) != 0)
            return -1;
    }
    return 0;
}

int
sl_tarstream_finish(sl_tarstream *t, sl_error *err)
{
    if (t->st != END || t->have != 0)
        return bad(t, err, "the archive is truncated");
    return 0;
}
