/* io/manifest.c: manifest.json read back (manifest.h), with jansson: the document is small and
 * bounded (SL_MANIFEST_MAX), so its tree is too. */
#include "io/manifest.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

static int
bad(sl_error *err, const char *what)
{
    sl_error_set(err, SL_E_ARCHIVE, "manifest.json: %s", what);
    return -1;
}

/* A string field, copied; NULL when absent and optional. */
static int
get_string(json_t *o, const char *key, bool required, char **out, sl_error *err)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v && !required)
        return 0;
    if (!json_is_string(v)) {
        sl_error_set(err, SL_E_ARCHIVE, "manifest.json: \"%s\" is missing or not a string", key);
        return -1;
    }
    *out = sl_strdup(json_string_value(v));
    return 0;
}

static int
get_int(json_t *o, const char *key, int64_t *out, sl_error *err)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        sl_error_set(err, SL_E_ARCHIVE, "manifest.json: \"%s\" is missing or not a count", key);
        return -1;
    }
    *out = (int64_t)json_integer_value(v);
    return 0;
}

static int
get_member_name(json_t *o, const char *key, char *out, sl_error *err)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v) || !sl_tar_name_ok(json_string_value(v))) {
        sl_error_set(err, SL_E_ARCHIVE, "manifest.json: \"%s\" is not a member name", key);
        return -1;
    }
    strcpy(out, json_string_value(v));
    return 0;
}

static int
read_member(json_t *o, sl_manifest_member *m, sl_error *err)
{
    int64_t size = 0;
    json_t *sha = json_object_get(o, "sha256");
    if (!json_is_object(o) || get_member_name(o, "name", m->name, err) != 0 ||
        get_int(o, "size", &size, err) != 0)
        return -1;
    if (!json_is_string(sha) || !sl_sha256_parse_hex(json_string_value(sha), m->sha256))
        return bad(err, "a member's \"sha256\" is not 64 hex digits");
    m->size = (uint64_t)size;
    return 0;
}

/* name_hex: the exact bytes of the name (JSON strings are UTF-8 only). */
static int
read_name(json_t *o, char **out, sl_error *err)
{
    json_t *v = json_object_get(o, "name_hex");
    const char *hex = json_is_string(v) ? json_string_value(v) : NULL;
    size_t n = hex ? strlen(hex) : 0;
    if (!hex || n == 0 || n % 2 || n > 2 * 256)
        return bad(err, "a database's \"name_hex\" is missing or malformed");
    char *name = sl_calloc(1, n / 2 + 1);
    for (size_t i = 0; i < n / 2; i++) {
        unsigned byte = 0;
        for (int k = 0; k < 2; k++) {
            char c = hex[2 * i + (size_t)k];
            unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                         : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) : 16;
            if (d == 16) {
                free(name);
                return bad(err, "a database's \"name_hex\" is not hexadecimal");
            }
            byte = byte * 16 + d;
        }
        if (byte == 0) {
            free(name);
            return bad(err, "a database's name holds a NUL byte");
        }
        name[i] = (char)byte;
    }
    *out = name;
    return 0;
}

static int
read_database(json_t *o, sl_manifest_database *d, sl_error *err)
{
    char *status = NULL;
    if (!json_is_object(o) || read_name(o, &d->name, err) != 0 ||
        get_member_name(o, "member", d->member, err) != 0 ||
        get_string(o, "status", true, &status, err) != 0)
        return -1;
    d->ok = strcmp(status, "ok") == 0;
    bool known = d->ok || strcmp(status, "failed") == 0;
    free(status);
    if (!known)
        return bad(err, "a database's \"status\" is neither \"ok\" nor \"failed\"");
    json_t *tool = json_object_get(o, "tool");
    d->by_pg_dump = json_is_string(tool) && strcmp(json_string_value(tool), "pg_dump") == 0;
    if (get_int(o, "rows", &d->rows, err) != 0 ||
        get_int(o, "database_size", &d->database_size, err) != 0 ||
        get_string(o, "create_sql", true, &d->create_sql, err) != 0 ||
        get_string(o, "alter_sql", true, &d->alter_sql, err) != 0 ||
        get_string(o, "error", false, &d->error, err) != 0 ||
        get_string(o, "started_at", false, &d->started_at, err) != 0 ||
        get_string(o, "finished_at", false, &d->finished_at, err) != 0)
        return -1;
    return 0;
}

