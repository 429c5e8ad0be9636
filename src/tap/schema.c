/* tap/schema.c: see schema.h. The order of the tests in classify() is pipelinewise's: it
 * decides, for instance, that an enum is a string before its name is looked at. */
#include "tap/schema.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef enum {
    K_UNSUPPORTED,   /* {} */
    K_INTEGER,       /* integer with minimum and maximum from the bits */
    K_STRING,        /* string */
    K_STRING_LIMIT,  /* string with maxLength when the type has a length */
    K_BOOLEAN,
    K_HSTORE,        /* object with empty properties */
    K_JSON,          /* object or array */
    K_NUMERIC,       /* number with bounds and multipleOf */
    K_FLOAT,         /* number */
    K_TIME,          /* string, format time */
    K_DATETIME,      /* string, format date-time */
    K_ARRAY,         /* array of a recursive definition */
} kind;

static const char *const string_types[] = {
    "money", "uuid", "citext", "text", "cidr", "inet", "macaddr",
};

static bool
in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

#define IN(s, ...) \
    in_list((s), (const char *const[]){__VA_ARGS__}, \
            sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

/* The lowercased type name without "[]", as pipelinewise compares it. */
static void
base_name(const char *sql_type, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = sql_type; *p && o + 1 < cap; p++) {
        if (p[0] == '[' && p[1] == ']') {
            p++;
            continue;
        }
        out[o++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    }
    out[o] = '\0';
}

static kind
classify(const sl_tap_column *c)
{
    if (c->is_array)
        return K_ARRAY;
    char t[128];
    base_name(c->sql_type, t, sizeof t);
    if (IN(t, "integer", "smallint", "bigint"))
        return c->has_precision && c->precision >= 1 && c->precision <= 64 ? K_INTEGER
                                                                            : K_UNSUPPORTED;
    if (strcmp(t, "money") == 0 || c->is_enum)
        return K_STRING;
    if (strcmp(t, "bit") == 0 && c->has_char_max_length && c->char_max_length == 1)
        return K_BOOLEAN;
    if (strcmp(t, "boolean") == 0)
        return K_BOOLEAN;
    if (strcmp(t, "hstore") == 0)
        return K_HSTORE;
    if (IN(t, "json", "jsonb"))
        return K_JSON;
    if (strcmp(t, "numeric") == 0)
        return K_NUMERIC;
    if (IN(t, "time without time zone", "time with time zone"))
        return K_TIME;
    if (IN(t, "date", "timestamp without time zone", "timestamp with time zone"))
        return K_DATETIME;
    if (IN(t, "real", "double precision"))
        return K_FLOAT;
    if (IN(t, "character varying", "character"))
        return K_STRING_LIMIT;
    if (in_list(t, string_types, sizeof string_types / sizeof string_types[0]))
        return K_STRING;
    return K_UNSUPPORTED;
}

bool
sl_tap_schema_supported(const sl_tap_column *c)
{
    return classify(c) != K_UNSUPPORTED;
}

const char *
sl_tap_schema_inclusion(const sl_tap_column *c)
{
    if (!sl_tap_schema_supported(c))
        return "unsupported";
    return c->primary_key ? "automatic" : "available";
}

void
sl_tap_schema_pow10(sl_buf *out, int64_t e, bool negative)
{
    if (negative)
        sl_buf_putc(out, '-');
    if (e >= 0) {
        sl_buf_putc(out, '1');
        for (int64_t i = 0; i < e; i++)
            sl_buf_putc(out, '0');
    } else if (e >= -4) {
        /* Python's repr() of a float writes 0.0001 in full and 1e-05 with an exponent */
        sl_buf_puts(out, "0.");
        for (int64_t i = -1; i > e; i--)
            sl_buf_putc(out, '0');
        sl_buf_putc(out, '1');
    } else {
        sl_buf_printf(out, "1e-%02" PRId64, -e);
    }
}

/* A number this module spells itself (bounds, powers of ten): always a JSON number, which the
 * unit test checks; the writer would refuse anything else. */
static void
write_number(sl_jsonw *w, const char *text)
{
    int rc = sl_jsonw_number(w, text, strlen(text));
    assert(rc == 0);
    (void)rc;
}

static void
raw_pow10(sl_jsonw *w, int64_t e, bool negative)
{
    sl_buf text = SL_BUF_INIT;
    sl_tap_schema_pow10(&text, e, negative);
    write_number(w, text.data);
    sl_buf_free(&text);
}

static int64_t
numeric_precision(const sl_tap_column *c)
{
    if (!c->has_precision || c->precision > SL_TAP_NUMERIC_MAX_PRECISION)
        return SL_TAP_NUMERIC_MAX_PRECISION;
    return c->precision;
}

static int64_t
numeric_scale(const sl_tap_column *c)
{
    if (!c->has_scale || c->scale > SL_TAP_NUMERIC_MAX_SCALE)
        return SL_TAP_NUMERIC_MAX_SCALE;
    return c->scale;
}

/* "type": [name] for a primary key, ["null", name] otherwise; second may be NULL. */
static void
write_type(sl_jsonw *w, const sl_tap_column *c, const char *name, const char *second)
{
    sl_jsonw_keyz(w, "type");
    sl_jsonw_array_begin(w);
    if (!c->primary_key)
        sl_jsonw_stringz(w, "null");
    sl_jsonw_stringz(w, name);
    if (second)
        sl_jsonw_stringz(w, second);
    sl_jsonw_array_end(w);
}

static void
write_integer_bounds(sl_jsonw *w, int64_t bits)
{
    uint64_t max = ((uint64_t)1 << (bits - 1)) - 1;
    char text[32];
    snprintf(text, sizeof text, "-%" PRIu64, max + 1);
    sl_jsonw_keyz(w, "minimum");
    write_number(w, text);
    snprintf(text, sizeof text, "%" PRIu64, max);
    sl_jsonw_keyz(w, "maximum");
    write_number(w, text);
}

static void
write_numeric_bounds(sl_jsonw *w, const sl_tap_column *c)
{
    int64_t p = numeric_precision(c), s = numeric_scale(c);
    sl_jsonw_keyz(w, "exclusiveMaximum");
    sl_jsonw_bool(w, true);
    sl_jsonw_keyz(w, "maximum");
    raw_pow10(w, p - s, false);
    sl_jsonw_keyz(w, "multipleOf");
    raw_pow10(w, -s, false);
    sl_jsonw_keyz(w, "exclusiveMinimum");
    sl_jsonw_bool(w, true);
    sl_jsonw_keyz(w, "minimum");
    raw_pow10(w, p - s, true);
}

/* The recursive definition an array's items refer to. */
static void
array_definition(sl_buf *out, const sl_tap_column *c)
{
    static const struct {
        const char *sql_type;
        const char *def;
    } arrays[] = {
        {"integer[]", "integer"},
        {"bigint[]", "integer"},
        {"smallint[]", "integer"},
        {"bit[]", "boolean"},
        {"boolean[]", "boolean"},
        {"date[]", "timestamp"},
        {"timestamp without time zone[]", "timestamp"},
        {"timestamp with time zone[]", "timestamp"},
        {"double precision[]", "number"},
        {"real[]", "number"},
        {"hstore[]", "object"},
        {"json[]", "object"},
        {"jsonb[]", "object"},
    };
    if (strcmp(c->sql_type, "numeric[]") == 0) {
        sl_buf_printf(out, "sdc_recursive_decimal_%" PRId64 "_%" PRId64 "_array",
                      numeric_precision(c), numeric_scale(c));
        return;
    }
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) {
        if (strcmp(c->sql_type, arrays[i].sql_type) == 0) {
            sl_buf_printf(out, "sdc_recursive_%s_array", arrays[i].def);
            return;
        }
    }
    /* text, varchar, uuid, inet, money, time, enums and every other element type */
    sl_buf_puts(out, "sdc_recursive_string_array");
}

