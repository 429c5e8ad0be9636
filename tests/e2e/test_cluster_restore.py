"""sluice restore cluster: an archive of sluice backup cluster back onto a server.

A source cluster with roles, memberships, settings, a tablespace and three databases is backed
up; a second cluster gets it with `sluice restore cluster --confirm --dump-jobs 2 -j 2` and must
then equal the source by pg_dumpall --globals-only and, for each database, pg_dump
--schema-only and every table's rows. Then what a user may get wrong: no --confirm, databases
that exist (refused before anything changes, or replaced with --clean), a subset, a damaged
member (that database fails, the others are restored, the exit code says so).
"""
import os
import subprocess

import pytest

import compare
from conftest import Sluice
from pgcluster import BINDIR, PgCluster

SOURCE_SQL = [
    "CREATE ROLE owner_a LOGIN PASSWORD 'pw-a'",
    "CREATE ROLE grp NOLOGIN",
    "CREATE ROLE member_b LOGIN",
    "GRANT grp TO member_b WITH ADMIN OPTION",
    "ALTER ROLE member_b SET search_path TO b, public",
    "CREATE TABLESPACE spare LOCATION '{tsdir}'",
    "COMMENT ON TABLESPACE spare IS 'spare disk'",
    "CREATE DATABASE alpha OWNER owner_a",
    "CREATE DATABASE beta ENCODING LATIN1 LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0",
    "CREATE DATABASE gamma CONNECTION LIMIT 3",
    "ALTER DATABASE gamma SET work_mem TO '3MB'",
    "ALTER ROLE member_b IN DATABASE alpha SET search_path TO b, \"$user\"",
    "COMMENT ON DATABASE alpha IS 'the alpha database'",
    "REVOKE CONNECT ON DATABASE beta FROM PUBLIC",
    "GRANT CONNECT ON DATABASE beta TO member_b",
]

# The databases' own properties, as the catalogs hold them (by name, not oid).
DB_PROPS = """
SELECT d.datname,
       (SELECT array_agg(coalesce(r.rolname, '-') || ':' || array_to_string(s.setconfig, ',')
                         ORDER BY 1)
        FROM pg_db_role_setting s LEFT JOIN pg_roles r ON r.oid = s.setrole
        WHERE s.setdatabase = d.oid),
       shobj_description(d.oid, 'pg_database'),
       (SELECT array_agg(format('%s>%s:%s', a.grantor::regrole,
                                CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                                     ELSE a.grantee::regrole::text END, a.privilege_type)
                         ORDER BY 1)
        FROM aclexplode(d.datacl) a)
FROM pg_database d WHERE d.datname IN ('alpha', 'beta', 'gamma') ORDER BY 1
"""


def globals_text(cluster):
    out = subprocess.run([f"{BINDIR}/pg_dumpall", "--globals-only"], env=cluster.env(),
                         capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines()
            if line and not line.startswith(("--", "SET ", "\\"))]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    source = PgCluster(name="rcl-src")
    target = PgCluster(name="rcl-dst")
    target.password = source.password
    try:
        source.start()
        target.start()
        tsdir = os.path.join(source.root, "ts")
        os.makedirs(tsdir)
        source._chown(tsdir)
        for stmt in SOURCE_SQL:
            source.execute(stmt.format(tsdir=tsdir))
        source.psql("alpha", input="CREATE TABLE a (id int PRIMARY KEY, v text); "
                    "INSERT INTO a SELECT g, md5(g::text) FROM generate_series(1, 3000) g; "
                    "ALTER TABLE a OWNER TO owner_a; GRANT SELECT ON a TO grp;")
        source.psql("beta", input="CREATE TABLE b (v bytea); "
                    "INSERT INTO b VALUES ('\\x00ff'), (NULL);")
        source.psql("gamma", input="CREATE VIEW g AS SELECT 1 AS one;")
        archive = tmp_path_factory.mktemp("rcl") / "all.tar"
        Sluice(source).run("backup", "cluster", "-o", archive, "--dump-jobs", "2", check=True)
        expected = globals_text(source)
        # the target runs on this same machine: free the tablespace's directory for it
        source.execute("DROP TABLESPACE spare")
        yield source, target, archive, expected
    finally:
        source.destroy()
        target.destroy()


