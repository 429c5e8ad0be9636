"""The proxy's Redis cache store (proxy/redisstore.h) against a real redis-server, through
tests/drivers/cache_driver: entries under pgproxy's key names with their TTL, expiry done by
Redis itself, invalidations shared by every instance on the same Redis (and a put that raced
an invalidation refused), AUTH without the password ever printed, and a dead or frozen Redis
meaning misses and one warning, then recovery on the same port."""
import os
import re
import select
import subprocess
import time

import pytest

from redisserver import RedisServer

DRIVER = os.path.join(os.path.dirname(os.environ.get("SLUICE_BIN") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "build",
    "sluice")), "cache_driver")
PASSWORD = "pw-s3cr3t-Zq8"


class Driver:
    """One cache_driver process: a store instance. cmd() sends a line and reads the answer."""

    def __init__(self, url, *opts):
        if "--timeout-ms" not in opts:
            # a test that counts on answers gives a loaded machine plenty of time: a command
            # past its deadline is a miss
            opts = ("--timeout-ms", 30000, *opts)
        self.proc = subprocess.Popen([DRIVER, url, *map(str, opts)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._out = b""
        self.lines = []

    def cmd(self, line, timeout=20):
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._out:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.proc.stdout], [], [], max(left, 0))
            if not ready:
                raise AssertionError(f"cache_driver gave no answer to {line!r} in {timeout} s")
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                raise AssertionError(f"cache_driver exited on {line!r}: {self.close()}")
            self._out += chunk
        answer, self._out = self._out.split(b"\n", 1)
        self.lines.append(answer.decode())
        return answer.decode()

    def stats(self):
        return {k: int(v) for k, v in (kv.split("=") for kv in self.cmd("stats").split())}

    def close(self):
        """Ends the driver; returns its stderr."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
            self.proc.wait(timeout=30)
        err = self.proc.stderr.read().decode()
        assert self.proc.returncode == 0, err  # also what a sanitizer build reports
        return err


@pytest.fixture
def redis():
    server = RedisServer()
    try:
        yield server.start()
    finally:
        server.destroy()


@pytest.fixture
def drivers():
    started = []

    def start(url, *opts):
        d = Driver(url, *opts)
        started.append(d)
        return d
    yield start
    for d in started:
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()


def wait_for(what, check, timeout=20):
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.02)


def entry_keys(redis):
    return sorted(k.decode() for k in redis.command("KEYS", "PGPROXY:DEFAULT:*"))


def test_put_get_under_pgproxy_names_with_ttl_and_jitter(redis, drivers):
    d = drivers(redis.url(), "--ttl", 100, "--jitter", 20)
    assert d.cmd("ready 10000") == "ready"
    assert d.cmd("get q1 app public.t1") == "miss"
    assert d.cmd("put q1 app 0 first-value public.t1") == "stored"
    assert d.cmd("get q1 app public.t1") == "hit first-value"
    assert d.cmd("get q1 other public.t1") == "miss"  # the database is part of the key
    keys = entry_keys(redis)
    assert len(keys) == 1 and re.fullmatch(r"PGPROXY:DEFAULT:[A-Za-z0-9+/]{43}", keys[0])
    value = redis.command("GET", keys[0])
    assert value.startswith(b"SLC1T") and b"first-value" in value
    assert 100 - 2 <= redis.command("TTL", keys[0]) <= 120
    members = redis.command("SMEMBERS", "PGPROXY:tables:3:app:public.t1")
    assert [m.decode() for m in members] == keys
    s = d.stats()
    assert (s["hits"], s["misses"], s["puts"], s["errors"]) == (1, 2, 1, 0)


def test_ttl_expiry_is_done_by_redis(redis, drivers):
    d = drivers(redis.url(), "--ttl", 1, "--jitter", 0)
    assert d.cmd("ready 10000") == "ready"
    assert d.cmd("get short app t") == "miss"
    assert d.cmd("put short app 0 v t") == "stored"
    [key] = entry_keys(redis)
    assert d.cmd("get short app t") == "hit v"
    wait_for("the entry expiring in Redis", lambda: redis.command("EXISTS", key) == 0)
    assert d.cmd("get short app t") == "miss"


def test_invalidation_is_seen_by_another_instance(redis, drivers):
    a = drivers(redis.url())
    b = drivers(redis.url())
    assert a.cmd("ready 10000") == "ready" and b.cmd("ready 10000") == "ready"
    assert a.cmd("get q app public.t1 public.t2") == "miss"
    assert a.cmd("put q app 0 shared public.t1 public.t2") == "stored"
    assert a.cmd("get other app public.t3") == "miss"
    assert a.cmd("put other app 0 kept public.t3") == "stored"
    assert b.cmd("get q app public.t1 public.t2") == "hit shared"
    assert b.cmd("inv app public.t2") == "ok"
    assert a.cmd("get q app public.t1 public.t2") == "miss"
    assert a.cmd("get other app public.t3") == "hit kept"  # another table's entry stays
    assert b.cmd("inv app2 public.t3") == "ok"  # same table name, another database
    assert a.cmd("get other app public.t3") == "hit kept"
    assert b.cmd("invall app") == "ok"
    assert a.cmd("get other app public.t3") == "miss"
    assert entry_keys(redis) == []


def test_put_that_raced_an_invalidation_is_refused(redis, drivers):
    a = drivers(redis.url())
    b = drivers(redis.url())
    assert a.cmd("ready 10000") == "ready" and b.cmd("ready 10000") == "ready"
    assert a.cmd("get q app public.t1") == "miss"  # A sends the statement upstream...
    assert b.cmd("inv app public.t1") == "ok"  # ...a write through B commits meanwhile...
    assert a.cmd("put q app 0 stale public.t1") == "stale"  # ...A's result is not stored
    assert entry_keys(redis) == []
    assert b.cmd("get q app public.t1") == "miss"
    assert a.cmd("get q app public.t1") == "miss"  # a miss after the invalidation may store
    assert a.cmd("put q app 0 fresh public.t1") == "stored"
    assert b.cmd("get q app public.t1") == "hit fresh"
    assert a.stats()["stale_refused"] == 1


def test_auth_with_a_password_that_is_never_printed():
    server = RedisServer(password=PASSWORD)
    started = []
    try:
        server.start()
        urls = (server.url(PASSWORD), server.url(PASSWORD, user="default"),
                server.url(PASSWORD.replace("-", "%2D"), db=3))
        for i, url in enumerate(urls):
            d = Driver(url)
            started.append(d)
            assert d.cmd("ready 10000") == "ready", url
            assert d.cmd(f"get q{i} app t") == "miss"
            assert d.cmd(f"put q{i} app 0 v t") == "stored"
            assert d.cmd(f"get q{i} app t") == "hit v"
        assert len(server.command("KEYS", "PGPROXY:DEFAULT:*")) == 2  # db 0
        wrong = Driver(server.url("not-the-" + PASSWORD), "--backoff-ms", 50)
        none = Driver(server.url())
        started += [wrong, none]
        assert wrong.cmd("ready 500") == "not ready"
        assert wrong.cmd("get q app t") == "miss"
        assert none.cmd("ready 500") == "not ready"
        for d in started:
            d.cmd("stats")
            err = d.close()
            assert PASSWORD not in err and PASSWORD not in "\n".join(d.lines)
            assert "%2D" not in err
    finally:
        for d in started:
            if d.proc.poll() is None:
                d.proc.kill()
                d.proc.wait()
        server.destroy()


def test_refused_login_warns_once_without_the_password():
    server = RedisServer(password=PASSWORD)
    try:
        server.start()
        d = Driver(server.url("wrong-" + PASSWORD), "--backoff-ms", 20)
        assert d.cmd("ready 300") == "not ready"  # several attempts, each refused
        err = d.close()
        assert err.count("warning") == 1, err
        assert "login was refused: WRONGPASS" in err, err
        assert PASSWORD not in err
    finally:
        server.destroy()


def test_bad_url_message_has_no_password():
    proc = subprocess.run([DRIVER, f"redis://user:{PASSWORD}@host:notaport/0"],
                          capture_output=True, text=True, input="", timeout=30)
    assert proc.returncode == 2
    assert "port must be a number" in proc.stderr
    assert PASSWORD not in proc.stderr + proc.stdout


def test_redis_killed_mid_sequence_then_back(redis, drivers):
    d = drivers(redis.url(), "--timeout-ms", 2000, "--backoff-ms", 50)
    assert d.cmd("ready 10000") == "ready"
    assert d.cmd("get q app t") == "miss"
    assert d.cmd("put q app 0 before t") == "stored"
    assert d.cmd("get q app t") == "hit before"
    redis.stop()
    for _ in range(5):
        assert d.cmd("get q app t") == "miss"
    assert d.cmd("put q app 0 during t") == "dropped"
    assert d.cmd("ready 300") == "not ready"  # several reconnection attempts fail
    redis.start()
    assert d.cmd("ready 10000") == "ready"
    assert d.cmd("get q app t") == "miss"  # the new server starts empty
    assert d.cmd("put q app 0 after t") == "stored"
    assert d.cmd("get q app t") == "hit after"
    err = d.close()
    assert err.count("is unavailable") == 1, err  # one warning for the whole outage
    assert "is back" in err


def test_frozen_redis_is_a_miss_and_invalidations_wait_for_it(redis, drivers):
    a = drivers(redis.url(), "--timeout-ms", 2000, "--backoff-ms", 50)
    assert a.cmd("ready 10000") == "ready"
    assert a.cmd("get q app public.t1") == "miss"
    assert a.cmd("put q app 0 old public.t1") == "stored"
    [key] = entry_keys(redis)
    redis.pause()  # alive but silent: only the deadline can tell
    try:
        assert a.cmd("get q app public.t1", timeout=10) == "miss"
        assert a.cmd("inv app public.t1", timeout=10) == "ok"  # kept while Redis is away
        assert a.cmd("ready 200") == "not ready"
    finally:
        redis.resume()
    assert a.cmd("ready 10000") == "ready"
    # The kept invalidation went out first on the connection: answered after it, this get
    # misses, and Redis no longer has the entry.
    assert a.cmd("get q app public.t1") == "miss"
    assert redis.command("EXISTS", key) == 0
    s = a.stats()
    assert s["errors"] >= 1 and s["invalidated"] == 1
    err = a.close()
    assert err.count("is unavailable") == 1 and "no answer within 2000 ms" in err, err


def test_flushed_scripts_are_loaded_again(redis, drivers):
    d = drivers(redis.url(), "--backoff-ms", 50)
    assert d.cmd("ready 10000") == "ready"
    assert d.cmd("get q app t") == "miss"
    assert d.cmd("put q app 0 v t") == "stored"
    assert redis.command("SCRIPT", "FLUSH") == "OK"
    assert d.cmd("get q app t") == "miss"  # NOSCRIPT: a miss, and a new connection
    assert d.cmd("ready 10000") == "ready"
    assert d.cmd("get q app t") == "hit v"
    assert "scripts were flushed" in d.close()


def test_many_kept_invalidations_widen_to_the_database(redis, drivers):
    d = drivers(redis.url(), "--timeout-ms", 2000, "--backoff-ms", 50)
    assert d.cmd("ready 10000") == "ready"
    for name, db, table in (("q1", "app", "t1"), ("q2", "app", "quiet"), ("q3", "other", "t1")):
        assert d.cmd(f"get {name} {db} {table}") == "miss"
        assert d.cmd(f"put {name} {db} 0 v {table}") == "stored"
    redis.pause()
    try:
        assert d.cmd("get q1 app t1", timeout=10) == "miss"  # the deadline: the store is down
        for i in range(1100):  # more distinct tables than the store keeps
            assert d.cmd(f"inv app x{i}") == "ok"
        assert d.cmd("inv app x5") == "ok"
    finally:
        redis.resume()
    assert d.cmd("ready 10000") == "ready"
    assert d.cmd("get q3 other t1") == "hit v"  # answered after the kept invalidations
    assert d.cmd("get q2 app quiet") == "miss"  # widened to the whole database: dropped too
    assert d.cmd("get q1 app t1") == "miss"
    err = d.close()
    assert "may stay stale" not in err, err
