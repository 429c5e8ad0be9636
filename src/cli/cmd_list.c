/* cli/cmd_list.c: "sluice list ARCHIVE": what a cluster archive holds, from its manifest
 * (checked against the tar, restore/archive.h), without reading the backups themselves. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/escape.h"
#include "base/mem.h"
#include "base/units.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "io/checksum.h"
#include "io/archive.h"
#include "io/pgarchive.h"
#include "restore/cluster.h"
#include "restore/toc.h"

static const char usage[] =
    "Show what a cluster archive holds: its databases with their status, sizes, row counts,\n"
    "times and checksums, and its globals, from the archive's manifest. Nothing is\n"
    "decompressed: \"sluice verify\" checks the contents. A pg_dumpall script or a\n"
    "dbbackup cluster archive (.tar.gz) is read through to name its databases.\n"
    "A pg_dump custom (-Fc) or directory (-Fd) archive: its table of contents, one line per\n"
    "entry as pg_restore -l prints it (with --json: every field and dependency), only the\n"
    "entries \"sluice restore\" would take with the same -n/-N/-t/-s/-a/--no-comments.\n\n"
    "Usage:\n"
    "  sluice list ARCHIVE [OPTION]...\n\n"
    "Options:\n"
    "      --json                 one JSON document on stdout instead of text\n"
    "  -n, --schema=PATTERN, -N, --exclude-schema=PATTERN, -t, --table=PATTERN,\n"
    "  -s, --schema-only, -a, --data-only, --no-comments\n"
    "                             a pg_dump archive's entries, as restore selects them\n"
    "      --log-format=human|json  log lines for people or machines (default human)\n"
    "      --help                 show this help\n";

enum { OPT_NO_COMMENTS = SL_OPT_COMMAND_BASE };

static const struct option longopts[] = {
    {"json", no_argument, NULL, SL_OPT_JSON},
    {"schema", required_argument, NULL, 'n'},
    {"exclude-schema", required_argument, NULL, 'N'},
    {"table", required_argument, NULL, 't'},
    {"schema-only", no_argument, NULL, 's'},
    {"data-only", no_argument, NULL, 'a'},
    {"no-comments", no_argument, NULL, OPT_NO_COMMENTS},
    {"log-format", required_argument, NULL, SL_OPT_LOG_FORMAT},
    {"help", no_argument, NULL, SL_OPT_HELP},
    {NULL, 0, NULL, 0},
};

static void
sha_of(const sl_manifest *m, const char *member, char *hex)
{
    const sl_manifest_member *mm = sl_manifest_member_find(m, member);
    if (mm)
        sl_sha256_hex(mm->sha256, hex);
    else
        strcpy(hex, "-");
}

static void
print_text(const char *path, const sl_manifest *m)
{
    char *file = sl_escape_dup(path), *version = sl_escape_dup(m->server_version);
    char *started = sl_escape_dup(m->started_at), *finished = sl_escape_dup(m->finished_at);
    printf("\"%s\": sluice cluster archive of PostgreSQL %s, %s to %s\n", file, version, started,
           finished);
    printf("globals: %d roles (password hashes %s), %d memberships, %d tablespaces\n",
           m->roles, m->passwords_saved ? "saved" : "NOT saved", m->memberships,
           m->tablespaces);
    printf("  %-32s %-6s %14s %10s %10s  %-20s  %s\n", "DATABASE", "STATUS", "ROWS", "SIZE",
           "STORED", "FINISHED", "SHA-256");
    for (size_t i = 0; i < m->ndatabases; i++) {
        const sl_manifest_database *d = &m->databases[i];
        const sl_manifest_member *mm = sl_manifest_member_find(m, d->member);
        char size[32], stored[32], hex[2 * SL_SHA256_LEN + 1];
        sha_of(m, d->member, hex);
        char *name = sl_escape_dup(d->name), *when = sl_escape_dup(d->finished_at);
        printf("  %-32s %-6s %14lld %10s %10s  %-20s  %s\n", name,
               !d->ok ? "FAILED" : d->by_pg_dump ? "pg_dump" : "ok",
               (long long)d->rows, sl_units_bytes(d->database_size, size, sizeof size),
               mm ? sl_units_bytes((int64_t)mm->size, stored, sizeof stored) : "-",
               when ? when : "-", hex);
        free(name);
        free(when);
    }
    if (m->nskipped)
        printf("%zu databases were left out at backup time (they do not allow connections)\n",
               m->nskipped);
    free(file);
    free(version);
    free(started);
    free(finished);
}

static void
print_json(const char *path, const sl_manifest *m)
{
    json_t *dbs = json_array();
    for (size_t i = 0; i < m->ndatabases; i++) {
        const sl_manifest_database *d = &m->databases[i];
        const sl_manifest_member *mm = sl_manifest_member_find(m, d->member);
        char hex[2 * SL_SHA256_LEN + 1];
        sha_of(m, d->member, hex);
        json_array_append_new(
            dbs, json_pack("{s:o, s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:o, s:s}", "name",
                           sl_escape_json_string(d->name), "member", d->member, "status",
                           d->ok ? "ok" : "failed", "tool", d->by_pg_dump ? "pg_dump" : "sluice",
                           "rows", (json_int_t)d->rows,
                           "database_size", (json_int_t)d->database_size, "stored_bytes",
                           (json_int_t)(mm ? mm->size : 0), "started_at",
                           sl_escape_json_string(d->started_at), "finished_at",
                           sl_escape_json_string(d->finished_at), "sha256", hex));
    }
    json_t *root = json_pack("{s:o, s:o, s:o, s:o, s:{s:i, s:i, s:i, s:b}, s:o}", "file",
                             sl_escape_json_string(path), "server_version",
                             sl_escape_json_string(m->server_version), "started_at",
                             sl_escape_json_string(m->started_at), "finished_at",
                             sl_escape_json_string(m->finished_at), "globals", "roles",
                             m->roles, "memberships", m->memberships, "tablespaces",
                             m->tablespaces, "passwords_saved", m->passwords_saved,
                             "databases", dbs);
    char *text = sl_escape_json_dumps(root, JSON_INDENT(2));
    if (text)
        puts(text);
    free(text);
    json_decref(root);
}

/* A TOC field for a line of the list: CR and LF become spaces (as pg_restore -l writes them),
 * other control characters are escaped. */
