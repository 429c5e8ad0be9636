"""sluice tap: the config keys work_mem, poll_interval, fast_sync, diagnostic_mode and
secondary_catchup_seconds, and the LOG_BASED replication metrics line: each key is read (not
warned about as unknown) and does what it says in the run (secondary_catchup_seconds: in
test_tap_secondary.py)."""
import decimal
import json
import os
import re

import pytest
from tapkit import discover, run_tap, write_json

KEYS_SQL = r"""
CREATE VIEW wm AS SELECT pg_catalog.current_setting('work_mem') AS v;
CREATE TABLE parted (id integer, region text, PRIMARY KEY (region, id)) PARTITION BY LIST (region);
CREATE TABLE parted_eu PARTITION OF parted FOR VALUES IN ('eu');
CREATE TABLE parted_us PARTITION OF parted FOR VALUES IN ('us');
INSERT INTO parted SELECT g, CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END
    FROM generate_series(1, 10) g;
CREATE TABLE plain (id integer PRIMARY KEY, v text);
INSERT INTO plain SELECT g, 'row ' || g FROM generate_series(1, 7) g;
ANALYZE plain;
CREATE TABLE items (id integer PRIMARY KEY, name text);
CREATE TABLE other (id integer PRIMARY KEY, v text);
"""
NEW_KEYS = {"work_mem": "string", "poll_interval": "number", "fast_sync": "boolean",
            "diagnostic_mode": "boolean", "secondary_catchup_seconds": "number"}


def config(tmp_path, pg, dbname, **over):
    cfg = {"host": pg.host, "port": pg.port, "user": pg.user, "password": pg.password,
           "dbname": dbname, "logical_poll_total_seconds": 120}
    cfg.update(over)
    return write_json(tmp_path / "config.json", cfg)


def select(catalog, *selections):
    """selections: (tap_stream_id, replication method) pairs."""
    wanted = dict(selections)
    for stream in catalog["streams"]:
        if stream["tap_stream_id"] in wanted:
            md = next(m["metadata"] for m in stream["metadata"] if m["breadcrumb"] == [])
            md.update({"selected": True,
                       "replication-method": wanted.pop(stream["tap_stream_id"])})
    assert not wanted, f"not in the catalog: {wanted}"
    return catalog


def sync(sluice, tmp_path, cfg, catalog, state=None, run=0):
    args = ["--config", cfg, "--catalog", write_json(tmp_path / f"catalog{run}.json", catalog)]
    if state is not None:
        args += ["--state", write_json(tmp_path / f"state{run}.json", state)]
    proc = run_tap(sluice, *args)
    assert proc.returncode == 0, proc.stderr
    messages = [json.loads(line, parse_float=decimal.Decimal)
                for line in proc.stdout.splitlines()]
    return messages, proc.stderr


def records(messages, stream):
    return [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == stream]


def states(messages):
    return [m["value"] for m in messages if m["type"] == "STATE"]


@pytest.fixture(scope="module")
def keysdb(pg):
    name = f"tapkeys_{os.getpid()}"
    pg.create_db(name)
    pg.execute(KEYS_SQL, dbname=name)
    yield name
    pg.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
               f"WHERE database = '{name}'")
    pg.drop_db(name)


