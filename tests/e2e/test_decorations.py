"""Decorations of objects (owners, comments, privileges, row security, large objects,
publications, subscriptions) through sluice backup and a psql restore.

Each case creates objects in a fresh database, backs it up with `sluice backup single
--schema-only`, restores the file with psql into another fresh database, and compares
`pg_dump --schema-only` of both (compare.py; pg_dump is the oracle in tests only), passing the
case's --no-owner / --no-privileges / --no-comments to pg_dump as well. A case also names text
that pg_dump must show for the source (so it cannot pass by creating nothing) and text the
backup must not contain. The roles the cases grant to are made per module with names that need
quoting, and dropped after the databases that mention them.
"""
import os
from dataclasses import dataclass, field

import pytest

import compare

R1 = f"Deco Reader {os.getpid()}"
R2 = f"deco_writer_{os.getpid()}"


@dataclass
class Case:
    name: str
    sql: str                 # {r1}, {r2}: role names (write them inside double quotes)
    shows: tuple = ()        # text pg_dump --schema-only of the source must contain
    flags: tuple = ()        # given to sluice backup and to pg_dump
    absent: tuple = ()       # text the backup file must not contain
    extra: list = field(default_factory=list)


BASE = """
CREATE SCHEMA "Deco S";
CREATE TABLE "Deco S".t (id int PRIMARY KEY, v text CHECK (v <> ''), w int);
CREATE SEQUENCE "Deco S".seq;
CREATE VIEW "Deco S".v AS SELECT id, v FROM "Deco S".t;
CREATE FUNCTION "Deco S".f(int) RETURNS int LANGUAGE sql AS 'select $1';
CREATE PROCEDURE "Deco S".p() LANGUAGE sql AS 'select 1';
CREATE DOMAIN "Deco S".d AS int CONSTRAINT d_pos CHECK (VALUE > 0);
CREATE TYPE "Deco S".mood AS ENUM ('sad', 'ok');
"""

GRANTS = BASE + """
GRANT USAGE ON SCHEMA "Deco S" TO "{r1}" WITH GRANT OPTION;
GRANT SELECT, INSERT ON "Deco S".t TO "{r1}";
GRANT ALL ON "Deco S".t TO {r2} WITH GRANT OPTION;
GRANT USAGE, SELECT ON SEQUENCE "Deco S".seq TO {r2};
GRANT SELECT ON "Deco S".v TO PUBLIC;
REVOKE USAGE ON DOMAIN "Deco S".d FROM PUBLIC;
GRANT USAGE ON DOMAIN "Deco S".d TO "{r1}";
GRANT USAGE ON TYPE "Deco S".mood TO {r2};
REVOKE TRUNCATE ON "Deco S".t FROM postgres;
"""