static void
put_field(sl_buf *b, const char *s, const char *none)
{
    if (!s) {
        sl_buf_puts(b, none);
        return;
    }
    char *flat = sl_strdup(s);
    for (char *p = flat; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    sl_escape_text(b, flat, strlen(flat));
    free(flat);
}

static const char *const compression_names[] = {"none", "gzip", "lz4", "zstd"};

static void
pgarchive_text(const sl_pgarchive *a, const sl_toc_plan *plan)
{
    sl_buf b = SL_BUF_INIT;
    sl_buf_puts(&b, ";\n; Archive created at ");
    put_field(&b, sl_pgarchive_created(a), "[unknown]");
    sl_buf_puts(&b, "\n;     dbname: ");
    put_field(&b, sl_pgarchive_dbname(a), "");
    sl_buf_printf(&b, "\n;     TOC Entries: %zu\n;     Compression: %s\n;     Dump Version: %s\n"
                      ";     Format: %s\n",
                  sl_pgarchive_count(a), compression_names[sl_pgarchive_compression(a)],
                  sl_pgarchive_version(a),
                  sl_pgarchive_format_of(a) == SL_PGARCHIVE_CUSTOM ? "CUSTOM" : "DIRECTORY");
    sl_buf_puts(&b, ";     Dumped from database version: ");
    put_field(&b, sl_pgarchive_server_version(a), "");
    sl_buf_puts(&b, "\n;     Dumped by pg_dump version: ");
    put_field(&b, sl_pgarchive_dump_version(a), "");
    sl_buf_puts(&b, "\n;\n;\n; Selected TOC Entries:\n;\n");
    fwrite(b.data, 1, b.len, stdout);
    for (size_t i = 0; i < sl_pgarchive_count(a); i++) {
        const sl_pgarchive_entry *e = sl_pgarchive_at(a, i);
        if (!sl_toc_plan_has(plan, e))
            continue;
        sl_buf_reset(&b);
        sl_buf_printf(&b, "%d; %u %u ", e->dump_id, (unsigned)e->table_oid, (unsigned)e->oid);
        put_field(&b, e->desc, "");
        sl_buf_putc(&b, ' ');
        put_field(&b, e->namespace_, "-");
        sl_buf_putc(&b, ' ');
        put_field(&b, e->tag, "");
        sl_buf_putc(&b, ' ');
        put_field(&b, e->owner, "");
        sl_buf_putc(&b, '\n');
        fwrite(b.data, 1, b.len, stdout);
    }
    sl_buf_free(&b);
}

static void
pgarchive_json(const char *path, const sl_pgarchive *a)
{
    json_t *entries = json_array();
    for (size_t i = 0; i < sl_pgarchive_count(a); i++) {
        const sl_pgarchive_entry *e = sl_pgarchive_at(a, i);
        json_t *deps = json_array();
        for (size_t d = 0; d < e->ndeps; d++)
            json_array_append_new(deps, json_integer(e->deps[d]));
        json_array_append_new(
            entries, json_pack("{s:i, s:I, s:I, s:o, s:o, s:o, s:o, s:i, s:b, s:o}", "id",
                               e->dump_id, "table_oid", (json_int_t)e->table_oid, "oid",
                               (json_int_t)e->oid, "desc", sl_escape_json_string(e->desc),
                               "schema", sl_escape_json_string(e->namespace_), "tag",
                               sl_escape_json_string(e->tag), "owner",
                               sl_escape_json_string(e->owner), "section", e->section,
                               "has_data", e->has_data, "deps", deps));
    }
    json_t *root = json_pack(
        "{s:o, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "file", sl_escape_json_string(path),
        "format", sl_pgarchive_format_of(a) == SL_PGARCHIVE_CUSTOM ? "custom" : "directory",
        "version", sl_pgarchive_version(a), "compression",
        compression_names[sl_pgarchive_compression(a)], "dbname",
        sl_escape_json_string(sl_pgarchive_dbname(a)), "server_version",
        sl_escape_json_string(sl_pgarchive_server_version(a)), "dump_version",
        sl_escape_json_string(sl_pgarchive_dump_version(a)), "created",
        sl_escape_json_string(sl_pgarchive_created(a)), "entries", entries);
    char *text = sl_escape_json_dumps(root, JSON_INDENT(2));
    if (text)
        puts(text);
    free(text);
    json_decref(root);
}

typedef struct list_args {
    bool json;
    sl_cli_patterns n, N, t;
    sl_toc_opts toc;
} list_args;

static int
list_opt(void *ctx, int opt, const char *arg, sl_error *err)
{
    list_args *a = ctx;
    switch (opt) {
    case 'n':
        sl_cli_patterns_add(&a->n, arg);
        a->toc.schemas = a->n.v;
        return 0;
    case 'N':
        sl_cli_patterns_add(&a->N, arg);
        a->toc.exclude_schemas = a->N.v;
        return 0;
    case 't':
        sl_cli_patterns_add(&a->t, arg);
        a->toc.tables = a->t.v;
        return 0;
    case 's':
        a->toc.schema_only = true;
        return 0;
    case 'a':
        a->toc.data_only = true;
        return 0;
    case OPT_NO_COMMENTS:
        a->toc.no_comments = true;
        return 0;
    }
    return sl_cli_json_opt(&a->json, opt, arg, err);
}

/* A pg_dump archive: its table of contents. */
static int
list_pgarchive(const char *path, bool json, const sl_toc_opts *opts)
{
    sl_pgarchive *a = NULL;
    sl_toc_plan plan;
    memset(&plan, 0, sizeof plan);
    sl_error err;
    sl_error_clear(&err);
    int code = 0;
    if (sl_pgarchive_open(&a, path, &err) != 0 || sl_toc_plan_make(a, opts, &plan, &err) != 0)
        code = sl_cli_fail(&err);
    else if (json)
        pgarchive_json(path, a);
    else
        pgarchive_text(a, &plan);
    sl_toc_plan_free(&plan);
    sl_pgarchive_close(a);
    return code;
}

/* Another tool's cluster backup: its kind and databases. */
static int
list_foreign(const char *path, bool json)
{
    sl_cluster_listing l;
    sl_error err;
    sl_error_clear(&err);
    if (sl_cluster_list_foreign(path, &l, &err) != 0)
        return sl_cli_fail(&err);
    if (json) {
        json_t *dbs = json_array();
        for (size_t i = 0; i < l.n; i++)
            json_array_append_new(dbs, json_pack("{s:o, s:I, s:s}", "name",
                                                 sl_escape_json_string(l.dbs[i].name),
                                                 "stored_bytes", (json_int_t)l.dbs[i].size,
                                                 "format", l.dbs[i].format));
        json_t *root = json_pack("{s:o, s:s, s:b, s:o}", "file", sl_escape_json_string(path),
                                 "kind", l.kind, "globals", l.globals, "databases", dbs);
        char *text = sl_escape_json_dumps(root, JSON_INDENT(2));
        if (text)
            puts(text);
        free(text);
        json_decref(root);
    } else {
        char *file = sl_escape_dup(path);
        printf("\"%s\": %s, %s globals, %zu databases\n", file, l.kind,
               l.globals ? "with" : "without", l.n);
        free(file);
        printf("  %-40s %10s  %s\n", "DATABASE", "STORED", "FORMAT");
        for (size_t i = 0; i < l.n; i++) {
            char *name = sl_escape_dup(l.dbs[i].name), size[32];
            printf("  %-40s %10s  %s\n", name,
                   l.dbs[i].size ? sl_units_bytes((int64_t)l.dbs[i].size, size, sizeof size)
                                 : "-",
                   l.dbs[i].format);
            free(name);
        }
    }
    sl_cluster_listing_free(&l);
    return 0;
}

int
sl_cmd_list(int argc, char **argv)
{
    sl_cli_common common;
    sl_error err;
    sl_error_clear(&err);
    list_args args = {0};
    int code = 0, first = 0;
    sl_archive *a = NULL;
    sl_cli_common_init(&common);
    const sl_cli_spec spec = {.name = "list", .longopts = longopts, .usage = usage,
                              .shortopts = "n:N:t:sa", .on_opt = list_opt, .ctx = &args,
                              .max_operands = 1};
    if (sl_cli_parse(&spec, &common, argc, argv, &first, &code) != 0)
        goto done;
    if (first >= argc) {
        code = sl_cli_usage_error("list", "no archive given");
        goto done;
    }
    if (sl_cli_common_finish(&common, &err) != 0) {
        code = sl_cli_fail(&err);
        goto done;
    }
    if (sl_pgarchive_detect(argv[first])) {
        code = list_pgarchive(argv[first], args.json, &args.toc);
        goto done;
    }
    if (args.n.v || args.N.v || args.t.v || args.toc.schema_only || args.toc.data_only ||
        args.toc.no_comments) {
        code = sl_cli_usage_error("list", "-n, -N, -t, -s, -a and --no-comments choose entries "
                                          "of a pg_dump archive (-Fc, -Fd)");
        goto done;
    }
    if (!sl_archive_is_tar(argv[first])) {
        code = list_foreign(argv[first], args.json);
        goto done;
    }
    if (sl_archive_open(&a, argv[first], &err) != 0) {
        code = sl_cli_fail(&err);
        goto done;
    }
    if (args.json)
        print_json(argv[first], sl_archive_manifest(a));
    else
        print_text(argv[first], sl_archive_manifest(a));
done:
    free(args.n.v);
    free(args.N.v);
    free(args.t.v);
    sl_archive_close(a);
    sl_cli_common_free(&common);
    return code;
}