static void
write_ref(sl_jsonw *w, const char *definition)
{
    sl_buf ref = SL_BUF_INIT;
    sl_buf_printf(&ref, "#/definitions/%s", definition);
    sl_jsonw_object_begin(w);
    sl_jsonw_keyz(w, "$ref");
    sl_jsonw_stringz(w, ref.data);
    sl_jsonw_object_end(w);
    sl_buf_free(&ref);
}

static void
write_array(sl_jsonw *w, const sl_tap_column *c)
{
    sl_jsonw_keyz(w, "type");
    sl_jsonw_array_begin(w);
    sl_jsonw_stringz(w, "null");
    sl_jsonw_stringz(w, "array");
    sl_jsonw_array_end(w);
    sl_buf def = SL_BUF_INIT;
    array_definition(&def, c);
    sl_jsonw_keyz(w, "items");
    write_ref(w, def.data);
    sl_buf_free(&def);
}

void
sl_tap_schema_write(sl_jsonw *w, const sl_tap_column *c)
{
    sl_jsonw_object_begin(w);
    switch (classify(c)) {
    case K_UNSUPPORTED:
        break;
    case K_INTEGER:
        write_type(w, c, "integer", NULL);
        write_integer_bounds(w, c->precision);
        break;
    case K_STRING:
        write_type(w, c, "string", NULL);
        break;
    case K_STRING_LIMIT:
        write_type(w, c, "string", NULL);
        if (c->has_char_max_length && c->char_max_length != 0) {
            sl_jsonw_keyz(w, "maxLength");
            sl_jsonw_int(w, c->char_max_length);
        }
        break;
    case K_BOOLEAN:
        write_type(w, c, "boolean", NULL);
        break;
    case K_HSTORE:
        write_type(w, c, "object", NULL);
        sl_jsonw_keyz(w, "properties");
        sl_jsonw_object_begin(w);
        sl_jsonw_object_end(w);
        break;
    case K_JSON:
        write_type(w, c, "object", "array");
        break;
    case K_NUMERIC:
        write_type(w, c, "number", NULL);
        write_numeric_bounds(w, c);
        break;
    case K_FLOAT:
        write_type(w, c, "number", NULL);
        break;
    case K_TIME:
    case K_DATETIME:
        write_type(w, c, "string", NULL);
        sl_jsonw_keyz(w, "format");
        sl_jsonw_stringz(w, classify(c) == K_TIME ? "time" : "date-time");
        break;
    case K_ARRAY:
        write_array(w, c);
        break;
    }
    sl_jsonw_object_end(w);
}