OWNERS = """
CREATE SCHEMA "Deco Owned" AUTHORIZATION "{r1}";
CREATE TABLE "Deco Owned".t (id serial PRIMARY KEY, g int GENERATED ALWAYS AS IDENTITY, v text);
ALTER TABLE "Deco Owned".t OWNER TO "{r1}";
CREATE INDEX t_v ON "Deco Owned".t (v);
CREATE SEQUENCE "Deco Owned".s;
ALTER SEQUENCE "Deco Owned".s OWNER TO {r2};
CREATE VIEW "Deco Owned".v AS SELECT id FROM "Deco Owned".t;
ALTER VIEW "Deco Owned".v OWNER TO {r2};
CREATE MATERIALIZED VIEW "Deco Owned".mv AS SELECT 1 AS one WITH NO DATA;
ALTER MATERIALIZED VIEW "Deco Owned".mv OWNER TO {r2};
CREATE FUNCTION "Deco Owned".f(a int, b text) RETURNS int LANGUAGE sql AS 'select a';
ALTER FUNCTION "Deco Owned".f(int, text) OWNER TO {r2};
CREATE PROCEDURE "Deco Owned".p(a int) LANGUAGE sql AS 'select a';
ALTER PROCEDURE "Deco Owned".p(int) OWNER TO {r2};
CREATE AGGREGATE "Deco Owned".total(int) (SFUNC = int4pl, STYPE = int);
ALTER AGGREGATE "Deco Owned".total(int) OWNER TO {r2};
CREATE TYPE "Deco Owned".pair AS (a int, b text);
ALTER TYPE "Deco Owned".pair OWNER TO {r2};
CREATE DOMAIN "Deco Owned".pos AS int CHECK (VALUE > 0);
ALTER DOMAIN "Deco Owned".pos OWNER TO {r2};
CREATE TYPE "Deco Owned".e AS ENUM ('x');
ALTER TYPE "Deco Owned".e OWNER TO {r2};
CREATE OPERATOR "Deco Owned".=== (FUNCTION = int4eq, LEFTARG = int, RIGHTARG = int);
ALTER OPERATOR "Deco Owned".=== (int, int) OWNER TO {r2};
CREATE OPERATOR CLASS "Deco Owned".opc FOR TYPE int USING btree AS
    OPERATOR 1 <, FUNCTION 1 btint4cmp(int, int);
ALTER OPERATOR CLASS "Deco Owned".opc USING btree OWNER TO {r2};
ALTER OPERATOR FAMILY "Deco Owned".opc USING btree OWNER TO {r2};
CREATE TEXT SEARCH CONFIGURATION "Deco Owned".cfg (COPY = pg_catalog.simple);
ALTER TEXT SEARCH CONFIGURATION "Deco Owned".cfg OWNER TO {r2};
CREATE STATISTICS "Deco Owned".st ON id, v FROM "Deco Owned".t;
ALTER STATISTICS "Deco Owned".st OWNER TO "{r1}";
CREATE COLLATION "Deco Owned".c (locale = 'C');
ALTER COLLATION "Deco Owned".c OWNER TO {r2};
"""

COMMENTS = BASE + """
CREATE INDEX t_w ON "Deco S".t (w);
CREATE TABLE "Deco S".child (id int REFERENCES "Deco S".t, CONSTRAINT c_pos CHECK (id > 0));
CREATE MATERIALIZED VIEW "Deco S".mv AS SELECT 1 AS one WITH NO DATA;
CREATE FUNCTION "Deco S".trg() RETURNS trigger LANGUAGE plpgsql AS 'begin return new; end';
CREATE TRIGGER tr BEFORE INSERT ON "Deco S".t FOR EACH ROW EXECUTE FUNCTION "Deco S".trg();
CREATE RULE r AS ON UPDATE TO "Deco S".v DO INSTEAD NOTHING;
CREATE AGGREGATE "Deco S".total(int) (SFUNC = int4pl, STYPE = int);
CREATE TYPE "Deco S".pair AS (a int, b text);
COMMENT ON SCHEMA "Deco S" IS 'a schema';
COMMENT ON TABLE "Deco S".t IS 'it''s a table with a \\ backslash, a
newline and ünïcode';
COMMENT ON COLUMN "Deco S".t.v IS 'column v';
COMMENT ON COLUMN "Deco S".v.id IS 'view column';
COMMENT ON COLUMN "Deco S".pair.b IS 'composite column';
COMMENT ON CONSTRAINT t_pkey ON "Deco S".t IS 'primary key';
COMMENT ON CONSTRAINT t_v_check ON "Deco S".t IS 'inline check';
COMMENT ON CONSTRAINT c_pos ON "Deco S".child IS 'named check';
COMMENT ON CONSTRAINT child_id_fkey ON "Deco S".child IS 'foreign key';
COMMENT ON CONSTRAINT d_pos ON DOMAIN "Deco S".d IS 'domain check';
COMMENT ON INDEX "Deco S".t_w IS 'an index';
COMMENT ON INDEX "Deco S".t_pkey IS 'the index of a primary key';
COMMENT ON VIEW "Deco S".v IS 'a view';
COMMENT ON MATERIALIZED VIEW "Deco S".mv IS 'a matview';
COMMENT ON SEQUENCE "Deco S".seq IS 'a sequence';
COMMENT ON FUNCTION "Deco S".f(int) IS 'a function';
COMMENT ON PROCEDURE "Deco S".p() IS 'a procedure';
COMMENT ON AGGREGATE "Deco S".total(int) IS 'an aggregate';
COMMENT ON TYPE "Deco S".mood IS 'an enum';
COMMENT ON TYPE "Deco S".pair IS 'a composite';
COMMENT ON DOMAIN "Deco S".d IS 'a domain';
COMMENT ON TRIGGER tr ON "Deco S".t IS 'a trigger';
COMMENT ON RULE r ON "Deco S".v IS 'a rule';
"""

