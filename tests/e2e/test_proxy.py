"""sluice proxy, pass-through: real clients (psql, psycopg, pgbench) get through it what they get
from the server directly; cancel reaches the right server connection; a hostile client ends only
its own connection; memory stays bounded whatever a result's size; SIGTERM drains.

The module has its own cluster: an md5 user needs a pg_hba.conf line of its own."""
import os
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

import psycopg
import pytest

from conftest import sluice_bin
from pgcluster import BINDIR, PgCluster, _free_port

MD5_USER = "md5_user"
SCRAM_USER = "scram_user"
USER_PASSWORD = "user-pw-9f3"
# sanitizer builds carry their own memory overhead (ASan's quarantine keeps what is freed)
SANITIZED = "ASAN_OPTIONS" in os.environ or "SLUICE_SANITIZED" in os.environ
RSS_LIMIT_KIB = 64 * 1024


@pytest.fixture(scope="module")
def cluster():
    c = PgCluster(name="proxy", hba_first=[f"host all {MD5_USER} 127.0.0.1/32 md5"])
    try:
        c.start()
        c.execute(f"SET password_encryption = 'md5';"
                  f"CREATE ROLE {MD5_USER} LOGIN PASSWORD '{USER_PASSWORD}'")
        c.execute(f"SET password_encryption = 'scram-sha-256';"
                  f"CREATE ROLE {SCRAM_USER} LOGIN PASSWORD '{USER_PASSWORD}'")
        yield c
    finally:
        c.destroy()


class Proxy:
    """A running "sluice proxy"; started when it has logged that it listens."""

    def __init__(self, listen, upstream, *args, env=None):
        self.listen = listen
        full_env = dict(os.environ)
        full_env.update(env or {})
        cmd = [sluice_bin(), "proxy", *args]
        if listen:
            cmd += ["--listen", listen]
        if upstream:
            cmd += ["--upstream", upstream]
        self.proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=full_env)
        self.log = []
        # The proxy logs one line once its socket listens: wait for it, not for time.
        for line in self.proc.stderr:
            self.log.append(line)
            if "listening on" in line:
                break
        else:
            raise AssertionError(f"proxy did not start: {''.join(self.log)}")
        self._reader = threading.Thread(target=self._read_rest, daemon=True)
        self._reader.start()

    def _read_rest(self):
        for line in self.proc.stderr:
            self.log.append(line)

    def rss_kib(self, field="VmHWM"):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise AssertionError(field)

    def stop(self):
        """SIGINT; returns the exit code (0 unless something went wrong, a sanitizer's
        report included)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=5)
        return self.proc.returncode


@pytest.fixture
def start_proxy():
    started = []

    def start(listen, upstream, *args, env=None):
        p = Proxy(listen, upstream, *args, env=env)
        started.append(p)
        return p

    yield start
    codes = [p.stop() for p in started]
    for p, code in zip(started, codes):
        assert code == 0, "".join(p.log)


@pytest.fixture
def tcp_proxy(cluster, start_proxy):
    """A proxy on a free loopback port in front of the cluster's TCP port (SCRAM)."""
    port, lock = _free_port()
    lock.close()  # the proxy takes the port itself right away
    p = start_proxy(f"127.0.0.1:{port}", f"127.0.0.1:{cluster.port}", "-v")
    p.port = port
    return p


@pytest.fixture
def trust_proxy(cluster, start_proxy):
    """A proxy on a free loopback port in front of the cluster's Unix socket (trust): raw
    protocol clients need no password through it."""
    port, lock = _free_port()
    lock.close()
    p = start_proxy(f"127.0.0.1:{port}", f"{cluster.sockdir}:{cluster.port}",
                    "--max-message-size", "1MB")
    p.port = port
    return p


def passfile(cluster, tmp_path):
    path = tmp_path / "pgpass"
    path.write_text(f"*:*:*:{cluster.user}:{cluster.password}\n"
                    f"*:*:*:{MD5_USER}:{USER_PASSWORD}\n*:*:*:{SCRAM_USER}:{USER_PASSWORD}\n")
    path.chmod(0o600)
    return str(path)


