/* tap/value.c: see value.h. The rules, type by type. pipelinewise-tap-postgres (FULL_TABLE and
 * INCREMENTAL) reads rows with psycopg2 2.9 (its type registrations: json and jsonb as text,
 * hstore, arrays of bit, uuid, money, citext and enums as lists of strings), turns each value
 * into a Python object, cleans it in selected_value_to_singer_value_impl() and writes the
 * message with simplejson (use_decimal). What it writes is therefore what psycopg2's
 * typecasters and Python's str(), isoformat() and repr() make of the server's text; each rule
 * below reproduces that from the text COPY sends in the session sl_tap_value_session_sql() sets
 * up (DateStyle ISO, TimeZone UTC, extra_float_digits 3, client_encoding UTF8). Checked value by
 * value against psycopg2 2.9.5 and Python 3.11 on PostgreSQL 15. Strings are the same JSON
 * values; simplejson spells non-ASCII characters as \u and four hex digits where sluice's
 * writer keeps UTF-8.
 *
 *   smallint, integer, bigint   the integer ("-5").
 *   numeric                     Python's str(Decimal(text)): the text as the server prints it,
 *                               except that a value whose first significant digit lies below
 *                               10^-6 is in scientific notation ("1.5E-7", and "0E-8" for a
 *                               zero of scale 8). NaN is null (pipelinewise's own rule).
 *                               +-Infinity (PostgreSQL 14+) is null too: pipelinewise would
 *                               write the bare token Infinity, which is not JSON.
 *   real, double precision      Python's repr() of the float: the server's shortest exact
 *                               digits laid out as repr does (fixed notation with ".0" for
 *                               integers when the decimal exponent is in [-4, 16), otherwise
 *                               "1e+16", "1.5e-05"); "-0.0"; NaN and +-Infinity are null.
 *   boolean                     true or false.
 *   bit(1)                      true when the text is "1" (pipelinewise compares with '1').
 *   character varying, character (blank-padded as stored), text, citext, uuid, inet, cidr,
 *   macaddr, enums              the text as a string.
 *   money                       the text as the server prints it (lc_monetary): "$1,000.00".
 *   date                        "YYYY-MM-DDT00:00:00+00:00"; infinity is 9999-12-31 and
 *                               -infinity 0001-01-01 (psycopg2's date.max and date.min; in an
 *                               array psycopg2 fails on them, sluice writes the same); a date
 *                               BC or after 9999 is an error: Python's date cannot hold it,
 *                               psycopg2 raises and pipelinewise stops there.
 *   timestamp [with time zone]  pipelinewise selects it through "CASE WHEN v < '0001-01-01
 *                               00:00:00.000' OR v > '9999-12-31 23:59:59.999' THEN
 *                               '9999-12-31 23:59:59.999' ELSE v END", so infinities, dates BC,
 *                               years after 9999 and the last millisecond of 9999 become
 *                               "9999-12-31T23:59:59.999000+00:00" (done here on the text);
 *                               others are isoformat() plus "+00:00" for timestamp, isoformat()
 *                               of the UTC value for timestamptz: "YYYY-MM-DDTHH:MM:SS", then
 *                               ".ffffff" (always 6 digits) unless the microseconds are 0, then
 *                               "+00:00". pipelinewise's session keeps the server's TimeZone and
 *                               so writes a timestamptz with the server's offset; sluice pins UTC
 *                               (the same instant, as pipelinewise writes it on a UTC server).
 *   time                        str(time): "HH:MM:SS" or "HH:MM:SS.ffffff"; 24:00:00 is
 *                               "00:00:00" (pipelinewise's own rule).
 *   time with time zone         the time converted to UTC, without an offset: "HH:MM:SS"
 *                               (24 as hour read as 0; an offset's seconds count). With a
 *                               fraction pipelinewise fails (its strptime format has none);
 *                               sluice keeps ".ffffff".
 *   NULL                        null; [] for an array (sl_tap_value_write_null()).
 *   arrays                      nested lists of the elements, each by its type's rule above
 *                               (NULL elements null); see "arrays" below for the exceptions.
 *   json, jsonb                 the document json.loads() reads: see "json and jsonb" below.
 *   hstore                      an object of strings and nulls, in the text's order.
 *   any other type (interval, bytea, bit(n), xml, geometric types, ...) has no schema type in
 *   the catalog, so no stream selects it; written as its text.
 * Errors: text that does not parse as its type's output is SL_E_SERVER naming the column; a
 * value pipelinewise cannot emit (above) is SL_E_UNSUPPORTED naming the column.
 *
 * LOG_BASED replication (not done here) converts differently in pipelinewise, from wal2json's
 * text: timestamps past 9999 or BC become "9999-12-31T23:59:59.999+00:00" (3 digits), dates go
 * through dateutil, numeric NaN stays (Decimal('NaN')), timetz offsets are "+HH" plus "00",
 * hstore and arrays are converted by a query to the server (arrays of dates, times, timestamps,
 * numerics, uuids and json cast to text[] first, bit[] to boolean[]). */
#include "tap/value.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"

/* What a column's values are written as, decided once per column by its type name. */
enum {
    VK_UNPREPARED = 0,  /* sl_tap_value_prepare() not called: decided per value */
    VK_TEXT,            /* the text as a string */
    VK_INTEGER,
    VK_NUMERIC,
    VK_FLOAT,
    VK_BOOLEAN,
    VK_BIT,             /* "1" is true */
    VK_DATE,
    VK_TIME,
    VK_TIMETZ,
    VK_TIMESTAMP,       /* timestamp and timestamptz: the text is UTC in both */
    VK_JSON,            /* json: the document, as json.loads() reads it */
    VK_JSONB,           /* jsonb: the same, with keys the server made unique */
    VK_HSTORE,          /* an object of strings and nulls */
    VK_KIND_MASK = 0xff,
    VK_SEMICOLON = 0x100, /* an array whose elements are separated by ';' (box[]) */
};

/* The nesting pipelinewise's json.loads() reaches before Python's recursion limit (1000
 * frames, a few of which the tap itself uses). */
#define JSON_MAX_DEPTH 990
/* PostgreSQL's MAXDIM. */
#define ARRAY_MAX_DIMS 6