RLS = """
CREATE SCHEMA "Deco S";
CREATE TABLE "Deco S".t (id int, owner_name text, v int);
ALTER TABLE "Deco S".t ENABLE ROW LEVEL SECURITY;
ALTER TABLE "Deco S".t FORCE ROW LEVEL SECURITY;
CREATE POLICY "see own" ON "Deco S".t USING (owner_name = current_user);
CREATE POLICY strict ON "Deco S".t AS RESTRICTIVE FOR SELECT TO "{r1}", {r2}
    USING (v > 0);
CREATE POLICY ins ON "Deco S".t FOR INSERT TO {r2} WITH CHECK (v < 100);
CREATE POLICY upd ON "Deco S".t FOR UPDATE USING (v > 1) WITH CHECK (v > 2);
CREATE POLICY del ON "Deco S".t FOR DELETE TO PUBLIC USING (true);
COMMENT ON POLICY upd ON "Deco S".t IS 'a policy';
CREATE TABLE "Deco S".only_enabled (id int);
ALTER TABLE "Deco S".only_enabled ENABLE ROW LEVEL SECURITY;
CREATE TABLE "Deco S".parted (id int, k int) PARTITION BY RANGE (k);
ALTER TABLE "Deco S".parted ENABLE ROW LEVEL SECURITY;
CREATE POLICY p ON "Deco S".parted USING (k > 0);
"""

PUBLICATIONS = """
CREATE SCHEMA "Deco S";
CREATE SCHEMA "Deco Pub";
CREATE TABLE "Deco S".t (id int PRIMARY KEY, a int, b text);
CREATE TABLE "Deco S".u (id int PRIMARY KEY);
CREATE TABLE "Deco Pub".x (id int);
CREATE TABLE "Deco S".parted (id int, k int) PARTITION BY RANGE (k);
CREATE TABLE "Deco S".part1 PARTITION OF "Deco S".parted FOR VALUES FROM (0) TO (10);
CREATE PUBLICATION "Pub Tables" FOR TABLE "Deco S".t (id, a) WHERE (a > 5), "Deco S".u
    WITH (publish = 'insert, delete');
CREATE PUBLICATION pub_schema FOR TABLES IN SCHEMA "Deco Pub";
CREATE PUBLICATION pub_all FOR ALL TABLES WITH (publish = 'truncate');
CREATE PUBLICATION pub_root FOR TABLE "Deco S".parted WITH (publish_via_partition_root = true);
CREATE PUBLICATION pub_empty;
CREATE PUBLICATION pub_mixed FOR TABLES IN SCHEMA "Deco Pub", TABLE "Deco S".u;
COMMENT ON PUBLICATION pub_empty IS 'nothing yet';
"""

DEFAULT_PRIVILEGES = """
CREATE SCHEMA "Deco S";
ALTER DEFAULT PRIVILEGES FOR ROLE "{r1}" GRANT SELECT ON TABLES TO {r2};
ALTER DEFAULT PRIVILEGES FOR ROLE "{r1}" REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE "{r1}" IN SCHEMA "Deco S"
    GRANT USAGE ON SEQUENCES TO {r2} WITH GRANT OPTION;
ALTER DEFAULT PRIVILEGES FOR ROLE "{r1}" GRANT USAGE ON TYPES TO {r2};
ALTER DEFAULT PRIVILEGES FOR ROLE "{r1}" GRANT CREATE ON SCHEMAS TO {r2};
ALTER DEFAULT PRIVILEGES IN SCHEMA "Deco S" GRANT EXECUTE ON FUNCTIONS TO "{r1}";
-- made after the defaults: carries their grant, which the restore must give back exactly once
CREATE FUNCTION "Deco S".g() RETURNS int LANGUAGE sql AS 'select 1';
"""

