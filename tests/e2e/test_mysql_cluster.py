"""sluice backup cluster --engine mysql: a tar archive of a whole MariaDB server (globals.sql
with roles, users and grants; databases.sql; one backup per schema; manifest.json), read back
by sluice verify and the tar tool, its scripts run by the real mariadb client."""
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
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read().decode() for m in tar.getmembers()}


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
