/* restore/toc.h: a pg_dump archive's table of contents (io/pgarchive.h) as restore work: which
 * entries a restore takes, in which pass, and the SQL text each one runs -- what pg_restore
 * sends to the server for the same archive and options.
 * Selection (sl_toc_plan_make), as pg_restore decides it: ENCODING, STDSTRINGS and SEARCHPATH
 *   entries set the session (the plan's preamble, with pg_restore's fixed settings);
 *   DATABASE and DATABASE PROPERTIES entries are not restored (the target database is made by
 *   restore --create); --schema-only / --data-only by section (SEQUENCE SET, BLOB and large
 *   objects' ACLs and comments are data; a data-only restore also refreshes materialized
 *   views, which pg_restore leaves unpopulated); -n/-N by the entry's schema, -t by table
 *   name (psql patterns, "schema.table" allowed: a superset of pg_restore's exact names) taking
 *   only tables, views, sequences and their data; ACLs, comments and security labels follow the
 *   object they depend on when anything is selected; --no-privileges drops ACL entries,
 *   --no-comments COMMENT entries.
 * Passes: main, then ACLs (ACL, DEFAULT ACL), then what must follow them (materialized view
 *   data, event triggers and their comments), as pg_restore orders them.
 * Text (sl_toc_text_*): for each entry, SET default_tablespace / default_table_access_method
 *   when the entry names them, its definition, ALTER ... OWNER TO its owner (not with
 *   --no-owner); for TABLE DATA the COPY statement and the data streamed from the archive
 *   (ended by "\." when the data does not end so); for BLOBS, BEGIN, each large object opened,
 *   written in bytea chunks and closed, COMMIT (not inside --single-transaction).
 *   Identifiers are quoted by libpq on the connection the text runs on.
 * Ownership: the plan borrows the archive (keep it open); a text stream belongs to one thread.
 * Errors: -1 with err set (SL_E_USAGE for a bad pattern, SL_E_ARCHIVE from the archive). */
#ifndef SL_RESTORE_TOC_H
#define SL_RESTORE_TOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "io/pgarchive.h"
#include "pg/conn.h"

typedef struct sl_toc_opts {
    const char *const *schemas;          /* -n: NULL-terminated psql patterns, or NULL */
    const char *const *exclude_schemas;  /* -N */
    const char *const *tables;           /* -t */
    bool schema_only;
    bool data_only;
    bool no_owner;
    bool no_privileges;
    bool no_comments;
    bool single_transaction;             /* BLOBS run inside the caller's transaction */
} sl_toc_opts;

typedef enum {
    SL_TOC_PASS_MAIN,
    SL_TOC_PASS_ACL,
    SL_TOC_PASS_POST_ACL,
} sl_toc_pass;

/* One entry the restore takes. */
typedef struct sl_toc_item {
    const sl_pgarchive_entry *e;
    bool schema;        /* its definition runs */
    bool data;          /* its data runs (TABLE DATA, BLOBS; SEQUENCE SET's definition) */
    sl_toc_pass pass;
    int section;        /* its section, or for SECTION_NONE (comments, ACLs...) the section
                         * of the entry before it, as pg_restore takes it */
    uint64_t weight;    /* a guess of its cost: bytes of data, or of definition */
} sl_toc_item;

typedef struct sl_toc_plan {
    sl_toc_item *items;  /* selected entries in TOC order */
    size_t n;
    sl_buf preamble;     /* session settings every connection runs first */
    /* The archived database's encoding, locale and tablespace, from its DATABASE entry, for
     * restore --create: NULL-terminated name/value pairs ("ENCODING", "UTF8", ...), or NULL. */
    char **create_with;
    const sl_pgarchive *archive;
    bool *taken;         /* per archive entry (sl_pgarchive_at's index): in items */
} sl_toc_plan;

SL_MUSTCHECK int sl_toc_plan_make(const sl_pgarchive *a, const sl_toc_opts *o,
                                  sl_toc_plan *out, sl_error *err);
void sl_toc_plan_free(sl_toc_plan *p);

/* Does the entry at index i of the archive pass the selection (what "sluice list" shows with
 * the same options)? Needs a plan made with those options. */
bool sl_toc_plan_has(const sl_toc_plan *p, const sl_pgarchive_entry *e);

/* "TOC entry 215 (TABLE DATA public t)": the one way messages name an entry. Returns buf. */
const char *sl_toc_describe(const sl_pgarchive_entry *e, char *buf, size_t cap);

/* The SQL text of one item, streamed. */
typedef struct sl_toc_text sl_toc_text;
SL_MUSTCHECK int sl_toc_text_open(sl_toc_text **out, const sl_pgarchive *a,
                                  const sl_toc_item *it, const sl_toc_opts *o, sl_conn *c,
                                  sl_error *err);
/* 1 with a chunk (valid until the next call), 0 at the end, -1 on error. */
SL_MUSTCHECK int sl_toc_text_read(sl_toc_text *t, const char **data, size_t *len, sl_error *err);
void sl_toc_text_close(sl_toc_text *t);

#endif
