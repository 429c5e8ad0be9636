"""sluice proxy with --tls-cert/--tls-key: clients get TLS from the proxy (the server connection
stays plain) and see through it what they see directly; a client that breaks the handshake ends
only its own connection; memory stays bounded over TLS; bad files are refused at start with a
message that names them and shows nothing of a key.

Certificates are made for each run with the openssl command: a CA, a server certificate for
localhost / 127.0.0.1 signed by it, and a client certificate for --tls-ca."""
import os
import re
import socket
import ssl
import struct
import subprocess
import time

import psycopg
import pytest

from conftest import sluice_bin
from pgcluster import BINDIR, PgCluster, _free_port
from test_proxy import (RSS_LIMIT_KIB, SANITIZED, Proxy, Raw, copy_progress, error_fields,
                        startup_packet, wait_until)

SSL_REQUEST = struct.pack("!II", 8, 80877103)


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_key_and_csr(d, name, cn):
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}",
            cwd=d)
    os.chmod(os.path.join(d, f"{name}.key"), 0o600)


def sign(d, name, ext):
    with open(os.path.join(d, f"{name}.ext"), "w") as f:
        f.write(ext + "\n")
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-out", f"{name}.crt", "-extfile", f"{name}.ext",
            cwd=d)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("tls"))
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
            "-subj", "/CN=sluice test CA", cwd=d)
    make_key_and_csr(d, "server", "localhost")
    sign(d, "server", "subjectAltName=DNS:localhost,IP:127.0.0.1")
    make_key_and_csr(d, "client", "postgres")
    sign(d, "client", "extendedKeyUsage=clientAuth")
    # a second, unrelated key: it does not match server.crt
    make_key_and_csr(d, "other", "other")
    return {name: os.path.join(d, name) for name in (
        "ca.crt", "server.crt", "server.key", "client.crt", "client.key", "other.key")}


@pytest.fixture(scope="module")
def cluster():
    c = PgCluster(name="proxytls")
    try:
        c.start()
        yield c
    finally:
        c.destroy()


@pytest.fixture
def start_proxy():
    started = []

    def start(*args, env=None):
        port, lock = _free_port()
        lock.close()  # the proxy takes the port itself right away
        p = Proxy(f"127.0.0.1:{port}", None, *args, env=env)
        p.port = port
        started.append(p)
        return p

    yield start
    codes = [p.stop() for p in started]
    for p, code in zip(started, codes):
        assert code == 0, "".join(p.log)


def tls_args(certs):
    return ["--tls-cert", certs["server.crt"], "--tls-key", certs["server.key"]]


@pytest.fixture
def tls_proxy(cluster, certs, start_proxy):
    """A TLS proxy in front of the cluster's TCP port: logins go through SCRAM."""
    return start_proxy("--upstream", f"127.0.0.1:{cluster.port}", "-v", *tls_args(certs))


@pytest.fixture
def trust_tls_proxy(cluster, certs, start_proxy):
    """A TLS proxy in front of the cluster's Unix socket (trust), for raw protocol clients."""
    return start_proxy("--upstream", f"{cluster.sockdir}:{cluster.port}", "-v",
                       "--max-message-size", "1MB", *tls_args(certs))


def client_env(cluster, port, tmp_path, **extra):
    path = tmp_path / "pgpass"
    path.write_text(f"*:*:*:{cluster.user}:{cluster.password}\n")
    path.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(PGHOST="127.0.0.1", PGPORT=str(port), PGUSER=cluster.user,
               PGDATABASE="postgres", PGPASSFILE=str(path))
    env.update(extra)
    return env


