"""Values far larger than a COPY message should be: the backup reads them in slices and the
restore streams them, so neither process grows with the size of a value."""
import gzip
import os
import subprocess

import pytest

SANITIZED = "ASAN_OPTIONS" in os.environ  # sanitizer builds carry their own memory overhead
CHECKSUM = ("SELECT md5(string_agg(id::text || ':' || coalesce(md5(b), '-') || ':' || "
            "coalesce(md5(t), '-') || ':' || coalesce(v, '-'), ',' ORDER BY id)) FROM wide")


def run_measured(args, env, tmp_path):
    """Runs a command under GNU time and returns (returncode, stderr, peak RSS in MiB).

    The peak is taken by /usr/bin/time, a small process that forks and execs the command:
    ru_maxrss read from this (large) test process would start from its own size."""
    rss_file = tmp_path / "rss"
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(rss_file), *args], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return proc.returncode, proc.stderr, int(rss_file.read_text().split()[-1]) / 1024


@pytest.fixture(scope="module")
def wide_db(pg):
    db = "wide_values"
    pg.create_db(db)
    pg.execute("""
        CREATE TABLE wide (id int PRIMARY KEY, b bytea, t text, v varchar);
        ALTER TABLE wide ALTER COLUMN b SET STORAGE EXTERNAL;
        INSERT INTO wide SELECT 1, decode(string_agg(md5(g::text), ''), 'hex'), 'small', 'v'
            FROM generate_series(1, 2500000) g;
        INSERT INTO wide VALUES (2, '\\x00ff5c0a', repeat(E'tab\\there\\\\back\\nline é日', 1000000),
            NULL);
        INSERT INTO wide VALUES (3, NULL, NULL, repeat('z', 6000000));
        INSERT INTO wide SELECT g, decode(md5(g::text), 'hex'), E'r\\t' || g, 'x'
            FROM generate_series(4, 2000) g;
    """, db)
    yield db
    pg.drop_db(db)


def test_large_values_round_trip_in_bounded_memory(pg, sluice, wide_db, fresh_db, tmp_path):
    assert pg.query("SELECT max(octet_length(b)) FROM wide", wide_db)[0][0] == 40_000_000
    out = tmp_path / "wide.sql.gz"
    code, err, rss = run_measured([sluice.bin, "backup", "single", wide_db, "-o", str(out),
                                   "-j", "2"], pg.env(), tmp_path)
    assert code == 0, err
    assert "2000 rows" in err
    if not SANITIZED:
        assert rss < 64, f"backup peak RSS {rss:.0f} MiB for a 40 MB value"

    target = fresh_db("wide_copy")
    code, err, rss = run_measured([sluice.bin, "restore", str(out), "--database", target,
                                   "-j", "2"], pg.env(), tmp_path)
    assert code == 0, err
    if not SANITIZED:
        assert rss < 64, f"restore peak RSS {rss:.0f} MiB for a 40 MB value"
    assert pg.query(CHECKSUM, target) == pg.query(CHECKSUM, wide_db)

    # The sliced rows are ordinary COPY text: psql restores the same values.
    by_psql = fresh_db("wide_psql")
    pg.psql(by_psql, input=gzip.decompress(out.read_bytes()))
    assert pg.query(CHECKSUM, by_psql) == pg.query(CHECKSUM, wide_db)


def test_threshold_flag_keeps_values_whole(pg, sluice, wide_db, tmp_path):
    out = tmp_path / "whole.sql"
    sluice.run("backup", "single", wide_db, "-o", out, "--large-value-size", "100", check=True)
    sliced = tmp_path / "sliced.sql"
    sluice.run("backup", "single", wide_db, "-o", sliced, "--large-value-size", "1", check=True)
    # Same rows, same COPY text; only their order inside the table's block may differ.
    def rows(path):
        text = path.read_text()
        block = text[text.index("COPY public.wide"):]
        return sorted(block[:block.index("\n\\.\n")].split("\n")[1:])
    assert rows(out) == rows(sliced)
