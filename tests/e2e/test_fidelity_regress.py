"""Backup fidelity of object classes found lost or changed in PostgreSQL's regression database.

Each case is the smallest database showing one class of difference that the round trip of the
regression database (test_regression_db.py) found; it is backed up and restored by sluice and by
psql, and both copies must equal the source (round_trip of test_fidelity_schema.py).
"""
import pytest

from test_fidelity_schema import round_trip

CASES = {
    # A procedure's OUT arguments are part of its signature, but a list of types alone is
    # also matched against other procedures' input arguments: the all-IN pp(int, int, int)
    # and pp(OUT int, int, int) are both pp(integer, integer, integer) to ALTER and COMMENT,
    # unless the argument modes are written.
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
    """,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_round_trip(pg, sluice, fresh_db, tmp_path, name):
    round_trip(pg, sluice, fresh_db, tmp_path, CASES[name])
