"""sluice proxy --cache memory: simple-protocol SELECTs answered from the cache, and every way
a wrong answer could come from it. A hit is proven by changing a table directly on the server
(around the proxy): the proxy still gives the old rows; a write through the proxy (any
protocol) drops the entries, and the new rows come."""
import psycopg
import pytest

from pgcluster import PgCluster, _free_port
from redisserver import RedisServer
from test_proxy import Proxy, wait_until

REDIS_PASSWORD = "redis-pw-71c"


@pytest.fixture(scope="module")
def cluster():
    c = PgCluster(name="proxycache")
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
        p = Proxy(f"127.0.0.1:{port}", f"{cluster.sockdir}:{cluster.port}", "-v", *args,
                  env=env)
        p.port = port
        started.append(p)
        return p

    yield start
    codes = [p.stop() for p in started]
    for p, code in zip(started, codes):
        assert code == 0, "".join(p.log)


@pytest.fixture
def proxy(start_proxy):
    return start_proxy("--cache", "memory")


def direct(cluster, sql, *params):
    with psycopg.connect(host=cluster.sockdir, port=cluster.port, user=cluster.user,
                         dbname="postgres", autocommit=True) as c:
        cur = c.execute(sql, params or None)
        return cur.fetchall() if cur.description else None


def through(proxy, cluster, user=None, **kw):
    """A connection through the proxy whose cursors use the simple protocol."""
    return psycopg.connect(host="127.0.0.1", port=proxy.port, dbname="postgres",
                           user=user or cluster.user, autocommit=True,
                           cursor_factory=psycopg.ClientCursor, **kw)


def q(conn, sql):
    cur = conn.execute(sql)
    return cur.fetchall() if cur.description else None


def fresh_table(cluster, name, rows=(1,)):
    direct(cluster, f"DROP TABLE IF EXISTS {name} CASCADE; CREATE TABLE {name} (a int)")
    for r in rows:
        direct(cluster, f"INSERT INTO {name} VALUES (%s)", r)


def test_hit_then_write_through_proxy_invalidates(cluster, proxy):
    fresh_table(cluster, "hit_t")
    with through(proxy, cluster) as c:
        assert q(c, "SELECT a FROM hit_t ORDER BY a") == [(1,)]
        direct(cluster, "UPDATE hit_t SET a = 2")
        assert q(c, "SELECT a FROM hit_t ORDER BY a") == [(1,)]  # the cache's answer
        q(c, "INSERT INTO hit_t VALUES (3)")
        assert q(c, "SELECT a FROM hit_t ORDER BY a") == [(2,), (3,)]
    assert proxy.stop() == 0
    log = "".join(proxy.log)
    assert "cache hit" in log and "cache store" in log and "cache miss" in log
    assert "hit_t" not in log  # the text is never logged
    assert "cache: 1 hits, 2 misses, 2 stored, 1 invalidations" in log  # the exit summary


def test_write_never_cached_or_replayed(cluster, proxy):
    fresh_table(cluster, "w_t", rows=())
    with through(proxy, cluster) as c:
        q(c, "INSERT INTO w_t VALUES (1)")
        q(c, "INSERT INTO w_t VALUES (1)")
    assert direct(cluster, "SELECT count(*) FROM w_t") == [(2,)]


def test_volatile_functions_never_cached(cluster, proxy):
    fresh_table(cluster, "v_t")
    direct(cluster, "DROP SEQUENCE IF EXISTS v_seq; CREATE SEQUENCE v_seq")
    with through(proxy, cluster) as c:
        for sql in ("SELECT a, now() IS NOT NULL FROM v_t", "SELECT a, random() < 2 FROM v_t",
                    "SELECT a, nextval('v_seq') > 0 FROM v_t"):
            direct(cluster, "UPDATE v_t SET a = 1")
            assert q(c, sql) == [(1, True)]
            direct(cluster, "UPDATE v_t SET a = 2")
            assert q(c, sql) == [(2, True)]


def test_view_with_now_not_cached(cluster, proxy):
    fresh_table(cluster, "view_base")
    direct(cluster, "CREATE VIEW view_now AS SELECT a FROM view_base WHERE now() IS NOT NULL")
    with through(proxy, cluster) as c:
        assert q(c, "SELECT a FROM view_now") == [(1,)]
        direct(cluster, "UPDATE view_base SET a = 2")
        assert q(c, "SELECT a FROM view_now") == [(2,)]


