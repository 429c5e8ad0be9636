"""sluice backup cluster --engine mysql: a tar archive of a whole MariaDB server (globals.sql
with roles, users and grants; databases.sql; one backup per schema; manifest.json), read back
by sluice verify and the tar tool, its scripts run by the real mariadb client."""
import gzip
import json
import os
import tarfile

import pytest

from conftest import Sluice
from mariadbserver import MariaDbServer


@pytest.fixture(scope="module")
def bare():
    """A server holding no schema of its own: only accounts."""
    with MariaDbServer() as server:
        server.sql("CREATE ROLE cl_role; CREATE USER 'cl_user'@'%' IDENTIFIED BY 'cl-pw';"
                   "GRANT cl_role TO 'cl_user'@'%'; GRANT PROCESS ON *.* TO cl_role;")
        yield server


@pytest.fixture
def sluice():
    return Sluice(None)


def members(path):
    """The archive's scripts and manifest as text (not the compressed backups)."""
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read().decode() for m in tar.getmembers()
                if not m.name.startswith("databases/")}


def test_accounts_only(sluice, bare, tmp_path):
    out = tmp_path / "all.tar"
    proc = sluice.run("backup", "cluster", *bare.conn_args(), "-o", out, env=bare.env())
    assert proc.returncode == 0, proc.stderr
    assert "cluster backup complete: 0 databases (0 failed), 1 roles" in proc.stderr
    assert os.stat(out).st_mode & 0o777 == 0o600
    got = members(out)
    assert sorted(got) == ["databases.sql", "globals.sql", "manifest.json"]
    manifest = json.loads(got["manifest.json"])
    assert manifest["engine"] == "mysql"
    assert manifest["databases"] == []
    assert manifest["globals"]["roles"] == 1
    assert got["globals.sql"].splitlines()[:2] == [
        "-- sluice MySQL accounts 1", "/*M!999999\\- enable the sandbox mode */"]
    verify = sluice.run("verify", out)
    assert verify.returncode == 0, verify.stderr
    assert "sluice cluster archive (MySQL 10." in verify.stdout
    listed = sluice.run("list", out)
    assert listed.returncode == 0, listed.stderr
    assert "sluice cluster archive of MySQL 10." in listed.stdout.splitlines()[0]
    listed = json.loads(sluice.run("list", out, "--json").stdout)
    assert listed["engine"] == "mysql" and listed["databases"] == []
    # PostgreSQL's cluster restore refuses it before connecting anywhere
    pg = sluice.run("restore", "cluster", out, "--confirm", env=bare.env(PGHOST="/nonexistent"))
    assert pg.returncode == 2, pg.stderr
    assert "is the cluster archive of a MySQL server: PostgreSQL cannot restore it" in pg.stderr
    with MariaDbServer() as target:
        target.sql(got["globals.sql"])
        assert target.sql("SHOW GRANTS FOR 'cl_user'@'%'") == \
            bare.sql("SHOW GRANTS FOR 'cl_user'@'%'")
        assert target.sql("SHOW GRANTS FOR cl_role") == bare.sql("SHOW GRANTS FOR cl_role")


@pytest.mark.parametrize("args,message", [
    (["--databases", "no_such_schema"], "--databases names a schema that does not exist"),
    (["--databases", "mysql"], "--databases names a schema that does not exist"),
    (["--dump-jobs", "2"], "not available with --engine mysql"),
    (["--exclude-database", "x"], "not available with --engine mysql"),
])
def test_usage_errors_leave_no_archive(sluice, bare, tmp_path, args, message):
    out = tmp_path / "all.tar"
    proc = sluice.run("backup", "cluster", *bare.conn_args(), "-o", out, *args, env=bare.env())
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert os.listdir(tmp_path) == []


