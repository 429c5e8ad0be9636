"""pg/replication.h against a real server with wal2json, through tests/drivers/repl_driver:
a slot's exported snapshot, the stream of changes, the confirmed position that advances only as
far as the consumer confirms, and names that must not change the replication command."""
import json
import os
import subprocess

import pytest

from tapkit import drop_slots

DRIVER = os.path.join(os.path.dirname(os.environ.get("SLUICE_BIN") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "build",
    "sluice")), "repl_driver")
V2 = ["format-version", "2"]


def driver(pg, *args, timeout=60):
    return subprocess.run([DRIVER, *map(str, args)], env=pg.env(), capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def db(pg, fresh_db):
    name = fresh_db("repl")
    pg.execute("CREATE TABLE t (id int PRIMARY KEY, v text)", dbname=name)
    slots = []
    yield name, slots
    drop_slots(pg, name)


def create_slot(pg, db, slots, name):
    """Creates the slot with the driver; returns (consistent LSN, snapshot, the driver process
    that keeps the snapshot alive until its stdin is closed)."""
    proc = subprocess.Popen([DRIVER, db, "create", name, "wal2json"], env=pg.env(),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline().split()
    assert len(line) == 2, proc.stderr.read()
    slots.append(name)
    return line[0], line[1], proc


def changes(out):
    """(lsn, wal2json v2 message) per line of the driver's stream output."""
    rows = []
    for line in out.split("\n")[:-1]:  # not splitlines(): a value may hold U+2028
        lsn, data = line.split("\t", 1)
        rows.append((lsn, json.loads(data)))
    return rows


def lsn_value(text):
    hi, lo = text.split("/")
    return int(hi, 16) << 32 | int(lo, 16)


def test_snapshot_shows_the_rows_the_stream_will_not_repeat(pg, db):
    name, slots = db
    pg.execute("INSERT INTO t VALUES (1, 'before')", dbname=name)
    lsn, snapshot, keeper = create_slot(pg, name, slots, "sl_snap")
    assert lsn_value(lsn) > 0 and snapshot != "-"
    pg.execute("INSERT INTO t VALUES (2, 'after')", dbname=name)
    with pg.connect(name, autocommit=False) as c:
        c.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        c.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
        assert c.execute("SELECT array_agg(id ORDER BY id) FROM t").fetchone()[0] == [1]
    keeper.stdin.close()
    assert keeper.wait(timeout=30) == 0
    out = driver(pg, name, "stream", "sl_snap", 3, 0, *V2)
    assert out.returncode == 0, out.stderr
    got = changes(out.stdout)
    assert [m["action"] for _, m in got] == ["B", "I", "C"]
    assert got[1][1]["columns"][1]["value"] == "after"


def test_rolled_back_transaction_sends_nothing_and_hostile_text_arrives_whole(pg, db):
    name, slots = db
    create_slot(pg, name, slots, "sl_rollback")[2].stdin.close()
    with pg.connect(name, autocommit=False) as c:
        c.execute("INSERT INTO t VALUES (10, 'never')")
        c.rollback()
    hostile = "tab\there\nnewline \\ back'quote\" dq é \u2028"
    with pg.connect(name, autocommit=False) as c:
        c.execute("INSERT INTO t VALUES (11, %s)", (hostile,))
        c.commit()
    out = driver(pg, name, "stream", "sl_rollback", 3, 0, *V2)
    assert out.returncode == 0, out.stderr
    got = changes(out.stdout)
    assert [m["action"] for _, m in got] == ["B", "I", "C"]
    assert [c["value"] for c in got[1][1]["columns"]] == [11, hostile]


def test_confirmed_position_is_only_what_the_consumer_confirmed(pg, db):
    name, slots = db
    create_slot(pg, name, slots, "sl_confirm")[2].stdin.close()
    for i in (1, 2):
        pg.execute(f"INSERT INTO t VALUES ({i}, 'tx{i}')", dbname=name)
    # Read both transactions (6 messages) but confirm only the start of the second one's
    # BEGIN: the first transaction is done, the second must come again.
    out = driver(pg, name, "stream", "sl_confirm", 6, 4, *V2)
    assert out.returncode == 0, out.stderr
    got = changes(out.stdout)
    assert [m["action"] for _, m in got] == ["B", "I", "C", "B", "I", "C"]
    confirmed = got[3][0]
    slot = driver(pg, name, "slot", "sl_confirm").stdout.split()
    assert slot[:3] == ["exists", "wal2json", "idle"]
    assert lsn_value(slot[3]) <= lsn_value(confirmed)
    again = driver(pg, name, "stream", "sl_confirm", 3, 0, *V2)
    assert again.returncode == 0, again.stderr
    replay = changes(again.stdout)
    assert [m["action"] for _, m in replay] == ["B", "I", "C"]
    assert replay[1][1]["columns"][1]["value"] == "tx2"


def test_reading_without_confirming_keeps_every_change(pg, db):
    name, slots = db
    create_slot(pg, name, slots, "sl_keep")[2].stdin.close()
    pg.execute("INSERT INTO t VALUES (5, 'kept')", dbname=name)
    first = driver(pg, name, "stream", "sl_keep", 3, 0, *V2)
    second = driver(pg, name, "stream", "sl_keep", 3, 0, *V2)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert changes(first.stdout) == changes(second.stdout)


def test_names_are_refused_or_quoted(pg, db):
    name, slots = db
    bad = driver(pg, name, "slot", "x'; DROP TABLE t; --")
    assert bad.returncode == 1
    assert "replication slot name" in bad.stderr and "lower-case" in bad.stderr
    create = driver(pg, name, "create", "sl_Upper", "wal2json")
    assert create.returncode == 1 and "sl_Upper" in create.stderr
    plugin = subprocess.run([DRIVER, name, "create", "sl_plugin", "wal2json\"; x"],
                            env=pg.env(), capture_output=True, text=True, timeout=60)
    assert plugin.returncode == 1 and "plugin name" in plugin.stderr
    # An option value with quotes reaches wal2json as text: it names no table, so the
    # insert is filtered out and only BEGIN/COMMIT come.
    create_slot(pg, name, slots, "sl_opts")[2].stdin.close()
    pg.execute("INSERT INTO t VALUES (7, 'x')", dbname=name)
    out = driver(pg, name, "stream", "sl_opts", 2, 0, *V2, "add-tables", "public.it's\"")
    assert out.returncode == 0, out.stderr
    assert [m["action"] for _, m in changes(out.stdout)] == ["B", "C"]
    assert pg.query("SELECT count(*) FROM t", dbname=name)[0][0] == 1


def test_a_slot_in_use_is_refused_by_the_server(pg, db):
    name, slots = db
    create_slot(pg, name, slots, "sl_busy")[2].stdin.close()
    holder = subprocess.Popen([DRIVER, name, "stream", "sl_busy", "1"], env=pg.env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # wait until the server shows the slot active, by its own catalog (no sleep)
        for _ in range(600):
            if pg.query("SELECT active FROM pg_replication_slots WHERE slot_name = "
                        "'sl_busy'")[0][0]:
                break
            subprocess.run(["sleep", "0.05"])
        second = driver(pg, name, "stream", "sl_busy", 1)
        assert second.returncode == 1
        assert "sl_busy" in second.stderr and "active" in second.stderr, second.stderr
    finally:
        pg.execute("INSERT INTO t VALUES (99, 'release')", dbname=name)
        holder.wait(timeout=60)