def psql(env, *args, input=None):
    return subprocess.run([f"{BINDIR}/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                           *args], input=input, env=env, capture_output=True, text=True,
                          timeout=120)


def connect(cluster, proxy, **kw):
    kw.setdefault("sslmode", "require")
    return psycopg.connect(host="127.0.0.1", port=proxy.port, dbname="postgres",
                           user=cluster.user, password=cluster.password, autocommit=True, **kw)


# ---- a raw protocol client over TLS -------------------------------------------------------

def no_verify():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class TlsRaw(Raw):
    """Raw (test_proxy.py) after SSLRequest, 'S' and a handshake: the same calls over TLS."""

    def __init__(self, port):
        sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        sock.sendall(SSL_REQUEST)
        assert sock.recv(1) == b"S"
        self.sock = no_verify().wrap_socket(sock)
        self.buf = b""


class MemTls:
    """A TLS client on memory buffers, so that a test decides which records go in one write;
    recv and sendall as a socket's, for Raw."""

    def __init__(self, port):
        self.sock = ssl_request(port)
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = no_verify().wrap_bio(self.incoming, self.outgoing)
        while True:
            try:
                self.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                self.flush()
                data = self.sock.recv(1 << 16)
                assert data, "closed during the handshake"
                self.incoming.write(data)
        self.flush()

    def flush(self):
        data = self.outgoing.read()
        if data:
            self.sock.sendall(data)

    def recv(self, n):
        while True:
            try:
                return self.obj.read(n)
            except ssl.SSLWantReadError:
                data = self.sock.recv(1 << 16)
                if not data:
                    return b""
                self.incoming.write(data)
            except ssl.SSLZeroReturnError:
                return b""

    def sendall(self, data):
        self.obj.write(data)
        self.flush()


class MemRaw(Raw):
    def __init__(self, port):
        self.sock = MemTls(port)
        self.buf = b""


def ssl_request(port):
    """A socket that sent SSLRequest and was answered 'S'."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.sendall(SSL_REQUEST)
    assert sock.recv(1) == b"S"
    return sock


def closed(sock):
    try:
        while sock.recv(4096):
            pass
    except ConnectionResetError:
        pass
    return True


# ---- clients ------------------------------------------------------------------------------

SCRIPT = ("SELECT 1 AS a, 'two' AS b; SELECT g, md5(g::text) FROM generate_series(1, 50) g;"
          "SELECT current_user, current_setting('server_version_num');"
          "COPY (SELECT g, repeat('y', g) FROM generate_series(1, 300) g) TO STDOUT;")


def test_psql_require_and_verify_full_same_as_direct(cluster, certs, tls_proxy, tmp_path):
    direct = psql(client_env(cluster, cluster.port, tmp_path), "-c", SCRIPT)
    assert direct.returncode == 0, direct.stderr
    modes = [
        {"PGSSLMODE": "require"},
        # verify-full checks the certificate against the CA and the name "localhost"
        {"PGSSLMODE": "verify-full", "PGSSLROOTCERT": certs["ca.crt"], "PGHOST": "localhost",
         "PGHOSTADDR": "127.0.0.1"},
    ]
    for extra in modes:
        env = client_env(cluster, tls_proxy.port, tmp_path, **extra)
        out = psql(env, "-c", SCRIPT)
        assert out.returncode == 0, out.stderr
        assert out.stdout == direct.stdout
        # psql's own view: TLS to the proxy; the server's: a plain connection from the proxy
        info = psql(env, "-c", "\\conninfo", "-c",
                    "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        assert info.returncode == 0, info.stderr
        assert "SSL connection (protocol: TLSv1." in info.stdout, info.stdout
        assert info.stdout.strip().endswith("f")
    # a wrong CA: verify-full refuses the proxy's certificate
    env = client_env(cluster, tls_proxy.port, tmp_path, PGSSLMODE="verify-full",
                     PGSSLROOTCERT=certs["client.crt"], PGHOST="localhost",
                     PGHOSTADDR="127.0.0.1")
    out = psql(env, "-c", "SELECT 1")
    assert out.returncode != 0 and "certificate verify failed" in out.stderr, out.stderr
    # the log says which connections were TLS
    wait_until(lambda: sum(" over TLSv1." in line for line in tls_proxy.log) >= 4,
               "the connect lines saying TLS")


def test_psycopg_prepared_and_copy_through_tls(cluster, tls_proxy):
    with connect(cluster, tls_proxy) as conn:
        assert conn.pgconn.ssl_in_use
        conn.execute("DROP TABLE IF EXISTS tls_copy; CREATE TABLE tls_copy (i int, t text)")
        for i in range(10):
            row = conn.execute("SELECT %s::int * 2, %s::text", (i, f"v{i}"),
                               prepare=True).fetchone()
            assert row == (i * 2, f"v{i}")
        with conn.cursor() as cur:
            with cur.copy("COPY tls_copy FROM STDIN") as copy:
                for i in range(5000):
                    copy.write_row((i, "z" * (i % 300)))
        with conn.cursor() as cur:
            out = bytearray()
            with cur.copy("COPY (SELECT * FROM tls_copy ORDER BY i) TO STDOUT") as copy:
                for chunk in copy:
                    out += chunk
        expected = "".join(f"{i}\t{'z' * (i % 300)}\n" for i in range(5000)).encode()
        assert bytes(out) == expected
        assert conn.execute("SELECT count(*), sum(length(t)) FROM tls_copy").fetchone() == \
            (5000, sum(i % 300 for i in range(5000)))


def test_sslmode_disable_and_prefer(cluster, tls_proxy):
    with connect(cluster, tls_proxy, sslmode="disable") as conn:
        assert not conn.pgconn.ssl_in_use
        assert conn.execute("SELECT 41 + 1").fetchone() == (42,)
    with connect(cluster, tls_proxy, sslmode="prefer") as conn:
        assert conn.pgconn.ssl_in_use
        assert conn.execute("SELECT 42").fetchone() == (42,)


def test_environment_names_the_files(cluster, certs, start_proxy):
    p = start_proxy("--upstream", f"127.0.0.1:{cluster.port}",
                    env={"PGPROXY_TLS_CERT": certs["server.crt"],
                         "PGPROXY_TLS_KEY": certs["server.key"]})
    with connect(cluster, p) as conn:
        assert conn.pgconn.ssl_in_use


def test_client_certificate_required_with_tls_ca(cluster, certs, start_proxy, tmp_path):
    p = start_proxy("--upstream", f"127.0.0.1:{cluster.port}", "--tls-ca", certs["ca.crt"],
                    *tls_args(certs))
    env = client_env(cluster, p.port, tmp_path, PGSSLMODE="require")
    out = psql(env, "-c", "SELECT 1")
    assert out.returncode != 0, out.stdout
    wait_until(lambda: any("TLS handshake failed" in line for line in p.log),
               "the failed handshake logged")
    env.update(PGSSLCERT=certs["client.crt"], PGSSLKEY=certs["client.key"])
    out = psql(env, "-c", "SELECT 1")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"


def test_pgbench_select_only_over_tls(cluster, tls_proxy, tmp_path):
    env = client_env(cluster, cluster.port, tmp_path)
    init = subprocess.run([f"{BINDIR}/pgbench", "-i", "-q", "-s", "1", "postgres"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert init.returncode == 0, init.stderr
    env = client_env(cluster, tls_proxy.port, tmp_path, PGSSLMODE="require")
    for protocol in ("simple", "prepared"):
        run = subprocess.run([f"{BINDIR}/pgbench", "-n", "-S", "-M", protocol, "-c", "4",
                              "-j", "2", "-t", "200", "postgres"], env=env,
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
        assert "number of transactions actually processed: 800/800" in run.stdout, run.stdout
        assert "number of failed transactions: 0" in run.stdout, run.stdout


def test_gssenc_request_still_answered_no(cluster, trust_tls_proxy):
    """GSSENCRequest gets 'N' from a TLS proxy; the client then asks for TLS and logs in."""
    sock = socket.create_connection(("127.0.0.1", trust_tls_proxy.port), timeout=60)
    sock.sendall(struct.pack("!II", 8, 80877104))
    assert sock.recv(1) == b"N"
    sock.sendall(SSL_REQUEST)
    assert sock.recv(1) == b"S"
    raw = Raw.__new__(Raw)
    raw.sock, raw.buf = no_verify().wrap_socket(sock), b""
    assert raw.login(cluster.user)[-1] == (b"Z", b"I")


# ---- hostile clients ----------------------------------------------------------------------

def test_broken_handshakes_close_only_that_client(cluster, trust_tls_proxy):
    port = trust_tls_proxy.port
    bystander = TlsRaw(port)
    assert bystander.login(cluster.user)[-1] == (b"Z", b"I")
    bystander.query("BEGIN; CREATE TEMP TABLE kept (i int)")
    assert bystander.until(b"Z")[-1] == (b"Z", b"T")

    # garbage after 'S': not a TLS record; the proxy answers with an alert or nothing, and
    # closes
    sock = ssl_request(port)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + os.urandom(200))
    assert closed(sock)
    # a client that goes away in the middle of its ClientHello
    hello_in, hello_out = ssl.MemoryBIO(), ssl.MemoryBIO()
    half = no_verify().wrap_bio(hello_in, hello_out)
    with pytest.raises(ssl.SSLWantReadError):
        half.do_handshake()
    hello = hello_out.read()
    sock = ssl_request(port)
    sock.sendall(hello[:len(hello) // 2])
    sock.close()
    # a client that speaks in the clear right behind its SSLRequest: refused before any 'S'
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.sendall(SSL_REQUEST + startup_packet(user=cluster.user, database="postgres"))
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    assert data[:1] == b"E", data
    assert "unencrypted data after SSL request" in error_fields(data[5:])["M"]
    sock.close()
    # a second SSLRequest inside TLS
    raw = TlsRaw(port)
    raw.sock.sendall(SSL_REQUEST)
    t, body = raw.recv_message()
    assert t == b"E" and error_fields(body)["C"] == "08P01"
    assert raw.closed()

    wait_until(lambda: any("TLS handshake failed" in line for line in trust_tls_proxy.log) and
               any("during the TLS handshake" in line for line in trust_tls_proxy.log),
               "the broken handshakes logged")
    # the bystander's session is untouched, its transaction still open
    bystander.query("SELECT count(*) FROM kept; COMMIT")
    seen = bystander.until(b"Z")
    assert (b"D", struct.pack("!HI", 1, 1) + b"0") in seen
    assert seen[-1] == (b"Z", b"I")
    assert trust_tls_proxy.proc.poll() is None


def test_terminate_with_close_notify_reaches_the_server(cluster, trust_tls_proxy):
    """A client's last records, Terminate and close_notify, arrive in one read: the Terminate
    is relayed before the session ends, so the server sees a goodbye, not a lost client."""
    raw = MemRaw(trust_tls_proxy.port)
    assert raw.login(cluster.user)[-1] == (b"Z", b"I")
    raw.query("BEGIN; SELECT pg_backend_pid()")
    seen = raw.until(b"Z")
    assert seen[-1] == (b"Z", b"T")
    row = [body for t, body in seen if t == b"D"][0]
    pid = int(row[6:])
    tls = raw.sock
    tls.obj.write(b"X" + struct.pack("!I", 4))
    with pytest.raises(ssl.SSLWantReadError):
        tls.obj.unwrap()  # puts close_notify after it and waits for the proxy's
    tls.flush()
    assert closed(tls.sock)
    wait_until(lambda: not cluster.query(f"SELECT 1 FROM pg_stat_activity WHERE pid = {pid}"),
               "the server session gone")
    with open(os.path.join(cluster.datadir, "server.log")) as f:
        lost = [line for line in f if f"[{pid}]" in line and "unexpected EOF" in line]
    assert lost == []


def test_big_result_memory_stays_bounded_over_tls(cluster, trust_tls_proxy):
    rows, width = 64_000, 1000  # 64 MB through TLS
    raw = TlsRaw(trust_tls_proxy.port)
    assert raw.login(cluster.user)[-1] == (b"Z", b"I")
    raw.query(f"COPY (SELECT repeat('x', {width}) FROM generate_series(1, {rows})) "
              f"TO STDOUT /* proxy-tls-big-copy */")
    # Not reading: the server must end up blocked writing to the proxy (as in test_proxy.py's
    # plain case), rather than the proxy holding the result as plaintext or ciphertext.
    seen = []

    def finished_or_blocked():
        progress = copy_progress(cluster, "%proxy-tls-big-copy%")
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
        assert trust_tls_proxy.rss_kib("VmRSS") < RSS_LIMIT_KIB
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
        assert trust_tls_proxy.rss_kib("VmHWM") < RSS_LIMIT_KIB


# ---- bad options --------------------------------------------------------------------------

def key_lines(path):
    """The base64 lines of a PEM key: none may appear in a message."""
    with open(path) as f:
        return [line.strip() for line in f if line.strip() and "-----" not in line]


def refused(*args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PGPROXY")}
    port, lock = _free_port()
    lock.close()
    proc = subprocess.run([sluice_bin(), "proxy", "--listen", f"127.0.0.1:{port}",
                           "--upstream", "127.0.0.1:5432", *args], capture_output=True,
                          text=True, env=env, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "listening on" not in proc.stderr
    return proc.stderr


def test_bad_certificate_and_key_options(certs, tmp_path):
    cert, key = certs["server.crt"], certs["server.key"]
    missing = str(tmp_path / "missing.pem")
    assert 'could not read the TLS certificate file "%s"' % missing in \
        refused("--tls-cert", missing, "--tls-key", key)
    assert "--tls-cert needs --tls-key" in refused("--tls-cert", cert)
    assert "--tls-key needs --tls-cert" in refused("--tls-key", key)

    # a key that others may read is refused, as the server refuses it
    loose = tmp_path / "loose.key"
    loose.write_bytes(open(key, "rb").read())
    loose.chmod(0o644)
    err = refused("--tls-cert", cert, "--tls-key", str(loose))
    assert f'the TLS private key file "{loose}" has group or world access' in err
    loose.chmod(0o600)

    # a key that is not the certificate's
    err = refused("--tls-cert", cert, "--tls-key", certs["other.key"])
    assert f'the TLS private key file "{certs["other.key"]}" does not match the certificate ' \
           f'file "{cert}"' in err
    # the key given as the certificate, the certificate as the key: named, and nothing of the
    # key's content in the message
    swapped = tmp_path / "swapped.crt"
    swapped.write_bytes(open(cert, "rb").read())
    swapped.chmod(0o600)
    err = refused("--tls-cert", key, "--tls-key", str(swapped))
    assert f'could not load the TLS certificate file "{key}"' in err
    err = refused("--tls-cert", cert, "--tls-key", str(swapped))
    assert f'could not load the TLS private key file "{swapped}"' in err
    # a key file holding garbage
    garbage = tmp_path / "garbage.key"
    garbage.write_text("-----BEGIN PRIVATE KEY-----\nnot-a-key-7c1f\n-----END PRIVATE KEY-----\n")
    garbage.chmod(0o600)
    err = refused("--tls-cert", cert, "--tls-key", str(garbage))
    assert f'could not load the TLS private key file "{garbage}"' in err
    assert "not-a-key-7c1f" not in err
    # an encrypted key: refused, never a passphrase prompt
    locked = tmp_path / "locked.key"
    openssl("pkey", "-in", key, "-aes256", "-passout", "pass:secret-pw-3", "-out",
            str(locked), cwd=str(tmp_path))
    locked.chmod(0o600)
    err = refused("--tls-cert", cert, "--tls-key", str(locked))
    assert f'could not load the TLS private key file "{locked}"' in err
    assert "secret-pw-3" not in err
    for path in (key, certs["other.key"], str(locked)):
        for line in key_lines(path):
            assert line not in err
    assert not re.search(r"BEGIN|PRIVATE KEY-", err)


# ---- the embedded API ---------------------------------------------------------------------

def driver_bin():
    path = os.path.join(os.path.dirname(sluice_bin()), "proxy_tls_driver")
    if not os.path.exists(path):
        pytest.fail(f"{path} is missing: build the test drivers")
    return path


def test_embedded_proxy_serves_tls(cluster, certs):
    """An application that accepts TCP clients itself hands them to the embedded proxy, which
    terminates their TLS as "sluice proxy" does."""
    proc = subprocess.Popen([driver_bin(), f"{cluster.sockdir}:{cluster.port}",
                             certs["server.crt"], certs["server.key"], "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline())
        with psycopg.connect(host="localhost", hostaddr="127.0.0.1", port=port,
                             dbname="postgres", user=cluster.user, sslmode="verify-full",
                             sslrootcert=certs["ca.crt"], autocommit=True) as conn:
            assert conn.pgconn.ssl_in_use
            assert conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")\
                .fetchone() == (False,)
        with psycopg.connect(host="127.0.0.1", port=port, dbname="postgres",
                             user=cluster.user, sslmode="disable", autocommit=True) as conn:
            assert conn.execute("SELECT 7").fetchone() == (7,)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_embedded_proxy_refuses_a_loose_key(cluster, certs, tmp_path):
    loose = tmp_path / "loose.key"
    loose.write_bytes(open(certs["server.key"], "rb").read())
    loose.chmod(0o640)
    proc = subprocess.run([driver_bin(), f"{cluster.sockdir}:{cluster.port}",
                           certs["server.crt"], str(loose), "1"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2
    assert f'the TLS private key file "{loose}" has group or world access' in proc.stderr
    for line in key_lines(str(loose)):
        assert line not in proc.stderr
