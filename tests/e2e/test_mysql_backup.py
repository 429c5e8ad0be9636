"""sluice backup single DB --engine mysql against a real MariaDB: the rich database
(data/mysql_rich.sql) backed up with one and four workers, restored with the real mariadb
client, and compared with mariadb-dump and CHECKSUM TABLE; hostile names; failures (server
killed mid-backup, Ctrl-C, wrong password, missing database); memory on a large table."""
import json
import os
import re
import resource
import signal
import stat
import subprocess
import sys
import time

import pytest

from conftest import HERE, sluice_bin
from mariadbserver import MariaDbServer
from sluicefile import SluiceFile

RICH = os.path.join(HERE, "data", "mysql_rich.sql")
MARKER = "/tmp/sluice-mysql-pwned"
CONNECT, SERVER, CANCELED = 3, 5, 9


@pytest.fixture(scope="module")
def server():
    s = MariaDbServer()
    try:
        s.start()
        s.sql("CREATE DATABASE rich")
        load = subprocess.run(["mariadb", *s.client_args("rich")], stdin=open(RICH, "rb"),
                              capture_output=True)
        assert load.returncode == 0, load.stderr.decode(errors="replace")
        yield s
    finally:
        s.destroy()


def run(server, *args, env=None, **kw):
    return subprocess.run([sluice_bin(), *map(str, args)], env=env or server.env(),
                          capture_output=True, text=True, timeout=600, **kw)


def backup(server, db, out, *extra):
    proc = run(server, "backup", "single", db, "-o", out, *server.conn_args(), *extra)
    assert proc.returncode == 0, proc.stderr
    return proc


