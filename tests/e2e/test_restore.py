"""sluice restore of plain pg_dump -Fp scripts and hand-written scripts: the result equals what
psql makes of the same script; target refusal, --create, --clean, errors with their line and
SQLSTATE, --continue-on-error, --single-transaction, \\connect, damaged input."""
import gzip
import os
import re

import pytest

import compare

REFUSED, SERVER, ARCHIVE, USAGE, UNSUPPORTED = 8, 5, 4, 2, 7

# Every quoting form the splitter must get right, as pg_dump writes it back out.
VARIED_SQL = r"""
CREATE SCHEMA other;
CREATE TYPE other.mood AS ENUM ('sad', 'ok', 'happy;');
CREATE TABLE public.items (id int PRIMARY KEY, name text, note text, m other.mood);
CREATE TABLE other."Odd; Name" (id serial PRIMARY KEY, item int REFERENCES public.items (id),
                                 payload bytea, j jsonb);
INSERT INTO public.items VALUES
  (1, 'semi;colon', E'tab\there\nnewline\\backslash', 'ok'),
  (2, 'quote''s', '$$dollar$$ -- not a comment /* nor this', NULL),
  (3, E'\\.', E'line1\n\\.\nline3', 'happy;'),
  (4, 'ünïcödé €', E'\r\n crlf', 'sad');
INSERT INTO other."Odd; Name" (item, payload, j)
  SELECT 1 + i % 4, decode(repeat('00ff5c0a', i), 'hex'), jsonb_build_object('k', 'v;' || i)
  FROM generate_series(1, 300) i;
CREATE FUNCTION public.add1(a int) RETURNS int LANGUAGE plpgsql
  AS $$ BEGIN RETURN a + 1; END; $$;
CREATE FUNCTION other.atomic_f(a int) RETURNS int LANGUAGE sql
BEGIN ATOMIC
  SELECT CASE WHEN a > 0 THEN a * 2 ELSE -a END;
END;
CREATE PROCEDURE other.p(x int) LANGUAGE sql
BEGIN ATOMIC
  INSERT INTO public.items (id, name) VALUES (x, 'from p;');
  UPDATE public.items SET note = CASE WHEN x > 0 THEN 'pos' ELSE 'neg' END WHERE id = x;
END;
CREATE FUNCTION other.tagged() RETURNS text LANGUAGE sql AS $fn$ SELECT $$;'$$::text $fn$;
CREATE VIEW other.v AS SELECT id, name FROM public.items WHERE name <> ';';
CREATE INDEX items_name ON public.items (name);
COMMENT ON TABLE public.items IS 'semi; colon ''comment''';
"""


def run_fail(proc, code, *needles):
    out = proc.stderr + proc.stdout
    assert proc.returncode == code, f"exit {proc.returncode}, expected {code}:\n{out}"
    for n in needles:
        assert n in out, f"{n!r} not in:\n{out}"


def user_tables(pg, db):
    return sorted(r[0] for r in pg.query(
        "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n "
        "ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname NOT IN "
        "('pg_catalog', 'information_schema') ORDER BY 1", db))


@pytest.fixture(scope="module")
def varied(pg):
    name = f"varied_{os.getpid()}"
    pg.create_db(name)
    pg.psql(name, "-c", VARIED_SQL)
    yield name
    pg.drop_db(name)


@pytest.fixture(scope="module")
def dump_script(pg, varied, tmp_path_factory):
    """pg_dump -Fp of the varied database: plain, and gzipped under a name that hides it."""
    d = tmp_path_factory.mktemp("dumps")
    text = pg.pg_dump(varied)
    plain = d / "varied.sql"
    plain.write_text(text)
    gz = d / "varied.dump"
    gz.write_bytes(gzip.compress(text.encode()))
    return {"plain": str(plain), "gzip": str(gz), "text": text}


@pytest.mark.parametrize("form", ["plain", "gzip"])
def test_pg_dump_script_like_psql(pg, sluice, fresh_db, dump_script, form):
    by_sluice, by_psql = fresh_db("rs"), fresh_db("rp")
    proc = sluice.run("restore", dump_script[form], "--database", by_sluice)
    assert proc.returncode == 0, proc.stderr
    assert "restore done" in proc.stderr, proc.stderr
    pg.psql(by_psql, "-f", dump_script["plain"])
    compare.assert_same(pg.conninfo(by_psql), pg.conninfo(by_sluice))
    assert pg.query("SELECT other.atomic_f(-4), public.add1(1), other.tagged()", by_sluice) == [
        (4, 2, ";'")]
    assert pg.query("SELECT count(*) FROM other.\"Odd; Name\"", by_sluice) == [(300,)]


