"""Backup fidelity of tables, their privileges and their database.

The cases follow test_fidelity_schema.py: each creates objects (and rows) in a fresh database,
backs it up with `sluice backup single -j 2` to a gzip script and restores that file with
`sluice restore --create -j 2` and with `gunzip -c | psql`; both copies must equal the source
by compare.py (pg_dump --schema-only, every table's rows in column order).
"""

import pytest

import compare
from conftest import make_role
from fidelity import backup_and_restore, psql_restore, round_trip

CASES = {
    # Children whose columns are in another order than PARTITION OF or INHERITS would give:
    # a partition made alone and attached, one with a generated column of its own too, a
    # partitioned partition, a partition whose parent's columns were dropped and added after it
    # was made, and tables made alone that inherit (columns merged with the parents', one of
    # two parents, a generated column). Rows are compared in column order.
    "column_order_of_children": """
        CREATE TABLE public.pp (a int NOT NULL, b text, c int DEFAULT 4) PARTITION BY LIST (a);
        CREATE TABLE public.pp1 (c int, b text, a int NOT NULL);
        ALTER TABLE public.pp ATTACH PARTITION public.pp1 FOR VALUES IN (1);
        CREATE TABLE public.pp2 PARTITION OF public.pp FOR VALUES IN (2);
        CREATE TABLE public.pp3 (b text, c int GENERATED ALWAYS AS (a * 3) STORED,
            a int NOT NULL);
        ALTER TABLE public.pp ATTACH PARTITION public.pp3 FOR VALUES IN (3);
        CREATE TABLE public.pp4 (c int, a int NOT NULL, b text) PARTITION BY LIST (b);
        CREATE TABLE public.pp4x PARTITION OF public.pp4 FOR VALUES IN ('x');
        CREATE TABLE public.pp4y (b text, c int, a int NOT NULL);
        ALTER TABLE public.pp4 ATTACH PARTITION public.pp4y FOR VALUES IN ('y');
        ALTER TABLE public.pp ATTACH PARTITION public.pp4 FOR VALUES IN (4, 5);
        ALTER TABLE public.pp ADD PRIMARY KEY (a, b);
        CREATE INDEX pp_c ON public.pp (c);
        CREATE TABLE public.pp_ref (a int, b text, FOREIGN KEY (a, b) REFERENCES public.pp);
        CREATE TABLE public.dp (a int, x int, b int) PARTITION BY RANGE (a);
        CREATE TABLE public.dp1 PARTITION OF public.dp FOR VALUES FROM (0) TO (10);
        ALTER TABLE public.dp DROP COLUMN x;
        ALTER TABLE public.dp DROP COLUMN b;
        ALTER TABLE public.dp ADD COLUMN c text;
        ALTER TABLE public.dp ADD COLUMN b int;
        CREATE TABLE public.dp2 (b int, a int, c text);
        ALTER TABLE public.dp ATTACH PARTITION public.dp2 FOR VALUES FROM (10) TO (20);
        CREATE TABLE public.ip (a int NOT NULL DEFAULT 7, b text CHECK (b <> ''));
        CREATE TABLE public.iq (q int, b text);
        CREATE TABLE public.ic (z int, b text, a int NOT NULL,
            CONSTRAINT ip_b_check CHECK (b <> ''));
        ALTER TABLE public.ic INHERIT public.ip;
        CREATE TABLE public.ic2 (b text, q int, a int NOT NULL, CONSTRAINT ip_b_check
            CHECK (b <> ''));
        ALTER TABLE public.ic2 INHERIT public.iq;
        ALTER TABLE public.ic2 INHERIT public.ip;
        CREATE TABLE public.ic3 (y int) INHERITS (public.ic);
        CREATE TABLE public.gp (a int, b int GENERATED ALWAYS AS (a * 2) STORED);
        CREATE TABLE public.gc (b int GENERATED ALWAYS AS (a * 2) STORED, a int);
        ALTER TABLE public.gc INHERIT public.gp;
        INSERT INTO public.pp VALUES (1, 'x', 3), (2, 'y', 4), (4, 'x', 5), (5, 'y', 6);
        INSERT INTO public.pp (a, b) VALUES (3, 'z');
        INSERT INTO public.pp_ref VALUES (1, 'x');
        INSERT INTO public.dp VALUES (1, 'c', 5), (15, 'd', 6);
        INSERT INTO public.ic VALUES (1, 'q', 2);
        INSERT INTO public.ic2 VALUES ('b', 2, 3);
        INSERT INTO public.ic3 VALUES (1, 'r', 2, 3);
        INSERT INTO public.gc (a) VALUES (6);
    """,
    # Partitions' clones of their parents' triggers in another firing state than the trigger
    # they were cloned from: at every level, back to enabled under a disabled parent, and on a
    # partition made alone.
    "cloned_trigger_states": """
        CREATE FUNCTION public.tf() RETURNS trigger LANGUAGE plpgsql
            AS $$BEGIN RETURN NEW; END$$;
        CREATE TABLE public.tp (a int, b int) PARTITION BY LIST (a);
        CREATE TABLE public.tp1 PARTITION OF public.tp FOR VALUES IN (1);
        CREATE TABLE public.tp2 PARTITION OF public.tp FOR VALUES IN (2, 3, 4)
            PARTITION BY LIST (a);
        CREATE TABLE public.tp21 PARTITION OF public.tp2 FOR VALUES IN (2);
        CREATE TABLE public.tp22 PARTITION OF public.tp2 FOR VALUES IN (3);
        CREATE TABLE public.tp23 PARTITION OF public.tp2 FOR VALUES IN (4);
        CREATE TABLE public.tp3 (b int, a int);
        ALTER TABLE public.tp ATTACH PARTITION public.tp3 FOR VALUES IN (5);
        CREATE TRIGGER "T on" AFTER INSERT ON public.tp FOR EACH ROW
            EXECUTE FUNCTION public.tf();
        CREATE TRIGGER t_off BEFORE UPDATE ON public.tp FOR EACH ROW
            EXECUTE FUNCTION public.tf();
        ALTER TABLE public.tp DISABLE TRIGGER t_off;
        ALTER TABLE public.tp1 DISABLE TRIGGER "T on";
        ALTER TABLE public.tp2 ENABLE REPLICA TRIGGER "T on";
        ALTER TABLE public.tp22 ENABLE ALWAYS TRIGGER "T on";
        ALTER TABLE public.tp23 ENABLE TRIGGER "T on";
        ALTER TABLE public.tp3 ENABLE ALWAYS TRIGGER "T on";
        ALTER TABLE public.tp2 ENABLE TRIGGER t_off;
        ALTER TABLE public.tp21 DISABLE TRIGGER t_off;
        INSERT INTO public.tp VALUES (1, 1), (2, 2), (5, 5);
    """,
    # Identity sequences keep their persistence: an unlogged table's, and ones made logged or
    # unlogged apart from their table.
    "identity_sequence_persistence": """
        CREATE UNLOGGED TABLE public.ut (a int GENERATED ALWAYS AS IDENTITY, b text);
        CREATE UNLOGGED TABLE public.ut2 (a bigint GENERATED BY DEFAULT AS IDENTITY
            (START WITH 10 INCREMENT BY 5), b text);
        ALTER SEQUENCE public.ut2_a_seq SET LOGGED;
        CREATE TABLE public.lt (a int GENERATED ALWAYS AS IDENTITY, b text);
        ALTER SEQUENCE public.lt_a_seq SET UNLOGGED;
        CREATE TABLE "Id S" (x int, "I d" int GENERATED BY DEFAULT AS IDENTITY);
        ALTER SEQUENCE "Id S_I d_seq" SET UNLOGGED;
        INSERT INTO public.ut (b) VALUES ('x'), ('y');
        INSERT INTO public.ut2 (b) VALUES ('x');
        INSERT INTO public.lt (b) VALUES ('x');
        INSERT INTO "Id S" (x) VALUES (1);
    """,
}