def test_about_lists_the_keys_and_a_config_with_them_warns_of_nothing(sluice, pg, keysdb,
                                                                      tmp_path):
    proc = run_tap(sluice, "--about", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    props = json.loads(proc.stdout)["settings"]["properties"]
    for key, kind in NEW_KEYS.items():
        assert props[key]["type"] == kind and props[key]["description"]
    cfg = config(tmp_path, pg, keysdb, work_mem="8MB", poll_interval="2.5", fast_sync=True,
                 diagnostic_mode="false", secondary_catchup_seconds=30)
    proc = run_tap(sluice, "--config", cfg, "--discover")
    assert proc.returncode == 0, proc.stderr
    assert "unknown key" not in proc.stderr


def test_work_mem_is_the_sessions(sluice, pg, keysdb, tmp_path):
    assert pg.query("SELECT current_setting('work_mem')", dbname=keysdb)[0][0] != "64MB"
    cfg = config(tmp_path, pg, keysdb, work_mem="64MB")
    catalog = select(discover(sluice, cfg), ("public-wm", "FULL_TABLE"))
    messages, _ = sync(sluice, tmp_path, cfg, catalog)
    assert records(messages, "public-wm") == [{"v": "64MB"}]


def test_work_mem_the_server_refuses_is_its_message(sluice, pg, keysdb, tmp_path):
    cfg = config(tmp_path, pg, keysdb, work_mem="lots")
    proc = run_tap(sluice, "--config", cfg, "--discover")
    assert proc.returncode != 0
    assert "work_mem" in proc.stderr and pg.password not in proc.stderr


@pytest.mark.parametrize("bad", [-1, 0, "soon", "-5", True, [5]])
def test_poll_interval_bad_value_is_a_usage_error_naming_it(sluice, pg, keysdb, tmp_path, bad):
    cfg = config(tmp_path, pg, keysdb, poll_interval=bad)
    proc = run_tap(sluice, "--config", cfg, "--discover")
    assert proc.returncode == 2
    assert '"poll_interval" must be' in proc.stderr


@pytest.mark.parametrize("bad", [-1, 86401, "soon", True])
def test_secondary_catchup_seconds_bad_value_is_a_usage_error_naming_it(sluice, pg, keysdb,
                                                                        tmp_path, bad):
    cfg = config(tmp_path, pg, keysdb, secondary_catchup_seconds=bad)
    proc = run_tap(sluice, "--config", cfg, "--discover")
    assert proc.returncode == 2
    assert '"secondary_catchup_seconds"' in proc.stderr


def xmin_bookmarks(messages, stream):
    return [s["bookmarks"][stream].get("xmin") for s in states(messages)
            if stream in s.get("bookmarks", {})]


def test_fast_sync_reads_a_partitioned_table_without_xmin_bookmarks(sluice, pg, keysdb,
                                                                    tmp_path):
    # without fast_sync: sorted by xmin, and the STATEs between rows carry it
    cfg = config(tmp_path, pg, keysdb, itersize=3)
    catalog = select(discover(sluice, cfg), ("public-parted", "FULL_TABLE"))
    messages, _ = sync(sluice, tmp_path, cfg, catalog, run=1)
    assert any(isinstance(x, int) for x in xmin_bookmarks(messages, "public-parted"))

    cfg = config(tmp_path, pg, keysdb, itersize=3, fast_sync=True)
    messages, stderr = sync(sluice, tmp_path, cfg, catalog, run=2)
    assert sorted(r["id"] for r in records(messages, "public-parted")) == list(range(1, 11))
    assert all(x is None for x in xmin_bookmarks(messages, "public-parted"))
    assert len(states(messages)) >= 4  # STATEs every itersize rows still go out
    kinds = [m["type"] for m in messages if m.get("stream") == "public-parted"]
    assert kinds[-1] == "ACTIVATE_VERSION"


def test_diagnostic_mode_logs_server_settings_and_stream_sizes(sluice, pg, keysdb, tmp_path):
    cfg = config(tmp_path, pg, keysdb, work_mem="12MB")
    catalog = select(discover(sluice, cfg), ("public-plain", "FULL_TABLE"),
                     ("public-parted", "FULL_TABLE"))
    _, quiet = sync(sluice, tmp_path, cfg, catalog, run=1)
    assert "diagnostic" not in quiet
    assert re.search(r'stream "public-plain": 7 rows in [0-9.]+ s \([0-9]+ rows/s\)', quiet)

    cfg = config(tmp_path, pg, keysdb, work_mem="12MB", diagnostic_mode=True)
    _, stderr = sync(sluice, tmp_path, cfg, catalog, run=2)
    version = pg.query("SHOW server_version")[0][0]
    server = re.search(r"diagnostic: server version (.+), work_mem (\S+), shared_buffers (\S+),"
                       r" effective_cache_size (\S+)", stderr)
    assert server, stderr
    assert server.group(1) == version and server.group(2) == "12MB"
    assert server.group(3) == pg.query("SHOW shared_buffers")[0][0]
    assert re.search(r'diagnostic: stream "public-plain": size \d+ kB, estimated rows 7\n',
                     stderr), stderr
    # a partitioned table: the sum of its partitions, none analyzed
    assert re.search(r'diagnostic: stream "public-parted": size \d+ kB, estimated rows '
                     r'unknown', stderr), stderr
    # the per-stream summary stays
    assert re.search(r'stream "public-plain": 7 rows in [0-9.]+ s \([0-9]+ rows/s\)', stderr)
    assert pg.password not in stderr


def test_log_based_final_metrics_line_counts_per_stream(sluice, pg, keysdb, tmp_path):
    cfg = config(tmp_path, pg, keysdb, poll_interval=1, work_mem="16MB")  # walsender too
    catalog = select(discover(sluice, cfg), ("public-items", "LOG_BASED"),
                     ("public-other", "LOG_BASED"))
    first, _ = sync(sluice, tmp_path, cfg, catalog, run=1)
    pg.execute("INSERT INTO items SELECT g, 'n' FROM generate_series(1, 3) g;"
               " INSERT INTO other VALUES (1, 'a'), (2, 'b');"
               " UPDATE items SET name = 'm' WHERE id = 1; DELETE FROM other WHERE id = 2",
               dbname=keysdb)
    second, stderr = sync(sluice, tmp_path, cfg, catalog, state=states(first)[-1], run=2)
    assert len(records(second, "public-items")) == 4
    assert len(records(second, "public-other")) == 3
    done = re.findall(r"LOG_BASED done: .*", stderr)
    assert len(done) == 1, stderr
    assert re.fullmatch(r'LOG_BASED done: 7 messages in [0-9.]+ s, [0-9.]+ msg/s; '
                        r'stream "public-(items|other)": \d messages, [0-9.]+ msg/s; '
                        r'stream "public-(items|other)": \d messages, [0-9.]+ msg/s', done[0])
    counts = dict(re.findall(r'stream "(public-\w+)": (\d) messages', done[0]))
    assert counts == {"public-items": "4", "public-other": "3"}
    # no "so far" line: the run is far shorter than the interval
    assert "LOG_BASED so far" not in stderr
