"""sluice tap --catalog: FULL_TABLE and INCREMENTAL sync, the Singer messages and the state.

What is expected is pipelinewise-tap-postgres's behaviour (tap_postgres/__init__.py do_sync,
sync_traditional_stream, sync_method_for_streams; sync_strategies/full_table.py sync_table and
sync_view; incremental.py sync_table; common.py send_schema_message) and singer-python's message
shapes, not sluice's output: the message order of a stream, the bookmark keys, the stream name
"<schema>-<table>", the version kept across a resumed full table, ACTIVATE_VERSION only on a
full table's first run (and always at its end), the replication key's value in the state.
"""
import decimal
import json
import os
import signal
import subprocess

import pytest
from tapkit import check_validates, config, discover, parse_messages, run_tap, write_json

TABLES_SQL = r"""
CREATE TABLE ints (id integer PRIMARY KEY, small smallint, big bigint, skipped integer);
INSERT INTO ints VALUES (1, 1, 1, 0), (2, -32768, -9223372036854775808, 0),
    (3, 32767, 9223372036854775807, 0), (4, NULL, NULL, NULL);
CREATE TABLE texts (id integer PRIMARY KEY, body text, label varchar(40), code char(3));
INSERT INTO texts VALUES
    (1, 'it''s "quoted"', 'tab	here', 'a'),
    (2, E'line one\nline two\r\nend', E'back\\slash', 'bc'),
    (3, E'nul-free \\N literal \\\\N', 'non-ASCII: é ß 日本 🎉', NULL),
    (4, NULL, '', '   '),
    (5, E'\x01\x1f control', E'\\', 'xyz');
CREATE TABLE "we""ird tab le" ("col""quote" integer PRIMARY KEY, "col with space" text);
INSERT INTO "we""ird tab le" VALUES (1, 'one'), (2, NULL);
CREATE TABLE parted (id integer, region text, PRIMARY KEY (region, id)) PARTITION BY LIST (region);
CREATE TABLE parted_eu PARTITION OF parted FOR VALUES IN ('eu');
CREATE TABLE parted_us PARTITION OF parted FOR VALUES IN ('us');
INSERT INTO parted VALUES (1, 'eu'), (2, 'us'), (3, 'eu');
CREATE TABLE with_interval (id integer PRIMARY KEY, span interval);
INSERT INTO with_interval VALUES (1, '1 day');
CREATE VIEW texts_view AS SELECT id, body FROM texts;
"""

HOSTILE = 'we"ird tab le'


def stream_md(stream):
    return next(m["metadata"] for m in stream["metadata"] if m["breadcrumb"] == [])


def column_md(stream, column):
    return next(m["metadata"] for m in stream["metadata"]
                if m["breadcrumb"] == ["properties", column])


def select(catalog, tap_stream_id, method, **extra):
    for stream in catalog["streams"]:
        if stream["tap_stream_id"] == tap_stream_id:
            stream_md(stream).update({"selected": True, "replication-method": method}, **extra)
            return stream
    raise AssertionError(f"no stream {tap_stream_id} in the catalog")


def sync(sluice, tmp_path, cfg, catalog, state=None, name="catalog.json"):
    cat = write_json(tmp_path / name, catalog)
    args = ["--config", cfg, "--catalog", cat]
    if state is not None:
        args += ["--state", write_json(tmp_path / "state.json", state)]
    proc = run_tap(sluice, *args)
    assert proc.returncode == 0, proc.stderr
    return parse_messages(proc.stdout), proc.stderr


def records(messages, stream):
    return [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == stream]


def last_state(messages):
    return [m for m in messages if m["type"] == "STATE"][-1]["value"]


