"""sluice backup cluster: a whole server into one tar archive.

Two throwaway clusters of their own (roles and tablespaces are cluster-wide, so the session
cluster of the other tests is left alone): the source gets roles (login, nologin, memberships
with ADMIN OPTION and a grantor, settings, a comment), a tablespace with a grant and a comment,
and three databases (one with another owner, one in LATIN1 with another locale and a
connection limit, one in the tablespace). The archive is checked as a tar and against its
manifest, then restored onto the second cluster the way a user without sluice's restore would
(psql -f globals.sql and databases.sql, then each database's backup), and compared with
pg_dumpall --globals-only and, per database, pg_dump --schema-only and every table's rows.
"""
import hashlib
import json
import os
import re
import subprocess
import tarfile

import pytest

import compare
from conftest import Sluice
from pgcluster import BINDIR, PgCluster

SOURCE_SQL = """
CREATE ROLE app_owner LOGIN PASSWORD 'secret-app' CONNECTION LIMIT 5
    VALID UNTIL '2030-01-01 00:00:00+00';
CREATE ROLE readers NOLOGIN;
CREATE ROLE "Mixed Case" LOGIN CREATEDB;
CREATE ROLE lead LOGIN CREATEROLE BYPASSRLS;
GRANT readers TO "Mixed Case" WITH ADMIN OPTION;
GRANT readers TO lead GRANTED BY "Mixed Case";
ALTER ROLE app_owner SET search_path TO app, "$user", "Odd, Schema";
ALTER ROLE app_owner SET work_mem TO '8MB';
ALTER ROLE lead SET statement_timeout TO '1min';
COMMENT ON ROLE readers IS 'read only, it''s a group';
CREATE TABLESPACE extra LOCATION '{tsdir}';
GRANT CREATE ON TABLESPACE extra TO app_owner;
COMMENT ON TABLESPACE extra IS 'second disk';
CREATE DATABASE app OWNER app_owner;
CREATE DATABASE "legacy db" ENCODING LATIN1 LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0
    CONNECTION LIMIT 10;
CREATE DATABASE onspace TABLESPACE extra;
CREATE DATABASE closed;
ALTER DATABASE closed ALLOW_CONNECTIONS false;
"""

APP_SQL = """
CREATE SCHEMA app AUTHORIZATION app_owner;
CREATE TABLE app.items (id int PRIMARY KEY, name text);
INSERT INTO app.items SELECT g, 'item ' || g FROM generate_series(1, 500) g;
ALTER TABLE app.items OWNER TO app_owner;
GRANT SELECT ON app.items TO readers;
"""


def globals_text(cluster):
    out = subprocess.run([f"{BINDIR}/pg_dumpall", "--globals-only"], env=cluster.env(),
                         capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines()
            if line and not line.startswith("--") and not line.startswith("SET ")
            and not line.startswith("\\")]


@pytest.fixture(scope="module")
def clusters():
    source = PgCluster(name="cluster-src")
    target = PgCluster(name="cluster-dst")
    target.password = source.password  # the globals carry the superuser's password hash
    try:
        source.start()
        target.start()
        yield source, target
    finally:
        source.destroy()
        target.destroy()


def make_source(source):
    tsdir = os.path.join(source.root, "ts")
    os.makedirs(tsdir)
    source._chown(tsdir)
    for stmt in SOURCE_SQL.format(tsdir=tsdir).strip().split(";\n"):
        source.execute(stmt)
    source.psql("app", input=APP_SQL)
    source.psql("legacy db", input="CREATE TABLE t (v text); "
                "INSERT INTO t VALUES (convert_from('\\xe974e9'::bytea, 'LATIN1'));")
    source.psql("onspace", input="CREATE TABLE s AS SELECT g FROM generate_series(1, 50) g;")
    source.psql("postgres", input="CREATE TABLE in_postgres (a int); "
                "INSERT INTO in_postgres VALUES (1), (2);")


def members_of(path):
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}


