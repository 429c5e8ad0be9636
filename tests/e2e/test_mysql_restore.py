"""sluice restore --engine mysql: mysqldump scripts and sluice MySQL files restored into a real
MariaDB, compared with mariadb-dump (deterministic view) and CHECKSUM TABLE."""
import gzip
import os
import subprocess

import pytest

from conftest import sluice_bin
from mariadbserver import MARIADB_BINDIR, MariaDbServer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
USAGE, CONNECT, ARCHIVE, SERVER, REFUSED = 2, 3, 4, 5, 8

_count = [0]


def name(prefix):
    _count[0] += 1
    return f"mr_{prefix}_{os.getpid()}_{_count[0]}"


@pytest.fixture(scope="module")
def srv():
    with MariaDbServer() as s:
        yield s


def driver(name_):
    return os.path.join(os.path.dirname(sluice_bin()), name_)


def run(srv, *args, env=None):
    return subprocess.run([sluice_bin(), *map(str, args)], env=env or srv.env(),
                          capture_output=True, text=True, timeout=600)


def restore(srv, path, *args, env=None):
    return run(srv, "restore", path, *srv.conn_args(), *args, env=env)


def ok(proc):
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stderr}"
    return proc


def fails(proc, code, *texts):
    assert proc.returncode == code, f"exit {proc.returncode}, want {code}\n{proc.stderr}"
    for t in texts:
        assert t in proc.stderr, f"{t!r} not in:\n{proc.stderr}"
    return proc


def tables(srv, db):
    return sorted(r[0] for r in srv.rows(
        f"SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{db}'"))


def exists(srv, db):
    return srv.rows(f"SELECT COUNT(*) FROM information_schema.SCHEMATA "
                    f"WHERE SCHEMA_NAME = '{db}'") == [["1"]]


def assert_same(srv, a, b):
    """Same schema and rows: the dumps (names replaced) and every table's checksum."""
    da = srv.dump(a).replace(a, "DB")
    db_ = srv.dump(b).replace(b, "DB")
    assert da == db_
    # hex: a name may hold a tab or a newline
    base = [bytes.fromhex(r[0]).decode() for r in srv.rows(
        "SELECT HEX(TABLE_NAME) FROM information_schema.TABLES WHERE "
        f"TABLE_SCHEMA = '{a}' AND TABLE_TYPE = 'BASE TABLE'")]
    assert base
    for t in base:
        q = t.replace("`", "``")
        ca = srv.sql(f"CHECKSUM TABLE `{a}`.`{q}`").rstrip("\n").rsplit("\t", 1)[1]
        cb = srv.sql(f"CHECKSUM TABLE `{b}`.`{q}`").rstrip("\n").rsplit("\t", 1)[1]
        assert ca == cb, t


def mariadb_dump(srv, db, path, *extra):
    out = subprocess.run([os.path.join(MARIADB_BINDIR, "mariadb-dump"), *srv.client_args(),
                          "--routines", "--triggers", "--events", *extra, db],
                         capture_output=True, check=True).stdout
    with open(path, "wb") as f:
        f.write(out)
    return out


