"""Backup fidelity of schema objects that need more than their own definition to come back.

Each case creates objects (and some rows) in a fresh database, backs it up with
`sluice backup single -j 2` to a gzip script, and restores that file twice: with
`sluice restore --create -j 2`, and with `gunzip -c | psql`. Both copies must equal the source
by compare.py (pg_dump --schema-only, every table's rows, populated materialized views).
"""
import subprocess

import pytest

from fidelity import round_trip

CASES = {
    # A class whose STORAGE equals its input type is stored with no storage type; with no
    # operators and no functions either, nothing is left to write after AS.
    "opclass_without_members": """
        CREATE OPERATOR FAMILY public.fam USING btree;
        CREATE OPERATOR CLASS public.bare FOR TYPE int4 USING btree FAMILY public.fam
            AS STORAGE int4;
        CREATE OPERATOR CLASS public.bare_hash FOR TYPE text USING hash AS STORAGE text;
        CREATE SCHEMA "Op Schema";
        CREATE OPERATOR CLASS "Op Schema"."bare gist" FOR TYPE int4 USING gist AS STORAGE int4;
        COMMENT ON OPERATOR CLASS public.bare USING btree IS 'no members';
    """,
    # A child of a generated column takes the parent's expression and may not write one: with
    # INHERITS, a column of its own merged with the parent's, a grandchild, and partitions. A
    # child's generated column under a plain parent column keeps its own expression, also a
    # partition's (which PARTITION OF cannot say).
    "generated_columns_inherited": """
        CREATE TABLE public.gp (a int, b int GENERATED ALWAYS AS (a * 2) STORED);
        CREATE TABLE public.gc () INHERITS (public.gp);
        CREATE TABLE public.gc_own (a int, b int GENERATED ALWAYS AS (a * 2) STORED);
        ALTER TABLE public.gc_own INHERIT public.gp;
        CREATE TABLE public.gc_merged (c int, b int) INHERITS (public.gc);
        CREATE TABLE public.np (a int, b int);
        CREATE TABLE public.nc (b int GENERATED ALWAYS AS (a * 5) STORED) INHERITS (public.np);
        CREATE TABLE public.gpp (a int NOT NULL, b int GENERATED ALWAYS AS (a + 1) STORED)
            PARTITION BY RANGE (a);
        CREATE TABLE public.gpp1 PARTITION OF public.gpp FOR VALUES FROM (0) TO (10);
        CREATE TABLE public.gpp2 (a int NOT NULL, b int GENERATED ALWAYS AS (a + 1) STORED);
        ALTER TABLE public.gpp ATTACH PARTITION public.gpp2 FOR VALUES FROM (10) TO (20);
        CREATE TABLE public.npp (a int, b int) PARTITION BY LIST (a);
        CREATE TABLE public.npp1 PARTITION OF public.npp FOR VALUES IN (1);
        CREATE TABLE public.npp2 (a int NOT NULL, b int GENERATED ALWAYS AS (a * 5) STORED);
        ALTER TABLE public.npp ATTACH PARTITION public.npp2 FOR VALUES IN (2);
        CREATE TABLE public.npp3 PARTITION OF public.npp FOR VALUES IN (3, 4)
            PARTITION BY LIST (a);
        CREATE TABLE public.npp4 (a int NOT NULL, b int GENERATED ALWAYS AS (a * 9) STORED);
        ALTER TABLE public.npp3 ATTACH PARTITION public.npp4 FOR VALUES IN (4);
        ALTER TABLE public.npp ADD PRIMARY KEY (a);
        CREATE INDEX npp_b ON public.npp (b);
        CREATE TABLE public.npp_ref (a int REFERENCES public.npp);
        CREATE VIEW public.gv AS SELECT b FROM public.gc_own;
        CREATE INDEX gc_own_b ON public.gc_own (b);
        INSERT INTO public.gp VALUES (1);
        INSERT INTO public.gc VALUES (2);
        INSERT INTO public.gc_own VALUES (3);
        INSERT INTO public.gc_merged (a, c) VALUES (4, 4);
        INSERT INTO public.nc VALUES (5);
        INSERT INTO public.gpp VALUES (1), (15);
        INSERT INTO public.npp (a) VALUES (1), (2), (4);
        INSERT INTO public.npp_ref VALUES (2), (4);
    """,
    # Materialized views reading materialized views, directly and through (chains of) views,
    # named so that name order is the wrong refresh order.
    "matview_refresh_order": """
        CREATE TABLE public.base (a int);
        INSERT INTO public.base SELECT generate_series(1, 10);
        CREATE MATERIALIZED VIEW public.z_first AS SELECT a FROM public.base WHERE a > 2;
        CREATE MATERIALIZED VIEW public.a_second AS SELECT count(*) AS n FROM public.z_first;
        CREATE VIEW public.m_view AS SELECT a * 2 AS b FROM public.z_first;
        CREATE VIEW public.m_view2 AS SELECT b + 1 AS c FROM public.m_view;
        CREATE MATERIALIZED VIEW public.b_third AS SELECT sum(b) AS s FROM public.m_view;
        CREATE MATERIALIZED VIEW public.b_fifth AS SELECT max(c) AS c FROM public.m_view2;
        CREATE VIEW public.y_view AS SELECT s FROM public.b_third;
        CREATE MATERIALIZED VIEW public.a_sixth AS SELECT s, n FROM public.y_view, public.a_second;
        CREATE MATERIALIZED VIEW public.c_fourth AS SELECT n FROM public.a_second;
        CREATE UNIQUE INDEX ON public.a_second (n);
    """,
    # Column settings of materialized views (populated or not), in a schema needing quotes.
    "matview_column_settings": """
        CREATE SCHEMA "Mv S";
        CREATE TABLE "Mv S".t (a int, b text);
        INSERT INTO "Mv S".t VALUES (1, 'x'), (2, repeat('y', 5000));
        CREATE MATERIALIZED VIEW "Mv S"."M v" AS SELECT a, b, b AS "C c" FROM "Mv S".t;
        ALTER MATERIALIZED VIEW "Mv S"."M v" ALTER COLUMN b SET COMPRESSION pglz;
        ALTER MATERIALIZED VIEW "Mv S"."M v" ALTER COLUMN a SET STATISTICS 321;
        ALTER MATERIALIZED VIEW "Mv S"."M v" ALTER COLUMN b SET STORAGE EXTERNAL;
        ALTER MATERIALIZED VIEW "Mv S"."M v" ALTER COLUMN "C c" SET (n_distinct = 5);
        ALTER MATERIALIZED VIEW "Mv S"."M v" ALTER COLUMN "C c" SET STORAGE MAIN;
        CREATE MATERIALIZED VIEW public.mv2 AS SELECT a FROM "Mv S".t WITH NO DATA;
        ALTER MATERIALIZED VIEW public.mv2 ALTER COLUMN a SET STATISTICS 10;
        ALTER MATERIALIZED VIEW public.mv2 ALTER COLUMN a SET (n_distinct_inherited = -0.5);
    """,
    # Base and range types made from a shell, in the regression database's style: their I/O
    # (and canonical) functions are created on the shell; SQL functions, which cannot take or
    # return a shell type, only after the type, as everything using those.
    "functions_on_types_from_shells": """
        CREATE TYPE public.int42;
        CREATE TYPE public.text_w_default;
        CREATE FUNCTION public.int42_in(cstring) RETURNS public.int42
            AS 'int4in' LANGUAGE internal STRICT IMMUTABLE;
        CREATE FUNCTION public.int42_out(public.int42) RETURNS cstring
            AS 'int4out' LANGUAGE internal STRICT IMMUTABLE;
        CREATE FUNCTION public.text_w_default_in(cstring) RETURNS public.text_w_default
            AS 'textin' LANGUAGE internal STRICT IMMUTABLE;
        CREATE FUNCTION public.text_w_default_out(public.text_w_default) RETURNS cstring
            AS 'textout' LANGUAGE internal STRICT IMMUTABLE;
        CREATE TYPE public.int42 (internallength = 4, input = public.int42_in,
            output = public.int42_out, alignment = int4, default = 42, passedbyvalue);
        CREATE TYPE public.text_w_default (internallength = variable,
            input = public.text_w_default_in, output = public.text_w_default_out,
            alignment = int4, default = 'zippo');
        CREATE TABLE public.default_test (f1 public.text_w_default, f2 public.int42);
        INSERT INTO public.default_test DEFAULT VALUES;
        CREATE TYPE public.default_test_row AS (f1 public.text_w_default, f2 public.int42);
        CREATE FUNCTION public.get_default_test() RETURNS SETOF public.default_test_row
            AS ' SELECT * FROM public.default_test; ' LANGUAGE sql;
        CREATE FUNCTION public.int42_plus(public.int42, int) RETURNS int LANGUAGE sql IMMUTABLE
            AS $$SELECT $1::text::int + $2$$;
        CREATE FUNCTION public.mk42(int) RETURNS public.int42 LANGUAGE sql
            AS $$SELECT $1::text::public.int42$$;
        CREATE TABLE public.uses (a int, b int DEFAULT public.int42_plus('1'::public.int42, 2));
        CREATE TYPE public.myvarchar;
        CREATE FUNCTION public.myvarcharin(cstring, oid, integer) RETURNS public.myvarchar
            LANGUAGE internal IMMUTABLE PARALLEL SAFE STRICT AS 'varcharin';
        CREATE FUNCTION public.myvarcharout(public.myvarchar) RETURNS cstring
            LANGUAGE internal IMMUTABLE PARALLEL SAFE STRICT AS 'varcharout';
        CREATE FUNCTION public.myvarcharsend(public.myvarchar) RETURNS bytea
            LANGUAGE internal STABLE PARALLEL SAFE STRICT AS 'varcharsend';
        CREATE FUNCTION public.myvarcharrecv(internal, oid, integer) RETURNS public.myvarchar
            LANGUAGE internal STABLE PARALLEL SAFE STRICT AS 'varcharrecv';
        CREATE TYPE public.myvarchar (input = public.myvarcharin, output = public.myvarcharout,
            alignment = integer, storage = main);
        CREATE DOMAIN public.myvarchardom AS public.myvarchar;
        ALTER TYPE public.myvarchar SET (storage = extended);
        ALTER TYPE public.myvarchar SET (send = public.myvarcharsend,
            receive = public.myvarcharrecv, typmod_in = varchartypmodin,
            typmod_out = varchartypmodout, analyze = ts_typanalyze);
        CREATE FUNCTION public.mvc_len(public.myvarchar) RETURNS int LANGUAGE sql
            AS $$SELECT length($1::text)$$;
        CREATE TYPE public.r4;
        CREATE FUNCTION public.r4_canon(public.r4) RETURNS public.r4 LANGUAGE internal
            IMMUTABLE STRICT AS 'int4range_canonical';
        CREATE TYPE public.r4 AS RANGE (subtype = int4, canonical = public.r4_canon);
        CREATE FUNCTION public.r4_len(public.r4) RETURNS int LANGUAGE sql IMMUTABLE
            AS $$SELECT upper($1) - lower($1)$$;
        CREATE FUNCTION public.r4_mk(int) RETURNS public.r4 LANGUAGE sql IMMUTABLE
            AS $$SELECT public.r4($1, $1 + 3)$$;
        CREATE TABLE public.rt (r public.r4 CHECK (public.r4_len(r) < 100), m public.myvarchar,
            d public.myvarchardom);
        INSERT INTO public.rt VALUES (public.r4_mk(1), 'abc', 'def');
    """,
}

