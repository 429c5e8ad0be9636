"""Routines and the catalog objects built from them, through sluice backup and a psql restore.

Each case creates objects of one kind in a fresh database, in a schema whose name needs quoting
("My Schema"), backs it up with `sluice backup single --schema-only`, restores the file with
psql into another fresh database, and compares `pg_dump --schema-only` of both (compare.py).
A case also names text that pg_dump must show for the source, so that it cannot pass by
creating nothing. Further tests: -n leaves out objects that live outside schemas, extension
members are not dumped, a user mapping's password is backed up but never logged, and the
number of catalog queries does not grow with the number of functions.
"""
import difflib
import os
from dataclasses import dataclass

import pytest

import compare

MAP_ROLE = f"Map User {os.getpid()}"


@dataclass
class Case:
    kind: str
    sql: str      # run in the source database after CREATE SCHEMA "My Schema"; {role} = MAP_ROLE
    shows: tuple  # text pg_dump --schema-only of the source must contain


# Handler functions borrowed from plpgsql's library, so a language needs no extra module.
LANGUAGE_SQL = """
CREATE FUNCTION "My Schema".h() RETURNS language_handler
    AS '$libdir/plpgsql', 'plpgsql_call_handler' LANGUAGE c;
CREATE FUNCTION "My Schema".i(internal) RETURNS void
    AS '$libdir/plpgsql', 'plpgsql_inline_handler' LANGUAGE c STRICT;
CREATE FUNCTION "My Schema".v(oid) RETURNS void
    AS '$libdir/plpgsql', 'plpgsql_validator' LANGUAGE c STRICT;
CREATE TRUSTED LANGUAGE "My Lang" HANDLER "My Schema".h INLINE "My Schema".i
    VALIDATOR "My Schema".v;
"""

POINT_SQL = """
CREATE TYPE "My Schema".pt AS (x int, y int);
CREATE FUNCTION "My Schema".pt_eq("My Schema".pt, "My Schema".pt) RETURNS bool
    LANGUAGE sql IMMUTABLE AS 'select $1 = $2';
CREATE FUNCTION "My Schema".pt_ne("My Schema".pt, "My Schema".pt) RETURNS bool
    LANGUAGE sql IMMUTABLE AS 'select $1 <> $2';
CREATE FUNCTION "My Schema".pt_lt("My Schema".pt, "My Schema".pt) RETURNS bool
    LANGUAGE sql IMMUTABLE AS 'select $1 < $2';
CREATE FUNCTION "My Schema".pt_cmp("My Schema".pt, "My Schema".pt) RETURNS int
    LANGUAGE sql IMMUTABLE AS 'select case when $1 < $2 then -1 when $1 > $2 then 1 else 0 end';
"""

