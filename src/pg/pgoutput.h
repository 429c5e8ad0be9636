/* pg/pgoutput.h: the messages of PostgreSQL's built-in logical decoding plugin, pgoutput, in
 * its protocol version 1 ("Logical Replication Message Formats" in the server's docs), read
 * from the XLogData payloads of pg/replication.h.
 *
 * Messages: B (begin: final LSN, commit time, xid), C (commit: flags, commit LSN, end LSN,
 * commit time), R (relation: id, namespace, name, replica identity, columns with their key
 * flag, type OID and typmod), I (insert: relation id, new tuple), U (update: relation id, an
 * optional old tuple K (its replica identity key) or O (the whole old row), new tuple), D
 * (delete: relation id, old tuple K or O). A tuple is a column count and per column n (null),
 * u (an unchanged value stored out of line, not sent) or t (a 32-bit length and the value's
 * output text). Type (Y), origin (O) and truncate (T) messages are reported as skipped.
 * Relations: the decoder keeps every relation message it has read (a later one with the same
 * id replaces it); a change names its relation by id, and a change of an id never described,
 * or whose tuple has another column count than its relation, is an error.
 * Hostile input: every count and length is bounded by what is left of the message; a message
 * that ends early, has bytes left over or an unknown type is SL_E_SERVER, never a read past
 * its end.
 * Ownership: what a decoded message points to (relation, tuple values, their text inside the
 * data given) is valid until the next decode, or until the data is freed. */
#ifndef SL_PG_PGOUTPUT_H
#define SL_PG_PGOUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "pg/replication.h"

typedef struct sl_pgoutput_column {
    char *name;
    bool key;            /* part of the replica identity */
    uint32_t type;       /* pg_type OID */
    int32_t typmod;
} sl_pgoutput_column;

typedef struct sl_pgoutput_relation {
    uint32_t id;
    char *schema;
    char *name;
    char replident;      /* d, n, f or i */
    size_t ncols;
    sl_pgoutput_column *cols;
} sl_pgoutput_relation;

typedef struct sl_pgoutput_value {
    char kind;           /* 'n' null, 'u' unchanged (not sent), 't' text */
    const char *text;    /* 't': len bytes, not NUL-terminated */
    size_t len;
} sl_pgoutput_value;

typedef struct sl_pgoutput_msg {
    char type;           /* 'B', 'C', 'R', 'I', 'U', 'D'; 0: a message to skip */
    sl_lsn lsn;          /* B: the transaction's final LSN; C: the end of its commit */
    int64_t commit_time; /* B, C: microseconds since 2000-01-01 00:00 UTC */
    uint32_t xid;        /* B */
    const sl_pgoutput_relation *rel;  /* R, I, U, D */
    char old_kind;       /* U, D: 'K' or 'O' when old is set; 0 otherwise */
    const sl_pgoutput_value *old;     /* rel->ncols values or NULL */
    const sl_pgoutput_value *new_row; /* I, U: rel->ncols values */
} sl_pgoutput_msg;

typedef struct sl_pgoutput sl_pgoutput;

sl_pgoutput *sl_pgoutput_new(void);
void sl_pgoutput_free(sl_pgoutput *d);
SL_MUSTCHECK int sl_pgoutput_decode(sl_pgoutput *d, const char *data, size_t len,
                                    sl_pgoutput_msg *out, sl_error *err);

#endif
