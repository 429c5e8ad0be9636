"""How sluice finds and reaches a server: flags, URLs, conninfo strings, service files, -W,
and what it says when it cannot (wrong password, missing database, nothing listening), with
retries of transient failures."""
import os
import pty
import select
import socket
import subprocess
import time

import psycopg
import pytest

from pgcluster import PgCluster


def bare_env(pg, **extra):
    """The cluster's environment without PGHOST/PGPORT/PGUSER/PGDATABASE: only the passfile."""
    env = pg.env()
    for k in ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE"):
        env.pop(k, None)
    env.update(extra)
    return env


def no_password_env(pg, **extra):
    """The cluster's PG* variables but no way to find the password."""
    env = pg.env(PGPASSFILE=os.path.join(pg.root, "no-such-pgpass"))
    env.pop("PGPASSWORD", None)
    env.update(extra)
    return env


def assert_connected(proc):
    assert proc.returncode == 0, proc.stderr
    assert "PostgreSQL 15" in proc.stdout
    assert "Databases:" in proc.stdout


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed when the socket is: nothing listens there


# -- ways to say where ------------------------------------------------------------------------

def test_pg_environment_variables(sluice):
    assert_connected(sluice.run("status"))


def test_host_port_user_flags(sluice, pg):
    proc = sluice.run("status", "-h", pg.host, "-p", pg.port, "-U", pg.user, "-d", "postgres",
                      env=bare_env(pg))
    assert_connected(proc)
    assert f"{pg.host}:{pg.port}" in proc.stdout


def test_url_with_connect_timeout(sluice, pg):
    url = f"postgresql://{pg.user}@{pg.host}:{pg.port}/postgres?connect_timeout=5"
    assert_connected(sluice.run("status", "-d", url, env=bare_env(pg)))


def test_conninfo_string(sluice, pg):
    ci = f"host={pg.host} port={pg.port} user={pg.user} dbname=postgres connect_timeout=5"
    assert_connected(sluice.run("status", "-d", ci, env=bare_env(pg)))


def test_flag_overrides_url(sluice, pg):
    """-p after a URL with a wrong port: the explicit flag wins."""
    url = f"postgresql://{pg.user}@{pg.host}:{closed_port()}/postgres"
    assert_connected(sluice.run("status", "-d", url, "-p", pg.port, "--retries", "0",
                                env=bare_env(pg)))


def test_service_file(sluice, pg, tmp_path):
    svc = tmp_path / "pg_service.conf"
    svc.write_text(f"[sluice_test]\nhost={pg.host}\nport={pg.port}\nuser={pg.user}\n"
                   "dbname=postgres\n")
    env = bare_env(pg, PGSERVICEFILE=str(svc))
    assert_connected(sluice.run("status", "-d", "service=sluice_test", env=env))
    assert_connected(sluice.run("status", env=dict(env, PGSERVICE="sluice_test")))


def test_password_in_url_never_logged(sluice, pg):
    url = f"postgresql://{pg.user}:{pg.password}@{pg.host}:{pg.port}/postgres"
    proc = sluice.run("status", "-v", "-d", url, env=no_password_env(pg))
    assert_connected(proc)
    assert f"connected to {pg.host}:{pg.port} database \"postgres\"" in proc.stderr
    assert pg.password not in proc.stderr
    assert pg.password not in proc.stdout


# -- what goes wrong ------------------------------------------------------------------------

def test_wrong_password(sluice, pg):
    wrong = "not-the-password-42"
    proc = sluice.run("status", env=no_password_env(pg, PGPASSWORD=wrong))
    assert proc.returncode == 3, proc.stderr
    assert "password authentication failed" in proc.stderr
    assert f'could not connect to {pg.host}:{pg.port} database "postgres"' in proc.stderr
    assert wrong not in proc.stderr
    assert "retry" not in proc.stderr  # not a transient failure
    assert len(proc.stderr.strip().splitlines()) == 1


def test_wrong_password_in_url(sluice, pg):
    wrong = "WrongUrlPw77"
    url = f"postgresql://{pg.user}:{wrong}@{pg.host}:{pg.port}/postgres"
    proc = sluice.run("status", "-d", url, env=no_password_env(pg))
    assert proc.returncode == 3
    assert "authentication" in proc.stderr
    assert wrong not in proc.stderr


def test_no_password_available(sluice, pg):
    proc = sluice.run("status", "-w", env=no_password_env(pg))
    assert proc.returncode == 3
    assert "no password supplied" in proc.stderr


def test_missing_database(sluice, pg):
    proc = sluice.run("status", "-d", "no_such_db_x")
    assert proc.returncode == 3
    assert 'database "no_such_db_x" does not exist' in proc.stderr
    assert "retry" not in proc.stderr