CASES = [
    Case("grants", GRANTS,
         shows=('GRANT SELECT,INSERT ON TABLE "Deco S".t TO "{r1}"',
                'GRANT ALL ON TABLE "Deco S".t TO {r2} WITH GRANT OPTION',
                'REVOKE ALL ON TYPE "Deco S".d FROM PUBLIC',
                'GRANT SELECT ON TABLE "Deco S".v TO PUBLIC',
                'GRANT USAGE ON SCHEMA "Deco S" TO "{r1}" WITH GRANT OPTION')),
    Case("column grants", BASE + """
GRANT SELECT (id), UPDATE (v) ON "Deco S".t TO "{r1}";
GRANT INSERT (v, w) ON "Deco S".t TO {r2} WITH GRANT OPTION;
GRANT SELECT (v) ON "Deco S".v TO {r2};
GRANT SELECT ON "Deco S".t TO {r2};
""", shows=('GRANT SELECT(id) ON TABLE "Deco S".t TO "{r1}"',
            'GRANT INSERT(v) ON TABLE "Deco S".t TO {r2} WITH GRANT OPTION',
            'GRANT SELECT(v) ON TABLE "Deco S".v TO {r2}')),
    Case("revoke from PUBLIC on routines", BASE + """
REVOKE ALL ON FUNCTION "Deco S".f(int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "Deco S".f(int) TO "{r1}";
REVOKE EXECUTE ON PROCEDURE "Deco S".p() FROM PUBLIC;
REVOKE EXECUTE ON PROCEDURE "Deco S".p() FROM postgres;
""", shows=('REVOKE ALL ON FUNCTION "Deco S".f(integer) FROM PUBLIC',
            'GRANT ALL ON FUNCTION "Deco S".f(integer) TO "{r1}"',
            'REVOKE ALL ON PROCEDURE "Deco S".p() FROM postgres')),
    Case("grantor other than the owner", BASE + """
GRANT USAGE ON SCHEMA "Deco S" TO "{r1}";
GRANT SELECT, UPDATE ON "Deco S".t TO "{r1}" WITH GRANT OPTION;
SET ROLE "{r1}";
GRANT SELECT ON "Deco S".t TO {r2};
RESET ROLE;
""", shows=('SET SESSION AUTHORIZATION "{r1}";\nGRANT SELECT ON TABLE "Deco S".t TO {r2};',)),
    Case("default privileges", DEFAULT_PRIVILEGES,
         shows=('ALTER DEFAULT PRIVILEGES FOR ROLE "{r1}" GRANT SELECT ON TABLES',
                'ALTER DEFAULT PRIVILEGES FOR ROLE "{r1}" REVOKE ALL ON FUNCTIONS',
                'IN SCHEMA "Deco S" GRANT USAGE ON SEQUENCES',
                'GRANT ALL ON FUNCTION "Deco S".g() TO "{r1}"')),
    Case("owners", OWNERS,
         shows=('ALTER SCHEMA "Deco Owned" OWNER TO "{r1}"',
                'ALTER TABLE "Deco Owned".t OWNER TO "{r1}"',
                'ALTER TABLE "Deco Owned".s OWNER TO {r2}',
                'ALTER FUNCTION "Deco Owned".f(a integer, b text) OWNER TO {r2}',
                'ALTER AGGREGATE "Deco Owned".total(integer) OWNER TO {r2}',
                'ALTER OPERATOR CLASS "Deco Owned".opc USING btree OWNER TO {r2}',
                'ALTER STATISTICS "Deco Owned".st OWNER TO "{r1}"',
                'ALTER TYPE "Deco Owned".pair OWNER TO {r2}')),
    Case("comments", COMMENTS,
         shows=("COMMENT ON COLUMN \"Deco S\".t.v IS 'column v'",
                "COMMENT ON CONSTRAINT t_v_check ON \"Deco S\".t IS 'inline check'",
                "COMMENT ON CONSTRAINT d_pos ON DOMAIN \"Deco S\".d IS 'domain check'",
                "COMMENT ON INDEX \"Deco S\".t_w IS 'an index'",
                "COMMENT ON INDEX \"Deco S\".t_pkey IS 'the index of a primary key'",
                "COMMENT ON TRIGGER tr ON \"Deco S\".t IS 'a trigger'",
                "ünïcode")),
    Case("row level security", RLS,
         shows=('ALTER TABLE ONLY "Deco S".t FORCE ROW LEVEL SECURITY',
                'CREATE POLICY strict ON "Deco S".t AS RESTRICTIVE FOR SELECT',
                'WITH CHECK ((v < 100))',
                "COMMENT ON POLICY upd ON \"Deco S\".t IS 'a policy'")),
    Case("publications", PUBLICATIONS,
         shows=('CREATE PUBLICATION pub_all FOR ALL TABLES',
                'ALTER PUBLICATION "Pub Tables" ADD TABLE ONLY "Deco S".t (id, a) WHERE ((a > 5))',
                'ALTER PUBLICATION pub_schema ADD TABLES IN SCHEMA "Deco Pub"',
                "publish_via_partition_root = true")),
    Case("public schema changed", """
REVOKE USAGE ON SCHEMA public FROM PUBLIC;
GRANT CREATE ON SCHEMA public TO {r2};
ALTER SCHEMA public OWNER TO "{r1}";
COMMENT ON SCHEMA public IS 'not the standard one';
CREATE TABLE public.t (id int);
""", shows=('ALTER SCHEMA public OWNER TO "{r1}"', "'not the standard one'",
            'GRANT CREATE ON SCHEMA public TO {r2}')),
    Case("public schema as initdb made it", "CREATE TABLE public.t (id int);",
         absent=("SCHEMA public OWNER", "ON SCHEMA public", "standard public schema")),
    Case("--no-owner", OWNERS + """
GRANT SELECT, INSERT ON "Deco Owned".t TO {r2};
REVOKE ALL ON FUNCTION "Deco Owned".f(int, text) FROM PUBLIC;
COMMENT ON TABLE "Deco Owned".t IS 'owned by someone else';
""", flags=("--no-owner",), absent=("OWNER TO",),
         shows=('GRANT SELECT,INSERT ON TABLE "Deco Owned".t TO {r2}',
                'REVOKE ALL ON FUNCTION "Deco Owned".f(a integer, b text) FROM PUBLIC')),
    Case("--no-privileges", GRANTS + DEFAULT_PRIVILEGES.replace('CREATE SCHEMA "Deco S";', ""),
         flags=("--no-privileges",),
         absent=("GRANT ", "REVOKE ", "DEFAULT PRIVILEGES"),
         shows=('CREATE TABLE "Deco S".t',)),
    Case("--no-comments", COMMENTS, flags=("--no-comments",), absent=("COMMENT ON",),
         shows=('CREATE VIEW "Deco S".v',)),
]


