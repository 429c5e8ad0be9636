"""SIGINT/SIGTERM during sluice restore: the running statements are canceled, nothing new
starts, exit 9 with a message saying what was restored, and no sluice session stays on the
server. Deterministic: the restore is held at a known point by a lock the test holds (a CHECK
constraint takes an advisory lock, or the script does), and the signal is sent once the server
shows the restore waiting for that lock."""
import os
import signal
import subprocess
import time

import pytest

CANCELED = 9
GATE = 4242  # advisory lock key the restore waits for

SOURCE_SQL = f"""
CREATE FUNCTION public.gate(v int) RETURNS boolean LANGUAGE plpgsql AS
  $$ BEGIN PERFORM pg_catalog.pg_advisory_xact_lock_shared({GATE}); RETURN v IS NOT NULL; END $$;
CREATE TABLE public.free_rows (id int PRIMARY KEY, t text);
INSERT INTO public.free_rows SELECT g, md5(g::text) FROM generate_series(1, 3000) g;
CREATE TABLE public.gated (id int PRIMARY KEY CHECK (public.gate(id)), t text);
INSERT INTO public.gated SELECT g, md5(g::text) FROM generate_series(1, 3000) g;
CREATE INDEX gated_t ON public.gated (t);
"""


@pytest.fixture(scope="module")
def gated_source(pg):
    src = f"sig_src_{os.getpid()}"
    pg.create_db(src)
    pg.execute(SOURCE_SQL, src)
    yield src
    pg.drop_db(src)


@pytest.fixture(scope="module")
def gated_backup(pg, gated_source, tmp_path_factory):
    from conftest import Sluice
    path = str(tmp_path_factory.mktemp("sig") / "gated.sql.gz")
    Sluice(pg).run("backup", "single", gated_source, "-o", path, "-j", 2, check=True)
    return path


def sluice_sessions(pg, db):
    return pg.query(f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{db}' "
                    f"AND application_name LIKE 'sluice%'")[0][0]


def wait_until(what, condition, proc, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"restore ended (exit {proc.returncode}) before {what}:\n{err}")
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def waiting_for_gate(pg, db):
    return pg.query(f"SELECT count(*) FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid "
                    f"WHERE a.datname = '{db}' AND a.application_name LIKE 'sluice%' "
                    f"AND a.wait_event_type = 'Lock' AND l.locktype = 'advisory' "
                    f"AND NOT l.granted AND l.objid = {GATE}")[0][0] > 0


