/* tap/config.c: see config.h. One table lists every key with how to read it; the parse walks
 * the document once, so a key is either read by its row or reported as unknown. */
#include "tap/config.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"

/* A config file is a few hundred bytes; anything near this is not one. */
#define CONFIG_MAX_BYTES (1 << 20)

typedef enum {
    V_STRING,   /* char * */
    V_PORT,     /* char *: a number or a string of digits */
    V_INT,      /* int64_t: a number or a string of digits */
    V_FLOAT,    /* double: a number or a numeric string */
    V_FLAG,     /* bool: true/false or "true"/"false" */
    V_SCHEMAS,  /* filter_schemas: "a, b" or ["a", "b"] */
    V_METHOD,   /* default_replication_method */
    V_PLUGIN,   /* logical_decoding_plugin */
} value_kind;

typedef struct {
    const char *key;
    value_kind kind;
    bool required;
    size_t offset;
    const char *help;
} key_rule;

#define RULE(k, kind, req, help) {#k, kind, req, offsetof(sl_tap_config, k), help}
static const key_rule rules[] = {
    RULE(host, V_STRING, true, "PostgreSQL host"),
    RULE(port, V_PORT, true, "PostgreSQL port"),
    RULE(user, V_STRING, true, "PostgreSQL user"),
    RULE(password, V_STRING, true, "PostgreSQL password"),
    RULE(dbname, V_STRING, true, "database to discover and extract"),
    RULE(ssl, V_FLAG, false, "\"true\": connect with sslmode=require"),
    RULE(filter_schemas, V_SCHEMAS, false,
         "comma-separated schema names: discover only these schemas (default: all)"),
    RULE(default_replication_method, V_METHOD, false,
         "replication method of streams whose metadata names none"),
    RULE(max_run_seconds, V_INT, false, "stop LOG_BASED replication after this long (43200)"),
    RULE(logical_poll_total_seconds, V_FLOAT, false,
         "stop LOG_BASED replication after this long without data (0: 10800)"),
    RULE(break_at_end_lsn, V_FLAG, false,
         "stop LOG_BASED replication at the WAL position the run started at (true)"),
    RULE(debug_lsn, V_FLAG, false, "\"true\": add _sdc_lsn to LOG_BASED records"),
    RULE(tap_id, V_STRING, false, "pipeline id, part of the replication slot's name"),
    RULE(itersize, V_INT, false, "rows fetched at a time by FULL_TABLE and INCREMENTAL (20000)"),
    RULE(use_secondary, V_FLAG, false, "read FULL_TABLE and INCREMENTAL streams from a replica"),
    RULE(secondary_host, V_STRING, false, "replica host (required with use_secondary)"),
    RULE(secondary_port, V_PORT, false, "replica port (required with use_secondary)"),
    RULE(secondary_catchup_seconds, V_FLOAT, false,
         "LOG_BASED with use_secondary: how long the replica may take to replay up to the "
         "slot's position before the initial copy (300)"),
    RULE(wal2json_message_format, V_INT, false,
         "pipelinewise's wal2json format-version, 1 or 2: accepted, sluice always streams 2"),
    RULE(logical_decoding_plugin, V_PLUGIN, false,
         "logical decoding plugin: wal2json (default) or pgoutput"),
    RULE(publication_name, V_STRING, false, "publication pgoutput streams from"),
    RULE(replication_slot_name, V_STRING, false,
         "LOG_BASED: the replication slot (default pipelinewise_<dbname>[_<tap_id>])"),
    RULE(work_mem, V_STRING, false, "work_mem of the tap's sessions, e.g. \"64MB\" (server's)"),
    RULE(poll_interval, V_FLOAT, false,
         "LOG_BASED: seconds between status updates to the server (5)"),
    RULE(fast_sync, V_FLAG, false, "FULL_TABLE of a partitioned table unsorted, not resumable"),
    RULE(diagnostic_mode, V_FLAG, false,
         "log server settings, table sizes and row estimates, per-stream rates"),
};
#define NRULES (sizeof rules / sizeof rules[0])