# Privileges that differ from what CREATE EXTENSION or initdb gave (pg_init_privs, else the
# default): on extension members made under default privileges that revoke EXECUTE from
# PUBLIC (pg_init_privs has the script's own GRANT and REVOKE only), and on objects in
# pg_catalog. {role} is a role made for the test.
PRIVILEGES = """
    ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
    CREATE EXTENSION hstore;
    CREATE EXTENSION pg_stat_statements;
    GRANT EXECUTE ON FUNCTION public.akeys(public.hstore) TO {role} WITH GRANT OPTION;
    REVOKE EXECUTE ON FUNCTION public.avals(public.hstore) FROM CURRENT_USER;
    GRANT USAGE ON TYPE public.hstore TO {role};
    REVOKE USAGE ON TYPE public.ghstore FROM PUBLIC;
    GRANT SELECT ON public.pg_stat_statements TO {role};
    REVOKE SELECT ON public.pg_stat_statements_info FROM PUBLIC;
    GRANT EXECUTE ON FUNCTION public.pg_stat_statements_reset(oid, oid, bigint) TO {role};
    GRANT EXECUTE ON FUNCTION pg_catalog.pg_stat_reset() TO {role};
    REVOKE EXECUTE ON FUNCTION pg_catalog.now() FROM PUBLIC;
    REVOKE SELECT ON pg_catalog.pg_settings FROM PUBLIC;
    GRANT SELECT ON pg_catalog.pg_authid TO {role};
    GRANT SELECT (srvname) ON pg_catalog.pg_foreign_server TO {role};
    GRANT USAGE ON TYPE pg_catalog.int4 TO {role} WITH GRANT OPTION;
    REVOKE USAGE ON TYPE pg_catalog.text FROM PUBLIC;
    GRANT CREATE ON SCHEMA pg_catalog TO {role};
"""
# Every ACL (pg_dump shows those of objects in pg_catalog only where they differ from
# pg_init_privs), with the initial privileges of the source; a copy's has no record of the
# extensions' default privileges.
ACLS = ("SELECT pg_describe_object(classid, objid, 0), acl::text FROM ("
        "  SELECT 'pg_proc'::regclass AS classid, oid AS objid, proacl AS acl FROM pg_proc"
        "  UNION ALL SELECT 'pg_class'::regclass, oid, relacl FROM pg_class"
        "  UNION ALL SELECT 'pg_type'::regclass, oid, typacl FROM pg_type"
        "  UNION ALL SELECT 'pg_namespace'::regclass, oid, nspacl FROM pg_namespace) x "
        "WHERE acl IS NOT NULL ORDER BY 1, 2")


