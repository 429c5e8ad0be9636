"""pg_dump's custom (-Fc) and directory (-Fd) archives, read by sluice with no pg_restore.

pg_restore is the oracle: the same archive restored by pg_restore and by sluice (-j 1 and
-j 4) gives the same database (compare.py); `sluice list` prints the entry lines
`pg_restore -l` prints; selections (-n, -t, --schema-only, --data-only) give what pg_restore
gives with the same flags. A damaged or truncated archive is refused with exit 4 naming the
offset, and leaves no success behind.
"""
import gzip
import os
import subprocess

import pytest

import compare
from test_roundtrip import dbs, rich, roles  # noqa: F401  (module fixtures shared)

PG_RESTORE = f"{compare.BINDIR}/pg_restore"
SANITIZED = os.environ.get("SLUICE_SANITIZED") == "1"
# Under the sanitizers (slow) one restore per format: the reading code is the same for -j.
SANITIZED_CASES = {("custom-gzip", 4), ("directory-none", 4), ("custom-pipe", 1)}
PG_DUMP = f"{compare.BINDIR}/pg_dump"

# name: pg_dump arguments (the archive goes to -f, except "pipe" which writes to stdout)
ARCHIVES = {
    "custom-gzip": ["-Fc"],
    "custom-none": ["-Fc", "-Z", "0"],
    "directory-gzip": ["-Fd"],
    "directory-none": ["-Fd", "-Z", "0"],
    "custom-pipe": ["-Fc"],
}


@pytest.fixture(scope="module")
def archives(pg, rich, tmp_path_factory):  # noqa: F811
    root = tmp_path_factory.mktemp("archives")
    made = {}
    for name, args in ARCHIVES.items():
        path = str(root / (name + ("" if name.startswith("directory") else ".dump")))
        if name == "custom-pipe":  # no data offsets in the TOC: sluice must find the blocks
            with open(path, "wb") as f:
                subprocess.run([PG_DUMP, *args, "-d", pg.conninfo(rich)], stdout=f,
                               env=pg.env(), check=True)
        else:
            subprocess.run([PG_DUMP, *args, "-f", path, "-d", pg.conninfo(rich)],
                           env=pg.env(), check=True)
        made[name] = path
    return made


def pg_restore(pg, path, db, *args):
    proc = subprocess.run([PG_RESTORE, "-d", pg.conninfo(db), *args, path], env=pg.env(),
                          capture_output=True, text=True)
    assert proc.returncode == 0, f"pg_restore failed:\n{proc.stderr[-3000:]}"


def sluice_restore(sluice, path, db, *args):
    proc = sluice.run("restore", path, "--database", db, *args)
    assert proc.returncode == 0, f"sluice restore failed ({proc.returncode}):\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def by_pg_restore(pg, archives, dbs):  # noqa: F811
    """Each archive restored once by pg_restore, read once (compare.Snapshot)."""
    made = {}
    for name, path in archives.items():
        if name == "custom-pipe":
            continue  # pg_restore -j cannot; -j 1 gives what custom-gzip gives
        db = dbs.create("pgr")
        pg_restore(pg, path, db)
        made[name] = compare.Snapshot(pg.conninfo(db))
    return made


@pytest.mark.parametrize("name", list(ARCHIVES))
@pytest.mark.parametrize("jobs", [1, 4])
def test_restore_like_pg_restore(pg, sluice, archives, by_pg_restore,
                                 dbs, name, jobs):  # noqa: F811
    if SANITIZED and (name, jobs) not in SANITIZED_CASES:
        pytest.skip("under the sanitizers one restore per format")
    target = dbs.name("from_archive")
    proc = sluice_restore(sluice, archives[name], target, "--create", "-j", jobs)
    assert "pg_dump" in proc.stderr, proc.stderr
    oracle = by_pg_restore["custom-gzip" if name == "custom-pipe" else name]
    compare.assert_same(oracle, pg.conninfo(target))


def entry_lines(text):
    return [line for line in text.splitlines() if line and not line.startswith(";")]


