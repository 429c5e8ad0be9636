/* tests/drivers/bfile_driver.c: writes a sluice backup file from text files, so that restore
 * tests can build files of any shape (an engine's segments, a hostile statement) with the
 * real writer (io/bfile.h).
 * Usage: bfile_driver OUT CODEC [--header FIELD=VALUE]... \
 *          [--seg PHASE PARALLEL KIND SCHEMA NAME ROWS TEXTFILE]...
 *   FIELD: database, server_version, engine, started_at, binlog_file, binlog_position,
 *   gtid_executed, character_set, collation; PARALLEL 0/1; SCHEMA/NAME "-" for
 *   none; ROWS -1 for none. Exit 0, or 1 with the error on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "io/bfile.h"
#include "io/codec.h"

static int
write_segment(sl_bfile_writer *w, char **a, sl_error *err)
{
    sl_bfile_meta m = {.phase = atoi(a[0]), .parallel = atoi(a[1]) != 0, .kind = a[2],
                       .schema = strcmp(a[3], "-") ? a[3] : NULL,
                       .name = strcmp(a[4], "-") ? a[4] : NULL, .rows = atoll(a[5])};
    FILE *f = fopen(a[6], "rb");
    if (!f) {
        sl_error_set(err, SL_E_IO, "could not open %s", a[6]);
        return -1;
    }
    sl_bfile_segment *s = NULL;
    if (sl_bfile_segment_open(w, &s, err) != 0) {
        fclose(f);
        return -1;
    }
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        if (sl_bfile_segment_write(s, buf, n, err) != 0) {
            sl_bfile_segment_abort(s);
            fclose(f);
            return -1;
        }
    fclose(f);
    return sl_bfile_segment_commit(s, &m, err);
}

int
main(int argc, char **argv)
{
    sl_error err;
    sl_error_clear(&err);
    if (argc < 3) {
        fprintf(stderr, "usage: bfile_driver OUT CODEC [--header F=V]... [--seg ...]...\n");
        return 2;
    }
    sl_codec codec;
    sl_bfile_writer *w = NULL;
    sl_bfile_header h = {.sluice_version = "test"};
    if (sl_codec_parse(&codec, argv[2], &err) != 0 ||
        sl_bfile_writer_open(&w, argv[1], &codec, &err) != 0)
        goto fail;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--header") == 0 && i + 1 < argc) {
            char *kv = argv[++i], *eq = strchr(kv, '=');
            if (!eq)
                continue;
            *eq = '\0';
            const char *v = eq + 1;
            if (strcmp(kv, "database") == 0)
                h.database = v;
            else if (strcmp(kv, "engine") == 0)
                h.engine = v;
            else if (strcmp(kv, "server_version") == 0)
                h.server_version = v;
            else if (strcmp(kv, "started_at") == 0)
                h.started_at = v;
            else if (strcmp(kv, "binlog_file") == 0)
                h.binlog_file = v;
            else if (strcmp(kv, "binlog_position") == 0)
                h.binlog_position = v;
            else if (strcmp(kv, "gtid_executed") == 0)
                h.gtid_executed = v;
            else if (strcmp(kv, "character_set") == 0)
                h.character_set = v;
            else if (strcmp(kv, "collation") == 0)
                h.collation = v;
        } else if (strcmp(argv[i], "--seg") == 0 && i + 7 < argc) {
            if (write_segment(w, argv + i + 1, &err) != 0) {
                sl_bfile_writer_abort(w);
                goto fail;
            }
            i += 7;
        } else {
            fprintf(stderr, "bfile_driver: bad argument %s\n", argv[i]);
            sl_bfile_writer_abort(w);
            return 2;
        }
    }
    if (sl_bfile_writer_close(w, &h, &err) != 0)
        goto fail;
    return 0;
fail:
    fprintf(stderr, "bfile_driver: %s\n", err.message);
    return 1;
}
