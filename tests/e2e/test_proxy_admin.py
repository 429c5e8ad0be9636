"""sluice proxy's operations: the admin console (database "sluice", psql as the client), the
Prometheus responder (--metrics-listen, read with urllib and checked line by line), and the
settings file read again on SIGHUP or RELOAD."""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import urllib.error
import urllib.request

import psycopg
import pytest

from conftest import sluice_bin
from pgcluster import BINDIR, PgCluster, _free_port
from redisserver import RedisServer
from test_proxy import Proxy, wait_until

ADMIN = "opsadmin"
REDIS_PASSWORD = "redis-pw-5d1"


@pytest.fixture(scope="module")
def cluster():
    c = PgCluster(name="proxyadmin")
    try:
        c.start()
        yield c
    finally:
        c.destroy()


@pytest.fixture
def start_proxy(cluster):
    started = []

    def start(*args, env=None):
        port, lock = _free_port()
        lock.close()
        p = Proxy(f"127.0.0.1:{port}", f"{cluster.sockdir}:{cluster.port}", *args, env=env)
        p.port = port
        started.append(p)
        return p

    yield start
    codes = [p.stop() for p in started]
    for p, code in zip(started, codes):
        assert code == 0, "".join(p.log)


@pytest.fixture
def proxy(start_proxy):
    return start_proxy("--cache", "memory", "--admin-users", f"{ADMIN},other")