CASES = [
    Case("language", LANGUAGE_SQL + """
CREATE LANGUAGE "untrusted lang" HANDLER "My Schema".h;
CREATE FUNCTION "My Schema".in_lang(a int) RETURNS int LANGUAGE "My Lang"
    AS $$ begin return a + 1; end $$;
""", ('CREATE TRUSTED PROCEDURAL LANGUAGE "My Lang"', 'LANGUAGE "untrusted lang"',
      'LANGUAGE "My Lang"')),
    Case("function", """
CREATE FUNCTION "My Schema"."Add it"(a integer, b integer DEFAULT 2) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF COST 5 AS 'select a + b';
CREATE FUNCTION "My Schema".outs(a int, OUT b int, OUT c text)
    LANGUAGE sql AS 'select a, a::text';
CREATE FUNCTION "My Schema".vari(VARIADIC a int[]) RETURNS int
    LANGUAGE sql AS 'select cardinality(a)';
CREATE FUNCTION "My Schema".vari(a text) RETURNS int LANGUAGE sql AS 'select 1';
""", ('"Add it"(a integer, b integer DEFAULT 2)', "LEAKPROOF", "COST 5", "VARIADIC a")),
    Case("begin atomic", """
CREATE TABLE "My Schema".t (v text);
CREATE FUNCTION "My Schema".atomic_f(x text) RETURNS text LANGUAGE sql IMMUTABLE
    BEGIN ATOMIC SELECT upper(x) || 'it''s'; END;
CREATE FUNCTION "My Schema".counts() RETURNS bigint LANGUAGE sql
    BEGIN ATOMIC SELECT count(*) FROM "My Schema".t; END;
CREATE PROCEDURE "My Schema".atomic_p(a text) LANGUAGE sql
    BEGIN ATOMIC INSERT INTO "My Schema".t VALUES (a); END;
""", ("BEGIN ATOMIC", 'FROM "My Schema".t')),
    Case("function options", """
CREATE FUNCTION "My Schema".setof_f(n int) RETURNS SETOF int LANGUAGE sql ROWS 42 STABLE
    SET work_mem = '8MB' SET search_path = "My Schema", public
    AS 'select generate_series(1, n)';
CREATE FUNCTION "My Schema".secdef() RETURNS void LANGUAGE plpgsql SECURITY DEFINER
    AS $$BEGIN NULL; END$$;
""", ("ROWS 42", "SET work_mem TO '8MB'", "SECURITY DEFINER")),
    Case("support and window", """
CREATE FUNCTION "My Schema".supp(internal) RETURNS internal LANGUAGE internal
    AS 'textlike_support';
CREATE FUNCTION "My Schema".like_it(text, text) RETURNS boolean LANGUAGE internal
    IMMUTABLE STRICT SUPPORT "My Schema".supp AS 'textlike';
CREATE FUNCTION "My Schema".first_v(anyelement) RETURNS anyelement LANGUAGE internal
    WINDOW IMMUTABLE AS 'window_first_value';
""", ('SUPPORT "My Schema".supp', "WINDOW")),
    Case("procedure", """
CREATE PROCEDURE "My Schema".proc(INOUT a int, b text) LANGUAGE plpgsql
    AS $$BEGIN a := a + 1; END$$;
""", ('CREATE PROCEDURE "My Schema".proc(INOUT a integer',)),
    Case("aggregate", """
CREATE FUNCTION "My Schema".sfn(int8, int) RETURNS int8 LANGUAGE sql IMMUTABLE
    AS 'select $1 + $2';
CREATE FUNCTION "My Schema".ifn(int8, int) RETURNS int8 LANGUAGE sql IMMUTABLE
    AS 'select $1 - $2';
CREATE FUNCTION "My Schema".ffn(int8) RETURNS numeric LANGUAGE sql IMMUTABLE
    AS 'select $1::numeric / 2';
CREATE FUNCTION "My Schema".cfn(int8, int8) RETURNS int8 LANGUAGE sql IMMUTABLE
    AS 'select $1 + $2';
CREATE AGGREGATE "My Schema"."My Sum"(int) (SFUNC = "My Schema".sfn, STYPE = int8,
    INITCOND = '0', FINALFUNC = "My Schema".ffn, COMBINEFUNC = "My Schema".cfn,
    PARALLEL = SAFE, MSFUNC = "My Schema".sfn, MINVFUNC = "My Schema".ifn, MSTYPE = int8,
    MINITCOND = '0', MFINALFUNC = "My Schema".ffn, MFINALFUNC_MODIFY = SHAREABLE);
CREATE AGGREGATE "My Schema".mymax(int) (SFUNC = int4larger, STYPE = int4, SORTOP = >);
CREATE AGGREGATE "My Schema".my_avg(numeric) (SFUNC = numeric_avg_accum, STYPE = internal,
    SSPACE = 128, FINALFUNC = numeric_avg, COMBINEFUNC = numeric_avg_combine,
    SERIALFUNC = numeric_avg_serialize, DESERIALFUNC = numeric_avg_deserialize,
    PARALLEL = SAFE);
CREATE AGGREGATE "My Schema".arr(anycompatible) (SFUNC = array_append,
    STYPE = anycompatiblearray, INITCOND = '{}');
""", ('"My Sum"(integer)', "MINVFUNC", "SORTOP", "DESERIALFUNC")),
    # pg_identify_object names it cnt(); ALTER AGGREGATE and COMMENT ON AGGREGATE need cnt(*),
    # while GRANT names it as a function, cnt().
    Case("zero-argument aggregate", """
CREATE AGGREGATE "My Schema".cnt(*) (SFUNC = int8inc, STYPE = int8, INITCOND = '0');
COMMENT ON AGGREGATE "My Schema".cnt(*) IS 'counts';
REVOKE ALL ON FUNCTION "My Schema".cnt() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "My Schema".cnt() TO "{role}";
""", ('"My Schema".cnt(*)', 'COMMENT ON AGGREGATE "My Schema".cnt(*)',
      'ON FUNCTION "My Schema".cnt() TO')),
    Case("ordered-set aggregate", """
CREATE AGGREGATE "My Schema".my_pct(float8 ORDER BY float8) (
    SFUNC = ordered_set_transition, STYPE = internal, FINALFUNC = percentile_disc_final,
    FINALFUNC_EXTRA, FINALFUNC_MODIFY = SHAREABLE);
CREATE AGGREGATE "My Schema".my_rank(VARIADIC "any" ORDER BY VARIADIC "any") (
    SFUNC = ordered_set_transition_multi, STYPE = internal, FINALFUNC = rank_final,
    FINALFUNC_EXTRA, HYPOTHETICAL);
""", ("ORDER BY double precision", "HYPOTHETICAL")),
    Case("operator", POINT_SQL + """
CREATE FUNCTION "My Schema".pt_neg("My Schema".pt) RETURNS "My Schema".pt LANGUAGE sql
    IMMUTABLE AS 'select row(-($1).x, -($1).y)::"My Schema".pt';
CREATE OPERATOR "My Schema".=== (LEFTARG = "My Schema".pt, RIGHTARG = "My Schema".pt,
    FUNCTION = "My Schema".pt_eq, COMMUTATOR = OPERATOR("My Schema".===),
    NEGATOR = OPERATOR("My Schema".!==), RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
CREATE OPERATOR "My Schema".!== (LEFTARG = "My Schema".pt, RIGHTARG = "My Schema".pt,
    FUNCTION = "My Schema".pt_ne, COMMUTATOR = OPERATOR("My Schema".!==),
    NEGATOR = OPERATOR("My Schema".===), RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR "My Schema".- (RIGHTARG = "My Schema".pt, FUNCTION = "My Schema".pt_neg);
""", ('CREATE OPERATOR "My Schema".===', "NEGATOR", "HASHES", "MERGES")),
    # The commutator ~> and the negator !<~ are never defined: they stay shell operators that
    # CREATE OPERATOR <~ re-creates, as pg_dump relies on.
    Case("operator with a shell commutator", """
CREATE FUNCTION "My Schema".lt(int, text) RETURNS bool LANGUAGE sql AS 'select true';
CREATE OPERATOR "My Schema".<~ (LEFTARG = int, RIGHTARG = text, FUNCTION = "My Schema".lt,
    COMMUTATOR = OPERATOR("My Schema".~>), NEGATOR = OPERATOR("My Schema".!<~));
""", ('COMMUTATOR = OPERATOR("My Schema".~>)', 'NEGATOR = OPERATOR("My Schema".!<~)')),
    Case("operator class and family", POINT_SQL + """
CREATE OPERATOR "My Schema".<<< (LEFTARG = "My Schema".pt, RIGHTARG = "My Schema".pt,
    FUNCTION = "My Schema".pt_lt);
CREATE OPERATOR "My Schema".=== (LEFTARG = "My Schema".pt, RIGHTARG = "My Schema".pt,
    FUNCTION = "My Schema".pt_eq, HASHES);
CREATE OPERATOR FAMILY "My Schema"."pt fam" USING btree;
CREATE OPERATOR CLASS "My Schema".pt_ops DEFAULT FOR TYPE "My Schema".pt USING btree
    FAMILY "My Schema"."pt fam" AS OPERATOR 1 "My Schema".<<<, OPERATOR 3 "My Schema".===,
    FUNCTION 1 "My Schema".pt_cmp("My Schema".pt, "My Schema".pt);
CREATE FUNCTION "My Schema".pt_int_cmp("My Schema".pt, int) RETURNS int LANGUAGE sql
    IMMUTABLE AS 'select 0';
CREATE FUNCTION "My Schema".pt_int_lt("My Schema".pt, int) RETURNS bool LANGUAGE sql
    IMMUTABLE AS 'select false';
CREATE OPERATOR "My Schema".<<< (LEFTARG = "My Schema".pt, RIGHTARG = int,
    FUNCTION = "My Schema".pt_int_lt);
ALTER OPERATOR FAMILY "My Schema"."pt fam" USING btree
    ADD OPERATOR 1 "My Schema".<<< ("My Schema".pt, int),
        FUNCTION 1 "My Schema".pt_int_cmp("My Schema".pt, int);
CREATE OPERATOR CLASS "My Schema".pt_hash FOR TYPE "My Schema".pt USING hash
    AS OPERATOR 1 "My Schema".===, FUNCTION 1 hashtext(text);
CREATE OPERATOR CLASS "My Schema".pt_gist FOR TYPE "My Schema".pt USING gist
    AS STORAGE int4, OPERATOR 3 "My Schema".===,
    FUNCTION 1 "My Schema".pt_cmp("My Schema".pt, "My Schema".pt);
CREATE TABLE "My Schema".uses (p "My Schema".pt);
CREATE INDEX ON "My Schema".uses (p);
""", ('CREATE OPERATOR FAMILY "My Schema"."pt fam" USING btree',
      'CREATE OPERATOR CLASS "My Schema".pt_ops', 'ALTER OPERATOR FAMILY "My Schema"."pt fam"',
      "STORAGE integer")),
    Case("cast", """
CREATE TYPE "My Schema".pt AS (x int, y int);
CREATE FUNCTION "My Schema".pt_to_text("My Schema".pt) RETURNS text LANGUAGE sql IMMUTABLE
    AS 'select ($1).x || '','' || ($1).y';
CREATE CAST ("My Schema".pt AS text) WITH FUNCTION "My Schema".pt_to_text("My Schema".pt)
    AS ASSIGNMENT;
CREATE TYPE "My Schema".e AS ENUM ('a');
CREATE CAST ("My Schema".e AS int) WITH INOUT;
CREATE CAST (int AS "My Schema".e) WITH INOUT AS IMPLICIT;
CREATE TYPE "My Schema".ir AS RANGE (subtype = int4);
CREATE CAST ("My Schema".ir AS bytea) WITHOUT FUNCTION;
""", ("AS ASSIGNMENT", "WITH INOUT AS IMPLICIT", "WITHOUT FUNCTION")),
    Case("conversion", """
CREATE CONVERSION "My Schema"."My Conv" FOR 'LATIN1' TO 'UTF8' FROM iso8859_1_to_utf8;
CREATE DEFAULT CONVERSION "My Schema".conv2 FOR 'LATIN2' TO 'UTF8' FROM iso8859_to_utf8;
""", ('CREATE CONVERSION "My Schema"."My Conv"', "CREATE DEFAULT CONVERSION")),
    Case("text search", """
CREATE TEXT SEARCH PARSER "My Schema"."My Parser" (START = prsd_start,
    GETTOKEN = prsd_nexttoken, END = prsd_end, LEXTYPES = prsd_lextype,
    HEADLINE = prsd_headline);
CREATE TEXT SEARCH TEMPLATE "My Schema".tmpl (INIT = dsimple_init, LEXIZE = dsimple_lexize);
CREATE TEXT SEARCH TEMPLATE "My Schema".tmpl2 (LEXIZE = dsimple_lexize);
CREATE TEXT SEARCH DICTIONARY "My Schema"."My Dict" (TEMPLATE = "My Schema".tmpl,
    stopwords = 'english', accept = false);
CREATE TEXT SEARCH DICTIONARY "My Schema".sn (TEMPLATE = snowball, language = 'english');
CREATE TEXT SEARCH CONFIGURATION "My Schema"."My Config" (PARSER = "My Schema"."My Parser");
ALTER TEXT SEARCH CONFIGURATION "My Schema"."My Config"
    ADD MAPPING FOR asciiword, word WITH "My Schema"."My Dict", "My Schema".sn;
ALTER TEXT SEARCH CONFIGURATION "My Schema"."My Config" ADD MAPPING FOR int WITH simple;
CREATE TEXT SEARCH CONFIGURATION "My Schema".copied (COPY = english);
""", ('CREATE TEXT SEARCH PARSER "My Schema"."My Parser"',
      'ADD MAPPING FOR asciiword WITH "My Schema"."My Dict", "My Schema".sn',
      "CREATE TEXT SEARCH TEMPLATE", "CREATE TEXT SEARCH DICTIONARY")),
    Case("foreign data wrapper", """
CREATE FOREIGN DATA WRAPPER "My FDW" OPTIONS (debug 'true');
CREATE FOREIGN DATA WRAPPER checked VALIDATOR postgresql_fdw_validator;
CREATE SERVER "My Server" TYPE 'pg' VERSION '15' FOREIGN DATA WRAPPER "My FDW"
    OPTIONS (host 'h''x', dbname 'd');
CREATE SERVER s2 FOREIGN DATA WRAPPER checked;
CREATE USER MAPPING FOR "{role}" SERVER "My Server" OPTIONS (user 'u', password 'sekrit');
CREATE USER MAPPING FOR PUBLIC SERVER s2;
CREATE FOREIGN TABLE "My Schema".ft (a int) SERVER "My Server";
""", ('CREATE FOREIGN DATA WRAPPER "My FDW"', 'CREATE SERVER "My Server"',
      "CREATE USER MAPPING FOR public SERVER s2", "password 'sekrit'")),
    Case("transform", LANGUAGE_SQL + """
CREATE TYPE "My Schema".e AS ENUM ('a');
CREATE FUNCTION "My Schema".fromsql(internal) RETURNS internal LANGUAGE internal IMMUTABLE
    STRICT AS 'textlike_support';
CREATE FUNCTION "My Schema".tosql(internal) RETURNS "My Schema".e LANGUAGE internal IMMUTABLE
    STRICT AS 'enum_in';
CREATE TRANSFORM FOR "My Schema".e LANGUAGE "My Lang" (
    FROM SQL WITH FUNCTION "My Schema".fromsql(internal),
    TO SQL WITH FUNCTION "My Schema".tosql(internal));
""", ('CREATE TRANSFORM FOR "My Schema".e LANGUAGE "My Lang"',)),
    Case("access method", """
CREATE ACCESS METHOD "My AM" TYPE TABLE HANDLER heap_tableam_handler;
CREATE ACCESS METHOD idxam TYPE INDEX HANDLER bthandler;
CREATE TABLE "My Schema".on_am (a int) USING "My AM";
""", ('CREATE ACCESS METHOD "My AM" TYPE TABLE', "CREATE ACCESS METHOD idxam TYPE INDEX")),
    Case("event trigger", """
CREATE FUNCTION "My Schema".evt() RETURNS event_trigger LANGUAGE plpgsql
    AS $$BEGIN NULL; END$$;
CREATE EVENT TRIGGER "My Evt" ON ddl_command_start WHEN TAG IN ('CREATE TABLE', 'DROP TABLE')
    EXECUTE FUNCTION "My Schema".evt();
CREATE EVENT TRIGGER evt2 ON sql_drop EXECUTE FUNCTION "My Schema".evt();
ALTER EVENT TRIGGER evt2 DISABLE;
CREATE EVENT TRIGGER evt3 ON table_rewrite EXECUTE FUNCTION "My Schema".evt();
ALTER EVENT TRIGGER evt3 ENABLE ALWAYS;
""", ('CREATE EVENT TRIGGER "My Evt" ON ddl_command_start', "ALTER EVENT TRIGGER evt2 DISABLE",
      "ENABLE ALWAYS")),
    Case("range type constructors are not dumped", """
CREATE TYPE "My Schema".fr AS RANGE (subtype = float8);
""", ('CREATE TYPE "My Schema".fr AS RANGE',)),
]


