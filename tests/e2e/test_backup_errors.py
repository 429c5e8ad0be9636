"""Bad input to backup / restore / verify: each gets its exit code and a message naming the
problem, and leaves nothing behind (no final file, no NAME.partial, no spool file).

Exit codes (base/error_kinds.def): 2 usage, 3 connect, 4 archive, 5 server, 6 io, 8 refused.
"""
import os
import re
import signal
import subprocess
import threading
import time

import pytest

from pgcluster import PgCluster

USAGE, CONNECT, ARCHIVE, IO, REFUSED = 2, 3, 4, 6, 8


def assert_empty_dir(path):
    left = sorted(os.listdir(path))
    assert left == [], f"left behind in {path}: {left}"


def assert_fails(proc, code, *needles):
    out = proc.stdout + proc.stderr
    assert proc.returncode == code, \
        f"exit {proc.returncode}, expected {code}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    for n in needles:
        assert n.lower() in out.lower(), f"message does not mention {n!r}:\n{out}"
    assert "Traceback" not in out and "Segmentation" not in out


@pytest.fixture(scope="module")
def small_db(pg):
    """A small database with a few MB of varied data: enough for several segments."""
    name = f"errsrc_{os.getpid()}"
    pg.create_db(name)
    pg.execute("""
        CREATE TABLE t (id int PRIMARY KEY, body text, b bytea);
        INSERT INTO t SELECT i, repeat(md5(i::text), 1 + i % 7), decode(md5(i::text), 'hex')
        FROM generate_series(1, 60000) i;
        CREATE TABLE u (id int REFERENCES t, note text);
        INSERT INTO u SELECT i, E'tab\\there ' || i FROM generate_series(1, 5000) i;
        CREATE INDEX u_note ON u (note);
        CREATE VIEW v AS SELECT * FROM u WHERE id < 10;
    """, name)
    yield name
    pg.drop_db(name)


EXT = {"gzip": ".sql.gz", "zstd": ".sql.zst", "none": ".sql"}


@pytest.fixture(scope="module")
def good_backups(pg, small_db, tmp_path_factory):
    """One valid backup per compression; tests copy and damage them."""
    from conftest import Sluice
    sluice = Sluice(pg)
    d = tmp_path_factory.mktemp("good")
    files = {}
    for compress, ext in EXT.items():
        path = str(d / f"small{ext}")
        proc = sluice.run("backup", "single", small_db, "-o", path, "-j", 2,
                          "--compress", compress)
        assert proc.returncode == 0, proc.stderr
        files[compress] = path
    return files


def is_empty_db(pg, db):
    n = pg.query("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                 "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
                 "AND n.nspname NOT LIKE 'pg\\_toast%'", db)[0][0]
    return n == 0


# -- connections -------------------------------------------------------------------------------

def test_wrong_password(pg, sluice, small_db, tmp_path):
    secret = "Wr0ng-pa55word-xyz"
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"127.0.0.1:{pg.port}:*:{pg.user}:{secret}\n")
    os.chmod(passfile, 0o600)
    outdir = tmp_path / "out"
    outdir.mkdir()
    proc = sluice.run("backup", "single", small_db, "-o", outdir / "x.sql.gz",
                      env={"PGPASSFILE": str(passfile)})
    assert_fails(proc, CONNECT, "password authentication failed")
    assert secret not in proc.stdout + proc.stderr
    assert_empty_dir(outdir)


def test_missing_database(pg, sluice, tmp_path):
    proc = sluice.run("backup", "single", "no_such_db_here", "-o", tmp_path / "x.sql.gz")
    assert_fails(proc, CONNECT, "no_such_db_here", "does not exist")
    assert_empty_dir(tmp_path)


def test_unreachable_host(pg, sluice, tmp_path):
    from pgcluster import _free_port
    port, lock = _free_port()  # reserved, nothing listens there
    try:
        proc = sluice.run("backup", "single", "postgres", "-h", "127.0.0.1", "-p", port,
                          "--retries", 0, "-o", tmp_path / "x.sql.gz", timeout=120)
    finally:
        lock.close()
    assert_fails(proc, CONNECT, str(port))
    assert_empty_dir(tmp_path)


def test_unreachable_host_retries_are_logged(pg, sluice, tmp_path):
    from pgcluster import _free_port
    port, lock = _free_port()
    try:
        start = time.monotonic()
        proc = sluice.run("status", "-h", "127.0.0.1", "-p", port, "--retries", 2, timeout=120)
        elapsed = time.monotonic() - start
    finally:
        lock.close()
    assert_fails(proc, CONNECT, str(port), "retr")
    assert elapsed < 60, f"two retries took {elapsed:.0f}s"