VARIED = r"""
CREATE TABLE parent (id int PRIMARY KEY, label varchar(40) CHARACTER SET utf8mb4 NOT NULL,
  price decimal(12,3), born datetime(6), doc json, raw varbinary(64), flag bit(3),
  kind enum('a','b;c') DEFAULT 'a', tags set('x','y'), f double, d date, UNIQUE KEY (label));
CREATE TABLE child (id bigint AUTO_INCREMENT PRIMARY KEY, parent_id int NOT NULL,
  note text, blobby longblob, KEY (parent_id),
  CONSTRAINT fk_parent FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE)
  ENGINE=InnoDB DEFAULT CHARSET=latin1;
CREATE TABLE nokey (a int, b varchar(10)) ENGINE=MyISAM;
INSERT INTO parent VALUES
  (1, 'h\u00e9llo; w\u00f6rld', 12.5, '2024-02-29 12:34:56.123456', '{"a": [1, "x;y"]}',
   x'00ff0a0d275c', b'101', 'b;c', 'x,y', 1.5e300, '1999-12-31'),
  (2, 'it''s "quoted" \\ back', NULL, NULL, NULL, '', b'0', 'a', '', -0.0, NULL),
  (3, '-- not a comment; /* nor this */ # nor', -1, '1970-01-01 00:00:01', 'null', NULL,
   NULL, 'a', 'y', NULL, '2000-01-01'),
  (4, CONCAT('tab', CHAR(9), 'nl', CHAR(10), 'cr', CHAR(13), 'nul', CHAR(0)), 0, NULL, '[]',
   x'00', b'111', 'a', 'x', 0, NULL);
INSERT INTO child (parent_id, note, blobby) VALUES (1, 'one', REPEAT(x'00ff', 5000)),
  (1, REPEAT('long text ', 3000), NULL), (2, '\u20ac', x''), (3, NULL, NULL);
INSERT INTO nokey VALUES (1, 'x'), (1, 'x'), (NULL, NULL);
CREATE VIEW v_parent AS SELECT p.id, p.label, COUNT(c.id) AS n FROM parent p
  LEFT JOIN child c ON c.parent_id = p.id GROUP BY p.id, p.label;
DELIMITER ;;
CREATE TRIGGER child_bi BEFORE INSERT ON child FOR EACH ROW
BEGIN
  IF NEW.note IS NULL THEN SET NEW.note = 'none;'; END IF;
END;;
CREATE PROCEDURE count_children(IN pid int, OUT n int)
BEGIN
  SELECT COUNT(*) INTO n FROM child WHERE parent_id = pid;
  SELECT 'done;' AS s;
END;;
CREATE FUNCTION twice(x int) RETURNS int DETERMINISTIC RETURN x * 2;;
DELIMITER ;
CREATE EVENT ev_nothing ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' DISABLE
  DO DELETE FROM nokey WHERE a = -1;
"""