# Overloaded procedures, functions and aggregates: every statement that names one (comment,
# owner, grant and revoke, DEPENDS ON EXTENSION) must carry its argument types. {role} is a role
# made for the test.
OVERLOADED_ROUTINES = """
    CREATE SCHEMA "Ov S";
    CREATE EXTENSION hstore;
    CREATE PROCEDURE "Ov S".pr(a int) LANGUAGE sql AS $$SELECT 1$$;
    CREATE PROCEDURE "Ov S".pr(a text) LANGUAGE sql AS $$SELECT 1$$;
    CREATE PROCEDURE "Ov S".pr(INOUT a int, b text) LANGUAGE plpgsql AS $$BEGIN a := 1; END$$;
    CREATE FUNCTION public.fn(int) RETURNS int LANGUAGE sql AS $$SELECT 1$$;
    CREATE FUNCTION public.fn(text, VARIADIC int[]) RETURNS int LANGUAGE sql AS $$SELECT 2$$;
    CREATE FUNCTION public.fn(OUT x int, IN y int[]) LANGUAGE sql AS $$SELECT 2$$;
    CREATE FUNCTION public.osf(int, int) RETURNS int LANGUAGE sql AS $$SELECT $1$$;
    CREATE AGGREGATE public.ag(int) (SFUNC = int4pl, STYPE = int);
    CREATE AGGREGATE public.ag(int8) (SFUNC = int8pl, STYPE = int8);
    CREATE AGGREGATE public.ag(*) (SFUNC = int8inc, STYPE = int8, INITCOND = '0');
    CREATE AGGREGATE public.ag(text ORDER BY int) (SFUNC = public.osf, STYPE = int);
    COMMENT ON PROCEDURE "Ov S".pr(int) IS 'pr int';
    COMMENT ON PROCEDURE "Ov S".pr(text) IS 'pr text';
    COMMENT ON PROCEDURE "Ov S".pr(int, text) IS 'pr inout';
    COMMENT ON FUNCTION public.fn(int) IS 'fn int';
    COMMENT ON FUNCTION public.fn(text, int[]) IS 'fn variadic';
    COMMENT ON FUNCTION public.fn(int[]) IS 'fn out';
    COMMENT ON AGGREGATE public.ag(int) IS 'ag int';
    COMMENT ON AGGREGATE public.ag(int8) IS 'ag int8';
    COMMENT ON AGGREGATE public.ag(*) IS 'ag star';
    COMMENT ON AGGREGATE public.ag(text ORDER BY int) IS 'ag ordered';
    REVOKE ALL ON PROCEDURE "Ov S".pr(int) FROM PUBLIC;
    GRANT EXECUTE ON PROCEDURE "Ov S".pr(text) TO {role};
    REVOKE ALL ON FUNCTION public.fn(int) FROM PUBLIC;
    GRANT EXECUTE ON FUNCTION public.fn(text, int[]) TO {role};
    GRANT EXECUTE ON FUNCTION public.fn(int[]) TO {role};
    REVOKE ALL ON FUNCTION public.ag(int8) FROM PUBLIC;
    GRANT ALL ON FUNCTION public.ag() TO {role};
    ALTER PROCEDURE "Ov S".pr(text) OWNER TO {role};
    ALTER FUNCTION public.fn(int[]) OWNER TO {role};
    ALTER AGGREGATE public.ag(int8) OWNER TO {role};
    ALTER AGGREGATE public.ag(text ORDER BY int) OWNER TO {role};
    ALTER FUNCTION public.fn(int) DEPENDS ON EXTENSION hstore;
    ALTER FUNCTION public.fn(text, int[]) DEPENDS ON EXTENSION hstore;
    ALTER PROCEDURE "Ov S".pr(text) DEPENDS ON EXTENSION hstore;
    ALTER PROCEDURE "Ov S".pr(int, text) DEPENDS ON EXTENSION hstore;
    ALTER FUNCTION public.ag(int) DEPENDS ON EXTENSION hstore;
    ALTER FUNCTION public.ag() DEPENDS ON EXTENSION hstore;
    ALTER FUNCTION public.ag(text, int) DEPENDS ON EXTENSION hstore;
"""
# pg_dump leaves out an aggregate's DEPENDS ON EXTENSION: the test reads the marks themselves
EXTENSION_MARKS = ("SELECT pg_describe_object(classid, objid, objsubid), "
                   "pg_describe_object(refclassid, refobjid, 0) FROM pg_depend "
                   "WHERE deptype = 'x' ORDER BY 1, 2")


