"""sluice list FILE on a backup of one database (PostgreSQL or MySQL): its header and segments,
from the file's index; no server needed."""
import json
import os
import subprocess

import pytest

from conftest import sluice_bin
from sluicefile import SluiceFile


def driver():
    return os.path.join(os.path.dirname(sluice_bin()), "bfile_driver")


def list_(*args):
    return subprocess.run([sluice_bin(), "list", *map(str, args)], capture_output=True,
                          text=True, timeout=120)


SEGS = [(0, 0, "PREAMBLE", "-", "-", -1, "-- sluice backup format 1\nSET x = 1;\n"),
        (10, 0, "PRE-DATA", "-", "-", -1, "CREATE TABLE t (id int);\n"),
        (20, 1, "TABLE DATA", "app", "t", 3, "INSERT INTO t VALUES (1),(2),(3);\n"),
        (20, 1, "TABLE DATA", "app", "odd\nname", 0, "SELECT 1;\n"),
        (30, 1, "INDEX", "app", "t_id", -1, "CREATE INDEX t_id ON t (id);\n")]


def build(tmp_path, codec, *headers):
    path = tmp_path / f"one.{codec}"
    args = [driver(), str(path), codec]
    for h in headers:
        args += ["--header", h]
    for i, (phase, par, kind, schema, nm, rows, text) in enumerate(SEGS):
        piece = tmp_path / f"seg{i}.sql"
        piece.write_text(text)
        args += ["--seg", str(phase), str(par), kind, schema, nm, str(rows), str(piece)]
    subprocess.run(args, check=True)
    return path


MYSQL = ["engine=mysql", "database=shop", "server_version=10.11.6-MariaDB",
         "binlog_file=binlog.000003", "binlog_position=1234", "gtid_executed=0-1-42",
         "character_set=latin2", "collation=latin2_croatian_ci"]
POSTGRES = ["database=shop", "server_version=15.8"]


@pytest.mark.parametrize("codec", ["none", "gzip", "zstd"])
@pytest.mark.parametrize("engine,headers", [("mysql", MYSQL), ("postgres", POSTGRES)])
def test_json_lists_header_and_every_segment(tmp_path, codec, engine, headers):
    path = build(tmp_path, codec, *headers)
    proc = list_(path, "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    index = SluiceFile.read(str(path)).index
    assert doc["format"] == "sluice backup" and doc["engine"] == engine
    assert doc["codec"] == codec and doc["size"] == os.path.getsize(path)
    assert doc["header"] == index["header"]
    assert doc["segments"] == index["entries"]
    assert [s["name"] for s in doc["segments"]] == [None, None, "t", "odd\nname", "t_id"]


def test_text_mysql(tmp_path):
    out = list_(build(tmp_path, "gzip", *MYSQL))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert 'sluice backup of MySQL database "shop" (server 10.11.6-MariaDB)' in lines[0]
    assert "gzip, 5 segments" in lines[0]
    assert lines[1] == "binary log: binlog.000003 1234, GTID 0-1-42"
    rows = [ln.split() for ln in lines[3:]]
    assert len(rows) == 5
    assert rows[2][:6] == ["2", "20", "TABLE", "DATA", "app.t", "3"]
    assert rows[4][:4] == ["4", "30", "INDEX", "app.t_id"]
    # a newline in a name is escaped: one line per segment
    assert "app.odd\\nname" in lines[6]


def test_text_postgres(tmp_path):
    out = list_(build(tmp_path, "zstd", *POSTGRES))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert 'sluice backup of PostgreSQL database "shop" (server 15.8)' in lines[0]
    assert not lines[1].startswith("binary log")
    assert len(lines) == 2 + len(SEGS)


def test_truncated_file_refused(tmp_path):
    path = build(tmp_path, "gzip", *MYSQL)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    proc = list_(path)
    assert proc.returncode == 4, proc.stderr  # SL_E_ARCHIVE
    assert proc.stdout == ""


def test_options_of_pg_dump_archives_refused(tmp_path):
    proc = list_(build(tmp_path, "none", *POSTGRES), "-n", "app")
    assert proc.returncode == 2 and "pg_dump archive" in proc.stderr