const char *
sl_tap_value_session_sql(void)
{
    return "SET DateStyle = 'ISO, MDY'; SET IntervalStyle = 'postgres'; SET TimeZone = 'UTC'; "
           "SET extra_float_digits = 3; SET bytea_output = 'hex'; "
           "SET client_encoding = 'UTF8'";
}

void
sl_tap_value_select(sl_buf *sql, const sl_tap_column *c, const char *quoted_name)
{
    (void)c;
    sl_buf_puts(sql, "t.");
    sl_buf_puts(sql, quoted_name);
}

/* Does sql_type, without a trailing "[]", equal name? */
static bool
type_is(const char *sql_type, size_t len, const char *name)
{
    return strlen(name) == len && memcmp(sql_type, name, len) == 0;
}

static int
kind_of(const sl_tap_column *c)
{
    const char *t = c->sql_type ? c->sql_type : "";
    size_t len = strlen(t);
    if (c->is_array && len >= 2 && strcmp(t + len - 2, "[]") == 0)
        len -= 2;
    if (c->is_enum)
        return VK_TEXT;
    if (type_is(t, len, "integer") || type_is(t, len, "smallint") || type_is(t, len, "bigint"))
        return VK_INTEGER;
    if (type_is(t, len, "numeric"))
        return VK_NUMERIC;
    if (type_is(t, len, "real") || type_is(t, len, "double precision"))
        return VK_FLOAT;
    if (type_is(t, len, "boolean"))
        return VK_BOOLEAN;
    /* bit(n > 1) has no schema type; in an array, every element is compared with "1" */
    if (type_is(t, len, "bit") &&
        (c->is_array || (c->has_char_max_length && c->char_max_length == 1)))
        return VK_BIT;
    if (type_is(t, len, "date"))
        return VK_DATE;
    if (type_is(t, len, "time without time zone"))
        return VK_TIME;
    if (type_is(t, len, "time with time zone"))
        return VK_TIMETZ;
    if (type_is(t, len, "timestamp without time zone") ||
        type_is(t, len, "timestamp with time zone"))
        return VK_TIMESTAMP;
    if (type_is(t, len, "json"))
        return VK_JSON;
    if (type_is(t, len, "jsonb"))
        return VK_JSONB;
    if (type_is(t, len, "hstore"))
        return VK_HSTORE;
    if (c->is_array && type_is(t, len, "box"))
        return VK_TEXT | VK_SEMICOLON;
    return VK_TEXT;
}

void
sl_tap_value_prepare(sl_tap_column *c)
{
    c->value_kind = kind_of(c);
}

static int
malformed(const sl_tap_column *c, const char *type, sl_error *err)
{
    sl_error_set(err, SL_E_SERVER, "column \"%s\": malformed %s value", c->name, type);
    return -1;
}

static bool
is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* Reads exactly n digits at s[*i] into *v. */
static bool
digits(const char *s, size_t len, size_t *i, int n, int *v)
{
    int x = 0;
    for (int k = 0; k < n; k++, (*i)++) {
        if (*i >= len || !is_digit(s[*i]))
            return false;
        x = x * 10 + (s[*i] - '0');
    }
    *v = x;
    return true;
}

static bool
expect(const char *s, size_t len, size_t *i, char ch)
{
    if (*i >= len || s[*i] != ch)
        return false;
    (*i)++;
    return true;
}

/* ---- numbers ---- */

static bool
is_nan_or_infinity(const char *s, size_t len)
{
    return (len == 3 && memcmp(s, "NaN", 3) == 0) || (len == 8 && memcmp(s, "Infinity", 8) == 0) ||
           (len == 9 && memcmp(s, "-Infinity", 9) == 0);
}


static int
write_integer(sl_jsonw *w, const sl_tap_column *c, const char *s, size_t len, sl_error *err)
{
    if (len == 0 || len > 20 || sl_jsonw_number(w, s, len) != 0)
        return malformed(c, "integer", err);
    return 0;
}

/* A numeric's text: -?D+(.D+)? as the server prints it, or NaN / Infinity / -Infinity. */
static int
write_numeric(sl_jsonw *w, const sl_tap_column *c, const char *s, size_t len, sl_error *err)
{
    if (is_nan_or_infinity(s, len)) {
        sl_jsonw_null(w);
        return 0;
    }
    size_t i = 0;
    bool negative = len > 0 && s[0] == '-';
    i += negative;
    size_t int_start = i;
    while (i < len && is_digit(s[i]))
        i++;
    size_t int_end = i, frac_start = i, frac_end = i;
    if (i < len && s[i] == '.') {
        frac_start = ++i;
        while (i < len && is_digit(s[i]))
            i++;
        frac_end = i;
        if (frac_end == frac_start)
            return malformed(c, "numeric", err);
    }
    if (i != len || int_end == int_start || (s[int_start] == '0' && int_end - int_start > 1))
        return malformed(c, "numeric", err);
    /* Decimal's coefficient: all the digits without leading zeros; exponent: -fraction digits */
    size_t first = int_start;  /* first significant digit, in the integer or the fraction */
    while (first < frac_end && (s[first] == '0' || s[first] == '.'))
        first++;
    long frac_digits = (long)(frac_end - frac_start);
    long coef_len;
    if (first == frac_end) {  /* zero */
        coef_len = 1;
    } else if (first < int_end) {
        coef_len = (long)(int_end - first) + frac_digits;
    } else {
        coef_len = (long)(frac_end - first);
    }
    long adjusted = -frac_digits + coef_len - 1;
    if (adjusted >= -6) {  /* plain notation: the server's text itself */
        if (sl_jsonw_number(w, s, len) != 0)
            return malformed(c, "numeric", err);
        return 0;
    }
    /* scientific: d[.ddd]E-n; here the integer part is 0, so the digits are the fraction's */
    sl_jsonw_raw_begin(w);
    sl_buf *out = w->out;
    if (negative)
        sl_buf_putc(out, '-');
    if (first == frac_end) {
        sl_buf_putc(out, '0');
    } else {
        sl_buf_putc(out, s[first]);
        if (frac_end - first > 1) {
            sl_buf_putc(out, '.');
            sl_buf_append(out, s + first + 1, frac_end - first - 1);
        }
    }
    sl_buf_printf(out, "E%ld", adjusted);
    return 0;
}

