/* tests/unit/test_codec.c: compression specs, members and streaming decompression. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <malloc.h>
#include <zlib.h>
#include <zstd.h>

#include "base/buf.h"
#include "io/codec.h"

static const struct {
    const char *spec;
    sl_codec_kind kind;
    int level;
} good_specs[] = {
    {"gzip", SL_CODEC_GZIP, 0}, {"gzip:1", SL_CODEC_GZIP, 1}, {"gzip:9", SL_CODEC_GZIP, 9},
    {"zstd", SL_CODEC_ZSTD, 0}, {"zstd:19", SL_CODEC_ZSTD, 19}, {"none", SL_CODEC_NONE, 0},
};

static const struct {
    const char *spec;
    const char *message_part;
} bad_specs[] = {
    {"lz4", "invalid compression \"lz4\""},
    {"gzip:0", "from 1 to 12"},
    {"gzip:13", "from 1 to 12"},
    {"gzip:", "invalid compression level"},
    {"gzip:x", "invalid compression level"},
    {"zstd:99", "from 1 to"},
    {"none:3", "none takes no level"},
    {"", "invalid compression"},
    {"gzipx", "invalid compression"},
};

static void
test_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof good_specs / sizeof good_specs[0]; i++) {
        sl_codec c;
        sl_error err = {0};
        if (sl_codec_parse(&c, good_specs[i].spec, &err) != 0)
            fail_msg("refused %s: %s", good_specs[i].spec, err.message);
        assert_int_equal(c.kind, good_specs[i].kind);
        assert_int_equal(c.level, good_specs[i].level);
    }
    for (size_t i = 0; i < sizeof bad_specs / sizeof bad_specs[0]; i++) {
        sl_codec c;
        sl_error err = {0};
        if (sl_codec_parse(&c, bad_specs[i].spec, &err) == 0)
            fail_msg("accepted \"%s\"", bad_specs[i].spec);
        assert_int_equal(err.kind, SL_E_USAGE);
        if (!strstr(err.message, bad_specs[i].message_part))
            fail_msg("\"%s\": message \"%s\"", bad_specs[i].spec, err.message);
    }
}

static void
test_names_and_magic(void **state)
{
    (void)state;
    assert_int_equal(sl_codec_from_filename("a.sql.gz"), SL_CODEC_GZIP);
    assert_int_equal(sl_codec_from_filename("/x/a.sql.zst"), SL_CODEC_ZSTD);
    assert_int_equal(sl_codec_from_filename("a.sql"), SL_CODEC_NONE);
    assert_int_equal(sl_codec_from_filename("gz"), SL_CODEC_NONE);
    const unsigned char gz[] = {0x1f, 0x8b, 8, 0}, zs[] = {0x28, 0xb5, 0x2f, 0xfd},
                        skip[] = {0x5b, 0x2a, 0x4d, 0x18}, txt[] = "-- x";
    assert_int_equal(sl_codec_detect(gz, 4), SL_CODEC_GZIP);
    assert_int_equal(sl_codec_detect(zs, 4), SL_CODEC_ZSTD);
    assert_int_equal(sl_codec_detect(skip, 4), SL_CODEC_ZSTD);
    assert_int_equal(sl_codec_detect(txt, 4), SL_CODEC_NONE);
    assert_int_equal(sl_codec_detect(gz, 1), SL_CODEC_NONE);
    assert_string_equal(sl_codec_name(SL_CODEC_ZSTD), "zstd");
}

/* Deterministic text that compresses like SQL (some repetition, some noise). */
static void
make_text(sl_buf *b, size_t len, unsigned seed)
{
    while (b->len < len) {
        seed = seed * 1103515245u + 12345u;
        sl_buf_printf(b, "%u\tsome text %u\t\\N\n", seed % 100000, (seed >> 8) % 977);
    }
    b->len = len;
    b->data[len] = '\0';
}