def test_refuses_non_empty_database(pg, sluice, fresh_db, dump_script):
    db = fresh_db("full")
    pg.execute("CREATE TABLE keep (x int); INSERT INTO keep VALUES (7)", db)
    proc = sluice.run("restore", dump_script["plain"], "--database", db)
    run_fail(proc, REFUSED, f'"{db}"', "not empty", "relation public.keep", "--clean",
             "--create")
    assert user_tables(pg, db) == ["public.keep"]
    # a schema of its own counts too, even when empty
    db2 = fresh_db("full")
    pg.execute("CREATE SCHEMA lonely", db2)
    proc = sluice.run("restore", dump_script["plain"], "-d", db2)
    run_fail(proc, REFUSED, "schema lonely")
    assert user_tables(pg, db2) == []


def test_create(pg, sluice, fresh_db, dump_script):
    name = fresh_db("cr")
    pg.drop_db(name)  # fresh_db drops it again at the end
    proc = sluice.run("restore", dump_script["gzip"], "--database", name, "--create")
    assert proc.returncode == 0, proc.stderr
    assert "public.items" in user_tables(pg, name)
    # again: it exists now
    proc = sluice.run("restore", dump_script["gzip"], "--database", name, "--create")
    run_fail(proc, REFUSED, f'database "{name}" already exists', "--clean")
    # --create --clean drops and recreates it
    pg.execute("CREATE TABLE public.extra (x int)", name)
    proc = sluice.run("restore", dump_script["gzip"], "--database", name, "--create", "--clean")
    assert proc.returncode == 0, proc.stderr
    assert "public.extra" not in user_tables(pg, name)
    by_psql = fresh_db("crp")
    pg.psql(by_psql, "-f", dump_script["plain"])
    compare.assert_same(pg.conninfo(by_psql), pg.conninfo(name))


def test_clean(pg, sluice, fresh_db, dump_script):
    db = fresh_db("cl")
    pg.psql(db, "-c", "CREATE SCHEMA junk; CREATE TABLE junk.t (x int); "
                      "CREATE TABLE public.items (y text); CREATE FUNCTION public.f() "
                      "RETURNS int LANGUAGE sql AS 'SELECT 1'; SELECT lo_create(0); "
                      "COMMENT ON SCHEMA public IS 'changed'; REVOKE USAGE ON SCHEMA public "
                      "FROM PUBLIC;")
    proc = sluice.run("restore", dump_script["plain"], "--database", db, "--clean")
    assert proc.returncode == 0, proc.stderr
    by_psql = fresh_db("clp")
    pg.psql(by_psql, "-f", dump_script["plain"])
    compare.assert_same(pg.conninfo(by_psql), pg.conninfo(db))
    # public is back as PostgreSQL makes it
    assert pg.query("SELECT nspowner::regrole::text, nspacl::text, "
                    "obj_description(oid, 'pg_namespace') FROM pg_namespace "
                    "WHERE nspname = 'public'", db) == pg.query(
        "SELECT nspowner::regrole::text, nspacl::text, obj_description(oid, 'pg_namespace') "
        "FROM pg_namespace WHERE nspname = 'public'", by_psql)
    assert pg.query("SELECT count(*) FROM pg_largeobject_metadata", db) == [(0,)]


def test_clean_then_empty_script(pg, sluice, fresh_db, tmp_path):
    """--clean alone leaves a database that is not refused any more."""
    db = fresh_db("ce")
    pg.execute("CREATE TABLE t (x int)", db)
    script = tmp_path / "empty.sql"
    script.write_text("-- nothing but a comment\n")
    assert sluice.run("restore", script, "--database", db, "--clean").returncode == 0
    assert user_tables(pg, db) == []
    assert sluice.run("restore", script, "--database", db).returncode == 0


ERROR_SCRIPT = ("CREATE TABLE a (x int);\n"
                "INSERT INTO a VALUES (1);\n"
                "\n"
                "SELECT *\n  FROM missing_table;\n"
                "CREATE TABLE b (y int);\n"
                "INSERT INTO b VALUES ('not a number');\n"
                "CREATE TABLE c (z int);\n")


def test_error_stops_with_location(pg, sluice, fresh_db, tmp_path):
    db = fresh_db("er")
    script = tmp_path / "bad.sql"
    script.write_text(ERROR_SCRIPT)
    proc = sluice.run("restore", script, "--database", db)
    run_fail(proc, SERVER, "missing_table", "42P01", "line 4", "offset 51", str(script))
    assert user_tables(pg, db) == ["public.a"]


