"""sluice tap --catalog with LOG_BASED streams: the initial copy and its lsn bookmark, then the
changes a wal2json slot streams, as pipelinewise-tap-postgres emits them (RECORDs with
_sdc_deleted_at, the "lsn" bookmark, SCHEMA again for a new column), with the positions the
slot is told kept to the state the run was given."""
import decimal
import json
import signal
import subprocess
import threading

import pytest

from pgcluster import BINDIR, PgCluster, server_knows
from tapkit import check_validates, drop_slots, parse_messages, run_tap, write_json

ITEMS_SQL = r"""
CREATE TABLE items (id integer PRIMARY KEY, name text, amount numeric, at_tz timetz,
                    big text, ts timestamptz, d date);
ALTER TABLE items ALTER big SET STORAGE EXTERNAL;
INSERT INTO items VALUES (1, 'one', 1.5, '10:00:00+00', 'small', '2020-01-01 00:00:00+00',
                          '2020-01-01');
CREATE TABLE other (id integer PRIMARY KEY, v text);
"""
BIG = "x" * 50000
MANY_DIGITS = "12345678901234567890.123456789012345678901"


def slot_of(db):
    return f"pipelinewise_{db}".lower()


class Tap:
    """One database's tap: config, catalog, and runs of sluice tap on them."""

    def __init__(self, sluice, pg, db, tmp_path, stream="public-items", **cfg):
        self.sluice, self.pg, self.db, self.dir = sluice, pg, db, tmp_path
        conf = {"host": pg.host, "port": pg.port, "user": pg.user, "password": pg.password,
                "dbname": db, "logical_poll_total_seconds": 120}
        conf.update(cfg)
        self.config = write_json(tmp_path / "config.json", conf)
        proc = run_tap(sluice, "--config", self.config, "--discover")
        assert proc.returncode == 0, proc.stderr
        catalog = json.loads(proc.stdout)
        for s in catalog["streams"]:
            if s["tap_stream_id"] == stream:
                md = next(m["metadata"] for m in s["metadata"] if m["breadcrumb"] == [])
                md.update({"selected": True, "replication-method": "LOG_BASED"})
        self.catalog = write_json(tmp_path / "catalog.json", catalog)
        self.runs = 0

    def args(self, state, *extra):
        args = ["--config", self.config, "--catalog", self.catalog, *extra]
        if state is not None:
            self.runs += 1
            args += ["--state", write_json(self.dir / f"state{self.runs}.json", state)]
        return args

    def run(self, state=None, *extra, ok=True):
        proc = run_tap(self.sluice, *self.args(state, *extra))
        if ok:
            assert proc.returncode == 0, proc.stderr
        return proc

    def sync(self, state=None):
        proc = self.run(state)
        return parse_messages(proc.stdout)

    def sql(self, text):
        self.pg.execute(text, dbname=self.db)

    def confirmed(self):
        rows = self.pg.query("SELECT confirmed_flush_lsn::text FROM pg_replication_slots "
                             f"WHERE slot_name = '{slot_of(self.db)}'")
        assert len(rows) == 1
        return lsn_value(rows[0][0])


def lsn_value(text):
    hi, lo = text.split("/")
    return int(hi, 16) << 32 | int(lo, 16)


@pytest.fixture
def tap(sluice, pg, fresh_db, tmp_path):
    db = fresh_db("tlog")
    pg.execute(ITEMS_SQL, dbname=db)
    yield Tap(sluice, pg, db, tmp_path)
    drop_slots(pg, db)


def records(messages):
    return [m["record"] for m in messages if m["type"] == "RECORD"]


def states(messages):
    return [m["value"] for m in messages if m["type"] == "STATE"]


def bookmark(state):
    return state["bookmarks"]["public-items"]