/* A float as digits: the value is 0.DIG x 10^point. */
typedef struct {
    bool negative;
    int nd;
    long point;
    char dig[40];  /* significant digits, without leading or trailing zeros */
} float_parts;

/* Reads -?D*(.D*)?([eE][+-]?D+)? (at least one digit before the exponent), as the server prints
 * a float with extra_float_digits > 0 (the shortest digits that read back exactly) and as
 * printf's %e does. */
static bool
parse_float(const char *s, size_t len, float_parts *f)
{
    size_t i = 0, ndigits = 0;
    bool seen_point = false;
    f->negative = len > 0 && s[0] == '-';
    i += f->negative;
    f->nd = 0;
    f->point = 0;
    for (; i < len; i++) {
        char ch = s[i];
        if (ch == '.' && !seen_point) {
            seen_point = true;
            continue;
        }
        if (!is_digit(ch))
            break;
        ndigits++;
        if (f->nd == 0 && ch == '0') {
            f->point -= seen_point;
            continue;
        }
        if (f->nd >= (int)sizeof f->dig)
            return false;
        f->dig[f->nd++] = ch;
        f->point += !seen_point;
    }
    if (ndigits == 0)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            eneg = s[i++] == '-';
        long e = 0;
        size_t e_start = i;
        for (; i < len && is_digit(s[i]); i++) {
            if (e > 100000)
                return false;
            e = e * 10 + (s[i] - '0');
        }
        if (i == e_start)
            return false;
        f->point += eneg ? -e : e;
    }
    while (f->nd > 0 && f->dig[f->nd - 1] == '0')
        f->nd--;
    return i == len;
}

/* Appends the float as Python's repr() spells it: fixed notation when the decimal exponent
 * (point - 1) is in [-4, 16), with ".0" after an integer; otherwise d[.ddd]e[+-]XX. */
static void
put_python_float(sl_buf *out, const float_parts *f)
{
    if (f->negative)
        sl_buf_putc(out, '-');
    if (f->nd == 0) {
        sl_buf_puts(out, "0.0");
        return;
    }
    long point = f->point, nd = f->nd;
    if (point > -4 && point <= 16) {
        if (point <= 0) {
            sl_buf_puts(out, "0.");
            for (long k = point; k < 0; k++)
                sl_buf_putc(out, '0');
            sl_buf_append(out, f->dig, (size_t)nd);
        } else if (point >= nd) {
            sl_buf_append(out, f->dig, (size_t)nd);
            for (long k = nd; k < point; k++)
                sl_buf_putc(out, '0');
            sl_buf_puts(out, ".0");
        } else {
            sl_buf_append(out, f->dig, (size_t)point);
            sl_buf_putc(out, '.');
            sl_buf_append(out, f->dig + point, (size_t)(nd - point));
        }
        return;
    }
    sl_buf_putc(out, f->dig[0]);
    if (nd > 1) {
        sl_buf_putc(out, '.');
        sl_buf_append(out, f->dig + 1, (size_t)(nd - 1));
    }
    long e = point - 1, mag = e < 0 ? -e : e;
    char exp[16];  /* "e", the sign, at least two digits: parse_float() keeps mag below 10^7 */
    size_t n = sizeof exp;
    do {
        exp[--n] = (char)('0' + mag % 10);
        mag /= 10;
    } while (mag > 0 || n > sizeof exp - 2);
    exp[--n] = e < 0 ? '-' : '+';
    exp[--n] = 'e';
    sl_buf_append(out, exp + n, sizeof exp - n);
}

static int
write_float(sl_jsonw *w, const sl_tap_column *c, const char *s, size_t len, sl_error *err)
{
    if (is_nan_or_infinity(s, len)) {
        sl_jsonw_null(w);
        return 0;
    }
    float_parts f;
    if (!parse_float(s, len, &f) || (len > 0 && s[len - 1] == '.'))
        return malformed(c, "float", err);
    sl_jsonw_raw_begin(w);
    put_python_float(w->out, &f);
    return 0;
}

/* ---- dates and times ---- */

/* "+00:00" after every date-time pipelinewise writes. */
#define UTC_SUFFIX "+00:00"

/* The fraction ".D{1,6}" at s[*i], if any, as microseconds. */
static bool
fraction(const char *s, size_t len, size_t *i, int *us)
{
    *us = 0;
    if (*i >= len || s[*i] != '.')
        return true;
    (*i)++;
    int n = 0;
    while (*i < len && is_digit(s[*i]) && n < 6) {
        *us = *us * 10 + (s[(*i)++] - '0');
        n++;
    }
    if (n == 0 || (*i < len && is_digit(s[*i])))
        return false;
    for (; n < 6; n++)
        *us *= 10;
    return true;
}

/* Appends ".ffffff" unless us is 0, as isoformat() and str() do. */
static size_t
put_fraction(char *p, int us)
{
    if (us == 0)
        return 0;
    p[0] = '.';
    for (int k = 6; k >= 1; k--) {
        p[k] = (char)('0' + us % 10);
        us /= 10;
    }
    return 7;
}

static size_t
put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
    return 2;
}

/* A date "Y{4,}-MM-DD", then " BC" or not. *year is capped at 1000000 (never printed). */
typedef struct {
    int year, month, day;
    bool bc;
} date_parts;

static bool
parse_date(const char *s, size_t len, size_t *i, date_parts *d)
{
    int n = 0;
    d->year = 0;
    while (*i < len && is_digit(s[*i])) {
        if (d->year < 1000000)
            d->year = d->year * 10 + (s[*i] - '0');
        (*i)++;
        n++;
    }
    if (n < 4 || !expect(s, len, i, '-') || !digits(s, len, i, 2, &d->month) ||
        !expect(s, len, i, '-') || !digits(s, len, i, 2, &d->day))
        return false;
    return d->month >= 1 && d->month <= 12 && d->day >= 1 && d->day <= 31;
}