def test_restore_cluster(setup):
    source, target, archive, expected = setup
    sl = Sluice(target)
    proc = sl.run("restore", "cluster", archive)
    assert proc.returncode == 2 and "--confirm" in proc.stderr
    proc = sl.run("restore", "cluster", archive, "--confirm", "--dump-jobs", "2", "-j", "2",
                  check=True)
    assert "alpha" in proc.stderr and "ok" in proc.stderr
    assert globals_text(target) == expected
    for db in ("alpha", "beta", "gamma", "postgres"):
        compare.assert_same(source.conninfo(db), target.conninfo(db))
    assert target.query(DB_PROPS) == source.query(DB_PROPS)
    props = target.query("SELECT datname, pg_encoding_to_char(encoding), datconnlimit, "
                         "pg_get_userbyid(datdba) FROM pg_database "
                         "WHERE datname IN ('alpha', 'beta', 'gamma') ORDER BY 1")
    assert props == [("alpha", "UTF8", -1, "owner_a"), ("beta", "LATIN1", -1, "postgres"),
                     ("gamma", "UTF8", 3, "postgres")]

    # again: every database exists now, refused before anything changes
    target.execute("CREATE ROLE marker")
    target.psql("alpha", input="INSERT INTO a VALUES (0, 'kept');")
    proc = sl.run("restore", "cluster", archive, "--confirm")
    assert proc.returncode == 8, proc.stderr
    assert '"alpha"' in proc.stderr and "--clean" in proc.stderr
    assert target.query("SELECT count(*) FROM a", dbname="alpha") == [(3001,)]

    # --clean with a subset: alpha is dropped and restored, gamma is left alone
    target.psql("gamma", input="CREATE TABLE extra (x int);")
    sl.run("restore", "cluster", archive, "--confirm", "--clean", "--databases", "alpha",
           check=True)
    assert target.query("SELECT count(*) FROM a", dbname="alpha") == [(3000,)]
    assert target.query("SELECT count(*) FROM pg_class WHERE relname = 'extra'",
                        dbname="gamma") == [(1,)]
    proc = sl.run("restore", "cluster", archive, "--confirm", "--databases", "nosuch")
    assert proc.returncode == 2 and "nosuch" in proc.stderr


def test_one_member_from_the_archive(setup, tmp_path):
    """restore --archive-member restores one database's backup straight out of the archive;
    a cluster archive given to plain restore says what to do."""
    source, target, archive, _ = setup
    sl = Sluice(target)
    target.execute("DROP DATABASE IF EXISTS solo")
    target.execute("CREATE DATABASE solo")
    listed = sl.run("list", archive, "--json", check=True).stdout
    import json
    member = [d["member"] for d in json.loads(listed)["databases"] if d["name"] == "alpha"][0]
    proc = sl.run("restore", archive, "--database", "solo")
    assert proc.returncode == 2 and "restore cluster" in proc.stderr
    proc = sl.run("restore", archive, "--database", "solo", "--archive-member", "nope.sql.gz")
    assert proc.returncode == 2 and "no database backup named" in proc.stderr
    # owner_a exists on the target after test_restore_cluster
    sl.run("restore", archive, "--database", "solo", "--archive-member", member, "-j", "2",
           check=True)
    assert target.query("SELECT count(*) FROM a", dbname="solo") == [(3000,)]