CLUSTER_SETUP = """
CREATE DATABASE cl_shop CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE TABLE cl_shop.orders (id int PRIMARY KEY, note varchar(50), amount decimal(10,2));
INSERT INTO cl_shop.orders VALUES (1, 'first', 9.50), (2, NULL, 0.00), (3, 'o''brien', 1e3);
CREATE VIEW cl_shop.big AS SELECT id FROM cl_shop.orders WHERE amount > 100;
CREATE DATABASE `cl legacy` CHARACTER SET latin1;
CREATE TABLE `cl legacy`.`t-1` (k varchar(10) PRIMARY KEY, v blob) CHARACTER SET latin1;
INSERT INTO `cl legacy`.`t-1` VALUES ('a', x'00ff10'), ('b', NULL);
CREATE ROLE cl_reader;
GRANT SELECT ON cl_shop.* TO cl_reader;
CREATE USER 'cl_app'@'%' IDENTIFIED BY 'app-pw';
GRANT cl_reader TO 'cl_app'@'%';
SET DEFAULT ROLE cl_reader FOR 'cl_app'@'%';
GRANT INSERT, UPDATE ON `cl legacy`.* TO 'cl_app'@'%';
CREATE USER 'cl_ops'@'127.0.0.1' IDENTIFIED BY 'ops-pw' WITH MAX_USER_CONNECTIONS 3;
GRANT PROCESS, RELOAD ON *.* TO 'cl_ops'@'127.0.0.1';
"""


def test_round_trip_through_the_mariadb_client(sluice, tmp_path):
    """Two schemas, users and grants: the archive's scripts and each schema's backup, run by
    the mariadb client on a fresh server, give the same accounts (SHOW GRANTS) and the same
    schemas (mysqldump)."""
    with MariaDbServer() as source:
        source.sql(CLUSTER_SETUP)
        out = tmp_path / "all.tar"
        proc = sluice.run("backup", "cluster", *source.conn_args(), "-o", out,
                          env=source.env())
        assert proc.returncode == 0, proc.stderr
        assert "cluster backup complete: 2 databases (0 failed)" in proc.stderr
        manifest = json.loads(members(out)["manifest.json"])
        names = [d["name"] for d in manifest["databases"]]
        assert names == ["cl legacy", "cl_shop"]  # the system schemas are not there
        with tarfile.open(out) as tar:
            files = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
        with MariaDbServer() as target:
            target.sql(files["globals.sql"])
            target.sql(files["databases.sql"])
            for d in manifest["databases"]:
                script = gzip.decompress(files[d["member"]])
                target.sql(script, database=d["name"])
            for db in names:
                assert target.dump(db) == source.dump(db)
            for acct in ("'cl_app'@'%'", "'cl_ops'@'127.0.0.1'", "cl_reader"):
                assert target.sql(f"SHOW GRANTS FOR {acct}") == \
                    source.sql(f"SHOW GRANTS FOR {acct}")
            assert target.sql("SHOW CREATE USER 'cl_ops'@'127.0.0.1'") == \
                source.sql("SHOW CREATE USER 'cl_ops'@'127.0.0.1'")


def test_round_trip_through_sluice_restore(sluice, tmp_path):
    """sluice restore FILE.tar --engine mysql: accounts first, then every schema with its
    character set; a schema the target has is refused before anything changes, unless
    --clean."""
    with MariaDbServer() as source:
        source.sql(CLUSTER_SETUP)
        out = tmp_path / "all.tar"
        assert sluice.run("backup", "cluster", *source.conn_args(), "-o", out,
                          env=source.env()).returncode == 0
        with MariaDbServer() as target:
            proc = sluice.run("restore", out, *target.conn_args(), "-j", "2",
                              env=target.env())
            assert proc.returncode == 0, proc.stderr
            assert "cluster restore done: 2 databases" in proc.stderr
            for db in ("cl_shop", "cl legacy"):
                assert target.dump(db) == source.dump(db)
            for acct in ("'cl_app'@'%'", "'cl_ops'@'127.0.0.1'", "cl_reader"):
                assert target.sql(f"SHOW GRANTS FOR {acct}") == \
                    source.sql(f"SHOW GRANTS FOR {acct}")
            # again: refused, nothing changed
            target.sql("INSERT INTO cl_shop.orders VALUES (4, 'target only', 1)")
            again = sluice.run("restore", out, *target.conn_args(), env=target.env())
            assert again.returncode == 8, again.stderr
            assert 'database "cl legacy" exists on the target: nothing was restored' in \
                again.stderr
            assert target.rows("SELECT COUNT(*) FROM cl_shop.orders") == [["4"]]
            clean = sluice.run("restore", out, *target.conn_args(), "--clean",
                               env=target.env())
            assert clean.returncode == 0, clean.stderr
            assert target.dump("cl_shop") == source.dump("cl_shop")