def test_views_cached_only_when_their_definitions_are(cluster, proxy):
    fresh_table(cluster, "vbase")
    direct(cluster, "DROP SEQUENCE IF EXISTS vwseq; CREATE SEQUENCE vwseq;"
                    "CREATE VIEW v1 AS SELECT a FROM vbase; CREATE VIEW v2 AS SELECT a FROM v1;"
                    "CREATE VIEW vw_seq AS SELECT a FROM vbase, vwseq;"
                    "CREATE VIEW v_deep AS SELECT a FROM v2 WHERE a > (SELECT a - 10 FROM vw_seq)")
    with through(proxy, cluster) as c:
        assert q(c, "SELECT a FROM v2") == [(1,)]
        for view in ("vw_seq", "v_deep"):
            assert q(c, f"SELECT a FROM {view}") == [(1,)]
        direct(cluster, "UPDATE vbase SET a = 2")
        assert q(c, "SELECT a FROM v2") == [(1,)]  # a view of a view of a table: cached
        for view in ("vw_seq", "v_deep"):  # reads a sequence, at the end of a chain or not
            assert q(c, f"SELECT a FROM {view}") == [(2,)]


def test_no_hit_inside_transaction_and_status_stays_right(cluster, proxy):
    fresh_table(cluster, "tx_t")
    with through(proxy, cluster) as c:
        assert q(c, "SELECT a FROM tx_t") == [(1,)]
        direct(cluster, "UPDATE tx_t SET a = 2")
        q(c, "BEGIN")
        assert c.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        assert q(c, "SELECT a FROM tx_t") == [(2,)]
        assert c.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        q(c, "COMMIT")
        assert c.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert q(c, "SELECT a FROM tx_t") == [(1,)]  # the entry from before, still
        assert c.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_search_path_change_via_set(cluster, proxy):
    direct(cluster, "DROP SCHEMA IF EXISTS sa CASCADE; DROP SCHEMA IF EXISTS sb CASCADE;"
                    "CREATE SCHEMA sa; CREATE SCHEMA sb; CREATE TABLE sa.sp (a int);"
                    "CREATE TABLE sb.sp (a int); INSERT INTO sa.sp VALUES (1);"
                    "INSERT INTO sb.sp VALUES (2)")
    with through(proxy, cluster) as c:
        q(c, "SET search_path = sa")
        assert q(c, "SELECT a FROM sp") == [(1,)]
        assert q(c, "SELECT a FROM sp") == [(1,)]
        q(c, "SET search_path = sb")
        assert q(c, "SELECT a FROM sp") == [(2,)]
    with through(proxy, cluster, options="-csearch_path=sb") as c:
        assert q(c, "SELECT a FROM sp") == [(2,)]


def test_temp_table_shadowing_is_not_served_the_tables_entry(cluster, proxy):
    fresh_table(cluster, "shadow_t")
    with through(proxy, cluster) as c:
        assert q(c, "SELECT a FROM shadow_t") == [(1,)]
        assert q(c, "SELECT a FROM shadow_t") == [(1,)]
    with through(proxy, cluster) as c:
        q(c, "CREATE TEMP TABLE shadow_t (a int); INSERT INTO shadow_t VALUES (9)")
        assert q(c, "SELECT a FROM shadow_t") == [(9,)]


def test_row_level_security_each_user_sees_own_rows(cluster, proxy):
    direct(cluster, "DROP TABLE IF EXISTS rls_t; DROP ROLE IF EXISTS rls_a;"
                    "DROP ROLE IF EXISTS rls_b; CREATE ROLE rls_a LOGIN; CREATE ROLE rls_b LOGIN;"
                    "CREATE TABLE rls_t (owner name, a int); ALTER TABLE rls_t ENABLE ROW LEVEL "
                    "SECURITY; CREATE POLICY own ON rls_t USING (owner = current_user);"
                    "GRANT SELECT ON rls_t TO rls_a, rls_b;"
                    "INSERT INTO rls_t VALUES ('rls_a', 1), ('rls_b', 2)")
    for user, want in (("rls_a", 1), ("rls_b", 2), ("rls_a", 1)):
        with through(proxy, cluster, user=user) as c:
            assert q(c, "SELECT a FROM rls_t") == [(want,)]
    direct(cluster, "UPDATE rls_t SET a = a + 10")
    with through(proxy, cluster, user="rls_a") as c:
        assert q(c, "SELECT a FROM rls_t") == [(11,)]  # row security: never cached