static sl_tap_config *
config_new(void)
{
    sl_tap_config *c = sl_calloc(1, sizeof *c);
    c->max_run_seconds = 43200;
    c->break_at_end_lsn = true;
    c->itersize = 20000;
    c->wal2json_message_format = 1;
    c->poll_interval = 5;
    c->secondary_catchup_seconds = 300;
    return c;
}

static void
free_list(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

void
sl_tap_config_free(sl_tap_config *c)
{
    if (!c)
        return;
    if (c->password) {
        explicit_bzero(c->password, strlen(c->password));
        free(c->password);
    }
    free(c->host);
    free(c->port);
    free(c->user);
    free(c->dbname);
    free(c->tap_id);
    free(c->secondary_host);
    free(c->secondary_port);
    free(c->publication_name);
    free(c->replication_slot_name);
    free(c->work_mem);
    free_list(c->filter_schemas, c->n_filter_schemas);
    free_list(c->unknown, c->n_unknown);
    free(c);
}

const char *
sl_tap_method_name(sl_tap_method m)
{
    switch (m) {
    case SL_TAP_METHOD_FULL_TABLE: return "FULL_TABLE";
    case SL_TAP_METHOD_INCREMENTAL: return "INCREMENTAL";
    case SL_TAP_METHOD_LOG_BASED: return "LOG_BASED";
    case SL_TAP_METHOD_UNSET: break;
    }
    return NULL;
}

static void
list_add(char ***list, size_t *n, const char *s, size_t len)
{
    *list = sl_realloc(*list, (*n + 1) * sizeof **list);
    (*list)[(*n)++] = sl_strndup(s, len);
}

static bool
digits_only(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* pipelinewise splits on commas and strips blanks around each name. */
static int
read_schemas(sl_tap_config *c, json_t *v)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        while (*s) {
            const char *end = strchr(s, ',');
            size_t len = end ? (size_t)(end - s) : strlen(s);
            const char *a = s, *b = s + len;
            while (a < b && *a == ' ')
                a++;
            while (b > a && b[-1] == ' ')
                b--;
            if (b > a)
                list_add(&c->filter_schemas, &c->n_filter_schemas, a, (size_t)(b - a));
            s += len + (end ? 1 : 0);
        }
        return 0;
    }
    if (!json_is_array(v))
        return -1;
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item) {
        if (!json_is_string(item))
            return -1;
        list_add(&c->filter_schemas, &c->n_filter_schemas, json_string_value(item),
                 json_string_length(item));
    }
    return 0;
}

static int
read_int(json_t *v, int64_t *out)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 0;
    }
    if (json_is_string(v) && digits_only(json_string_value(v))) {
        errno = 0;
        *out = strtoll(json_string_value(v), NULL, 10);
        return errno ? -1 : 0;
    }
    return -1;
}

static int
read_float(json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 0;
    }
    if (!json_is_string(v))
        return -1;
    char *end = NULL;
    *out = strtod(json_string_value(v), &end);
    return end && end != json_string_value(v) && !*end && isfinite(*out) ? 0 : -1;
}

static int
read_flag(json_t *v, bool *out)
{
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return 0;
    }
    if (json_is_string(v) && (strcmp(json_string_value(v), "true") == 0 ||
                              strcmp(json_string_value(v), "false") == 0)) {
        *out = strcmp(json_string_value(v), "true") == 0;
        return 0;
    }
    return -1;
}

