/* cli/cmd_list.c: "sluice list ARCHIVE": what a cluster archive holds, from its manifest
 * (checked against the tar, restore/archive.h), without reading the backups themselves; the
 * segments of a backup of one database (either engine), from its index (io/bfile.h). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/escape.h"
#include "base/mem.h"
#include "base/units.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "io/archive.h"
#include "io/bfile.h"
#include "io/checksum.h"
#include "io/pgarchive.h"
#include "restore/cluster.h"
#include "restore/toc.h"

static const char usage[] =
    "Show what a cluster archive holds: its databases with their status, sizes, row counts,\n"
    "times and checksums, and its globals, from the archive's manifest. Nothing is\n"
    "decompressed: \"sluice verify\" checks the contents. A pg_dumpall script or a\n"
    "dbbackup cluster archive (.tar.gz) is read through to name its databases.\n"
    "A sluice backup of one database (PostgreSQL or MySQL): its header and its segments,\n"
    "from the file's index (\"sluice verify\" checks them).\n"
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
    printf("\"%s\": sluice cluster archive of %s %s, %s to %s\n", file,
           m->mysql ? "MySQL" : "PostgreSQL", version, started, finished);
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
    json_t *root = json_pack("{s:o, s:s, s:o, s:o, s:o, s:{s:i, s:i, s:i, s:b}, s:o}", "file",
                             sl_escape_json_string(path), "engine",
                             m->mysql ? "mysql" : "postgres", "server_version",
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

/* The header fields a backup of one database may carry (io/bfile.h sl_bfile_header). */
static const char *const header_fields[] = {
    "database", "server_version", "snapshot", "started_at", "sluice_version", "engine",
    "binlog_file", "binlog_position", "gtid_executed", "character_set", "collation"};

static const char *
engine_name(const sl_bfile_reader *r)
{
    const char *engine = sl_bfile_reader_header(r, "engine");
    return !engine ? "PostgreSQL" : strcmp(engine, "mysql") == 0 ? "MySQL" : engine;
}

/* "schema.name", "name" or "-", escaped for a line of text. */
static void
put_object(sl_buf *b, const sl_bfile_entry *e)
{
    if (!e->schema && !e->name) {
        sl_buf_putc(b, '-');
        return;
    }
    if (e->schema) {
        sl_escape_text(b, e->schema, strlen(e->schema));
        if (e->name)
            sl_buf_putc(b, '.');
    }
    if (e->name)
        sl_escape_text(b, e->name, strlen(e->name));
}

static void
bfile_text(const char *path, const sl_bfile_reader *r)
{
    sl_buf b = SL_BUF_INIT;
    const char *binlog = sl_bfile_reader_header(r, "binlog_file");
    const char *gtid = sl_bfile_reader_header(r, "gtid_executed");
    sl_buf_puts(&b, "\"");
    put_field(&b, path, "");
    sl_buf_printf(&b, "\": sluice backup of %s database \"", engine_name(r));
    put_field(&b, sl_bfile_reader_header(r, "database"), "");
    sl_buf_puts(&b, "\" (server ");
    put_field(&b, sl_bfile_reader_header(r, "server_version"), "unknown");
    sl_buf_puts(&b, "), started ");
    put_field(&b, sl_bfile_reader_header(r, "started_at"), "-");
    sl_buf_printf(&b, ", %s, %zu segments\n", sl_codec_name(sl_bfile_reader_codec(r)),
                  sl_bfile_reader_count(r));
    if (binlog) {
        sl_buf_puts(&b, "binary log: ");
        put_field(&b, binlog, "");
        sl_buf_putc(&b, ' ');
        put_field(&b, sl_bfile_reader_header(r, "binlog_position"), "-");
        sl_buf_puts(&b, gtid ? ", GTID " : "\n");
        if (gtid) {
            put_field(&b, gtid, "");
            sl_buf_putc(&b, '\n');
        }
    }
    sl_buf_printf(&b, "  %4s %5s %-16s %-40s %12s %10s %10s  %s\n", "SEQ", "PHASE", "KIND",
                  "OBJECT", "ROWS", "SIZE", "STORED", "SHA-256");
    fwrite(b.data, 1, b.len, stdout);
    for (size_t i = 0; i < sl_bfile_reader_count(r); i++) {
        const sl_bfile_entry *e = sl_bfile_reader_entry(r, i);
        sl_buf kind = SL_BUF_INIT, obj = SL_BUF_INIT;
        char rows[32], raw[32], stored[32], hex[2 * SL_SHA256_LEN + 1];
        put_field(&kind, e->kind, "-");
        put_object(&obj, e);
        if (e->rows < 0)
            strcpy(rows, "-");
        else
            snprintf(rows, sizeof rows, "%lld", (long long)e->rows);
        sl_sha256_hex(e->sha256, hex);
        printf("  %4d %5d %-16s %-40s %12s %10s %10s  %s\n", e->seq, e->phase, kind.data,
               obj.data, rows, sl_units_bytes((int64_t)e->raw_length, raw, sizeof raw),
               sl_units_bytes((int64_t)e->length, stored, sizeof stored), hex);
        sl_buf_free(&kind);
        sl_buf_free(&obj);
    }
    sl_buf_free(&b);
}

