"""sluice status: what it reports, as text and as JSON, for a superuser and for a plain user."""
import json
import os

import pytest

SETTINGS = ["work_mem", "maintenance_work_mem", "shared_buffers", "max_connections", "wal_level",
            "max_replication_slots"]


def status_json(sluice, *args, env=None):
    proc = sluice.run("status", "--json", *args, env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_text_output(sluice, pg):
    proc = sluice.run("status")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    version = pg.query("SHOW server_version")[0][0]
    assert f"Server:    PostgreSQL {version} at {pg.host}:{pg.port}" in out
    assert "User:      postgres (superuser)" in out
    assert "Database:  postgres" in out
    for name in SETTINGS:
        assert name in out
    assert "wal_level              logical" in out
    assert "Replication slots:" in out


def test_text_columns_are_aligned(sluice, fresh_db):
    fresh_db("status_a_rather_long_database_name")
    out = sluice.run("status", check=True).stdout
    section = out.split("Databases:\n")[1].split("\n\n")[0].splitlines()
    header, rows = section[0], section[1:]
    size_col = header.index("SIZE")
    assert len(rows) >= 4
    for row in rows:
        assert row[size_col - 2:size_col] == "  " and row[size_col] != " ", row


def test_json_fields(sluice, pg):
    doc = status_json(sluice)
    assert doc["server"]["version_num"] == int(pg.query("SHOW server_version_num")[0][0])
    assert doc["server"]["host"] == pg.host
    assert doc["server"]["port"] == str(pg.port)
    assert doc["server"]["in_recovery"] is False
    assert doc["user"] == {"name": "postgres", "superuser": True, "replication": True}
    assert doc["database"] == "postgres"
    names = [d["name"] for d in doc["databases"]]
    assert names == sorted(names) and "postgres" in names and "template1" in names
    sizes = {name: size for (name, size) in pg.query(
        "SELECT datname, pg_database_size(oid) FROM pg_database")}
    for d in doc["databases"]:
        assert d["size_bytes"] > 0 and d["size"]
        assert abs(d["size_bytes"] - sizes[d["name"]]) < 1 << 20
    assert list(doc["settings"])[:len(SETTINGS)] == SETTINGS
    assert doc["settings"]["wal_level"] == "logical"
    assert doc["settings"]["max_connections"] == pg.query("SHOW max_connections")[0][0]
    assert doc["settings"]["shared_buffers"] == pg.query("SHOW shared_buffers")[0][0]
    assert isinstance(doc["replication_slots"], list)


@pytest.fixture
def slot(pg, fresh_db):
    """A logical slot nobody consumes, and how much WAL was written after it was made."""
    db = fresh_db("status_slot")
    name = f"sluice_status_{os.getpid()}"
    pg.execute(f"SELECT pg_create_logical_replication_slot('{name}', 'test_decoding')", db)
    made_at = pg.query("SELECT pg_current_wal_lsn()::text")[0][0]
    # WAL written after the slot's restart point is what it retains
    pg.execute("CREATE TABLE filler AS SELECT g, repeat('x', 200) AS t "
               "FROM generate_series(1, 20000) g", db)
    generated = pg.query(f"SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '{made_at}')::bigint")[0][0]
    yield name, db, generated
    pg.execute(f"SELECT pg_drop_replication_slot('{name}')")


def retained_now(pg, name):
    """What the slot retains as of now: the current WAL position minus its restart_lsn."""
    return pg.query(f"SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint "
                    f"FROM pg_replication_slots WHERE slot_name = '{name}'")[0][0]


UNITS = {"bytes": 1, "kB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}


def pretty_bytes(text):
    """pg_size_pretty's text as the number it shows: "5368 kB" -> 5368 * 1024."""
    number, unit = text.split()
    return int(number) * UNITS[unit]


def pretty(pg, n):
    return pg.query(f"SELECT pg_size_pretty({n}::bigint)")[0][0]


def test_replication_slot_with_retained_wal(sluice, pg, slot):
    """The server keeps writing WAL (checkpoints, autovacuum, other sessions), so each figure
    is checked against the slot's retained WAL read just before and just after the call that
    printed it: it can only grow in between, since nothing consumes the slot."""
    name, db, generated = slot
    assert generated > 1 << 20  # the filler table: several MB
    before = retained_now(pg, name)
    doc = status_json(sluice)
    after = retained_now(pg, name)
    s = {s["name"]: s for s in doc["replication_slots"]}[name]
    assert s["type"] == "logical" and s["plugin"] == "test_decoding" and s["database"] == db
    assert s["active"] is False
    assert s["restart_lsn"] == pg.query(f"SELECT restart_lsn::text FROM pg_replication_slots "
                                        f"WHERE slot_name = '{name}'")[0][0]
    assert generated <= before <= s["retained_wal_bytes"] <= after
    assert s["retained_wal"] == pretty(pg, s["retained_wal_bytes"])

    before = retained_now(pg, name)
    text = sluice.run("status", check=True).stdout
    after = retained_now(pg, name)
    line = next(l for l in text.splitlines() if l.strip().startswith(name))
    assert "logical" in line and "test_decoding" in line
    shown = " ".join(line.split()[-2:])  # RETAINED WAL, the last column: "5368 kB"
    low, high = pretty_bytes(pretty(pg, before)), pretty_bytes(pretty(pg, after))
    assert low <= pretty_bytes(shown) <= high, (before, shown, after)


@pytest.fixture
def plain_user(pg, fresh_db):
    """A non-superuser, a database it may not connect to, and one it may."""
    role = f"status_user_{os.getpid()}"
    hidden = fresh_db("status_hidden")
    pg.execute(f"DROP ROLE IF EXISTS {role}")
    pg.execute(f"CREATE ROLE {role} LOGIN")
    pg.execute(f'REVOKE CONNECT ON DATABASE "{hidden}" FROM PUBLIC')
    yield role, hidden
    pg.drop_db(hidden)
    pg.execute(f"DROP ROLE IF EXISTS {role}")


def test_plain_user_skips_databases_without_connect(sluice, pg, plain_user):
    role, hidden = plain_user
    # over the unix socket, which trusts local users (the .pgpass only knows postgres)
    env = pg.env(PGHOST=pg.sockdir, PGUSER=role)
    doc = status_json(sluice, env=env)
    assert doc["user"] == {"name": role, "superuser": False, "replication": False}
    names = [d["name"] for d in doc["databases"]]
    assert hidden not in names and "postgres" in names
    assert doc["databases_without_connect"] >= 1
    text = sluice.run("status", env=env, check=True).stdout
    assert f"User:      {role}\n" in text
    assert "more without CONNECT privilege, not shown" in text
    assert hidden not in text


def test_help(sluice):
    proc = sluice.run("status", "--help")
    assert proc.returncode == 0
    assert "--json" in proc.stdout and "--retries" in proc.stdout


def test_cannot_connect_is_one_line(sluice, pg):
    proc = sluice.run("status", "--json", "-d", "no_such_db_for_status")
    assert proc.returncode == 3
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1


def test_json_log_format_for_failures(sluice):
    proc = sluice.run("status", "--log-format", "json", "-d", "no_such_db_for_status")
    assert proc.returncode == 3
    line = json.loads(proc.stderr.strip().splitlines()[-1])
    assert line["level"] == "error" and line["kind"] == "connect"
    assert "no_such_db_for_status" in line["msg"]
