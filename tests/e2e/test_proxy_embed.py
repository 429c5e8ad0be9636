"""The embedded proxy (include/sluice/proxy.h) through its example program, examples/embed_proxy:
libpq in the same process connects through the proxy's private socket directory, the
socketpair mode serves a client the program speaks the protocol to itself, and a stop while a
client is connected drains or closes as asked. In a sanitizer build the program exits non-zero
on a leak or a memory error, so exit code 0 is checked everywhere."""
import os
import subprocess

import pytest

from conftest import sluice_bin

SQL = ("SELECT c.oid::text, c.relname::text, c.reltuples::text, "
       "CASE WHEN c.relkind = 'r' THEN NULL ELSE c.relkind::text END "
       "FROM pg_class c ORDER BY c.oid LIMIT 200")


def example_bin():
    path = os.path.join(os.path.dirname(sluice_bin()), "embed_proxy")
    if not os.path.exists(path):
        pytest.fail(f"{path} is missing: build the examples target")
    return path


def run(pg, *args, tmpdir):
    """Runs the example with a clean environment: the password for SCRAM over TCP in
    PGPASSWORD, and TMPDIR private so that the proxy's socket directory can be looked for."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(PGPASSWORD=pg.password, TMPDIR=str(tmpdir))
    return subprocess.run([example_bin(), *args], env=env, capture_output=True, text=True,
                          timeout=120)


def direct_lines(pg, sql):
    rows = pg.query(sql)
    return ["\t".join("\\N" if v is None else v for v in row) for row in rows]


@pytest.fixture(params=["unix", "tcp"])
def upstream(request, pg):
    """The server as the socket directory (trust) or over TCP (SCRAM with the password)."""
    return f"{pg.sockdir}:{pg.port}" if request.param == "unix" else f"{pg.host}:{pg.port}"


def test_libpq_through_the_socket_dir_gets_the_direct_result(pg, upstream, tmp_path):
    r = run(pg, "socket", upstream, f"dbname=postgres user={pg.user}", SQL, tmpdir=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == direct_lines(pg, SQL)
    assert len(r.stdout.splitlines()) > 100
    assert os.listdir(tmp_path) == []  # the private socket directory is gone


def test_socketpair_client_gets_the_direct_result(pg, tmp_path):
    r = run(pg, "fd", f"{pg.sockdir}:{pg.port}", pg.user, "postgres", SQL, tmpdir=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == direct_lines(pg, SQL)


def test_socketpair_client_sees_the_server_error(pg, tmp_path):
    r = run(pg, "fd", f"{pg.sockdir}:{pg.port}", pg.user, "postgres",
            "SELECT * FROM no_such_table", tmpdir=tmp_path)
    assert r.returncode == 1
    assert 'server: relation "no_such_table" does not exist' in r.stderr
    assert r.stdout == ""


def test_drain_keeps_the_connected_client_and_refuses_new_ones(pg, upstream, tmp_path):
    r = run(pg, "drain", upstream, f"dbname=postgres user={pg.user}", tmpdir=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "clients before the stop: 1",
        "new connection: refused",
        "new descriptor: refused",
        "connected client: served after the stop",
        "clients after the stop: 0",
    ]
    assert os.listdir(tmp_path) == []


def test_immediate_stop_closes_the_connected_client(pg, upstream, tmp_path):
    r = run(pg, "immediate", upstream, f"dbname=postgres user={pg.user}", tmpdir=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "clients before the stop: 1",
        "new connection: refused",
        "new descriptor: refused",
        "connected client: the connection failed",
        "clients after the stop: 0",
    ]
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("addr,message", [
    ("nohost", 'upstream "nohost": expected HOST:PORT'),
    ("127.0.0.1:0", 'upstream "127.0.0.1:0": expected HOST:PORT (port 1 to 65535)'),
])
def test_a_bad_upstream_is_refused_with_its_reason(pg, tmp_path, addr, message):
    r = run(pg, "socket", addr, "dbname=postgres", "SELECT 1", tmpdir=tmp_path)
    assert r.returncode == 1
    assert message in r.stderr
    assert os.listdir(tmp_path) == []


def test_a_client_that_stops_reading_does_not_end_the_program(pg, tmp_path):
    """The proxy's write to it fails with EPIPE; SIGPIPE, left at its default by the program,
    would end the process if the proxy's threads did not block it."""
    r = run(pg, "hangup", f"{pg.sockdir}:{pg.port}", pg.user, "postgres", tmpdir=tmp_path)
    assert r.returncode == 0, (r.returncode, r.stderr)
    assert r.stdout.splitlines() == ["clients after the hangup: 0"]