@pytest.fixture(scope="module")
def map_role(pg):
    pg.execute(f'DROP ROLE IF EXISTS "{MAP_ROLE}"')
    pg.execute(f'CREATE ROLE "{MAP_ROLE}"')
    yield MAP_ROLE
    pg.execute(f'DROP ROLE IF EXISTS "{MAP_ROLE}"')


def make_source(pg, fresh_db, body):
    db = fresh_db("rt_src")
    pg.psql(db, input='CREATE SCHEMA "My Schema";\n' + body.replace("{role}", MAP_ROLE))
    return db


def backup(sluice, db, out, *flags):
    return sluice.run("backup", "single", db, "--schema-only", "-o", out, *flags, check=True)


def assert_same_schema(pg, a, b):
    ta = compare.schema_text(pg.conninfo(a))  # lines
    tb = compare.schema_text(pg.conninfo(b))
    if ta != tb:
        diff = "\n".join(difflib.unified_diff(ta, tb, "source", "restored", lineterm="", n=2))
        raise AssertionError(f"pg_dump --schema-only differs:\n{diff}")
    return "\n".join(ta)


def _case(c):
    return c.values[0] if isinstance(c, type(pytest.param(None))) else c


def _kind(c):
    return _case(c).kind


@pytest.mark.parametrize("case", CASES, ids=_kind)
def test_kind_round_trip(pg, sluice, fresh_db, map_role, tmp_path, case):
    case = _case(case)
    src = make_source(pg, fresh_db, case.sql)
    out = tmp_path / "routines.sql"
    backup(sluice, src, out)
    dst = fresh_db("rt_dst")
    restored = pg.psql(dst, "-f", str(out), check=False)
    assert restored.returncode == 0, restored.stderr
    shown = assert_same_schema(pg, src, dst)
    for text in case.shows:
        assert text in shown, f"the source should show {text!r}"