@pytest.mark.parametrize("name", sorted(CASES))
def test_round_trip(pg, sluice, fresh_db, tmp_path, name):
    round_trip(pg, sluice, fresh_db, tmp_path, CASES[name])


# A parent's column added after its child's own: no CREATE TABLE makes an inherited column
# after a column of the child's own, so the child is made with all its columns and then
# inherits. Its inherited columns and CHECK constraints then count as its own too (attislocal,
# conislocal), which pg_dump --schema-only shows; everything else must be equal.
LATE_PARENT_COLUMN = """
    CREATE TABLE public.rp (a int NOT NULL DEFAULT 7, b text);
    CREATE TABLE public.rc (z int) INHERITS (public.rp);
    ALTER TABLE public.rp ADD COLUMN c int DEFAULT 5 CONSTRAINT rp_c CHECK (c > 0);
    ALTER TABLE public.rp ADD COLUMN d int GENERATED ALWAYS AS (c * 2) STORED;
    INSERT INTO public.rc VALUES (1, 'x', 2, 3);
    INSERT INTO public.rc (z) VALUES (4);
"""
COLUMNS = ("SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), "
           "a.attnotnull, a.attgenerated, pg_get_expr(d.adbin, d.adrelid), a.attinhcount "
           "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
           "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
           "WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 "
           "AND NOT a.attisdropped ORDER BY 1, 2")
CHECKS = ("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), coninhcount "
          "FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2")


LOCALITY = ("SELECT attrelid::regclass::text, attname, attislocal, attinhcount "
            "FROM pg_attribute WHERE attrelid = 'rc'::regclass AND attnum > 0 ORDER BY 2")


def test_parent_column_added_after_own_columns(pg, sluice, fresh_db, tmp_path):
    """No CREATE TABLE puts an inherited column after a child's own: the child is created
    alone, made to inherit, and (restored by a superuser) its inherited columns and CHECKs made
    inherited only again, so that even pg_dump --schema-only sees no difference."""
    src, _, copies = backup_and_restore(pg, sluice, fresh_db, tmp_path, LATE_PARENT_COLUMN)
    for copy in copies:
        compare.assert_same(pg.conninfo(src), pg.conninfo(copy))
        assert pg.query(LOCALITY, copy) == pg.query(LOCALITY, src)
    want = compare.data_state(pg.conninfo(src))
    assert [row[2] for row in pg.query(COLUMNS, src) if row[0] == "rc"] == ["a", "b", "z", "c",
                                                                              "d"]
    for copy in copies:
        assert compare.data_state(pg.conninfo(copy)) == want
        assert pg.query(COLUMNS, copy) == pg.query(COLUMNS, src)
        assert pg.query(CHECKS, copy) == pg.query(CHECKS, src)