@pytest.fixture(scope="module")
def roles(pg):
    for r in (R1, R2):
        pg.execute(f'DROP ROLE IF EXISTS "{r}"')
        pg.execute(f'CREATE ROLE "{r}"')
    yield R1, R2
    for r in (R1, R2):
        pg.execute(f'DROP ROLE IF EXISTS "{r}"')


def fill(text):
    return text.replace("{r1}", R1).replace("{r2}", R2)


def make_source(pg, fresh_db, body):
    db = fresh_db("deco_src")
    proc = pg.psql(db, "-o", "/dev/null", input=fill(body), check=False)
    assert proc.returncode == 0, f"creating the source failed:\n{proc.stderr}"
    return db


def backup_restore(pg, sluice, fresh_db, tmp_path, src, *flags):
    out = tmp_path / "deco.sql"
    sluice.run("backup", "single", src, "--schema-only", "-o", out, *flags, check=True)
    dst = fresh_db("deco_dst")
    restored = pg.psql(dst, "-o", "/dev/null", "-f", str(out), check=False)
    assert restored.returncode == 0, f"psql restore failed:\n{restored.stderr}"
    return out.read_text(), dst


def assert_same_schema(pg, a, b, *flags):
    ta = compare.schema_text(pg.conninfo(a), *flags)
    tb = compare.schema_text(pg.conninfo(b), *flags)
    if ta != tb:
        import difflib
        diff = "\n".join(difflib.unified_diff(ta, tb, "source", "restored", lineterm="", n=2))
        raise AssertionError(f"pg_dump --schema-only {' '.join(flags)} differs:\n{diff}")
    return "\n".join(ta)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_decorations_round_trip(pg, roles, fresh_db, sluice, tmp_path, case):
    src = make_source(pg, fresh_db, case.sql)
    text, dst = backup_restore(pg, sluice, fresh_db, tmp_path, src, *case.flags)
    shown = assert_same_schema(pg, src, dst, *case.flags)
    for want in case.shows:
        assert fill(want) in shown, f"pg_dump of the source should show {fill(want)!r}"
    for unwanted in case.absent:
        assert fill(unwanted) not in text, f"the backup should not contain {fill(unwanted)!r}"