# -- the server goes away ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def doomed_cluster():
    """A second cluster, stopped in the middle of a backup; big enough that the backup takes a
    while (random-ish text compresses poorly)."""
    c = PgCluster(name="doomed")
    try:
        c.start()
        c.execute("CREATE DATABASE big")
        c.execute("""
            CREATE TABLE big1 (id bigint, a text, b bytea);
            INSERT INTO big1 SELECT i, md5(i::text) || md5((i * 3)::text) || md5((i * 7)::text),
                                   decode(md5((-i)::text), 'hex')
            FROM generate_series(1, 2500000) i;
            CREATE TABLE big2 AS SELECT * FROM big1 WHERE id % 2 = 0;
        """, "big")
        yield c
    finally:
        c.destroy()


def wait_for_copy(cluster, still_running, timeout=120):
    """True once a COPY ... TO STDOUT runs on the cluster (sluice is streaming table data)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and still_running():
        rows = cluster.query("SELECT count(*) FROM pg_stat_activity "
                             "WHERE query ILIKE 'COPY%TO STDOUT%' AND pid <> pg_backend_pid()")
        if rows[0][0] > 0:
            return True
        time.sleep(0.05)
    return False


def test_interrupted_backup(doomed_cluster, tmp_path):
    """SIGINT while streaming: exit 9, no file, and the server's sessions end with it.
    (Runs before test_server_stopped_mid_backup, which stops this cluster.)"""
    from conftest import sluice_bin
    out = tmp_path / "big.sql.zst"
    proc = subprocess.Popen([sluice_bin(), "backup", "single", "big", "-o", str(out), "-j", "2"],
                            env=doomed_cluster.env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for_copy(doomed_cluster, lambda: proc.poll() is None), \
            "the backup never started copying data (or finished too soon)"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 9, f"exit {proc.returncode}:\n{err}"
    assert "backup interrupted by a signal" in err
    assert_empty_dir(tmp_path)
    deadline = time.monotonic() + 60  # backends end as soon as the server sees the client go
    while time.monotonic() < deadline:
        left = doomed_cluster.query("SELECT count(*) FROM pg_stat_activity "
                                    "WHERE application_name LIKE 'sluice%'")[0][0]
        if left == 0:
            break
        time.sleep(0.2)
    assert left == 0, f"{left} sluice sessions still on the server after the interrupt"


def test_server_stopped_mid_backup(doomed_cluster, tmp_path):
    from conftest import Sluice
    sluice = Sluice(doomed_cluster)
    out = tmp_path / "big.sql.gz"
    result = {}

    def run():
        result["proc"] = sluice.run("backup", "single", "big", "-o", out, "-j", 2, timeout=300)

    t = threading.Thread(target=run)
    t.start()
    # Stop the server once sluice is streaming table data.
    assert wait_for_copy(doomed_cluster, t.is_alive), \
        "the backup never started copying data (or finished too soon)"
    doomed_cluster.stop("fast")
    t.join(300)
    assert not t.is_alive(), "backup did not end after the server stopped"
    proc = result["proc"]
    assert proc.returncode != 0, f"backup claims success:\n{proc.stderr}"
    assert proc.returncode in (CONNECT, 5, 9), proc.stderr
    assert proc.stderr.strip(), "no message"
    assert_empty_dir(tmp_path)


# -- flags -------------------------------------------------------------------------------------

@pytest.mark.parametrize("argv, needle", [
    (["backup", "single", "postgres", "--no-such-flag"], "--no-such-flag"),
    (["backup", "single", "postgres", "-Y"], "-Y"),
    (["restore", "x.sql.gz", "--frobnicate"], "--frobnicate"),
    (["verify", "x.sql.gz", "--bogus"], "--bogus"),
    (["backup", "nonsense"], "nonsense"),
    (["frobnicate"], "frobnicate"),
])
def test_unknown_flags(sluice, tmp_path, argv, needle):
    proc = subprocess.run([sluice.bin, *argv], cwd=tmp_path, capture_output=True, text=True,
                          env=sluice.cluster.env(), timeout=60)
    assert_fails(proc, USAGE, needle)
    assert_empty_dir(tmp_path)


@pytest.mark.parametrize("flags, needle", [
    (["--compress", "lzma"], "lzma"),
    (["--compress", "gzip:99"], "gzip:99"),
    (["--compress", ""], "compress"),
    (["-j", "0"], "-j"),
    (["-j", "many"], "many"),
])
def test_bad_option_values(sluice, small_db, tmp_path, flags, needle):
    proc = sluice.run("backup", "single", small_db, "-o", tmp_path / "x.sql.gz", *flags)
    assert_fails(proc, USAGE, needle)
    assert_empty_dir(tmp_path)


def test_output_directory_missing(sluice, small_db, tmp_path):
    out = tmp_path / "no" / "such" / "dir" / "x.sql.gz"
    proc = sluice.run("backup", "single", small_db, "-o", out)
    assert_fails(proc, IO, str(tmp_path / "no" / "such" / "dir"))
    assert_empty_dir(tmp_path)


def test_restore_missing_file(pg, sluice, tmp_path):
    missing = tmp_path / "nope.sql.gz"
    target = f"never_{os.getpid()}"
    proc = sluice.run("restore", missing, "--database", target, "--create")
    assert_fails(proc, IO, str(missing))
    assert not pg.query(f"SELECT 1 FROM pg_database WHERE datname = '{target}'")
    proc = sluice.run("verify", missing)
    assert_fails(proc, IO, str(missing))


# -- damaged files -----------------------------------------------------------------------------

def damaged_copy(src, dst, how):
    data = bytearray(open(src, "rb").read())
    if how == "truncated-half":
        data = data[:len(data) // 2]
    elif how == "truncated-last-byte":
        data = data[:-1]
    elif how == "truncated-head":
        data = data[:100]
    elif how == "flip-middle":
        data[len(data) // 2] ^= 0x10
    elif how == "flip-early":
        data[len(data) // 5] ^= 0x01
    elif how == "flip-tail":
        data[len(data) - 20] ^= 0x04
    else:
        raise ValueError(how)
    with open(dst, "wb") as f:
        f.write(data)


DAMAGE = ["truncated-half", "truncated-last-byte", "truncated-head", "flip-middle",
          "flip-early", "flip-tail"]


@pytest.mark.parametrize("how", DAMAGE)
@pytest.mark.parametrize("compress", ["gzip", "zstd", "none"])
def test_damaged_file_refused(pg, sluice, good_backups, tmp_path, compress, how):
    bad = str(tmp_path / f"bad{EXT[compress]}")
    damaged_copy(good_backups[compress], bad, how)

    proc = sluice.run("verify", bad)
    assert_fails(proc, ARCHIVE, "offset")
    assert re.search(r"offset\D{0,4}\d+", proc.stderr, re.I), proc.stderr

    target = f"dmg_{os.getpid()}_{compress}_{how.replace('-', '_')}"
    pg.create_db(target)
    try:
        proc = sluice.run("restore", bad, "--database", target, "-j", 2)
        assert_fails(proc, ARCHIVE, "offset")
        if how.startswith("truncated"):
            # Without a complete index the file is refused before anything runs.
            assert is_empty_db(pg, target), "restore of a truncated file changed the database"
    finally:
        pg.drop_db(target)


def test_good_backups_verify(sluice, good_backups):
    """The undamaged originals pass: the failures above are about the damage."""
    for path in good_backups.values():
        proc = sluice.run("verify", path)
        assert proc.returncode == 0, proc.stderr


# -- restore targets ---------------------------------------------------------------------------

def test_restore_into_non_empty_database(pg, sluice, good_backups):
    target = f"nonempty_{os.getpid()}"
    pg.create_db(target)
    try:
        pg.execute("CREATE TABLE keep_me (x int); INSERT INTO keep_me VALUES (1), (2);", target)
        proc = sluice.run("restore", good_backups["gzip"], "--database", target)
        assert_fails(proc, REFUSED, target)
        out = (proc.stdout + proc.stderr).lower()
        assert "--clean" in out or "--create" in out, out
        assert pg.query("SELECT count(*) FROM keep_me", target)[0][0] == 2
        assert pg.query("SELECT count(*) FROM pg_class WHERE relname IN ('t', 'u', 'v')",
                        target)[0][0] == 0
    finally:
        pg.drop_db(target)


def test_restore_create_existing_database(pg, sluice, good_backups):
    target = f"exists_{os.getpid()}"
    pg.create_db(target)
    try:
        pg.execute("CREATE TABLE keep_me (x int)", target)
        proc = sluice.run("restore", good_backups["zstd"], "--database", target, "--create")
        assert proc.returncode != 0, "restore --create into an existing database succeeded"
        assert target in proc.stdout + proc.stderr
        assert pg.query("SELECT count(*) FROM pg_class WHERE relname IN ('t', 'u', 'v')",
                        target)[0][0] == 0
    finally:
        pg.drop_db(target)