def test_privileges_against_initial_privileges(pg, role, sluice, fresh_db, tmp_path):
    src, _, copies = round_trip(pg, sluice, fresh_db, tmp_path, PRIVILEGES.format(role=role))
    want = pg.query(ACLS, src)
    granted = [obj for obj, acl in want if "fid Role" in acl]
    assert "function pg_stat_reset()" in granted and "type hstore" in granted
    for copy in copies:
        assert pg.query(ACLS, copy) == want


@pytest.fixture
def other_role(pg):
    """A second role (set up before the test's databases, dropped after them)."""
    quoted, drop = make_role(pg, "fid Other")
    yield quoted
    drop()


# The database's own properties; {db} is its quoted name, {role} and {other} roles made for
# the test. A grant made by a role other than the owner, settings that hold lists of names, a
# custom setting, and a comment that needs quoting and holds the DO block's dollar quote.
DATABASE_PROPERTIES = """
    ALTER DATABASE {db} SET work_mem = '7MB';
    ALTER DATABASE {db} SET search_path = "$user", 'My S', public;
    ALTER DATABASE {db} SET "myapp.Mode" = 'it''s on';
    ALTER DATABASE {db} SET DateStyle = 'SQL, DMY';
    ALTER ROLE {role} IN DATABASE {db} SET statement_timeout = '5s';
    ALTER ROLE {role} IN DATABASE {db} SET temp_tablespaces = '';
    COMMENT ON DATABASE {db} IS 'the "db"''s comment, $sluice$
    on two lines';
    ALTER DATABASE {db} OWNER TO {role};
    REVOKE TEMPORARY ON DATABASE {db} FROM PUBLIC;
    GRANT CREATE ON DATABASE {db} TO {other} WITH GRANT OPTION;
    SET ROLE {other};
    GRANT CREATE ON DATABASE {db} TO PUBLIC;
    RESET ROLE;
"""
# What the database has, with its name and oid out of the way.
PROPERTIES = ("SELECT pg_get_userbyid(d.datdba), d.datacl::text, "
              "shobj_description(d.oid, 'pg_database'), ARRAY(SELECT "
              "  (s.setrole::regrole::text, s.setconfig::text) FROM pg_db_role_setting s "
              "  WHERE s.setdatabase = d.oid ORDER BY s.setrole)::text "
              "FROM pg_database d WHERE d.datname = %s")


def test_database_properties(pg, role, other_role, sluice, fresh_db, tmp_path):
    src = fresh_db("fid_src")
    pg.psql(src, "-c", DATABASE_PROPERTIES.format(db=f'"{src}"', role=role, other=other_role))
    out = tmp_path / "db.sql.gz"
    sluice.run("backup", "single", src, "-o", out, check=True)
    want = pg.query(PROPERTIES % f"'{src}'")
    assert want[0][0] == role.strip('"') and "My S" in want[0][3]
    assert '"=C/\\"fid Other-' in want[0][1]  # granted by the other role
    copy = fresh_db("fid_copy")
    pg.drop_db(copy)
    sluice.run("restore", out, "--database", copy, "--create", check=True)
    assert pg.query(PROPERTIES % f"'{copy}'") == want
    # into an existing database, by psql or without --create: its own properties stay
    untouched = fresh_db("fid_plain")
    before = pg.query(PROPERTIES % f"'{untouched}'")
    psql_restore(pg, out, untouched)
    assert pg.query(PROPERTIES % f"'{untouched}'") == before
    untouched2 = fresh_db("fid_plain2")
    sluice.run("restore", out, "--database", untouched2, check=True)
    assert pg.query(PROPERTIES % f"'{untouched2}'") == before


def test_server_bookkeeping_in_column_options_is_left_out(pg, sluice, fresh_db, tmp_path):
    """A server may keep bookkeeping of its own among a column's options under a pg_ name
    (pg_attver on some builds: no statement sets it, pg_dump leaves it out). The backup carries
    the options a user set (n_distinct) and nothing under a pg_ name, so it restores on any
    PostgreSQL 15."""
    import gzip
    src = fresh_db("attopt")
    pg.psql(src, "-c", "CREATE TABLE t (a int, b text); "
            "ALTER TABLE t ALTER COLUMN a SET (n_distinct = 5);")
    options = pg.query("SELECT attoptions FROM pg_attribute WHERE attrelid = 't'::regclass "
                       "AND attnum = 1", dbname=src)[0][0]
    out = tmp_path / "a.sql.gz"
    sluice.run("backup", "single", src, "-o", out, check=True)
    text = gzip.open(out).read().decode()
    assert "SET (n_distinct='5')" in text
    assert not any(o.startswith("pg_") and o.split("=")[0] in text for o in options)
    assert "pg_attver" not in text