/* Decompresses in[0..n) feeding small pieces and draining into a small buffer. */
static int
inflate_all(sl_codec_kind kind, const unsigned char *in, size_t n, size_t piece, sl_buf *out,
            bool *boundary, sl_error *err)
{
    sl_inflater *z = NULL;
    unsigned char chunk[777];
    int rc = -1;
    if (sl_inflater_new(&z, kind, err) != 0)
        return -1;
    sl_inflater_reset(z, 1000);
    while (n) {
        size_t give = n < piece ? n : piece, left = give;
        const unsigned char *p = in;
        do {
            size_t got = 0;
            if (sl_inflater_run(z, &p, &left, chunk, sizeof chunk, &got, err) != 0)
                goto done;
            sl_buf_append(out, chunk, got);
            if (got < sizeof chunk && left == 0)
                break;
        } while (1);
        in += give;
        n -= give;
    }
    *boundary = sl_inflater_at_boundary(z);
    rc = 0;
done:
    sl_inflater_free(z);
    return rc;
}

static void
members(const sl_codec *codec, sl_buf *text, sl_buf *packed, size_t *second_member)
{
    sl_compressor *c = NULL;
    sl_error err = {0};
    make_text(text, 300000, 7);
    assert_int_equal(sl_compressor_new(&c, codec, &err), 0);
    /* three members: 1, 100000 and the rest; an empty member too */
    assert_int_equal(sl_compressor_member(c, text->data, 1, packed, &err), 0);
    *second_member = packed->len;
    assert_int_equal(sl_compressor_member(c, text->data + 1, 100000, packed, &err), 0);
    assert_int_equal(sl_compressor_member(c, "", 0, packed, &err), 0);
    assert_int_equal(sl_compressor_member(c, text->data + 100001, text->len - 100001, packed, &err),
                     0);
    sl_compressor_free(c);
}

static void
round_trip(sl_codec_kind kind)
{
    sl_codec codec = {kind, 0};
    sl_buf text = SL_BUF_INIT, packed = SL_BUF_INIT;
    size_t second = 0;
    members(&codec, &text, &packed, &second);
    if (kind != SL_CODEC_NONE)
        assert_true(packed.len < text.len / 2);
    size_t pieces[] = {1, 7, 4096, packed.len};
    for (size_t i = 0; i < 4; i++) {
        sl_buf out = SL_BUF_INIT;
        sl_error err = {0};
        bool boundary = false;
        if (inflate_all(kind, (unsigned char *)packed.data, packed.len, pieces[i], &out, &boundary,
                        &err) != 0)
            fail_msg("%s piece %zu: %s", sl_codec_name(kind), pieces[i], err.message);
        assert_true(boundary);
        assert_int_equal(out.len, text.len);
        assert_memory_equal(out.data, text.data, text.len);
        sl_buf_free(&out);
    }
    if (kind != SL_CODEC_NONE) {
        /* cut inside the second member: decodes the first, then is not at a boundary */
        sl_buf out = SL_BUF_INIT;
        sl_error err = {0};
        bool boundary = true;
        assert_int_equal(inflate_all(kind, (unsigned char *)packed.data, second + 20, 4096, &out,
                                     &boundary, &err), 0);
        assert_false(boundary);
        sl_buf_free(&out);
        /* damage the second member: the error names its offset (base 1000 + position) */
        packed.data[second + 40] ^= 0x55;
        packed.data[second + 41] ^= 0x55;
        sl_buf_reset(&out);
        if (inflate_all(kind, (unsigned char *)packed.data, packed.len, 4096, &out, &boundary,
                        &err) == 0)
            fail_msg("%s: damaged member accepted", sl_codec_name(kind));
        assert_int_equal(err.kind, SL_E_ARCHIVE);
        char want[64];
        snprintf(want, sizeof want, "at offset %zu", 1000 + second);
        if (!strstr(err.message, want))
            fail_msg("message \"%s\" lacks \"%s\"", err.message, want);
        sl_buf_free(&out);
    }
    sl_buf_free(&text);
    sl_buf_free(&packed);
}

static void
test_round_trip_gzip(void **state)
{
    (void)state;
    round_trip(SL_CODEC_GZIP);
}

static void
test_round_trip_zstd(void **state)
{
    (void)state;
    round_trip(SL_CODEC_ZSTD);
}

static void
test_round_trip_none(void **state)
{
    (void)state;
    round_trip(SL_CODEC_NONE);
}

