/* tap/schema.h: a PostgreSQL column as a Singer stream describes it: its JSON Schema, its
 * "sql-datatype" metadata and its "inclusion". The mapping is pipelinewise-tap-postgres's
 * (discovery_utils.schema_for_column and friends), so that a catalog sluice discovers is the
 * one a pipelinewise user already has:
 *   - the type is recognised by its format_type(atttypid, NULL) name; a domain keeps its own
 *     name and so is unsupported like any type the table below does not know (an enum and an
 *     array are recognised by their category instead);
 *   - a non-array schema is "type": [the type] for a primary-key column, ["null", type]
 *     otherwise; an array is always ["null", "array"] with "items" pointing at one of the
 *     recursive definitions that sl_tap_schema_definitions() writes;
 *   - numeric without a precision or scale is capped at 100 digits, 38 after the point.
 * Pure: no I/O, no server. The column model is what sync reads too.
 * Ownership: an sl_tap_column borrows its strings. */
#ifndef SL_TAP_SCHEMA_H
#define SL_TAP_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/jsonw.h"

typedef struct sl_tap_column {
    const char *name;
    const char *sql_type;       /* format_type(atttypid, NULL): "integer", "numeric[]", "mood" */
    bool primary_key;
    bool is_array;              /* the type's category is 'A' */
    bool is_enum;               /* the type (or its element type) is an enum */
    bool has_char_max_length;   /* information_schema's character_maximum_length is not NULL */
    int64_t char_max_length;
    bool has_precision;         /* numeric_precision is not NULL */
    int64_t precision;          /* bits for integer types, digits for numeric */
    bool has_scale;             /* numeric_scale is not NULL */
    int64_t scale;              /* may be negative (numeric(3,-2)) */
    int value_kind;             /* how tap/value.c writes its values: sl_tap_value_prepare() */
} sl_tap_column;

/* numeric's caps when a column has no precision or scale, or a larger one. */
#define SL_TAP_NUMERIC_MAX_PRECISION 100
#define SL_TAP_NUMERIC_MAX_SCALE 38

/* Whether the column gets a schema with a "type" (otherwise its inclusion is "unsupported"). */
bool sl_tap_schema_supported(const sl_tap_column *c);
/* "automatic" (primary key), "available" or "unsupported". */
const char *sl_tap_schema_inclusion(const sl_tap_column *c);
/* Writes the column's JSON Schema (an object) as the next value of w. */
void sl_tap_schema_write(sl_jsonw *w, const sl_tap_column *c);
/* Appends the column's "sql-datatype": its sql_type, or "bit(N)" for a bit(N) with N > 1. */
void sl_tap_schema_sql_datatype(sl_buf *out, const sl_tap_column *c);
/* Writes a table's "definitions" object: the six recursive array schemas every stream has,
 * then one sdc_recursive_decimal_P_S_array per distinct numeric[] precision and scale. */
void sl_tap_schema_definitions(sl_jsonw *w, const sl_tap_column *cols, size_t n);
/* 10^e as Python writes it: an integer for e >= 0 ("1000"), a float otherwise ("0.01",
 * "1e-05"); negated ("-1000", "-1e-05") when negative is set. Appends to out. */
void sl_tap_schema_pow10(sl_buf *out, int64_t e, bool negative);

#endif