static json_t *
entry_json(const sl_bfile_entry *e)
{
    char hex[2 * SL_SHA256_LEN + 1];
    sl_sha256_hex(e->sha256, hex);
    json_t *o = json_pack(
        "{s:i, s:i, s:b, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:s}", "seq", e->seq, "phase",
        e->phase, "parallel", e->parallel, "kind", sl_escape_json_string(e->kind), "schema",
        sl_escape_json_string(e->schema), "name", sl_escape_json_string(e->name), "rows",
        (json_int_t)e->rows, "offset", (json_int_t)e->offset, "length", (json_int_t)e->length,
        "raw_length", (json_int_t)e->raw_length, "sha256", hex);
    if (e->ntables > 0) {
        json_t *tables = json_array();
        for (size_t k = 0; k < e->ntables; k++)
            json_array_append_new(tables, json_pack("[o, o]",
                                                    sl_escape_json_string(e->tables[k].schema),
                                                    sl_escape_json_string(e->tables[k].name)));
        json_object_set_new(o, "tables", tables);
    }
    return o;
}

static void
bfile_json(const char *path, const sl_bfile_reader *r)
{
    json_t *header = json_object();
    for (size_t i = 0; i < sizeof header_fields / sizeof *header_fields; i++) {
        const char *v = sl_bfile_reader_header(r, header_fields[i]);
        if (v)
            json_object_set_new(header, header_fields[i], sl_escape_json_string(v));
    }
    json_t *segments = json_array();
    for (size_t i = 0; i < sl_bfile_reader_count(r); i++)
        json_array_append_new(segments, entry_json(sl_bfile_reader_entry(r, i)));
    const char *engine = sl_bfile_reader_header(r, "engine");
    json_t *root = json_pack("{s:o, s:s, s:o, s:s, s:I, s:o, s:o}", "file",
                             sl_escape_json_string(path), "format", "sluice backup", "engine",
                             sl_escape_json_string(engine ? engine : "postgres"), "codec",
                             sl_codec_name(sl_bfile_reader_codec(r)), "size",
                             (json_int_t)sl_bfile_reader_size(r), "header", header, "segments",
                             segments);
    char *text = sl_escape_json_dumps(root, JSON_INDENT(2));
    if (text)
        puts(text);
    free(text);
    json_decref(root);
}

/* A file that is not a tar: a backup of one database (either engine), listed from its index,
 * or else another tool's cluster backup. */
static int
list_file(const char *path, bool json)
{
    sl_bfile_reader *r = NULL;
    sl_error err;
    sl_error_clear(&err);
    if (sl_bfile_reader_open(&r, path, &err) != 0)
        return sl_cli_fail(&err);
    if (!sl_bfile_reader_indexed(r)) {
        sl_bfile_reader_close(r);
        return list_foreign(path, json);
    }
    if (json)
        bfile_json(path, r);
    else
        bfile_text(path, r);
    sl_bfile_reader_close(r);
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
        code = list_file(argv[first], args.json);
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
