"""sluice status --engine mysql against a real MariaDB: what the server is (kind, version,
uptime, read-only), its binary log (format, position, GTID) and replication role, TLS, the
settings that matter, and every schema but the system ones with tables, rows and size; as text
and as --json, compared with what the server itself says."""
import json

import pytest

from conftest import Sluice
from mariadbserver import ROOT_PASSWORD, MariaDbServer


@pytest.fixture(scope="module")
def my():
    with MariaDbServer() as server:
        server.sql("""
            CREATE DATABASE st_shop CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
            CREATE TABLE st_shop.orders (id int PRIMARY KEY, note varchar(100));
            CREATE TABLE st_shop.items (id int PRIMARY KEY) ENGINE=MyISAM;
            CREATE VIEW st_shop.recent AS SELECT id FROM st_shop.orders;
            USE st_shop;
            INSERT INTO st_shop.orders SELECT seq, repeat('x', 50) FROM seq_1_to_300;
            INSERT INTO st_shop.items SELECT seq FROM seq_1_to_7;
            ANALYZE TABLE st_shop.orders, st_shop.items;
            CREATE DATABASE st_legacy CHARACTER SET latin1;
            CREATE DATABASE st_empty;
        """)
        yield server


@pytest.fixture
def sluice():
    return Sluice(None)


def status_json(sluice, my, *extra, env=None):
    proc = sluice.run("status", "--json", *my.conn_args(), *extra, env=env or my.env())
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def schema(doc, name):
    found = [s for s in doc["schemas"] if s["name"] == name]
    assert len(found) == 1, doc["schemas"]
    return found[0]


def test_server_and_user(sluice, my):
    doc = status_json(sluice, my)
    version, comment = my.rows("SELECT VERSION(), @@version_comment")[0]
    assert doc["engine"] == "mysql"
    server = doc["server"]
    assert server["kind"] == "MariaDB"
    assert server["version"] == version
    assert server["version_comment"] == comment
    assert server["version_num"] // 10000 == int(version.split(".")[0])
    assert server["port"] == my.port
    assert server["connection"] == "127.0.0.1 via TCP/IP"
    assert server["uptime_seconds"] >= 0
    assert server["read_only"] is False
    assert doc["user"]["name"] == "root@127.0.0.1"
    assert doc["database"] is None
    assert doc["settings"]["max_allowed_packet"] == "67108864"
    assert doc["settings"]["character_set_server"] == "utf8mb4"


def test_read_only(sluice, my):
    my.sql("SET GLOBAL read_only = 1")
    try:
        doc = status_json(sluice, my)
        text = sluice.run("status", *my.conn_args(), env=my.env())
    finally:
        my.sql("SET GLOBAL read_only = 0")
    assert doc["server"]["read_only"] is True
    assert "(read-only)" in text.stdout.splitlines()[0]


def test_binlog_position_and_gtid(sluice, my):
    my.sql("INSERT INTO st_shop.orders VALUES (1000, 'moves the binlog')")
    doc = status_json(sluice, my)
    # no write between: the server's own view is the same
    file, pos = my.rows("SHOW MASTER STATUS")[0][:2]
    gtid = my.rows("SELECT @@gtid_binlog_pos")[0][0]
    assert doc["binlog"] == {"enabled": True, "format": "ROW", "file": file,
                             "position": int(pos), "gtid": gtid}
    text = sluice.run("status", *my.conn_args(), env=my.env()).stdout
    assert f"Binlog:    on, format ROW, position {file}:{pos}, GTID {gtid}\n" in text
    assert "Replica:   no\n" in text
    assert doc["replication"] == {"role": "none"}


def test_binlog_off():
    with MariaDbServer(binlog=False) as plain:
        doc = status_json(Sluice(None), plain)
        assert doc["binlog"]["enabled"] is False
        assert "file" not in doc["binlog"] and "gtid" not in doc["binlog"]
        text = Sluice(None).run("status", *plain.conn_args(), env=plain.env()).stdout
        assert "Binlog:    off\n" in text


