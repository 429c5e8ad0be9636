"""proxy/sql against PostgreSQL 15 itself, through tests/drivers/proxysql_driver: what the
analysis trusts by name must be what the catalog says (every function a cacheable SELECT may
call exists in pg_catalog with no volatile form, and stable forms only where the cache key
covers them; every cast type and operator likewise), and what it calls a read or a write must be
what the server lets a READ ONLY transaction do."""
import os
import subprocess

import psycopg
import pytest

DRIVER = os.path.join(os.path.dirname(os.environ.get("SLUICE_BIN") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "build",
    "sluice")), "proxysql_driver")

# Stable only through TimeZone (timestamptz forms) or a named encoding (length(bytea, name)).
STABLE_FUNCS = {"extract", "date_part", "date_trunc", "timezone", "overlaps", "generate_series",
                "length"}
# Stable input: date/time types read the clock for 'now' (checked on constants and parameters);
# ranges only because their subtype could be.
STABLE_TYPES = {"date", "time", "timetz", "timestamp", "timestamptz", "interval", "int4range",
                "int8range", "numrange"}
# Stable forms on timestamptz and mixed date/time types (TimeZone), and || of a non-text value
# (output settings).
STABLE_OPS = {"+", "-", "=", "<>", "<", ">", "<=", ">=", "||"}