def psql(proxy, *commands, user=ADMIN):
    """psql on the console: returns (exit code, stdout, stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    cmd = [f"{BINDIR}/psql", "-X", "-A", "-t", "-F", "|", "-v", "VERBOSITY=verbose",
           "-h", "127.0.0.1", "-p", str(proxy.port), "-U", user, "-d", "sluice"]
    for c in commands:
        cmd += ["-c", c]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    return r.returncode, r.stdout, r.stderr


def rows(proxy, command):
    code, out, err = psql(proxy, command)
    assert code == 0, err
    return [line.split("|") for line in out.splitlines() if line]


def stats(proxy, command="SHOW STATS"):
    return {name: value for name, value in rows(proxy, command)}


def through(proxy, cluster):
    return psycopg.connect(host="127.0.0.1", port=proxy.port, dbname="postgres",
                           user=cluster.user, password=cluster.password, autocommit=True,
                           cursor_factory=psycopg.ClientCursor)


def direct(cluster, sql):
    with psycopg.connect(host=cluster.sockdir, port=cluster.port, user=cluster.user,
                         dbname="postgres", autocommit=True) as c:
        c.execute(sql)


# ---- the console ---------------------------------------------------------------------------

def test_show_commands_answer_as_tables(cluster, proxy):
    with through(proxy, cluster) as c:
        c.execute("SELECT 1")
        c.execute("SELECT %s::int", (2,))
        s = stats(proxy)
        assert int(s["clients"]) == 2  # this client and the console's own
        assert int(s["server_connections"]) == 1
        assert int(s["queries_simple"]) >= 2
        assert int(s["upstream_latency_count"]) >= 2
        clients = rows(proxy, "SHOW CLIENTS")
        by_db = {r[3]: r for r in clients}
        assert set(by_db) == {"postgres", "sluice"}
        assert by_db["postgres"][2] == cluster.user
        assert by_db["postgres"][4] == "idle"
        assert by_db["postgres"][1].startswith("127.0.0.1:")
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00", by_db["postgres"][5])
        assert int(by_db["postgres"][6]) >= 2
        assert by_db["sluice"][4] == "admin"
        servers = rows(proxy, "SHOW SERVERS")
        assert [r[3] for r in servers] == ["postgres"]
        assert servers[0][1] == f"{cluster.sockdir}/.s.PGSQL.{cluster.port}"
    cache = stats(proxy, "SHOW CACHE")
    assert cache["store"] == "memory" and cache["ttl"] == "3600"
    version = subprocess.run([sluice_bin(), "--version"], capture_output=True,
                             text=True).stdout.strip()
    assert rows(proxy, "show version;") == [[version]]
    assert ["RELOAD"] in rows(proxy, "SHOW HELP")


def test_clients_count_returns_to_the_console_alone(cluster, proxy):
    conns = [through(proxy, cluster) for _ in range(5)]
    assert int(stats(proxy)["clients"]) == 6
    for c in conns:
        c.close()
    wait_until(lambda: stats(proxy)["clients"] == "1", "clients back to 1")
    s = stats(proxy)
    assert s["server_connections"] == "0"
    assert int(s["clients_total"]) >= 6


def test_user_not_in_admin_users_is_refused(proxy):
    code, out, err = psql(proxy, "SHOW STATS", user="intruder")
    assert code == 2
    assert "admin console refused: the user is not in --admin-users" in err
    assert "28000" in err or "FATAL" in err


def test_without_admin_users_database_sluice_is_the_servers(cluster, start_proxy):
    p = start_proxy()
    code, out, err = psql(p, "SHOW STATS", user=cluster.user)
    assert code == 2
    assert 'database "sluice" does not exist' in err  # the server's answer, not the console's


def test_unknown_command_is_an_error_and_the_session_stays(proxy):
    code, out, err = psql(proxy, "DROP TABLE x", "SHOW VERSION")
    assert "42601" in err and "unknown command" in err
    assert out.startswith("sluice ")  # the same connection answered the next command
    code, out, err = psql(proxy, "INVALIDATE a b")
    assert "42601" in err


def test_extended_protocol_is_refused_and_the_session_recovers(proxy):
    with psycopg.connect(host="127.0.0.1", port=proxy.port, dbname="sluice", user=ADMIN,
                         autocommit=True) as c:
        with pytest.raises(psycopg.errors.FeatureNotSupported,
                           match="simple query protocol only"):
            c.execute("SHOW STATS", prepare=False, binary=True)
        cur = psycopg.ClientCursor(c)
        cur.execute("SHOW VERSION")
        assert cur.fetchone()[0].startswith("sluice ")


def test_invalidate_drops_the_entry(cluster, proxy):
    direct(cluster, "DROP TABLE IF EXISTS inv_t; CREATE TABLE inv_t (a int); "
                    "INSERT INTO inv_t VALUES (1)")
    with through(proxy, cluster) as c:
        def ask():
            return c.execute("SELECT a FROM inv_t").fetchall()

        def counts():
            s = stats(proxy)
            return int(s["cache_hits"]), int(s["cache_misses"])

        for command in ("INVALIDATE inv_t", "INVALIDATE public.inv_t",
                        "INVALIDATE DATABASE postgres", "INVALIDATE ALL"):
            first = ask()  # stored (or already there)
            hits, misses = counts()
            assert ask() == first
            assert counts() == (hits + 1, misses), "the second ask is a hit"
            code, out, err = psql(proxy, command)
            assert code == 0 and not err, err
            direct(cluster, "UPDATE inv_t SET a = a + 1")
            now = ask()
            assert counts() == (hits + 1, misses + 1), f"after {command}: a miss"
            assert now[0][0] == first[0][0] + 1  # the server's rows, not the dropped entry
    assert int(stats(proxy, "SHOW CACHE")["invalidations"]) >= 4
    # the tag counts the databases reached: postgres, not the console's own
    assert psql(proxy, "INVALIDATE ALL")[1].strip() == "INVALIDATE 1"


def test_invalidate_without_cache_is_an_error(start_proxy):
    p = start_proxy("--admin-users", ADMIN)
    code, out, err = psql(p, "INVALIDATE ALL")
    assert "55000" in err and "without a cache" in err


# ---- metrics -------------------------------------------------------------------------------

SAMPLE = re.compile(r'^(sluice_proxy_[a-z_]+)(\{[a-z]+="[^"]*"\})? (-?[0-9.e+]+)$')


def parse_exposition(text):
    """Checks the text format; returns {family: {"type": ..., "samples": [(name, labels,
    value)]}}."""
    families = {}
    current = None
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name = line.split()[2]
            assert name not in families, f"family twice: {name}"
            current = families[name] = {"help": True, "type": None, "samples": []}
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            assert current is families[name] and current["type"] is None
            assert kind in ("counter", "gauge", "histogram")
            current["type"] = kind
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        name, labels, value = m.groups()
        base = re.sub(r"_(bucket|sum|count)$", "", name) if current["type"] == "histogram" \
            else name
        assert current and base == list(families)[-1], f"sample outside its family: {line}"
        current["samples"].append((name, labels, float(value)))
    return families


def test_metrics_in_prometheus_text_format(cluster, start_proxy):
    mport, lock = _free_port()
    lock.close()
    p = start_proxy("--cache", "memory", "--metrics-listen", f"127.0.0.1:{mport}")
    with through(p, cluster) as c:
        for _ in range(3):
            c.execute("SELECT 42").fetchall()
    url = f"http://127.0.0.1:{mport}/metrics"
    with urllib.request.urlopen(url, timeout=30) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        fam = parse_exposition(r.read().decode())
    for name in ("clients", "clients_total", "server_connections", "queries_total",
                 "cache_hits_total", "cache_misses_total", "cache_hit_ratio",
                 "cache_bytes_served_total", "cache_evictions_total",
                 "cache_invalidations_total", "cache_errors_total",
                 "upstream_latency_seconds"):
        assert f"sluice_proxy_{name}" in fam, name
    for name, f in fam.items():
        assert f["type"] and f["samples"], name
        if name.endswith("_total"):
            assert f["type"] == "counter"
    value = {n: v for n, _, v in fam["sluice_proxy_cache_hits_total"]["samples"]}
    assert value["sluice_proxy_cache_hits_total"] >= 1
    queries = {lab: v for _, lab, v in fam["sluice_proxy_queries_total"]["samples"]}
    assert queries['{protocol="simple"}'] >= 3
    h = fam["sluice_proxy_upstream_latency_seconds"]["samples"]
    buckets = [(lab, v) for n, lab, v in h if n.endswith("_bucket")]
    assert buckets[-1][0] == '{le="+Inf"}'
    les = [float(lab[5:-2]) for lab, _ in buckets[:-1]]
    assert les == sorted(les)
    counts = [v for _, v in buckets]
    assert counts == sorted(counts), "buckets are cumulative"
    count = [v for n, _, v in h if n.endswith("_count")][0]
    assert counts[-1] == count >= 1
    assert [v for n, _, v in h if n.endswith("_sum")][0] > 0

    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"http://127.0.0.1:{mport}/other", timeout=30)
    assert e.value.code == 404
    with socket.create_connection(("127.0.0.1", mport), timeout=30) as s:
        # the bound (8 KiB) filled with no end of the headers: answered without waiting more
        s.sendall(b"GET /" + b"a" * (8192 - 5))
        answer = s.makefile("rb").read()
    assert answer.startswith(b"HTTP/1.0 400 ")
    with socket.create_connection(("127.0.0.1", mport), timeout=30) as s:
        s.sendall(b"\x16\x03\x01garbage\r\n\r\n")
        assert s.makefile("rb").read().startswith(b"HTTP/1.0 400 ")


# ---- reload --------------------------------------------------------------------------------

def reloads(p):
    return sum("reload" in line for line in p.log)


def test_sighup_rereads_the_config_file(tmp_path, start_proxy):
    conf = tmp_path / "proxy.conf"
    conf.write_text("# reloadable settings\nttl = 60\n")
    p = start_proxy("--cache", "memory", "--ttl", "100", "--config", str(conf),
                    "--admin-users", ADMIN)
    cache = stats(p, "SHOW CACHE")
    assert cache["ttl"] == "60" and cache["ttl_jitter"] == "5"

    conf.write_text("ttl = 7\nttl_jitter = 0\ncache_max_entry = 64kB\n")
    before = reloads(p)
    p.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: reloads(p) > before, "the reload's log line")
    assert any("ttl 60 -> 7" in line and "ttl_jitter 5 -> 0" in line for line in p.log)
    cache = stats(p, "SHOW CACHE")
    assert (cache["ttl"], cache["ttl_jitter"], cache["cache_max_entry"]) == ("7", "0", "65536")

    conf.write_text("ttl = 0\n")  # refused: the settings in force stay
    before = reloads(p)
    p.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: reloads(p) > before, "the failed reload's log line")
    assert any("line 1: ttl" in line for line in p.log)
    assert stats(p, "SHOW CACHE")["ttl"] == "7"

    conf.write_text("")  # every key gone: the command line's values again
    code, out, err = psql(p, "RELOAD")
    assert code == 0, err
    assert stats(p, "SHOW CACHE")["ttl"] == "100"


def test_reload_without_config_is_an_error(proxy):
    code, out, err = psql(proxy, "RELOAD")
    assert "without --config" in err


def test_bad_config_file_stops_the_start(tmp_path):
    conf = tmp_path / "proxy.conf"
    conf.write_text("ttl = 5\nbogus = 1\n")
    r = subprocess.run([sluice_bin(), "proxy", "--listen", "127.0.0.1:1", "--upstream",
                        "127.0.0.1:2", "--config", str(conf)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode != 0
    assert "line 2: unknown key" in r.stderr


# ---- who may use the console ---------------------------------------------------------------

def console_over_socket(sockdir, port, *prefix):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    return subprocess.run([*prefix, f"{BINDIR}/psql", "-X", "-At", "-h", sockdir, "-p", str(port),
                           "-U", ADMIN, "-d", "sluice", "-c", "SHOW VERSION"],
                          capture_output=True, text=True, env=env, timeout=60)


def test_console_over_the_unix_socket_checks_the_peer_user(cluster):
    # a directory another OS user may reach (pytest's own are private): the console checks who
    sockdir = tempfile.mkdtemp(prefix="sluice-console-")
    os.chmod(sockdir, 0o777)
    port, lock = _free_port()
    lock.close()
    p = Proxy(f"{sockdir}:{port}", f"{cluster.sockdir}:{cluster.port}",
              "--admin-users", ADMIN)
    try:
        r = console_over_socket(str(sockdir), port)
        assert r.returncode == 0 and r.stdout.startswith("sluice "), r.stderr
        if os.geteuid() != 0:
            pytest.skip("another OS user's refusal needs root to run psql as nobody")
        other = console_over_socket(str(sockdir), port, "setpriv", "--reuid=nobody",
                                    "--regid=nogroup", "--clear-groups")
        assert other.returncode == 2
        assert "only over the Unix socket (from the proxy's own OS user)" in other.stderr
    finally:
        assert p.stop() == 0, "".join(p.log)
        shutil.rmtree(sockdir, ignore_errors=True)


def non_loopback_address():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("198.51.100.1", 9))  # no packet is sent: only a route is chosen
        except OSError:
            return None
        addr = s.getsockname()[0]
    return None if addr.startswith("127.") or addr == "0.0.0.0" else addr


def test_console_refuses_a_non_loopback_address(cluster):
    addr = non_loopback_address()
    if not addr:
        pytest.skip("no address other than the loopback here")
    port, lock = _free_port()
    lock.close()
    p = Proxy(f"0.0.0.0:{port}", f"{cluster.sockdir}:{cluster.port}", "--admin-users", ADMIN)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        r = subprocess.run([f"{BINDIR}/psql", "-X", "-At", "-h", addr, "-p", str(port), "-U",
                            ADMIN, "-d", "sluice", "-c", "SHOW VERSION"],
                           capture_output=True, text=True, env=env, timeout=60)
        assert r.returncode == 2
        assert "from a loopback address" in r.stderr
        p.port = port
        assert rows(p, "SHOW VERSION")[0][0].startswith("sluice ")  # 127.0.0.1 may
    finally:
        assert p.stop() == 0, "".join(p.log)


# ---- with Redis ----------------------------------------------------------------------------

@pytest.fixture
def redis():
    server = RedisServer(password=REDIS_PASSWORD)
    try:
        server.start()
        yield server
    finally:
        server.destroy()


def test_invalidate_reaches_another_proxy_through_redis(cluster, start_proxy, redis, tmp_path):
    args = ("--cache", redis.url(), "--threads", "2", "--cache-timeout", "30000")
    env = {"PGPROXY_CACHE_PASSWORD": REDIS_PASSWORD}
    a = start_proxy(*args, "--admin-users", ADMIN, env=env)
    b = start_proxy(*args, env=env)
    direct(cluster, "DROP TABLE IF EXISTS rinv_t; CREATE TABLE rinv_t (a int); "
                    "INSERT INTO rinv_t VALUES (1)")
    with through(a, cluster) as ca, through(b, cluster) as cb:
        assert ca.execute("SELECT 1").fetchall() == [(1,)]  # A has seen database postgres
        assert cb.execute("SELECT a FROM rinv_t").fetchall() == [(1,)]
        direct(cluster, "UPDATE rinv_t SET a = 2")
        assert cb.execute("SELECT a FROM rinv_t").fetchall() == [(1,)]  # B's entry
        code, out, err = psql(a, "INVALIDATE rinv_t")
        assert code == 0 and not err, err
        # the console answers once the invalidation is sent to Redis, not once Redis ran it
        wait_until(lambda: cb.execute("SELECT a FROM rinv_t").fetchall() == [(2,)],
                   "B's entry dropped through Redis")
    assert stats(a, "SHOW CACHE")["store"] == "redis"


@pytest.mark.parametrize("args, message", [
    (["--admin-users", ","], "--admin-users: expected one or more user names"),
    (["--metrics-listen", "/tmp/sluice-metrics"], "--metrics-listen takes HOST:PORT"),
    (["--config", "/nonexistent/proxy.conf"], 'could not open "/nonexistent/proxy.conf"'),
])
def test_bad_operations_arguments(args, message):
    port, lock = _free_port()
    lock.close()
    r = subprocess.run([sluice_bin(), "proxy", "--listen", f"127.0.0.1:{port}", "--upstream",
                        "127.0.0.1:2", *args], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert message in r.stderr, r.stderr