@pytest.mark.parametrize("name", sorted(CASES))
def test_round_trip(pg, sluice, fresh_db, tmp_path, name):
    round_trip(pg, sluice, fresh_db, tmp_path, CASES[name])


def test_overloaded_routines(pg, role, sluice, fresh_db, tmp_path):
    src, out, copies = round_trip(pg, sluice, fresh_db, tmp_path,
                                  OVERLOADED_ROUTINES.format(role=role))
    text = subprocess.run(["gzip", "-dc", str(out)], capture_output=True, text=True).stdout
    assert 'ALTER PROCEDURE "Ov S".pr(IN a text) DEPENDS ON EXTENSION hstore;' in text
    assert "ALTER FUNCTION public.fn(integer) DEPENDS ON EXTENSION hstore;" in text
    assert "ALTER FUNCTION public.ag() DEPENDS ON EXTENSION hstore;" in text
    marks = pg.query(EXTENSION_MARKS, src)
    assert len(marks) == 7
    for copy in copies:
        assert pg.query(EXTENSION_MARKS, copy) == marks


def test_all_together(pg, role, sluice, fresh_db, tmp_path):
    """Every case in one database (their names do not clash), so that they also sort together."""
    sql = "\n".join(CASES[name] for name in sorted(CASES))
    round_trip(pg, sluice, fresh_db, tmp_path, sql + OVERLOADED_ROUTINES.format(role=role))
