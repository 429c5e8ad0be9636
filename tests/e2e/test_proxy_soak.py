"""sluice proxy, a bounded soak: many clients connect and leave (simple and prepared queries
through the memory cache, writes that invalidate, clients that give up during the startup),
and afterwards the proxy holds no more descriptors and about no more memory than after a
warm-up of the same work, and its counters agree (no client left, no server connection).

The work is a fixed count of rounds; a deadline only cuts it short on a very slow machine,
and what is checked does not depend on how much was done."""
import os
import socket
import struct
import threading
import time
import urllib.request

import psycopg
import pytest

from pgcluster import PgCluster, _free_port
from test_proxy import SANITIZED, Proxy, wait_until
from test_proxy_admin import ADMIN, parse_exposition, stats

THREADS = 50
ROUNDS = 60            # connections per thread in the soak
DEADLINE_S = 60        # the soak stops by then whatever is left
RSS_SLACK_KIB = 16 * 1024   # a leak of 2 KiB per connection would pass it
FD_SLACK = 8


@pytest.fixture(scope="module")
def cluster():
    c = PgCluster(name="proxysoak", settings={"max_connections": "120"})
    try:
        c.start()
        c.execute("CREATE TABLE soak_t (a int PRIMARY KEY, b text);"
                  "INSERT INTO soak_t SELECT g, repeat('x', 100) FROM generate_series(1, 100) g")
        yield c
    finally:
        c.destroy()


@pytest.fixture
def proxy(cluster):
    port, lock = _free_port()
    lock.close()
    mport, lock = _free_port()
    lock.close()
    p = Proxy(f"127.0.0.1:{port}", f"{cluster.sockdir}:{cluster.port}", "--cache", "memory",
              "--threads", "2", "--admin-users", ADMIN, "--metrics-listen", f"127.0.0.1:{mport}")
    p.port = port
    p.metrics_url = f"http://127.0.0.1:{mport}/metrics"
    yield p
    assert p.stop() == 0, "".join(p.log)


def fds(proxy):
    return len(os.listdir(f"/proc/{proxy.proc.pid}/fd"))


def one_client(proxy, cluster, i, n, done):
    """One connection's work; counts what it sent in done (a dict, under the GIL)."""
    with psycopg.connect(host="127.0.0.1", port=proxy.port, dbname="postgres",
                         user=cluster.user, autocommit=True) as c:
        simple = psycopg.ClientCursor(c)
        simple.execute("SELECT count(*) FROM soak_t").fetchall()
        simple.execute("SELECT a, b FROM soak_t WHERE a <= 10 ORDER BY a").fetchall()
        for k in range(3):
            row = c.execute("SELECT a FROM soak_t WHERE a = %s", ((i + k) % 100 + 1,),
                            prepare=True).fetchone()
            assert row is not None
        if n % 4 == 0:  # a write: drops the database's entries
            simple.execute("UPDATE soak_t SET b = b WHERE a = 1")
        done["simple"] += 2 + (n % 4 == 0)
        done["extended"] += 3
        done["clients"] += 1


def give_up_early(proxy, half):
    """A client that leaves during the startup: at once, or after half a StartupMessage."""
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=30) as s:
        if half:
            body = struct.pack("!I", 196608) + b"user\0soak\0"
            s.sendall(struct.pack("!I", len(body) + 4 + 10) + body)


def run(proxy, cluster, rounds, deadline):
    done = {"simple": 0, "extended": 0, "clients": 0}
    errors = []

    def worker(t):
        try:
            for n in range(rounds):
                if time.monotonic() > deadline:
                    return
                one_client(proxy, cluster, t * 1000 + n, n, done)
                give_up_early(proxy, half=n % 2 == 1)
        except Exception as e:  # noqa: BLE001 - reported below with the thread's number
            errors.append(f"thread {t}: {e!r}")

    def monitor():
        """The console and the metrics read while the clients come and go."""
        try:
            with psycopg.connect(host="127.0.0.1", port=proxy.port, dbname="sluice",
                                 user=ADMIN, autocommit=True,
                                 cursor_factory=psycopg.ClientCursor) as console:
                while not finished.is_set():
                    with urllib.request.urlopen(proxy.metrics_url, timeout=30) as r:
                        parse_exposition(r.read().decode())
                    assert console.execute("SHOW CLIENTS").fetchall()
                    done["monitor"] += 1
                    finished.wait(0.1)  # a pace, not a condition: the clients need the CPU
        except Exception as e:  # noqa: BLE001
            errors.append(f"monitor: {e!r}")

    finished = threading.Event()
    done["monitor"] = 0
    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    watcher = threading.Thread(target=monitor)
    watcher.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    finished.set()
    watcher.join()
    assert not errors, errors[:5]
    return done


def settled(proxy):
    """Every client gone (the console's own connection is the one left)."""
    wait_until(lambda: stats(proxy)["clients"] == "1", "all clients gone")


def test_soak_no_descriptor_or_memory_growth(cluster, proxy):
    start = time.monotonic()
    run(proxy, cluster, 2, start + DEADLINE_S)  # warm-up: threads, arenas, cache entries
    settled(proxy)
    fds_before = fds(proxy)
    rss_before = proxy.rss_kib("VmRSS")
    base = stats(proxy)

    done = run(proxy, cluster, ROUNDS, time.monotonic() + DEADLINE_S)
    assert done["clients"] >= THREADS  # at least a round each, even on a slow machine
    settled(proxy)

    after = stats(proxy)
    assert after["server_connections"] == "0"
    assert done["monitor"] >= 1
    # each round: one client of psycopg and one that gave up, plus each stats() call's own
    assert int(after["clients_total"]) - int(base["clients_total"]) >= 2 * done["clients"]
    assert int(after["queries_simple"]) - int(base["queries_simple"]) >= done["simple"]
    assert int(after["queries_extended"]) - int(base["queries_extended"]) >= done["extended"]
    assert int(after["cache_hits"]) > int(base["cache_hits"])
    assert int(after["upstream_latency_count"]) > int(base["upstream_latency_count"])

    assert fds(proxy) <= fds_before + FD_SLACK, (fds_before, fds(proxy))
    if not SANITIZED:
        rss_after = proxy.rss_kib("VmRSS")
        assert rss_after <= rss_before + RSS_SLACK_KIB, (rss_before, rss_after)
