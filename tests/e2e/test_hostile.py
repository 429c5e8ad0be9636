"""A database full of hostile names and text, backed up and restored by sluice and by psql.

Schemas, tables, columns, roles, the database itself, enum labels, functions, sequences,
indexes, constraints and views are named with newlines, carriage returns, backslashes, quotes,
`*/`, `--`, `\\!`, `\\restrict`, terminal escapes and 63-byte multibyte names; comments,
column defaults, a function body and the rows hold the same text. Every `\\!` in there would
create a canary file in the directory the restoring psql runs in. Each backup is restored by
`sluice restore` and by psql 15 (which honours `\\restrict`) into a fresh database that must be
identical to the source (compare.py), `sluice verify` must pass, and no canary may appear.
"""
import gzip
import os
import re
import subprocess

import psycopg
import pytest
from psycopg import sql

import compare

BINDIR = os.environ.get("SLUICE_PG_BINDIR", "/usr/lib/postgresql/15/bin")
CANARY = "CANARY"
INJECT = f"\n\\! touch {CANARY}\n"
EXT = {"gzip": ".sql.gz", "zstd": ".sql.zst", "none": ".sql"}

# Name fragments, each short enough to leave room for a prefix within 63 bytes.
FRAGMENTS = [
    "nl" + INJECT,
    f"cr\r\\! touch {CANARY}\r",
    f"crlf\r\n\\! touch {CANARY}\r\n",
    "bs\\x\\\\",
    "q'\"x\"'",
    "c*/x/*",
    "d--x",
    f"\\! touch {CANARY}",
    "\n\\restrict abc\n",
    "\n\\unrestrict abc\n",
    "\x1b[31mred\x1b[0m\x1b]0;title\x07",
    "end\n\\.\n",
    "f FROM stdin;\n1\n",
    "tab\tv\x0bf\x0c",
    " OWNER TO x",          # a default ending like ALTER ... OWNER TO (--no-owner)
    "GRANT x",
    "\u20ac" * 21,          # 63 bytes of 3-byte characters: NAMEDATALEN - 1 exactly
    "\u00e9" * 31 + "x",    # 63 bytes of 2-byte characters and one ASCII
    "\u00fc" * 40,          # 80 bytes: the server cuts it to 62 on a character boundary
]


def ident(*parts):
    return sql.SQL(".").join(sql.Identifier(p) for p in parts)


def conninfo(pg, dbname):
    return psycopg.conninfo.make_conninfo(host=pg.host, port=pg.port, user=pg.user,
                                          dbname=dbname, passfile=pg.pgpass)


def run_sql(pg, dbname, statements):
    with psycopg.connect(conninfo(pg, dbname), autocommit=True) as conn:
        for stmt in statements:
            conn.execute(stmt)