def test_cluster_round_trip(clusters, tmp_path):
    source, target = clusters
    make_source(source)
    archive = tmp_path / "prod.tar"
    proc = Sluice(source).run("backup", "cluster", "-o", archive, "--dump-jobs", "2",
                              "-j", "2", check=True)
    assert "closed" in proc.stderr and "does not allow connections" in proc.stderr
    size = re.search(r"rows, ([0-9.]+ [KMG]?i?B) in", proc.stderr)
    assert size and size.group(1) != "0 B", proc.stderr
    assert (archive.stat().st_mode & 0o777) == 0o600
    assert not os.path.exists(str(archive) + ".partial")
    assert not os.path.exists(str(archive) + ".partial.d")

    # tar reads it; the manifest names every member with its size and checksum
    members = members_of(archive)
    manifest = json.loads(members["manifest.json"])
    assert manifest["format"] == "sluice-cluster" and manifest["format_version"] == 1
    version = subprocess.run([Sluice(None).bin, "--version"], capture_output=True, text=True)
    assert "sluice " + manifest["sluice_version"] == version.stdout.strip()
    listed = {m["name"]: m for m in manifest["members"]}
    assert set(listed) == set(members) - {"manifest.json"}
    for name, m in listed.items():
        assert m["size"] == len(members[name])
        assert m["sha256"] == hashlib.sha256(members[name]).hexdigest()
    dbs = {d["name"]: d for d in manifest["databases"]}
    assert set(dbs) == {"app", "legacy db", "onspace", "postgres"}
    assert all(d["status"] == "ok" for d in dbs.values())
    assert dbs["app"]["rows"] == 500 and dbs["onspace"]["rows"] == 50
    assert bytes.fromhex(dbs["legacy db"]["name_hex"]) == b"legacy db"
    assert [s["name"] for s in manifest["skipped"]] == ["closed"]
    assert manifest["globals"]["passwords_saved"] is True
    assert b"PASSWORD 'SCRAM-SHA-256$" in members["globals.sql"]

    expected_globals = globals_text(source)
    # the tablespace's directory must be free for the target cluster to use it
    source.execute("DROP DATABASE onspace")
    source.execute("DROP TABLESPACE extra")
    source.execute("CREATE DATABASE onspace")  # so that the per-database comparison can run

    # restore as a user would with psql: globals, databases, then each database's script
    extract = tmp_path / "x"
    with tarfile.open(archive) as tar:
        tar.extractall(extract)
    target.psql("postgres", "-f", str(extract / "globals.sql"))
    target.psql("postgres", "-f", str(extract / "databases.sql"))
    assert globals_text(target) == expected_globals
    for name, d in dbs.items():
        subprocess.run(f"gunzip -c '{extract / d['member']}' | "
                       f"{BINDIR}/psql -X -q -v ON_ERROR_STOP=1 -d '{name}'",
                       shell=True, env=target.env(), check=True, capture_output=True)
    for name in ("app", "'legacy db'", "postgres"):
        compare.assert_same(source.conninfo(name), target.conninfo(name))
    enc = target.query("SELECT pg_encoding_to_char(encoding), datcollate, datconnlimit, "
                       "pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'legacy db'")
    assert enc == [("LATIN1", "C", 10, "postgres")]
    assert target.query("SELECT spcname FROM pg_tablespace t JOIN pg_database d "
                        "ON d.dattablespace = t.oid WHERE d.datname = 'onspace'") == [("extra",)]
    assert target.query("SELECT count(*) FROM s", dbname="onspace") == [(50,)]


def test_usage_errors(clusters, tmp_path):
    source, _ = clusters
    sl = Sluice(source)
    proc = sl.run("backup", "cluster")
    assert proc.returncode == 2 and "missing --output" in proc.stderr
    proc = sl.run("backup", "cluster", "-o", tmp_path / "a.tar", "--databases", "app,nosuch")
    assert proc.returncode == 2 and "does not exist" in proc.stderr and "nosuch" in proc.stderr
    assert not os.listdir(tmp_path)
    proc = sl.run("backup", "-o", tmp_path / "a.tar", "clustr")
    assert proc.returncode == 2 and '"cluster"' in proc.stderr


def test_selection_and_hostile_name(clusters, tmp_path):
    source, _ = clusters
    hostile = "evil\n\\! touch pwned\n'\""
    with source.connect() as conn:
        from psycopg import sql
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(hostile)))
        conn.execute("CREATE DATABASE skip_me_1")
        conn.execute("CREATE DATABASE skip_me_2")
    try:
        archive = tmp_path / "sel.tar"
        Sluice(source).run("backup", "cluster", "-o", archive, "--exclude-database", "skip_me_*",
                           "--exclude-database", "app", check=True)
        members = members_of(archive)
        manifest = json.loads(members["manifest.json"])
        names = {bytes.fromhex(d["name_hex"]).decode() for d in manifest["databases"]}
        assert hostile in names and "app" not in names
        assert not any(n.startswith("skip_me") for n in names)
        # databases.sql creates the hostile database under psql, nothing runs as a command
        scratch = PgCluster(name="cluster-scratch")
        try:
            scratch.start()
            (tmp_path / "databases.sql").write_bytes(members["databases.sql"])
            subprocess.run([f"{BINDIR}/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f",
                            "databases.sql"], cwd=tmp_path, env=scratch.env(), check=True,
                           capture_output=True)
            made = {r[0] for r in scratch.query("SELECT datname FROM pg_database")}
            assert hostile in made
        finally:
            scratch.destroy()
        assert not (tmp_path / "pwned").exists()
        only = tmp_path / "only.tar"
        Sluice(source).run("backup", "cluster", "-o", only, "--databases", "postgres,app",
                           check=True)
        manifest = json.loads(members_of(only)["manifest.json"])
        assert sorted(d["name"] for d in manifest["databases"]) == ["app", "postgres"]
    finally:
        with source.connect() as conn:
            from psycopg import sql
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(hostile)))
            conn.execute("DROP DATABASE skip_me_1")
            conn.execute("DROP DATABASE skip_me_2")


