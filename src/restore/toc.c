/* restore/toc.c: see toc.h.
 * The rules are pg_restore's (its _tocEntryRequired, _tocEntryRestorePass and _printTocEntry),
 * written from what they do for an archive of PostgreSQL 9.6 or later. */
#include "restore/toc.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "pg/pattern.h"

#define LO_CHUNK 32768  /* bytes of a large object per lowrite(): a 64 KiB statement */
#define INV_WRITE 0x20000

static bool
is(const char *s, const char *what)
{
    return s && strcmp(s, what) == 0;
}

static bool
starts(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

const char *
sl_toc_describe(const sl_pgarchive_entry *e, char *buf, size_t cap)
{
    snprintf(buf, cap, "TOC entry %d (%s %s %s)", e->dump_id, e->desc ? e->desc : "?",
             e->namespace_ ? e->namespace_ : "-", e->tag ? e->tag : "");
    for (char *p = buf; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    return buf;
}

/* -- selection ----------------------------------------------------------------------------- */

typedef struct pattern {
    regex_t schema, name;
    bool has_schema;
} pattern;

typedef struct patterns {
    pattern *v;
    size_t n;
} patterns;

static void
patterns_free(patterns *p)
{
    for (size_t i = 0; i < p->n; i++) {
        if (p->v[i].has_schema)
            regfree(&p->v[i].schema);
        regfree(&p->v[i].name);
    }
    free(p->v);
    p->v = NULL;
    p->n = 0;
}

static int
compile(regex_t *re, const char *text, const char *flag, sl_error *err)
{
    if (regcomp(re, text, REG_EXTENDED | REG_NOSUB) != 0) {
        sl_error_set(err, SL_E_USAGE, "%s: pattern could not be compiled", flag);
        return -1;
    }
    return 0;
}

static int
patterns_make(patterns *out, const char *const *pats, bool allow_schema, const char *flag,
              sl_error *err)
{
    size_t n = 0;
    while (pats && pats[n])
        n++;
    out->v = sl_calloc(n ? n : 1, sizeof *out->v);
    out->n = 0;
    for (size_t i = 0; i < n; i++) {
        char *sre = NULL, *nre = NULL;
        if (sl_pattern_regex(pats[i], allow_schema, &sre, &nre, err) != 0) {
            sl_error_prefix(err, "%s", flag);
            return -1;
        }
        pattern *p = &out->v[out->n];
        int rc = compile(&p->name, nre, flag, err);
        if (rc == 0 && sre) {
            rc = compile(&p->schema, sre, flag, err);
            if (rc != 0)
                regfree(&p->name);
            p->has_schema = rc == 0;
        }
        free(sre);
        free(nre);
        if (rc != 0)
            return -1;
        out->n++;
    }
    return 0;
}

static bool
patterns_match(const patterns *p, const char *schema, const char *name)
{
    for (size_t i = 0; i < p->n; i++) {
        if (p->v[i].has_schema && (!schema || regexec(&p->v[i].schema, schema, 0, NULL, 0)))
            continue;
        if (name && regexec(&p->v[i].name, name, 0, NULL, 0) == 0)
            return true;
    }
    return false;
}

typedef struct selection {
    const sl_toc_opts *o;
    patterns schemas, exclude_schemas, tables;
    bool selective;  /* -n, -N or -t given */
} selection;

enum { REQ_SCHEMA = 1, REQ_DATA = 2 };

static bool
is_acl(const char *desc)
{
    return is(desc, "ACL") || is(desc, "DEFAULT ACL") || is(desc, "ACL LANGUAGE");
}

static bool
is_table_like(const char *desc)
{
    static const char *const kinds[] = {"TABLE", "TABLE DATA", "VIEW", "FOREIGN TABLE",
                                        "MATERIALIZED VIEW", "MATERIALIZED VIEW DATA",
                                        "SEQUENCE", "SEQUENCE SET"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (is(desc, kinds[i]))
            return true;
    return false;
}

static bool
large_object_decoration(const sl_pgarchive_entry *e)
{
    /* "LARGE OBJECT 42", or in pg_dump 17's groups "LARGE OBJECTS 42..57" */
    return (is(e->desc, "ACL") || is(e->desc, "COMMENT") || is(e->desc, "SECURITY LABEL")) &&
           starts(e->tag, "LARGE OBJECT");
}

/* ACLs, comments and security labels of a selective restore come with a parent that is
 * restored (marked already: parents come first in the TOC). */
static bool
parent_taken(const sl_pgarchive *a, const sl_pgarchive_entry *e, const unsigned char *reqs)
{
    for (size_t i = 0; i < e->ndeps; i++) {
        const sl_pgarchive_entry *p = sl_pgarchive_find(a, e->deps[i]);
        if (!p || is(p->desc, "ACL"))
            continue;
        size_t at = (size_t)(p - sl_pgarchive_at(a, 0));
        if (reqs[at])
            return true;
    }
    return false;
}

static bool
standalone_selected(const selection *s, const sl_pgarchive_entry *e)
{
    if (s->schemas.n && (!e->namespace_ || !patterns_match(&s->schemas, NULL, e->namespace_)))
        return false;
    if (s->exclude_schemas.n && e->namespace_ &&
        patterns_match(&s->exclude_schemas, NULL, e->namespace_))
        return false;
    if (s->tables.n)
        return is_table_like(e->desc) && patterns_match(&s->tables, e->namespace_, e->tag);
    return true;
}

static int
required(const sl_pgarchive *a, const selection *s, const sl_pgarchive_entry *e, int section,
         const unsigned char *reqs)
{
    const sl_toc_opts *o = s->o;
    if (is(e->desc, "ENCODING") || is(e->desc, "STDSTRINGS") || is(e->desc, "SEARCHPATH") ||
        is(e->desc, "DATABASE") || is(e->desc, "DATABASE PROPERTIES"))
        return 0;
    if (o->no_privileges && is_acl(e->desc))
        return 0;
    if (o->no_comments && is(e->desc, "COMMENT"))
        return 0;
    if (section != SL_PGARCHIVE_SECTION_PRE_DATA && section != SL_PGARCHIVE_SECTION_DATA &&
        section != SL_PGARCHIVE_SECTION_POST_DATA)
        return 0;
    if (is(e->desc, "ACL") || is(e->desc, "COMMENT") || is(e->desc, "SECURITY LABEL")) {
        if (starts(e->tag, "DATABASE "))
            return 0;  /* the database's own: restore --create makes the database */
        if (s->selective && !parent_taken(a, e, reqs))
            return 0;
    } else if (!standalone_selected(s, e)) {
        return 0;
    }
    int res = REQ_SCHEMA | REQ_DATA;
    if (!e->has_data) {
        if (is(e->desc, "SEQUENCE SET") || is(e->desc, "BLOB") ||
            is(e->desc, "BLOB METADATA") || large_object_decoration(e))
            res &= REQ_DATA;
        else
            res &= ~REQ_DATA;
    }
    if (!e->defn || !e->defn[0] || starts(e->defn, "-- load via partition root "))
        res &= ~REQ_SCHEMA;
    if (o->schema_only)
        res &= REQ_SCHEMA;
    /* new rows make a materialized view stale: a data-only restore refreshes them, as a
     * sluice data-only backup does (pg_restore --data-only leaves them as they were) */
    if (o->data_only && is(e->desc, "MATERIALIZED VIEW DATA"))
        return res & REQ_SCHEMA;
    if (o->data_only)
        res &= REQ_DATA;
    return res;
}

static sl_toc_pass
pass_of(const sl_pgarchive_entry *e)
{
    if (is_acl(e->desc))
        return SL_TOC_PASS_ACL;
    if (is(e->desc, "EVENT TRIGGER") || is(e->desc, "MATERIALIZED VIEW DATA"))
        return SL_TOC_PASS_POST_ACL;
    if ((is(e->desc, "COMMENT") || is(e->desc, "SECURITY LABEL")) &&
        starts(e->tag, "EVENT TRIGGER "))
        return SL_TOC_PASS_POST_ACL;
    return SL_TOC_PASS_MAIN;
}

/* -- the preamble -------------------------------------------------------------------------- */

/* The special entries' settings: "SET client_encoding = 'UTF8';" is their definition. */
static void
put_setting(sl_buf *b, const sl_pgarchive_entry *e)
{
    if (e->defn && e->defn[0]) {
        sl_buf_puts(b, e->defn);
        if (e->defn[strlen(e->defn) - 1] != '\n')
            sl_buf_putc(b, '\n');
    }
}

static void
make_preamble(const sl_pgarchive *a, sl_buf *b)
{
    bool std_strings = true;
    sl_buf_puts(b, "SET statement_timeout = 0;\nSET lock_timeout = 0;\n"
                   "SET idle_in_transaction_session_timeout = 0;\n");
    for (size_t i = 0; i < sl_pgarchive_count(a); i++) {
        const sl_pgarchive_entry *e = sl_pgarchive_at(a, i);
        if (is(e->desc, "ENCODING") || is(e->desc, "SEARCHPATH"))
            put_setting(b, e);
        if (is(e->desc, "STDSTRINGS")) {
            put_setting(b, e);
            std_strings = !(e->defn && strstr(e->defn, "'off'"));
        }
    }
    sl_buf_puts(b, "SET check_function_bodies = false;\nSET xmloption = content;\n"
                   "SET client_min_messages = warning;\n");
    if (!std_strings)
        sl_buf_puts(b, "SET escape_string_warning = off;\n");
    sl_buf_puts(b, "SET row_security = off;\n");
}

/* -- the database's own options ------------------------------------------------------------ */

/* One token of a DATABASE entry's "CREATE DATABASE name WITH KEY = value ... ;": a word, a
 * 'literal' or "identifier" (quotes doubled inside), or one other character. */
typedef struct token {
    char *text;  /* unquoted, malloc'd */
    char kind;   /* 'w' word, 'l' literal, 'i' quoted identifier, or the character */
} token;

static const char *
next_token(const char *p, token *t)
{
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    t->text = NULL;
    t->kind = 0;
    if (!*p)
        return p;
    if (*p == '\'' || *p == '"') {
        char q = *p++;
        sl_buf b = SL_BUF_INIT;
        while (*p && !(*p == q && p[1] != q)) {
            if (*p == q)
                p++;
            sl_buf_putc(&b, *p++);
        }
        if (!*p) {
            sl_buf_free(&b);
            return p;  /* unterminated: kind 0 ends the parse */
        }
        p++;
        sl_buf_putc(&b, '\0');
        t->text = sl_buf_steal(&b);
        t->kind = q == '\'' ? 'l' : 'i';
        return p;
    }
    const char *start = p;
    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
           *p == '_')
        p++;
    if (p == start) {
        t->kind = *p;
        return p + 1;
    }
    t->text = sl_calloc((size_t)(p - start) + 1, 1);
    memcpy(t->text, start, (size_t)(p - start));
    t->kind = 'w';
    return p;
}

static const char *const database_options[] = {
    "ENCODING", "LOCALE_PROVIDER", "LOCALE", "LC_COLLATE", "LC_CTYPE", "ICU_LOCALE",
    "ICU_RULES", "BUILTIN_LOCALE", "TABLESPACE", NULL};

static char **
database_with(const sl_pgarchive *a)
{
    const sl_pgarchive_entry *db = NULL;
    for (size_t i = 0; i < sl_pgarchive_count(a) && !db; i++)
        if (is(sl_pgarchive_at(a, i)->desc, "DATABASE"))
            db = sl_pgarchive_at(a, i);
    if (!db || !db->defn)
        return NULL;
    char **pairs = sl_calloc(2 * (sizeof database_options / sizeof *database_options) + 1,
                             sizeof *pairs);
    size_t n = 0;
    token t[3] = {{0}};
    const char *p = db->defn;
    /* up to WITH: CREATE DATABASE name WITH */
    for (int i = 0; i < 4; i++) {
        p = next_token(p, &t[0]);
        free(t[0].text);
        if (!t[0].kind)
            return pairs;
    }
    for (;;) {
        for (int i = 0; i < 3; i++)
            p = next_token(p, &t[i]);
        bool ok = t[0].kind == 'w' && t[1].kind == '=' && t[2].text;
        if (ok)
            for (size_t k = 0; database_options[k]; k++)
                if (strcasecmp(t[0].text, database_options[k]) == 0 && n < 16) {
                    pairs[n++] = sl_strdup(database_options[k]);
                    pairs[n++] = sl_strdup(t[2].text);
                }
        for (int i = 0; i < 3; i++)
            free(t[i].text);
        if (!ok)
            return pairs;
    }
}

/* -- the plan ------------------------------------------------------------------------------ */

static uint64_t
weight_of(const sl_pgarchive_entry *e)
{
    uint64_t w = e->defn ? strlen(e->defn) : 0;
    return w + (e->has_data ? (uint64_t)1 << 20 : 0);
}

int
sl_toc_plan_make(const sl_pgarchive *a, const sl_toc_opts *o, sl_toc_plan *out, sl_error *err)
{
    memset(out, 0, sizeof *out);
    selection s = {.o = o};
    int rc = -1;
    size_t count = sl_pgarchive_count(a);
    unsigned char *reqs = sl_calloc(count ? count : 1, 1);
    if (patterns_make(&s.schemas, o->schemas, false, "-n", err) != 0 ||
        patterns_make(&s.exclude_schemas, o->exclude_schemas, false, "-N", err) != 0 ||
        patterns_make(&s.tables, o->tables, true, "-t", err) != 0)
        goto done;
    s.selective = s.schemas.n || s.exclude_schemas.n || s.tables.n;
    out->items = sl_calloc(count ? count : 1, sizeof *out->items);
    out->taken = sl_calloc(count ? count : 1, sizeof *out->taken);
    out->archive = a;
    int section = SL_PGARCHIVE_SECTION_PRE_DATA;
    for (size_t i = 0; i < count; i++) {
        const sl_pgarchive_entry *e = sl_pgarchive_at(a, i);
        if (e->section != SL_PGARCHIVE_SECTION_NONE)
            section = e->section;
        reqs[i] = (unsigned char)required(a, &s, e, section, reqs);
        if (!reqs[i])
            continue;
        out->taken[i] = true;
        out->items[out->n++] = (sl_toc_item){.e = e,
                                             .schema = reqs[i] & REQ_SCHEMA,
                                             .data = reqs[i] & REQ_DATA,
                                             .pass = pass_of(e),
                                             .section = section,
                                             .weight = weight_of(e)};
    }
    make_preamble(a, &out->preamble);
    out->create_with = database_with(a);
    rc = 0;
done:
    free(reqs);
    patterns_free(&s.schemas);
    patterns_free(&s.exclude_schemas);
    patterns_free(&s.tables);
    if (rc != 0)
        sl_toc_plan_free(out);
    return rc;
}

void
sl_toc_plan_free(sl_toc_plan *p)
{
    if (!p)
        return;
    free(p->items);
    free(p->taken);
    sl_buf_free(&p->preamble);
    for (size_t i = 0; p->create_with && p->create_with[i]; i++)
        free(p->create_with[i]);
    free(p->create_with);
    memset(p, 0, sizeof *p);
}

bool
sl_toc_plan_has(const sl_toc_plan *p, const sl_pgarchive_entry *e)
{
    return p->taken && p->archive && p->taken[e - sl_pgarchive_at(p->archive, 0)];
}

/* -- the text ------------------------------------------------------------------------------ */

/* The object "ALTER ... OWNER TO" names, as pg_restore builds it from the entry. */
static const char *const plain_owned[] = {
    "COLLATION", "CONVERSION", "DOMAIN", "TABLE", "TYPE", "FOREIGN TABLE",
    "TEXT SEARCH DICTIONARY", "TEXT SEARCH CONFIGURATION", "STATISTICS", "PROCEDURAL LANGUAGE",
    "SCHEMA", "EVENT TRIGGER", "FOREIGN DATA WRAPPER", "SERVER", "PUBLICATION", "SUBSCRIPTION",
    NULL};
static const char *const signed_owned[] = {"AGGREGATE", "FUNCTION", "OPERATOR",
                                           "OPERATOR CLASS", "OPERATOR FAMILY", "PROCEDURE",
                                           NULL};

static bool
in_list(const char *desc, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (is(desc, list[i]))
            return true;
    return false;
}

static int
put_ident(sl_buf *b, sl_conn *c, const char *ident, sl_error *err)
{
    char *q = sl_conn_quote_ident(c, ident);
    if (!q) {
        sl_error_set(err, SL_E_ARCHIVE, "a name in the archive could not be quoted: %s",
                     PQerrorMessage(sl_conn_pg(c)));
        return -1;
    }
    sl_buf_puts(b, q);
    free(q);
    return 0;
}

static int
put_owner(sl_buf *b, const sl_pgarchive_entry *e, sl_conn *c, sl_error *err)
{
    if (!e->owner || !e->owner[0] || !e->drop_stmt || !e->drop_stmt[0])
        return 0;
    const char *type = e->desc;
    if (is(type, "VIEW") || is(type, "SEQUENCE") || is(type, "MATERIALIZED VIEW"))
        type = "TABLE";
    if (is(type, "BLOB")) {
        sl_buf_printf(b, "ALTER LARGE OBJECT %u OWNER TO ", (unsigned)strtoul(e->tag, NULL, 10));
    } else if (in_list(type, plain_owned)) {
        sl_buf_printf(b, "ALTER %s ", type);
        if (e->namespace_ && e->namespace_[0] &&
            (put_ident(b, c, e->namespace_, err) != 0 || (sl_buf_putc(b, '.'), 0)))
            return -1;
        if (put_ident(b, c, e->tag ? e->tag : "", err) != 0)
            return -1;
        sl_buf_puts(b, " OWNER TO ");
    } else if (in_list(type, signed_owned)) {
        /* the signature is exactly what the DROP statement names */
        const char *what = e->drop_stmt + (starts(e->drop_stmt, "DROP ") ? 5 : 0);
        size_t n = strlen(what);
        while (n && (what[n - 1] == '\n' || what[n - 1] == ';'))
            n--;
        sl_buf_puts(b, "ALTER ");
        sl_buf_append(b, what, n);
        sl_buf_puts(b, " OWNER TO ");
    } else {
        return 0;  /* indexes, constraints, rules, triggers...: no owner of their own */
    }
    if (put_ident(b, c, e->owner, err) != 0)
        return -1;
    sl_buf_puts(b, ";\n");
    return 0;
}

/* pg_dump 17 groups large objects: a BLOB METADATA entry's definition is their OIDs, one per
 * line. Calls fn(arg, oid) for each; false when a line is not an OID. */
static bool
each_oid(const char *list, void (*fn)(void *arg, unsigned long oid), void *arg)
{
    for (const char *p = list; p && *p;) {
        char *end;
        if (*p < '0' || *p > '9')
            return false;
        unsigned long oid = strtoul(p, &end, 10);
        if (oid > UINT32_MAX || (*end && *end != '\n'))
            return false;
        fn(arg, oid);
        p = *end ? end + 1 : end;
    }
    return true;
}

typedef struct per_blob {
    sl_buf *b;
    const char *text;   /* a command naming the group's first large object ... */
    const char *first;  /* ... as "LARGE OBJECT <first>" */
    const char *owner;  /* quoted */
} per_blob;

static void
put_lo_create(void *arg, unsigned long oid)
{
    per_blob *pb = arg;
    sl_buf_printf(pb->b, "SELECT pg_catalog.lo_create('%lu');\n", oid);
    if (pb->owner)
        sl_buf_printf(pb->b, "ALTER LARGE OBJECT %lu OWNER TO %s;\n", oid, pb->owner);
}

/* The group's ACL for one of its large objects: the first one's name replaced by oid's, as
 * pg_restore 17 issues it per large object. */
static void
put_lo_command(void *arg, unsigned long oid)
{
    per_blob *pb = arg;
    size_t n = strlen(pb->first);
    for (const char *p = pb->text; *p;) {
        const char *hit = strstr(p, pb->first);
        if (!hit) {
            sl_buf_puts(pb->b, p);
            break;
        }
        sl_buf_append(pb->b, p, (size_t)(hit - p));
        if (hit[n] >= '0' && hit[n] <= '9') {  /* "LARGE OBJECT 10" when first is 1 */
            sl_buf_append(pb->b, hit, n);
        } else {
            sl_buf_printf(pb->b, "LARGE OBJECT %lu", oid);
        }
        p = hit + n;
    }
    sl_buf_putc(pb->b, '\n');
}

static int
bad_entry(const sl_pgarchive_entry *e, const char *why, sl_error *err)
{
    char what[300];
    sl_error_set(err, SL_E_ARCHIVE, "%s: %s", sl_toc_describe(e, what, sizeof what), why);
    return -1;
}

/* BLOB METADATA: lo_create (and owner) of each OID. */
static int
put_blob_metadata(sl_buf *b, const sl_pgarchive_entry *e, const sl_toc_opts *o, sl_conn *c,
                  sl_error *err)
{
    per_blob pb = {.b = b};
    char *owner = NULL;
    if (!o->no_owner && e->owner && e->owner[0]) {
        owner = sl_conn_quote_ident(c, e->owner);
        if (!owner) {
            sl_error_set(err, SL_E_ARCHIVE, "a name in the archive could not be quoted");
            return -1;
        }
    }
    pb.owner = owner;
    bool ok = each_oid(e->defn, put_lo_create, &pb);
    free(owner);
    return ok ? 0 : bad_entry(e, "its definition is not a list of OIDs", err);
}

/* An ACL, comment or label of pg_dump 17's group "LARGE OBJECTS a..b" applies to each large
 * object of the BLOB METADATA entry it depends on. Returns 1 when e is one and it is done. */
static int
put_group_decoration(sl_buf *b, const sl_pgarchive *a, const sl_pgarchive_entry *e,
                     sl_error *err)
{
    if (!starts(e->tag, "LARGE OBJECTS ") || !e->defn)
        return 0;
    const sl_pgarchive_entry *meta = NULL;
    for (size_t i = 0; i < e->ndeps && !meta; i++) {
        const sl_pgarchive_entry *p = sl_pgarchive_find(a, e->deps[i]);
        if (p && is(p->desc, "BLOB METADATA"))
            meta = p;
    }
    char first[32];
    unsigned long oid = meta && meta->defn ? strtoul(meta->defn, NULL, 10) : 0;
    snprintf(first, sizeof first, "LARGE OBJECT %lu", oid);
    per_blob pb = {.b = b, .text = e->defn, .first = first};
    if (!meta || !each_oid(meta->defn, put_lo_command, &pb))
        return bad_entry(e, "no list of large objects to apply it to", err);
    return 1;
}

static int
put_definition(sl_buf *b, const sl_pgarchive *a, const sl_toc_item *it, const sl_toc_opts *o,
               sl_conn *c, sl_error *err)
{
    const sl_pgarchive_entry *e = it->e;
    if (is(e->desc, "BLOB METADATA"))
        return put_blob_metadata(b, e, o, c, err);
    int group = put_group_decoration(b, a, e, err);
    if (group != 0)
        return group < 0 ? -1 : 0;
    if (e->tablespace) {
        sl_buf_puts(b, "SET default_tablespace = ");
        if (!e->tablespace[0])
            sl_buf_puts(b, "''");
        else if (put_ident(b, c, e->tablespace, err) != 0)
            return -1;
        sl_buf_puts(b, ";\n");
    }
    if (e->tableam) {
        sl_buf_puts(b, "SET default_table_access_method = ");
        if (put_ident(b, c, e->tableam, err) != 0)
            return -1;
        sl_buf_puts(b, ";\n");
    }
    if (o->no_owner && is(e->desc, "SCHEMA") && !starts(e->defn, "--")) {
        /* without the AUTHORIZATION clause older pg_dump versions wrote */
        sl_buf_puts(b, "CREATE SCHEMA ");
        if (put_ident(b, c, e->tag ? e->tag : "", err) != 0)
            return -1;
        sl_buf_puts(b, ";\n");
    } else if (e->defn && e->defn[0]) {
        sl_buf_puts(b, e->defn);
        sl_buf_putc(b, '\n');
    }
    if (!o->no_owner && put_owner(b, e, c, err) != 0)
        return -1;
    return 0;
}

typedef enum { T_HEAD, T_COPY, T_BLOBS, T_TAIL, T_END } text_state;

struct sl_toc_text {
    const sl_pgarchive *a;
    const sl_toc_item *it;
    const sl_toc_opts *o;
    sl_pgarchive_data *data;
    text_state state;
    sl_buf out;
    char last[16];  /* the data's last bytes: does it end with a "\." line already? */
    size_t nlast;
    bool in_blob;
};

int
sl_toc_text_open(sl_toc_text **out, const sl_pgarchive *a, const sl_toc_item *it,
                 const sl_toc_opts *o, sl_conn *c, sl_error *err)
{
    sl_toc_text *t = sl_calloc(1, sizeof *t);
    t->a = a;
    t->it = it;
    t->o = o;
    sl_buf_init(&t->out);
    const sl_pgarchive_entry *e = it->e;
    if (it->schema || (it->data && !e->has_data)) {
        if (put_definition(&t->out, a, it, o, c, err) != 0)
            goto fail;
    }
    t->state = T_HEAD;
    if (it->data && e->has_data) {
        if (sl_pgarchive_data_open(&t->data, a, e, err) != 0)
            goto fail;
        if (is(e->desc, "BLOBS") || is(e->desc, "BLOB COMMENTS")) {
            if (!o->single_transaction)
                sl_buf_puts(&t->out, "BEGIN;\n");
        } else if (e->copy_stmt && e->copy_stmt[0]) {
            sl_buf_puts(&t->out, e->copy_stmt);
        }
    }
    *out = t;
    return 0;
fail:
    sl_toc_text_close(t);
    return -1;
}

static bool
is_blobs(const sl_toc_text *t)
{
    return is(t->it->e->desc, "BLOBS");
}

/* Remembers the last bytes of COPY data seen. */
static void
track_tail(sl_toc_text *t, const char *p, size_t n)
{
    size_t cap = sizeof t->last;
    if (n >= cap) {
        memcpy(t->last, p + n - cap, cap);
        t->nlast = cap;
        return;
    }
    size_t keep = t->nlast + n > cap ? cap - n : t->nlast;
    memmove(t->last, t->last + t->nlast - keep, keep);
    memcpy(t->last + keep, p, n);
    t->nlast = keep + n;
}

/* Does the data end with the line "\." (blank lines after it allowed), as pg_dump writes it? */
static bool
ends_copy(const sl_toc_text *t)
{
    size_t n = t->nlast;
    while (n && t->last[n - 1] == '\n')
        n--;
    return n >= 2 && t->last[n - 1] == '.' && t->last[n - 2] == '\\' &&
           (n == 2 || t->last[n - 3] == '\n');
}

static void
put_lowrite(sl_buf *b, const unsigned char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    sl_buf_puts(b, "SELECT pg_catalog.lowrite(0, E'\\\\x");
    sl_buf_reserve(b, 2 * n + 8);
    for (size_t i = 0; i < n; i++) {
        b->data[b->len++] = hex[p[i] >> 4];
        b->data[b->len++] = hex[p[i] & 15];
    }
    sl_buf_puts(b, "');\n");
}

/* The next piece of a BLOBS entry's text into t->out; 0 when it has all been produced. */
static int
blobs_step(sl_toc_text *t, sl_error *err)
{
    if (!t->in_blob) {
        uint32_t oid = 0;
        int got = sl_pgarchive_blob_next(t->data, &oid, err);
        if (got < 0)
            return -1;
        if (got == 0) {
            if (!t->o->single_transaction)
                sl_buf_puts(&t->out, "COMMIT;\n");
            t->state = T_END;
            return 1;
        }
        sl_buf_printf(&t->out, "SELECT pg_catalog.lo_open('%u', %d);\n", (unsigned)oid,
                      INV_WRITE);
        t->in_blob = true;
        return 1;
    }
    const void *p;
    size_t n;
    int got = sl_pgarchive_data_read(t->data, &p, &n, err);
    if (got < 0)
        return -1;
    if (got == 0) {
        sl_buf_puts(&t->out, "SELECT pg_catalog.lo_close(0);\n");
        t->in_blob = false;
        return 1;
    }
    for (size_t off = 0; off < n; off += LO_CHUNK)
        put_lowrite(&t->out, (const unsigned char *)p + off, n - off < LO_CHUNK ? n - off
                                                                                  : LO_CHUNK);
    return 1;
}

int
sl_toc_text_read(sl_toc_text *t, const char **data, size_t *len, sl_error *err)
{
    for (;;) {
        if (t->out.len) {
            /* hand over what is buffered; the caller consumes it before the next call */
            *data = t->out.data;
            *len = t->out.len;
            t->out.len = 0;
            return 1;
        }
        switch (t->state) {
        case T_HEAD:
            t->state = !t->data ? T_END : is_blobs(t) ? T_BLOBS : T_COPY;
            continue;
        case T_COPY: {
            const void *p;
            size_t n;
            int got = sl_pgarchive_data_read(t->data, &p, &n, err);
            if (got < 0)
                return -1;
            if (got == 0) {
                t->state = T_TAIL;
                continue;
            }
            track_tail(t, p, n);
            *data = p;
            *len = n;
            return 1;
        }
        case T_BLOBS:
            if (blobs_step(t, err) < 0)
                return -1;
            continue;
        case T_TAIL:
            /* pg_dump ends COPY data with "\.": older or other writers may not */
            if (t->it->e->copy_stmt && t->it->e->copy_stmt[0] && !ends_copy(t))
                sl_buf_puts(&t->out, (t->nlast && t->last[t->nlast - 1] != '\n') ? "\n\\.\n"
                                                                                    : "\\.\n");
            t->state = T_END;
            continue;
        case T_END:
            return 0;
        }
    }
}

void
sl_toc_text_close(sl_toc_text *t)
{
    if (!t)
        return;
    sl_pgarchive_data_close(t->data);
    sl_buf_free(&t->out);
    free(t);
}