def test_closed_port_retries_then_fails(sluice, pg):
    port = closed_port()
    start = time.monotonic()
    proc = sluice.run("status", "-p", port, "--retries", "1")
    assert proc.returncode == 3
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 2, proc.stderr
    assert "warning" in lines[0] and "retry 1 of 1" in lines[0]
    assert f"{pg.host}:{port}" in lines[0] and "Connection refused" in lines[0]
    assert "error" in lines[1] and f"could not connect to {pg.host}:{port}" in lines[1]
    assert time.monotonic() - start >= 0.2  # it waited before the retry


def test_closed_port_no_retries(sluice, pg):
    proc = sluice.run("status", "-p", closed_port(), "--retries", "0")
    assert proc.returncode == 3
    assert "retry" not in proc.stderr
    assert "Connection refused" in proc.stderr


def test_unknown_host(sluice):
    proc = sluice.run("status", "-h", "no-such-host.invalid", "--retries", "0")
    assert proc.returncode == 3
    assert "no-such-host.invalid" in proc.stderr
    assert "could not translate host name" in proc.stderr


def test_bad_url(sluice, pg):
    proc = sluice.run("status", "-d", "postgresql://h/db?no_such_option=1")
    assert proc.returncode == 2
    assert "invalid connection URL or string" in proc.stderr


