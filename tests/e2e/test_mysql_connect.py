"""How the MySQL engine finds and reaches a server, the way the mysql client does: -h -p -U
flags, a Unix socket, mysql:// and mariadb:// URLs (also through --conninfo-fd), ~/.my.cnf
[client], MYSQL_* variables (never PG*), -W on a terminal, TLS modes; and what it says when it
cannot (wrong password, nothing listening, bad URL), never with a password."""
import json
import os
import socket
import subprocess
import tempfile
import urllib.parse

import pytest

from conftest import Sluice
from mariadbserver import ROOT_PASSWORD, MariaDbServer
from test_connect import run_on_pty


@pytest.fixture(scope="module")
def my():
    with MariaDbServer() as server:
        yield server


@pytest.fixture
def sluice():
    return Sluice(None)


@pytest.fixture
def empty_home(tmp_path):
    """A HOME without .my.cnf: no password but what the test gives."""
    home = tmp_path / "home"
    home.mkdir()
    return str(home)


def bare_env(home, **extra):
    """The environment without PG* or MYSQL_* variables, HOME as given."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PG") and not k.startswith("MYSQL_")}
    env["HOME"] = home
    env.update(extra)
    return env


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def url(my, user="root", password=ROOT_PASSWORD, port=None, database="", query="",
        scheme="mysql"):
    auth = urllib.parse.quote(user, safe="")
    if password is not None:
        auth += ":" + urllib.parse.quote(password, safe="")
    q = f"?{query}" if query else ""
    return f"{scheme}://{auth}@{my.host}:{port or my.port}/{database}{q}"


def assert_connected(proc, via="127.0.0.1 via TCP/IP"):
    assert proc.returncode == 0, proc.stderr
    assert "Server:    MariaDB 10." in proc.stdout
    assert f"at {via}" in proc.stdout


# -- ways to say where ------------------------------------------------------------------------

def test_flags_with_password_only_in_my_cnf(sluice, my):
    proc = sluice.run("status", *my.conn_args(), env=my.env())
    assert_connected(proc)
    assert "User:      root@127.0.0.1" in proc.stdout


def test_my_cnf_alone_names_the_server(sluice, my):
    assert_connected(sluice.run("status", "--engine", "mysql", env=bare_env(my.home)))


def test_no_password_anywhere(sluice, my, empty_home):
    proc = sluice.run("status", *my.conn_args(), env=bare_env(empty_home))
    assert proc.returncode == 3
    assert "Access denied for user 'root'@'127.0.0.1' (using password: NO)" in proc.stderr


def test_socket_as_host(sluice, my):
    # the option file names a TCP host and port: the flag wins, as for the mysql client
    proc = sluice.run("status", "--engine", "mysql", "-h", my.socket, env=bare_env(my.home))
    assert_connected(proc, via="Localhost via UNIX socket")


def test_url_with_password(sluice, my, empty_home):
    proc = sluice.run("status", "-d", url(my, database="mysql"), env=bare_env(empty_home))
    assert_connected(proc)
    assert "Database:  mysql" in proc.stdout


def test_mariadb_url_and_hostile_password(sluice, my, empty_home):
    pw = "p@ss:w/rd?%&=# x"
    my.sql("CREATE USER 'odd'@'127.0.0.1' IDENTIFIED BY 'p@ss:w/rd?%&=# x';")
    proc = sluice.run("status", "-d", url(my, user="odd", password=pw, scheme="mariadb"),
                      env=bare_env(empty_home))
    assert_connected(proc)
    assert "User:      odd@127.0.0.1" in proc.stdout


def test_url_socket_parameter(sluice, my, empty_home):
    sock = urllib.parse.quote(my.socket, safe="")
    proc = sluice.run("status", "-d",
                      f"mysql://root:{ROOT_PASSWORD}@/?socket={sock}", env=bare_env(empty_home))
    assert_connected(proc, via="Localhost via UNIX socket")


def test_flags_win_over_url(sluice, my, empty_home):
    proc = sluice.run("status", "-d", url(my, user="nobody", port=closed_port(), database="x"),
                      "-U", "root", "-p", my.port, "-d", "mysql", env=bare_env(empty_home))
    assert_connected(proc)
    assert "Database:  mysql" in proc.stdout


def test_pg_variables_never_apply(sluice, my):
    env = bare_env(my.home, PGHOST="/nonexistent", PGPORT="1", PGUSER="nobody",
                   PGPASSWORD="wrong", PGDATABASE="nodb", PGSSLMODE="require")
    assert_connected(sluice.run("status", "--engine", "mysql", env=env))


def mariadb_client_connects(env):
    return subprocess.run(["mariadb", "-e", "SELECT 1"], env=env, capture_output=True,
                          timeout=60).returncode == 0


def test_mysql_variables_as_the_mysql_client(sluice, my, empty_home):
    env = bare_env(empty_home, MYSQL_HOST=my.host, MYSQL_TCP_PORT=str(my.port),
                   MYSQL_PWD=ROOT_PASSWORD)
    assert mariadb_client_connects(dict(env, USER="root"))
    assert_connected(sluice.run("status", "--engine", "mysql", "-U", "root", env=env))


def test_option_file_wins_over_mysql_variables(sluice, my):
    env = bare_env(my.home, MYSQL_HOST="192.0.2.1", MYSQL_TCP_PORT=str(closed_port()),
                   MYSQL_PWD="wrong")
    assert mariadb_client_connects(env)
    assert_connected(sluice.run("status", "--engine", "mysql", env=env))


def test_url_through_conninfo_fd(sluice, my, empty_home):
    r, w = os.pipe()
    os.write(w, url(my).encode())
    os.close(w)
    try:
        proc = subprocess.run([sluice.bin, "status", "--conninfo-fd", str(r)],
                              env=bare_env(empty_home), pass_fds=(r,), capture_output=True,
                              text=True, timeout=120)
    finally:
        os.close(r)
    assert_connected(proc)


def test_password_from_conninfo_fd_not_on_command_line(sluice, empty_home):
    """While sluice waits for a server's greeting, its command line (and that of anything it
    started) holds no password."""
    secret = "fd-secret-31337"
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        r, w = os.pipe()
        os.write(w, f"mysql://root:{secret}@127.0.0.1:{port}/db".encode())
        os.close(w)
        proc = subprocess.Popen([sluice.bin, "status", "--conninfo-fd", str(r)],
                                env=bare_env(empty_home), pass_fds=(r,),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        os.close(r)
        try:
            conn, _ = listener.accept()  # sluice is connected and waits for the greeting
            with conn:
                pids = [proc.pid]
                children = f"/proc/{proc.pid}/task/{proc.pid}/children"
                with open(children) as f:
                    pids += [int(p) for p in f.read().split()]
                for pid in pids:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        assert secret.encode() not in f.read()
        finally:
            out, err = proc.communicate(timeout=120)
    assert proc.returncode == 3
    assert secret.encode() not in out + err


# -- what it says when it cannot --------------------------------------------------------------

def test_wrong_password_in_url(sluice, my, empty_home):
    proc = sluice.run("status", "-d", url(my, password="wrong-pw-4711"),
                      env=bare_env(empty_home))
    assert proc.returncode == 3
    assert f'could not connect to 127.0.0.1:{my.port} as user "root"' in proc.stderr
    assert "Access denied for user 'root'@'127.0.0.1' (using password: YES)" in proc.stderr
    assert "(SQLSTATE 28000)" in proc.stderr
    assert "wrong-pw-4711" not in proc.stderr + proc.stdout


def test_unreachable_port(sluice, my, empty_home):
    port = closed_port()
    proc = sluice.run("status", "-d", url(my, port=port), env=bare_env(empty_home))
    assert proc.returncode == 3
    assert f"could not connect to 127.0.0.1:{port}" in proc.stderr
    assert "Can't connect to server on '127.0.0.1'" in proc.stderr
    assert ROOT_PASSWORD not in proc.stderr


@pytest.mark.parametrize("args,message", [
    (["--engine", "postgres", "-d", "mysql://u:top-secret-1@h/db"],
     "--engine postgres cannot connect to a mysql:// URL"),
    (["-d", "mysql://u:top-secret-1@h/db", "--engine", "postgres"],
     "--engine postgres cannot connect to a mysql:// URL"),
    (["--engine", "mysql", "-d", "postgresql://u:top-secret-1@h/db"],
     "not a postgres:// URL or a conninfo string"),
    (["-d", "host=h password=top-secret-1", "--engine", "mysql"],
     "--engine mysql cannot connect to a postgres:// URL or a conninfo string"),
    (["-d", "mysql://u:top-secret-1@h:99999/db"], "the port must be a number from 1 to 65535"),
    (["-d", "mysql://u:top%zzsecret-1@h/db"], "bad percent-escape in the password"),
    (["-d", "mysql://u:top-secret-1@h/db?sslmode=require"], "unknown query parameter"),
    (["-d", "mysql://u:top-secret-1@h/db?ssl-mode=SOMETIMES"], "invalid ssl mode \"SOMETIMES\""),
    (["mysql://u:top-secret-1@h/db"], 'unexpected argument "mysql://u:[redacted]@h/db"'),
])
def test_usage_errors_never_show_the_password(sluice, empty_home, args, message):
    proc = sluice.run("status", *args, env=bare_env(empty_home))
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "top-secret-1" not in proc.stderr
    assert proc.stdout == ""


# -- -W: the password from the terminal ------------------------------------------------------

def test_prompt_password_on_terminal(sluice, my, empty_home):
    argv = [sluice.bin, "status", *my.conn_args(), "-W"]
    code, out, answered = run_on_pty(argv, bare_env(empty_home), ROOT_PASSWORD)
    assert answered, out
    assert code == 0, out
    assert "Server:    MariaDB" in out
    assert ROOT_PASSWORD not in out


def test_prompt_password_wrong(sluice, my, empty_home):
    argv = [sluice.bin, "status", *my.conn_args(), "-W"]
    code, out, answered = run_on_pty(argv, bare_env(empty_home), "typed-wrong-99")
    assert answered
    assert code == 3
    assert "Access denied for user 'root'@'127.0.0.1' (using password: YES)" in out
    assert "typed-wrong-99" not in out


def test_prompt_password_wins_over_url(sluice, my, empty_home):
    argv = [sluice.bin, "status", "-d", url(my, password="stale-pw"), "-W"]
    code, out, answered = run_on_pty(argv, bare_env(empty_home), ROOT_PASSWORD)
    assert answered and code == 0, out


# -- TLS ----------------------------------------------------------------------------------------

def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def certs():
    """A throwaway CA and a server certificate for db.example.test only (not 127.0.0.1)."""
    d = tempfile.mkdtemp(prefix="sluice-tls-")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            "/CN=sluice test CA", "-keyout", "ca.key", "-out", "ca.pem", cwd=d)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=db.example.test",
            "-keyout", "server.key", "-out", "server.csr", cwd=d)
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:db.example.test\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf", "-out", "server.pem", cwd=d)
    yield d
    subprocess.run(["rm", "-rf", d], check=False)


@pytest.fixture(scope="module")
def tls_server(certs):
    settings = {"ssl-cert": os.path.join(certs, "server.pem"),
                "ssl-key": os.path.join(certs, "server.key"),
                "ssl-ca": os.path.join(certs, "ca.pem")}
    with MariaDbServer(binlog=False, settings=settings) as server:
        yield server


def tls_status(sluice, server, query, home):
    return sluice.run("status", "--json", "-d", url(server, query=query), env=bare_env(home))


def test_tls_required(sluice, tls_server, empty_home):
    proc = tls_status(sluice, tls_server, "ssl-mode=REQUIRED", empty_home)
    assert proc.returncode == 0, proc.stderr
    tls = json.loads(proc.stdout)["tls"]
    assert tls["enabled"] is True
    assert tls["cipher"] and tls["version"].startswith("TLS")


def test_tls_disabled(sluice, tls_server, empty_home):
    proc = tls_status(sluice, tls_server, "ssl-mode=DISABLED", empty_home)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["tls"] == {"enabled": False, "cipher": None, "version": None}


def test_tls_verify_ca(sluice, tls_server, certs, empty_home):
    ca = urllib.parse.quote(os.path.join(certs, "ca.pem"), safe="")
    proc = tls_status(sluice, tls_server, f"ssl-mode=VERIFY_CA&ssl-ca={ca}", empty_home)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["tls"]["enabled"] is True


def test_tls_verify_ca_with_another_ca_fails(sluice, tls_server, empty_home):
    proc = tls_status(sluice, tls_server, "ssl-mode=VERIFY_CA&ssl-ca=/etc/ssl/certs/"
                      "ca-certificates.crt", empty_home)
    assert proc.returncode == 3
    assert "TLS/SSL error" in proc.stderr


def test_tls_verify_identity_wrong_host_name(sluice, tls_server, certs, empty_home):
    ca = urllib.parse.quote(os.path.join(certs, "ca.pem"), safe="")
    proc = tls_status(sluice, tls_server, f"ssl-mode=VERIFY_IDENTITY&ssl-ca={ca}", empty_home)
    assert proc.returncode == 3
    assert f"could not connect to 127.0.0.1:{tls_server.port}" in proc.stderr
    assert "TLS/SSL error: Validation of SSL server certificate failed" in proc.stderr
    assert proc.stdout == ""


def test_tls_required_refuses_a_server_without_tls(sluice, my, empty_home):
    proc = tls_status(sluice, my, "ssl-mode=REQUIRED", empty_home)
    assert proc.returncode == 3
    assert "ssl-mode REQUIRED, but the server does not support TLS" in proc.stderr
    assert proc.stdout == ""