def test_damaged_member_fails_alone(setup, tmp_path):
    source, target, archive, _ = setup
    import tarfile
    with tarfile.open(archive) as tar:
        manifest = tar.extractfile("manifest.json").read()
        import json
        dbs = {d["name"]: d["member"] for d in json.loads(manifest)["databases"]}
        beta = tar.getmember(dbs["beta"])
    data = bytearray(archive.read_bytes())
    data[beta.offset_data + beta.size // 2] ^= 0xFF
    bad = tmp_path / "bad.tar"
    bad.write_bytes(bytes(data))
    target.execute("DROP TABLESPACE IF EXISTS spare")  # its directory, for the scratch cluster
    scratch = PgCluster(name="rcl-scratch")
    scratch.password = source.password
    try:
        scratch.start()
        proc = Sluice(scratch).run("restore", "cluster", bad, "--confirm", "--dump-jobs", "2")
        assert proc.returncode == 4, proc.stderr
        assert "beta" in proc.stderr and "failed" in proc.stderr
        assert scratch.query("SELECT count(*) FROM a", dbname="alpha") == [(3000,)]
    finally:
        scratch.destroy()


def test_pg_dumpall_script(setup, tmp_path):
    """A pg_dumpall script (gzip) restores with restore cluster as psql would run it: existing
    roles are kept, the databases it creates must not exist (or --clean drops them)."""
    source, target, _, expected = setup
    script = tmp_path / "all.sql.gz"
    subprocess.run(f"{BINDIR}/pg_dumpall | gzip > {script}", shell=True, env=source.env(),
                   check=True)
    target.execute("DROP TABLESPACE IF EXISTS spare")
    import json
    listed = json.loads(Sluice(None).run("list", script, "--json", check=True).stdout)
    assert listed["kind"] == "pg_dumpall script" and listed["globals"] is True
    assert sorted(d["name"] for d in listed["databases"]) == ["alpha", "beta", "gamma"]
    scratch = PgCluster(name="rcl-dumpall")
    scratch.password = source.password
    try:
        scratch.start()
        sl = Sluice(scratch)
        proc = sl.run("restore", "cluster", script, "--confirm")
        assert proc.returncode == 0, proc.stderr
        assert globals_text(scratch) == [line for line in expected if "spare" not in line]
        for db in ("alpha", "beta", "gamma"):
            compare.assert_same(source.conninfo(db), scratch.conninfo(db))
        proc = sl.run("restore", "cluster", script, "--confirm")
        assert proc.returncode == 8 and '"alpha"' in proc.stderr
        scratch.psql("alpha", input="CREATE TABLE stray (x int);")
        sl.run("restore", "cluster", script, "--confirm", "--clean", check=True)
        compare.assert_same(source.conninfo("alpha"), scratch.conninfo("alpha"))
        proc = sl.run("restore", "cluster", script, "--confirm", "--databases", "alpha")
        assert proc.returncode == 2 and "restored whole" in proc.stderr
        # a name with a line break cannot reach a \connect as two lines
        hostile = tmp_path / "hostile.sql"
        hostile.write_text("--\n-- PostgreSQL database cluster dump\n--\n"
                           "CREATE DATABASE \"evil\";\n\\connect \"evil\n\\! touch pwned\"\n")
        proc = subprocess.run([sl.bin, "restore", "cluster", str(hostile), "--confirm"],
                              env=scratch.env(), cwd=tmp_path, capture_output=True, text=True)
        assert proc.returncode != 0
        assert not (tmp_path / "pwned").exists()
        # a plain pg_dump script is not a cluster dump
        one = tmp_path / "one.sql"
        one.write_text(source.pg_dump("alpha"))
        proc = sl.run("restore", "cluster", one, "--confirm")
        assert proc.returncode == 2 and "pg_dumpall" in proc.stderr
    finally:
        scratch.destroy()


def test_dbbackup_archive(setup, tmp_path):
    """dbbackup's cluster layout: a .tar.gz holding globals.sql (pg_dumpall --globals-only) and
    dumps/NAME.sql.gz per database (its native engine), built here as it lays them out
    (members in its walk order, a directory entry, a pax header for a long name)."""
    import gzip
    import io
    import tarfile
    source, target, _, expected = setup
    target.execute("DROP TABLESPACE IF EXISTS spare")
    long_name = "d" * 120  # longer than ustar's 100 bytes: a pax header names it
    source.execute(f'CREATE DATABASE "{long_name}"')
    source.psql(long_name, input="CREATE TABLE t AS SELECT 42 AS answer;")
    archive = tmp_path / "pg_cluster_20261202_020000.tar.gz"
    globals_sql = subprocess.run([f"{BINDIR}/pg_dumpall", "--globals-only"], env=source.env(),
                                 capture_output=True, check=True).stdout
    with tarfile.open(archive, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("dumps")
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
        for db in ("alpha", "beta", long_name):
            data = gzip.compress(subprocess.run([f"{BINDIR}/pg_dump", "-d", db],
                                                env=source.env(), capture_output=True,
                                                check=True).stdout)
            info = tarfile.TarInfo(f"dumps/{db}.sql.gz")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        # pg_dump -Fc, as dbbackup writes with pg_dump: alpha's, restored natively as gamma
        data = subprocess.run([f"{BINDIR}/pg_dump", "-Fc", "-d", "alpha"], env=source.env(),
                              capture_output=True, check=True).stdout
        info = tarfile.TarInfo("dumps/gamma.dump")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("globals.sql")
        info.size = len(globals_sql)
        tar.addfile(info, io.BytesIO(globals_sql))
    import json
    listed = json.loads(Sluice(None).run("list", archive, "--json", check=True).stdout)
    assert listed["kind"] == "dbbackup archive" and listed["globals"] is True
    formats = {d["name"]: d["format"] for d in listed["databases"]}
    assert formats == {"alpha": "SQL script", "beta": "SQL script", long_name: "SQL script",
                       "gamma": "pg_dump custom format"}
    text = Sluice(None).run("list", archive, check=True).stdout
    assert "dbbackup archive" in text and "gamma" in text
    scratch = PgCluster(name="rcl-dbbackup")
    scratch.password = source.password
    try:
        scratch.start()
        sl = Sluice(scratch)
        proc = sl.run("restore", "cluster", archive, "--confirm", "--dump-jobs", "2")
        assert proc.returncode == 0, proc.stderr
        assert globals_text(scratch) == [line for line in expected if "spare" not in line]
        # the layout records no encoding or locale: beta (LATIN1 at the source) is created
        # with the target's defaults, so only the UTF8 databases compare whole
        for db in ("alpha", long_name):
            compare.assert_same(source.conninfo(db), scratch.conninfo(db))
        compare.assert_same(source.conninfo("alpha"), scratch.conninfo("gamma"))
        assert scratch.query("SELECT count(*) FROM b", dbname="beta") == [(2,)]
        proc = sl.run("restore", "cluster", archive, "--confirm", "--databases", "beta")
        assert proc.returncode == 8 and '"beta"' in proc.stderr
        # cut short: refused before anything changes
        cut = tmp_path / "cut.tar.gz"
        cut.write_bytes(archive.read_bytes()[:archive.stat().st_size // 2])
        proc = sl.run("restore", "cluster", cut, "--confirm", "--clean")
        assert proc.returncode == 4, proc.stderr
        assert scratch.query("SELECT count(*) FROM a", dbname="alpha") == [(3000,)]
    finally:
        scratch.destroy()
        source.execute(f'DROP DATABASE "{long_name}"')