def test_ttl_expiry(cluster, start_proxy):
    p = start_proxy("--cache", "memory", "--ttl", "1", "--ttl-jitter", "0")
    fresh_table(cluster, "ttl_t")
    with through(p, cluster) as c:
        assert q(c, "SELECT a FROM ttl_t") == [(1,)]
        direct(cluster, "UPDATE ttl_t SET a = 2")
        assert q(c, "SELECT a FROM ttl_t") == [(1,)]
        wait_until(lambda: q(c, "SELECT a FROM ttl_t") == [(2,)], "the entry to expire")


def test_comment_hints(cluster, proxy):
    fresh_table(cluster, "hint_t")
    with through(proxy, cluster) as c:
        sql = "SELECT a FROM hint_t /* sluice:no_cache */"
        assert q(c, sql) == [(1,)]
        direct(cluster, "UPDATE hint_t SET a = 2")
        assert q(c, sql) == [(2,)]
        keyed = "SELECT a FROM hint_t /* sluice:key=USER:1 */"
        assert q(c, keyed) == [(2,)]
        direct(cluster, "UPDATE hint_t SET a = 3")
        assert q(c, keyed) == [(2,)]


def test_extended_insert_invalidates_simple_entry(cluster, proxy):
    fresh_table(cluster, "ext_t")
    with through(proxy, cluster) as c:
        assert q(c, "SELECT a FROM ext_t ORDER BY a") == [(1,)]
        with psycopg.connect(host="127.0.0.1", port=proxy.port, dbname="postgres",
                             user=cluster.user, autocommit=True) as e:
            e.execute("INSERT INTO ext_t VALUES (%s)", (5,))
        assert q(c, "SELECT a FROM ext_t ORDER BY a") == [(1,), (5,)]


@pytest.mark.parametrize("name", ["q'uo\"te", "back\\slash", "dol$$lar", "all'\"\\$$;--"])
def test_hostile_relation_names(cluster, proxy, name):
    ident = '"' + name.replace('"', '""') + '"'
    direct(cluster, f"DROP TABLE IF EXISTS {ident}; CREATE TABLE {ident} (a int);"
                    f"INSERT INTO {ident} VALUES (1)")
    with through(proxy, cluster) as c:
        assert q(c, f"SELECT a FROM {ident}") == [(1,)]
        direct(cluster, f"UPDATE {ident} SET a = 2")
        assert q(c, f"SELECT a FROM {ident}") == [(1,)]
        q(c, f"DELETE FROM {ident} WHERE a = 0")
        assert q(c, f"SELECT a FROM {ident}") == [(2,)]


def test_pipelined_messages_wait_behind_a_cached_query(cluster, proxy):
    fresh_table(cluster, "pipe_t")
    with through(proxy, cluster) as c:
        assert q(c, "SELECT a FROM pipe_t") == [(1,)]
        with c.pipeline():
            c1 = c.execute("SELECT a FROM pipe_t")
            c2 = c.execute("SELECT a + 1 FROM pipe_t")
        assert c1.fetchall() == [(1,)] and c2.fetchall() == [(2,)]


@pytest.fixture
def redis():
    server = RedisServer(password=REDIS_PASSWORD)
    try:
        server.start()
        yield server
    finally:
        server.destroy()


def redis_proxy(start_proxy, redis, timeout_ms=30000):
    """A proxy on the Redis, its password given the way that keeps it out of argv. A Redis
    command slower than the timeout is a miss: the tests that count on hits give a loaded
    machine plenty of time."""
    return start_proxy("--cache", redis.url(), "--threads", "2",
                       "--cache-timeout", str(timeout_ms),
                       env={"PGPROXY_CACHE_PASSWORD": REDIS_PASSWORD})