@pytest.fixture(scope="module")
def varied(srv):
    db = name("varied")
    srv.sql(f"CREATE DATABASE `{db}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    srv.sql(VARIED, db)
    return db


# ---- plain mysqldump scripts ----

def test_mysqldump_script(srv, varied, tmp_path):
    path = tmp_path / "varied.sql"
    mariadb_dump(srv, varied, path)
    copy = name("copy")
    # a script of one database does not carry the database's own defaults
    srv.sql(f"CREATE DATABASE `{copy}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    ok(restore(srv, path, "--database", copy))
    assert_same(srv, varied, copy)


@pytest.mark.parametrize("codec", ["gzip", "zstd"])
def test_mysqldump_script_compressed(srv, varied, tmp_path, codec):
    plain = tmp_path / "varied.sql"
    data = mariadb_dump(srv, varied, plain, "--extended-insert")
    path = tmp_path / f"varied.sql.{'gz' if codec == 'gzip' else 'zst'}"
    if codec == "gzip":
        path.write_bytes(gzip.compress(data))
    else:
        subprocess.run(["zstd", "-q", "-o", str(path), str(plain)], check=True)
    copy = name("z")
    srv.sql(f"CREATE DATABASE `{copy}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    ok(restore(srv, path, "--database", copy))
    assert_same(srv, varied, copy)


def test_script_without_database_runs_its_use(srv, varied, tmp_path):
    """A mysqldump --databases script chooses its database itself (CREATE DATABASE, USE)."""
    other = name("dbs")
    path = tmp_path / "dbs.sql"
    data = mariadb_dump(srv, varied, path, "--databases")
    path.write_bytes(data.replace(varied.encode(), other.encode()))
    ok(restore(srv, path))
    assert_same(srv, varied, other)


# ---- sluice MySQL files, built with the file writer ----

PREAMBLE = ("-- sluice backup format 1\n/*M!999999\\- enable the sandbox mode */\n"
            "/*!40101 SET NAMES utf8mb4 */;\nSET FOREIGN_KEY_CHECKS = 0;\nSET UNIQUE_CHECKS = 0;\n"
            "SET SQL_MODE = 'NO_AUTO_VALUE_ON_ZERO';\n")
PRE_DATA = """
CREATE TABLE a (id int PRIMARY KEY, v varchar(50), n decimal(10,2), j json);
CREATE TABLE b (id int PRIMARY KEY, a_id int, t text);
CREATE TABLE c (id bigint PRIMARY KEY, x double, bin varbinary(16));
CREATE TABLE v_ab (id int, v varchar(50));
"""
INDEX = ["ALTER TABLE a ADD INDEX a_v (v);\n", "ALTER TABLE a ADD INDEX a_n (n);\n",
         "ALTER TABLE b ADD INDEX b_a (a_id);\n"]
POST = """ALTER TABLE b ADD CONSTRAINT fk_b_a FOREIGN KEY (a_id) REFERENCES a (id);
DROP TABLE IF EXISTS v_ab;
CREATE VIEW v_ab AS SELECT a.id, a.v FROM a JOIN b ON b.a_id = a.id;
DELIMITER ;;
/*!50003 CREATE*/ /*!50003 TRIGGER b_bi BEFORE INSERT ON b FOR EACH ROW
BEGIN SET NEW.t = CONCAT(NEW.t, ';'); END */;;
CREATE PROCEDURE p_count(OUT n int) BEGIN SELECT COUNT(*) INTO n FROM a; END ;;
DELIMITER ;
"""


def inserts(table, rows, per=50):
    out = []
    for i in range(0, len(rows), per):
        out.append(f"INSERT INTO `{table}` VALUES " + ",".join(rows[i:i + per]) + ";\n")
    return "".join(out)


def data_segments():
    a = [f"({i},'v{i % 17};''x''',{i}.25,'{{\"k\": {i}}}')" for i in range(1, 401)]
    b = [f"({i},{1 + i % 400},'t\\n{i}')" for i in range(1, 301)]
    c = [f"({i},{i}e10,x'{i:08x}00ff')" for i in range(1, 201)]
    return [("a", 200, inserts("a", a[:200])), ("a", 200, inserts("a", a[200:])),
            ("b", 300, inserts("b", b)), ("c", 200, inserts("c", c))]


def build_file(path, tmp_path, db, codec="none", data=None, engine="mysql"):
    """A sluice MySQL backup of the schema above; returns the whole script (in order)."""
    segs = [(0, 0, "PREAMBLE", "-", "-", -1, PREAMBLE),
            (10, 0, "PRE-DATA", "-", "-", -1, PRE_DATA)]
    for t, rows, text in data if data is not None else data_segments():
        segs.append((20, 1, "TABLE DATA", db, t, rows, text))
    for text in INDEX:
        segs.append((30, 1, "INDEX", db, text.split()[2], -1, text))
    segs.append((40, 0, "POST", "-", "-", -1, POST))
    args = [driver("bfile_driver"), str(path), codec, "--header", f"database={db}"]
    if engine:
        args += ["--header", f"engine={engine}"]
    for i, (phase, par, kind, schema, nm, rows, text) in enumerate(segs):
        piece = tmp_path / f"seg{i}.sql"
        piece.write_text(text)
        args += ["--seg", str(phase), str(par), kind, schema, nm, str(rows), str(piece)]
    subprocess.run(args, check=True)
    return "".join(s[6] for s in segs)


@pytest.fixture(scope="module")
def built(srv, tmp_path_factory):
    """The source database (the script run by the mariadb client) and its sluice file."""
    tmp = tmp_path_factory.mktemp("built")
    db = name("bsrc")
    path = tmp / "b.sql.gz"
    script = build_file(path, tmp, db, codec="gzip")
    srv.sql(f"CREATE DATABASE `{db}`")
    srv.sql(script.replace("/*M!999999\\- enable the sandbox mode */\n", ""), db)
    return db, path


@pytest.mark.parametrize("jobs", [1, 4])
def test_sluice_file(srv, built, jobs):
    src, path = built
    copy = name(f"j{jobs}")
    proc = ok(restore(srv, path, "--database", copy, "--create", "-j", jobs))
    assert "900 rows" in proc.stderr, proc.stderr
    assert_same(srv, src, copy)


def test_sluice_file_single_transaction(srv, built):
    src, path = built
    copy = name("one")
    ok(restore(srv, path, "--database", copy, "--create", "--single-transaction"))
    assert_same(srv, src, copy)
    fails(restore(srv, path, "--database", copy, "--single-transaction", "-j", 2), USAGE,
          "--single-transaction")


def test_default_database_is_the_header(srv, tmp_path):
    db = name("hdr")
    path = tmp_path / "h.sql"
    build_file(path, tmp_path, db)
    ok(restore(srv, path, "--create"))
    assert tables(srv, db) == ["a", "b", "c", "v_ab"]


def test_verify(srv, built, tmp_path):
    _, path = built
    proc = run(srv, "verify", path)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    cut = tmp_path / "cut.sql.gz"
    cut.write_bytes(path.read_bytes()[:-10])
    fails(run(srv, "verify", cut), ARCHIVE, "offset")


# ---- the target ----

def test_non_empty_target_refused_then_clean(srv, built):
    src, path = built
    copy = name("ne")
    srv.sql(f"CREATE DATABASE `{copy}` CHARACTER SET latin1;"
            f"CREATE TABLE `{copy}`.keep_out (x int); INSERT INTO `{copy}`.keep_out VALUES (7)")
    fails(restore(srv, path, "--database", copy), REFUSED, "not empty", "--clean")
    assert tables(srv, copy) == ["keep_out"]
    ok(restore(srv, path, "--database", copy, "--clean"))
    assert "keep_out" not in tables(srv, copy)
    assert srv.rows("SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA "
                    f"WHERE SCHEMA_NAME = '{copy}'") == [["latin1"]]
    # the data itself: the same rows as the source
    for t in ("a", "b", "c"):
        assert srv.rows(f"CHECKSUM TABLE `{copy}`.`{t}`")[0][1] == \
            srv.rows(f"CHECKSUM TABLE `{src}`.`{t}`")[0][1]


def test_create(srv, built):
    src, path = built
    copy = name("cr")
    fails(restore(srv, path, "--database", copy), USAGE, "does not exist", "--create")
    assert not exists(srv, copy)
    ok(restore(srv, path, "--database", copy, "--create"))
    fails(restore(srv, path, "--database", copy, "--create"), REFUSED, "exists")
    ok(restore(srv, path, "--database", copy, "--create", "--clean"))
    assert_same(srv, src, copy)


def schema_defaults(srv, db):
    return srv.rows("SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM "
                    f"information_schema.SCHEMATA WHERE SCHEMA_NAME = '{db}'")


def test_create_keeps_source_charset_and_collation(srv, tmp_path):
    src, copy = name("cs"), name("cscopy")
    # neither the server's defaults nor the character set's own default collation
    want = [["latin2", "latin2_croatian_ci"]]
    assert srv.rows("SELECT @@character_set_server") != [["latin2"]]
    srv.sql(f"CREATE DATABASE `{src}` CHARACTER SET latin2 COLLATE latin2_croatian_ci")
    srv.sql("CREATE TABLE t (id int PRIMARY KEY, s varchar(10)); INSERT INTO t VALUES (1, 'x')",
            src)
    assert schema_defaults(srv, src) == want
    path = tmp_path / "cs.sql"
    ok(run(srv, "backup", "single", src, *srv.conn_args(), "-o", path))
    ok(restore(srv, path, "--database", copy, "--create"))
    assert schema_defaults(srv, copy) == want
    assert srv.rows(f"SELECT id, s FROM `{copy}`.t") == [["1", "x"]]


def test_odd_database_name(srv, built):
    src, path = built
    copy = name("odd") + "`x'y"
    ok(restore(srv, path, "--database", copy, "--create"))
    assert srv.rows(f"SELECT COUNT(*) FROM `{copy.replace('`', '``')}`.a") == [["400"]]
    srv.sql(f"DROP DATABASE `{copy.replace('`', '``')}`")


# ---- errors ----

def test_error_names_segment_line_code_sqlstate(srv, tmp_path):
    db = name("err")
    bad = [("a", 2, "INSERT INTO a VALUES (1,'x',1,NULL);\n"
                    "INSERT INTO a VALUES (1,'y',2,NULL);\n")]
    path = tmp_path / "err.sql"
    build_file(path, tmp_path, db, data=bad)
    proc = fails(restore(srv, path, "--create"), SERVER, "ERROR 1062", "23000",
                 "TABLE DATA", "line 2", "INSERT INTO a VALUES (1,'y'")
    assert "segments" in proc.stderr
    # nothing after the failed statement ran
    assert srv.rows(f"SELECT COUNT(*) FROM `{db}`.a") == [["1"]]
    assert srv.rows(f"SHOW INDEX FROM `{db}`.a WHERE Key_name = 'a_v'") == []


def test_secret_redacted_in_error(srv, tmp_path):
    path = tmp_path / "pw.sql"
    path.write_text("CREATE USER IF NOT EXISTS 'u'@'%' IDENTIFIED BY 'hunter2' "
                    "PASSWORD EXPIRE BOGUS;\n")
    db = name("pw")
    proc = fails(restore(srv, path, "--database", db, "--create"), SERVER, "line 1")
    assert "hunter2" not in proc.stderr


def test_truncated_file_refused_before_anything(srv, built, tmp_path):
    _, path = built
    cut = tmp_path / "cut.sql.gz"
    cut.write_bytes(path.read_bytes()[:-10])
    db = name("cut")
    fails(restore(srv, cut, "--database", db, "--create"), ARCHIVE, "offset")
    assert not exists(srv, db)


def test_corrupt_table_data_refused_before_anything(srv, tmp_path):
    db = name("flip")
    path = tmp_path / "flip.sql"
    build_file(path, tmp_path, db)
    data = bytearray(path.read_bytes())
    pos = data.index(b"'v5;''x'''")
    data[pos + 2] = ord("6")  # still valid SQL, a different value
    path.write_bytes(bytes(data))
    fails(restore(srv, path, "--create"), ARCHIVE, "offset")
    assert not exists(srv, db)  # refused before anything runs


def test_corrupt_index_refused(srv, built, tmp_path):
    db = name("idx")
    path = tmp_path / "i.sql"
    build_file(path, tmp_path, db)
    data = bytearray(path.read_bytes())
    pos = data.index(b"-- sluice-index: ")
    data[pos + 40] ^= 1
    path.write_bytes(bytes(data))
    fails(restore(srv, path, "--create"), ARCHIVE)
    assert not exists(srv, db)


def test_wrong_password(srv, built, tmp_path):
    _, path = built
    home = tmp_path / "home"
    home.mkdir()
    (home / ".my.cnf").write_text("[client]\npassword=not-the-password\n")
    os.chmod(home / ".my.cnf", 0o600)
    proc = fails(restore(srv, path, "--database", name("pw"), "--create",
                         env=srv.env(HOME=str(home))), CONNECT, "Access denied")
    assert "not-the-password" not in proc.stderr


@pytest.mark.parametrize("line", ["\\! touch {x}", "system touch {x}",
                                  "/*!50000 \\! touch {x} */;"])
def test_client_command_refused(srv, tmp_path, line):
    x = tmp_path / "pwned"
    path = tmp_path / "hostile.sql"
    path.write_text("CREATE TABLE t (a int);\n" + line.format(x=x) + "\nSELECT 1;\n")
    db = name("cc")
    fails(restore(srv, path, "--database", db, "--create"), ARCHIVE, "refused", "line 2")
    assert not x.exists()
    assert not exists(srv, db)  # the file is read whole before anything runs


def test_client_command_in_sluice_file_refused(srv, tmp_path):
    x = tmp_path / "pwned"
    db = name("ccf")
    path = tmp_path / "hostile.sql"
    build_file(path, tmp_path, db, data=[("a", 1, f"\\! touch {x}\n")])
    fails(restore(srv, path, "--create", "-j", 2), ARCHIVE, "refused", "TABLE DATA", "line 1")
    assert not x.exists()
    assert not exists(srv, db)


def test_engine_mismatch(srv, built, tmp_path):
    _, path = built
    fails(run(srv, "restore", path, "--engine", "postgres", "--database", "x"), USAGE,
          "MySQL backup")
    pgfile = tmp_path / "pg.sql"
    build_file(pgfile, tmp_path, "x", engine=None)
    fails(restore(srv, pgfile, "--database", name("pg")), USAGE, "PostgreSQL backup")


def test_engine_from_the_header(srv, built):
    """Without --engine, a file whose header says mysql goes to the MySQL restore."""
    src, path = built
    copy = name("auto")
    ok(run(srv, "restore", path, "-h", srv.host, "-p", srv.port, "-U", srv.user,
           "--database", copy, "--create"))
    assert_same(srv, src, copy)


def test_server_killed_mid_restore(tmp_path):
    with MariaDbServer() as s:
        path = tmp_path / "slow.sql"
        path.write_text("CREATE TABLE t (a int);\nINSERT INTO t VALUES (1);\n"
                        "SELECT SLEEP(120);\nINSERT INTO t VALUES (2);\n")
        db = name("kill")
        s.sql(f"CREATE DATABASE `{db}`")
        proc = subprocess.Popen([sluice_bin(), "restore", str(path), *s.conn_args(),
                                 "--database", db], env=s.env(), stderr=subprocess.PIPE,
                                text=True)
        try:
            # wait until the SLEEP runs (a condition, not a time)
            while not s.rows("SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                             "WHERE INFO LIKE 'SELECT SLEEP%'") == [["1"]]:
                assert proc.poll() is None, proc.stderr.read()
            s.kill()
            err = proc.communicate(timeout=120)[1]
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == CONNECT, err
        assert "line 3" in err and "SELECT SLEEP" in err, err


def test_statement_over_the_limit(srv, tmp_path):
    path = tmp_path / "big.sql"
    path.write_text("CREATE TABLE t (v longtext);\n\nINSERT INTO t VALUES ('"
                    + "x" * (2 << 20) + "');\n")
    db = name("big")
    fails(restore(srv, path, "--database", db, "--create", "--max-statement-size", "1"),
          ARCHIVE, "longer than 1048576 bytes", "line 3")
    assert not exists(srv, db)


def test_signal_stops_running_statement(srv, tmp_path):
    """SIGTERM kills the statement that runs (it would run for minutes) and exits 9."""
    path = tmp_path / "slow.sql"
    db = name("sig")
    path.write_text(f"CREATE TABLE t (a int);\nSELECT SLEEP(300) AS `{db}`;\n"
                    "INSERT INTO t VALUES (2);\n")
    proc = subprocess.Popen([sluice_bin(), "restore", str(path), *srv.conn_args(),
                             "--database", db, "--create"], env=srv.env(),
                            stderr=subprocess.PIPE, text=True)
    try:
        while not srv.rows("SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                           f"WHERE INFO LIKE 'SELECT SLEEP(300) AS `{db}`'") == [["1"]]:
            assert proc.poll() is None, proc.stderr.read()
        proc.terminate()
        err = proc.communicate(timeout=120)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 9, err
    assert "interrupted" in err, err
    assert srv.rows(f"SELECT COUNT(*) FROM `{db}`.t") == [["0"]]


def binlog_position(srv):
    return srv.rows("SHOW MASTER STATUS")[0][:2]


def test_skip_binlog(srv, built):
    _, path = built
    before = binlog_position(srv)
    ok(restore(srv, path, "--database", name("nb"), "--create", "-j", 2, "--skip-binlog"))
    # only the CREATE DATABASE of the target's setup is logged (before the preamble runs)
    logged = srv.sql(f"SHOW BINLOG EVENTS IN '{before[0]}' FROM {before[1]}")
    assert "CREATE DATABASE" in logged
    assert "INSERT INTO" not in logged and "CREATE TABLE" not in logged, logged
    before = binlog_position(srv)
    ok(restore(srv, path, "--database", name("b"), "--create", "-j", 2))
    logged = srv.sql(f"SHOW BINLOG EVENTS IN '{before[0]}' FROM {before[1]}")
    assert "CREATE TABLE" in logged


# ---- round trip through sluice backup --engine mysql ----

RICH = os.path.join(HERE, "data", "mysql_rich.sql")


@pytest.fixture(scope="module")
def rich_backup(srv, tmp_path_factory):
    db = name("rich")
    srv.sql(f"CREATE DATABASE `{db}`")
    with open(RICH) as f:
        srv.sql(f.read(), db)
    path = tmp_path_factory.mktemp("rich") / "rich.sql.gz"
    ok(run(srv, "backup", "single", db, *srv.conn_args(), "-o", path, "-j", 2))
    return db, path


@pytest.mark.skipif(not os.path.exists(RICH), reason="the MySQL backup side is not in this tree")
@pytest.mark.parametrize("jobs", [1, 4])
def test_round_trip_rich(srv, rich_backup, jobs):
    src, path = rich_backup
    copy = name(f"rt{jobs}")
    proc = ok(restore(srv, path, "--database", copy, "--create", "-j", jobs))
    assert "restore done" in proc.stderr
    assert_same(srv, src, copy)