def hostile_statements(schema, owner, reader):
    """The objects of the hostile database, as composed statements."""
    out = [
        sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(ident(schema), ident(owner)),
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(ident(schema), ident(reader)),
        sql.SQL("CREATE TYPE {} AS ENUM ({})").format(
            ident(schema, "mood" + INJECT),
            sql.SQL(", ").join(sql.Literal(f) for f in FRAGMENTS if len(f.encode()) <= 63)),
        sql.SQL("CREATE FUNCTION {}() RETURNS text LANGUAGE sql IMMUTABLE AS {}").format(
            ident(schema, "fn" + INJECT),
            sql.Literal(f"SELECT E'{INJECT.encode('unicode_escape').decode()}'::text "
                        f"|| '\\! touch {CANARY}'")),
        sql.SQL("ALTER FUNCTION {}() OWNER TO {}").format(ident(schema, "fn" + INJECT),
                                                        ident(owner)),
        sql.SQL("CREATE SEQUENCE {}").format(ident(schema, "seq" + INJECT)),
        sql.SQL("SELECT pg_catalog.setval(pg_catalog.format('%I.%I', {}, {}), 42)").format(
            sql.Literal(schema), sql.Literal("seq" + INJECT)),
        sql.SQL("COMMENT ON SCHEMA {} IS {}").format(ident(schema), sql.Literal(INJECT)),
    ]
    for i, frag in enumerate(FRAGMENTS):
        table, column = f"t{i}{frag}", f"c{frag}"
        t = ident(schema, table)
        out += [
            sql.SQL("CREATE TABLE {} (id serial PRIMARY KEY, {} text DEFAULT {} "
                    "CONSTRAINT {} CHECK ({} <> {}), m {}, f text DEFAULT {}())").format(
                t, sql.Identifier(column), sql.Literal(frag), sql.Identifier(f"k{i}{frag}"),
                sql.Identifier(column), sql.Literal("never" + frag),
                ident(schema, "mood" + INJECT), ident(schema, "fn" + INJECT)),
            sql.SQL("CREATE INDEX {} ON {} ({})").format(sql.Identifier(f"i{i}{frag}"), t,
                                                         sql.Identifier(column)),
            sql.SQL("INSERT INTO {} ({}, m) VALUES ({}, {}), (DEFAULT, NULL)").format(
                t, sql.Identifier(column), sql.Literal(frag + INJECT),
                sql.Literal(FRAGMENTS[0])),
            sql.SQL("COMMENT ON TABLE {} IS {}").format(t, sql.Literal(frag)),
            sql.SQL("COMMENT ON COLUMN {}.{} IS {}").format(t, sql.Identifier(column),
                                                            sql.Literal(INJECT + frag)),
            sql.SQL("GRANT SELECT, UPDATE ({}) ON {} TO {}").format(sql.Identifier(column), t,
                                                                   ident(reader)),
        ]
        if i % 2 == 0:
            out.append(sql.SQL("ALTER TABLE {} OWNER TO {}").format(t, ident(owner)))
    out += [
        sql.SQL("CREATE VIEW {} AS SELECT {}() AS {}, {} AS lit").format(
            ident(schema, "v" + INJECT), ident(schema, "fn" + INJECT),
            sql.Identifier("col" + INJECT), sql.Literal(INJECT)),
        sql.SQL("CREATE TABLE public.plain (a text DEFAULT {}, b bytea)").format(
            sql.Literal(INJECT)),
        sql.SQL("INSERT INTO public.plain VALUES ({}, {})").format(
            sql.Literal("\\.\n" + INJECT + "\r\\! x"), sql.Literal(b"\n\\! x\n")),
    ]
    return out + more_kinds(schema, owner)


def more_kinds(schema, owner):
    """Other kinds of objects, each named (and where it has one, commented) with INJECT."""
    n = lambda base: ident(schema, base + INJECT)  # noqa: E731
    q = lambda base: sql.Identifier(base + INJECT)  # noqa: E731
    lit = sql.Literal(INJECT)
    t0 = ident(schema, f"t0{FRAGMENTS[0]}")
    stmts = [
        ("CREATE DOMAIN {} AS text CONSTRAINT {} CHECK (VALUE <> {})", n("dom"), q("dc"), lit),
        ("CREATE TYPE {} AS ({} int, {} text)", n("comp"), q("a"), q("b")),
        ("CREATE TYPE {} AS RANGE (subtype = int4)", n("rng")),
        ("CREATE COLLATION {} FROM \"C\"", n("coll")),
        ("CREATE MATERIALIZED VIEW {} AS SELECT 1 AS {}, {}::text AS lit", n("mv"), q("x"), lit),
        ("CREATE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS "
         "$$BEGIN NEW.m := NULL; RETURN NEW; END$$", n("trg")),
        ("CREATE TRIGGER {} BEFORE INSERT ON {} FOR EACH ROW EXECUTE FUNCTION {}()", q("tr"), t0,
         n("trg")),
        ("ALTER TABLE {} ENABLE ROW LEVEL SECURITY", t0),
        ("CREATE POLICY {} ON {} USING (id > 0)", q("pol"), t0),
        ("CREATE RULE {} AS ON UPDATE TO {} DO ALSO NOTIFY {}", q("ru"), t0, q("ch")),
        ("CREATE STATISTICS {} ON id, m FROM {}", n("st"), t0),
        ("CREATE PUBLICATION {} FOR TABLE {}", q("pub"), t0),
        ("CREATE TEXT SEARCH CONFIGURATION {} (COPY = pg_catalog.english)", n("ts")),
        ("CREATE TABLE {} (k int, v text) PARTITION BY LIST (k)", n("part")),
        ("CREATE TABLE {} PARTITION OF {} FOR VALUES IN (1)", n("p1"), n("part")),
        ("INSERT INTO {} VALUES (1, {})", n("part"), lit),
        ("CREATE AGGREGATE {}(int) (SFUNC = int4pl, STYPE = int)", n("agg")),
        ("CREATE FUNCTION {}() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN END$$",
         n("evf")),
        ("CREATE EVENT TRIGGER {} ON ddl_command_start EXECUTE FUNCTION {}()", q("et"),
         n("evf")),
        ("CREATE FOREIGN DATA WRAPPER {}", q("fdw")),
        ("CREATE SERVER {} FOREIGN DATA WRAPPER {} OPTIONS (host {})", q("srv"), q("fdw"), lit),
        ("CREATE USER MAPPING FOR {} SERVER {} OPTIONS (user {})", ident(owner), q("srv"), lit),
        ("SELECT pg_catalog.lo_create(4242)",),
        ("COMMENT ON LARGE OBJECT 4242 IS {}", lit),
    ]
    out = [sql.SQL(text).format(*args) for text, *args in stmts]
    for kind, name in (("DOMAIN", n("dom")), ("TYPE", n("comp")), ("MATERIALIZED VIEW", n("mv")),
                       ("TRIGGER", sql.SQL("{} ON {}").format(q("tr"), t0)),
                       ("POLICY", sql.SQL("{} ON {}").format(q("pol"), t0)),
                       ("PUBLICATION", q("pub")), ("EVENT TRIGGER", q("et")),
                       ("SERVER", q("srv")), ("AGGREGATE", sql.SQL("{}(int)").format(n("agg")))):
        out.append(sql.SQL("COMMENT ON " + kind + " {} IS {}").format(name, lit))
    return out