def test_failed_database_and_non_superuser(clusters, tmp_path):
    """A role that is not a superuser: hashes are not saved (a warning); a database it may not
    connect to fails the run, or with --continue is marked failed in the manifest."""
    source, _ = clusters
    source.execute("CREATE ROLE backup_user LOGIN PASSWORD 'bu-pass'")
    source.execute("GRANT SELECT ON in_postgres TO backup_user")
    source.execute("CREATE DATABASE locked")
    source.execute("REVOKE CONNECT ON DATABASE locked FROM PUBLIC")
    env = {"PGUSER": "backup_user", "PGPASSWORD": "bu-pass"}
    try:
        archive = tmp_path / "nu.tar"
        proc = Sluice(source).run("backup", "cluster", "-o", archive, "--databases",
                                  "postgres,locked", env=env)
        assert proc.returncode == 3, proc.stderr
        assert 'database "locked" failed' in proc.stderr
        assert "password hashes are not saved" in proc.stderr
        assert "bu-pass" not in proc.stderr
        assert os.listdir(tmp_path) == []
        proc = Sluice(source).run("backup", "cluster", "-o", archive, "--databases",
                                  "postgres,locked", "--continue", env=env)
        assert proc.returncode == 3, proc.stderr
        manifest = json.loads(members_of(archive)["manifest.json"])
        status = {d["name"]: d["status"] for d in manifest["databases"]}
        assert status["locked"] == "failed" and status["postgres"] == "ok"
        assert manifest["globals"]["passwords_saved"] is False
        assert b"PASSWORD" not in members_of(archive)["globals.sql"]
    finally:
        source.execute("DROP DATABASE locked")
        source.execute("DROP OWNED BY backup_user")
        source.execute("DROP ROLE backup_user")