static void
test_zstd_skips_skippable_frames(void **state)
{
    (void)state;
    sl_codec codec = {SL_CODEC_ZSTD, 1};
    sl_buf packed = SL_BUF_INIT, out = SL_BUF_INIT;
    sl_error err = {0};
    const unsigned char skip[] = {0x5b, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 'a', 'b', 'c'};
    sl_buf_append(&packed, skip, sizeof skip);
    assert_int_equal(sl_codec_compress(&codec, "hello ", 6, &packed, &err), 0);
    sl_buf_append(&packed, skip, sizeof skip);
    assert_int_equal(sl_codec_compress(&codec, "world", 5, &packed, &err), 0);
    sl_buf_append(&packed, skip, sizeof skip);
    bool boundary = false;
    assert_int_equal(inflate_all(SL_CODEC_ZSTD, (unsigned char *)packed.data, packed.len, 3, &out,
                                 &boundary, &err), 0);
    assert_true(boundary);
    assert_string_equal(out.data, "hello world");
    sl_buf_free(&packed);
    sl_buf_free(&out);
}

/* The concatenated members are one stream for the system's gzip -dc and zstd -dc. */
static void
system_tool(sl_codec_kind kind, const char *tool)
{
    sl_codec codec = {kind, 0};
    sl_buf text = SL_BUF_INIT, packed = SL_BUF_INIT;
    size_t second = 0;
    char in[] = "/tmp/sl-codec-XXXXXX", outp[64], cmd[256];
    members(&codec, &text, &packed, &second);
    int fd = mkstemp(in);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, packed.data, packed.len), (ssize_t)packed.len);
    close(fd);
    snprintf(outp, sizeof outp, "%s.out", in);
    snprintf(cmd, sizeof cmd, "%s -dc < %s > %s", tool, in, outp);
    assert_int_equal(system(cmd), 0);
    FILE *f = fopen(outp, "rb");
    assert_non_null(f);
    char *got = malloc(text.len + 1);
    assert_int_equal(fread(got, 1, text.len + 1, f), text.len);
    assert_memory_equal(got, text.data, text.len);
    fclose(f);
    free(got);
    unlink(in);
    unlink(outp);
    sl_buf_free(&text);
    sl_buf_free(&packed);
}

static void
test_gzip_tool_reads_members(void **state)
{
    (void)state;
    system_tool(SL_CODEC_GZIP, "gzip");
}

static void
test_zstd_tool_reads_frames(void **state)
{
    (void)state;
    system_tool(SL_CODEC_ZSTD, "zstd -q");
}

/* A gzip member made by the system tool (with a file name header) decodes too. */
static void
test_inflates_foreign_gzip(void **state)
{
    (void)state;
    char path[] = "/tmp/sl-codec-XXXXXX", cmd[256];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    snprintf(cmd, sizeof cmd,
             "printf 'abc\\n' | gzip -c > %s && printf 'def\\n' | gzip -9 -c >> %s", path, path);
    assert_int_equal(system(cmd), 0);
    FILE *f = fopen(path, "rb");
    unsigned char buf[256];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    unlink(path);
    sl_buf out = SL_BUF_INIT;
    sl_error err = {0};
    bool boundary = false;
    assert_int_equal(inflate_all(SL_CODEC_GZIP, buf, n, 5, &out, &boundary, &err), 0);
    assert_true(boundary);
    assert_string_equal(out.data, "abc\ndef\n");
    sl_buf_free(&out);
}

/* With an output buffer big enough for a member and the whole input at hand, gzip members are
 * decoded in one call each; a member larger than the buffer, and a damaged one, go through
 * the streaming decoder, which names the damaged member's offset. */
static void
test_gzip_whole_members(void **state)
{
    (void)state;
    sl_codec codec = {SL_CODEC_GZIP, 0};
    sl_buf text = SL_BUF_INIT, packed = SL_BUF_INIT;
    size_t second = 0;
    members(&codec, &text, &packed, &second);  /* 1, 100000, 0 and 199999 bytes */
    size_t cap = 128 << 10;
    unsigned char *chunk = malloc(cap);
    for (int damaged = 0; damaged <= 1; damaged++) {
        if (damaged) {
            packed.data[second + 40] ^= 0x55;
            packed.data[second + 41] ^= 0x55;
        }
        sl_inflater *z = NULL;
        sl_error err = {0};
        sl_buf out = SL_BUF_INIT;
        assert_int_equal(sl_inflater_new(&z, SL_CODEC_GZIP, &err), 0);
        sl_inflater_reset(z, 1000);
        const unsigned char *p = (const unsigned char *)packed.data;
        size_t left = packed.len;
        int rc = 0;
        for (int calls = 0; rc == 0 && calls < 100; calls++) {
            size_t got = 0;
            rc = sl_inflater_run(z, &p, &left, chunk, cap, &got, &err);
            sl_buf_append(&out, chunk, got);
            if (got == 0 && left == 0)
                break;
        }
        if (damaged) {
            assert_int_equal(rc, -1);
            char want[64];
            snprintf(want, sizeof want, "at offset %zu", 1000 + second);
            if (!strstr(err.message, want))
                fail_msg("message \"%s\" lacks \"%s\"", err.message, want);
        } else {
            if (rc != 0)
                fail_msg("%s", err.message);
            assert_true(sl_inflater_at_boundary(z));
            assert_int_equal(out.len, text.len);
            assert_memory_equal(out.data, text.data, text.len);
        }
        sl_inflater_free(z);
        sl_buf_free(&out);
    }
    free(chunk);
    sl_buf_free(&text);
    sl_buf_free(&packed);
}