@pytest.mark.parametrize("name", ["custom-gzip", "directory-none", "custom-pipe"])
def test_list_like_pg_restore_l(pg, sluice, archives, name):
    path = archives[name]
    ours = sluice.run("list", path)
    assert ours.returncode == 0, ours.stderr
    theirs = subprocess.run([PG_RESTORE, "-l", path], capture_output=True, text=True,
                            check=True)
    assert entry_lines(ours.stdout) == entry_lines(theirs.stdout)
    assert "Format: " + ("CUSTOM" if name.startswith("custom") else "DIRECTORY") in ours.stdout


@pytest.mark.parametrize("args", [["-n", "app"], ["-t", "big"], ["--schema-only"],
                                  ["--data-only"]])
def test_list_selection_like_pg_restore(sluice, archives, args):
    path = archives["custom-gzip"]
    ours = sluice.run("list", path, *args)
    assert ours.returncode == 0, ours.stderr
    theirs = subprocess.run([PG_RESTORE, "-l", *args, path], capture_output=True, text=True,
                            check=True)
    got = entry_lines(ours.stdout)
    if args == ["--data-only"]:  # sluice refreshes materialized views after new rows
        refreshes = [line for line in got if " MATERIALIZED VIEW DATA " in line]
        assert refreshes, got
        got = [line for line in got if line not in refreshes]
    assert got == entry_lines(theirs.stdout)