def check_stream_shape(messages, stream, first_run=True):
    """One FULL_TABLE stream's messages: SCHEMA, STATE, ACTIVATE_VERSION (first run), RECORDs
    and STATEs, ACTIVATE_VERSION, STATE with currently_syncing null."""
    mine = [m for m in messages if m.get("stream") == stream or m["type"] == "STATE"]
    start = next(i for i, m in enumerate(mine) if m.get("stream") == stream)
    end = max(i for i, m in enumerate(mine) if m.get("stream") == stream)
    part = mine[start:end + 2]
    types = [m["type"] for m in part]
    assert types[0] == "SCHEMA"
    assert types[1] == "STATE" and part[1]["value"]["currently_syncing"] is not None
    body = types[2:-2]
    if first_run:
        assert body[0] == "ACTIVATE_VERSION"
        body = body[1:]
    assert set(body) <= {"RECORD", "STATE"}
    assert types[-2] == "ACTIVATE_VERSION" and types[-1] == "STATE"
    assert part[-1]["value"]["currently_syncing"] is None
    for m in part:
        if m["type"] in ("RECORD", "ACTIVATE_VERSION"):
            assert m["version"] == part[-2]["version"]


@pytest.fixture(scope="module")
def syncdb(pg):
    name = f"tapsync_{os.getpid()}"
    pg.create_db(name)
    pg.execute(TABLES_SQL, dbname=name)
    yield name
    pg.drop_db(name)


def test_full_table_messages_values_and_state(sluice, pg, syncdb, tmp_path):
    cfg = config(tmp_path, pg, syncdb, itersize=2)
    catalog = discover(sluice, cfg)
    for sid in ("public-ints", "public-texts", f"public-{HOSTILE}", "public-parted",
                "public-texts_view", "public-with_interval"):
        select(catalog, sid, "FULL_TABLE")
    ints = next(s for s in catalog["streams"] if s["tap_stream_id"] == "public-ints")
    column_md(ints, "skipped")["selected"] = False
    messages, _ = sync(sluice, tmp_path, cfg, catalog)
    check_validates(messages)

    # streams in tap_stream_id order, each complete before the next starts
    order = [m["stream"] for m in messages if m["type"] == "SCHEMA"]
    assert order == sorted(order) == sorted(["public-ints", "public-texts", f"public-{HOSTILE}",
                                              "public-parted", "public-texts_view",
                                              "public-with_interval"])
    for stream in order:
        check_stream_shape(messages, stream)

    schema = {m["stream"]: m for m in messages if m["type"] == "SCHEMA"}
    assert list(schema["public-ints"]["schema"]["properties"]) == ["big", "id", "small"]
    assert schema["public-ints"]["key_properties"] == ["id"]
    assert schema["public-ints"]["bookmark_properties"] == []
    assert schema["public-parted"]["key_properties"] == ["id", "region"]  # column order
    assert schema["public-texts_view"]["key_properties"] == []
    # an unsupported type is never synced
    assert list(schema["public-with_interval"]["schema"]["properties"]) == ["id"]

    rows = pg.query("SELECT id, small, big FROM ints ORDER BY id", dbname=syncdb)
    got = sorted(records(messages, "public-ints"), key=lambda r: r["id"])
    assert got == [{"id": i, "small": s, "big": b} for i, s, b in rows]

    rows = pg.query("SELECT id, body, label, code FROM texts ORDER BY id", dbname=syncdb)
    got = sorted(records(messages, "public-texts"), key=lambda r: r["id"])
    assert got == [{"id": i, "body": b, "label": lab, "code": c} for i, b, lab, c in rows]
    view = sorted(records(messages, "public-texts_view"), key=lambda r: r["id"])
    assert view == [{"id": i, "body": b} for i, b, _, _ in rows]

    got = sorted(records(messages, f"public-{HOSTILE}"), key=lambda r: r['col"quote'])
    assert got == [{'col"quote': 1, "col with space": "one"},
                   {'col"quote': 2, "col with space": None}]
    assert sorted(r["id"] for r in records(messages, "public-parted")) == [1, 2, 3]

    # pipelinewise's final bookmarks: the method, the version, the cleared xmin
    state = last_state(messages)
    assert state["currently_syncing"] is None
    for stream in order:
        bookmark = state["bookmarks"][stream]
        assert bookmark["last_replication_method"] == "FULL_TABLE"
        assert isinstance(bookmark["version"], int)
        if stream != "public-texts_view":
            assert "xmin" in bookmark and bookmark["xmin"] is None
        else:
            assert "xmin" not in bookmark
    # time_extracted as singer-python writes it
    rec = next(m for m in messages if m["type"] == "RECORD")
    assert len(rec["time_extracted"]) == 27 and rec["time_extracted"].endswith("Z")


