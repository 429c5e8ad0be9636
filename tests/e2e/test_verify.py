"""sluice verify without a server: files built here by an independent writer of the format in
io/bfile.h (plain and gzip), pg_dump-style plain scripts, damage, and bad usage."""
import gzip
import hashlib
import json
import re
import struct
import subprocess
import zlib

import pytest

SIG = b"-- sluice backup format 1\n"
ARCHIVE, IO, USAGE = 4, 6, 2


def gz_member(payload: bytes) -> bytes:
    """An empty gzip member carrying payload in FEXTRA subfield "SL"."""
    return (b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff" + struct.pack("<H", len(payload) + 4)
            + b"SL" + struct.pack("<H", len(payload)) + payload + b"\x03\x00" + b"\x00" * 8)


def build(segments, codec):
    """segments: [(meta dict, text bytes)] -> bytes of a sluice backup file."""
    out, entries = b"", []
    for seq, (meta, text) in enumerate(segments):
        if codec == "gzip":
            stored = gzip.compress(text[: len(text) // 2]) + gzip.compress(text[len(text) // 2:])
        else:
            stored = text
        entries.append(dict(seq=seq, phase=meta["phase"], parallel=meta.get("parallel", False),
                            kind=meta["kind"], schema=meta.get("schema"), name=meta.get("name"),
                            rows=meta.get("rows", -1), offset=len(out), length=len(stored),
                            raw_length=len(text), sha256=hashlib.sha256(stored).hexdigest()))
        out += stored
    doc = json.dumps(dict(format=1, codec=codec, header=dict(database="d"), entries=entries),
                     separators=(",", ":")).encode()
    if codec == "gzip":
        index = b"".join(gz_member(doc[i:i + 65000]) for i in range(0, len(doc), 65000))
    else:
        index = b"\n-- sluice-index: " + doc + b"\n"
    payload = b"sluice-trailer 1 %020d %020d %s" % (len(out), len(index),
                                                      hashlib.sha256(index).hexdigest().encode())
    trailer = gz_member(payload) if codec == "gzip" else b"-- " + payload + b"\n"
    return out + index + trailer


def sample(rows=3, claimed=None):
    copy = b"COPY public.t (a, b) FROM stdin;\n" + b"".join(
        b"%d\tx\\ty\n" % i for i in range(rows)) + b"\\.\n"
    return [
        (dict(phase=0, kind="PREAMBLE"), SIG + b"SET client_encoding = 'UTF8';\n"),
        (dict(phase=10, kind="PRE-DATA"), b"CREATE TABLE public.t (a int, b text);\n"),
        (dict(phase=20, kind="TABLE DATA", schema="public", name="t", parallel=True,
              rows=rows if claimed is None else claimed), copy),
    ]


@pytest.mark.parametrize("codec, ext", [("gzip", ".sql.gz"), ("none", ".sql")])
def test_independent_writer_verifies(sluice_noserver, tmp_path, codec, ext):
    path = tmp_path / f"b{ext}"
    path.write_bytes(build(sample(rows=5), codec))
    if codec == "gzip":  # the tools see one SQL stream and ignore the index
        text = subprocess.run(["gzip", "-dc", str(path)], capture_output=True, check=True).stdout
        assert text.startswith(SIG) and text.endswith(b"\\.\n")
    proc = sluice_noserver.run("verify", path)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"public\.t\s+5\s", proc.stdout), proc.stdout
    proc = sluice_noserver.run("verify", path, "--json")
    doc = json.loads(proc.stdout)
    assert doc["ok"] and doc["indexed"] and doc["codec"] == codec and doc["rows"] == 5
    assert doc["tables"] == [dict(schema="public", name="t", rows=5, bytes=len(sample(5)[2][1]),
                                  stored_bytes=doc["tables"][0]["stored_bytes"], segments=1)]
    proc = sluice_noserver.run("verify", "-q", path)
    assert proc.returncode == 0 and proc.stdout == "", proc.stdout


def test_row_count_mismatch(sluice_noserver, tmp_path):
    path = tmp_path / "b.sql.gz"
    path.write_bytes(build(sample(rows=5, claimed=6), "gzip"))
    proc = sluice_noserver.run("verify", path)
    assert proc.returncode == ARCHIVE
    assert "segment 2 (TABLE DATA public.t) at offset" in proc.stderr
    assert "holds 5 rows, the index says 6" in proc.stderr


@pytest.mark.parametrize("codec", ["gzip", "none"])
def test_every_cut_and_flip_refused(sluice_noserver, tmp_path, codec):
    good = build(sample(rows=2), codec)
    bad = tmp_path / "bad.sql"
    cases = [good[:n] for n in range(1, len(good), max(1, len(good) // 40))]
    for off in range(0, len(good), max(1, len(good) // 60)):
        flipped = bytearray(good)
        flipped[off] ^= 1 << (off % 8)
        cases.append(bytes(flipped))
    for data in cases:
        bad.write_bytes(data)
        proc = sluice_noserver.run("verify", bad)
        assert proc.returncode == ARCHIVE, (len(data), proc.stdout, proc.stderr)
        assert re.search(r"offset \d+", proc.stderr), proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


PLAIN = b"--\n-- PostgreSQL database dump\n--\nSET statement_timeout = 0;\n"


@pytest.mark.parametrize("tool, ext", [(None, ".sql"), ("gzip", ".sql.gz"), ("zstd", ".sql.zst")])
def test_plain_script(sluice_noserver, tmp_path, tool, ext):
    path = tmp_path / f"dump{ext}"
    data = PLAIN
    if tool:
        data = subprocess.run([tool, "-c"], input=PLAIN, capture_output=True, check=True).stdout
    path.write_bytes(data)
    proc = sluice_noserver.run("verify", path)
    assert proc.returncode == 0, proc.stderr
    assert "no sluice index" in proc.stdout and "decompressed cleanly" in proc.stdout
    if tool:
        path.write_bytes(data[:-6])
        proc = sluice_noserver.run("verify", path)
        assert proc.returncode == ARCHIVE, proc.stderr
        assert re.search(r"offset \d+", proc.stderr), proc.stderr


def test_plain_gzip_damage_names_member(sluice_noserver, tmp_path):
    second = zlib.compressobj(6, zlib.DEFLATED, 31)
    member2 = second.compress(b"SELECT 2;\n" * 50) + second.flush()
    member1 = gzip.compress(b"SELECT 1;\n")
    data = bytearray(member1 + member2)
    data[len(member1) + 12] ^= 0xFF
    path = tmp_path / "x.sql.gz"
    path.write_bytes(bytes(data))
    proc = sluice_noserver.run("verify", path)
    assert proc.returncode == ARCHIVE
    assert f"member at offset {len(member1)}" in proc.stderr, proc.stderr


@pytest.mark.parametrize("argv, code, needle", [
    (["verify"], USAGE, "no backup file given"),
    (["verify", "a.sql", "b.sql"], USAGE, 'unexpected argument "b.sql"'),
    (["verify", "a.sql", "--bogus"], USAGE, '"--bogus"'),
    (["verify", "-x", "a.sql"], USAGE, '"-x"'),
    (["verify", "a.sql", "--log-format=xml"], USAGE, "xml"),
])
def test_bad_usage(sluice_noserver, tmp_path, argv, code, needle):
    proc = subprocess.run([sluice_noserver.bin, *argv], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == code, proc.stderr
    assert needle in proc.stderr, proc.stderr


def test_missing_file_and_directory(sluice_noserver, tmp_path):
    proc = sluice_noserver.run("verify", tmp_path / "nope.sql.gz")
    assert proc.returncode == IO
    assert str(tmp_path / "nope.sql.gz") in proc.stderr and "No such file" in proc.stderr
    proc = sluice_noserver.run("verify", tmp_path)
    assert proc.returncode == IO
    assert "Is a directory" in proc.stderr, proc.stderr


def test_help(sluice_noserver):
    proc = sluice_noserver.run("verify", "--help")
    assert proc.returncode == 0
    assert "sluice verify FILE" in proc.stdout and "--json" in proc.stdout