def test_initial_copy_then_changes(tap):
    first = tap.sync()
    check_validates(first)
    types = [m["type"] for m in first]
    assert types[:3] == ["SCHEMA", "STATE", "ACTIVATE_VERSION"]
    assert types[-2:] == ["ACTIVATE_VERSION", "STATE"]
    schema = first[0]
    assert schema["schema"]["properties"]["_sdc_deleted_at"] == {
        "type": ["null", "string"], "format": "date-time"}
    assert records(first) == [{"id": 1, "name": "one", "amount": decimal.Decimal("1.5"),
                               "at_tz": "10:00:00", "big": "small",
                               "ts": "2020-01-01T00:00:00+00:00",
                               "d": "2020-01-01T00:00:00+00:00"}]
    s1 = states(first)[-1]
    bm = bookmark(s1)
    assert isinstance(bm["lsn"], int) and bm["lsn"] > 0
    assert bm["xmin"] is None and bm["last_replication_method"] == "LOG_BASED"
    assert s1["currently_syncing"] is None
    version = bm["version"]
    # the slot starts where the copy's snapshot stands
    assert tap.confirmed() == bm["lsn"]

    tap.sql(f"INSERT INTO items VALUES (2, 'two', {MANY_DIGITS}, '10:00:00+05:30', "
            f"'{BIG}', '2021-06-01 12:30:45.5+02', '2021-06-01')")
    tap.sql("UPDATE items SET name = 'one!' WHERE id = 1")
    tap.sql("UPDATE items SET name = 'two!' WHERE id = 2")  # big: unchanged and TOASTed
    tap.sql("BEGIN; INSERT INTO items VALUES (99, 'rolled back'); ROLLBACK")
    tap.sql("DELETE FROM items WHERE id = 1")
    tap.sql("INSERT INTO other VALUES (1, 'not selected')")
    tap.sql("ALTER TABLE items ADD COLUMN extra integer")
    tap.sql("INSERT INTO items (id, name, extra) VALUES (3, 'three', 7)")

    second = tap.sync(s1)
    check_validates(second)
    assert [m["type"] for m in second[:1]] == ["SCHEMA"]
    assert second[0]["bookmark_properties"] == ["lsn"]
    assert all(m["version"] == version for m in second if m["type"] == "RECORD")
    recs = records(second)
    assert [(r["id"], r.get("name")) for r in recs] == [
        (2, "two"), (1, "one!"), (2, "two!"), (1, None), (3, "three")]
    ins, upd1, upd2, dele, new = recs
    assert ins["amount"] == decimal.Decimal(MANY_DIGITS)
    assert str(ins["amount"]) == MANY_DIGITS  # every digit, not a double's
    assert ins["at_tz"] == "04:30:00"
    assert ins["ts"] == "2021-06-01T10:30:45.500000+00:00"
    assert ins["d"] == "2021-06-01T00:00:00+00:00"
    assert ins["big"] == BIG and ins["_sdc_deleted_at"] is None
    assert upd1["_sdc_deleted_at"] is None
    # an unchanged out-of-line value is not in the change: never sent as null
    assert "big" not in upd2 and upd2["amount"] == decimal.Decimal(MANY_DIGITS)
    assert set(dele) == {"id", "_sdc_deleted_at"} and dele["_sdc_deleted_at"].endswith("+00:00")
    # a column added since the catalog was made is synced (pipelinewise re-discovers)
    assert new["extra"] == 7 and "extra" not in ins
    schemas = [m for m in second if m["type"] == "SCHEMA"]
    assert len(schemas) == 1 and "extra" in schemas[0]["schema"]["properties"]
    s2 = states(second)[-1]
    assert bookmark(s2)["lsn"] > bookmark(s1)["lsn"]
    assert bookmark(s2)["version"] == version
    # the slot was told only the state the run was given
    assert tap.confirmed() <= bookmark(s1)["lsn"]

    third = tap.sync(s2)
    assert records(third) == []
    assert bookmark(states(third)[-1])["lsn"] == bookmark(s2)["lsn"]
    assert tap.confirmed() == bookmark(s2)["lsn"]