class Hostile:
    def __init__(self, pg):
        pid = os.getpid()
        self.pg = pg
        self.owner = f"own{INJECT}{pid}"
        self.reader = f"rd\r\\! touch {CANARY}\r{pid}"
        self.schema = "s" + INJECT
        self.dbname = f"hdb{INJECT}{pid}"
        self.made = []

    def create(self):
        for role in (self.owner, self.reader):
            self.pg.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(ident(role)))
            self.pg.execute(sql.SQL("CREATE ROLE {}").format(ident(role)))
        self.drop_db(self.dbname)
        self.pg.execute(sql.SQL("CREATE DATABASE {}").format(ident(self.dbname)))
        run_sql(self.pg, self.dbname, hostile_statements(self.schema, self.owner, self.reader))

    def fresh(self, prefix):
        name = f"{prefix}_{os.getpid()}_{len(self.made)}"
        self.made.append(name)
        self.pg.create_db(name)
        return name

    def drop_db(self, name):
        self.pg.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident(name)))

    def destroy(self):
        for name in self.made + [self.dbname]:
            self.drop_db(name)
        for role in (self.owner, self.reader):
            self.pg.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(ident(role)))


@pytest.fixture(scope="module")
def hostile(pg):
    h = Hostile(pg)
    h.create()
    yield h
    h.destroy()


def psql_restore(pg, path, dbname, cwd, extra=()):
    """Runs the file with psql 15 in cwd as the README says: `-f FILE`, or piped from
    `gunzip -c` / `zstd -dc`."""
    psql = [f"{BINDIR}/psql", "-X", "-q", *extra, "-d", conninfo(pg, dbname)]
    if not path.endswith((".gz", ".zst")):
        return subprocess.run(psql + ["-f", path], cwd=cwd, env=pg.env(), capture_output=True,
                              text=True, timeout=300)
    reader = ["gunzip", "-c", path] if path.endswith(".gz") else ["zstd", "-q", "-dc", path]
    src = subprocess.Popen(reader, stdout=subprocess.PIPE, cwd=cwd)
    proc = subprocess.run(psql, stdin=src.stdout, cwd=cwd, env=pg.env(), capture_output=True,
                          text=True, timeout=300)
    src.stdout.close()
    status = src.wait()
    assert status == 0 or (proc.returncode != 0 and status == -13)  # SIGPIPE once psql stops
    return proc


def read_text(path):
    data = open(path, "rb").read()
    if path.endswith(".gz"):
        data = gzip.decompress(data)
    elif path.endswith(".zst"):
        data = subprocess.run(["zstd", "-dc", path], capture_output=True, check=True).stdout
    return data.decode()