def client_env(cluster, proxy, tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(PGHOST="127.0.0.1", PGPORT=str(proxy.port), PGUSER=cluster.user,
               PGDATABASE="postgres", PGPASSFILE=passfile(cluster, tmp_path))
    env.update(extra)
    return env


def connect(cluster, proxy, user=None, password=None, **kw):
    return psycopg.connect(host="127.0.0.1", port=proxy.port, dbname="postgres",
                           user=user or cluster.user, password=password or cluster.password,
                           autocommit=True, **kw)


def psql(env, *args, input=None):
    return subprocess.run([f"{BINDIR}/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                           *args], input=input, env=env, capture_output=True, text=True)


def wait_until(predicate, what, tries=2000):
    """Polls a condition the test waits on (never a fixed time): about 20 s at most."""
    for _ in range(tries):
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


# ---- a raw protocol client ----------------------------------------------------------------

def startup_packet(**params):
    body = struct.pack("!I", 196608)
    for k, v in params.items():
        body += k.encode() + b"\0" + v.encode() + b"\0"
    body += b"\0"
    return struct.pack("!I", len(body) + 4) + body


class Raw:
    """Speaks the protocol over a plain socket to a proxy whose server trusts the client."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.buf = b""

    def login(self, user):
        self.sock.sendall(startup_packet(user=user, database="postgres"))
        return self.until(b"Z")

    def recv_message(self):
        while True:
            if len(self.buf) >= 5:
                n = struct.unpack("!I", self.buf[1:5])[0]
                if len(self.buf) >= 1 + n:
                    t, body = self.buf[:1], self.buf[5:1 + n]
                    self.buf = self.buf[1 + n:]
                    return t, body
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                return None, None
            self.buf += chunk

    def until(self, wanted):
        seen = []
        while True:
            t, body = self.recv_message()
            if t is None:
                return seen
            seen.append((t, body))
            if t == wanted:
                return seen

    def query(self, sql):
        body = sql.encode() + b"\0"
        self.sock.sendall(b"Q" + struct.pack("!I", len(body) + 4) + body)

    def closed(self):
        return self.recv_message() == (None, None)


def error_fields(body):
    fields = {}
    for part in body.split(b"\0"):
        if part:
            fields[chr(part[0])] = part[1:].decode()
    return fields


def active_queries(cluster, like):
    with cluster.connect() as conn:
        return conn.execute("SELECT pid, wait_event FROM pg_stat_activity"
                            " WHERE state = 'active' AND query LIKE %s"
                            " AND pid <> pg_backend_pid()", (like,)).fetchall()


# ---- clients ------------------------------------------------------------------------------

def test_psql_simple_multi_statement_and_copy(cluster, tcp_proxy, tmp_path):
    env = client_env(cluster, tcp_proxy, tmp_path)
    out = psql(env, "-c", "SELECT 1 AS a; SELECT 'two'")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "two"]
    assert psql(env, "-c", "DROP TABLE IF EXISTS pc; CREATE TABLE pc (i int, t text)")\
        .returncode == 0
    rows = "".join(f"{i}\trow {i}\n" for i in range(5000))
    copied_in = psql(env, "-c", "\\copy pc from stdin", input=rows)
    assert copied_in.returncode == 0, copied_in.stderr
    copied_out = psql(env, "-c", "\\copy (SELECT * FROM pc ORDER BY i) to stdout")
    assert copied_out.returncode == 0, copied_out.stderr
    assert copied_out.stdout == rows
    assert cluster.query("SELECT count(*) FROM pc")[0][0] == 5000


def test_psycopg_simple_prepared_and_pipeline(cluster, tcp_proxy):
    with connect(cluster, tcp_proxy) as conn:
        assert conn.execute("SELECT 40 + 2").fetchone() == (42,)
        for i in range(8):  # psycopg prepares on the server with prepare=True
            assert conn.execute("SELECT %s::int * 2", (i,), prepare=True).fetchone() == (2 * i,)
        with conn.pipeline():
            curs = [conn.execute("SELECT %s::int, %s::text", (i, f"v{i}")) for i in range(20)]
        assert [c.fetchone() for c in curs] == [(i, f"v{i}") for i in range(20)]
        # an error in the middle of a pipeline: the server skips to Sync, the rest goes on
        with pytest.raises(psycopg.errors.DivisionByZero):
            with conn.pipeline():
                conn.execute("SELECT 1")
                conn.execute("SELECT 1 / 0")
        assert conn.execute("SELECT 'after'").fetchone() == ("after",)
        # the client sees the proxy's key, not the server's
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        assert conn.pgconn.backend_pid != backend


def test_pgbench_three_protocols(cluster, tcp_proxy, tmp_path):
    cluster.create_db("bench")
    env = client_env(cluster, tcp_proxy, tmp_path, PGDATABASE="bench")
    init = subprocess.run(["pgbench", "-i", "-s", "1", "-q"], env=env, capture_output=True,
                          text=True)
    assert init.returncode == 0, init.stderr
    done = 0
    for mode in ("simple", "extended", "prepared"):
        run = subprocess.run(["pgbench", "-n", "-M", mode, "-c", "4", "-j", "2", "-t", "50"],
                             env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        assert "number of transactions actually processed: 200/200" in run.stdout, run.stdout
        done += 200
    with cluster.connect("bench") as conn:
        history, delta = conn.execute("SELECT count(*), sum(delta) FROM pgbench_history")\
            .fetchone()
        balances = conn.execute("SELECT sum(abalance) FROM pgbench_accounts").fetchone()[0]
    assert history == done
    assert balances == delta


def test_listen_notify(cluster, tcp_proxy):
    got = []
    with connect(cluster, tcp_proxy) as listener, connect(cluster, tcp_proxy) as notifier:
        listener.add_notify_handler(got.append)
        listener.execute("LISTEN proxy_channel")
        notifier.execute("NOTIFY proxy_channel, 'hello'")
        # the server sends what is pending before this statement's ReadyForQuery
        listener.execute("SELECT 1")
    assert [(n.channel, n.payload) for n in got] == [("proxy_channel", "hello")]


def test_cancel_reaches_the_right_connection(cluster, tcp_proxy):
    with cluster.connect() as holder, connect(cluster, tcp_proxy) as sleeper, \
            connect(cluster, tcp_proxy) as waiter:
        holder.execute("SELECT pg_advisory_lock(4242)")
        outcome = {}

        def run(name, conn, sql):
            try:
                outcome[name] = conn.execute(sql).fetchone()
            except psycopg.Error as e:
                outcome[name] = e

        threads = [threading.Thread(target=run, args=("sleep", sleeper,
                                                      "SELECT pg_sleep(600) /* proxy-sleep */")),
                   threading.Thread(target=run, args=("wait", waiter,
                                                      "SELECT pg_advisory_lock(4242), 'done'"))]
        for t in threads:
            t.start()
        wait_until(lambda: len(active_queries(cluster, "%proxy-sleep%")) == 1 and
                   len(active_queries(cluster, "%pg_advisory_lock(4242), 'done'%")) == 1,
                   "both queries running")
        sleeper.cancel()
        threads[0].join(timeout=60)
        assert isinstance(outcome["sleep"], psycopg.errors.QueryCanceled)
        # the other client's query was not touched: it still waits for the lock
        assert len(active_queries(cluster, "%pg_advisory_lock(4242), 'done'%")) == 1
        assert "wait" not in outcome
        holder.execute("SELECT pg_advisory_unlock(4242)")
        threads[1].join(timeout=60)
        assert outcome["wait"] == ("", "done")
        # an unknown key is ignored; the proxy and its clients go on
        with socket.create_connection(("127.0.0.1", tcp_proxy.port)) as s:
            s.sendall(struct.pack("!IIii", 16, 80877102, 999999, 1))
            assert s.recv(1) == b""
        assert sleeper.execute("SELECT 'alive'").fetchone() == ("alive",)


@pytest.mark.parametrize("user", [SCRAM_USER, MD5_USER])
def test_password_authentication(cluster, tcp_proxy, user):
    with connect(cluster, tcp_proxy, user=user, password=USER_PASSWORD) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (user,)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        connect(cluster, tcp_proxy, user=user, password="wrong")
    # the password never reaches the log
    assert not any(USER_PASSWORD in line for line in tcp_proxy.log)


def test_ssl_request_answered_no(cluster, tcp_proxy):
    with connect(cluster, tcp_proxy, sslmode="prefer") as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    with pytest.raises(psycopg.OperationalError, match="does not support SSL"):
        connect(cluster, tcp_proxy, sslmode="require")


def test_unix_socket_both_sides(cluster, start_proxy, tmp_path):
    sockdir = tempfile.mkdtemp(prefix="sluice-proxy-")
    try:
        start_proxy(f"{sockdir}:6543", f"{cluster.sockdir}:{cluster.port}")
        with psycopg.connect(host=sockdir, port=6543, user=cluster.user, dbname="postgres",
                             autocommit=True) as conn:
            assert conn.execute("SELECT current_setting('port')::int").fetchone() == \
                (cluster.port,)
            # over a Unix socket the server sees no client address
            assert conn.execute("SELECT inet_client_addr()").fetchone() == (None,)
    finally:
        subprocess.run(["rm", "-rf", sockdir])


def test_environment_addresses(cluster, start_proxy):
    port, lock = _free_port()
    lock.close()
    p = start_proxy(None, None, env={"PGPROXY_LISTEN_ADDR": f"127.0.0.1:{port}",
                                     "PGPROXY_SERVER_ADDR": f"127.0.0.1:{cluster.port}",
                                     "PGPROXY_LOG_LEVEL": "debug"})
    p.port = port
    with connect(cluster, p) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    wait_until(lambda: any("disconnected" in line for line in p.log), "the disconnect line")


def test_log_lines_hold_no_options(cluster, tcp_proxy):
    with connect(cluster, tcp_proxy, options="-c application_name=opt-secret-41") as conn:
        assert conn.execute("SHOW application_name").fetchone() == ("opt-secret-41",)
    wait_until(lambda: any("disconnected" in line for line in tcp_proxy.log),
               "the disconnect line")
    lines = [line for line in tcp_proxy.log if "client" in line]
    assert any('connected' in line and 'user "postgres", database "postgres"' in line
               for line in lines), lines
    assert not any("opt-secret-41" in line for line in tcp_proxy.log)


def test_newer_minor_protocol_negotiated_through(cluster, trust_proxy):
    """A client asking for protocol 3.99 and an unknown _pq_ option gets the server's
    NegotiateProtocolVersion, then logs in as usual."""
    raw = Raw(trust_proxy.port)
    body = struct.pack("!I", (3 << 16) | 99)
    for k, v in (("user", cluster.user), ("database", "postgres"), ("_pq_.sluice_test", "1")):
        body += k.encode() + b"\0" + v.encode() + b"\0"
    body += b"\0"
    raw.sock.sendall(struct.pack("!I", len(body) + 4) + body)
    seen = raw.until(b"Z")
    assert seen[0][0] == b"v"
    newest_minor, count = struct.unpack("!II", seen[0][1][:8])
    assert count == 1 and b"_pq_.sluice_test" in seen[0][1]
    assert seen[-1] == (b"Z", b"I")
    raw.query("SELECT 1")
    assert raw.until(b"Z")[-1] == (b"Z", b"I")


@pytest.mark.parametrize("args, message", [
    (["--listen", "nonsense", "--upstream", "127.0.0.1:5432"], "--listen \"nonsense\""),
    (["--listen", "127.0.0.1:99999", "--upstream", "127.0.0.1:5432"], "port 1 to 65535"),
    (["--listen", "127.0.0.1:6432", "--upstream", "no-such-host.invalid:5432"],
     "cannot resolve"),
    (["--listen", "127.0.0.1:6432"], "--upstream is required"),
    (["--listen", "127.0.0.1:6432", "--upstream", "/tmp", "--max-message-size", "10XB"],
     "--max-message-size"),
    (["--listen", "127.0.0.1:6432", "--upstream", "/tmp", "--threads", "0"], "--threads"),
])
def test_bad_arguments(args, message):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PGPROXY")}
    proc = subprocess.run([sluice_bin(), "proxy", *args], capture_output=True, text=True,
                          env=env, timeout=60)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert len([line for line in proc.stderr.splitlines() if line.startswith("sluice")]) == 1


def test_server_unreachable(start_proxy):
    port, lock = _free_port()
    dead, dead_lock = _free_port()  # held, never listened on
    lock.close()
    p = start_proxy(f"127.0.0.1:{port}", f"127.0.0.1:{dead}")
    p.port = port
    try:
        with pytest.raises(psycopg.OperationalError, match="could not connect to the server"):
            psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
    finally:
        dead_lock.close()


# ---- hostile clients ----------------------------------------------------------------------

def test_malformed_and_oversized_messages(cluster, trust_proxy):
    with psycopg.connect(host="127.0.0.1", port=trust_proxy.port, user=cluster.user,
                         dbname="postgres", autocommit=True) as bystander:
        bystander.execute("BEGIN")
        bystander.execute("CREATE TEMP TABLE kept (i int)")
        hostile = [
            (b"Q" + struct.pack("!I", 3), "invalid message length 3"),
            (b"Q" + struct.pack("!I", 0xffffffff), "over the maximum"),
            (b"Q" + struct.pack("!I", 2 << 20) + b"SELECT", "over the maximum of 1048576"),
        ]
        for payload, message in hostile:
            raw = Raw(trust_proxy.port)
            assert raw.login(cluster.user)[-1][0] == b"Z"
            raw.sock.sendall(payload)
            t, body = raw.recv_message()
            assert t == b"E"
            fields = error_fields(body)
            assert fields["C"] == "08P01" and message in fields["M"], fields
            assert raw.closed()
        # a startup packet over the server's 10000-byte limit
        raw = Raw(trust_proxy.port)
        raw.sock.sendall(struct.pack("!I", 100000) + b"\0\3\0\0")
        t, body = raw.recv_message()
        assert t == b"E" and error_fields(body)["C"] == "08P01"
        assert raw.closed()
        # the other client is untouched, its transaction still open
        assert bystander.execute("SELECT count(*) FROM kept").fetchone() == (0,)
        bystander.execute("COMMIT")
    assert trust_proxy.proc.poll() is None


def copy_progress(cluster, like):
    with cluster.connect() as conn:
        return conn.execute("SELECT p.bytes_processed, a.wait_event"
                            " FROM pg_stat_progress_copy p JOIN pg_stat_activity a USING (pid)"
                            " WHERE a.query LIKE %s", (like,)).fetchone()


def test_big_copy_memory_stays_bounded(cluster, trust_proxy):
    rows, width = 200_000, 1000  # 200 MB through the proxy
    raw = Raw(trust_proxy.port)
    raw.login(cluster.user)
    raw.query(f"COPY (SELECT repeat('x', {width}) FROM generate_series(1, {rows})) "
              f"TO STDOUT /* proxy-big-copy */")
    # Not reading: the server must end up blocked writing to the proxy, which stopped reading
    # it, rather than the proxy taking the whole result into memory while the server finishes.
    # Waited on: the COPY has ended, or it sits in ClientWrite with its byte count unchanged
    # over several polls (a proxy that reads on lets it reach its end in a few seconds).
    seen = []

    def finished_or_blocked():
        progress = copy_progress(cluster, "%proxy-big-copy%")
        seen.append(progress)
        if progress is None:
            return True
        last = seen[-5:]
        return len(last) == 5 and all(p == (progress[0], "ClientWrite") for p in last)
    wait_until(lambda: time.sleep(0.1) or finished_or_blocked(), "the COPY ended or blocked",
               tries=600)
    assert seen[-1] is not None, "the server sent the whole result: the proxy held it"
    assert seen[-1][0] < rows * width // 2
    if not SANITIZED:
        assert trust_proxy.rss_kib("VmRSS") < RSS_LIMIT_KIB
    copied = 0
    while True:
        t, body = raw.recv_message()
        assert t is not None
        if t == b"d":
            copied += len(body)
        elif t == b"Z":
            break
    assert copied == rows * (width + 1)
    if not SANITIZED:
        assert trust_proxy.rss_kib("VmHWM") < RSS_LIMIT_KIB


def test_sigterm_drains(cluster, start_proxy):
    port, lock = _free_port()
    lock.close()
    p = start_proxy(f"127.0.0.1:{port}", f"127.0.0.1:{cluster.port}")
    p.port = port
    outcome = {}
    with cluster.connect() as holder:
        holder.execute("SELECT pg_advisory_lock(777)")
        client = connect(cluster, p)

        def run():
            outcome["row"] = client.execute("SELECT pg_advisory_lock(777), 'finished'")\
                .fetchone()

        t = threading.Thread(target=run)
        t.start()
        wait_until(lambda: len(active_queries(cluster, "%pg_advisory_lock(777), 'fin%")) == 1,
                   "the client's query running")
        p.proc.send_signal(signal.SIGTERM)

        def refused():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
                return False
            except ConnectionRefusedError:
                return True
        wait_until(refused, "the listening socket closed")
        holder.execute("SELECT pg_advisory_unlock(777)")
        t.join(timeout=60)
    assert outcome["row"] == ("", "finished")
    assert p.proc.poll() is None  # a client is still connected
    client.close()
    assert p.proc.wait(timeout=60) == 0


def test_sigint_during_drain_closes_all(cluster, start_proxy):
    port, lock = _free_port()
    lock.close()
    p = start_proxy(f"127.0.0.1:{port}", f"127.0.0.1:{cluster.port}")
    p.port = port
    client = connect(cluster, p)
    p.proc.send_signal(signal.SIGTERM)
    wait_until(lambda: any("stopping" in line for line in p.log), "the drain begun")
    assert p.proc.poll() is None  # the client holds it
    p.proc.send_signal(signal.SIGINT)
    assert p.proc.wait(timeout=60) == 0
    with pytest.raises(psycopg.OperationalError):
        client.execute("SELECT 1")
    client.close()