def test_column_added_mid_stream_sends_a_new_schema(tap):
    """The column is added while the run streams (no end position, no idle stop in reach): the
    change names a column the run's SCHEMA does not have. The test reads until the change's
    RECORD is out, then stops the run itself: nothing depends on how long anything takes (the
    timer only ends a run that would hang the test)."""
    s1 = states(tap.sync())[-1]
    tap.sql("INSERT INTO items (id, name) VALUES (2, 'two')")
    tap.config = write_json(tap.dir / "config.json",
                            dict(json.loads(tap.config.read_text()), break_at_end_lsn=False,
                                 logical_poll_total_seconds=3600))
    with open(tap.dir / "stderr", "w") as err:
        proc = subprocess.Popen([tap.sluice.bin, "tap", *map(str, tap.args(s1))],
                                stdout=subprocess.PIPE, stderr=err, text=True,
                                env=dict(tap.pg.env(), PGPASSFILE="/nonexistent"))
        guard = threading.Timer(600, proc.kill)
        guard.start()
        try:
            messages = []

            def read_until_record(want_id):
                while True:
                    line = proc.stdout.readline()
                    assert line, (tap.dir / "stderr").read_text()
                    messages.append(json.loads(line, parse_float=decimal.Decimal))
                    if messages[-1]["type"] == "RECORD" and \
                            messages[-1]["record"]["id"] == want_id:
                        return

            read_until_record(2)
            tap.sql("ALTER TABLE items ADD COLUMN extra integer")
            tap.sql("INSERT INTO items (id, name, extra) VALUES (3, 'three', 7)")
            read_until_record(3)
        finally:
            proc.kill()
            proc.wait()
            guard.cancel()
    check_validates(messages)
    assert [m["type"] for m in messages][:3] == ["SCHEMA", "RECORD", "SCHEMA"]
    assert "extra" not in messages[0]["schema"]["properties"]
    assert messages[2]["schema"]["properties"]["extra"] == {
        "type": ["null", "integer"], "minimum": -2147483648, "maximum": 2147483647}
    assert [r["id"] for r in records(messages)] == [2, 3]
    assert records(messages)[1]["extra"] == 7


def test_transaction_open_while_the_slot_is_made_arrives_once(tap):
    """The slot waits for transactions running when it is created; one that commits then is
    either in the copy or in the stream, never both, never neither."""
    with tap.pg.connect(tap.db, autocommit=False) as open_tx:
        open_tx.execute("INSERT INTO items (id, name) VALUES (50, 'in flight')")
        with open(tap.dir / "stderr", "w") as err:
            proc = subprocess.Popen([tap.sluice.bin, "tap", *map(str, tap.args(None))],
                                    stdout=subprocess.PIPE, stderr=err, text=True,
                                    env=dict(tap.pg.env(), PGPASSFILE="/nonexistent"))
            while not tap.pg.query("SELECT 1 FROM pg_replication_slots "
                                   f"WHERE slot_name = '{slot_of(tap.db)}'"):
                assert proc.poll() is None, (tap.dir / "stderr").read_text()
            open_tx.commit()
            tap.sql("INSERT INTO items (id, name) VALUES (51, 'after')")
            out = proc.stdout.read()
            assert proc.wait(timeout=120) == 0, (tap.dir / "stderr").read_text()
    first = parse_messages(out)
    second = tap.sync(states(first)[-1])
    ids = [r["id"] for r in records(first)] + [r["id"] for r in records(second)]
    assert sorted(ids) == [1, 50, 51]


def test_max_run_seconds_stops_before_any_change(tap):
    s1 = states(tap.sync())[-1]
    tap.sql("INSERT INTO items (id, name) VALUES (2, 'two')")
    tap.config = write_json(tap.dir / "config.json",
                            dict(json.loads(tap.config.read_text()), max_run_seconds=0,
                                 debug_lsn=True))
    stopped = tap.sync(s1)
    assert records(stopped) == []
    assert bookmark(states(stopped)[-1])["lsn"] == bookmark(s1)["lsn"]
    assert stopped[0]["schema"]["properties"]["_sdc_lsn"] == {"type": ["null", "string"]}
    tap.config = write_json(tap.dir / "config.json",
                            dict(json.loads(tap.config.read_text()), max_run_seconds=60))
    (rec,) = records(tap.sync(s1))
    assert rec["id"] == 2 and int(rec["_sdc_lsn"]) >= bookmark(s1)["lsn"]


def test_table_name_with_wal2json_specials_streams(tap):
    name = "we'ird, t.b*l \\x"
    quoted = '"' + name.replace('"', '""') + '"'
    tap.sql(f"CREATE TABLE {quoted} (id integer PRIMARY KEY)")
    proc = run_tap(tap.sluice, "--config", tap.config, "--discover")
    catalog = json.loads(proc.stdout)
    for s in catalog["streams"]:
        md = next(m["metadata"] for m in s["metadata"] if m["breadcrumb"] == [])
        md.update({"selected": s["table_name"] == name, "replication-method": "LOG_BASED"})
    write_json(tap.catalog, catalog)
    s1 = states(tap.sync())[-1]
    tap.sql(f"INSERT INTO {quoted} VALUES (7)")
    tap.sql("INSERT INTO items (id) VALUES (8)")
    second = tap.sync(s1)
    assert [(m["stream"], m["record"]["id"]) for m in second if m["type"] == "RECORD"] == [
        (f"public-{name}", 7)]


