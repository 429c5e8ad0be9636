"""Names that would act on a terminal (ESC sequences, CR, LF, BEL, DEL, C1 controls) are printed
escaped by every command: in log lines (human and JSON), progress, errors, the verify listing and
status. No raw control byte reaches stdout or stderr, and a JSON reader still gets the exact
name back."""
import json
import os
import subprocess

import pytest

SERVER, UNSUPPORTED = 5, 7

# ESC sequences (colour, window title, clear screen), BEL, CR, DEL and C1 CSI (U+009B).
HOSTILE = "esc\x1b[31mred\x1b]0;owned\x07\r\x7f\u009b2J"
# The same with a line feed: a name that would forge a log line of its own.
HOSTILE_NL = "nl\x1b[1m\nsluice: forged line\rcr\u009b"

RAW_BYTES = [b"\x1b", b"\r", b"\x07", b"\x7f", "\u009b".encode()]


def run_bytes(sluice, *args, env=None):
    full_env = sluice.cluster.env() if sluice.cluster else dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([sluice.bin, *map(str, args)], env=full_env, capture_output=True,
                          timeout=600)


def assert_inert(proc):
    """No byte that acts on a terminal, and every stderr line is one of sluice's own."""
    for stream, data in (("stdout", proc.stdout), ("stderr", proc.stderr)):
        for raw in RAW_BYTES:
            assert raw not in data, f"raw {raw!r} in {stream}:\n{data!r}"
    for line in proc.stderr.decode().splitlines():
        assert line.startswith(("sluice: ", "{")), f"forged stderr line: {line!r}"


def quoted(name):
    return '"' + name.replace('"', '""') + '"'


@pytest.fixture
def hostile_db(pg, fresh_db):
    db = fresh_db("esc")
    pg.execute(f"CREATE SCHEMA {quoted(HOSTILE)};"
               f"CREATE TABLE {quoted(HOSTILE)}.{quoted(HOSTILE)} (a int, b text);"
               f"INSERT INTO {quoted(HOSTILE)}.{quoted(HOSTILE)} "
               f"SELECT g, repeat('x', 100) FROM generate_series(1, 5000) g", db)
    return db


def test_backup_log_and_progress_lines_escape_names(sluice, hostile_db, tmp_path):
    out = tmp_path / "h.sql.gz"
    proc = run_bytes(sluice, "backup", "single", hostile_db, "-o", out, "-v", "-j", "2",
                     "--progress-interval", "1")
    assert proc.returncode == 0, proc.stderr
    assert_inert(proc)
    assert b"esc\\e[31mred\\e]0;owned\\x07\\r\\x7f\\u009b2J" in proc.stderr  # -v names the COPY
    assert b" database \"" + hostile_db.encode() + b"\" as user " in proc.stderr
    assert b"\" complete: " in proc.stderr


def test_verify_listing_escapes_names(sluice, hostile_db, tmp_path):
    out = tmp_path / "h.sql.zst"
    sluice.run("backup", "single", hostile_db, "-o", out, check=True)
    text = run_bytes(sluice, "verify", out, "-v")
    assert text.returncode == 0, text.stderr
    assert_inert(text)
    escaped = "esc\\e[31mred\\e]0;owned\\x07\\r\\x7f\\u009b2J"
    assert f"  {escaped}.{escaped} ".encode() in text.stdout
    js = run_bytes(sluice, "verify", out, "--json")
    assert js.returncode == 0, js.stderr
    assert_inert(js)
    table = json.loads(js.stdout)["tables"][0]
    assert (table["schema"], table["name"], table["rows"]) == (HOSTILE, HOSTILE, 5000)


@pytest.fixture
def hostile_database_name(pg):
    name = f"db_{os.getpid()}\x1b[31m\r\n\u009b2J\x7f"
    pg.create_db(name)
    yield name
    pg.drop_db(name)


def test_status_escapes_database_names(sluice, hostile_database_name):
    text = run_bytes(sluice, "status")
    assert text.returncode == 0, text.stderr
    assert_inert(text)
    assert f"db_{os.getpid()}\\e[31m\\r\\n\\u009b2J\\x7f ".encode() in text.stdout
    js = run_bytes(sluice, "status", "--json")
    assert js.returncode == 0, js.stderr
    assert_inert(js)
    names = [d["name"] for d in json.loads(js.stdout)["databases"]]
    assert hostile_database_name in names


@pytest.mark.parametrize("log_format", ["human", "json"])
def test_failing_statement_about_a_hostile_table(pg, sluice, fresh_db, tmp_path, log_format):
    """A file's statement fails on a table named with LF and ESC: the message names it, on one
    line, escaped; a JSON reader gets the exact name."""
    script = tmp_path / "dup.sql"
    script.write_text(f"CREATE TABLE {quoted(HOSTILE_NL)} (a int);\n"
                      f"CREATE TABLE {quoted(HOSTILE_NL)} (a int);\n")
    db = fresh_db("esc_restore")
    proc = run_bytes(sluice, "restore", script, "-d", db, "--log-format", log_format)
    assert proc.returncode == SERVER, proc.stderr
    assert_inert(proc)
    lines = proc.stderr.decode().splitlines()
    if log_format == "json":
        msgs = [json.loads(line) for line in lines]
        err = next(m for m in msgs if m["level"] == "error")
        assert f'relation "{HOSTILE_NL}" already exists' in err["msg"]
        assert f'CREATE TABLE "nl\x1b[1m' in err["context"]  # the statement's first line
    else:
        err = next(line for line in lines if line.startswith("sluice: error: "))
        assert 'relation "nl\\e[1m\\nsluice: forged line\\rcr\\u009b" already exists' in err
        assert not any(line.startswith("sluice: forged line") for line in lines)


def test_backup_failing_on_a_hostile_table(pg, sluice, fresh_db, tmp_path):
    """A partition left 'detach pending' stops the backup, which names it."""
    db = fresh_db("esc_detach")
    part = quoted(HOSTILE_NL)
    pg.execute(f"CREATE TABLE p (a int) PARTITION BY LIST (a);"
               f"CREATE TABLE {part} PARTITION OF p FOR VALUES IN (1)", db)
    with pg.connect(db, autocommit=False) as holder:
        holder.execute("SELECT * FROM p").fetchall()  # an old snapshot the detach waits for
        res = pg.psql(db, "-c", "SET statement_timeout = '1s'", "-c",
                      f"ALTER TABLE p DETACH PARTITION {part} CONCURRENTLY", check=False)
        assert "statement timeout" in res.stderr
        holder.rollback()
    out = tmp_path / "x.sql.gz"
    proc = run_bytes(sluice, "backup", "single", db, "-o", out, "-v")
    assert proc.returncode == UNSUPPORTED, proc.stderr
    assert_inert(proc)
    assert b"public.nl\\e[1m\\nsluice: forged line\\rcr" in proc.stderr
    assert not out.exists()