static int
read_arrays(json_t *root, sl_manifest *m, sl_error *err)
{
    json_t *members = json_object_get(root, "members");
    json_t *dbs = json_object_get(root, "databases");
    json_t *skipped = json_object_get(root, "skipped");
    if (!json_is_array(members) || !json_is_array(dbs) || !json_is_array(skipped))
        return bad(err, "\"members\", \"databases\" or \"skipped\" is not a list");
    m->nmembers = json_array_size(members);
    m->members = sl_calloc(m->nmembers + 1, sizeof *m->members);
    for (size_t i = 0; i < m->nmembers; i++)
        if (read_member(json_array_get(members, i), &m->members[i], err) != 0)
            return -1;
    m->databases = sl_calloc(json_array_size(dbs) + 1, sizeof *m->databases);
    for (size_t i = 0; i < json_array_size(dbs); i++) {
        m->ndatabases = i + 1;
        if (read_database(json_array_get(dbs, i), &m->databases[i], err) != 0)
            return -1;
    }
    m->nskipped = json_array_size(skipped);
    return 0;
}

static int
read_globals(json_t *root, sl_manifest *m, sl_error *err)
{
    json_t *g = json_object_get(root, "globals");
    int64_t roles = 0, memberships = 0, tablespaces = 0;
    if (!json_is_object(g) || get_int(g, "roles", &roles, err) != 0 ||
        get_int(g, "memberships", &memberships, err) != 0 ||
        get_int(g, "tablespaces", &tablespaces, err) != 0 ||
        !json_is_boolean(json_object_get(g, "passwords_saved")))
        return bad(err, "\"globals\" is missing or incomplete");
    m->roles = (int)(roles > INT32_MAX ? INT32_MAX : roles);
    m->memberships = (int)(memberships > INT32_MAX ? INT32_MAX : memberships);
    m->tablespaces = (int)(tablespaces > INT32_MAX ? INT32_MAX : tablespaces);
    m->passwords_saved = json_is_true(json_object_get(g, "passwords_saved"));
    return 0;
}

int
sl_manifest_parse(const char *text, size_t len, sl_manifest *m, sl_error *err)
{
    memset(m, 0, sizeof *m);
    if (len > SL_MANIFEST_MAX)
        return bad(err, "larger than 4 MiB");
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        sl_error_set(err, SL_E_ARCHIVE, "manifest.json: not JSON (%s at byte %d)", jerr.text,
                     jerr.position);
        return -1;
    }
    int rc = -1;
    json_t *format = json_object_get(root, "format");
    json_t *version = json_object_get(root, "format_version");
    if (!json_is_string(format) || strcmp(json_string_value(format), "sluice-cluster") != 0) {
        bad(err, "not a sluice cluster archive's manifest");
        goto out;
    }
    if (!json_is_integer(version) || json_integer_value(version) != 1) {
        bad(err, "format_version is not 1 (written by a newer sluice?)");
        goto out;
    }
    json_t *engine = json_object_get(root, "engine");
    if (engine && (!json_is_string(engine) ||
                   (strcmp(json_string_value(engine), "mysql") != 0 &&
                    strcmp(json_string_value(engine), "postgres") != 0))) {
        bad(err, "engine is neither postgres nor mysql");
        goto out;
    }
    m->mysql = engine && strcmp(json_string_value(engine), "mysql") == 0;
    if (get_string(root, "server_version", true, &m->server_version, err) != 0 ||
        get_string(root, "started_at", true, &m->started_at, err) != 0 ||
        get_string(root, "finished_at", true, &m->finished_at, err) != 0 ||
        read_globals(root, m, err) != 0 || read_arrays(root, m, err) != 0)
        goto out;
    rc = 0;
out:
    json_decref(root);
    if (rc != 0)
        sl_manifest_free(m);
    return rc;
}

void
sl_manifest_free(sl_manifest *m)
{
    for (size_t i = 0; i < m->ndatabases; i++) {
        sl_manifest_database *d = &m->databases[i];
        free(d->name);
        free(d->error);
        free(d->create_sql);
        free(d->alter_sql);
        free(d->started_at);
        free(d->finished_at);
    }
    free(m->databases);
    free(m->members);
    free(m->server_version);
    free(m->started_at);
    free(m->finished_at);
    memset(m, 0, sizeof *m);
}

const sl_manifest_member *
sl_manifest_member_find(const sl_manifest *m, const char *name)
{
    for (size_t i = 0; i < m->nmembers; i++)
        if (strcmp(m->members[i].name, name) == 0)
            return &m->members[i];
    return NULL;
}