def test_continue_on_error_counts(pg, sluice, fresh_db, tmp_path):
    db = fresh_db("co")
    script = tmp_path / "bad.sql"
    script.write_text(ERROR_SCRIPT)
    proc = sluice.run("restore", script, "--database", db, "--continue-on-error")
    run_fail(proc, SERVER, "42P01", "22P02", "line 7", "2 statements failed")
    assert user_tables(pg, db) == ["public.a", "public.b", "public.c"]


def test_single_transaction_all_or_nothing(pg, sluice, fresh_db, tmp_path, dump_script):
    db = fresh_db("st")
    script = tmp_path / "bad.sql"
    script.write_text(ERROR_SCRIPT)
    proc = sluice.run("restore", script, "--database", db, "--single-transaction")
    run_fail(proc, SERVER, "42P01")
    assert user_tables(pg, db) == []
    proc = sluice.run("restore", dump_script["plain"], "--database", db, "-1", "-v")
    assert proc.returncode == 0, proc.stderr
    assert "WITH (FREEZE)" in proc.stderr  # the debug log shows the COPY as sent
    by_psql = fresh_db("stp")
    pg.psql(by_psql, "-f", dump_script["plain"])
    compare.assert_same(pg.conninfo(by_psql), pg.conninfo(db))
    proc = sluice.run("restore", script, "--database", db, "-1", "--continue-on-error")
    run_fail(proc, USAGE, "--single-transaction")


def test_copy_error_names_copy_statement(pg, sluice, fresh_db, tmp_path):
    db = fresh_db("ce")
    script = tmp_path / "copy.sql"
    script.write_text("CREATE TABLE t (a int, b text);\n"
                      "COPY public.t (a, b) FROM stdin;\n1\tone\nxx\ttwo\n\\.\n"
                      "CREATE TABLE after (x int);\n")
    proc = sluice.run("restore", script, "--database", db)
    run_fail(proc, SERVER, "22P02", "line 2", "COPY public.t")
    assert pg.query("SELECT count(*) FROM t", db) == [(0,)]
    assert user_tables(pg, db) == ["public.t"]


def test_meta_commands(pg, sluice, fresh_db, tmp_path):
    db, other = fresh_db("mc"), fresh_db("mc")
    script = tmp_path / "meta.sql"
    script.write_text("\\restrict AbCdEf123\n"
                      "CREATE TABLE here (x int);\n"
                      f"\\connect {other}\n"
                      "CREATE TABLE there (x int);\n"
                      "\\unrestrict AbCdEf123\n")
    proc = sluice.run("restore", script, "--database", db)
    assert proc.returncode == 0, proc.stderr
    assert user_tables(pg, db) == ["public.here"]
    assert user_tables(pg, other) == ["public.there"]
    bad = tmp_path / "badmeta.sql"
    bad.write_text("CREATE TABLE one (x int);\n\\set ON_ERROR_STOP on\nCREATE TABLE two (x int);\n")
    db2 = fresh_db("mc")
    proc = sluice.run("restore", bad, "--database", db2)
    run_fail(proc, UNSUPPORTED, "\\set", "line 2")
    assert user_tables(pg, db2) == ["public.one"]