def test_list_json(sluice, archives):
    import json
    proc = sluice.run("list", archives["custom-gzip"], "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["format"] == "custom" and doc["compression"] == "gzip"
    assert doc["version"].startswith("1.14")
    kinds = {e["desc"] for e in doc["entries"]}
    assert {"TABLE", "TABLE DATA", "INDEX", "BLOBS"} <= kinds, kinds
    data = [e for e in doc["entries"] if e["desc"] == "TABLE DATA"]
    assert all(e["has_data"] and e["deps"] for e in data)


# pg_restore -n takes the schema's objects, not the schema: the targets have it already
SELECTIONS = {
    "no-owner-privileges": ["--no-owner", "--no-privileges"],
    "schema": ["-n", "app"],
    "table": ["-t", "big"],
    "schema-only": ["--schema-only"],
}


@pytest.mark.parametrize("what", list(SELECTIONS))
def test_selection_like_pg_restore(pg, sluice, archives, dbs, what):  # noqa: F811
    args = SELECTIONS[what]
    path = archives["custom-gzip"]
    theirs = dbs.create("pgr_sel")
    ours = dbs.create("sl_sel")
    if what == "schema":
        for db in (theirs, ours):
            pg.execute("CREATE SCHEMA app", db)
    pg_restore(pg, path, theirs, *args)
    sluice_restore(sluice, path, ours, "-j", 2, *args)
    compare.assert_same(pg.conninfo(theirs), pg.conninfo(ours))


def test_single_transaction(pg, sluice, archives, by_pg_restore, dbs):  # noqa: F811
    """All or nothing: one connection, TOC order, large objects inside the one transaction."""
    target = dbs.name("one_txn")
    sluice_restore(sluice, archives["directory-gzip"], target, "--create", "-1")
    compare.assert_same(by_pg_restore["directory-gzip"], pg.conninfo(target))


def test_data_only_after_schema_only(pg, sluice, archives, rich, dbs):  # noqa: F811
    path = archives["directory-gzip"]
    target = dbs.create("split")
    sluice_restore(sluice, path, target, "--schema-only")
    assert pg.query("SELECT count(*) FROM big", target)[0][0] == 0
    sluice_restore(sluice, path, target, "--data-only", "-j", 2)
    # sluice loads a data-only restore with triggers off (session_replication_role), as
    # pg_restore --disable-triggers does with ALTER TABLE ... DISABLE / ENABLE TRIGGER ALL,
    # which also enables the triggers the source had disabled: the source is the oracle
    compare.assert_same(pg.conninfo(rich), pg.conninfo(target))


def test_selection_needs_an_archive(sluice, tmp_path):
    script = tmp_path / "x.sql"
    script.write_text("SELECT 1;\n")
    proc = sluice.run("restore", str(script), "--database", "postgres", "-t", "x")
    assert proc.returncode == 2, proc.stderr
    assert "pg_dump archive" in proc.stderr


def test_truncated_archive_refused(pg, sluice, archives, dbs, tmp_path):  # noqa: F811
    """Cut anywhere: exit 4 naming the offset, before or during the restore; never success."""
    data = open(archives["custom-none"], "rb").read()
    for frac in (0.001, 0.01, 0.3, 0.6, 0.97):
        cut = tmp_path / f"cut{frac}.dump"
        cut.write_bytes(data[:int(len(data) * frac)])
        listed = sluice.run("list", str(cut))
        target = dbs.name("cut")
        proc = sluice.run("restore", str(cut), "--database", target, "--create")
        assert proc.returncode == 4, (frac, proc.returncode, proc.stderr)
        assert "offset" in proc.stderr or "byte" in proc.stderr, proc.stderr
        if listed.returncode != 0:  # the TOC itself is cut
            assert listed.returncode == 4, listed.stderr


def test_damaged_data_block_refused(pg, sluice, archives, dbs, tmp_path):  # noqa: F811
    """A gzip data block with garbage in the middle: exit 4, the entry named."""
    data = bytearray(open(archives["custom-gzip"], "rb").read())
    mid = len(data) * 2 // 3
    data[mid:mid + 64] = b"\xff" * 64
    bad = tmp_path / "bad.dump"
    bad.write_bytes(bytes(data))
    target = dbs.name("bad")
    proc = sluice.run("restore", str(bad), "--database", target, "--create")
    assert proc.returncode == 4, (proc.returncode, proc.stderr)


def test_newer_archive_version_refused(sluice, archives, tmp_path):
    data = bytearray(open(archives["custom-none"], "rb").read())
    assert data[:5] == b"PGDMP"
    data[6] = 99  # minor version 1.99
    new = tmp_path / "new.dump"
    new.write_bytes(bytes(data))
    proc = sluice.run("list", str(new))
    assert proc.returncode == 4, proc.stderr
    assert "1.99" in proc.stderr and "1.16" in proc.stderr, proc.stderr


@pytest.mark.parametrize("name", ["custom-gzip", "directory-none", "custom-pipe"])
def test_verify_counts_rows(pg, sluice, archives, rich, name):  # noqa: F811
    import json
    proc = sluice.run("verify", archives[name], "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["ok"] and doc["pg_dump_format"] == name.split("-")[0]
    counts = {(t["schema"], t["name"]): t["rows"] for t in doc["tables"]}
    assert counts[("public", "big")] == pg.query("SELECT count(*) FROM big", rich)[0][0]
    assert doc["large_objects"] == pg.query("SELECT count(*) FROM pg_largeobject_metadata",
                                            rich)[0][0]
    text = sluice.run("verify", archives[name])
    assert text.returncode == 0 and "pg_dump archive" in text.stdout, text.stderr


def test_verify_refuses_damage(sluice, archives, tmp_path):
    data = open(archives["custom-gzip"], "rb").read()
    cut = tmp_path / "cut.dump"
    cut.write_bytes(data[:len(data) * 3 // 4])
    proc = sluice.run("verify", str(cut))
    assert proc.returncode == 4, proc.stderr
    assert "byte" in proc.stderr or "offset" in proc.stderr, proc.stderr


PG17 = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit", "data",
                    "pgarchive", "pg17")


@pytest.mark.parametrize("name", ["none.dump", "gzip.dump", "lz4.dump", "zstd.dump",
                                  "dir_lz4", "dir_zstd"])
def test_pg17_archive(pg, sluice, dbs, name):  # noqa: F811
    """Archives pg_dump 17 wrote (version 1.16, lz4 and zstd; see their README)."""
    target = dbs.name("pg17")
    sluice_restore(sluice, os.path.join(PG17, name), target, "--create", "-j", 2)
    assert pg.query("SELECT id, name FROM t ORDER BY id", target) == [
        (1, "one"), (2, "two"), (3, "three")]
    assert pg.query("SELECT oid::int, convert_from(lo_get(oid), 'UTF8') "
                    "FROM pg_largeobject_metadata ORDER BY oid", target) == [
        (424242, "large object bytes"), (424243, "another large object")]


def test_pg17_large_object_groups(pg, sluice, dbs):  # noqa: F811
    """pg_dump 17 keeps large objects in groups (BLOB METADATA): owner and privileges are
    given to each one of the group, as pg_restore 17 does."""
    for role in ('"lo Owner"', "lo_reader"):
        pg.execute(f"DO $$ BEGIN CREATE ROLE {role}; EXCEPTION WHEN duplicate_object "
                   f"THEN NULL; END $$")
    target = dbs.name("pg17lo")
    try:
        sluice_restore(sluice, os.path.join(PG17, "lo_groups.dump"), target, "--create",
                       "-j", 2)
        got = pg.query("SELECT oid::int, pg_get_userbyid(lomowner), lomacl::text, "
                       "obj_description(oid, 'pg_largeobject') FROM pg_largeobject_metadata "
                       "ORDER BY oid", target)
        assert [(o, owner) for o, owner, _, _ in got] == [
            (1001, "lo Owner"), (1002, "lo Owner"), (1003, "postgres")]
        assert all("lo_reader=r/" in acl for _, _, acl, _ in got[:2]), got
        assert got[2][2] is None and got[2][3] == "third", got
        assert pg.query("SELECT string_agg(convert_from(lo_get(oid), 'UTF8'), '' "
                        "ORDER BY oid) FROM pg_largeobject_metadata", target) == [("abc",)]
    finally:
        pg.drop_db(target)
        pg.execute('DROP ROLE IF EXISTS "lo Owner"')
        pg.execute("DROP ROLE IF EXISTS lo_reader")


def test_hostile_names_listed_and_restored(pg, sluice, dbs, tmp_path):  # noqa: F811
    """Names with a newline and an escape sequence: one line each in the list, no raw control
    byte on the terminal, and the restore gives the same tables."""
    src = dbs.create("hostile_src")
    name = "evil\n\x1b[31mred\\! rm -rf /"
    pg.execute('CREATE TABLE "' + name + '" (v text); INSERT INTO "' + name + '" VALUES '
               "(E'\\\\.\\nDROP TABLE x;')", src)
    path = str(tmp_path / "hostile.dump")
    subprocess.run([PG_DUMP, "-Fc", "-f", path, "-d", pg.conninfo(src)], env=pg.env(),
                   check=True)
    listed = sluice.run("list", path)
    assert listed.returncode == 0, listed.stderr
    assert "\x1b" not in listed.stdout
    lines = [line for line in entry_lines(listed.stdout) if "TABLE" in line]
    assert len(lines) == 2 and all("red" in line for line in lines), lines
    target = dbs.name("hostile_copy")
    sluice_restore(sluice, path, target, "--create", "-j", 2)
    compare.assert_same(pg.conninfo(src), pg.conninfo(target))


def copy_directory(src, dst):
    os.makedirs(dst)
    for f in os.listdir(src):
        with open(os.path.join(src, f), "rb") as i, open(os.path.join(dst, f), "wb") as o:
            o.write(i.read())


def largest_data_file(path):
    files = [f for f in os.listdir(path) if f.endswith(".dat.gz")]
    return os.path.join(path, max(files, key=lambda f: os.path.getsize(os.path.join(path, f))))


def test_directory_gzip_members_concatenated(pg, sluice, archives, by_pg_restore, dbs,
                                             tmp_path):  # noqa: F811
    """A data file of several gzip members (as `cat a.gz b.gz` makes) restores every row."""
    path = str(tmp_path / "members")
    copy_directory(archives["directory-gzip"], path)
    data_file = largest_data_file(path)
    with gzip.open(data_file, "rb") as f:
        text = f.read()
    cut = len(text) // 3
    with open(data_file, "wb") as f:
        f.write(gzip.compress(text[:cut]) + gzip.compress(b"") + gzip.compress(text[cut:]))
    target = dbs.name("members")
    sluice_restore(sluice, path, target, "--create", "-j", "2")
    compare.assert_same(by_pg_restore["directory-gzip"], pg.conninfo(target))


def test_directory_gzip_bad_checksum_refused(sluice, archives, dbs, tmp_path):  # noqa: F811
    """A gzip data file whose trailer's CRC does not match its data: exit 4."""
    path = str(tmp_path / "badcrc")
    copy_directory(archives["directory-gzip"], path)
    data_file = largest_data_file(path)
    with open(data_file, "rb") as f:
        data = bytearray(f.read())
    data[-8] ^= 0xFF  # the CRC-32 of the trailer
    with open(data_file, "wb") as f:
        f.write(bytes(data))
    proc = sluice.run("restore", path, "--database", dbs.name("badcrc"), "--create")
    assert proc.returncode == 4, (proc.returncode, proc.stderr)
