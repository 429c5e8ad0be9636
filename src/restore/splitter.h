/* restore/splitter.h: cuts a stream of SQL script text (a pg_dump -Fp script or a sluice backup
 * segment) into what psql would execute: SQL statements, COPY data, and meta-commands.
 *
 * Input arrives in arbitrary chunks (a boundary may fall inside a multi-byte character, a `$$`,
 * a `--`, a CRLF or a `\.`); the items that come out are the same whatever the chunking.
 * The lexing follows psql's: single-quoted strings ('' escapes; standard_conforming_strings on,
 * as pg_dump sets it), E'' strings (backslash escapes), double-quoted identifiers, dollar quotes
 * ($$, $tag$; $1 is a parameter), -- and nested slash-star comments, parentheses (a `;` inside
 * them does not end a statement), and BEGIN ... END bodies of CREATE FUNCTION/PROCEDURE (BEGIN
 * ATOMIC; CASE ... END nests inside). A backslash outside quotes before any statement text starts
 * a meta-command that runs to the end of its line (`\connect db`, `\restrict KEY`, ...).
 * After `COPY ... FROM stdin;` the following lines are COPY data up to a line holding only `\.`.
 *
 * Calling order: sl_splitter_new() -> { sl_splitter_feed() -> sl_splitter_next() until it
 *   returns 0 }* -> sl_splitter_finish() -> sl_splitter_next() until 0 -> sl_splitter_free().
 *   _next() returns 1 with an item, 0 when it needs more input (or, after _finish(), when the
 *   script is complete), -1 on error (err set; the splitter is then unusable).
 * Ownership: fed bytes are borrowed until _next() returns 0; they must not change until then.
 *   An item's text belongs to the splitter and stays valid until the next call to _next().
 * Memory: a statement is accumulated whole, up to opts.max_statement bytes; COPY data is never
 *   accumulated: each COPY_DATA item points into the fed chunk (at most max_copy_chunk bytes),
 *   so memory is bounded by the longest statement whatever the size of a table. Splitters that
 *   run at the same time (a restore's -j connections) may share a budget: the bytes of each
 *   statement beyond its first SL_SPLITTER_BUDGET_FREE are counted in it, so together they hold
 *   at most the budget's limit plus SL_SPLITTER_BUDGET_FREE per splitter.
 * Errors: SL_E_ARCHIVE naming the line: an unterminated quote/comment/COPY block at the end of
 *   the input, a statement over the size limit or the shared budget (naming its line, its
 *   offset and restore's --max-statement-size flag), a backslash command inside a statement,
 *   text after `COPY ... FROM stdin;` on the same line, a NUL byte outside COPY data (libpq
 *   and psql would cut the statement there). */
#ifndef SL_RESTORE_SPLITTER_H
#define SL_RESTORE_SPLITTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* The default statement limit. COPY data is streamed and does not count, so the statements
 * that come near it are rare: sluice's own backups write none over 128 KiB (large values go as
 * COPY data, large objects in 64 KiB pieces), pg_dump -Fp none but function bodies and, with
 * --inserts, one row per INSERT. 16 MiB holds any function body and an --inserts row of 8 MB
 * of bytea (hex doubles it), while a hostile script (an unterminated quote in every parallel
 * segment) costs at most 16 MiB for all connections: with the rest of a restore (about 12 MB
 * of code and buffers, and 2 to 3 MB per connection) that stays well under 64 MB at -j 4. The
 * flag --max-statement-size raises it up to the server's own limit of 1 GiB. */
#define SL_SPLITTER_MAX_STATEMENT ((size_t)16 << 20)
#define SL_SPLITTER_BUDGET_FREE ((size_t)256 << 10)  /* of each statement, not counted */
/* 64 KiB per COPY_DATA item: each item becomes one CopyData message, which the server copies
 * whole into its message buffer before it parses the rows; a message of the size of its raw
 * read buffer (64 KiB) is parsed while still in the core's cache, where 256 KiB messages cost
 * the server measurably more CPU per row (bench/restore.py, server CPU seconds). */
#define SL_SPLITTER_COPY_CHUNK ((size_t)1 << 16)
#define SL_SPLITTER_MAX_META ((size_t)1 << 16)       /* a meta-command line */

typedef enum {
    SL_SPLIT_STATEMENT,  /* SQL text up to and including its `;` (no `;` for a last statement
                          * that ends the input without one) */
    SL_SPLIT_COPY_DATA,  /* raw COPY data bytes (any boundaries, whole lines not guaranteed) */
    SL_SPLIT_COPY_END,   /* the `\.` line that ends the COPY data (text is empty) */
    SL_SPLIT_META,       /* a backslash command line, without its line ending */
} sl_split_kind;

typedef struct sl_split_item {
    sl_split_kind kind;
    const char *text;  /* not NUL-terminated for COPY_DATA; NUL-terminated otherwise */
    size_t len;
    uint64_t line;     /* 1-based line of the input where the item starts */
    uint64_t offset;   /* byte offset of the input where the item starts */
    bool copy_in;      /* STATEMENT: a COPY ... FROM STDIN (COPY_DATA items follow) */
} sl_split_item;

/* A statement memory budget shared by splitters in several threads (see Memory above). */
typedef struct sl_splitter_budget sl_splitter_budget;
sl_splitter_budget *sl_splitter_budget_new(size_t limit);
/* Only once no splitter that uses it is left. Accepts NULL. */
void sl_splitter_budget_free(sl_splitter_budget *b);

typedef struct sl_splitter_opts {
    size_t max_statement;   /* 0: SL_SPLITTER_MAX_STATEMENT */
    size_t max_copy_chunk;  /* 0: SL_SPLITTER_COPY_CHUNK */
    sl_splitter_budget *budget;  /* NULL: none; borrowed, must outlive the splitter */
} sl_splitter_opts;
#define SL_SPLITTER_OPTS(...) (&(sl_splitter_opts){__VA_ARGS__})

typedef struct sl_splitter sl_splitter;

/* opts may be NULL for the defaults. */
sl_splitter *sl_splitter_new(const sl_splitter_opts *opts);
void sl_splitter_free(sl_splitter *s);
/* Hands over the next len bytes of input; call only after _next() returned 0. */
void sl_splitter_feed(sl_splitter *s, const void *data, size_t len);
/* Marks the end of the input. */
void sl_splitter_finish(sl_splitter *s);
SL_MUSTCHECK int sl_splitter_next(sl_splitter *s, sl_split_item *item, sl_error *err);
/* Line and byte offset the splitter has reached (for messages about truncated input). */
uint64_t sl_splitter_line(const sl_splitter *s);
uint64_t sl_splitter_offset(const sl_splitter *s);

/* Splits a meta-command line ("\connect -reuse-previous=on \"dbname='x'\"") into its name
 * ("connect") and its first argument with psql's quoting removed; for \connect a
 * "dbname=VALUE" conninfo argument yields VALUE. *name and *arg are malloc'd (arg may be NULL
 * when there is none). Returns -1 with SL_E_ARCHIVE for a malformed line. */
SL_MUSTCHECK int sl_splitter_parse_meta(const char *line, char **name, char **arg, sl_error *err);

#endif