/* Bytes that do not compress, at gzip level 1 (igzip) and 6 (libdeflate): members stay
 * within a little of their input and decode back. */
static void
test_gzip_incompressible(void **state)
{
    (void)state;
    size_t len = (1u << 20) + 3;
    unsigned char *raw = malloc(len);
    unsigned seed = 12345;
    for (size_t i = 0; i < len; i++) {
        seed = seed * 1103515245u + 12345u;
        raw[i] = (unsigned char)(seed >> 16);
    }
    for (int level = 1; level <= 6; level += 5) {
        sl_codec codec = {SL_CODEC_GZIP, level};
        sl_buf packed = SL_BUF_INIT, out = SL_BUF_INIT;
        sl_error err = {0};
        assert_int_equal(sl_codec_compress(&codec, raw, len, &packed, &err), 0);
        assert_true(packed.len < len + len / 50);
        bool boundary = false;
        if (inflate_all(SL_CODEC_GZIP, (unsigned char *)packed.data, packed.len, packed.len, &out,
                        &boundary, &err) != 0)
            fail_msg("level %d: %s", level, err.message);
        assert_true(boundary);
        assert_int_equal(out.len, len);
        assert_memory_equal(out.data, raw, len);
        sl_buf_free(&packed);
        sl_buf_free(&out);
    }
    free(raw);
}

/* ---- bounds of decompression ---- */

/* zstd frames made with explicit parameters, streamed so that the frame header keeps the
 * window instead of shrinking it to a known content size (as a pipe into zstd does). Each is
 * read with the general bound (8 MiB) and with the bound of sluice's own frames (1 MiB). */
static const struct {
    const char *name;
    int level;
    int window_log;  /* 0: the level's own */
    int ldm;         /* long distance matching, as zstd --long */
    const char *refused;      /* NULL: accepted; else part of the message */
    const char *own_refused;  /* the same with the bound of sluice's own frames */
} zstd_windows[] = {
    {"zstd -1 from a pipe (window 512 KiB)", 1, 0, 0, NULL, NULL},
    {"window of exactly 1 MiB", 3, 20, 0, NULL, NULL},
    {"window of 2 MiB", 3, 21, 0, NULL, "needs a window of 2 MiB, more than the 1 MiB of the "
                                        "frames sluice writes: the file was not written by "
                                        "sluice (`zstd -d --long=31` decompresses it for psql)"},
    {"zstd -19 from a pipe (window 8 MiB)", 19, 0, 0, NULL, "needs a window of 8 MiB"},
    {"window of exactly 8 MiB", 3, 23, 0, NULL, "needs a window of 8 MiB"},
    {"window of 16 MiB", 3, 24, 0, "needs a window of 16 MiB", "needs a window of 16 MiB"},
    {"zstd --long=27", 3, 27, 1, "needs a window of 128 MiB", "needs a window of 128 MiB"},
    {"zstd --ultra -22", 22, 0, 0, "needs a window of 128 MiB", "needs a window of 128 MiB"},
    {"zstd --long=31", 1, 31, 1, "needs a window of 2048 MiB", "needs a window of 2048 MiB"},
};

