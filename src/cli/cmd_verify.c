/* cli/cmd_verify.c: "sluice verify FILE": check a backup file end to end, without a server,
 * and report its tables and row counts (restore/verify.h does the work). */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/escape.h"
#include "base/log.h"
#include "base/units.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "io/archive.h"
#include "io/pgarchive.h"
#include "restore/verify.h"

static const char usage[] =
    "Check a backup file end to end without a server: decompress every segment, compare its\n"
    "SHA-256 and length with the file's index, and count the rows of every table's data.\n"
    "A plain SQL script (pg_dump -Fp, maybe gzip or zstd compressed) has no index: it is only\n"
    "decompressed end to end. A pg_dump archive (-Fc, -Fd) has its table of contents checked\n"
    "and every data block decompressed, every table's rows counted.\n\n"
    "A cluster archive (sluice backup cluster) is checked member by member: every member's\n"
    "size and SHA-256 against its manifest, and every database's backup as above.\n\n"
    "Usage:\n"
    "  sluice verify FILE|ARCHIVE.tar [OPTION]...\n\n"
    "Options:\n"
    "      --json                 one JSON document on stdout instead of text\n"
    "  -q, --quiet                print nothing when the file is sound (the exit code says it)\n"
    "  -v, --verbose              more detail\n"
    "      --log-format=human|json  log lines for people or machines (default human)\n"
    "      --help                 show this help\n\n"
    "Memory stays bounded whatever the file holds; a zstd frame that needs a window over\n"
    "8 MiB (zstd --long, --ultra -20 and up) is refused with exit 4: decompress it first\n"
    "with zstd -d --long=31.\n\n"
    "Exit codes: 0 sound; 4 corrupt or truncated (the message names the byte offset), or\n"
    "over a limit; 6 the file cannot be read; 2 bad usage.\n";