def restore_with_client(server, path, db, drop_sandbox=False):
    """The file run by the real mariadb client into a new database db."""
    server.sql(f"CREATE DATABASE `{db}`")
    cat = {".zst": ["zstd", "-dc", path], ".gz": ["gzip", "-dc", path]}.get(
        os.path.splitext(path)[1], ["cat", path])
    text = subprocess.run(cat, check=True, capture_output=True).stdout
    if drop_sandbox:
        text = text.replace(b"/*M!999999\\- enable the sandbox mode */\n", b"", 1)
    proc = subprocess.run(["mariadb", *server.client_args(db)], input=text, capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return text


def normalized_dump(server, db):
    return re.sub(r"\b%s\b" % re.escape(db), "DB", server.dump(db))


def checksums(server, db):
    """CHECKSUM TABLE of every base table (names read as hex: some hold newlines)."""
    names = [bytes.fromhex(r[0]).decode() for r in server.rows(
        "SELECT HEX(TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
        "DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME", db)]
    assert len(names) > 15
    out = {}
    for t in names:
        text = server.sql("CHECKSUM TABLE `%s` EXTENDED" % t.replace("`", "``"), db)
        out[t] = text.rstrip("\n").rsplit("\t", 1)[1]
        assert out[t] != "NULL", t
    return out


def assert_same(server, src, copy):
    a, b = normalized_dump(server, src), normalized_dump(server, copy)
    assert a == b
    assert checksums(server, src) == checksums(server, copy)


@pytest.mark.parametrize("jobs,suffix", [(1, ".sql.zst"), (4, ".sql.gz"), (2, ".sql")])
def test_backup_restores_identically_with_the_mariadb_client(server, tmp_path, jobs, suffix):
    out = str(tmp_path / f"rich{suffix}")
    backup(server, "rich", out, "-j", jobs, "--chunk-size", 1)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert not os.path.exists(out + ".partial")
    verify = run(server, "verify", out)
    assert verify.returncode == 0, verify.stderr
    restore_with_client(server, out, f"copy_j{jobs}")
    assert_same(server, "rich", f"copy_j{jobs}")


def test_index_header_and_segments(server, tmp_path):
    out = str(tmp_path / "rich.sql")
    backup(server, "rich", out, "-j", 4, "--chunk-size", 1)
    f = SluiceFile.read(out)
    header = f.index["header"]
    assert header["engine"] == "mysql" and header["database"] == "rich"
    assert header["binlog_file"].startswith("binlog.") and int(header["binlog_position"]) > 0
    assert header["gtid_executed"]
    assert [header["character_set"], header["collation"]] == server.rows(
        "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM "
        "information_schema.SCHEMATA WHERE SCHEMA_NAME = 'rich'")[0]
    entries = f.index["entries"]
    assert [e["kind"] for e in entries[:2]] == ["PREAMBLE", "PRE-DATA"]
    listed = json.loads(run(server, "list", out, "--json").stdout)
    assert listed["engine"] == "mysql" and listed["header"] == header
    assert listed["segments"] == entries
    big = [e for e in entries if e["kind"] == "TABLE DATA" and e["name"] == "big"]
    assert len(big) > 1, "a table over --chunk-size is split by key ranges with -j 4"
    assert sum(e["rows"] for e in big) == 30000
    counts = {r[0]: int(r[1]) for r in server.rows(
        "SELECT 'all_types', COUNT(*) FROM all_types UNION ALL "
        "SELECT 'no_key', COUNT(*) FROM no_key", "rich")}
    for name, n in counts.items():
        assert sum(e["rows"] for e in entries if e["name"] == name
                   and e["kind"] == "TABLE DATA") == n
    text = open(out, "rb").read()
    assert text.startswith(b"-- sluice backup format 1\n/*M!999999\\- enable the sandbox mode */\n")
    # the file does not name the source database: no USE, no CREATE DATABASE, no `rich`.
    body = text.split(b"\n-- sluice-index:")[0]
    assert b"USE " not in body and b"CREATE DATABASE" not in body and b"`rich`." not in body
    assert b"`rich_other`.`parent`" in body  # cross-schema references stay qualified


def test_secondary_keys_and_foreign_keys_come_after_the_rows(server, tmp_path):
    out = str(tmp_path / "rich.sql")
    backup(server, "rich", out)
    entries = SluiceFile.read(out).index["entries"]
    pre = open(out, "rb").read()[entries[1]["offset"]:entries[1]["offset"] + entries[1]["length"]]
    create = pre.split(b"CREATE TABLE `indexed`")[1].split(b";\n")[0]
    assert b"PRIMARY KEY" in create and b"KEY `uq_email`" not in create
    assert b"FULLTEXT" not in create and b"SPATIAL" not in create
    child = pre.split(b"CREATE TABLE `fk_child`")[1].split(b";\n")[0]
    assert b"FOREIGN KEY" not in child
    # the AUTO_INCREMENT column's only key stays in the CREATE
    ai = pre.split(b"CREATE TABLE `ai_secondary`")[1].split(b";\n")[0]
    assert b"KEY `n` (`n`)" in ai
    kinds = [(e["kind"], e["phase"]) for e in entries]
    assert ("INDEX", 30) in kinds and ("FK CONSTRAINT", 40) in kinds
    assert ("TRIGGER", 40) in kinds and ("VIEW", 50) in kinds and ("EVENT", 50) in kinds


def test_restore_into_another_database_name(server, tmp_path):
    """Also with a name that needs quoting: nothing in the file names the source."""
    out = str(tmp_path / "rich.sql.zst")
    backup(server, "rich", out)
    restore_with_client(server, out, "other name")
    assert_same(server, "rich", "other name")


def test_hostile_names_run_no_client_command(server, tmp_path):
    """Names holding newlines and `\\! touch ...` stay inside quotes: even without the sandbox
    line, the mariadb client runs no command of theirs."""
    if os.path.exists(MARKER):
        os.remove(MARKER)
    out = str(tmp_path / "rich.sql")
    backup(server, "rich", out)
    text = restore_with_client(server, out, "hostile_copy", drop_sandbox=True)
    assert not os.path.exists(MARKER)
    assert b"/*M!999999" not in text.split(b"\n", 3)[1]
    for line in text.split(b"\n"):
        if line.startswith(b"-- sluice-index: "):  # JSON: a newline in a name is \\n there
            assert b"\\n\\\\! touch" in line
        elif line.startswith(b"--"):
            assert b"touch" not in line
    assert_same(server, "rich", "hostile_copy")


def lock_table(server, db, table):
    """A mariadb client holding LOCK TABLES table WRITE until its stdin closes."""
    p = subprocess.Popen(["mariadb", *server.client_args(db), "--batch", "--skip-column-names",
                          "--unbuffered"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    p.stdin.write(f"LOCK TABLES `{table}` WRITE; SELECT 'locked';\n")
    p.stdin.flush()
    assert p.stdout.readline().strip() == "locked"
    return p


def wait_for_blocked_backup(server, out):
    """Until the backup waits for the lock (reading the catalog or the rows of the locked
    table: a condition, not a time; the deadline only ends a broken run)."""
    deadline = time.monotonic() + 120
    while server.rows("SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                      "WHERE STATE LIKE 'Waiting for table%'")[0][0] == "0":
        assert time.monotonic() < deadline, "the backup never waited for the lock"
    assert os.path.exists(out + ".partial")


@pytest.fixture
def lone_server():
    """A server of the test's own, to kill."""
    s = MariaDbServer()
    try:
        s.start()
        s.sql("CREATE DATABASE d; USE d; CREATE TABLE a_first (id int PRIMARY KEY, v text);"
              "INSERT INTO a_first SELECT seq, REPEAT('v', 100) FROM seq_1_to_20000;"
              "CREATE TABLE m (id int PRIMARY KEY) ENGINE=MyISAM; INSERT INTO m VALUES (1);")
        yield s
    finally:
        s.destroy()


def test_server_killed_mid_backup_leaves_no_file(lone_server, tmp_path):
    s = lone_server
    out = str(tmp_path / "d.sql.zst")
    holder = lock_table(s, "d", "m")
    proc = subprocess.Popen([sluice_bin(), "backup", "single", "d", "-o", out, "--no-lock",
                             *s.conn_args()], env=s.env(), stderr=subprocess.PIPE, text=True)
    try:
        wait_for_blocked_backup(s, out)
        s.kill()
        err = proc.communicate(timeout=120)[1]
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode in (CONNECT, SERVER), err
    assert "backup of MySQL database \"d\" failed" in err
    assert not os.path.exists(out) and not os.path.exists(out + ".partial")


def test_ctrl_c_stops_a_blocked_backup_and_leaves_no_file(lone_server, tmp_path):
    s = lone_server
    out = str(tmp_path / "d.sql.zst")
    holder = lock_table(s, "d", "m")
    proc = subprocess.Popen([sluice_bin(), "backup", "single", "d", "-o", out, "--no-lock",
                             *s.conn_args()], env=s.env(), stderr=subprocess.PIPE, text=True)
    try:
        wait_for_blocked_backup(s, out)
        proc.send_signal(signal.SIGINT)
        err = proc.communicate(timeout=120)[1]
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == CANCELED, err
    assert "interrupted" in err
    assert not os.path.exists(out) and not os.path.exists(out + ".partial")


def test_wrong_password_is_not_shown(server, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    secret = "wrong-secret-pw-123"
    (home / ".my.cnf").write_text(f"[client]\npassword={secret}\n")
    os.chmod(home / ".my.cnf", 0o600)
    out = str(tmp_path / "x.sql")
    proc = run(server, "backup", "single", "rich", "-o", out, *server.conn_args(),
               env=server.env(HOME=str(home)))
    assert proc.returncode == CONNECT
    assert secret not in proc.stderr and "Access denied" in proc.stderr
    assert not os.path.exists(out) and not os.path.exists(out + ".partial")


def test_missing_database_is_a_clear_error(server, tmp_path):
    out = str(tmp_path / "x.sql")
    proc = run(server, "backup", "single", "no_such_db", "-o", out, *server.conn_args())
    assert proc.returncode == CONNECT
    assert "no_such_db" in proc.stderr and "Unknown database" in proc.stderr
    assert not os.path.exists(out) and not os.path.exists(out + ".partial")


def test_statements_stay_under_max_statement_size(server, tmp_path):
    out = str(tmp_path / "rich.sql")
    backup(server, "rich", out, "--max-statement-size", 64)
    text = open(out, "rb").read().split(b"\n-- sluice-index:")[0]
    inserts = [s for s in text.split(b";\n") if s.lstrip(b"\n").startswith(b"INSERT INTO")]
    big_rows = 0
    for stmt in inserts:
        if len(stmt) + 2 > 64 << 10:
            assert stmt.count(b"),\n(") == 0, "only a single oversized row may exceed the size"
            big_rows += 1
    assert big_rows >= 2  # the multi-megabyte rows of big_values
    assert len([s for s in inserts if b"INSERT INTO `big`" in s]) > 10
    restore_with_client(server, out, "small_statements")
    assert_same(server, "rich", "small_statements")


def peak_rss_kib(cmd, env):
    """Peak RSS of cmd, measured by a process of its own so that no other child counts."""
    code = ("import resource, subprocess, sys\n"
            "p = subprocess.run(sys.argv[1:], capture_output=True)\n"
            "sys.stderr.buffer.write(p.stderr)\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
            "sys.exit(p.returncode)\n")
    p = subprocess.run([sys.executable, "-c", code, *cmd], env=env, capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stderr
    return int(p.stdout.strip())


def test_memory_stays_small_on_a_large_table(server, tmp_path):
    server.sql("CREATE DATABASE mem; USE mem; CREATE TABLE wide (id int PRIMARY KEY, v text);"
               "INSERT INTO wide SELECT seq, REPEAT(CHAR(65 + seq % 26), 1000) "
               "FROM seq_1_to_60000;")
    assert int(server.rows("SELECT SUM(LENGTH(v)) FROM mem.wide")[0][0]) > 50_000_000
    out = str(tmp_path / "mem.sql.zst")
    kib = peak_rss_kib([sluice_bin(), "backup", "single", "mem", "-o", out,
                        *server.conn_args()], server.env())
    assert kib < 40 * 1024, f"peak RSS {kib} KiB for a 60 MB table"
    assert SluiceFile.read(out).index["entries"][2]["rows"] == 60000