static void
zstd_stream_frame(int level, int window_log, int ldm, const char *text, size_t len, sl_buf *out)
{
    ZSTD_CCtx *c = ZSTD_createCCtx();
    assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level)));
    if (window_log)
        assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, window_log)));
    if (ldm)
        assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_enableLongDistanceMatching,
                                                         1)));
    sl_buf_reserve(out, ZSTD_compressBound(len) + 64);
    ZSTD_inBuffer in = {text, len, 0};
    ZSTD_outBuffer o = {out->data + out->len, out->cap - out->len - 1, 0};
    /* input first, the end later: the size is then unknown when the header is written */
    assert_false(ZSTD_isError(ZSTD_compressStream2(c, &o, &in, ZSTD_e_continue)));
    size_t left;
    do {
        left = ZSTD_compressStream2(c, &o, &in, ZSTD_e_end);
        assert_false(ZSTD_isError(left));
    } while (left);
    out->len += o.pos;
    ZSTD_freeCCtx(c);
}

/* Decodes a frame of sluice's own and then the case's frame, whole or a byte at a time. */
static void
check_window(size_t i, bool own, const sl_buf *packed, size_t second, const sl_buf *text,
             size_t piece)
{
    sl_inflater *z = NULL;
    sl_buf out = SL_BUF_INIT;
    sl_error err = {0};
    unsigned char chunk[4096];
    const unsigned char *p = (const unsigned char *)packed->data;
    const char *refused = own ? zstd_windows[i].own_refused : zstd_windows[i].refused;
    int rc = 0;
    assert_int_equal(sl_inflater_new(&z, SL_CODEC_ZSTD, &err), 0);
    if (own)
        sl_inflater_own_frames_only(z);
    sl_inflater_reset(z, 1000);
    for (size_t pos = 0; pos < packed->len && rc == 0; pos += piece) {
        size_t left = packed->len - pos < piece ? packed->len - pos : piece, got;
        const unsigned char *q = p + pos;
        do {
            got = 0;
            rc = sl_inflater_run(z, &q, &left, chunk, sizeof chunk, &got, &err);
            sl_buf_append(&out, chunk, got);
        } while (rc == 0 && (left || got == sizeof chunk));
    }
    if (!refused) {
        if (rc != 0)
            fail_msg("%s (own %d) refused: %s", zstd_windows[i].name, own, err.message);
        assert_int_equal(out.len, 10 + text->len);
        assert_memory_equal(out.data + 10, text->data, text->len);
    } else {
        if (rc == 0)
            fail_msg("%s (own %d) accepted", zstd_windows[i].name, own);
        /* the header is gathered whatever the pieces: the same refusal a byte at a time */
        char at[64];
        snprintf(at, sizeof at, "the zstd frame at offset %zu ", 1000 + second);
        if (err.kind != SL_E_ARCHIVE || !sl_inflater_window_refused(z)
            || !strstr(err.message, refused) || !strstr(err.message, at)
            || !strstr(err.message, "zstd -d --long=31"))
            fail_msg("%s (own %d, piece %zu): kind %d, \"%s\"", zstd_windows[i].name, own,
                     piece, err.kind, err.message);
    }
    sl_inflater_free(z);
    sl_buf_free(&out);
}

static void
test_zstd_window_is_bounded(void **state)
{
    (void)state;
    sl_buf text = SL_BUF_INIT;
    make_text(&text, 100000, 3);
    for (size_t i = 0; i < sizeof zstd_windows / sizeof zstd_windows[0]; i++) {
        sl_buf packed = SL_BUF_INIT;
        sl_codec own = {SL_CODEC_ZSTD, 0};
        /* a member of sluice's own first: the refusal names the offset of the second frame */
        assert_int_equal(sl_codec_compress(&own, "SELECT 1;\n", 10, &packed, &(sl_error){0}),
                         0);
        size_t second = packed.len;
        zstd_stream_frame(zstd_windows[i].level, zstd_windows[i].window_log,
                          zstd_windows[i].ldm, text.data, text.len, &packed);
        for (int k = 0; k < 2; k++) {
            check_window(i, k, &packed, second, &text, packed.len);
            check_window(i, k, &packed, second, &text, 1);
        }
        sl_buf_free(&packed);
    }
    sl_buf_free(&text);
}

/* Frames libzstd would decode with windows it does not bound: the formats of zstd 0.7 and
 * older (magic numbers 0xFD2FB521 to 0xFD2FB527), here the one the fuzzer found (a v0.7 header
 * asking for 128 MiB), and a magic number that is no zstd's at all. */