def test_same_state_twice_emits_the_same_changes(tap):
    s1 = states(tap.sync())[-1]
    tap.sql("INSERT INTO items (id, name) VALUES (2, 'two')")
    tap.sql("UPDATE items SET name = 'uno' WHERE id = 1")
    once = records(tap.sync(s1))
    again = records(tap.sync(s1))
    assert [(r["id"], r["name"]) for r in once] == [(2, "two"), (1, "uno")]
    assert once == again


def test_values_with_json_escapes_stream_exactly(tap):
    # wal2json escapes quotes, backslashes and control characters; raw UTF-8 passes through;
    # a numeric is a JSON number whose every digit must survive
    s1 = states(tap.sync())[-1]
    tap.sql("UPDATE items SET name = 'q\"uote \\back\\slash' || chr(10) || 'new' || chr(9) "
            "|| 'tab ' || chr(1) || chr(31) || ' \u00e9 \U0001F600 {\"j\": [1]}', "
            "amount = -12345678901234567890.5e-3 WHERE id = 1")
    (rec,) = records(tap.sync(s1))
    assert rec["name"] == ('q"uote \\back\\slash\nnew\ttab \x01\x1f \u00e9 \U0001F600 '
                           '{"j": [1]}')
    assert rec["amount"] == decimal.Decimal("-12345678901234567.8905")


def test_change_committed_just_before_the_run_is_emitted(tap):
    state = states(tap.sync())[-1]
    for i in range(10, 15):
        tap.sql(f"INSERT INTO items (id, name) VALUES ({i}, 'n{i}')")
        messages = tap.sync(state)
        assert [r["id"] for r in records(messages)] == [i]
        state = states(messages)[-1]


def test_replica_identity_full_keeps_an_unchanged_toasted_value(tap):
    tap.sql("ALTER TABLE items REPLICA IDENTITY FULL")
    tap.sql(f"INSERT INTO items (id, name, big) VALUES (2, 'two', '{BIG}')")
    s1 = states(tap.sync())[-1]
    tap.sql("UPDATE items SET name = 'two!' WHERE id = 2")
    tap.sql("DELETE FROM items WHERE id = 1")
    upd, dele = records(tap.sync(s1))
    assert upd["name"] == "two!" and upd["big"] == BIG
    assert dele["id"] == 1 and dele["name"] == "one" and dele["_sdc_deleted_at"]


def test_resume_after_kill_loses_and_repeats_nothing(tap):
    tap.config = write_json(tap.dir / "config.json",
                            dict(json.loads(tap.config.read_text()), itersize=10))
    s1 = states(tap.sync())[-1]
    with tap.pg.connect(tap.db) as conn:
        for i in range(100, 400):
            conn.execute(f"INSERT INTO items (id, name) VALUES ({i}, 'r{i}')")
    proc = subprocess.Popen([tap.sluice.bin, "tap", *map(str, tap.args(s1))],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=dict(tap.pg.env(), PGPASSFILE="/nonexistent"))
    before, seen, kept = [], [], None
    for line in proc.stdout:
        m = json.loads(line)
        if m["type"] == "RECORD":
            seen.append(m["record"]["id"])
        elif m["type"] == "STATE" and seen:
            kept, before = m["value"], list(seen)
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert kept is not None and bookmark(kept)["lsn"] > bookmark(s1)["lsn"]
    # the killed run's walsender holds the slot until it notices the client is gone
    while tap.pg.query("SELECT active FROM pg_replication_slots "
                       f"WHERE slot_name = '{slot_of(tap.db)}'")[0][0]:
        pass
    after = [r["id"] for r in records(tap.sync(kept))]
    assert sorted(before + after) == list(range(100, 400))