@pytest.mark.parametrize("args,message", [
    (["--bogus"], 'unknown option "--bogus"'),
    (["-Z"], 'unknown option "-Z"'),
    (["-h"], 'option "-h" requires a value'),
    (["--retries", "many"], 'invalid value "many" for --retries'),
    (["--log-format", "xml"], 'invalid value "xml" for --log-format'),
    (["extra"], 'unexpected argument "extra"'),
])
def test_usage_errors(sluice, args, message):
    proc = sluice.run("status", *args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert proc.stdout == ""


# -- -W: the password from the terminal ------------------------------------------------------

def run_on_pty(argv, env, answer, timeout=30):
    """Runs argv with a pseudo-terminal as its controlling terminal, answers the password
    prompt, and returns (exit code, everything written to the terminal)."""
    pid, fd = pty.fork()
    if pid == 0:  # child: the pty is its controlling terminal and stdio
        try:
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    out = b""
    answered = False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
            if not answered and b"Password: " in out:
                os.write(fd, answer.encode() + b"\n")
                answered = True
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace"), answered


def test_prompt_password_on_terminal(sluice, pg):
    code, out, answered = run_on_pty([sluice.bin, "status", "-W"], no_password_env(pg),
                                     pg.password)
    assert answered, out
    assert code == 0, out
    assert "PostgreSQL 15" in out
    assert pg.password not in out  # not echoed


def test_prompt_password_wrong(sluice, pg):
    code, out, answered = run_on_pty([sluice.bin, "status", "-W"], no_password_env(pg),
                                     "typed-wrong-99")
    assert answered
    assert code == 3
    assert "password authentication failed" in out
    assert "typed-wrong-99" not in out


def test_prompt_password_without_terminal(sluice, pg):
    proc = subprocess.run([sluice.bin, "status", "-W"], env=no_password_env(pg),
                          capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          start_new_session=True, timeout=60)
    assert proc.returncode == 2
    assert "-W: cannot ask for the password: no terminal" in proc.stderr


# -- retry of a transient server-side failure -------------------------------------------------

@pytest.fixture
def tiny_cluster():
    cluster = PgCluster(name="sluice-tiny", settings={"max_connections": "3",
                                                      "superuser_reserved_connections": "0",
                                                      "max_wal_senders": "0"})
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


def test_too_many_clients_is_retried(tiny_cluster):
    """The slots are given back once sluice has said it will retry (not after a fixed delay,
    which a slow start could outlast)."""
    from conftest import sluice_bin
    held = []
    while True:  # take every connection slot the server has
        try:
            held.append(psycopg.connect(tiny_cluster.conninfo(), autocommit=True))
        except psycopg.OperationalError as e:
            assert "too many clients" in str(e)
            break
        assert len(held) <= 3
    assert held
    proc = subprocess.Popen([sluice_bin(), "status", "--retries", "8"], env=tiny_cluster.env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = []
        for line in proc.stderr:
            first.append(line)
            if "retry 1 of 8" in line:
                break
        for conn in held:
            conn.close()
        out, rest = proc.communicate(timeout=120)
    finally:
        for conn in held:
            conn.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = "".join(first) + rest
    assert proc.returncode == 0, stderr
    assert "PostgreSQL 15" in out
    assert "too many clients already" in stderr
    assert "retry 1 of 8" in stderr


def test_too_many_clients_gives_up(tiny_cluster):
    from conftest import Sluice
    runner = Sluice(tiny_cluster)
    held = []
    try:
        while True:
            try:
                held.append(psycopg.connect(tiny_cluster.conninfo(), autocommit=True))
            except psycopg.OperationalError:
                break
        proc = runner.run("status", "--retries", "2")
    finally:
        for conn in held:
            conn.close()
    assert proc.returncode == 3
    assert proc.stderr.count("retry ") == 2
    assert "too many clients already" in proc.stderr.strip().splitlines()[-1]


# -- retries decided by SQLSTATE, whatever the language of the server's messages ------------

def generate_locale(root, name="de_DE"):
    """A locale generated into a private directory (LOCPATH): no root, no system change."""
    locpath = os.path.join(root, "locales")
    os.makedirs(locpath, exist_ok=True)
    os.chmod(root, 0o755)
    os.chmod(locpath, 0o755)
    proc = subprocess.run(["localedef", "-i", name, "-f", "UTF-8",
                           os.path.join(locpath, f"{name}.UTF-8")],
                          capture_output=True, text=True)
    if not os.path.isdir(os.path.join(locpath, f"{name}.UTF-8", "LC_MESSAGES")):
        pytest.fail(f"localedef could not make {name}.UTF-8 (scripts/install-deps.sh installs "
                    f"the locales package): {proc.stderr}")
    for dirpath, dirnames, filenames in os.walk(locpath):  # readable by the server's user
        for n in dirnames:
            os.chmod(os.path.join(dirpath, n), 0o755)
        for n in filenames:
            os.chmod(os.path.join(dirpath, n), 0o644)
    return locpath


@pytest.fixture(scope="module")
def german_cluster():
    """A server whose messages are German (lc_messages = de_DE.UTF-8)."""
    cluster = PgCluster(name="sluice-de", settings={"lc_messages": "'de_DE.UTF-8'"})
    try:
        # in the cluster's own directory, which the server's user can read
        cluster.server_env = {"LOCPATH": generate_locale(cluster.root)}
        cluster.start()
        cluster.execute("CREATE ROLE limited LOGIN PASSWORD 'limited-pw' CONNECTION LIMIT 0")
        yield cluster
    finally:
        cluster.destroy()


def limited_env(cluster, password):
    env = cluster.env(PGUSER="limited", PGPASSWORD=password,
                      PGPASSFILE=os.path.join(cluster.root, "no-such-pgpass"))
    return env


def test_translated_transient_failure_is_retried(german_cluster):
    """53300 (too many connections for the role) in German is retried: the retry log line
    appears, the limit is lifted when it does, and the next attempt gets in."""
    from conftest import sluice_bin
    german_cluster.execute("ALTER ROLE limited CONNECTION LIMIT 0")
    proc = subprocess.Popen([sluice_bin(), "status", "--retries", "8"],
                            env=limited_env(german_cluster, "limited-pw"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = []
    try:
        for line in proc.stderr:
            first.append(line)
            if "retry 1 of 8" in line:
                german_cluster.execute("ALTER ROLE limited CONNECTION LIMIT -1")
                break
        out, rest = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = "".join(first) + rest
    assert proc.returncode == 0, err
    assert "PostgreSQL 15" in out
    retry = first[-1]
    assert "retry 1 of 8" in retry and "(SQLSTATE 53300)" in retry, err
    assert "Verbindungen" in retry and "too many" not in retry  # the server spoke German


def test_translated_permanent_failure_fails_at_once(german_cluster):
    """28P01 (wrong password) in German is not worth a retry."""
    from conftest import Sluice
    german_cluster.execute("ALTER ROLE limited CONNECTION LIMIT -1")
    proc = Sluice(german_cluster).run("status", "--retries", "8",
                                      env=limited_env(german_cluster, "not-the-password"))
    assert proc.returncode == 3, proc.stderr
    assert "retry" not in proc.stderr
    assert "Passwort-Authentifizierung" in proc.stderr
    assert "(SQLSTATE 28P01)" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_signal_while_retrying_stops_at_once(sluice, pg, tmp_path, command):
    """SIGINT while sluice waits to retry a connection ends the command with exit 9, instead of
    going on through the remaining retries (100 of them would take minutes)."""
    import signal
    from conftest import sluice_bin
    port = closed_port()
    script = tmp_path / "one.sql"
    script.write_text("CREATE TABLE t (a int);\n")
    args = {"backup": ["backup", "single", "postgres", "-o", str(tmp_path / "b.sql.gz")],
            "restore": ["restore", str(script), "--database", "postgres"]}[command]
    proc = subprocess.Popen([sluice_bin(), *args, "-p", str(port), "--retries", "100"],
                            env=pg.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        first = []
        for line in proc.stderr:
            first.append(line)
            if "retry 1 of 100" in line:
                break
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = "".join(first) + rest
    assert proc.returncode == 9, stderr
    assert "interrupted by a signal" in stderr
    assert not (tmp_path / "b.sql.gz").exists()
    assert not (tmp_path / "b.sql.gz.partial").exists()