def test_redis_hit_and_write_through_another_proxy_invalidates(cluster, start_proxy, redis):
    a = redis_proxy(start_proxy, redis)
    b = redis_proxy(start_proxy, redis)
    fresh_table(cluster, "redis_t")
    with through(a, cluster) as ca, through(b, cluster) as cb:
        assert q(ca, "SELECT a FROM redis_t") == [(1,)]
        direct(cluster, "UPDATE redis_t SET a = 2")
        assert q(ca, "SELECT a FROM redis_t") == [(1,)]
        assert q(cb, "SELECT a FROM redis_t") == [(1,)]  # the entry A stored
        q(cb, "UPDATE redis_t SET a = a + 1")
        assert q(ca, "SELECT a FROM redis_t") == [(3,)]
    for p in (a, b):
        assert REDIS_PASSWORD not in "".join(p.log)


def test_redis_write_commit_waits_for_the_invalidation(cluster, start_proxy, redis):
    """A write's ReadyForQuery reaches the client only once Redis applied the invalidation:
    with Redis stopped, the UPDATE through B does not complete; once Redis runs again it
    does, and A (same Redis) misses at once. Without the wait, a client could read its commit
    and then get the dropped entry through A."""
    import threading
    a = redis_proxy(start_proxy, redis)
    b = redis_proxy(start_proxy, redis)
    fresh_table(cluster, "redis_w")
    with through(a, cluster) as ca, through(b, cluster) as cb:
        assert q(ca, "SELECT a FROM redis_w") == [(1,)]
        assert q(ca, "SELECT a FROM redis_w") == [(1,)]
        done = threading.Event()

        def write():
            q(cb, "UPDATE redis_w SET a = 5")
            done.set()
        redis.pause()
        try:
            t = threading.Thread(target=write)
            t.start()
            # with Redis stopped the commit cannot be confirmed: it must still be waiting
            assert not done.wait(1.0)
        finally:
            redis.resume()
        t.join(120)
        assert done.is_set()
        assert q(ca, "SELECT a FROM redis_w") == [(5,)]


def test_redis_killed_mid_run_passes_through_then_caches_again(cluster, start_proxy, redis):
    p = redis_proxy(start_proxy, redis, timeout_ms=5000)
    fresh_table(cluster, "rkill_t")
    with through(p, cluster) as c:
        assert q(c, "SELECT a FROM rkill_t") == [(1,)]
        direct(cluster, "UPDATE rkill_t SET a = 2")
        assert q(c, "SELECT a FROM rkill_t") == [(1,)]
        redis.stop()
        for want in (2, 3):  # no cache: every answer is the server's, and no error
            direct(cluster, f"UPDATE rkill_t SET a = {want}")
            assert q(c, "SELECT a FROM rkill_t") == [(want,)]
        redis.start()

        def served_from_cache():
            now = q(c, "SELECT a FROM rkill_t")
            direct(cluster, "UPDATE rkill_t SET a = a + 1")
            return q(c, "SELECT a FROM rkill_t") == now

        wait_until(served_from_cache, "the cache to answer again")


def test_settings_the_session_sets_are_in_the_key(cluster, proxy):
    direct(cluster, "DROP TABLE IF EXISTS tz_t; CREATE TABLE tz_t (t timestamptz);"
                    "INSERT INTO tz_t VALUES ('2020-01-01 12:00:00+00')")
    with through(proxy, cluster) as c:
        q(c, "SET TimeZone = 'UTC'")
        assert q(c, "SELECT t::text FROM tz_t") == [("2020-01-01 12:00:00+00",)]
        q(c, "SET TimeZone = 'Asia/Tokyo'")
        assert q(c, "SELECT t::text FROM tz_t") == [("2020-01-01 21:00:00+09",)]
        q(c, "SET extra_float_digits = 0")  # reported by no ParameterStatus
        assert q(c, "SELECT 0.1::float8::text, t::text FROM tz_t") == [
            ("0.1", "2020-01-01 21:00:00+09")]
        q(c, "SET extra_float_digits = -3")
        direct(cluster, "UPDATE tz_t SET t = t + interval '1 hour'")
        assert q(c, "SELECT 0.1::float8::text, t::text FROM tz_t") == [
            ("0.1", "2020-01-01 22:00:00+09")]  # not the entry stored under digits 0


