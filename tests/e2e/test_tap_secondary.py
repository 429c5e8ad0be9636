"""sluice tap --catalog with use_secondary, against a real hot standby (PgCluster.standby()):
FULL_TABLE and INCREMENTAL read the replica; LOG_BASED makes its slot on the primary, copies
from the replica once it has replayed past the slot's position, then streams from the
primary's slot. A replica whose replay is paused is what proves which server a run read:
rows the primary has and the replica has not yet applied."""
import json
import subprocess
import time

import pytest

from conftest import Sluice
from pgcluster import PgCluster
from tapkit import check_validates, drop_slots, parse_messages, run_tap, write_json
from test_tap_logical import Tap, records, slot_of, states


@pytest.fixture(scope="module")
def primary():
    cluster = PgCluster(name="tapsec")
    try:
        yield cluster.start()
    finally:
        cluster.destroy()


@pytest.fixture(scope="module")
def replica(primary):
    standby = primary.standby(name="tapsec-standby")
    try:
        yield standby
    finally:
        standby.destroy()


_dbs = iter(range(1000))


@pytest.fixture
def db(primary, replica):
    name = primary.create_db(f"tsec_{next(_dbs)}")
    primary.execute("CREATE TABLE items (id integer PRIMARY KEY, name text);"
                    "INSERT INTO items VALUES (1, 'one')", dbname=name)
    replica.wait_replayed()
    yield name
    replica.resume_replay()
    drop_slots(primary, name)
    primary.drop_db(name)


def secondary_tap(primary, replica, db, tmp_path, method, **cfg):
    """A tap of db with use_secondary, its items stream selected with this method."""
    tap = Tap(Sluice(primary), primary, db, tmp_path, use_secondary=True,
              secondary_host=replica.host, secondary_port=replica.port, **cfg)
    catalog = json.loads(tap.catalog.read_text())
    for s in catalog["streams"]:
        md = next(m["metadata"] for m in s["metadata"] if m["breadcrumb"] == [])
        if s["tap_stream_id"] == "public-items":
            md["replication-method"] = method
            if method == "INCREMENTAL":
                md["replication-key"] = "id"
    write_json(tap.catalog, catalog)
    return tap


def ids(messages):
    return sorted(r["id"] for r in records(messages))


@pytest.mark.parametrize("method", ["FULL_TABLE", "INCREMENTAL"])
def test_use_secondary_reads_the_replica(primary, replica, db, tmp_path, method):
    tap = secondary_tap(primary, replica, db, tmp_path, method)
    replica.pause_replay()
    tap.sql("INSERT INTO items VALUES (2, 'two')")  # on the primary only, for now
    proc = tap.run(None)
    assert ids(parse_messages(proc.stdout)) == [1]
    assert f"(the secondary, 127.0.0.1:{replica.port} " in proc.stderr
    replica.resume_replay()
    replica.wait_replayed()
    assert ids(parse_messages(tap.run(None).stdout)) == [1, 2]


def test_use_secondary_stopped_fails_naming_the_secondary(primary, db, tmp_path):
    down = primary.standby(name="tapsec-down")
    try:
        down.stop()
        tap = Tap(Sluice(primary), primary, db, tmp_path, use_secondary=True,
                  secondary_host=down.host, secondary_port=down.port)
        proc = tap.run(None, ok=False)
    finally:
        down.destroy()
    assert proc.returncode != 0
    assert "use_secondary: the secondary (secondary_host, secondary_port): could not connect " \
           f"to 127.0.0.1:{down.port}" in proc.stderr
    assert proc.stdout == ""


def slot_exists(primary, db):
    return primary.query("SELECT count(*) FROM pg_replication_slots WHERE slot_name = "
                         f"'{slot_of(db)}'")[0][0] == 1


@pytest.mark.parametrize("plugin", ["wal2json", "pgoutput"])
def test_log_based_copies_from_the_replica_once_it_has_replayed_the_slots_position(
        primary, replica, db, tmp_path, plugin):
    tap = secondary_tap(primary, replica, db, tmp_path, "LOG_BASED",
                        logical_decoding_plugin=plugin)
    replica.pause_replay()
    tap.sql("INSERT INTO items VALUES (2, 'two')")  # before the slot: the copy must have it
    run = subprocess.Popen([tap.sluice.bin, "tap", *map(str, tap.args(None))],
                           env=dict(primary.env(), PGPASSFILE="/nonexistent"),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not slot_exists(primary, db):
            assert run.poll() is None, run.stderr.read()
            assert time.monotonic() < deadline, "the run made no slot"
            time.sleep(0.05)
        # while the run waits for the replica: after the slot, or in the copy, never lost
        tap.sql("INSERT INTO items VALUES (3, 'three')")
        tap.sql("UPDATE items SET name = 'uno' WHERE id = 1")
        replica.resume_replay()
        out, err = run.communicate(timeout=300)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 0, err
    assert "waiting for secondary" in err
    first = parse_messages(out)
    check_validates(first)
    assert {1, 2} <= set(ids(first))
    s1 = states(first)[-1]
    # the slot lives on the primary, at the copy's position
    assert tap.confirmed() == s1["bookmarks"]["public-items"]["lsn"]

    tap.sql("DELETE FROM items WHERE id = 2")
    second = tap.sync(s1)
    check_validates(second)
    rows = {}
    for r in records(first) + records(second):
        if r.get("_sdc_deleted_at"):
            rows.pop(r["id"], None)
        else:
            rows[r["id"]] = r["name"]
    assert rows == dict(primary.query("SELECT id, name FROM items", dbname=db))
    assert rows == {1: "uno", 3: "three"}


def test_log_based_replica_that_does_not_catch_up_is_an_error(primary, replica, db, tmp_path):
    tap = secondary_tap(primary, replica, db, tmp_path, "LOG_BASED",
                        secondary_catchup_seconds=1)
    replica.pause_replay()
    tap.sql("INSERT INTO items VALUES (2, 'two')")
    proc = run_tap(tap.sluice, *tap.args(None))
    assert proc.returncode != 0
    assert "secondary" in proc.stderr and "secondary_catchup_seconds" in proc.stderr
    assert str(replica.port) in proc.stderr
    assert not records(parse_messages(proc.stdout))


def test_log_based_secondary_that_is_no_standby_is_refused(primary, db, tmp_path):
    """A secondary out of recovery has no replay position to wait for: it is no replica."""
    tap = Tap(Sluice(primary), primary, db, tmp_path, use_secondary=True,
              secondary_host=primary.host, secondary_port=primary.port)
    proc = tap.run(None, ok=False)
    assert proc.returncode == 2, proc.stderr
    assert f"secondary 127.0.0.1:{primary.port} " in proc.stderr
    assert "is not a standby (pg_is_in_recovery() is false)" in proc.stderr
    assert not records(parse_messages(proc.stdout))
    assert not slot_exists(primary, db)  # refused before any slot is made