static const struct {
    const char *name;
    unsigned char bytes[12];
    size_t len;
    const char *error;
} foreign_frames[] = {
    {"zstd 0.7 frame", {0x27, 0xb5, 0x2f, 0xfd, 0x04, 0x88, 0x54, 0x00, 0x00, 0x10, 0x49}, 11,
     "the zstd frame at offset 1000 has the format of zstd 0.7 or older, which sluice does not "
     "read (`zstd -d` decompresses it)"},
    {"zstd 0.5 frame", {0x25, 0xb5, 0x2f, 0xfd, 0x00, 0x00, 0x00, 0x00}, 8, "zstd 0.7 or older"},
    {"zstd 0.1 frame", {0x1e, 0xb5, 0x2f, 0xfd, 0x00, 0x00, 0x00, 0x00}, 8, "zstd 0.7 or older"},
    {"no magic number", {0x29, 0xb5, 0x2f, 0xfd, 0x00, 0x00}, 6,
     "invalid zstd data in the frame at offset 1000: Unknown frame descriptor"},
};

static void
test_zstd_legacy_frames_refused(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof foreign_frames / sizeof foreign_frames[0]; i++) {
        for (size_t piece = 1; piece <= foreign_frames[i].len; piece += foreign_frames[i].len - 1) {
            sl_buf out = SL_BUF_INIT;
            sl_error err = {0};
            bool boundary = false;
            if (inflate_all(SL_CODEC_ZSTD, foreign_frames[i].bytes, foreign_frames[i].len, piece,
                            &out, &boundary, &err) == 0)
                fail_msg("%s accepted", foreign_frames[i].name);
            if (err.kind != SL_E_ARCHIVE || !strstr(err.message, foreign_frames[i].error))
                fail_msg("%s (piece %zu): \"%s\"", foreign_frames[i].name, piece, err.message);
            assert_int_equal(out.len, 0);
            sl_buf_free(&out);
        }
    }
}

/* A gzip member whose header carries a CRC (FHCRC) is judged the same by the one-call path
 * (whole member, large buffer) and the streaming one: accepted when the CRC is right, refused
 * when it is not. */
static void
test_gzip_header_crc(void **state)
{
    (void)state;
    const char text[] = "SELECT 1;\n";
    unsigned char member[256];
    z_stream zs = {0};
    gz_header h = {0};
    h.hcrc = 1;
    assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    assert_int_equal(deflateSetHeader(&zs, &h), Z_OK);
    zs.next_in = (unsigned char *)text;
    zs.avail_in = sizeof text - 1;
    zs.next_out = member;
    zs.avail_out = sizeof member;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    size_t n = sizeof member - zs.avail_out;
    deflateEnd(&zs);
    assert_true(member[3] & 0x02);  /* FHCRC */
    for (int bad = 0; bad <= 1; bad++) {
        if (bad)
            member[10] ^= 0xff;  /* the header's CRC follows its first 10 bytes */
        size_t caps[] = {(size_t)1 << 20, 100};  /* one call; streaming */
        for (size_t k = 0; k < 2; k++) {
            sl_inflater *z = NULL;
            sl_error err = {0};
            unsigned char *out = malloc(caps[k]);
            sl_buf all = SL_BUF_INIT;
            const unsigned char *p = member;
            size_t left = n, got;
            int rc;
            assert_int_equal(sl_inflater_new(&z, SL_CODEC_GZIP, &err), 0);
            sl_inflater_reset(z, 0);
            do {
                got = 0;
                rc = sl_inflater_run(z, &p, &left, out, caps[k], &got, &err);
                sl_buf_append(&all, out, got);
            } while (rc == 0 && got);
            if (bad && rc == 0)
                fail_msg("a wrong header CRC accepted (buffer %zu)", caps[k]);
            if (!bad && (rc != 0 || strcmp(all.data, text) != 0))
                fail_msg("buffer %zu: %s", caps[k], err.message);
            sl_inflater_free(z);
            sl_buf_free(&all);
            free(out);
        }
    }
}