def test_interrupted_backup_leaves_nothing(clusters, tmp_path):
    """SIGTERM while a database's backup waits for a lock: exit 9, no archive, no leftovers."""
    import signal
    import time
    source, _ = clusters
    source.execute("CREATE DATABASE busy")
    source.psql("busy", input="CREATE TABLE t (a int);")
    holder = source.connect("busy", autocommit=False)
    holder.execute("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
    try:
        archive = tmp_path / "int.tar"
        sl = Sluice(source)
        proc = subprocess.Popen([sl.bin, "backup", "cluster", "-o", str(archive),
                                 "--databases", "busy", "--lock-timeout", "10min"],
                                env=source.env(), stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # until the child waits for the lock
            rows = source.query("SELECT 1 FROM pg_stat_activity WHERE datname = 'busy' "
                                "AND wait_event_type = 'Lock'")
            if rows:
                break
            time.sleep(0.1)
        assert rows, "the backup never reached the lock"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 9, err
        assert "interrupted" in err
        assert os.listdir(tmp_path) == []
    finally:
        holder.rollback()
        holder.close()
        source.execute("DROP DATABASE busy WITH (FORCE)")


@pytest.fixture(scope="module")
def small_archive(clusters, tmp_path_factory):
    source, _ = clusters
    source.execute("CREATE DATABASE small")
    source.psql("small", input="CREATE TABLE t AS SELECT g, repeat('x', 50) AS v "
                "FROM generate_series(1, 2000) g;")
    path = tmp_path_factory.mktemp("small") / "small.tar"
    Sluice(source).run("backup", "cluster", "-o", path, "--databases", "small,postgres",
                       "--compress", "zstd", check=True)
    yield path
    source.execute("DROP DATABASE small")


def test_verify_and_list(small_archive, sluice_noserver):
    proc = sluice_noserver.run("verify", small_archive, check=True)
    assert "sluice cluster archive" in proc.stdout and "small" in proc.stdout
    assert "database backups verified" in proc.stdout
    doc = json.loads(sluice_noserver.run("verify", small_archive, "--json", check=True).stdout)
    assert doc["ok"] is True and doc["kind"] == "cluster"
    assert {d["name"]: d["rows"] for d in doc["databases"]}["small"] == 2000
    proc = sluice_noserver.run("list", small_archive, check=True)
    assert "small" in proc.stdout and "2000" in proc.stdout and "ok" in proc.stdout
    listed = json.loads(sluice_noserver.run("list", small_archive, "--json", check=True).stdout)
    small = [d for d in listed["databases"] if d["name"] == "small"][0]
    members = members_of(small_archive)
    assert small["sha256"] == hashlib.sha256(members[small["member"]]).hexdigest()
    assert small["member"].endswith(".sql.zst")


def test_damaged_archives(small_archive, sluice_noserver, tmp_path):
    data = small_archive.read_bytes()
    with tarfile.open(small_archive) as tar:
        small = [m for m in tar.getmembers() if m.name.startswith("databases/")][0]
        manifest = tar.getmember("manifest.json")
    cases = {
        # cut inside the last member, and just before the end blocks
        "truncated.tar": data[:len(data) - 3000],
        "no_end.tar": data[:manifest.offset_data + manifest.size + 200],
        # a byte inside a database's backup: its SHA-256 no longer matches
        "flipped.tar": (data[:small.offset_data + 100] + bytes([data[small.offset_data + 100] ^ 1])
                        + data[small.offset_data + 101:]),
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        for cmd in ("verify", "list"):
            proc = sluice_noserver.run(cmd, path)
            if cmd == "list" and name == "flipped.tar":
                assert proc.returncode == 0  # list reads the manifest only
                continue
            assert proc.returncode == 4, (name, cmd, proc.stderr)
            assert "truncated" in proc.stderr or "SHA-256" in proc.stderr, proc.stderr
        if name == "flipped.tar":
            assert small.name in sluice_noserver.run("verify", path).stderr
    # a tar without a manifest is not a cluster archive
    plain = tmp_path / "plain.tar"
    with tarfile.open(plain, "w", format=tarfile.USTAR_FORMAT) as tar:
        tar.add(__file__, arcname="x.sql")
    proc = sluice_noserver.run("verify", plain)
    assert proc.returncode == 4 and "no manifest.json" in proc.stderr


def test_fallback_tools(clusters, tmp_path):
    """A database holding what sluice cannot back up (a partition whose DETACH ... CONCURRENTLY
    was canceled half-way): an error naming it (exit 7) without --fallback-tools; with it,
    pg_dump backs that database up (a warning says so), the archive verifies and restores."""
    import threading
    import time
    source, _ = clusters
    source.execute("CREATE DATABASE halfway")
    source.psql("halfway", input="CREATE TABLE p (a int) PARTITION BY RANGE (a); "
                "CREATE TABLE c PARTITION OF p FOR VALUES FROM (0) TO (10); "
                "INSERT INTO p SELECT g FROM generate_series(0, 9) g;")
    holder = source.connect("halfway", autocommit=False)
    holder.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    holder.execute("SELECT * FROM p").fetchall()  # a snapshot the detach must wait for

    def detach():
        try:
            source.execute("ALTER TABLE p DETACH PARTITION c CONCURRENTLY", dbname="halfway")
        except Exception:  # canceled below: that leaves the detach pending
            pass
    worker = threading.Thread(target=detach)
    worker.start()
    waiting = []
    deadline = time.monotonic() + 60
    while not waiting and time.monotonic() < deadline:
        waiting = source.query("SELECT pid FROM pg_stat_activity WHERE query LIKE "
                               "'ALTER TABLE p DETACH%' AND wait_event = 'virtualxid'")
        time.sleep(0.05)
    assert waiting, "the detach never waited for the snapshot"
    source.query(f"SELECT pg_cancel_backend({waiting[0][0]})")
    worker.join()
    holder.rollback()
    holder.close()
    assert source.query("SELECT bool_or(inhdetachpending) FROM pg_inherits",
                        dbname="halfway") == [(True,)]
    try:
        sl = Sluice(source)
        archive = tmp_path / "fb.tar"
        proc = sl.run("backup", "cluster", "-o", archive, "--databases", "halfway,postgres")
        assert proc.returncode == 7, proc.stderr
        assert "public.c" in proc.stderr and "DETACH" in proc.stderr
        assert not archive.exists()
        proc = sl.run("backup", "cluster", "-o", archive, "--databases", "halfway,postgres",
                      "--fallback-tools", "--compress", "zstd", check=True)
        assert "backing it up with pg_dump" in proc.stderr
        manifest = json.loads(members_of(archive)["manifest.json"])
        tools = {d["name"]: (d["tool"], d["member"]) for d in manifest["databases"]}
        assert tools["halfway"][0] == "pg_dump" and tools["halfway"][1].endswith(".sql.gz")
        assert tools["postgres"][0] == "sluice" and tools["postgres"][1].endswith(".sql.zst")
        assert sl.run("verify", archive).returncode == 0
        member = tools["halfway"][1]
        source.execute("CREATE DATABASE halfway_copy")
        sl.run("restore", archive, "--archive-member", member, "--database", "halfway_copy",
               check=True)
        assert source.query("SELECT count(*) FROM c", dbname="halfway_copy") == [(10,)]
    finally:
        source.execute("DROP DATABASE IF EXISTS halfway_copy")
        source.execute("DROP DATABASE halfway WITH (FORCE)")