def test_schema_filter_leaves_out_objects_outside_schemas(pg, sluice, fresh_db, map_role,
                                                          tmp_path):
    by_kind = {_kind(c): _case(c).sql for c in CASES}
    src = make_source(pg, fresh_db, by_kind["function"] + by_kind["foreign data wrapper"]
                      + by_kind["event trigger"] + by_kind["cast"] + by_kind["access method"])
    out = tmp_path / "filtered.sql"
    backup(sluice, src, out, "-n", '"My Schema"')
    text = out.read_text()
    assert 'FUNCTION "My Schema"."Add it"' in text
    for absent in ("FOREIGN DATA WRAPPER", "CREATE SERVER", "USER MAPPING", "EVENT TRIGGER",
                   "CREATE CAST", "ACCESS METHOD", "sekrit"):
        assert absent not in text, f"-n must leave out {absent}"


def test_user_mapping_password_is_backed_up_but_never_logged(pg, sluice, fresh_db, map_role,
                                                             tmp_path):
    src = make_source(pg, fresh_db, next(_case(c).sql for c in CASES
                                         if _kind(c) == "foreign data wrapper"))
    out = tmp_path / "mapping.sql"
    proc = backup(sluice, src, out, "-v")
    assert "sekrit" in out.read_text()
    assert "sekrit" not in proc.stderr and "sekrit" not in proc.stdout