def test_schemas(sluice, my):
    doc = status_json(sluice, my)
    names = [s["name"] for s in doc["schemas"]]
    for system in ("mysql", "sys", "information_schema", "performance_schema"):
        assert system not in names
    assert names == sorted(names)
    shop = schema(doc, "st_shop")
    assert shop["tables"] == 2
    assert shop["views"] == 1
    assert shop["charset"] == "utf8mb4"
    assert shop["collation"] == "utf8mb4_unicode_ci"
    size = int(my.rows("SELECT SUM(DATA_LENGTH + INDEX_LENGTH) FROM information_schema.TABLES"
                       " WHERE TABLE_SCHEMA = 'st_shop'")[0][0])
    assert shop["size_bytes"] == size > 0
    rows = int(my.rows("SELECT SUM(TABLE_ROWS) FROM information_schema.TABLES"
                       " WHERE TABLE_SCHEMA = 'st_shop'")[0][0])
    assert shop["rows_estimate"] == rows >= 300
    assert schema(doc, "st_legacy")["charset"] == "latin1"
    assert schema(doc, "st_empty") == {
        "name": "st_empty", "charset": "utf8mb4", "collation": "utf8mb4_general_ci",
        "tables": 0, "views": 0, "rows_estimate": 0, "size_bytes": 0, "size": "0 B"}


def test_text(sluice, my):
    proc = sluice.run("status", *my.conn_args(), env=my.env())
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("Server:    MariaDB 10.")
    assert lines[1].startswith("Uptime:    ")
    assert "User:      root@127.0.0.1" in lines
    assert "TLS:       off" in lines
    header = next(i for i, l in enumerate(lines) if l.startswith("Schemas"))
    assert lines[header + 1].split() == ["NAME", "TABLES", "VIEWS", "ROWS", "(EST.)", "SIZE",
                                         "BYTES", "CHARSET", "COLLATION"]
    shop = next(l for l in lines if l.startswith("  st_shop "))
    assert shop.split()[1:3] == ["2", "1"]
    assert "Settings:" in lines


def test_hostile_schema_name_is_escaped(sluice, my):
    my.sql("CREATE DATABASE `st_evil\x1b]0;owned\x07\nServer:    forged`")
    try:
        proc = sluice.run("status", *my.conn_args(), env=my.env())
        doc = status_json(sluice, my)
    finally:
        my.sql("DROP DATABASE `st_evil\x1b]0;owned\x07\nServer:    forged`")
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout
    assert "\nServer:    forged" not in proc.stdout
    assert "st_evil\\e]0;owned\\x07\\nServer:    forged" in proc.stdout
    assert "st_evil\x1b]0;owned\x07\nServer:    forged" in [s["name"] for s in doc["schemas"]]


def test_user_without_privileges(sluice, my, tmp_path):
    """What the user may not read is null with the server's reason; the schemas are those it
    sees."""
    my.sql("CREATE USER 'st_reader'@'127.0.0.1' IDENTIFIED BY 'reader-pw';"
           "GRANT SELECT ON st_shop.* TO 'st_reader'@'127.0.0.1';")
    home = tmp_path / "home"
    home.mkdir()
    env = dict(my.env(), HOME=str(home))
    url = f"mysql://st_reader:reader-pw@127.0.0.1:{my.port}/st_shop"
    proc = sluice.run("status", "--json", "-d", url, env=env)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [s["name"] for s in doc["schemas"]] == ["st_shop"]
    assert doc["database"] == "st_shop"
    assert doc["binlog"]["enabled"] is True
    assert doc["binlog"]["file"] is None and doc["binlog"]["position"] is None
    assert "Access denied" in doc["binlog"]["unreadable"]
    assert doc["replication"]["role"] is None
    assert "Access denied" in doc["replication"]["unreadable"]
    text = sluice.run("status", "-d", url, env=env).stdout
    assert "Replica:   unknown (no privilege to read the replica status)" in text
    assert "(position: no privilege to read it)" in text


def test_replica(sluice, my):
    """A second server replicating from the first says so, with its source."""
    with MariaDbServer(settings={"server-id": "2"}) as replica:
        replica.sql(f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={my.port},"
                    f" MASTER_USER='root', MASTER_PASSWORD='{ROOT_PASSWORD}',"
                    " MASTER_USE_GTID=no; START SLAVE;")
        doc = status_json(sluice, replica)
        r = doc["replication"]
        assert r["role"] == "replica"
        assert (r["source_host"], r["source_port"]) == ("127.0.0.1", str(my.port))
        text = sluice.run("status", *replica.conn_args(), env=replica.env()).stdout
        assert f"Replica:   of 127.0.0.1:{my.port} (IO " in text
        replica.sql("STOP SLAVE")