def backup(sluice, pg, hostile, tmp_path, jobs, compress, name="h"):
    path = str(tmp_path / f"{name}{EXT[compress]}")
    proc = sluice.run("backup", "single", "-d", conninfo(pg, hostile.dbname), "-j", jobs,
                      "--compress", compress, "-o", path, "-q")
    assert proc.returncode == 0, proc.stderr
    return path


def assert_no_canary(cwd):
    assert os.listdir(cwd) == [], f"an injected command ran: {os.listdir(cwd)}"


@pytest.mark.parametrize("jobs,compress", [(1, "gzip"), (4, "gzip"), (1, "none"), (4, "none"),
                                           (4, "zstd")])
def test_hostile_database_round_trip(pg, sluice, hostile, tmp_path, jobs, compress):
    path = backup(sluice, pg, hostile, tmp_path, jobs, compress)
    proc = sluice.run("verify", path)
    assert proc.returncode == 0, proc.stderr
    source = conninfo(pg, hostile.dbname)
    cwd = tmp_path / "cwd"
    cwd.mkdir()

    by_sluice = hostile.fresh("hs")
    proc = subprocess.run([sluice.bin, "restore", path, "--database", by_sluice, "-j", str(jobs)],
                          cwd=cwd, env=pg.env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    compare.assert_same(source, conninfo(pg, by_sluice))
    assert_no_canary(cwd)

    by_psql = hostile.fresh("hp")
    proc = psql_restore(pg, path, by_psql, cwd, extra=("-v", "ON_ERROR_STOP=1"))
    assert proc.returncode == 0, proc.stderr
    assert "restricted" not in proc.stderr
    compare.assert_same(source, conninfo(pg, by_psql))
    assert_no_canary(cwd)


def test_pg_dump_script_of_the_hostile_database(pg, sluice, hostile, tmp_path):
    """sluice restore takes pg_dump's own script of it too (pg_dump 15 writes \\restrict)."""
    path = tmp_path / "pg_dump.sql"
    out = subprocess.run([f"{BINDIR}/pg_dump", "-d", conninfo(pg, hostile.dbname), "-f", path],
                         env=pg.env(), capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert path.read_text().startswith("--\n-- PostgreSQL database dump\n--\n\n\\restrict ")
    target = hostile.fresh("hd")
    proc = sluice.run("restore", path, "--database", target)
    assert proc.returncode == 0, proc.stderr
    compare.assert_same(conninfo(pg, hostile.dbname), conninfo(pg, target))


def test_hostile_database_no_owner_no_privileges(pg, sluice, hostile, tmp_path):
    """--no-owner and --no-privileges leave out only owners and grants: names and literals
    that look like them (a default ' OWNER TO x') are kept."""
    path = backup(sluice, pg, hostile, tmp_path, 2, "gzip")
    target = hostile.fresh("hn")
    proc = sluice.run("restore", path, "--database", target, "-j", "2", "--no-owner",
                      "--no-privileges")
    assert proc.returncode == 0, proc.stderr
    source, copy = conninfo(pg, hostile.dbname), conninfo(pg, target)
    assert compare.schema_text(source, "--no-owner", "--no-privileges") == \
        compare.schema_text(copy, "--no-owner", "--no-privileges")
    assert compare.data_state(source) == compare.data_state(copy)
    owners = pg.query(sql.SQL("SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class c "
                              "JOIN pg_namespace n ON n.oid = c.relnamespace "
                              "WHERE n.nspname = {}").format(sql.Literal(hostile.schema)), target)
    assert owners == [("postgres",)]


def test_hostile_comment_lines_are_escaped(pg, sluice, hostile, tmp_path):
    text = read_text(backup(sluice, pg, hostile, tmp_path, 1, "none"))
    comments = [line for line in text.split("\n") if line.startswith("--")]
    # the database name and the names of the objects, escaped rather than cut into lines
    assert "-- database: hdb\\n\\\\! touch CANARY\\n" + str(os.getpid()) in comments
    assert any(line.startswith("-- TABLE s\\n\\\\! touch CANARY\\n.t1cr\\r\\\\! touch CANARY\\r")
               for line in comments), comments
    assert any("\\x1b[31mred\\x1b[0m" in line for line in comments)
    for line in comments:
        assert "\r" not in line and "\x1b" not in line, repr(line)


def test_restrict_key_is_fresh_per_backup(pg, sluice, hostile, tmp_path):
    keys = []
    for name in ("k1", "k2"):
        text = read_text(backup(sluice, pg, hostile, tmp_path, 1, "gzip", name=name))
        lines = text.split("\n")
        # \restrict comes right after sluice's signature, before anything taken from the
        # database; \unrestrict after the last statement (the names hold \restrict lines too,
        # inside quoted identifiers)
        assert lines[0] == "-- sluice backup format 1"
        assert lines[1].startswith("\\restrict "), lines[:5]
        key = lines[1].split(" ", 1)[1]
        assert re.fullmatch(r"[A-Za-z0-9]{64}", key)
        assert lines.index(f"\\unrestrict {key}") == max(
            i for i, line in enumerate(lines) if line.strip() and not line.startswith("--"))
        keys.append(key)
    assert keys[0] != keys[1]


def test_psql_refuses_a_meta_command_injected_after_restrict(pg, sluice, hostile, tmp_path):
    """\\restrict is effective: a `\\!` slipped into the middle of the script is refused."""
    text = read_text(backup(sluice, pg, hostile, tmp_path, 1, "none"))
    lines = text.split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("CREATE TABLE"))
    lines.insert(at, f"\\! touch {CANARY}")
    tampered = tmp_path / "tampered.sql"
    tampered.write_text("\n".join(lines))
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    proc = psql_restore(pg, str(tampered), hostile.fresh("ht"), cwd)
    assert "backslash commands are restricted; only \\unrestrict is allowed" in proc.stderr
    assert_no_canary(cwd)
    proc = psql_restore(pg, str(tampered), hostile.fresh("ht"), cwd,
                        extra=("-v", "ON_ERROR_STOP=1"))
    assert proc.returncode == 3, proc.stderr
    assert "backslash commands are restricted" in proc.stderr
    assert_no_canary(cwd)


# ---- a database whose owner chose its settings ------------------------------------------------

SETTINGS_SQL = """
CREATE SCHEMA evil;
-- operators and a function that a search_path starting with evil would pick over pg_catalog's
CREATE FUNCTION evil.yes(name, text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR evil.~ (LEFTARG = name, RIGHTARG = text, FUNCTION = evil.yes);
CREATE FUNCTION evil.never(tid, tid) RETURNS boolean LANGUAGE sql AS 'SELECT false';
CREATE OPERATOR evil.>= (LEFTARG = tid, RIGHTARG = tid, FUNCTION = evil.never);
CREATE OPERATOR evil.< (LEFTARG = tid, RIGHTARG = tid, FUNCTION = evil.never);
CREATE FUNCTION evil.pg_export_snapshot() RETURNS text LANGUAGE plpgsql AS $f$
BEGIN
    EXECUTE 'COPY (SELECT 1) TO ' || quote_literal(%(marker)s);
    RETURN pg_catalog.pg_export_snapshot();
END $f$;
CREATE TABLE public.t_one (d date DEFAULT '2001-02-03', f float8, i interval,
                           s text DEFAULT 'a\\b', ts timestamptz);
INSERT INTO public.t_one VALUES ('2001-02-03', 0.1 + 0.2, '-1 day +02:03:04.5', 'x\\y',
                                 '2001-02-03 04:05:06+07'),
                                ('1999-12-31', 1e-300, '1 year -2 mons', NULL, NULL);
CREATE VIEW public.v AS SELECT DATE '2001-02-03' AS d, 'a\\b'::text AS s, 0.1::float8 AS f;
CREATE TABLE public.t_big AS SELECT g AS id, repeat('x', 200) AS pad
  FROM generate_series(1, 20000) g;
-- above --large-value-size 1: read in slices, whose text form bytea_output decides
CREATE TABLE public.t_wide (id int, b bytea);
INSERT INTO public.t_wide VALUES (1, decode(repeat('00ff5c0a0d2e', 400000), 'hex')), (2, '\\x0a');
"""


@pytest.fixture(scope="module")
def hostile_settings(pg):
    """A database whose owner set search_path, DateStyle, IntervalStyle, extra_float_digits
    and standard_conforming_strings for every session, and planted look-alike operators and
    a pg_export_snapshot() that writes a file with the rights of whoever calls it."""
    name = f"hset_{os.getpid()}"
    marker_dir = os.path.join(pg.root, f"marker-{os.getpid()}")
    os.makedirs(marker_dir, exist_ok=True)
    os.chmod(marker_dir, 0o777)
    marker = os.path.join(marker_dir, "pwned")
    pg.create_db(name)
    with psycopg.connect(conninfo(pg, name), autocommit=True) as conn:
        conn.execute(sql.SQL(SETTINGS_SQL.replace("%(marker)s", "{}")).format(
            sql.Literal(marker)))
        for setting, value in (("search_path", "evil, pg_catalog"),
                               ("DateStyle", "'SQL, DMY'"), ("IntervalStyle", "sql_standard"),
                               ("extra_float_digits", "-15"), ("bytea_output", "escape"),
                               ("standard_conforming_strings", "off")):
            conn.execute(sql.SQL("ALTER DATABASE {} SET {} = " + value).format(
                sql.Identifier(name), sql.Identifier(setting)))
    made = []
    yield name, marker, made
    for db in made + [name]:
        pg.drop_db(db)


def test_hostile_settings_round_trip(pg, sluice, hostile_settings, tmp_path):
    """The database's own settings neither change what the backup holds nor run its code."""
    name, marker, made = hostile_settings
    path = str(tmp_path / "set.sql.gz")
    proc = sluice.run("backup", "single", name, "-j", "2", "--chunk-size", "1",
                      "--large-value-size", "1", "-o", path)
    assert proc.returncode == 0, proc.stderr
    assert not os.path.exists(marker), "the database's pg_export_snapshot() ran"
    assert sluice.run("verify", path).returncode == 0
    for tool in ("sluice", "psql"):
        target = f"hsr_{os.getpid()}_{tool}"
        made.append(target)
        pg.create_db(target)
        if tool == "sluice":
            proc = sluice.run("restore", path, "--database", target, "-j", "2")
        else:
            proc = psql_restore(pg, path, target, str(tmp_path), extra=("-v", "ON_ERROR_STOP=1"))
        assert proc.returncode == 0, proc.stderr
        # pg_dump writes string literals as the session's standard_conforming_strings says:
        # the same for both sides, so that equal values print the same
        source = psycopg.conninfo.make_conninfo(conninfo(pg, name),
                                                options="-c standard_conforming_strings=on")
        compare.assert_same(source, conninfo(pg, target))


def test_patterns_use_pg_catalog_regex_operator(pg, sluice, hostile_settings, tmp_path):
    """-t resolves with the database's search_path (for unqualified patterns, as pg_dump), so
    its regex operator is pg_catalog's, not one planted earlier in that search_path."""
    name, _, made = hostile_settings
    path = str(tmp_path / "one.sql")
    proc = sluice.run("backup", "single", name, "-t", "public.t_one", "-o", path)
    assert proc.returncode == 0, proc.stderr
    target = f"hsp_{os.getpid()}"
    made.append(target)
    pg.create_db(target)
    proc = sluice.run("restore", path, "--database", target)
    assert proc.returncode == 0, proc.stderr
    assert pg.query("SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
                    "AND relkind = 'r'", target) == [("t_one",)]


def test_data_only_restore_names_a_table_it_cannot_quote(pg, sluice, tmp_path):
    """libpq refuses to quote a name that is not valid in the connection's encoding: the
    restore says so instead of checking a table called (null).(null)."""
    src, target = f"hq_src_{os.getpid()}", f"hq_euc_{os.getpid()}"
    pg.create_db(src)
    pg.drop_db(target)
    pg.execute(f"CREATE DATABASE {target} ENCODING 'EUC_JP' LC_COLLATE 'C' LC_CTYPE 'C' "
               "TEMPLATE template0")
    try:
        pg.execute('CREATE TABLE "t\u20ac" (a int); INSERT INTO "t\u20ac" VALUES (1)', src)
        path = str(tmp_path / "d.sql")
        proc = sluice.run("backup", "single", src, "--data-only", "-o", path)
        assert proc.returncode == 0, proc.stderr
        proc = sluice.run("restore", path, "--database", target)
        assert proc.returncode == 7, proc.stderr  # unsupported
        assert "(null)" not in proc.stderr
        assert "table name public.t\u20ac cannot be quoted in the encoding of the target " \
               "database (EUC_JP)" in proc.stderr, proc.stderr
    finally:
        pg.drop_db(src)
        pg.drop_db(target)


def test_sql_ascii_database_with_any_bytes_in_names(pg, sluice, tmp_path):
    """In a SQL_ASCII database a name may be any bytes, not UTF-8: the backup still works (its
    index, which is JSON, holds such bytes as \\xNN) and restores byte for byte."""
    pid = os.getpid()
    names = [f"sa_{pid}", f"sa_{pid}_sluice", f"sa_{pid}_psql"]
    for name in names:
        pg.drop_db(name)
        pg.execute(f"CREATE DATABASE {name} ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' "
                   "TEMPLATE template0")
    try:
        pg.psql(names[0], input=b'CREATE SCHEMA "s\xe9\xff";\n'
                                b'CREATE TABLE "s\xe9\xff"."t\xff\n\\! touch CANARY\n" '
                                b'("c\xfe" text DEFAULT \'\xff\');\n'
                                b'INSERT INTO "s\xe9\xff"."t\xff\n\\! touch CANARY\n" '
                                b'VALUES (\'caf\xe9\'), (DEFAULT);\n'
                                b'COMMENT ON TABLE "s\xe9\xff"."t\xff\n\\! touch CANARY\n" '
                                b'IS \'\xe2\x82\';\n')
        path = str(tmp_path / "sa.sql.gz")
        proc = sluice.run("backup", "single", names[0], "-j", "2", "-o", path)
        assert proc.returncode == 0, proc.stderr
        proc = sluice.run("verify", path)
        assert proc.returncode == 0, proc.stderr
        assert "s\\xe9\\xff.t\\xff" in proc.stdout, proc.stdout
        cwd = tmp_path / "cwd"
        cwd.mkdir()
        proc = sluice.run("restore", path, "--database", names[1])
        assert proc.returncode == 0, proc.stderr
        proc = psql_restore(pg, path, names[2], cwd, extra=("-v", "ON_ERROR_STOP=1"))
        assert proc.returncode == 0, proc.stderr
        assert_no_canary(cwd)

        def dump(name):
            out = subprocess.run([f"{BINDIR}/pg_dump", "-d", name], env=pg.env(),
                                 capture_output=True, check=True).stdout
            return [line for line in out.split(b"\n") if not line.startswith(b"\\restrict ")
                    and not line.startswith(b"\\unrestrict ")]
        source = dump(names[0])
        assert b"caf\xe9" in b"\n".join(source)
        assert dump(names[1]) == source
        assert dump(names[2]) == source
    finally:
        for name in names:
            pg.drop_db(name)


def test_row_security_never_hides_rows_silently(pg, sluice, tmp_path):
    """A table's owner may add a row-level security policy that hides rows from the role that
    backs it up (pg_read_all_data does not bypass it): the backup fails and says why, as
    pg_dump does, instead of leaving the rows out."""
    pid = os.getpid()
    db, role, password = f"hrls_{pid}", f"hrls_reader_{pid}", f"pw-{pid}"
    pg.create_db(db)
    pg.execute(f"DROP ROLE IF EXISTS {role}")
    pg.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}' IN ROLE pg_read_all_data")
    try:
        pg.execute("CREATE TABLE t (a int, who text); INSERT INTO t VALUES (1, 'x'), (2, 'y');"
                   "ALTER TABLE t ENABLE ROW LEVEL SECURITY;"
                   "CREATE POLICY p ON t USING (who = 'x')", db)
        path = str(tmp_path / "rls.sql")
        proc = sluice.run("backup", "single", db, "-o", path,
                          env={"PGUSER": role, "PGPASSWORD": password})
        assert proc.returncode == 5, proc.stderr
        assert "row-level security" in proc.stderr and "42501" in proc.stderr, proc.stderr
        assert not os.path.exists(path) and not os.path.exists(path + ".partial")
    finally:
        pg.drop_db(db)
        pg.execute(f"DROP ROLE IF EXISTS {role}")