def test_extension_members_are_not_dumped(pg, sluice, fresh_db, tmp_path):
    src = make_source(pg, fresh_db, """
CREATE EXTENSION hstore SCHEMA "My Schema";
CREATE EXTENSION pg_trgm;
CREATE EXTENSION btree_gist;
CREATE EXTENSION postgres_fdw;
CREATE FUNCTION "My Schema".mine(h "My Schema".hstore) RETURNS text LANGUAGE sql
    AS 'select $1 OPERATOR("My Schema".->) ''k''';
""")
    out = tmp_path / "ext.sql"
    backup(sluice, src, out)
    text = out.read_text()
    assert 'FUNCTION "My Schema".mine' in text
    for member in ("hstore_in", "similarity(", "gbt_int4_consistent",
                   "FOREIGN DATA WRAPPER postgres_fdw", "gist_int4_ops"):
        assert member not in text, f"extension member {member} was dumped"
    dst = fresh_db("rt_dst")
    restored = pg.psql(dst, "-f", str(out), check=False)
    assert restored.returncode == 0, restored.stderr
    assert_same_schema(pg, src, dst)


def test_catalog_queries_do_not_grow_with_functions(pg, sluice, fresh_db, tmp_path):
    """One query reads every function: the server log shows pg_get_functiondef once."""
    src = make_source(pg, fresh_db, """
DO $$BEGIN
  FOR i IN 1..400 LOOP
    EXECUTE format('CREATE FUNCTION "My Schema".f%s(int) RETURNS int LANGUAGE sql '
                   'AS ''select $1 + %s''', i, i);
    EXECUTE format('CREATE AGGREGATE "My Schema".a%s(int) (SFUNC = int4pl, STYPE = int)', i);
  END LOOP;
END$$;
""")
    pg.execute(f'ALTER DATABASE "{src}" SET log_statement = \'all\'')
    log = os.path.join(pg.datadir, "server.log")
    start = os.path.getsize(log)
    out = tmp_path / "many.sql"
    backup(sluice, src, out)
    with open(log, errors="replace") as f:
        f.seek(start)
        logged = f.read()
    text = out.read_text()
    assert text.count("CREATE OR REPLACE FUNCTION") == 400
    assert text.count("CREATE AGGREGATE") == 400
    assert 1 <= logged.count("pg_get_functiondef(") <= 2, \
        "functions must be read by one query, not one per function"


def test_orphan_shell_operator_is_left_out_with_a_warning(pg, sluice, fresh_db, tmp_path):
    """DROP OPERATOR leaves the commutator it named as a shell no statement can create: the
    backup goes on without it, and says so."""
    src = fresh_db("shell")
    pg.execute("CREATE FUNCTION lt(int, int) RETURNS bool LANGUAGE sql AS 'SELECT $1 < $2';"
               "CREATE OPERATOR <<< (LEFTARG = int, RIGHTARG = int, FUNCTION = lt,"
               " COMMUTATOR = >>>);"
               "DROP OPERATOR <<< (int, int)", src)
    out = tmp_path / "shell.sql"
    proc = sluice.run("backup", "single", src, "-o", out, check=True)
    assert "shell operator public.>>>(integer,integer) is left out" in proc.stderr
    dst = fresh_db("shell_copy")
    pg.psql(dst, "-f", str(out))
    assert pg.query("SELECT count(*) FROM pg_operator WHERE oid >= 16384", dst) == [(0,)]