static bool
parse_bc(const char *s, size_t len, size_t *i, date_parts *d)
{
    d->bc = len - *i >= 3 && memcmp(s + *i, " BC", 3) == 0;
    if (d->bc)
        *i += 3;
    return *i == len;
}

static size_t
put_date(char *p, int year, int month, int day)
{
    size_t n = 0;
    n += put2(p + n, year / 100);
    n += put2(p + n, year % 100);
    p[n++] = '-';
    n += put2(p + n, month);
    p[n++] = '-';
    n += put2(p + n, day);
    return n;
}

static int
write_date(sl_jsonw *w, const sl_tap_column *c, const char *s, size_t len, sl_error *err)
{
    date_parts d;
    if (len == 8 && memcmp(s, "infinity", 8) == 0) {
        d = (date_parts){9999, 12, 31, false};
    } else if (len == 9 && memcmp(s, "-infinity", 9) == 0) {
        d = (date_parts){1, 1, 1, false};
    } else {
        size_t i = 0;
        if (!parse_date(s, len, &i, &d) || !parse_bc(s, len, &i, &d))
            return malformed(c, "date", err);
        if (d.bc || d.year == 0 || d.year > 9999) {
            sl_error_set(err, SL_E_UNSUPPORTED,
                         "column \"%s\": a date outside years 1 to 9999, which pipelinewise "
                         "cannot emit either",
                         c->name);
            return -1;
        }
    }
    char buf[40];
    size_t n = put_date(buf, d.year, d.month, d.day);
    memcpy(buf + n, "T00:00:00" UTC_SUFFIX, 15);
    sl_jsonw_string(w, buf, n + 15);
    return 0;
}

/* "HH:MM:SS" then a fraction, at s[*i]. */
static bool
parse_time(const char *s, size_t len, size_t *i, int *h, int *m, int *sec, int *us)
{
    return digits(s, len, i, 2, h) && expect(s, len, i, ':') && digits(s, len, i, 2, m) &&
           expect(s, len, i, ':') && digits(s, len, i, 2, sec) && fraction(s, len, i, us) &&
           *h <= 24 && *m <= 59 && *sec <= 60;
}

static void
write_clock(sl_jsonw *w, int h, int m, int sec, int us)
{
    char buf[24];
    size_t n = put2(buf, h);
    buf[n++] = ':';
    n += put2(buf + n, m);
    buf[n++] = ':';
    n += put2(buf + n, sec);
    n += put_fraction(buf + n, us);
    sl_jsonw_string(w, buf, n);
}

static int
write_time(sl_jsonw *w, const sl_tap_column *c, const char *s, size_t len, sl_error *err)
{
    size_t i = 0;
    int h, m, sec, us;
    if (!parse_time(s, len, &i, &h, &m, &sec, &us) || i != len || sec > 59)
        return malformed(c, "time", err);
    write_clock(w, h == 24 ? 0 : h, m, sec, us);
    return 0;
}

/* A UTC offset "+HH", "+HH:MM" or "+HH:MM:SS" (or "-"), in seconds east of UTC. */
static bool
parse_offset(const char *s, size_t len, size_t *i, long *seconds)
{
    if (*i >= len || (s[*i] != '+' && s[*i] != '-'))
        return false;
    int sign = s[(*i)++] == '-' ? -1 : 1;
    int hh, mm = 0, ss = 0;
    if (!digits(s, len, i, 2, &hh))
        return false;
    if (*i < len && s[*i] == ':') {
        (*i)++;
        if (!digits(s, len, i, 2, &mm))
            return false;
        if (*i < len && s[*i] == ':') {
            (*i)++;
            if (!digits(s, len, i, 2, &ss))
                return false;
        }
    }
    if (mm > 59 || ss > 59)
        return false;
    *seconds = sign * (hh * 3600L + mm * 60L + ss);
    return true;
}

static int
write_timetz(sl_jsonw *w, const sl_tap_column *c, const char *s, size_t len, sl_error *err)
{
    size_t i = 0;
    int h, m, sec, us;
    long offset;
    if (!parse_time(s, len, &i, &h, &m, &sec, &us) || sec > 59 ||
        !parse_offset(s, len, &i, &offset) || i != len)
        return malformed(c, "time with time zone", err);
    long day = 24L * 3600;
    long t = ((h == 24 ? 0 : h) * 3600L + m * 60L + sec - offset) % day;
    if (t < 0)
        t += day;
    write_clock(w, (int)(t / 3600), (int)(t / 60 % 60), (int)(t % 60), us);
    return 0;
}

/* Is the date-time past '9999-12-31 23:59:59.999' (pipelinewise's upper bound)? */
static bool
after_bound(const date_parts *d, int h, int m, int sec, int us)
{
    if (d->year != 9999)
        return d->year > 9999;
    return d->month == 12 && d->day == 31 && h == 23 && m == 59 && sec == 59 && us > 999000;
}

static int
write_timestamp(sl_jsonw *w, const sl_tap_column *c, const char *s, size_t len, sl_error *err)
{
    static const char bound[] = "9999-12-31T23:59:59.999000" UTC_SUFFIX;
    if ((len == 8 && memcmp(s, "infinity", 8) == 0) ||
        (len == 9 && memcmp(s, "-infinity", 9) == 0)) {
        sl_jsonw_string(w, bound, sizeof bound - 1);
        return 0;
    }
    date_parts d;
    int h, m, sec, us;
    size_t i = 0;
    long offset = 0;
    if (!parse_date(s, len, &i, &d) || !expect(s, len, &i, ' ') ||
        !parse_time(s, len, &i, &h, &m, &sec, &us) || h > 23 || sec > 59)
        return malformed(c, "timestamp", err);
    if (i < len && (s[i] == '+' || s[i] == '-')) {
        if (!parse_offset(s, len, &i, &offset) || offset != 0)  /* TimeZone is UTC */
            return malformed(c, "timestamp", err);
    }
    if (!parse_bc(s, len, &i, &d))
        return malformed(c, "timestamp", err);
    if (d.bc || d.year == 0 || after_bound(&d, h, m, sec, us)) {
        sl_jsonw_string(w, bound, sizeof bound - 1);
        return 0;
    }
    char buf[48];
    size_t n = put_date(buf, d.year, d.month, d.day);
    buf[n++] = 'T';
    n += put2(buf + n, h);
    buf[n++] = ':';
    n += put2(buf + n, m);
    buf[n++] = ':';
    n += put2(buf + n, sec);
    n += put_fraction(buf + n, us);
    memcpy(buf + n, UTC_SUFFIX, 6);
    sl_jsonw_string(w, buf, n + 6);
    return 0;
}

