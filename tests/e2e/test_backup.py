"""sluice backup single: output naming, splitting tables across jobs, progress over NOTIFY,
locks, interruption, and usage errors. Round trips of rich databases are in test_roundtrip.py."""
import glob
import json
import os
import signal
import stat
import subprocess
import time

import psycopg
import pytest


def no_leftovers(directory):
    return [p for p in glob.glob(os.path.join(directory, "*")) if p.endswith(".partial")]


@pytest.fixture
def small_db(pg, fresh_db):
    db = fresh_db("bk")
    pg.execute("CREATE TABLE t (id int PRIMARY KEY, v text);"
               "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 1000) g", db)
    return db


def test_default_output_name_and_mode(sluice, small_db, tmp_path):
    proc = subprocess.run([sluice.bin, "backup", "single", small_db], cwd=tmp_path,
                          env=sluice.cluster.env(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / f"{small_db}.sql.gz"
    assert out.exists()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "complete" in proc.stderr and "1000 rows" in proc.stderr
    assert no_leftovers(str(tmp_path)) == []


def test_zstd_by_flag_names_file(sluice, small_db, tmp_path):
    proc = subprocess.run([sluice.bin, "backup", "single", small_db, "--compress", "zstd:5"],
                          cwd=tmp_path, env=sluice.cluster.env(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    data = (tmp_path / f"{small_db}.sql.zst").read_bytes()
    assert data[:4] == b"\x28\xb5\x2f\xfd"


def test_big_table_is_split_across_jobs(pg, sluice, fresh_db, tmp_path):
    db = fresh_db("split")
    pg.execute("CREATE TABLE big (id bigint, pad text);"
               "INSERT INTO big SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 60000) g",
               db)
    out = tmp_path / "big.sql"
    sluice.run("backup", "single", db, "-o", out, "-j", "2", "--chunk-size", "1", check=True)
    text = out.read_text()
    blocks = text.count("COPY public.big (id, pad) FROM stdin;")
    assert blocks > 2, "the table should be cut into several ranges"
    target = fresh_db("split_copy")
    pg.psql(target, "-f", str(out))
    assert pg.query("SELECT count(*), sum(id) FROM big", target) == \
        pg.query("SELECT count(*), sum(id) FROM big", db)


def test_progress_is_notified(pg, sluice, small_db, tmp_path):
    got = []
    with pg.connect(small_db) as conn:
        conn.add_notify_handler(lambda n: got.append(json.loads(n.payload)))
        conn.execute("LISTEN sluice_progress")
        sluice.run("backup", "single", small_db, "-o", tmp_path / "n.sql.gz",
                   "--notify-channel", "sluice_progress", "--progress-interval", "1", check=True)
        conn.execute("SELECT 1")  # delivers the notifications queued meanwhile
    assert got, "no progress notification arrived"
    assert got[-1]["op"] == "backup" and got[-1]["rows"] == 1000


def test_lock_timeout_fails_cleanly(pg, sluice, small_db, tmp_path):
    out = tmp_path / "locked.sql.gz"
    with pg.connect(small_db, autocommit=False) as blocker:
        blocker.execute("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
        proc = sluice.run("backup", "single", small_db, "-o", out, "--lock-timeout", "1s")
        blocker.rollback()
    assert proc.returncode == 5, proc.stderr
    assert "lock" in proc.stderr and "55P03" in proc.stderr
    assert not out.exists() and no_leftovers(str(tmp_path)) == []


def waiting_for_lock(pg, db):
    """True once a sluice session of db waits for a lock (the blocker's)."""
    return pg.query(f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{db}' "
                    f"AND application_name LIKE 'sluice%' AND wait_event_type = 'Lock'")[0][0] > 0


def test_sigint_cancels_and_removes_output(pg, sluice, small_db, tmp_path):
    """The signal comes once the server shows the backup waiting for the blocker's lock (a
    fixed delay would depend on how fast the machine starts it)."""
    out = tmp_path / "int.sql.gz"
    with pg.connect(small_db, autocommit=False) as blocker:
        blocker.execute("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
        proc = subprocess.Popen([sluice.bin, "backup", "single", small_db, "-o", str(out),
                                 "--lock-timeout", "1h"],
                                env=sluice.cluster.env(), stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 120
            while not waiting_for_lock(pg, small_db):
                assert proc.poll() is None, proc.communicate()[1]
                assert time.monotonic() < deadline, "the backup never waited for the lock"
                time.sleep(0.05)
            proc.send_signal(signal.SIGINT)
            _, stderr = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        blocker.rollback()
    assert proc.returncode == 9, stderr
    assert "backup interrupted by a signal" in stderr
    assert not out.exists() and no_leftovers(str(tmp_path)) == []


@pytest.mark.parametrize("args, message", [
    (["backup"], "missing \"single DBNAME\""),
    (["backup", "clustr"], "unknown backup kind \"clustr\""),
    (["backup", "single"], "missing the database name"),
    (["backup", "single", "x", "--schema-only", "--data-only"], "exclude each other"),
    (["backup", "single", "x", "-o", "x.sql.gz", "--compress", "zstd"], "does not match"),
    (["backup", "single", "x", "--compress", "lz4"], "lz4"),
    (["backup", "single", "x", "-j", "0"], "--jobs"),
    (["backup", "single", "x", "--bogus"], "unknown option \"--bogus\""),
])
def test_usage_errors(sluice, args, message, tmp_path):
    proc = subprocess.run([sluice.bin, *args], cwd=tmp_path, env=sluice.cluster.env(),
                          capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert list(tmp_path.iterdir()) == []