static int
read_choice(json_t *v, const char *const *names, int n, int *out)
{
    if (!json_is_string(v))
        return -1;
    for (int i = 0; i < n; i++) {
        if (strcmp(json_string_value(v), names[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    return -1;
}

/* What a rule's value must look like, for the message when it does not. */
static const char *
expected(value_kind kind)
{
    switch (kind) {
    case V_STRING: return "a string";
    case V_PORT: return "a port number";
    case V_INT: return "an integer";
    case V_FLOAT: return "a number";
    case V_FLAG: return "true or false";
    case V_SCHEMAS: return "a comma-separated string or an array of strings";
    case V_METHOD: return "FULL_TABLE, INCREMENTAL or LOG_BASED";
    case V_PLUGIN: return "wal2json or pgoutput";
    }
    return "";
}

static int
read_value(sl_tap_config *c, const key_rule *r, json_t *v)
{
    void *field = (char *)c + r->offset;
    switch (r->kind) {
    case V_STRING:
        if (!json_is_string(v))
            return -1;
        *(char **)field = sl_strndup(json_string_value(v), json_string_length(v));
        return 0;
    case V_PORT: {
        int64_t port = 0;
        if (read_int(v, &port) != 0 || port < 1 || port > 65535)
            return -1;
        char text[16];
        snprintf(text, sizeof text, "%d", (int)port);
        *(char **)field = sl_strdup(text);
        return 0;
    }
    case V_INT:
        return read_int(v, (int64_t *)field);
    case V_FLOAT:
        return read_float(v, (double *)field);
    case V_FLAG:
        return read_flag(v, (bool *)field);
    case V_SCHEMAS:
        return read_schemas(c, v);
    case V_METHOD: {
        static const char *const names[] = {"FULL_TABLE", "INCREMENTAL", "LOG_BASED"};
        int i = 0;
        if (read_choice(v, names, 3, &i) != 0)
            return -1;
        *(sl_tap_method *)field = (sl_tap_method)(SL_TAP_METHOD_FULL_TABLE + i);
        return 0;
    }
    case V_PLUGIN: {
        static const char *const names[] = {"wal2json", "pgoutput"};
        int i = 0;
        if (read_choice(v, names, 2, &i) != 0)
            return -1;
        *(sl_tap_plugin *)field = (sl_tap_plugin)i;
        return 0;
    }
    }
    return -1;
}

static const key_rule *
find_rule(const char *key)
{
    for (size_t i = 0; i < NRULES; i++)
        if (strcmp(rules[i].key, key) == 0)
            return &rules[i];
    return NULL;
}

static int
read_members(sl_tap_config *c, json_t *doc, bool *seen, const char *name, sl_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v) {
        const key_rule *r = find_rule(key);
        if (!r) {
            list_add(&c->unknown, &c->n_unknown, key, strlen(key));
            continue;
        }
        if (json_is_null(v))
            continue;
        seen[r - rules] = true;
        if (read_value(c, r, v) != 0) {
            sl_error_set(err, SL_E_USAGE, "config \"%s\": \"%s\" must be %s", name, r->key,
                         expected(r->kind));
            return -1;
        }
    }
    return 0;
}

/* Every missing key in one message, so that one run shows all of them. */
static int
check_required(const sl_tap_config *c, const bool *seen, const char *name, sl_error *err)
{
    sl_buf missing = SL_BUF_INIT;
    for (size_t i = 0; i < NRULES; i++) {
        if (rules[i].required && !seen[i])
            sl_buf_printf(&missing, "%s%s", missing.len ? ", " : "", rules[i].key);
    }
    if (c->use_secondary && !c->secondary_host)
        sl_buf_printf(&missing, "%ssecondary_host", missing.len ? ", " : "");
    if (c->use_secondary && !c->secondary_port)
        sl_buf_printf(&missing, "%ssecondary_port", missing.len ? ", " : "");
    int rc = 0;
    if (missing.len) {
        sl_error_set(err, SL_E_USAGE, "config \"%s\": missing required keys: %s%s", name,
                     missing.data, c->use_secondary ? " (use_secondary needs both "
                                                      "secondary_host and secondary_port)" : "");
        rc = -1;
    }
    sl_buf_free(&missing);
    return rc;
}

/* jansson's message may end with " near 'TOKEN'": the token is input, and may be a password. */
static void
syntax_error(sl_error *err, const char *name, const json_error_t *jerr)
{
    char text[JSON_ERROR_TEXT_LENGTH];
    snprintf(text, sizeof text, "%s", jerr->text);
    char *near = strstr(text, " near ");
    if (near)
        *near = '\0';
    sl_error_set(err, SL_E_USAGE, "config \"%s\": invalid JSON at line %d, column %d: %s", name,
                 jerr->line, jerr->column, text);
}

int
sl_tap_config_parse(sl_tap_config **out, const char *text, const char *name, sl_error *err)
{
    json_error_t jerr;
    json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        syntax_error(err, name, &jerr);
        return -1;
    }
    sl_tap_config *c = config_new();
    bool seen[NRULES] = {false};
    int rc = -1;
    if (!json_is_object(doc))
        sl_error_set(err, SL_E_USAGE, "config \"%s\": expected a JSON object", name);
    else if (read_members(c, doc, seen, name, err) == 0 && check_required(c, seen, name, err) == 0)
        rc = 0;
    json_decref(doc);
    if (rc == 0 && c->wal2json_message_format != 1 && c->wal2json_message_format != 2) {
        sl_error_set(err, SL_E_USAGE, "config \"%s\": \"wal2json_message_format\" must be 1 or 2",
                     name);
        rc = -1;
    }
    /* the server takes a status interval in whole milliseconds up to INT_MAX */
    if (rc == 0 && !(c->poll_interval >= 0.001 && c->poll_interval <= 86400)) {
        sl_error_set(err, SL_E_USAGE, "config \"%s\": \"poll_interval\" must be a number of "
                     "seconds from 0.001 to 86400", name);
        rc = -1;
    }
    if (rc == 0 && !(c->secondary_catchup_seconds >= 0 &&
                     c->secondary_catchup_seconds <= 86400)) {
        sl_error_set(err, SL_E_USAGE, "config \"%s\": \"secondary_catchup_seconds\" must be a "
                     "number of seconds from 0 to 86400", name);
        rc = -1;
    }
    if (rc != 0) {
        sl_tap_config_free(c);
        return -1;
    }
    *out = c;
    return 0;
}

static int
read_file(const char *path, sl_buf *text, sl_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        sl_error_errno(err, SL_E_USAGE, errno, "could not open config \"%s\"", path);
        return -1;
    }
    char chunk[8192];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0 && text->len <= CONFIG_MAX_BYTES)
        sl_buf_append(text, chunk, got);
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        sl_error_set(err, SL_E_USAGE, "could not read config \"%s\"", path);
        return -1;
    }
    if (text->len > CONFIG_MAX_BYTES) {
        sl_error_set(err, SL_E_USAGE, "config \"%s\" is larger than 1 MiB", path);
        return -1;
    }
    if (memchr(text->data ? text->data : "", '\0', text->len)) {
        sl_error_set(err, SL_E_USAGE, "config \"%s\" holds a NUL byte: not JSON", path);
        return -1;
    }
    return 0;
}