/* ---- json and jsonb ---- */

/* A JSON document (the server has checked it) read token by token and written compactly as
 * simplejson writes what json.loads() made of it: integers as they are but "-0" as 0, other
 * numbers through a double (repr(), and null for one too large for a double where Python
 * would write the non-JSON token Infinity), strings decoded and re-escaped, members in their
 * order. Of duplicate keys in a json (not jsonb) object, Python's dict keeps the last value at
 * the first key's place, and so does sluice. */
/* A member of an object being written: offsets in the output of its key's opening quote, of
 * the ':' after the key and of the end of its value. */
typedef struct {
    size_t key, colon, end;
} json_member;

typedef struct {
    sl_jsonw *w;
    const char *s;
    size_t len, i;
    int depth;
    bool too_deep;
    bool dedup;               /* json (not jsonb, whose keys the server made unique) */
    json_member *members;     /* the members of the objects open, innermost last */
    size_t nmembers, cap;
    json_member local[32];    /* members until there are more: no allocation for most */
} json_reader;

static void
json_space(json_reader *j)
{
    while (j->i < j->len && (j->s[j->i] == ' ' || j->s[j->i] == '\t' || j->s[j->i] == '\n' ||
                             j->s[j->i] == '\r'))
        j->i++;
}

static int
hex4(const char *s, size_t len, size_t i)
{
    int v = 0;
    for (size_t k = i; k < i + 4; k++) {
        if (k >= len)
            return -1;
        char ch = s[k];
        int d = is_digit(ch) ? ch - '0'
              : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
              : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                         : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static size_t
utf8_encode(char *p, unsigned long cp)
{
    if (cp < 0x80) {
        p[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        p[0] = (char)(0xc0 | cp >> 6);
        p[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        p[0] = (char)(0xe0 | cp >> 12);
        p[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        p[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    p[0] = (char)(0xf0 | cp >> 18);
    p[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    p[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    p[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* A \u escape at s[i] (\u and four hex digits; a surrogate pair takes two): its code point,
 * U+FFFD for a lone surrogate; *used is the escape's length. */
static long
json_unicode(const json_reader *j, size_t i, size_t *used)
{
    long hi = hex4(j->s, j->len, i + 2);
    *used = 6;
    if (hi < 0)
        return -1;
    if (hi < 0xd800 || hi > 0xdfff)
        return hi;
    if (hi <= 0xdbff && i + 7 < j->len && j->s[i + 6] == '\\' && j->s[i + 7] == 'u') {
        long lo = hex4(j->s, j->len, i + 8);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
            *used = 12;
            return 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
        }
    }
    j->w->replaced++;
    return 0xfffd;
}

/* A string at s[i] == '"': its characters written in runs between escapes. */
static bool
json_string(json_reader *j)
{
    sl_buf_putc(j->w->out, '"');
    size_t run = ++j->i;
    while (j->i < j->len && j->s[j->i] != '"') {
        if (j->s[j->i] != '\\') {
            j->i++;
            continue;
        }
        sl_jsonw_raw_chars(j->w, j->s + run, j->i - run);
        if (j->i + 1 >= j->len)
            return false;
        char e = j->s[j->i + 1], ch[4];
        size_t n = 1, used = 2;
        switch (e) {
        case '"': case '\\': case '/': ch[0] = e; break;
        case 'b': ch[0] = '\b'; break;
        case 'f': ch[0] = '\f'; break;
        case 'n': ch[0] = '\n'; break;
        case 'r': ch[0] = '\r'; break;
        case 't': ch[0] = '\t'; break;
        case 'u': {
            long cp = json_unicode(j, j->i, &used);
            if (cp < 0)
                return false;
            n = utf8_encode(ch, (unsigned long)cp);
            break;
        }
        default:
            return false;
        }
        if (n == 1 && ch[0] == '\0')
            sl_buf_puts(j->w->out, "\\u0000");
        else
            sl_jsonw_raw_chars(j->w, ch, n);
        j->i += used;
        run = j->i;
    }
    if (j->i >= j->len)
        return false;
    sl_jsonw_raw_chars(j->w, j->s + run, j->i - run);
    sl_buf_putc(j->w->out, '"');
    j->i++;
    return true;
}

/* A number: an integer as it is ("-0" as 0), any other through a double as repr() writes it. */
static bool
json_number(json_reader *j)
{
    size_t start = j->i, i = j->i;
    bool integer = true;
    while (i < j->len && (is_digit(j->s[i]) || j->s[i] == '-' || j->s[i] == '+' ||
                          j->s[i] == '.' || j->s[i] == 'e' || j->s[i] == 'E')) {
        integer = integer && (is_digit(j->s[i]) || j->s[i] == '-');
        i++;
    }
    const char *t = j->s + start;
    size_t n = i - start;
    if (!sl_jsonw_is_number(t, n))
        return false;
    j->i = i;
    if (integer) {
        if (n == 2 && t[0] == '-' && t[1] == '0')
            sl_buf_putc(j->w->out, '0');
        else
            sl_buf_append(j->w->out, t, n);
        return true;
    }
    /* up to 15 significant digits in a double's normal range: every such decimal reads as a
     * double of its own, so its digits are the fewest that read back, those repr() writes */
    float_parts f;
    if (parse_float(t, n, &f) && f.nd <= 15 && f.point > -300 && f.point < 300) {
        put_python_float(j->w->out, &f);
        return true;
    }
    /* strtod() needs the number alone; numbers of more than 400 characters are truncated in
     * their trailing digits, which cannot change a double's 17 digits */
    char text[512], shortest[40];
    size_t keep = n < 400 ? n : 400;
    memcpy(text, t, keep);
    text[keep] = '\0';
    if (keep < n) {
        const char *e = memchr(t, 'e', n);
        if (!e)
            e = memchr(t, 'E', n);
        if (e && e - t >= 400)  /* keep the exponent */
            return false;
    }
    double d = strtod(text, NULL);
    if (!isfinite(d)) {
        sl_buf_puts(j->w->out, "null");
        return true;
    }
    /* repr()'s digits: the fewest that read back as d (17 always do; if p digits do, p + 1
     * do too, so the fewest is found by bisection) */
    int lo = 1, hi = 17;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        snprintf(shortest, sizeof shortest, "%.*e", mid - 1, d);
        if (strtod(shortest, NULL) == d)
            hi = mid;
        else
            lo = mid + 1;
    }
    snprintf(shortest, sizeof shortest, "%.*e", lo - 1, d);
    if (!parse_float(shortest, strlen(shortest), &f))
        return false;
    put_python_float(j->w->out, &f);
    return true;
}

static void
json_push(json_reader *j, json_member m)
{
    if (j->nmembers == j->cap) {
        size_t cap = j->cap * 2;
        json_member *grown = sl_malloc(cap * sizeof *grown);
        memcpy(grown, j->members, j->nmembers * sizeof *grown);
        if (j->members != j->local)
            free(j->members);
        j->members = grown;
        j->cap = cap;
    }
    j->members[j->nmembers++] = m;
}

static bool
same_key(const sl_buf *out, const json_member *a, const json_member *b)
{
    size_t n = a->colon - a->key;
    return n == b->colon - b->key && memcmp(out->data + a->key, out->data + b->key, n) == 0;
}

/* Orders members by key (length, then bytes). */
static int
key_order(const sl_buf *out, const json_member *a, const json_member *b)
{
    size_t na = a->colon - a->key, nb = b->colon - b->key;
    if (na != nb)
        return na < nb ? -1 : 1;
    return memcmp(out->data + a->key, out->data + b->key, na);
}

/* Merge sort of m[0..n) by key_order, tmp holding n. */
static void
sort_members(const sl_buf *out, json_member *m, json_member *tmp, size_t n)
{
    if (n < 2)
        return;
    size_t half = n / 2;
    sort_members(out, m, tmp, half);
    sort_members(out, m + half, tmp, n - half);
    size_t a = 0, b = half, k = 0;
    while (a < half && b < n)
        tmp[k++] = key_order(out, &m[b], &m[a]) < 0 ? m[b++] : m[a++];
    while (a < half)
        tmp[k++] = m[a++];
    while (b < n)
        tmp[k++] = m[b++];
    memcpy(m, tmp, n * sizeof *m);
}

/* The index in m[0..n) (in output order) of the member whose key starts at offset key. */
static size_t
member_at(const json_member *m, size_t n, size_t key)
{
    size_t lo = 0, hi = n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (m[mid].key <= key)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Rewrites the members m[0..n) of the object just written (its output from m[0].key on)
 * when two have the same key: each key once, at its first place, with its last value. Small
 * objects are checked pair by pair; a large one, or one with a duplicate, by sorting its keys
 * (stable: a key's first and last members end its group), so that a hostile document costs
 * n log n. */
static void
json_dedup(json_reader *j, const json_member *m, size_t n)
{
    sl_buf *out = j->w->out;
    bool dup = n > 16;
    for (size_t a = 1; a < n && !dup; a++)
        for (size_t b = 0; b < a && !dup; b++)
            dup = same_key(out, &m[a], &m[b]);
    if (!dup)
        return;
    json_member *sorted = sl_malloc(2 * n * sizeof *sorted);
    size_t *last = sl_malloc(n * sizeof *last);
    memcpy(sorted, m, n * sizeof *sorted);
    sort_members(out, sorted, sorted + n, n);
    dup = false;
    for (size_t k = 0; k < n; k++)
        last[k] = SIZE_MAX;
    for (size_t g = 0, e; g < n; g = e) {
        for (e = g + 1; e < n && same_key(out, &sorted[g], &sorted[e]); e++)
            dup = true;
        last[member_at(m, n, sorted[g].key)] = member_at(m, n, sorted[e - 1].key);
    }
    if (dup) {
        sl_buf kept = SL_BUF_INIT;
        for (size_t a = 0; a < n; a++) {
            if (last[a] == SIZE_MAX)
                continue;
            if (kept.len)
                sl_buf_putc(&kept, ',');
            sl_buf_append(&kept, out->data + m[a].key, m[a].colon - m[a].key);
            sl_buf_append(&kept, out->data + m[last[a]].colon, m[last[a]].end - m[last[a]].colon);
        }
        out->len = m[0].key;
        sl_buf_append(out, kept.data, kept.len);
        sl_buf_free(&kept);
    }
    free(last);
    free(sorted);
}

static bool json_value(json_reader *j);

static bool
json_container(json_reader *j, bool object)
{
    char close = object ? '}' : ']';
    sl_buf *out = j->w->out;
    if (++j->depth > JSON_MAX_DEPTH) {
        j->too_deep = true;
        return false;
    }
    size_t base = j->nmembers;
    sl_buf_putc(out, object ? '{' : '[');
    j->i++;
    json_space(j);
    if (j->i < j->len && j->s[j->i] == close) {
        j->i++;
    } else {
        for (;;) {
            json_member m = {out->len, 0, 0};
            json_space(j);
            if (object) {
                if (j->i >= j->len || j->s[j->i] != '"' || !json_string(j))
                    return false;
                json_space(j);
                if (j->i >= j->len || j->s[j->i] != ':')
                    return false;
                j->i++;
                m.colon = out->len;
                sl_buf_putc(out, ':');
            }
            if (!json_value(j))
                return false;
            if (object && j->dedup) {
                m.end = out->len;
                json_push(j, m);
            }
            json_space(j);
            if (j->i < j->len && j->s[j->i] == ',') {
                j->i++;
                sl_buf_putc(out, ',');
                continue;
            }
            if (j->i < j->len && j->s[j->i] == close) {
                j->i++;
                break;
            }
            return false;
        }
    }
    if (j->nmembers - base > 1)
        json_dedup(j, j->members + base, j->nmembers - base);
    j->nmembers = base;
    sl_buf_putc(out, close);
    j->depth--;
    return true;
}

static bool
json_literal(json_reader *j, const char *word)
{
    size_t n = strlen(word);
    if (j->len - j->i < n || memcmp(j->s + j->i, word, n) != 0)
        return false;
    sl_buf_append(j->w->out, word, n);
    j->i += n;
    return true;
}

static bool
json_value(json_reader *j)
{
    json_space(j);
    if (j->i >= j->len)
        return false;
    switch (j->s[j->i]) {
    case '{': return json_container(j, true);
    case '[': return json_container(j, false);
    case '"': return json_string(j);
    case 't': return json_literal(j, "true");
    case 'f': return json_literal(j, "false");
    case 'n': return json_literal(j, "null");
    default: return json_number(j);
    }
}

static int
write_json(sl_jsonw *w, const sl_tap_column *c, bool dedup, const char *s, size_t len,
           sl_error *err)
{
    json_reader j = {.w = w, .s = s, .len = len, .dedup = dedup};
    j.members = j.local;
    j.cap = sizeof j.local / sizeof j.local[0];
    sl_jsonw_raw_begin(w);
    bool ok = json_value(&j);
    json_space(&j);
    if (j.members != j.local)
        free(j.members);
    if (ok && j.i == len)
        return 0;
    if (j.too_deep) {
        sl_error_set(err, SL_E_UNSUPPORTED,
                     "column \"%s\": a JSON document nested more than %d levels deep, more than "
                     "pipelinewise reads",
                     c->name, JSON_MAX_DEPTH);
        return -1;
    }
    return malformed(c, "json", err);
}

/* ---- hstore ---- */

/* hstore's text: "k"=>"v", "k2"=>NULL (keys and values quoted, \" and \\ escaped inside;
 * hstore's input also takes them unquoted). Written as the object psycopg2's register_hstore()
 * makes of it: keys in the order of the text, NULL as null. */

/* A quoted or bare hstore token at s[*i]; bare NULL (any case) is null when null_ok. */
static bool
hstore_token(sl_jsonw *w, const char *s, size_t len, size_t *i, bool null_ok)
{
    if (*i < len && s[*i] == '"') {
        sl_buf_putc(w->out, '"');
        size_t run = ++*i;
        while (*i < len && s[*i] != '"') {
            if (s[*i] == '\\') {
                sl_jsonw_raw_chars(w, s + run, *i - run);
                if (++*i >= len)
                    return false;
                run = *i;  /* the escaped byte starts the next run */
            }
            ++*i;
        }
        if (*i >= len)
            return false;
        sl_jsonw_raw_chars(w, s + run, *i - run);
        sl_buf_putc(w->out, '"');
        ++*i;
        return true;
    }
    size_t start = *i;
    while (*i < len && s[*i] != '=' && s[*i] != ',' && s[*i] != ' ' && s[*i] != '"' &&
           s[*i] != '\\')
        ++*i;
    size_t n = *i - start;
    if (n == 0)
        return false;
    if (null_ok && n == 4 && strncasecmp(s + start, "NULL", 4) == 0) {
        sl_buf_puts(w->out, "null");
        return true;
    }
    sl_jsonw_raw_string(w, s + start, n);
    return true;
}

static void
hstore_space(const char *s, size_t len, size_t *i)
{
    while (*i < len && (s[*i] == ' ' || s[*i] == '\t' || s[*i] == '\n' || s[*i] == '\r'))
        ++*i;
}

static int
write_hstore(sl_jsonw *w, const sl_tap_column *c, const char *s, size_t len, sl_error *err)
{
    size_t i = 0;
    sl_jsonw_raw_begin(w);
    sl_buf_putc(w->out, '{');
    hstore_space(s, len, &i);
    bool first = true;
    while (i < len) {
        if (!first) {
            if (s[i] != ',')
                return malformed(c, "hstore", err);
            i++;
            hstore_space(s, len, &i);
            sl_buf_putc(w->out, ',');
        }
        first = false;
        if (!hstore_token(w, s, len, &i, false))
            return malformed(c, "hstore", err);
        hstore_space(s, len, &i);
        if (len - i < 2 || s[i] != '=' || s[i + 1] != '>')
            return malformed(c, "hstore", err);
        i += 2;
        hstore_space(s, len, &i);
        sl_buf_putc(w->out, ':');
        if (!hstore_token(w, s, len, &i, true))
            return malformed(c, "hstore", err);
        hstore_space(s, len, &i);
    }
    sl_buf_putc(w->out, '}');
    return 0;
}

/* ---- arrays ---- */

/* PostgreSQL's array text: an optional "[lo:hi]..." bounds prefix and "=", then {e,e,...} with
 * nested braces per dimension; an element is NULL (bare, any case), bare text, or "quoted"
 * with \" and \\ (any \x is x). psycopg2 reads it into nested lists, dropping the bounds, and
 * pipelinewise converts each element by the element type's rule. Where pipelinewise goes
 * wrong sluice writes each element by its rule, or as a string: an array of a type psycopg2 has
 * no caster for (box[], point[], xml[], ...) reaches pipelinewise as the whole text, which it
 * writes as a list of its characters; interval[] and bytea[] elements make it fail, and so
 * does a timestamp[] column (its CASE compares the array with a timestamp literal). */
typedef struct {
    sl_jsonw *w;
    const sl_tap_column *c;
    int kind;
    char delim;
    sl_error *err;
} array_reader;

static int write_scalar(sl_jsonw *w, const sl_tap_column *c, int kind, const char *s,
                        size_t len, sl_error *err);

static bool
array_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* An element with backslashes: a string is written in runs between them; any other type is
 * decoded first (json[] and hstore[] elements; the server quotes no other with a backslash). */
static int
array_escaped(array_reader *a, const char *s, size_t len)
{
    if ((a->kind & VK_KIND_MASK) == VK_TEXT) {
        sl_jsonw_raw_begin(a->w);
        sl_buf_putc(a->w->out, '"');
        size_t run = 0;
        for (size_t i = 0; i < len; i++) {
            if (s[i] == '\\') {
                sl_jsonw_raw_chars(a->w, s + run, i - run);
                run = ++i;  /* the escaped byte starts the next run */
            }
        }
        sl_jsonw_raw_chars(a->w, s + run, len - run);
        sl_buf_putc(a->w->out, '"');
        return 0;
    }
    sl_buf plain = SL_BUF_INIT;
    sl_buf_reserve(&plain, len);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\\')
            i++;
        if (i < len)
            sl_buf_putc(&plain, s[i]);
    }
    int rc = write_scalar(a->w, a->c, a->kind & VK_KIND_MASK, plain.data ? plain.data : "",
                          plain.len, a->err);
    sl_buf_free(&plain);
    return rc;
}

static int
array_element(array_reader *a, const char *s, size_t len, size_t *i)
{
    size_t start, end;
    bool escaped = false;
    if (s[*i] == '"') {
        start = ++*i;
        while (*i < len && s[*i] != '"') {
            if (s[*i] == '\\') {
                escaped = true;
                ++*i;
            }
            ++*i;
        }
        if (*i >= len)
            return malformed(a->c, "array", a->err);
        end = (*i)++;
    } else {
        start = *i;
        while (*i < len && s[*i] != a->delim && s[*i] != '}' && s[*i] != '{' && s[*i] != '"') {
            if (s[*i] == '\\') {
                escaped = true;
                ++*i;
            }
            ++*i;
        }
        if (*i > len)
            return malformed(a->c, "array", a->err);
        end = *i;
        while (end > start && array_space(s[end - 1]) && (end - 1 == start || s[end - 2] != '\\'))
            end--;
        if (end == start)
            return malformed(a->c, "array", a->err);
        if (!escaped && end - start == 4 && strncasecmp(s + start, "NULL", 4) == 0) {
            sl_jsonw_null(a->w);
            return 0;
        }
    }
    if (escaped)
        return array_escaped(a, s + start, end - start);
    return write_scalar(a->w, a->c, a->kind & VK_KIND_MASK, s + start, end - start, a->err);
}

/* One dimension at s[*i] == '{'. */
static int
array_level(array_reader *a, const char *s, size_t len, size_t *i, int dims)
{
    if (dims > ARRAY_MAX_DIMS)
        return malformed(a->c, "array", a->err);
    ++*i;
    sl_jsonw_array_begin(a->w);
    while (*i < len && array_space(s[*i]))
        ++*i;
    if (*i < len && s[*i] == '}') {
        ++*i;
        sl_jsonw_array_end(a->w);
        return 0;
    }
    for (;;) {
        while (*i < len && array_space(s[*i]))
            ++*i;
        if (*i >= len)
            return malformed(a->c, "array", a->err);
        int rc = s[*i] == '{' ? array_level(a, s, len, i, dims + 1) : array_element(a, s, len, i);
        if (rc != 0)
            return rc;
        while (*i < len && array_space(s[*i]))
            ++*i;
        if (*i < len && s[*i] == a->delim) {
            ++*i;
            continue;
        }
        if (*i < len && s[*i] == '}') {
            ++*i;
            break;
        }
        return malformed(a->c, "array", a->err);
    }
    sl_jsonw_array_end(a->w);
    return 0;
}

static int
write_array(sl_jsonw *w, const sl_tap_column *c, int kind, const char *s, size_t len,
            sl_error *err)
{
    array_reader a = {w, c, kind, (kind & VK_SEMICOLON) ? ';' : ',', err};
    size_t i = 0;
    if (len > 0 && s[0] == '[') {  /* bounds: [lo:hi] per dimension, then '=' */
        while (i < len && s[i] != '=') {
            if (!is_digit(s[i]) && !strchr("[]:-+", s[i]))
                return malformed(c, "array", err);
            i++;
        }
        i++;
    }
    if (i >= len || s[i] != '{')
        return malformed(c, "array", err);
    int rc = array_level(&a, s, len, &i, 1);
    if (rc != 0)
        return rc;
    while (i < len && array_space(s[i]))
        i++;
    if (i != len)
        return malformed(c, "array", err);
    return 0;
}

/* ---- dispatch ---- */

static int
write_scalar(sl_jsonw *w, const sl_tap_column *c, int kind, const char *s, size_t len,
             sl_error *err)
{
    switch (kind) {
    case VK_INTEGER:
        return write_integer(w, c, s, len, err);
    case VK_NUMERIC:
        return write_numeric(w, c, s, len, err);
    case VK_FLOAT:
        return write_float(w, c, s, len, err);
    case VK_BOOLEAN:
        if (len != 1 || (s[0] != 't' && s[0] != 'f'))
            return malformed(c, "boolean", err);
        sl_jsonw_bool(w, s[0] == 't');
        return 0;
    case VK_BIT:
        sl_jsonw_bool(w, len == 1 && s[0] == '1');
        return 0;
    case VK_DATE:
        return write_date(w, c, s, len, err);
    case VK_TIME:
        return write_time(w, c, s, len, err);
    case VK_TIMETZ:
        return write_timetz(w, c, s, len, err);
    case VK_TIMESTAMP:
        return write_timestamp(w, c, s, len, err);
    case VK_JSON:
    case VK_JSONB:
        return write_json(w, c, kind == VK_JSON, s, len, err);
    case VK_HSTORE:
        return write_hstore(w, c, s, len, err);
    default:
        sl_jsonw_string(w, s, len);
        return 0;
    }
}

void
sl_tap_value_write_null(sl_jsonw *w, const sl_tap_column *c)
{
    if (c->is_array) {
        sl_jsonw_array_begin(w);
        sl_jsonw_array_end(w);
    } else {
        sl_jsonw_null(w);
    }
}

int
sl_tap_value_write(sl_jsonw *w, const sl_tap_column *c, const char *text, size_t len,
                   sl_error *err)
{
    int kind = c->value_kind != VK_UNPREPARED ? c->value_kind : kind_of(c);
    sl_jsonw saved = *w;
    size_t saved_len = w->out->len;
    int rc = c->is_array ? write_array(w, c, kind, text, len, err)
                         : write_scalar(w, c, kind & VK_KIND_MASK, text, len, err);
    if (rc != 0) {  /* an array or document refused half-way: nothing of it stays */
        *w = saved;
        w->out->len = saved_len;
        if (w->out->data)
            w->out->data[saved_len] = '\0';
    }
    return rc;
}
