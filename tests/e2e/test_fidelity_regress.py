"""Backup fidelity of object classes found lost or changed in PostgreSQL's regression database.

Each case is the smallest database showing one class of difference that the round trip of the
regression database (test_regression_db.py) found; it is backed up and restored by sluice and by
psql, and both copies must equal the source (round_trip of test_fidelity_schema.py).
"""
import pytest

import compare

from test_fidelity_schema import round_trip

CASES = {
    # A procedure's OUT arguments are part of its signature, but a list of types alone is
    # also matched against other procedures' input arguments: the all-IN pp(int, int, int)
    # and pp(OUT int, int, int) are both pp(integer, integer, integer) to ALTER, COMMENT and
    # GRANT, unless the argument modes are written.
    "procedures_told_apart_by_out_arguments": """
        CREATE PROCEDURE public.pp(OUT a int, IN b int, IN c int) LANGUAGE plpgsql
            AS $$BEGIN a := b + c; END$$;
        CREATE PROCEDURE public.pp(IN a int, IN b int, IN c int) LANGUAGE plpgsql
            AS $$BEGIN NULL; END$$;
        CREATE SCHEMA "Pr S";
        CREATE TYPE "Pr S"."T t" AS (x int);
        CREATE PROCEDURE "Pr S"."P p"(INOUT "A a" text, "B" "Pr S"."T t"[]) LANGUAGE sql
            AS $$SELECT 'x'$$;
        COMMENT ON PROCEDURE public.pp(OUT int, int, int) IS 'with out';
        COMMENT ON PROCEDURE public.pp(IN int, IN int, IN int) IS 'all in';
        COMMENT ON PROCEDURE "Pr S"."P p"(text, "Pr S"."T t"[]) IS 'quoted';
        REVOKE ALL ON PROCEDURE public.pp(IN int, IN int, IN int) FROM PUBLIC;
        REVOKE ALL ON PROCEDURE public.pp(OUT int, int, int) FROM PUBLIC;
        CREATE EXTENSION hstore;
        ALTER PROCEDURE public.pp(IN int, IN int, IN int) DEPENDS ON EXTENSION hstore;
        ALTER PROCEDURE "Pr S"."P p"(text, "Pr S"."T t"[]) DEPENDS ON EXTENSION hstore;
    """,
    # Operators and support functions of user types added to a family of pg_catalog (as the
    # regression tests do to integer_ops): the family is not dumped, its new members must be.
    # pg_dump does not print them, so the test counts the members itself.
    "members_added_to_builtin_families": """
        CREATE TYPE public.i8a;
        CREATE FUNCTION public.i8a_in(cstring) RETURNS public.i8a
            AS 'int8in' LANGUAGE internal STRICT IMMUTABLE;
        CREATE FUNCTION public.i8a_out(public.i8a) RETURNS cstring
            AS 'int8out' LANGUAGE internal STRICT IMMUTABLE;
        CREATE TYPE public.i8a (input = public.i8a_in, output = public.i8a_out,
            like = int8);
        CREATE CAST (int8 AS public.i8a) WITHOUT FUNCTION;
        CREATE FUNCTION public.i8a_eq(public.i8a, public.i8a) RETURNS bool
            AS 'int8eq' LANGUAGE internal STRICT IMMUTABLE;
        CREATE FUNCTION public.i8a_lt(int8, public.i8a) RETURNS bool
            AS 'int8lt' LANGUAGE internal STRICT IMMUTABLE;
        CREATE FUNCTION public.i8a_cmp(int8, public.i8a) RETURNS int
            AS 'btint8cmp' LANGUAGE internal STRICT IMMUTABLE;
        CREATE OPERATOR public.= (procedure = public.i8a_eq, leftarg = public.i8a,
            rightarg = public.i8a);
        CREATE OPERATOR public.< (procedure = public.i8a_lt, leftarg = int8,
            rightarg = public.i8a);
        ALTER OPERATOR FAMILY integer_ops USING btree ADD
            OPERATOR 3 public.= (public.i8a, public.i8a),
            OPERATOR 1 public.< (int8, public.i8a),
            FUNCTION 1 public.i8a_cmp(int8, public.i8a);
        CREATE SCHEMA "Fam S";
        CREATE OPERATOR FAMILY "Fam S"."F f" USING hash;
        ALTER OPERATOR FAMILY "Fam S"."F f" USING hash ADD
            OPERATOR 1 public.= (public.i8a, public.i8a);
        CREATE TABLE public.t (a public.i8a);
        INSERT INTO public.t VALUES ('1'), ('2');
    """,
    # A partition's foreign key that was its own before ATTACH PARTITION took it over as the
    # clone of its parent's keeps its name; so do its partitions' clones of it, and a clone
    # renamed later; also with a partitioned referenced table, for whose partitions the key has
    # rows of its own that the server names. The catalog count sees them (pg_dump does not
    # print clones).
    "partition_foreign_key_names": """
        CREATE TABLE public.pk (a int PRIMARY KEY);
        CREATE TABLE public.fk (a int) PARTITION BY LIST (a);
        ALTER TABLE public.fk ADD CONSTRAINT "Fk Top" FOREIGN KEY (a) REFERENCES public.pk;
        CREATE TABLE public.fk1 (a int) PARTITION BY LIST (a);
        CREATE TABLE public.fk11 PARTITION OF public.fk1 FOR VALUES IN (1);
        ALTER TABLE public.fk1 ADD CONSTRAINT "fk1 own" FOREIGN KEY (a) REFERENCES public.pk;
        ALTER TABLE public.fk ATTACH PARTITION public.fk1 FOR VALUES IN (1);
        CREATE TABLE public.fk2 PARTITION OF public.fk FOR VALUES IN (2);
        ALTER TABLE public.fk2 RENAME CONSTRAINT "Fk Top" TO fk2_renamed;
        CREATE TABLE public.fk3 PARTITION OF public.fk FOR VALUES IN (3);
        CREATE TABLE public.ppk (a int PRIMARY KEY) PARTITION BY LIST (a);
        CREATE TABLE public.ppk1 PARTITION OF public.ppk FOR VALUES IN (1, 2);
        CREATE TABLE public.ppk2 PARTITION OF public.ppk FOR VALUES IN (3)
            PARTITION BY LIST (a);
        CREATE TABLE public.ppk21 PARTITION OF public.ppk2 FOR VALUES IN (3);
        CREATE TABLE public.fk4 (a int);
        ALTER TABLE public.fk4 ADD CONSTRAINT fk4_to_ppk FOREIGN KEY (a) REFERENCES public.ppk;
        ALTER TABLE public.fk ADD CONSTRAINT "To ppk" FOREIGN KEY (a) REFERENCES public.ppk;
        ALTER TABLE public.fk ATTACH PARTITION public.fk4 FOR VALUES IN (4);
        INSERT INTO public.pk VALUES (1), (2), (3);
        INSERT INTO public.ppk VALUES (1), (2), (3);
        INSERT INTO public.fk VALUES (1), (2), (3);
    """,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_round_trip(pg, sluice, fresh_db, tmp_path, name):
    src, _, copies = round_trip(pg, sluice, fresh_db, tmp_path, CASES[name])
    for copy in copies:
        assert compare.object_differences(pg.conninfo(src), pg.conninfo(copy)) == []