def test_no_create_slot_refuses_a_missing_slot(tap):
    proc = tap.run(None, "--no-create-slot", ok=False)
    assert proc.returncode == 2, proc.stderr
    assert f"replication slot {slot_of(tap.db)} does not exist" in proc.stderr
    assert proc.stdout == ""


def test_existing_slot_initial_copy_uses_a_temporary_slot(tap):
    tap.pg.query(f"SELECT pg_create_logical_replication_slot('{slot_of(tap.db)}', 'wal2json')",
                 dbname=tap.db)
    first = tap.sync(None)
    assert [r["id"] for r in records(first)] == [1]
    s1 = states(first)[-1]
    tap.sql("INSERT INTO items (id, name) VALUES (2, 'two')")
    assert [r["id"] for r in records(tap.sync(s1))] == [2]
    assert tap.pg.query("SELECT count(*) FROM pg_replication_slots WHERE temporary")[0][0] == 0


def test_slot_in_use_is_the_servers_message(tap):
    s1 = states(tap.sync())[-1]
    holder = subprocess.Popen([f"{BINDIR}/pg_recvlogical", "-d", tap.db, "--slot",
                               slot_of(tap.db), "--start", "-f", "/dev/null"],
                              env=tap.pg.env(), stderr=subprocess.PIPE)
    try:
        while not tap.pg.query("SELECT active FROM pg_replication_slots "
                               f"WHERE slot_name = '{slot_of(tap.db)}'")[0][0]:
            assert holder.poll() is None, holder.stderr.read()
        proc = tap.run(s1, ok=False)
    finally:
        holder.terminate()
        holder.wait()
    assert proc.returncode != 0
    assert "is active for PID" in proc.stderr
    assert not [m for m in parse_messages(proc.stdout) if m["type"] == "RECORD"]


PARTS_SQL = r"""
CREATE TABLE events (id integer, region text, v text, PRIMARY KEY (id, region))
    PARTITION BY LIST (region);
CREATE TABLE events_eu PARTITION OF events FOR VALUES IN ('eu');
CREATE TABLE events_am PARTITION OF events FOR VALUES IN ('us', 'ca') PARTITION BY LIST (region);
CREATE TABLE events_us PARTITION OF events_am FOR VALUES IN ('us');
CREATE TABLE events_ca PARTITION OF events_am FOR VALUES IN ('ca');
INSERT INTO events VALUES (1, 'eu', 'a'), (2, 'us', 'b');
CREATE TABLE other (id integer PRIMARY KEY, v text);
"""


@pytest.fixture
def parts_db(pg, fresh_db):
    db = fresh_db("tlogp")
    pg.execute(PARTS_SQL, dbname=db)
    yield db
    drop_slots(pg, db)


@pytest.fixture
def plugin_cfg():
    """The config keys of this module's plugin (wal2json: the default)."""
    return {}


def applied(recs):
    """What a target upserting by key ends with: a delete removes the key, others replace."""
    rows = {}
    for r in recs:
        key = (r["id"], r["region"])
        if r.get("_sdc_deleted_at"):
            rows.pop(key, None)
        else:
            rows[key] = r["v"]
    return rows


def source_events(pg, db):
    return {(i, region): v for i, region, v in pg.query("SELECT id, region, v FROM events",
                                                        dbname=db)}


