"""Hostile files: small files made to blow up memory, and indexes that lie. Every bomb is made
here at run time, a few hundred KB to a few MB on disk; restore (into a fresh database) and
verify must each stay under 64 MB of peak RSS, measured by GNU time, and end with a clear
message and exit code. A file refused before the restore starts leaves the target untouched."""
import hashlib
import json
import os
import re
import subprocess

import pytest

from conftest import sluice_bin
from sluicefile import SluiceFile, gzip_member

SANITIZED = "ASAN_OPTIONS" in os.environ  # sanitizer builds carry their own memory overhead
RSS_LIMIT_MB = 64
ARCHIVE = 4
MIB = 1 << 20


def run_measured(args, env, tmp_path):
    """Runs a command under GNU time: (returncode, stdout, stderr, peak RSS in MiB)."""
    rss_file = tmp_path / "rss"
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(rss_file), *map(str, args)],
                          env=env, capture_output=True, text=True, timeout=600)
    return proc.returncode, proc.stdout, proc.stderr, int(rss_file.read_text().split()[-1]) / 1024


def assert_bounded(rss, what):
    print(f"{what}: peak RSS {rss:.1f} MiB")  # shown with pytest -s
    if not SANITIZED:
        assert rss < RSS_LIMIT_MB, f"{what}: peak RSS {rss:.0f} MiB"