def tid(text):
    """(page, item) of a ctid's text."""
    page, item = text.strip("()").split(",")
    return int(page), int(item)


def test_full_table_state_follows_its_records(sluice, pg, fresh_db, tmp_path):
    """A plain table is read in its physical order, unsorted: each STATE carries the position of
    the last RECORD sent before it and the horizon of the snapshot it was read in; the next run
    with the final state starts a new version (the table was complete)."""
    db = fresh_db("tapstate")
    pg.execute("CREATE TABLE t (id integer PRIMARY KEY, v text)", dbname=db)
    for start in range(0, 60, 10):
        pg.execute(f"INSERT INTO t SELECT g, 'v' || g FROM generate_series({start + 1}, "
                   f"{start + 10}) g", dbname=db)
    pg.execute("UPDATE t SET v = 'moved' WHERE id IN (3, 4)", dbname=db)  # now at the end
    ctids = {i: tid(c) for i, c in pg.query("SELECT id, ctid::text FROM t", dbname=db)}
    cfg = config(tmp_path, pg, db, itersize=7)
    catalog = discover(sluice, cfg)
    select(catalog, "public-t", "FULL_TABLE")
    messages, _ = sync(sluice, tmp_path, cfg, catalog)
    ids, seen_states = [], 0
    for m in messages:
        if m["type"] == "RECORD":
            ids.append(m["record"]["id"])
        elif m["type"] == "STATE" and m["value"]["bookmarks"]["public-t"].get("sluice_ctid"):
            bookmark = m["value"]["bookmarks"]["public-t"]
            assert tid(bookmark["sluice_ctid"]) == ctids[ids[-1]]
            assert isinstance(bookmark["sluice_snapshot_xmin"], int)
            seen_states += 1
    assert ids == sorted(ids, key=ctids.get) and ids[-2:] == [3, 4]
    assert seen_states == 60 // 7
    final = last_state(messages)["bookmarks"]["public-t"]
    assert final["sluice_ctid"] is None and final["xmin"] is None

    again, _ = sync(sluice, tmp_path, cfg, catalog, state=last_state(messages))
    check_stream_shape(again, "public-t", first_run=False)
    assert len(records(again, "public-t")) == 60
    assert [m for m in again if m["type"] == "ACTIVATE_VERSION"][0]["version"] != \
        final["version"]