def test_answer_over_max_entry_not_stored(cluster, start_proxy):
    p = start_proxy("--cache", "memory", "--cache-max-entry", "4kB")
    direct(cluster, "DROP TABLE IF EXISTS big_t; CREATE TABLE big_t (a int, b text);"
                    "INSERT INTO big_t VALUES (1, repeat('x', 5000))")
    with through(p, cluster) as c:
        assert q(c, "SELECT a, length(b) FROM big_t") == [(1, 5000)]
        assert q(c, "SELECT a, b FROM big_t")[0][0] == 1
        direct(cluster, "UPDATE big_t SET a = 2")
        assert q(c, "SELECT a, length(b) FROM big_t") == [(1, 5000)]  # small: cached
        assert q(c, "SELECT a, b FROM big_t")[0][0] == 2  # big: not cached


def test_psql_through_the_cache(cluster, proxy):
    import subprocess
    from pgcluster import BINDIR
    fresh_table(cluster, "psql_t")
    env = {"PGHOST": "127.0.0.1", "PGPORT": str(proxy.port), "PGUSER": cluster.user,
           "PGDATABASE": "postgres", "PATH": "/usr/bin:/bin"}
    run = [f"{BINDIR}/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
    out = subprocess.run(run + ["-c", "SELECT a FROM psql_t;"], env=env, capture_output=True,
                         text=True)
    assert out.returncode == 0 and out.stdout == "1\n", out.stderr
    direct(cluster, "UPDATE psql_t SET a = 2")
    out = subprocess.run(run, input="SELECT a FROM psql_t;\nBEGIN;\nSELECT a FROM psql_t;\n"
                         "COMMIT;\n", env=env, capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout == "1\n2\n", out.stderr


def test_set_inside_a_transaction_stops_the_cache_for_the_session(cluster, proxy):
    fresh_table(cluster, "txset_t")
    sql = "SELECT (a / 3.0)::float8::text FROM txset_t"
    with through(proxy, cluster) as c:
        assert q(c, sql) == [("0.3333333333333333",)]
        assert q(c, sql) == [("0.3333333333333333",)]
        q(c, "BEGIN")
        q(c, "SET extra_float_digits = -3")
        q(c, "COMMIT")
        assert q(c, sql) == [("0.333333333333",)]
    assert "the session is not modelled" in "".join(proxy.log)


def test_failed_set_is_not_followed(cluster, proxy):
    fresh_table(cluster, "fset_t")
    with through(proxy, cluster) as c, through(proxy, cluster) as d:
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            q(c, "SET extra_float_digits = 99")
        assert q(d, "SELECT a FROM fset_t") == [(1,)]
        direct(cluster, "UPDATE fset_t SET a = 2")
        # c's settings are d's: the SET failed, so c shares d's entry
        assert q(c, "SELECT a FROM fset_t") == [(1,)]


@pytest.mark.parametrize("args, env, message", [
    (["--cache", "bogus:s3cret"], {}, "--cache"),
    (["--cache", "redis://u:s3cret@host:notaport/0"], {}, "port"),
    (["--cache", "memory:10XB"], {}, "--cache memory:"),
    (["--ttl", "0"], {}, "--ttl"),
    ([], {"PGPROXY_CACHE_TTL_SECOND": "soon"}, "PGPROXY_CACHE_TTL_SECOND"),
    (["--cache-timeout", "0"], {}, "--cache-timeout"),
])
def test_bad_cache_arguments_never_show_a_password(args, env, message):
    import os
    import subprocess
    from conftest import sluice_bin
    full = {k: v for k, v in os.environ.items() if not k.startswith("PGPROXY")}
    full.update(env)
    proc = subprocess.run([sluice_bin(), "proxy", "--listen", "127.0.0.1:6432", "--upstream",
                           "/tmp", *args], capture_output=True, text=True, env=full, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "s3cret" not in proc.stderr


# ---- hits without a catalog query, and what makes that safe ---------------------------------

def catalog_queries(proxy):
    """The catalog queries the proxy sent, counted from its log once it has stopped."""
    assert proxy.stop() == 0
    return "".join(proxy.log).count("cache catalog query")


def test_hits_send_nothing_to_the_server(cluster, proxy):
    fresh_table(cluster, "nort_t")
    with through(proxy, cluster) as c:
        assert q(c, "SELECT a FROM nort_t") == [(1,)]
        direct(cluster, "UPDATE nort_t SET a = 2")
        for _ in range(5):
            assert q(c, "SELECT a FROM nort_t") == [(1,)]
    assert catalog_queries(proxy) == 1  # the session's first Query only


def test_catalog_verdicts_are_reused_until_ddl_through_the_proxy(cluster, proxy):
    fresh_table(cluster, "memo_t", rows=(10,))
    sql = "SELECT a FROM memo_t WHERE a > {}"
    with through(proxy, cluster) as c, through(proxy, cluster) as d:
        assert q(c, sql.format(1)) == [(10,)]  # first of the session: catalog, then the store
        assert q(c, sql.format(2)) == [(10,)]  # a miss: catalog, verdict kept
        assert q(c, sql.format(3)) == [(10,)]  # a miss: the verdict, no catalog query
        direct(cluster, "UPDATE memo_t SET a = 11")
        assert q(c, sql.format(3)) == [(10,)]  # stored all the same
        q(d, "ALTER TABLE memo_t ENABLE ROW LEVEL SECURITY")  # another session, same proxy
        # the verdict is out of date: the catalog refuses (a > 4), then its refusal is kept
        for n, was in ((4, 11), (5, 12)):
            assert q(c, sql.format(n)) == [(was,)]
            direct(cluster, "UPDATE memo_t SET a = a + 1")
            assert q(c, sql.format(n)) == [(was + 1,)]  # nothing was stored
    assert catalog_queries(proxy) == 3  # c's first Query, a > 2, a > 4 (d's ALTER: none)
    log = "".join(proxy.log)
    assert "reads a table with row-level security" in log
    # found: a > 3, a > 4 (out of date), a > 4, a > 5 twice; not found: a > 2
    assert "catalog verdicts: 5 found, 1 not found, 1 held" in log


TEMP_SHADOWS = {
    "create temp table": "CREATE TEMP TABLE {t} (a int); INSERT INTO {t} VALUES (9)",
    "create temp view": "CREATE TEMP VIEW {t} AS SELECT 9 AS a",
    "select into temp": "SELECT 9 AS a INTO TEMP {t}",
    "create table as temp": "CREATE TEMP TABLE {t} AS SELECT 9 AS a",
    "create table pg_temp": "CREATE TABLE pg_temp.{t} (a int); INSERT INTO pg_temp.{t} "
                            "VALUES (9)",
    "trigger of an insert": "INSERT INTO {t}_trig VALUES (1)",
    "extended protocol": "extended:CREATE TEMP TABLE {t} AS SELECT 9 AS a",
}


@pytest.mark.parametrize("how", sorted(TEMP_SHADOWS))
def test_session_with_temp_objects_never_gets_the_shared_entry(cluster, proxy, how):
    t = "tshadow_" + how.replace(" ", "_")
    fresh_table(cluster, t)
    direct(cluster, f"DROP TABLE IF EXISTS {t}_trig; CREATE TABLE {t}_trig (a int);"
                    f"CREATE OR REPLACE FUNCTION {t}_f() RETURNS trigger LANGUAGE plpgsql AS "
                    f"$$BEGIN CREATE TEMP TABLE IF NOT EXISTS {t} AS SELECT 9 AS a; "
                    f"RETURN NEW; END$$;"
                    f"CREATE TRIGGER mk AFTER INSERT ON {t}_trig FOR EACH ROW EXECUTE "
                    f"FUNCTION {t}_f()")
    with through(proxy, cluster) as a, through(proxy, cluster) as b:
        assert q(a, f"SELECT a FROM {t}") == [(1,)]
        assert q(b, f"SELECT a FROM {t}") == [(1,)]  # b's first Query: a's entry
        assert q(b, f"SELECT a FROM {t}") == [(1,)]  # b now looks up before any catalog query
        stmt = TEMP_SHADOWS[how].format(t=t)
        if stmt.startswith("extended:"):
            psycopg.Cursor(b).execute(stmt[len("extended:"):])
        else:
            q(b, stmt)
        assert q(b, f"SELECT a FROM {t}") == [(9,)]  # its temp t shadows public's
        assert q(a, f"SELECT a FROM {t}") == [(1,)]


def test_rls_enabled_through_the_proxy_after_a_put(cluster, proxy):
    direct(cluster, "DROP TABLE IF EXISTS rlsl_t; DROP ROLE IF EXISTS rlsl_u;"
                    "CREATE ROLE rlsl_u LOGIN; CREATE TABLE rlsl_t (owner name, a int);"
                    "GRANT SELECT ON rlsl_t TO rlsl_u;"
                    "INSERT INTO rlsl_t VALUES ('rlsl_u', 1), ('other', 2)")
    sql = "SELECT owner, a FROM rlsl_t ORDER BY a"
    with through(proxy, cluster, user="rlsl_u") as u, through(proxy, cluster) as owner:
        assert q(u, sql) == [("rlsl_u", 1), ("other", 2)]
        direct(cluster, "UPDATE rlsl_t SET a = a + 10")
        assert q(u, sql) == [("rlsl_u", 1), ("other", 2)]  # a hit
        q(owner, "CREATE POLICY own ON rlsl_t USING (owner = current_user)")
        q(owner, "ALTER TABLE rlsl_t ENABLE ROW LEVEL SECURITY")
        assert q(u, sql) == [("rlsl_u", 11)]
        assert q(u, sql) == [("rlsl_u", 11)]


def test_two_users_never_share_an_entry(cluster, proxy):
    direct(cluster, "DROP TABLE IF EXISTS users_t; DROP ROLE IF EXISTS users_a;"
                    "DROP ROLE IF EXISTS users_b; CREATE ROLE users_a LOGIN;"
                    "CREATE ROLE users_b LOGIN; CREATE TABLE users_t (a int);"
                    "GRANT SELECT ON users_t TO users_a, users_b; INSERT INTO users_t VALUES (1)")
    sql = "SELECT a FROM users_t"
    with through(proxy, cluster, user="users_a") as a, \
            through(proxy, cluster, user="users_b") as b:
        assert q(a, sql) == [(1,)]
        assert q(a, sql) == [(1,)]
        direct(cluster, "UPDATE users_t SET a = 2")
        assert q(a, sql) == [(1,)]  # a's entry
        assert q(b, sql) == [(2,)]  # not a's
        assert q(b, sql) == [(2,)]
        direct(cluster, "UPDATE users_t SET a = 3")
        assert q(b, sql) == [(2,)]  # b's own entry, a hit
        assert q(a, sql) == [(1,)]


def test_redis_verdicts_out_of_date_after_ddl_through_another_proxy(cluster, start_proxy,
                                                                    redis):
    a = redis_proxy(start_proxy, redis)
    b = redis_proxy(start_proxy, redis)
    fresh_table(cluster, "rmemo_t", rows=(10,))
    sql = "SELECT a FROM rmemo_t WHERE a > {}"
    with through(a, cluster) as c, through(b, cluster) as d:
        for n in (1, 2, 3):  # catalog first; a miss and the catalog; a miss and the verdict
            assert q(c, sql.format(n)) == [(10,)]
        direct(cluster, "UPDATE rmemo_t SET a = 11")
        assert q(c, sql.format(3)) == [(10,)]  # stored on the verdict: a hit
        q(d, "ALTER TABLE rmemo_t ENABLE ROW LEVEL SECURITY")  # through B: Redis tells A
        assert q(c, sql.format(4)) == [(11,)]
        direct(cluster, "UPDATE rmemo_t SET a = 12")
        assert q(c, sql.format(4)) == [(12,)]  # the catalog refused: not stored
    assert catalog_queries(a) == 3  # c's first Query, a > 2, a > 4
    assert "reads a table with row-level security" in "".join(a.log)


def test_verdicts_expire_with_the_ttl_for_ddl_around_the_proxy(cluster, start_proxy):
    p = start_proxy("--cache", "memory", "--ttl", "1", "--ttl-jitter", "0")
    fresh_table(cluster, "vttl_t", rows=(10,))
    sql = "SELECT a FROM vttl_t WHERE a > {}"
    with through(p, cluster) as c:
        for n in (1, 2, 3):  # catalog first; a miss and the catalog; a miss and the verdict
            q(c, sql.format(n))
        direct(cluster, "ALTER TABLE vttl_t ENABLE ROW LEVEL SECURITY")  # around the proxy
        n = iter(range(4, 1000000))

        def refused():
            q(c, sql.format(next(n)))
            return "reads a table with row-level security" in "".join(p.log)

        wait_until(refused, "the verdict to expire and the catalog to refuse")