def test_large_object_owner_comment_and_grants(pg, roles, fresh_db, sluice, tmp_path):
    """pg_dump --schema-only leaves large objects out, so compare their catalog rows."""
    src = make_source(pg, fresh_db, """
SELECT lo_create(424242);
SELECT lo_create(424243);
COMMENT ON LARGE OBJECT 424242 IS 'a large object';
GRANT SELECT, UPDATE ON LARGE OBJECT 424242 TO "{r1}";
ALTER LARGE OBJECT 424243 OWNER TO {r2};
GRANT SELECT ON LARGE OBJECT 424243 TO "{r1}" WITH GRANT OPTION;
""")
    text, dst = backup_restore(pg, sluice, fresh_db, tmp_path, src)
    assert "lo_create('424242')" in text
    query = ("SELECT m.oid, pg_get_userbyid(m.lomowner), m.lomacl::text, "
             "obj_description(m.oid, 'pg_largeobject') FROM pg_largeobject_metadata m ORDER BY 1")
    want = pg.query(query, src)
    assert len(want) == 2 and want[0][3] == "a large object" and R1 in want[0][2]
    assert pg.query(query, dst) == want
    compare.assert_same(pg.conninfo(src), pg.conninfo(dst))


def test_large_objects_left_out_with_a_schema_filter(pg, roles, fresh_db, sluice, tmp_path):
    src = make_source(pg, fresh_db, """
CREATE SCHEMA "Deco S";
CREATE TABLE "Deco S".t (id int);
SELECT lo_create(424242);
CREATE PUBLICATION p FOR ALL TABLES;
""")
    out = tmp_path / "filtered.sql"
    sluice.run("backup", "single", src, "--schema-only", "-n", '"Deco S"', "-o", out,
               check=True)
    text = out.read_text()
    assert 'CREATE TABLE "Deco S".t' in text
    assert "lo_create" not in text and "PUBLICATION" not in text


def test_subscription_is_created_without_connecting(pg, roles, fresh_db, sluice, tmp_path):
    src = make_source(pg, fresh_db, """
CREATE SUBSCRIPTION "Deco Sub" CONNECTION 'host=127.0.0.1 port=1 dbname=nowhere'
    PUBLICATION p1, "P 2" WITH (connect = false, binary = true, streaming = on);
CREATE SUBSCRIPTION sub_noslot CONNECTION 'dbname=nowhere'
    PUBLICATION p1 WITH (connect = false, slot_name = NONE, synchronous_commit = 'local');
CREATE SUBSCRIPTION sub_slot CONNECTION 'dbname=nowhere'
    PUBLICATION p1 WITH (connect = false, slot_name = 'other_slot', disable_on_error = true);
""")
    dst = None
    try:
        text, dst = backup_restore(pg, sluice, fresh_db, tmp_path, src)
        assert "connect = false" in text
        shown = assert_same_schema(pg, src, dst)
        for want in ('CREATE SUBSCRIPTION "Deco Sub"', "slot_name = NONE",
                     "slot_name = 'other_slot'", "disable_on_error = true", "binary = true"):
            assert want in shown, f"pg_dump of the source should show {want!r}"
    finally:
        for db in (src, dst):  # a database holding subscriptions cannot be dropped
            if db:
                for (name,) in pg.query("SELECT subname FROM pg_subscription s JOIN "
                                        "pg_database d ON d.oid = s.subdbid "
                                        "WHERE d.datname = current_database()", db):
                    pg.execute(f'ALTER SUBSCRIPTION "{name}" DISABLE', db)
                    pg.execute(f'ALTER SUBSCRIPTION "{name}" SET (slot_name = NONE)', db)
                    pg.execute(f'DROP SUBSCRIPTION "{name}"', db)


