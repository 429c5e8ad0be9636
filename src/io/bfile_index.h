/* io/bfile_index.h (internal to io/): reads a backup file's index (io/bfile.h) from its stored
 * bytes as they stream by, checking every entry as it comes: the framing (io/bfile_format.h),
 * the JSON (base/json_reader.h), the document's shape, and each entry against the file (its
 * sequence number, that segments tile the file from offset 0 to the index, that its phase is one
 * of SL_PHASE_* and not lower than the one before).
 * Memory is bounded by what is kept, never by the index's text: the reader runs two passes,
 * the first (keep false) checks everything and counts the entries and the bytes of their
 * strings; the second, given those counts, fills arrays of exactly that size (and fails if the
 * bytes changed in between). Strings of the JSON are at most SL__BFILE_INDEX_MAX_STRING bytes,
 * the header at most SL__BFILE_INDEX_MAX_HEADER fields; entries cost about 120 bytes each plus
 * their names and 16 bytes per pair of "tables" (each a pair of non-empty strings, 10 bytes of
 * JSON at least), so memory stays within twice the index's size.
 * Calling order: _new() -> _feed()* -> _finish() -> (second pass) _take() -> _free().
 * Errors: SL_E_ARCHIVE, "backup file \"PATH\" is corrupt: ..." naming the index's offset or
 * the entry and its segment's offset; "... has format N" for another format. */
#ifndef SL_IO_BFILE_INDEX_H
#define SL_IO_BFILE_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "io/bfile.h"

#define SL__BFILE_INDEX_MAX_STRING SL_BFILE_NAME_MAX
#define SL__BFILE_INDEX_MAX_HEADER 32

typedef struct sl__bfile_index_opts {
    const char *path;        /* for messages */
    sl_codec_kind codec;     /* the file's: its framing, and what the index must say */
    uint64_t index_offset;   /* where the index starts (the segments end there) */
    uint64_t index_length;   /* its stored bytes */
    bool keep;               /* second pass: keep the entries and the header */
    size_t capacity;         /* ... that many entries (the first pass's count) */
    size_t string_bytes;     /* ... and that many bytes of their strings */
    size_t table_count;      /* ... and that many "tables" pairs */
} sl__bfile_index_opts;

/* The header's fields (string values; NULL for a null one). */
typedef struct sl__bfile_field {
    char *key;
    char *value;
} sl__bfile_field;

typedef struct sl__bfile_index sl__bfile_index;

sl__bfile_index *sl__bfile_index_new(const sl__bfile_index_opts *opts);
void sl__bfile_index_free(sl__bfile_index *x);
/* Stored bytes of the index, in order. */
SL_MUSTCHECK int sl__bfile_index_feed(sl__bfile_index *x, const unsigned char *p, size_t n,
                                      sl_error *err);
/* After the last byte: the index is complete and consistent. */
SL_MUSTCHECK int sl__bfile_index_finish(sl__bfile_index *x, sl_error *err);
size_t sl__bfile_index_count(const sl__bfile_index *x);
size_t sl__bfile_index_string_bytes(const sl__bfile_index *x);
size_t sl__bfile_index_table_count(const sl__bfile_index *x);
/* Moves out what the second pass kept: the entries (their strings point into *strings, their
 * tables into *tables), and the header's fields. Each is one allocation for free(); the
 * fields' strings are their own. */
void sl__bfile_index_take(sl__bfile_index *x, sl_bfile_entry **entries, char **strings,
                          sl_bfile_table **tables, sl__bfile_field **fields, size_t *nfields);

#endif