def kill_after_states(sluice, pg, cfg, cat, stream, n, key):
    """Runs the tap and kills it (SIGKILL) once n STATE messages carrying key came out;
    returns the messages read."""
    env = pg.env()
    env["PGPASSFILE"] = "/nonexistent"
    proc = subprocess.Popen([sluice.bin, "tap", "--config", str(cfg), "--catalog", str(cat)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    first, states = [], 0
    try:
        for line in proc.stdout:
            msg = json.loads(line)
            first.append(msg)
            if msg["type"] == "STATE" and msg["value"]["bookmarks"][stream].get(key):
                states += 1
                if states == n:
                    proc.send_signal(signal.SIGKILL)
                    break
    finally:
        proc.stdout.close()
        proc.wait()
    assert states == n, f"the run ended before {n} STATE messages"
    return first


def test_full_table_resumes_after_kill(sluice, pg, fresh_db, tmp_path):
    """Killed midway, changed, resumed from the last STATE: every row comes with its latest
    value, also one updated into a page before the bookmark (found by its new xmin)."""
    db = fresh_db("tapkill")
    pg.execute("CREATE TABLE big (id integer PRIMARY KEY, pad text) WITH (autovacuum_enabled = "
               "off)", dbname=db)
    pg.execute("INSERT INTO big SELECT g, repeat('x', 50) FROM generate_series(1, 6000) g",
               dbname=db)
    cfg = config(tmp_path, pg, db, itersize=150)
    catalog = discover(sluice, cfg)
    select(catalog, "public-big", "FULL_TABLE")
    cat = write_json(tmp_path / "catalog.json", catalog)
    first = kill_after_states(sluice, pg, cfg, cat, "public-big", 12, "sluice_ctid")
    state = last_state(first)
    assert state["currently_syncing"] == "public-big"
    bookmark = state["bookmarks"]["public-big"]
    version = bookmark["version"]
    sent = {r["id"] for r in records(first, "public-big")}
    # The killed run's server session may still hold its snapshot (it notices the client is
    # gone when it next writes): VACUUM frees nothing while it does. Wait for it to end.
    while pg.query(f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{db}' "
                   "AND pid <> pg_backend_pid()")[0][0]:
        pass
    # Free room in the first pages (rows already sent), then update a row not sent yet to a
    # value too large for its own page: its new version lands in that room, before the
    # bookmark, where a position alone would miss it.
    pg.execute("DELETE FROM big WHERE id <= 100", dbname=db)
    pg.execute("VACUUM big", dbname=db)
    pg.execute("UPDATE big SET pad = repeat('c', 1500) WHERE id = 5990", dbname=db)
    pg.execute("INSERT INTO big VALUES (7000, 'new')", dbname=db)
    (moved,) = pg.query("SELECT ctid::text FROM big WHERE id = 5990", dbname=db)[0]
    assert tid(moved) < tid(bookmark["sluice_ctid"]), "the update did not land before it"

    second, stderr = sync(sluice, tmp_path, cfg, catalog, state=state)
    assert "resuming" in stderr
    check_stream_shape(second, "public-big", first_run=False)
    rest = {r["id"]: r["pad"] for r in records(second, "public-big")}
    assert sent | set(rest) >= set(range(101, 6001)) | {7000}
    assert rest[5990] == "c" * 1500 and rest[7000] == "new"
    assert len(rest) < 6000 - len(sent) + 150  # it resumed, it did not start over
    assert all(m["version"] == version for m in second if "version" in m)
    assert last_state(second)["bookmarks"]["public-big"]["sluice_ctid"] is None


def test_full_table_resumes_a_pipelinewise_xmin_bookmark(sluice, pg, fresh_db, tmp_path):
    """A state pipelinewise wrote (an xmin bookmark) resumes as pipelinewise would: rows of that
    transaction and newer, under the same version."""
    db = fresh_db("tapxmin")
    pg.execute("CREATE TABLE t (id integer PRIMARY KEY)", dbname=db)
    for start in range(0, 30, 10):
        pg.execute(f"INSERT INTO t SELECT generate_series({start + 1}, {start + 10})", dbname=db)
    xmins = dict(pg.query("SELECT id, xmin::text::bigint FROM t", dbname=db))
    cfg = config(tmp_path, pg, db)
    catalog = discover(sluice, cfg)
    select(catalog, "public-t", "FULL_TABLE")
    state = {"bookmarks": {"public-t": {"last_replication_method": "FULL_TABLE",
                                        "version": 1234, "xmin": xmins[15]}},
             "currently_syncing": "public-t"}
    messages, stderr = sync(sluice, tmp_path, cfg, catalog, state=state)
    assert "resuming the full table from xmin" in stderr
    assert sorted(r["id"] for r in records(messages, "public-t")) == list(range(11, 31))
    assert all(m["version"] == 1234 for m in messages if "version" in m)


def test_incremental_first_run_then_new_rows(sluice, pg, fresh_db, tmp_path):
    db = fresh_db("tapincr")
    pg.execute("CREATE TABLE ev (id integer PRIMARY KEY, seq bigint, note text);"
               "INSERT INTO ev VALUES (1, 10, 'a'), (2, 20, 'b'), (3, 30, 'c'),"
               " (4, NULL, 'null key')", dbname=db)
    cfg = config(tmp_path, pg, db, itersize=2)
    catalog = discover(sluice, cfg)
    select(catalog, "public-ev", "INCREMENTAL", **{"replication-key": "seq"})
    messages, _ = sync(sluice, tmp_path, cfg, catalog)
    check_validates(messages)
    types = [m["type"] for m in messages]
    assert types[:3] == ["SCHEMA", "STATE", "ACTIVATE_VERSION"]
    assert messages[0]["bookmark_properties"] == ["seq"]
    assert messages[0]["key_properties"] == ["id"]
    got = records(messages, "public-ev")
    assert [r["seq"] for r in got] == [10, 20, 30, None]   # key order, NULL keys last
    state = last_state(messages)
    bookmark = state["bookmarks"]["public-ev"]
    assert bookmark == {"last_replication_method": "INCREMENTAL", "replication_key": "seq",
                        "version": bookmark["version"], "replication_key_value": 30}
    # a STATE after every two rows carries the key of the last row sent
    progress = [m["value"]["bookmarks"]["public-ev"].get("replication_key_value")
                for m in messages if m["type"] == "STATE"]
    assert 20 in progress

    pg.execute("INSERT INTO ev VALUES (5, 40, 'd'), (6, 35, 'e'), (7, NULL, 'later null');"
               "UPDATE ev SET note = 'old, changed' WHERE id = 1", dbname=db)
    again, _ = sync(sluice, tmp_path, cfg, catalog, state=state)
    got = records(again, "public-ev")
    assert [r["id"] for r in got] == [3, 6, 5]   # the boundary row, then the new ones
    assert last_state(again)["bookmarks"]["public-ev"]["replication_key_value"] == 40
    assert last_state(again)["bookmarks"]["public-ev"]["version"] == bookmark["version"]
    assert [m["type"] for m in again][:3] == ["SCHEMA", "STATE", "ACTIVATE_VERSION"]


def test_incremental_numeric_key_beyond_a_double_loses_no_row(sluice, pg, fresh_db, tmp_path):
    """A numeric key of 23 digits: as a JSON number the state would round it (to a double) past
    the rows just above it; its exact digits are kept, so the next run still sends them."""
    db = fresh_db("tapbig")
    pg.execute("CREATE TABLE big (id integer PRIMARY KEY, k numeric);"
               "INSERT INTO big VALUES (1, 12345678901234567890120), (2, 12345678901234567890123)",
               dbname=db)
    cfg = config(tmp_path, pg, db)
    catalog = discover(sluice, cfg)
    select(catalog, "public-big", "INCREMENTAL", **{"replication-key": "k"})
    messages, _ = sync(sluice, tmp_path, cfg, catalog)
    state = last_state(messages)
    assert state["bookmarks"]["public-big"]["replication_key_value"] == "12345678901234567890123"
    pg.execute("INSERT INTO big VALUES (3, 12345678901234567890124), (4, 12345678901234567890122)",
               dbname=db)
    again, _ = sync(sluice, tmp_path, cfg, catalog, state=state)
    assert [r["id"] for r in records(again, "public-big")] == [2, 3]


def test_incremental_by_timestamp(sluice, pg, fresh_db, tmp_path):
    db = fresh_db("tapts")
    pg.execute("CREATE TABLE ts (id integer PRIMARY KEY, at timestamp);"
               "INSERT INTO ts VALUES (1, '2024-01-01 10:00'), (2, '2024-01-02 11:30:00.5')",
               dbname=db)
    cfg = config(tmp_path, pg, db)
    catalog = discover(sluice, cfg)
    select(catalog, "public-ts", "INCREMENTAL", **{"replication-key": "at"})
    messages, _ = sync(sluice, tmp_path, cfg, catalog)
    state = last_state(messages)
    value = state["bookmarks"]["public-ts"]["replication_key_value"]
    assert value == records(messages, "public-ts")[-1]["at"]
    pg.execute("INSERT INTO ts VALUES (3, '2024-01-03'), (4, '2023-12-31')", dbname=db)
    again, _ = sync(sluice, tmp_path, cfg, catalog, state=state)
    assert [r["id"] for r in records(again, "public-ts")] == [2, 3]


def test_changed_replication_method_resets_the_bookmark(sluice, pg, syncdb, tmp_path):
    cfg = config(tmp_path, pg, syncdb)
    catalog = discover(sluice, cfg)
    select(catalog, "public-ints", "INCREMENTAL", **{"replication-key": "id"})
    state = {"bookmarks": {"public-ints": {"last_replication_method": "FULL_TABLE",
                                           "version": 1, "xmin": 12345}},
             "currently_syncing": None}
    messages, _ = sync(sluice, tmp_path, cfg, catalog, state=state)
    assert len(records(messages, "public-ints")) == 4
    bookmark = last_state(messages)["bookmarks"]["public-ints"]
    assert "xmin" not in bookmark and bookmark["version"] != 1


def test_currently_syncing_stream_goes_first(sluice, pg, syncdb, tmp_path):
    cfg = config(tmp_path, pg, syncdb)
    catalog = discover(sluice, cfg)
    select(catalog, "public-ints", "FULL_TABLE")
    select(catalog, "public-texts", "FULL_TABLE")
    messages, _ = sync(sluice, tmp_path, cfg, catalog,
                       state={"currently_syncing": "public-texts"})
    assert [m["stream"] for m in messages if m["type"] == "SCHEMA"] == ["public-texts",
                                                                         "public-ints"]


# ---- bad input: one message naming the thing, exit 2, nothing on stdout ----------------------

def test_broken_catalog_json(sluice, pg, syncdb, tmp_path):
    cfg = config(tmp_path, pg, syncdb)
    cat = tmp_path / "broken catalog.json"
    cat.write_text('{"streams": [ {"tap_stream_id": "x",, } ]}')
    proc = run_tap(sluice, "--config", cfg, "--catalog", cat)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "broken catalog.json" in proc.stderr and "line 1" in proc.stderr


def test_stream_naming_a_missing_table(sluice, pg, syncdb, tmp_path):
    cfg = config(tmp_path, pg, syncdb)
    catalog = discover(sluice, cfg)
    select(catalog, "public-ints", "FULL_TABLE")
    gone = select(catalog, "public-texts", "FULL_TABLE")
    gone["table_name"] = gone["stream"] = "no_such_table"
    gone["tap_stream_id"] = "public-no_such_table"
    proc = run_tap(sluice, "--config", cfg, "--properties",
                   write_json(tmp_path / "catalog.json", catalog))
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert '"public-no_such_table"' in proc.stderr and "no_such_table" in proc.stderr


def test_stream_without_replication_method(sluice, pg, syncdb, tmp_path):
    cfg = config(tmp_path, pg, syncdb)
    catalog = discover(sluice, cfg)
    select(catalog, "public-ints", "FULL_TABLE")
    stream_md(select(catalog, "public-texts", "FULL_TABLE")).pop("replication-method")
    proc = run_tap(sluice, "--config", cfg, "--catalog",
                   write_json(tmp_path / "catalog.json", catalog))
    assert proc.returncode == 2 and proc.stdout == ""
    assert "public-texts" in proc.stderr and "replication-method" in proc.stderr
    # the config's default_replication_method applies then
    cfg = config(tmp_path, pg, syncdb, default_replication_method="FULL_TABLE")
    messages, _ = sync(sluice, tmp_path, cfg, catalog)
    assert len(records(messages, "public-texts")) == 5


def test_incremental_without_key_and_unknown_key(sluice, pg, syncdb, tmp_path):
    cfg = config(tmp_path, pg, syncdb)
    catalog = discover(sluice, cfg)
    select(catalog, "public-ints", "INCREMENTAL")
    proc = run_tap(sluice, "--config", cfg, "--catalog",
                   write_json(tmp_path / "catalog.json", catalog))
    assert proc.returncode == 2 and proc.stdout == ""
    assert "replication-key" in proc.stderr
    select(catalog, "public-ints", "INCREMENTAL", **{"replication-key": "nope"})
    proc = run_tap(sluice, "--config", cfg, "--catalog",
                   write_json(tmp_path / "catalog.json", catalog))
    assert proc.returncode == 2 and proc.stdout == ""
    assert '"nope"' in proc.stderr


def test_broken_state_file(sluice, pg, syncdb, tmp_path):
    cfg = config(tmp_path, pg, syncdb)
    catalog = discover(sluice, cfg)
    select(catalog, "public-ints", "FULL_TABLE")
    cat = write_json(tmp_path / "catalog.json", catalog)
    state = tmp_path / "my state.json"
    for text in ('{"bookmarks": {"public-ints": ', '[1, 2]', '{"bookmarks": 3}'):
        state.write_text(text)
        proc = run_tap(sluice, "--config", cfg, "--catalog", cat, "--state", state)
        assert proc.returncode == 2, proc.stderr
        assert proc.stdout == ""
        assert "my state.json" in proc.stderr
    state.write_text('{"bookmarks": {"public-ints": {"xmin": "abc"}}}')
    proc = run_tap(sluice, "--config", cfg, "--catalog", cat, "--state", state)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "xmin" in proc.stderr


def test_incremental_state_with_foreign_keys_refused(sluice, pg, syncdb, tmp_path):
    """pipelinewise refuses an INCREMENTAL bookmark holding keys it does not write."""
    cfg = config(tmp_path, pg, syncdb)
    catalog = discover(sluice, cfg)
    select(catalog, "public-ints", "INCREMENTAL", **{"replication-key": "id"})
    state = {"bookmarks": {"public-ints": {"replication_key": "id", "lsn": 5}}}
    proc = run_tap(sluice, "--config", cfg, "--catalog",
                   write_json(tmp_path / "catalog.json", catalog), "--state",
                   write_json(tmp_path / "state.json", state))
    assert proc.returncode == 2 and proc.stdout == ""
    assert '"lsn"' in proc.stderr


# (SQL type, SQL literal, the RECORD's value as pipelinewise writes it, read with Decimal floats)
TYPED = [
    ("boolean", "true", True),
    ("numeric(10,2)", "1.50", decimal.Decimal("1.50")),
    ("double precision", "2.5", decimal.Decimal("2.5")),
    ("real", "-0.125", decimal.Decimal("-0.125")),
    ("date", "'2024-01-02'", "2024-01-02T00:00:00+00:00"),
    ("timestamp", "'2024-01-02 03:04:05.5'", "2024-01-02T03:04:05.500000+00:00"),
    ("timestamptz", "'2024-01-02 03:04:05+02'", "2024-01-02T01:04:05+00:00"),
    ("time", "'13:14:15'", "13:14:15"),
    ("uuid", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
    ("jsonb", """'{"a": [1, "x", null]}'""", {"a": [1, "x", None]}),
    ("integer[]", "'{1,2,NULL}'", [1, 2, None]),
    ("text[]", r"""E'{"a,b","c\\"d",NULL}'""", ["a,b", 'c"d', None]),
    ("hstore", "'a=>1, b=>NULL'", {"a": "1", "b": None}),
]


def test_full_table_typed_values(sluice, pg, fresh_db, tmp_path):
    db = fresh_db("taptyped")
    cols = ", ".join(f"c{i} {sqltype}" for i, (sqltype, _, _) in enumerate(TYPED))
    values = ", ".join(literal for _, literal, _ in TYPED)
    pg.execute(f"CREATE EXTENSION hstore; CREATE TABLE typed (id integer PRIMARY KEY, {cols});"
               f"INSERT INTO typed VALUES (1, {values});"
               f"INSERT INTO typed (id) VALUES (2)", dbname=db)
    cfg = config(tmp_path, pg, db)
    catalog = discover(sluice, cfg)
    select(catalog, "public-typed", "FULL_TABLE")
    messages, _ = sync(sluice, tmp_path, cfg, catalog)
    check_validates(messages)
    got = sorted(records(messages, "public-typed"), key=lambda r: r["id"])
    assert got[0] == {"id": 1, **{f"c{i}": v for i, (_, _, v) in enumerate(TYPED)}}
    # NULL is null, except in an array column: pipelinewise writes `elem or []`
    assert got[1] == {"id": 2, **{f"c{i}": [] if sqltype.endswith("[]") else None
                                  for i, (sqltype, _, _) in enumerate(TYPED)}}


def test_schema_without_properties_takes_the_live_columns(sluice, pg, syncdb, tmp_path):
    """pipelinewise's refresh_streams_schema: a stream whose schema has no properties gets the
    discovered one; the catalog's column metadata still selects."""
    cfg = config(tmp_path, pg, syncdb)
    catalog = discover(sluice, cfg)
    stream = select(catalog, "public-ints", "FULL_TABLE")
    stream["schema"] = {}
    column_md(stream, "small")["selected"] = False
    messages, _ = sync(sluice, tmp_path, cfg, catalog)
    check_validates(messages)
    assert sorted(records(messages, "public-ints")[0]) == ["big", "id", "skipped"]