int
sl_tap_config_load(sl_tap_config **out, const char *path, sl_error *err)
{
    sl_buf text = SL_BUF_INIT;
    int rc = read_file(path, &text, err);
    if (rc == 0)
        rc = sl_tap_config_parse(out, text.data ? text.data : "", path, err);
    if (text.data)
        explicit_bzero(text.data, text.len);  /* it holds the password */
    sl_buf_free(&text);
    return rc;
}

sl_conninfo *
sl_tap_config_conninfo(const sl_tap_config *c, bool secondary)
{
    sl_conninfo *base = sl_conninfo_new();
    sl_conninfo_set(base, "host", secondary ? c->secondary_host : c->host);
    sl_conninfo_set(base, "port", secondary ? c->secondary_port : c->port);
    sl_conninfo_set(base, "user", c->user);
    sl_conninfo_set(base, "password", c->password);
    sl_conninfo_set(base, "connect_timeout", "30");
    if (c->ssl)
        sl_conninfo_set(base, "sslmode", "require");
    sl_conninfo *ci = sl_conninfo_with_dbname(base, c->dbname);
    sl_conninfo_free(base);
    return ci;
}

/* The JSON Schema type of a key's value, as --about shows it. */
static const char *
schema_type(value_kind kind)
{
    switch (kind) {
    case V_PORT:
    case V_INT: return "integer";
    case V_FLOAT: return "number";
    case V_FLAG: return "boolean";
    case V_STRING:
    case V_SCHEMAS:
    case V_METHOD:
    case V_PLUGIN: break;
    }
    return "string";
}

size_t
sl_tap_config_keys(const sl_tap_config_key **out)
{
    static sl_tap_config_key keys[NRULES];
    for (size_t i = 0; i < NRULES; i++)
        keys[i] = (sl_tap_config_key){rules[i].key, schema_type(rules[i].kind),
                                      rules[i].required, rules[i].help};
    *out = keys;
    return NRULES;
}