void
sl_tap_schema_sql_datatype(sl_buf *out, const sl_tap_column *c)
{
    if (strcmp(c->sql_type, "bit") == 0 && c->has_char_max_length && c->char_max_length > 1)
        sl_buf_printf(out, "bit(%" PRId64 ")", c->char_max_length);
    else
        sl_buf_puts(out, c->sql_type);
}

/* {"type": ["null", scalar, "array"], ["format": ...,] "items": {"$ref": itself}} */
static void
write_recursive(sl_jsonw *w, const char *name, const char *scalar, const char *format)
{
    sl_buf def = SL_BUF_INIT;
    sl_buf_printf(&def, "sdc_recursive_%s_array", name);
    sl_jsonw_keyz(w, def.data);
    sl_jsonw_object_begin(w);
    sl_jsonw_keyz(w, "type");
    sl_jsonw_array_begin(w);
    sl_jsonw_stringz(w, "null");
    sl_jsonw_stringz(w, scalar);
    sl_jsonw_stringz(w, "array");
    sl_jsonw_array_end(w);
    if (format) {
        sl_jsonw_keyz(w, "format");
        sl_jsonw_stringz(w, format);
    }
    sl_jsonw_keyz(w, "items");
    write_ref(w, def.data);
    sl_jsonw_object_end(w);
    sl_buf_free(&def);
}

static void
write_decimal_definition(sl_jsonw *w, const sl_tap_column *c, const char *name)
{
    int64_t p = numeric_precision(c), s = numeric_scale(c);
    sl_jsonw_keyz(w, name);
    sl_jsonw_object_begin(w);
    sl_jsonw_keyz(w, "type");
    sl_jsonw_array_begin(w);
    sl_jsonw_stringz(w, "null");
    sl_jsonw_stringz(w, "number");
    sl_jsonw_stringz(w, "array");
    sl_jsonw_array_end(w);
    sl_jsonw_keyz(w, "multipleOf");
    raw_pow10(w, -s, false);
    sl_jsonw_keyz(w, "exclusiveMaximum");
    sl_jsonw_bool(w, true);
    sl_jsonw_keyz(w, "maximum");
    raw_pow10(w, p - s, false);
    sl_jsonw_keyz(w, "exclusiveMinimum");
    sl_jsonw_bool(w, true);
    sl_jsonw_keyz(w, "minimum");
    raw_pow10(w, p - s, true);
    sl_jsonw_keyz(w, "items");
    write_ref(w, name);
    sl_jsonw_object_end(w);
}

/* Whether an earlier numeric[] column has the same precision and scale (one definition). */
static bool
decimal_seen(const sl_tap_column *cols, size_t upto, const sl_tap_column *c)
{
    for (size_t i = 0; i < upto; i++)
        if (strcmp(cols[i].sql_type, "numeric[]") == 0 &&
            numeric_precision(&cols[i]) == numeric_precision(c) &&
            numeric_scale(&cols[i]) == numeric_scale(c))
            return true;
    return false;
}

void
sl_tap_schema_definitions(sl_jsonw *w, const sl_tap_column *cols, size_t n)
{
    sl_jsonw_object_begin(w);
    write_recursive(w, "integer", "integer", NULL);
    write_recursive(w, "number", "number", NULL);
    write_recursive(w, "string", "string", NULL);
    write_recursive(w, "boolean", "boolean", NULL);
    write_recursive(w, "timestamp", "string", "date-time");
    write_recursive(w, "object", "object", NULL);
    for (size_t i = 0; i < n; i++) {
        const sl_tap_column *c = &cols[i];
        if (strcmp(c->sql_type, "numeric[]") != 0 || decimal_seen(cols, i, c))
            continue;
        sl_buf name = SL_BUF_INIT;
        array_definition(&name, c);
        write_decimal_definition(w, c, name.data);
        sl_buf_free(&name);
    }
    sl_jsonw_object_end(w);
}