/* sluice's frames hold a block each, at any level: the bound of its own frames reads them. */
static void
test_own_frames_fit_their_bound(void **state)
{
    (void)state;
    sl_buf text = SL_BUF_INIT;
    make_text(&text, (size_t)1 << 20, 5);
    for (int level = 1; level <= 19; level += 9) {
        sl_codec codec = {SL_CODEC_ZSTD, level};
        sl_buf packed = SL_BUF_INIT, out = SL_BUF_INIT;
        sl_error err = {0};
        sl_inflater *z = NULL;
        unsigned char *chunk = malloc((size_t)1 << 20);
        assert_int_equal(sl_codec_compress(&codec, text.data, text.len, &packed, &err), 0);
        assert_int_equal(sl_inflater_new(&z, SL_CODEC_ZSTD, &err), 0);
        sl_inflater_own_frames_only(z);
        sl_inflater_reset(z, 0);
        const unsigned char *p = (const unsigned char *)packed.data;
        size_t left = packed.len, got;
        do {
            got = 0;
            if (sl_inflater_run(z, &p, &left, chunk, (size_t)1 << 20, &got, &err) != 0)
                fail_msg("level %d: %s", level, err.message);
            sl_buf_append(&out, chunk, got);
        } while (got);
        assert_int_equal(out.len, text.len);
        sl_inflater_free(z);
        free(chunk);
        sl_buf_free(&packed);
        sl_buf_free(&out);
    }
    sl_buf_free(&text);
}

static size_t
heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/* One gzip member of 256 MiB of zeros (about 256 KB stored, a thousandfold): the decoder
 * streams it into the caller's buffer, with no allocation that grows with the member. */
static void
test_gzip_bomb_member_is_streamed(void **state)
{
    (void)state;
    const size_t total = (size_t)256 << 20, cap = (size_t)1 << 20;
    unsigned char *zeros = calloc(1, cap), *chunk = malloc(cap);
    sl_buf packed = SL_BUF_INIT;
    z_stream zs = {0};
    assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 16 + 15, 9, Z_DEFAULT_STRATEGY), Z_OK);
    sl_buf_reserve(&packed, total / 900);
    for (size_t done = 0; done < total; done += cap) {
        zs.next_in = zeros;
        zs.avail_in = (uInt)cap;
        int flush = done + cap == total ? Z_FINISH : Z_NO_FLUSH;
        do {
            sl_buf_reserve(&packed, 65536);
            zs.next_out = (unsigned char *)packed.data + packed.len;
            zs.avail_out = 65536;
            deflate(&zs, flush);
            packed.len += 65536 - zs.avail_out;
        } while (zs.avail_out == 0);
    }
    deflateEnd(&zs);
    free(zeros);
    assert_true(packed.len < total / 900);
    sl_inflater *z = NULL;
    sl_error err = {0};
    size_t before = heap_in_use(), peak = 0, out_total = 0;
    assert_int_equal(sl_inflater_new(&z, SL_CODEC_GZIP, &err), 0);
    sl_inflater_reset(z, 0);
    const unsigned char *p = (const unsigned char *)packed.data;
    size_t left = packed.len;
    for (;;) {
        size_t got = 0;
        if (sl_inflater_run(z, &p, &left, chunk, cap, &got, &err) != 0)
            fail_msg("%s", err.message);
        size_t now = heap_in_use();
        peak = now > peak ? now : peak;
        for (size_t i = 0; i < got; i += 4096)
            assert_int_equal(chunk[i], 0);
        out_total += got;
        if (got == 0 && left == 0)
            break;
    }
    assert_true(sl_inflater_at_boundary(z));
    assert_int_equal(out_total, total);
    if (peak > before + ((size_t)1 << 20))
        fail_msg("decoder heap grew by %zu bytes", peak - before);
    sl_inflater_free(z);
    free(chunk);
    sl_buf_free(&packed);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_names_and_magic),
        cmocka_unit_test(test_round_trip_gzip),
        cmocka_unit_test(test_round_trip_zstd),
        cmocka_unit_test(test_round_trip_none),
        cmocka_unit_test(test_zstd_skips_skippable_frames),
        cmocka_unit_test(test_gzip_tool_reads_members),
        cmocka_unit_test(test_zstd_tool_reads_frames),
        cmocka_unit_test(test_inflates_foreign_gzip),
        cmocka_unit_test(test_gzip_whole_members),
        cmocka_unit_test(test_gzip_incompressible),
        cmocka_unit_test(test_zstd_window_is_bounded),
        cmocka_unit_test(test_own_frames_fit_their_bound),
        cmocka_unit_test(test_zstd_legacy_frames_refused),
        cmocka_unit_test(test_gzip_header_crc),
        cmocka_unit_test(test_gzip_bomb_member_is_streamed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