def test_partitioned_table_streams_its_partitions_changes_under_its_own(
        sluice, pg, parts_db, tmp_path, plugin_cfg):
    tap = Tap(sluice, pg, parts_db, tmp_path, stream="public-events", **plugin_cfg)
    first = tap.sync()
    assert {m["stream"] for m in first if "stream" in m} == {"public-events"}
    assert {(r["id"], r["region"]): r["v"] for r in records(first)} == source_events(pg, parts_db)
    s1 = states(first)[-1]

    tap.sql("INSERT INTO events VALUES (3, 'eu', 'c'), (4, 'ca', 'd')")  # a sub-partition too
    tap.sql("UPDATE events SET region = 'us' WHERE id = 1")  # to another partition
    tap.sql("UPDATE events SET v = 'b!' WHERE id = 2")
    tap.sql("DELETE FROM events WHERE id = 3")
    tap.sql("INSERT INTO other VALUES (1, 'not selected')")
    # partitions made after the stream's start: one created as a partition, one attached
    # from another schema
    tap.sql("CREATE TABLE events_mx PARTITION OF events FOR VALUES IN ('mx')")
    tap.sql("CREATE SCHEMA elsewhere; CREATE TABLE elsewhere.events_jp (LIKE events);"
            "ALTER TABLE events ATTACH PARTITION elsewhere.events_jp FOR VALUES IN ('jp')")
    tap.sql("INSERT INTO events VALUES (5, 'mx', 'e'), (6, 'jp', 'f')")
    tap.sql("UPDATE events SET v = 'f!' WHERE id = 6")

    second = tap.sync(s1)
    check_validates(second)
    assert {m["stream"] for m in second if "stream" in m} == {"public-events"}
    recs = records(second)
    # the move is a delete of the old key and an insert of the new one, in that order
    moved = [(r["id"], r["region"], bool(r["_sdc_deleted_at"])) for r in recs if r["id"] == 1]
    assert moved == [(1, "eu", True), (1, "us", False)]
    assert applied(records(first) + recs) == source_events(pg, parts_db)
    assert applied(recs) == {(4, "ca"): "d", (1, "us"): "a", (2, "us"): "b!", (5, "mx"): "e",
                             (6, "jp"): "f!"}


def test_changes_of_a_relation_dropped_before_they_stream_are_warned_about(
        sluice, pg, parts_db, tmp_path):
    """wal2json names a change by its partition: one dropped since cannot be told to belong to
    the stream any more, and is not skipped silently."""
    tap = Tap(sluice, pg, parts_db, tmp_path, stream="public-events")
    s1 = states(tap.sync())[-1]
    tap.sql("CREATE TABLE events_mx PARTITION OF events FOR VALUES IN ('mx');"
            "INSERT INTO events VALUES (5, 'mx', 'e')")
    tap.sql("DROP TABLE events_mx")
    tap.sql("INSERT INTO events VALUES (6, 'eu', 'f')")
    proc = tap.run(s1)
    assert [r["id"] for r in records(parse_messages(proc.stdout))] == [6]
    assert 'changes of table "public"."events_mx", which no longer exists, are skipped' \
        in proc.stderr


def test_log_based_view_is_refused(sluice, pg, fresh_db, tmp_path):
    db = fresh_db("tlogv")
    pg.execute("CREATE TABLE t (id int PRIMARY KEY); CREATE VIEW v AS SELECT id FROM t",
               dbname=db)
    t = Tap(sluice, pg, db, tmp_path)
    catalog = json.loads(t.catalog.read_text())
    for s in catalog["streams"]:
        md = next(m["metadata"] for m in s["metadata"] if m["breadcrumb"] == [])
        md.update({"selected": s["tap_stream_id"] == "public-v",
                   "replication-method": "LOG_BASED"})
    write_json(t.catalog, catalog)
    proc = t.run(None, ok=False)
    assert proc.returncode == 2
    assert "LOG_BASED replication is not supported for views" in proc.stderr


def test_wal_level_replica_is_refused(sluice_noserver, tmp_path):
    cluster = PgCluster(name="tlogrep", settings={"wal_level": "replica"}).start()
    try:
        cluster.execute(ITEMS_SQL)
        from conftest import Sluice
        t = Tap(Sluice(cluster), cluster, "postgres", tmp_path)
        proc = t.run(None, ok=False)
        assert proc.returncode == 2, proc.stderr
        assert "wal_level to be logical, and it is replica" in proc.stderr
        assert proc.stdout == ""
    finally:
        cluster.destroy()


@pytest.mark.skipif(not server_knows("output_plugin_libraries"),
                    reason="this PostgreSQL build has no output_plugin_libraries")
def test_wal2json_not_allowed_is_the_servers_message(sluice_noserver, tmp_path):
    cluster = PgCluster(name="tlogplug",
                        settings={"output_plugin_libraries": "'pgoutput'"}).start()
    try:
        cluster.execute(ITEMS_SQL)
        from conftest import Sluice
        t = Tap(Sluice(cluster), cluster, "postgres", tmp_path)
        proc = t.run(None, ok=False)
        assert proc.returncode == 5, proc.stderr
        assert "could not create replication slot pipelinewise_postgres" in proc.stderr
        assert "wal2json" in proc.stderr
        assert proc.stdout == ""
    finally:
        cluster.destroy()
