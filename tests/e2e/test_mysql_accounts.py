"""mydump/accounts: a server's roles, users and grants as a mysql-client script (what a MySQL
cluster backup keeps besides the schemas), applied to another server with the real mariadb
client and compared account by account with SHOW CREATE USER and SHOW GRANTS."""
import os
import socket
import subprocess

import pytest

from conftest import ROOT
from mariadbserver import MariaDbServer

HOSTILE_USER = "ev`il'\n\\! touch {marker}"

SETUP = """
CREATE ROLE app_read;
CREATE ROLE app_admin;
CREATE DATABASE acc_shop;
CREATE TABLE acc_shop.t (a int, b int);
GRANT SELECT ON acc_shop.* TO app_read;
GRANT app_read TO app_admin;
GRANT INSERT, UPDATE ON acc_shop.* TO app_admin;
CREATE USER 'alice'@'%' IDENTIFIED BY 'alice-pw';
GRANT app_read TO 'alice'@'%';
SET DEFAULT ROLE app_read FOR 'alice'@'%';
CREATE USER 'bob'@'10.0.0.%' IDENTIFIED BY 'b''o\\\\b'
  WITH MAX_QUERIES_PER_HOUR 100 PASSWORD EXPIRE NEVER;
GRANT INSERT (a), SELECT (b) ON acc_shop.t TO 'bob'@'10.0.0.%';
GRANT app_admin TO 'bob'@'10.0.0.%' WITH ADMIN OPTION;
CREATE USER 'carol'@'127.0.0.1' IDENTIFIED BY 'carol-pw' REQUIRE SSL ACCOUNT LOCK;
GRANT PROCESS, RELOAD ON *.* TO 'carol'@'127.0.0.1' WITH GRANT OPTION;
CREATE USER 'dave'@'localhost' IDENTIFIED VIA unix_socket;
CREATE USER 'erin'@'127.0.0.1' IDENTIFIED BY 'erin-pw';
GRANT SELECT ON acc_shop.* TO 'erin'@'127.0.0.1';
"""


def sql_string(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


@pytest.fixture(scope="module")
def marker(tmp_path_factory):
    return str(tmp_path_factory.mktemp("accounts") / "client-command-ran")


@pytest.fixture(scope="module")
def source(marker):
    with MariaDbServer() as server:
        server.sql(SETUP)
        hostile = sql_string(HOSTILE_USER.format(marker=marker))
        server.sql(f"CREATE USER {hostile}@'%' IDENTIFIED BY 'x';"
                   f"GRANT SELECT ON acc_shop.t TO {hostile}@'%';")
        yield server


def driver_bin():
    build = os.path.dirname(os.environ.get("SLUICE_BIN") or os.path.join(ROOT, "build",
                                                                          "sluice"))
    return os.path.join(build, "myaccounts_driver")


def read_accounts(server):
    proc = subprocess.run([driver_bin(), server.host, str(server.port), "root"],
                          env=server.env(), capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.decode(), proc.stderr.decode()


def accounts_of(server):
    """(user, host, is_role) of every account but the server's own, as the server lists
    them."""
    return [(bytes.fromhex(u).decode(), bytes.fromhex(h).decode(), r) for u, h, r in server.rows(
        "SELECT HEX(User), HEX(Host), is_role FROM mysql.user WHERE User <> 'mariadb.sys'"
        " ORDER BY User, Host")]


def account_sql(user, host, role):
    return sql_string(user) if role == "Y" else f"{sql_string(user)}@{sql_string(host)}"


def view(server, user, host, role):
    """What the server says of one account: SHOW CREATE USER (users) and SHOW GRANTS, as a
    set (MariaDB lists a PROXY privilege granted again to an account that held it twice)."""
    acct = account_sql(user, host, role)
    out = server.sql(f"SHOW GRANTS FOR {acct}", check=False)
    if role != "Y":
        out = server.sql(f"SHOW CREATE USER {acct}", check=False) + out
    return sorted(set(out.splitlines()))


def test_script_shape(source):
    script, summary = read_accounts(source)
    lines = script.splitlines()
    assert lines[0] == "-- sluice MySQL accounts 1"
    assert lines[1] == "/*M!999999\\- enable the sandbox mode */"
    assert "CREATE ROLE IF NOT EXISTS `app_read`;" in lines
    assert "CREATE USER IF NOT EXISTS `alice`@`%` IDENTIFIED BY PASSWORD '*" in script
    # the authentication is in CREATE USER only: a grant run again never resets a password
    assert not [l for l in lines if l.startswith("GRANT") and "IDENTIFIED" in l]
    assert "mariadb.sys" not in script
    # roles first, then users, then grants
    first_user = next(i for i, l in enumerate(lines) if l.startswith("CREATE USER"))
    assert max(i for i, l in enumerate(lines) if l.startswith("CREATE ROLE")) < first_user
    assert min(i for i, l in enumerate(lines) if l.startswith("GRANT")) > first_user
    # MariaDB's SHOW GRANTS of app_admin lists app_read's grants too: written once
    assert lines.count("GRANT SELECT ON `acc_shop`.* TO `app_read`;") == 1
    assert "roles 2 " in summary


def test_round_trip_through_the_mariadb_client(source, marker):
    script, _ = read_accounts(source)
    with MariaDbServer() as target:
        target.sql("CREATE DATABASE acc_shop; CREATE TABLE acc_shop.t (a int, b int);")
        target.sql(script)
        assert not os.path.exists(marker)
        want = accounts_of(source)
        assert accounts_of(target) == want
        for user, host, role in want:
            assert view(target, user, host, role) == view(source, user, host, role), \
                (user, host)
        # a restored password works
        cnf = os.path.join(target.root, "erin.cnf")
        with open(cnf, "w") as f:
            f.write(f"[client]\nuser=erin\npassword=erin-pw\nhost=127.0.0.1\n"
                    f"port={target.port}\n")
        ok = subprocess.run(["mariadb", f"--defaults-file={cnf}", "-e",
                             "SELECT COUNT(*) FROM acc_shop.t"], capture_output=True)
        assert ok.returncode == 0, ok.stderr


def test_existing_account_is_kept(source):
    script, _ = read_accounts(source)
    with MariaDbServer() as target:
        target.sql("CREATE DATABASE acc_shop; CREATE TABLE acc_shop.t (a int, b int);"
                   "CREATE USER 'alice'@'%' IDENTIFIED BY 'target-pw';"
                   "GRANT SELECT ON acc_shop.t TO 'alice'@'%';")
        before = target.sql("SHOW CREATE USER 'alice'@'%'")
        target.sql(script)
        assert target.sql("SHOW CREATE USER 'alice'@'%'") == before  # password unchanged
        grants = target.sql("SHOW GRANTS FOR 'alice'@'%'")
        assert "GRANT SELECT ON `acc_shop`.`t` TO `alice`@`%`" in grants  # its own
        assert "GRANT `app_read` TO `alice`@`%`" in grants  # and the backup's


def test_account_the_server_cannot_show_is_skipped():
    """mariadb-install-db makes 'root'@'<this host's name>', which a server started with
    skip-name-resolve lists but cannot show (mariadb-dump --system=users stops there)."""
    name = socket.gethostname()
    with MariaDbServer() as server:
        if ("root", name, "N") not in accounts_of(server):
            pytest.skip(f"mariadb-install-db made no account for host {name}")
        script, summary = read_accounts(server)
        assert f"`root`@`{name}`" not in script
        assert f"account 'root'@'{name}' skipped" in summary
        assert "CREATE USER IF NOT EXISTS `root`@`localhost`" in script