def interrupt(pg, sluice, db, args, signum, ready):
    """Starts the restore holding the gate, sends signum once ready() holds, returns
    (exit code, stderr) after the gate is released."""
    with pg.connect(db) as holder:
        holder.execute(f"SELECT pg_advisory_lock({GATE})")
        proc = subprocess.Popen([sluice.bin, "restore", *map(str, args), "--database", db],
                                env=sluice.cluster.env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            wait_until("the restore waits for the lock", lambda: waiting_for_gate(pg, db), proc)
            wait_until("the restore reached the expected point", ready, proc)
            proc.send_signal(signum)
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return proc.returncode, err


def assert_no_session_left(pg, db):
    deadline = time.monotonic() + 30
    while sluice_sessions(pg, db) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sluice_sessions(pg, db) == 0, "a sluice session is still on the server"


def rows(pg, db, table):
    exists = pg.query(f"SELECT to_regclass('public.{table}') IS NOT NULL", db)[0][0]
    return pg.query(f"SELECT count(*) FROM public.{table}", db)[0][0] if exists else None


SIGNALS = {"INT": signal.SIGINT, "TERM": signal.SIGTERM}


@pytest.mark.parametrize("jobs", [1, 4])
@pytest.mark.parametrize("sig", ["INT", "TERM"])
def test_interrupted_restore_reports_what_was_restored(pg, sluice, fresh_db, gated_backup,
                                                       sig, jobs):
    db = fresh_db("sig")
    # With -j 4 both tables load at once: wait until free_rows is in, so that the message's
    # account of it is known; with -j 1 it may come before or after gated in the file.
    ready = (lambda: rows(pg, db, "free_rows") == 3000) if jobs > 1 else (lambda: True)
    code, err = interrupt(pg, sluice, db, [gated_backup, "-j", jobs], SIGNALS[sig], ready)
    assert code == CANCELED, err
    assert "restore interrupted by a signal: " in err
    assert "segments restored" in err and "canceled and rolled back" in err
    assert_no_session_left(pg, db)
    assert rows(pg, db, "gated") == 0  # its COPY was canceled and rolled back
    free = rows(pg, db, "free_rows")
    if free == 3000:
        assert "table data complete for 1 of 2 tables (public.free_rows)" in err, err
    else:
        assert free == 0 and "table data complete for 0 of 2 tables" in err, err
    if jobs > 1:
        assert free == 3000
    # post-data never started: no index on gated
    assert pg.query("SELECT count(*) FROM pg_indexes WHERE indexname = 'gated_t'", db) == [(0,)]
    line = [l for l in err.splitlines() if "interrupted by a signal" in l]
    assert len(line) == 1 and line[0].startswith("sluice: error: "), err


@pytest.mark.parametrize("sig", ["INT", "TERM"])
def test_interrupted_single_transaction_leaves_nothing(pg, sluice, fresh_db, gated_backup, sig):
    db = fresh_db("sig1")
    code, err = interrupt(pg, sluice, db, [gated_backup, "--single-transaction"],
                          SIGNALS[sig], lambda: True)
    assert code == CANCELED, err
    assert ("restore interrupted by a signal: nothing was restored (--single-transaction: "
            "its transaction was rolled back)") in err
    assert "restore incomplete: 0 segments, " in err and " 0 rows, " in err
    assert_no_session_left(pg, db)
    assert pg.query("SELECT count(*) FROM pg_class c JOIN pg_namespace n "
                    "ON n.oid = c.relnamespace WHERE n.nspname = 'public'", db) == [(0,)]


def test_interrupted_plain_script_names_the_statement(pg, sluice, fresh_db, tmp_path):
    script = tmp_path / "plain.sql"
    script.write_text("CREATE TABLE before_gate (a int);\n"
                      "INSERT INTO before_gate VALUES (1), (2);\n"
                      f"SELECT pg_catalog.pg_advisory_xact_lock({GATE});\n"
                      "CREATE TABLE after_gate (a int);\n")
    db = fresh_db("sigp")
    code, err = interrupt(pg, sluice, db, [script], signal.SIGINT, lambda: True)
    assert code == CANCELED, err
    assert ("restore interrupted by a signal: the statements of the script before the one in "
            "progress stay committed; that one was canceled and rolled back") in err
    assert "statement at line 3" in err and "pg_advisory_xact_lock" in err
    assert_no_session_left(pg, db)
    assert rows(pg, db, "before_gate") == 2 and rows(pg, db, "after_gate") is None


def test_interrupted_clean_leaves_the_database_as_it_was(pg, sluice, fresh_db, gated_backup):
    """Signal while --clean waits for a lock on a table it must drop: the clean is rolled back
    and the message says nothing was restored."""
    db = fresh_db("sigc")
    pg.execute("CREATE TABLE keep_me (a int); INSERT INTO keep_me VALUES (1)", db)
    with pg.connect(db, autocommit=False) as holder:
        holder.execute("LOCK TABLE keep_me IN ACCESS SHARE MODE")
        proc = subprocess.Popen([sluice.bin, "restore", gated_backup, "--clean", "--database",
                                 db], env=sluice.cluster.env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            wait_until("--clean waits for the lock", lambda: pg.query(
                f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{db}' AND "
                f"application_name LIKE 'sluice%' AND wait_event_type = 'Lock'")[0][0] > 0, proc)
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        holder.rollback()
    assert proc.returncode == CANCELED, err
    assert "restore interrupted by a signal: nothing was restored yet" in err
    assert_no_session_left(pg, db)
    assert rows(pg, db, "keep_me") == 1 and rows(pg, db, "gated") is None


@pytest.fixture(scope="module")
def gated_archive(pg, gated_source, tmp_path_factory):
    """The same data as a pg_dump custom archive."""
    from compare import BINDIR
    path = str(tmp_path_factory.mktemp("sigarch") / "gated.dump")
    subprocess.run([f"{BINDIR}/pg_dump", "-Fc", "-f", path, "-d", pg.conninfo(gated_source)],
                   env=pg.env(), check=True)
    return path


@pytest.mark.parametrize("jobs", [1, 2])
def test_interrupted_archive_restore(pg, sluice, fresh_db, gated_archive, jobs):
    db = fresh_db("sigarch")
    code, err = interrupt(pg, sluice, db, [gated_archive, "-j", jobs], signal.SIGINT,
                          lambda: True)
    assert code == CANCELED, err
    assert "entries of the archive restored" in err and "canceled and rolled back" in err, err
    assert_no_session_left(pg, db)
    assert rows(pg, db, "gated") == 0
    assert pg.query("SELECT count(*) FROM pg_indexes WHERE indexname = 'gated_t'", db) == [(0,)]