def lists():
    out = subprocess.run([DRIVER, "lists"], capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        kind, name = line.split("\t")
        found.setdefault(kind, []).append(name)
    return found


def analyze(sql, *opts):
    proc = subprocess.run([DRIVER, "analyze", *opts], input=sql, capture_output=True,
                          text=True, check=True)
    kind, cacheable, writes_unknown, reason = proc.stdout.rstrip("\n").split("\t", 3)
    return kind, cacheable == "1", writes_unknown == "1", reason


def volatility(pg, sql, *args):
    with pg.connect() as conn:
        return conn.execute(sql, args).fetchone()


def test_functions_are_what_the_catalog_says(pg):
    names = lists()
    for name in names["func"]:
        kinds, = volatility(pg, "SELECT string_agg(DISTINCT provolatile::text, '') FROM pg_proc "
                                "WHERE proname = %s AND pronamespace = 'pg_catalog'::regnamespace",
                            name)
        assert kinds, f"{name}() is not a pg_catalog function"
        allowed = {"i", "s"} if name in STABLE_FUNCS else {"i"}
        assert set(kinds) <= allowed, f"{name}() has provolatile {kinds}"
    for name in names["known"]:
        count, = volatility(pg, "SELECT count(*) FROM pg_proc WHERE proname = %s AND "
                                "pronamespace = 'pg_catalog'::regnamespace", name)
        assert count > 0, f"{name}() is not a pg_catalog function"


def test_cast_types_are_what_the_catalog_says(pg):
    names = lists()
    for name in names["type"] + names["timetype"]:
        row = volatility(pg, "SELECT t.typnamespace = 'pg_catalog'::regnamespace, p.provolatile "
                             "FROM pg_type t JOIN pg_proc p ON p.oid = t.typinput "
                             "WHERE t.oid = to_regtype(%s)", name)
        assert row is not None, f"type {name} does not exist"
        in_catalog, vol = row
        assert in_catalog, f"type {name} is not in pg_catalog"
        assert vol == "i" or (vol == "s" and name in STABLE_TYPES), f"type {name}: {vol}"


def test_operators_are_what_the_catalog_says(pg):
    for op in lists()["op"]:
        count, kinds = volatility(pg, "SELECT count(*), string_agg(DISTINCT p.provolatile::text,"
                                      " '') FROM pg_operator o JOIN pg_proc p ON p.oid = o.oprcode"
                                      " WHERE o.oprname = %s AND o.oprnamespace = "
                                      "'pg_catalog'::regnamespace", op)
        assert count > 0, f"operator {op} does not exist"
        allowed = {"i", "s"} if op in STABLE_OPS else {"i"}
        assert set(kinds) <= allowed, f"operator {op} has provolatile {kinds}"


@pytest.fixture(scope="module")
def rodb(pg):
    name = f"proxysql_{os.getpid()}"
    pg.create_db(name)
    pg.execute("CREATE TABLE t (id int PRIMARY KEY, a int, d date, doc text);"
               "CREATE TABLE u (id int, a int);"
               "CREATE SEQUENCE s;"
               "CREATE FUNCTION bump() RETURNS int LANGUAGE sql "
               "AS 'INSERT INTO u VALUES (1, 1) RETURNING 1';"
               "CREATE PROCEDURE p() LANGUAGE sql AS 'INSERT INTO u VALUES (2, 2)'", dbname=name)
    yield name
    pg.drop_db(name)


# Statements the analysis calls cacheable or a plain read, which a READ ONLY transaction runs.
READS = [
    "SELECT * FROM t WHERE a = 1",
    "SELECT lower(doc), count(*) FROM t GROUP BY 1",
    "WITH x AS (SELECT * FROM t) SELECT * FROM x JOIN u USING (id)",
    "SELECT * FROM t WHERE d > '2024-01-01'::date",
    "SELECT now(), random()",
    "SELECT * FROM pg_class LIMIT 1",
    "EXPLAIN SELECT * FROM t",
]

# Statements the analysis calls writes (or writes_unknown), which a READ ONLY transaction
# refuses with 25006 (read_only_sql_transaction).
WRITES = [
    "INSERT INTO t VALUES (1, 1, NULL, NULL)",
    "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
    "WITH x AS (UPDATE t SET a = 2 RETURNING a) SELECT * FROM x",
    "SELECT bump()",
    "CALL p()",
    "DO $$ BEGIN INSERT INTO u VALUES (3, 3); END $$",
    "TRUNCATE u",
    "MERGE INTO t USING u ON t.id = u.id WHEN MATCHED THEN UPDATE SET a = u.a",
    "SELECT nextval('s')",
    "CREATE TABLE n (a int)",
]


def run_read_only(pg, db, sql):
    with pg.connect(db, autocommit=False) as conn:
        conn.execute("SET TRANSACTION READ ONLY")
        try:
            conn.execute(sql)
            return None
        except psycopg.Error as e:
            return e.sqlstate
        finally:
            conn.rollback()


@pytest.mark.parametrize("sql", READS)
def test_reads_run_read_only(pg, rodb, sql):
    kind, cacheable, writes_unknown, reason = analyze(sql)
    assert kind in ("cacheable select", "uncacheable read"), (kind, reason)
    assert not writes_unknown
    assert run_read_only(pg, rodb, sql) is None


@pytest.mark.parametrize("sql", WRITES)
def test_writes_are_refused_read_only(pg, rodb, sql):
    kind, cacheable, writes_unknown, reason = analyze(sql)
    assert not cacheable
    # nextval() writes a sequence, which no cached SELECT reads: no table write is claimed
    assert kind in ("write", "ddl") or writes_unknown or "nextval" in sql, (kind, reason)
    assert run_read_only(pg, rodb, sql) == "25006"


def test_row_locks_are_not_cached(pg, rodb):
    """FOR UPDATE writes no row but takes locks a READ ONLY transaction may not take: never
    answered from the cache, and no table is claimed written."""
    sql = "SELECT * FROM (SELECT * FROM t FOR UPDATE) x"
    kind, cacheable, writes_unknown, reason = analyze(sql)
    assert (kind, cacheable, writes_unknown) == ("uncacheable read", False, False)
    assert "FOR UPDATE" in reason
    assert run_read_only(pg, rodb, sql) == "25006"


def test_backslash_with_standard_conforming_strings_off(pg, rodb):
    """With standard_conforming_strings off the server reads 'x\\' as an escaped quote, so a
    string the parser sees as one SELECT (the rest a comment) runs a DELETE too. The session
    passes the setting; the analysis then refuses to read such a string."""
    sql = "SELECT 'x\\'; --'; DELETE FROM u"
    pg.execute("INSERT INTO u VALUES (9, 9)", dbname=rodb)
    assert analyze(sql)[1], "the parser alone sees one SELECT"
    kind, cacheable, writes_unknown, reason = analyze(sql, "nonstandard")
    assert not cacheable and writes_unknown, (kind, reason)
    with pg.connect(rodb) as conn:
        conn.execute("SET standard_conforming_strings = off")
        conn.execute("SET escape_string_warning = off")
        conn.execute(sql.encode(), prepare=False)
        assert conn.execute("SELECT count(*) FROM u").fetchone() == (0,)