static const struct option longopts[] = {
    {"json", no_argument, NULL, SL_OPT_JSON},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"log-format", required_argument, NULL, SL_OPT_LOG_FORMAT},
    {"help", no_argument, NULL, SL_OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* Names come from the file: printed escaped, so a hostile one cannot act on the terminal. */
static void
print_text(const char *path, const sl_verify_report *rep)
{
    char stored[32], raw[32];
    sl_units_bytes((int64_t)rep->file_bytes, stored, sizeof stored);
    sl_units_bytes((int64_t)rep->raw_bytes, raw, sizeof raw);
    char *file = sl_escape_dup(path);
    if (!rep->indexed) {
        printf("\"%s\": plain SQL script (%s), no sluice index: decompressed cleanly, %s of SQL\n",
               file, sl_codec_name(rep->codec), raw);
        free(file);
        return;
    }
    printf("\"%s\": %s", file, rep->pg_dump_format ? "pg_dump archive" : "sluice backup");
    free(file);
    char *db = sl_escape_dup(rep->database), *version = sl_escape_dup(rep->server_version),
         *started = sl_escape_dup(rep->started_at);
    if (db)
        printf(" of database \"%s\"", db);
    if (version)
        printf(" (PostgreSQL %s)", version);
    if (started)
        printf(" started %s", started);
    free(db);
    free(version);
    free(started);
    if (rep->pg_dump_format)
        printf(", %s format, %s, %zu TOC entries, %lld large objects\n", rep->pg_dump_format,
               rep->compression, rep->segments, (long long)rep->large_objects);
    else
        printf(", %s, %zu segments\n", sl_codec_name(rep->codec), rep->segments);
    if (rep->ntables) {
        printf("  %-50s %14s %16s\n", "TABLE", "ROWS", "BYTES");
        sl_buf name = SL_BUF_INIT;
        for (size_t i = 0; i < rep->ntables; i++) {
            const sl_verify_table *t = &rep->tables[i];
            sl_buf_reset(&name);
            if (t->schema) {
                sl_escape_text(&name, t->schema, strlen(t->schema));
                sl_buf_putc(&name, '.');
            }
            if (t->name)
                sl_escape_text(&name, t->name, strlen(t->name));
            printf("  %-50s %14lld %16llu\n", name.data ? name.data : "", (long long)t->rows,
                   (unsigned long long)t->bytes);
        }
        sl_buf_free(&name);
    }
    if (rep->pg_dump_format)
        printf("OK: %zu tables, %lld rows, %s of data; every data block decompressed and every "
               "COPY block complete\n", rep->ntables, (long long)rep->rows, raw);
    else
        printf("OK: %zu tables, %lld rows, %s stored, %s of SQL; every checksum, length and "
               "row count matches the index\n",
               rep->ntables, (long long)rep->rows, stored, raw);
}

static void
print_json(const char *path, const sl_verify_report *rep, const sl_error *err)
{
    json_t *root = json_object();
    json_object_set_new(root, "file", sl_escape_json_string(path));
    json_object_set_new(root, "ok", json_boolean(rep != NULL));
    if (!rep) {
        json_t *e = json_object();
        json_object_set_new(e, "kind", json_string(sl_error_kind_name(err->kind)));
        json_object_set_new(e, "message", sl_escape_json_string(err->message));
        json_object_set_new(root, "error", e);
    } else {
        json_t *tables = json_array();
        json_object_set_new(root, "indexed", json_boolean(rep->indexed));
        if (rep->pg_dump_format) {
            json_object_set_new(root, "pg_dump_format", json_string(rep->pg_dump_format));
            json_object_set_new(root, "codec", json_string(rep->compression));
            json_object_set_new(root, "large_objects", json_integer(rep->large_objects));
        } else {
            json_object_set_new(root, "codec", json_string(sl_codec_name(rep->codec)));
        }
        json_object_set_new(root, "database", sl_escape_json_string(rep->database));
        json_object_set_new(root, "server_version", sl_escape_json_string(rep->server_version));
        json_object_set_new(root, "started_at", sl_escape_json_string(rep->started_at));
        json_object_set_new(root, "file_bytes", json_integer((json_int_t)rep->file_bytes));
        json_object_set_new(root, "raw_bytes", json_integer((json_int_t)rep->raw_bytes));
        json_object_set_new(root, "segments", json_integer((json_int_t)rep->segments));
        json_object_set_new(root, "rows", json_integer(rep->rows));
        for (size_t i = 0; i < rep->ntables; i++) {
            const sl_verify_table *t = &rep->tables[i];
            json_t *o = json_object();
            json_object_set_new(o, "schema", sl_escape_json_string(t->schema));
            json_object_set_new(o, "name", sl_escape_json_string(t->name));
            json_object_set_new(o, "rows", json_integer(t->rows));
            json_object_set_new(o, "bytes", json_integer((json_int_t)t->bytes));
            json_object_set_new(o, "stored_bytes", json_integer((json_int_t)t->stored));
            json_object_set_new(o, "segments", json_integer(t->segments));
            json_array_append_new(tables, o);
        }
        json_object_set_new(root, "tables", tables);
    }
    char *text = sl_escape_json_dumps(root, JSON_INDENT(2));
    if (text)
        puts(text);
    free(text);
    json_decref(root);
}

typedef struct archive_report {
    bool text;
    json_t *dbs;  /* --json */
    size_t n;
    int64_t rows;
} archive_report;

static void
archive_verified(void *ctx, const sl_manifest_database *db, const sl_verify_report *rep)
{
    archive_report *r = ctx;
    r->n++;
    r->rows += rep->rows;
    if (r->dbs) {
        json_array_append_new(r->dbs, json_pack("{s:o, s:I, s:I, s:I}", "name",
                                                sl_escape_json_string(db->name), "rows",
                                                (json_int_t)rep->rows, "bytes",
                                                (json_int_t)rep->raw_bytes, "stored_bytes",
                                                (json_int_t)rep->file_bytes));
    } else if (r->text) {
        char stored[32];
        char *name = sl_escape_dup(db->name);
        printf("  %-40s %14lld %12s  OK\n", name, (long long)rep->rows,
               sl_units_bytes((int64_t)rep->file_bytes, stored, sizeof stored));
        free(name);
    }
}

/* "sluice verify ARCHIVE.tar": the archive's own checks, then each database's backup. */
static int
verify_archive(const char *path, bool json, bool quiet)
{
    sl_error err;
    sl_error_clear(&err);
    sl_archive *a = NULL;
    archive_report r = {.text = !json && !quiet, .dbs = json ? json_array() : NULL};
    char *file = sl_escape_dup(path);
    int code = 0;
    if (sl_archive_open(&a, path, &err) == 0) {
        const sl_manifest *m = sl_archive_manifest(a);
        if (r.text) {
            /* the manifest's text comes from the archive: shown escaped */
            char *version = sl_escape_dup(m->server_version);
            char *started = sl_escape_dup(m->started_at);
            printf("\"%s\": sluice cluster archive (%s %s) started %s, %zu databases\n"
                   "  %-40s %14s %12s\n", file, m->mysql ? "MySQL" : "PostgreSQL", version,
                   started, m->ndatabases, "DATABASE", "ROWS", "STORED");
            free(version);
            free(started);
        }
        if (sl_verify_archive(a, archive_verified, &r, &err) == 0 && r.text) {
            size_t failed = 0;
            for (size_t i = 0; i < m->ndatabases; i++)
                failed += !m->databases[i].ok;
            printf("OK: %zu members match the manifest's SHA-256; %zu database backups "
                   "verified (%lld rows)%s\n", m->nmembers, r.n, (long long)r.rows,
                   failed ? "; some databases failed at backup time and are not in it" : "");
        }
    }
    if (json) {
        json_t *root = json_pack("{s:o, s:s, s:b, s:o}", "file", sl_escape_json_string(path),
                                 "kind", "cluster", "ok", err.kind == SL_E_NONE, "databases",
                                 r.dbs);
        if (err.kind != SL_E_NONE)
            json_object_set_new(root, "error",
                                json_pack("{s:s, s:o}", "kind", sl_error_kind_name(err.kind),
                                          "message", sl_escape_json_string(err.message)));
        char *text = sl_escape_json_dumps(root, JSON_INDENT(2));
        if (text)
            puts(text);
        free(text);
        json_decref(root);
    }
    if (err.kind != SL_E_NONE)
        code = sl_cli_fail(&err);
    sl_archive_close(a);
    free(file);
    return code;
}

/* Parses the flags; -1 with *code set when the command is done (help or bad usage). */
static int
parse(int argc, char **argv, sl_cli_common *common, bool *json, const char **path, int *code)
{
    const sl_cli_spec spec = {.name = "verify", .longopts = longopts, .usage = usage,
                              .on_opt = sl_cli_json_opt, .ctx = json, .max_operands = 1};
    int first;
    if (sl_cli_parse(&spec, common, argc, argv, &first, code) != 0)
        return -1;
    if (first >= argc) {
        *code = sl_cli_usage_error("verify", "no backup file given");
        return -1;
    }
    *path = argv[first];
    return 0;
}

int
sl_cmd_verify(int argc, char **argv)
{
    sl_cli_common common;
    sl_verify_report rep = {0};
    sl_error err = {0};
    bool json = false;
    const char *path = NULL;
    int code = 0;
    sl_cli_common_init(&common);
    if (parse(argc, argv, &common, &json, &path, &code) != 0)
        goto done;
    if (sl_cli_common_finish(&common, &err) != 0) {
        code = sl_cli_fail(&err);
        goto done;
    }
    if (sl_archive_is_tar(path)) {
        code = verify_archive(path, json, common.verbosity < 0);
        goto done;
    }
    if ((sl_pgarchive_detect(path) ? sl_verify_pgarchive(path, &rep, &err)
                                   : sl_verify_file(path, &rep, &err)) != 0) {
        if (json)
            print_json(path, NULL, &err);
        code = sl_cli_fail(&err);
        goto done;
    }
    if (json)
        print_json(path, &rep, NULL);
    else if (common.verbosity >= 0)
        print_text(path, &rep);
    sl_verify_report_free(&rep);
done:
    sl_cli_common_free(&common);
    return code;
}