def repeated(piece: bytes, total: int):
    """total bytes of piece repeated, in 1 MiB chunks."""
    chunk = piece * (MIB // len(piece))
    for _ in range(total // len(chunk)):
        yield chunk


def write_gzip_script(path, head: bytes, tail_piece: bytes, tail_bytes: int):
    """A plain script (as pg_dump -Fp | gzip would make), one gzip member."""
    path.write_bytes(gzip_member([head, *repeated(tail_piece, tail_bytes)]))


def tables(pg, db):
    return [r[0] for r in pg.query("SELECT relname FROM pg_class WHERE relkind = 'r' AND "
                                   "relnamespace = 'public'::regnamespace ORDER BY 1", db)]


@pytest.fixture(scope="module")
def four_tables_db(pg):
    db = "hostile_src"
    pg.create_db(db)
    pg.execute("".join(f"CREATE TABLE t{i} (id int PRIMARY KEY, v text);"
                       f"INSERT INTO t{i} SELECT g, md5(g::text) FROM generate_series(1, 50) g;"
                       for i in range(4)), db)
    yield db
    pg.drop_db(db)


def backup(pg, db, path):
    proc = subprocess.run([sluice_bin(), "backup", "single", db, "-o", str(path)], env=pg.env(),
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return path


@pytest.fixture(scope="module")
def four_tables(pg, four_tables_db, tmp_path_factory):
    """A real sluice backup (gzip) of four small tables with an index each."""
    return backup(pg, four_tables_db, tmp_path_factory.mktemp("hostile") / "four.sql.gz")


@pytest.fixture(scope="module")
def four_tables_zstd(pg, four_tables_db, tmp_path_factory):
    return backup(pg, four_tables_db, tmp_path_factory.mktemp("hostile") / "four.sql.zst")


# ---- statements: an unterminated quote holds everything after it ---------------------------

STATEMENT_BOMB_HEAD = b"CREATE TABLE canary (a int);\nSELECT '"


@pytest.mark.parametrize("jobs", [1, 4])
def test_unterminated_string_in_a_plain_script(pg, sluice, fresh_db, tmp_path, jobs):
    bomb = tmp_path / "string.sql.gz"
    write_gzip_script(bomb, STATEMENT_BOMB_HEAD, b"x", 200 * MIB)
    assert bomb.stat().st_size < 1 * MIB
    target = fresh_db("bomb")
    code, _, err, rss = run_measured([sluice.bin, "restore", bomb, "-d", target, "-j", jobs],
                                     pg.env(), tmp_path)
    assert code == ARCHIVE, err
    assert re.search(r"statement starting at line 2 \(offset 29\) is longer than 16 MiB \(an "
                     r"unterminated quote or comment\?\); if it is meant to be that long, raise "
                     r"the limit with --max-statement-size=MB.*file .*string\.sql\.gz", err), err
    assert "restore incomplete" in err
    assert_bounded(rss, f"restore -j {jobs}")

    # verify reads a plain script end to end without parsing its SQL, in bounded memory too
    code, out, err, rss = run_measured([sluice.bin, "verify", bomb], pg.env(), tmp_path)
    assert code == 0, err
    assert "decompressed cleanly, 200.0 MiB of SQL" in out
    assert_bounded(rss, "verify")


def test_unterminated_string_single_transaction_restores_nothing(pg, sluice, fresh_db,
                                                                 tmp_path):
    bomb = tmp_path / "string.sql.gz"
    write_gzip_script(bomb, STATEMENT_BOMB_HEAD, b"x", 40 * MIB)
    target = fresh_db("bomb1")
    proc = sluice.run("restore", bomb, "-d", target, "--single-transaction")
    assert proc.returncode == ARCHIVE, proc.stderr
    assert "--max-statement-size=MB" in proc.stderr
    assert tables(pg, target) == []


def test_max_statement_size_flag(pg, sluice, fresh_db, tmp_path):
    """A 24 MiB statement is refused by default and restores with the limit raised."""
    script = tmp_path / "long.sql.gz"
    value = 24 * MIB
    script.write_bytes(gzip_member([b"CREATE TABLE big AS SELECT '", *repeated(b"y", value),
                                    b"'::text AS v;\n"]))
    target = fresh_db("long")
    proc = sluice.run("restore", script, "-d", target)
    assert proc.returncode == ARCHIVE
    assert "statement starting at line 1 (offset 0) is longer than 16 MiB" in proc.stderr
    target = fresh_db("long")
    proc = sluice.run("restore", script, "-d", target, "--max-statement-size=32")
    assert proc.returncode == 0, proc.stderr
    assert pg.query("SELECT length(v) FROM big", target) == [(value,)]
    for bad in ["0", "1025", "x"]:
        proc = sluice.run("restore", script, "-d", target, f"--max-statement-size={bad}")
        assert proc.returncode == 2 and "--max-statement-size" in proc.stderr, proc.stderr


def test_unterminated_strings_in_parallel_segments(pg, sluice, fresh_db, four_tables,
                                                   tmp_path):
    """Four TABLE DATA segments each holding an unterminated string: the statements the four
    connections read at once share one budget, so -j 4 costs what -j 1 does."""
    f = SluiceFile.read(four_tables)
    data = [i for i, e in enumerate(f.index["entries"]) if e["kind"] == "TABLE DATA"]
    assert len(data) == 4
    member = gzip_member([b"SELECT '", *repeated(b"z", 200 * MIB)])
    for i in data:
        f.set_stored(i, member, 200 * MIB + 8)
        f.index["entries"][i]["rows"] = 0
    bomb = tmp_path / "parallel.sql.gz"
    f.write(bomb)
    assert bomb.stat().st_size < 2 * MIB
    for jobs in (1, 4):
        target = fresh_db("pbomb")
        code, _, err, rss = run_measured([sluice.bin, "restore", bomb, "-d", target, "-j", jobs],
                                         pg.env(), tmp_path)
        assert code == ARCHIVE, err
        assert re.search(r"statement starting at line 1 \(offset 0\) (is longer than 16 MiB|does "
                         r"not fit: the statements read at the same time by the restore's "
                         r"connections hold more than 16 MiB together).*--max-statement-size=MB",
                         err), err
        assert re.search(r"segment \d+ \(TABLE DATA [\w.]+\) at file offset \d+", err), err
        assert "restore incomplete" in err
        assert_bounded(rss, f"restore -j {jobs}")
    code, out, err, rss = run_measured([sluice.bin, "verify", bomb], pg.env(), tmp_path)
    assert code == 0, err  # the file is sound; its SQL is what restore refuses
    assert_bounded(rss, "verify")


def test_preamble_is_bounded(pg, sluice, fresh_db, four_tables, tmp_path):
    """The preamble is kept in memory to run on every connection: 1 MiB at most (sluice writes
    a few hundred bytes of settings)."""
    f = SluiceFile.read(four_tables)
    assert f.index["entries"][0]["kind"] == "PREAMBLE"
    chunks = [b"-- sluice backup format 1\n", *repeated(b"SET work_mem = '4MB';\n", 2 * MIB)]
    f.set_stored(0, gzip_member(chunks), sum(map(len, chunks)))
    path = tmp_path / "preamble.sql.gz"
    f.write(path)
    target = fresh_db("pre")
    proc = sluice.run("restore", path, "-d", target, "-j", "4")
    assert proc.returncode == ARCHIVE, proc.stderr
    assert "the preamble (segment 0 at offset 0) is larger than 1048576 bytes" in proc.stderr
    assert tables(pg, target) == []


# ---- zstd: a frame may ask for a window of up to 2 GiB --------------------------------------

def zstd(path, args, chunks):
    """Writes the chunks through the zstd tool (from a pipe, as a dump would be) into path."""
    with open(path, "wb") as out:
        proc = subprocess.Popen(["zstd", "-q", "-c", *args], stdin=subprocess.PIPE, stdout=out)
        for chunk in chunks:
            proc.stdin.write(chunk)
        proc.stdin.close()
        assert proc.wait() == 0


@pytest.mark.parametrize("jobs", [1, 4])
def test_zstd_long_window_refused(pg, sluice, fresh_db, tmp_path, jobs):
    bomb = tmp_path / "long.sql.zst"
    zstd(bomb, ["--long=27"], [b"CREATE TABLE canary (a int);\n", *repeated(b"\n", 200 * MIB)])
    assert bomb.stat().st_size < 1 * MIB
    message = (r"backup file \".*long\.sql\.zst\" cannot be read: the zstd frame at offset 0 "
               r"needs a window of 128 MiB \(made with zstd --long or --ultra\?\), more than "
               r"the 8 MiB sluice allows \(enough for zstd -19\): decompress it first with "
               r"`zstd -d --long=31`")
    code, _, err, rss = run_measured([sluice.bin, "verify", bomb], pg.env(), tmp_path)
    assert code == ARCHIVE, err
    assert re.search(message, err), err
    assert_bounded(rss, "verify")
    target = fresh_db("zbomb")
    code, _, err, rss = run_measured([sluice.bin, "restore", bomb, "-d", target, "-j", jobs],
                                     pg.env(), tmp_path)
    assert code == ARCHIVE, err
    assert re.search(message, err), err
    assert_bounded(rss, f"restore -j {jobs}")
    assert tables(pg, target) == []


@pytest.mark.parametrize("jobs", [1, 4])
def test_zstd_windows_in_a_backup_are_sluices_own(pg, sluice, fresh_db, four_tables_zstd,
                                                  tmp_path, jobs):
    """The frames of a backup's segments have a window of at most 1 MiB: what zstd -19
    makes from a pipe (8 MiB) is refused there, so -j streams never hold large windows."""
    f = SluiceFile.read(four_tables_zstd)
    data = [i for i, e in enumerate(f.index["entries"]) if e["kind"] == "TABLE DATA"]
    frame = tmp_path / "frame.zst"
    zstd(frame, ["-19"], [b"SELECT '", *repeated(b"w", 64 * MIB)])
    for i in data:
        f.set_stored(i, frame.read_bytes(), 64 * MIB + 8)
        f.index["entries"][i]["rows"] = 0
    bomb = tmp_path / "window.sql.zst"
    f.write(bomb)
    first = f.index["entries"][data[0]]
    message = (r"backup file \".*window\.sql\.zst\" cannot be read: segment \d+ \(TABLE DATA "
               r"public\.t\d\): the zstd frame at offset \d+ needs a window of 8 MiB, more than the "
               r"1 MiB of the frames sluice writes: the file was not written by sluice "
               r"\(`zstd -d --long=31` decompresses it for psql\)")
    code, _, err, rss = run_measured([sluice.bin, "verify", bomb], pg.env(), tmp_path)
    assert code == ARCHIVE, err
    assert re.search(message, err), err
    assert f"segment {data[0]} " in err and f"at offset {first['offset']} " in err
    assert_bounded(rss, "verify")
    target = fresh_db("zown")
    code, _, err, rss = run_measured([sluice.bin, "restore", bomb, "-d", target, "-j", jobs],
                                     pg.env(), tmp_path)
    assert code == ARCHIVE, err
    assert re.search(message, err), err
    assert "restore incomplete" in err
    assert_bounded(rss, f"restore -j {jobs}")


def test_zstd_19_scripts_still_read(pg, sluice, fresh_db, tmp_path):
    """What zstd -19 writes (an 8 MiB window from a pipe) is accepted."""
    script = tmp_path / "dump.sql.zst"
    rows = b"".join(b"%d\tsome text %d\n" % (i, i * 7) for i in range(100000))
    zstd(script, ["-19"], [b"CREATE TABLE t (a int, b text);\nCOPY t (a, b) FROM stdin;\n", rows,
                           b"\\.\n"])
    proc = sluice.run("verify", script, check=True)
    assert "decompressed cleanly" in proc.stdout
    target = fresh_db("z19")
    sluice.run("restore", script, "-d", target, check=True)
    assert pg.query("SELECT count(*) FROM t", target) == [(100000,)]


# ---- gzip: one member that inflates a thousandfold ------------------------------------------

def test_gzip_member_inflating_a_thousandfold(pg, sluice, fresh_db, tmp_path):
    bomb = tmp_path / "inflate.sql.gz"
    write_gzip_script(bomb, b"CREATE TABLE canary (a int);\n", b"\n", 256 * MIB)
    assert bomb.stat().st_size < 256 * MIB // 900
    code, out, err, rss = run_measured([sluice.bin, "verify", bomb], pg.env(), tmp_path)
    assert code == 0, err
    assert "decompressed cleanly, 256.0 MiB of SQL" in out
    assert_bounded(rss, "verify")
    target = fresh_db("gbomb")
    code, _, err, rss = run_measured([sluice.bin, "restore", bomb, "-d", target], pg.env(),
                                     tmp_path)
    assert code == 0, err
    assert tables(pg, target) == ["canary"]
    assert_bounded(rss, "restore")


# ---- the index --------------------------------------------------------------------------------

def test_index_of_ten_megabytes(pg, sluice, fresh_db, four_tables, tmp_path):
    """Tens of thousands of entries (every one well formed but the last) are checked as they
    are read: memory does not follow the size of the index."""
    f = SluiceFile.read(four_tables)
    entries = f.index["entries"]
    end = sum(len(s) for s in f.segments)
    filler = dict(entries[-1], kind="FINAL", schema=None, name="x" * 60, length=0, raw_length=0,
                  sha256=hashlib.sha256(b"").hexdigest(), rows=-1, offset=end)
    n = 45000
    entries += [dict(filler, seq=len(entries) + k) for k in range(n)]
    entries[-1]["offset"] = end + 1  # the last one lies
    f.segments += [b""] * n
    bomb = tmp_path / "index.sql.gz"
    f.write(bomb, fix_entries=False)
    assert 9 * MIB < bomb.stat().st_size < 12 * MIB
    last = len(entries) - 1
    message = (rf"backup file \".*index\.sql\.gz\" is corrupt: index entry {last} says segment "
               rf"at offset {end + 1} of 0 bytes, expected offset {end}")
    code, _, err, rss = run_measured([sluice.bin, "verify", bomb], pg.env(), tmp_path)
    assert code == ARCHIVE, err
    assert re.search(message, err), err
    assert_bounded(rss, "verify")
    target = fresh_db("ibomb")
    code, _, err, rss = run_measured([sluice.bin, "restore", bomb, "-d", target, "-j", "4"],
                                     pg.env(), tmp_path)
    assert code == ARCHIVE, err
    assert re.search(message, err), err
    assert_bounded(rss, "restore")
    assert tables(pg, target) == []


def all_negative(entries):
    for e in entries:
        e["phase"] = -1


def data_at_25(entries):
    for e in entries:
        if e["phase"] == 20:
            e["phase"] = 25


def last_at_60(entries):
    entries[-1]["phase"] = 60


def wrapping(entries):
    for e in entries:
        e["phase"] += 2**32  # read as a C int, 2**32 + 20 would be 20


BAD_PHASES = [all_negative, data_at_25, last_at_60, wrapping]


@pytest.mark.parametrize("edit", BAD_PHASES, ids=[f.__name__ for f in BAD_PHASES])
def test_unknown_phases_are_refused(pg, sluice, fresh_db, four_tables, tmp_path, edit):
    f = SluiceFile.read(four_tables)
    entries = f.index["entries"]
    edit(entries)
    bad = next(i for i, e in enumerate(entries) if e["phase"] not in (0, 10, 20, 30, 40, 50))
    path = tmp_path / "phases.sql.gz"
    f.write(path)
    message = (rf"backup file \".*phases\.sql\.gz\" is corrupt: index entry {bad} \(segment at "
               rf"offset {entries[bad]['offset']}\) has phase {entries[bad]['phase']}, which is "
               rf"not one of sluice's phases \(0, 10, 20, 30, 40, 50\)")
    proc = sluice.run("verify", path)
    assert proc.returncode == ARCHIVE, proc.stdout + proc.stderr
    assert re.search(message, proc.stderr), proc.stderr
    target = fresh_db("phase")
    proc = sluice.run("restore", path, "-d", target)
    assert proc.returncode == ARCHIVE, proc.stderr
    assert re.search(message, proc.stderr), proc.stderr
    assert tables(pg, target) == []


def test_the_edited_file_is_otherwise_sound(sluice, four_tables, tmp_path):
    """The rewriting above keeps a file sluice reads: the refusals come from what was changed."""
    path = tmp_path / "same.sql.gz"
    SluiceFile.read(four_tables).write(path)
    proc = sluice.run("verify", "--json", path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["rows"] == 200