def test_decoration_queries_do_not_grow_with_objects(pg, roles, fresh_db, sluice, tmp_path):
    """One query reads every comment: the server log shows pg_description once."""
    src = make_source(pg, fresh_db, """
CREATE SCHEMA "Deco S";
DO $$BEGIN
  FOR i IN 1..300 LOOP
    EXECUTE format('CREATE TABLE "Deco S".t%s (id int)', i);
    EXECUTE format('COMMENT ON TABLE "Deco S".t%s IS %L', i, 'table ' || i);
    EXECUTE format('GRANT SELECT ON "Deco S".t%s TO "{r1}"', i);
  END LOOP;
END$$;
""")
    pg.execute(f'ALTER DATABASE "{src}" SET log_statement = \'all\'')
    log = os.path.join(pg.datadir, "server.log")
    start = os.path.getsize(log)
    text, dst = backup_restore(pg, sluice, fresh_db, tmp_path, src)
    with open(log, errors="replace") as f:
        f.seek(start)
        logged = f.read()
    assert logged.count("JOIN pg_description d") == 1
    assert logged.count("aclexplode(p.cur)") == 2  # the ACL query mentions it twice
    assert text.count("COMMENT ON TABLE") == 300
    assert_same_schema(pg, src, dst)


def test_filters_keep_only_the_decorations_of_what_is_dumped(pg, roles, fresh_db, sluice,
                                                             tmp_path):
    src = make_source(pg, fresh_db, fill("""
CREATE SCHEMA "Deco S";
CREATE SCHEMA other;
CREATE TABLE "Deco S".t (id int);
CREATE TABLE "Deco S".t2 (id int);
CREATE TABLE other.o (id int);
COMMENT ON TABLE "Deco S".t IS 'keep me';
COMMENT ON COLUMN "Deco S".t.id IS 'keep my column';
COMMENT ON TABLE "Deco S".t2 IS 'not with -t';
COMMENT ON TABLE other.o IS 'not with -n';
COMMENT ON SCHEMA "Deco S" IS 'schema comment';
GRANT SELECT ON "Deco S".t TO "{r1}";
GRANT SELECT ON other.o TO "{r1}";
GRANT USAGE ON SCHEMA "Deco S" TO {r2};
ALTER DEFAULT PRIVILEGES IN SCHEMA "Deco S" GRANT SELECT ON TABLES TO {r2};
ALTER DEFAULT PRIVILEGES IN SCHEMA other GRANT SELECT ON TABLES TO {r2};
ALTER DEFAULT PRIVILEGES GRANT USAGE ON TYPES TO {r2};
ALTER TABLE "Deco S".t ENABLE ROW LEVEL SECURITY;
CREATE POLICY p ON "Deco S".t USING (id > 0);
SELECT lo_create(424242);
CREATE PUBLICATION pub FOR TABLE "Deco S".t;
"""))
    by_schema = tmp_path / "n.sql"
    sluice.run("backup", "single", src, "--schema-only", "-n", '"Deco S"', "-o", by_schema,
               check=True)
    text = by_schema.read_text()
    for want in ("'keep me'", "'keep my column'", "'not with -t'", "'schema comment'",
                 f'TO "{R1}"', "IN SCHEMA \"Deco S\" GRANT SELECT ON TABLES", "CREATE POLICY p",
                 "ENABLE ROW LEVEL SECURITY"):
        assert want in text, f"-n should keep {want!r}"
    for unwanted in ("'not with -n'", "other", "ON TYPES", "lo_create", "PUBLICATION"):
        assert unwanted not in text, f"-n should leave out {unwanted!r}"

    by_table = tmp_path / "t.sql"
    sluice.run("backup", "single", src, "--schema-only", "-t", '"Deco S".t', "-o", by_table,
               check=True)
    text = by_table.read_text()
    for want in ("'keep me'", "'keep my column'", f'TO "{R1}"', "CREATE POLICY p"):
        assert want in text, f"-t should keep {want!r}"
    for unwanted in ("'not with -t'", "'schema comment'", "DEFAULT PRIVILEGES",
                     "ON SCHEMA", "lo_create", "PUBLICATION"):
        assert unwanted not in text, f"-t should leave out {unwanted!r}"