def test_no_owner_no_privileges(pg, sluice, fresh_db, tmp_path):
    role = f"rs_owner_{os.getpid()}"
    src = fresh_db("own")
    pg.execute(f'DROP ROLE IF EXISTS "{role}"')
    pg.execute(f'CREATE ROLE "{role}"')
    try:
        pg.psql(src, "-c", f'CREATE TABLE t (x int); ALTER TABLE t OWNER TO "{role}"; '
                           f'GRANT SELECT ON t TO PUBLIC; CREATE SCHEMA s AUTHORIZATION "{role}"')
        script = tmp_path / "own.sql"
        script.write_text(pg.pg_dump(src))
        plain, skipped = fresh_db("own"), fresh_db("own")
        assert sluice.run("restore", script, "--database", plain).returncode == 0
        assert pg.query("SELECT relowner::regrole::text, relacl IS NULL FROM pg_class "
                        "WHERE relname = 't'", plain) == [(role, False)]
        proc = sluice.run("restore", script, "--database", skipped, "--no-owner",
                          "--no-privileges")
        assert proc.returncode == 0, proc.stderr
        assert pg.query("SELECT relowner::regrole::text, relacl IS NULL FROM pg_class "
                        "WHERE relname = 't'", skipped) == [("postgres", True)]
        assert pg.query("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 's'",
                        skipped) == [("postgres",)]
    finally:
        for db in list(pg.query("SELECT datname FROM pg_database WHERE datname LIKE 'own\\_%'")):
            pg.drop_db(db[0])
        pg.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_truncated_gzip(pg, sluice, fresh_db, tmp_path, dump_script):
    data = open(dump_script["gzip"], "rb").read()
    bad = tmp_path / "cut.sql.gz"
    bad.write_bytes(data[: len(data) * 2 // 3])
    db = fresh_db("tg")
    proc = sluice.run("restore", bad, "--database", db)
    run_fail(proc, ARCHIVE, "offset")
    assert re.search(r"offset\D{0,4}\d+", proc.stderr), proc.stderr


def test_unterminated_quote_in_script(pg, sluice, fresh_db, tmp_path):
    db = fresh_db("uq")
    script = tmp_path / "uq.sql"
    script.write_text("CREATE TABLE ok (x int);\nSELECT 'never closed;\n")
    proc = sluice.run("restore", script, "--database", db)
    run_fail(proc, ARCHIVE, "unterminated quoted string starting at line 2")
    assert user_tables(pg, db) == ["public.ok"]


def test_usage_errors(sluice, tmp_path):
    script = tmp_path / "x.sql"
    script.write_text("SELECT 1;\n")
    run_fail(sluice.run("restore", script, env={"PGDATABASE": ""}), USAGE, "--database")
    run_fail(sluice.run("restore", "--database", "x"), USAGE, "no backup file")
    run_fail(sluice.run("restore", script, "--database", "x", "-j", "0"), USAGE, "-j")
    run_fail(sluice.run("restore", script, "--database", "x", "--bogus"), USAGE, "--bogus")
    run_fail(sluice.run("restore", tmp_path / "missing.sql", "--database", "x"), 6,
             "missing.sql")
    help_text = sluice.run("restore", "--help")
    assert help_text.returncode == 0
    for flag in ("--clean", "--create", "--single-transaction", "--continue-on-error",
                 "pg_database_owner", "-j"):
        assert flag in help_text.stdout


# -- sluice's own backup files ------------------------------------------------------------------

EXT = {"gzip": ".sql.gz", "zstd": ".sql.zst", "none": ".sql"}


@pytest.fixture(scope="module")
def sluice_files(pg, varied, tmp_path_factory):
    """sluice backups of the varied database, one per compression, with a larger table added so
    that -j 4 has several data segments to share."""
    from conftest import Sluice
    pg.execute("CREATE TABLE IF NOT EXISTS public.wide AS SELECT g AS id, md5(g::text) AS h, "
               "repeat(E'x\\t;', g % 50) AS t FROM generate_series(1, 20000) g", varied)
    d = tmp_path_factory.mktemp("sluice_files")
    files = {}
    for compress, ext in EXT.items():
        path = str(d / f"varied{ext}")
        proc = Sluice(pg).run("backup", "single", varied, "-o", path, "-j", 2)
        assert proc.returncode == 0, proc.stderr
        files[compress] = path
    return files


@pytest.mark.parametrize("jobs", [1, 4, 8])
@pytest.mark.parametrize("compress", ["gzip", "zstd", "none"])
def test_sluice_file_jobs(pg, sluice, fresh_db, varied, sluice_files, compress, jobs):
    target = fresh_db("sj")
    proc = sluice.run("restore", sluice_files[compress], "--database", target, "-j", jobs)
    assert proc.returncode == 0, proc.stderr
    assert f"with {jobs} connection" in proc.stderr, proc.stderr
    compare.assert_same(pg.conninfo(varied), pg.conninfo(target))


def test_sluice_file_j1_equals_j4_and_j8(pg, sluice, fresh_db, sluice_files):
    one, four, eight = fresh_db("j1"), fresh_db("j4"), fresh_db("j8")
    for db, jobs in ((one, 1), (four, 4), (eight, 8)):
        proc = sluice.run("restore", sluice_files["zstd"], "--database", db, "-j", jobs)
        assert proc.returncode == 0, proc.stderr
    compare.assert_same(pg.conninfo(one), pg.conninfo(four))
    compare.assert_same(pg.conninfo(one), pg.conninfo(eight))


def test_sluice_file_single_transaction(pg, sluice, fresh_db, varied, sluice_files):
    target = fresh_db("s1")
    proc = sluice.run("restore", sluice_files["gzip"], "--database", target,
                      "--single-transaction", "-j", 4, "-v")
    assert proc.returncode == 0, proc.stderr
    assert "with 1 connection" in proc.stderr, proc.stderr
    assert "WITH (FREEZE)" in proc.stderr
    compare.assert_same(pg.conninfo(varied), pg.conninfo(target))


def test_sluice_file_corrupt_table_data_not_committed(pg, sluice, fresh_db, sluice_files,
                                                      tmp_path):
    """A changed byte inside one table's rows (still valid COPY text) fails that segment's
    checksum: exit 4 naming the offset, and the COPY is not committed."""
    data = bytearray(open(sluice_files["none"], "rb").read())
    pos = data.index(b"\t" + "c4ca4238a0b923820dcc509a6f75849b".encode())  # md5('1') of wide
    data[pos + 1] = ord("d")
    bad = tmp_path / "flipped.sql"
    bad.write_bytes(bytes(data))
    target = fresh_db("fl")
    proc = sluice.run("restore", bad, "--database", target)
    run_fail(proc, ARCHIVE, "offset")
    assert pg.query("SELECT count(*) FROM public.wide", target) == [(0,)]


def test_sluice_file_refused_before_touching(pg, sluice, fresh_db, sluice_files, tmp_path):
    data = open(sluice_files["gzip"], "rb").read()
    bad = tmp_path / "cut.sql.gz"
    bad.write_bytes(data[:-10])
    target = fresh_db("cut")
    proc = sluice.run("restore", bad, "--database", target, "-j", 2)
    run_fail(proc, ARCHIVE, "offset")
    assert user_tables(pg, target) == []
    # --create makes nothing either
    name = f"never_{os.getpid()}"
    proc = sluice.run("restore", bad, "--database", name, "--create")
    run_fail(proc, ARCHIVE, "offset")
    assert pg.query(f"SELECT count(*) FROM pg_database WHERE datname = '{name}'") == [(0,)]


@pytest.fixture
def data_only_file(pg, sluice, fresh_db, tmp_path):
    src = fresh_db("do_src")
    pg.execute("CREATE TABLE t (id int PRIMARY KEY, v text);"
               "CREATE TABLE hits (n int);"
               "CREATE FUNCTION count_hit() RETURNS trigger LANGUAGE plpgsql AS "
               "$$ BEGIN INSERT INTO public.hits VALUES (1); RETURN NEW; END $$;"
               "CREATE TRIGGER t_hit AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION count_hit();"
               "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 50) g;"
               "TRUNCATE hits", src)
    schema = tmp_path / "schema.sql"
    data = tmp_path / "data.sql.gz"
    sluice.run("backup", "single", src, "-o", schema, "--schema-only", check=True)
    sluice.run("backup", "single", src, "-o", data, "--data-only", check=True)
    return src, schema, data


def test_data_only_into_existing_schema_without_firing_triggers(pg, sluice, fresh_db,
                                                                 data_only_file):
    src, schema, data = data_only_file
    target = fresh_db("do_dst")
    sluice.run("restore", schema, "--database", target, check=True)
    sluice.run("restore", data, "--database", target, "-j", 2, check=True)
    assert pg.query("SELECT count(*), sum(id) FROM t", target) == [(50, 1275)]
    assert pg.query("SELECT count(*) FROM hits", target) == [(0,)]


@pytest.mark.parametrize("setup, flags, message", [
    ("", [], "table \"public\".\"t\" of this data-only backup does not exist"),
    ("CREATE TABLE t (id int, v text); CREATE TABLE hits (n int); INSERT INTO t VALUES (1, 'x')",
     [], "already holds rows"),
    ("", ["--clean"], "is a data-only backup"),
])
def test_data_only_refusals(pg, sluice, fresh_db, data_only_file, setup, flags, message):
    _, _, data = data_only_file
    target = fresh_db("do_bad")
    if setup:
        pg.execute(setup, target)
    before = pg.query("SELECT count(*) FROM pg_class WHERE relkind = 'r' AND "
                      "relnamespace = 'public'::regnamespace", target)
    proc = sluice.run("restore", data, "--database", target, *flags)
    run_fail(proc, REFUSED, message)
    after = pg.query("SELECT count(*) FROM pg_class WHERE relkind = 'r' AND "
                     "relnamespace = 'public'::regnamespace", target)
    assert before == after
    if setup:
        assert pg.query("SELECT count(*) FROM t", target) == [(1,)]
