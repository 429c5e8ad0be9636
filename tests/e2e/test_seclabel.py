"""Security labels survive a round trip.

A label needs a provider: dummy_seclabel (src/test/modules of PostgreSQL, built by
tests/e2e/regressdb.py) is loaded through shared_preload_libraries in a cluster of this
module's own. Its provider "dummy" accepts the labels unclassified, classified, secret and
top secret. Labels on every kind of object a database backup holds are backed up with
`sluice backup single -j 2` and restored by sluice and by psql; each copy must equal the source
by compare.py (pg_dump prints the labels) and by the rows of pg_seclabels.
"""
import subprocess

import pytest

import compare
from fidelity import psql_restore
import regressdb
from conftest import Sluice
from pgcluster import PgCluster

LABELLED = """
    CREATE SCHEMA "Lab S";
    SECURITY LABEL FOR dummy ON SCHEMA "Lab S" IS 'classified';
    CREATE TABLE "Lab S"."T 1" (id int PRIMARY KEY, "Col 2" text, c3 int);
    INSERT INTO "Lab S"."T 1" VALUES (1, 'a', 1), (2, 'b', 2);
    SECURITY LABEL FOR dummy ON TABLE "Lab S"."T 1" IS 'secret';
    SECURITY LABEL FOR dummy ON COLUMN "Lab S"."T 1"."Col 2" IS 'top secret';
    SECURITY LABEL FOR dummy ON COLUMN "Lab S"."T 1".c3 IS 'unclassified';
    CREATE TABLE public.parted (a int, b text) PARTITION BY LIST (a);
    CREATE TABLE public.parted1 PARTITION OF public.parted FOR VALUES IN (1);
    SECURITY LABEL ON TABLE public.parted IS 'classified';
    SECURITY LABEL ON TABLE public.parted1 IS 'secret';
    SECURITY LABEL ON COLUMN public.parted1.b IS 'secret';
    CREATE VIEW "Lab S".v AS SELECT id FROM "Lab S"."T 1";
    SECURITY LABEL ON VIEW "Lab S".v IS 'classified';
    SECURITY LABEL ON COLUMN "Lab S".v.id IS 'secret';
    CREATE MATERIALIZED VIEW public.mv AS SELECT 1 AS one;
    SECURITY LABEL ON MATERIALIZED VIEW public.mv IS 'unclassified';
    CREATE SEQUENCE public.seq;
    SECURITY LABEL ON SEQUENCE public.seq IS 'secret';
    CREATE FUNCTION "Lab S".f(int, text) RETURNS int LANGUAGE sql AS $$SELECT $1$$;
    CREATE FUNCTION "Lab S".f(int) RETURNS int LANGUAGE sql AS $$SELECT $1$$;
    SECURITY LABEL ON FUNCTION "Lab S".f(int, text) IS 'classified';
    SECURITY LABEL ON FUNCTION "Lab S".f(int) IS 'secret';
    CREATE PROCEDURE public.p() LANGUAGE sql AS $$SELECT 1$$;
    SECURITY LABEL ON PROCEDURE public.p() IS 'top secret';
    CREATE AGGREGATE public.agg(int) (SFUNC = int4pl, STYPE = int);
    SECURITY LABEL ON AGGREGATE public.agg(int) IS 'classified';
    CREATE TYPE public.comp AS (x int, y text);
    SECURITY LABEL ON TYPE public.comp IS 'secret';
    CREATE TYPE "Lab S".mood AS ENUM ('sad', 'ok');
    SECURITY LABEL ON TYPE "Lab S".mood IS 'unclassified';
    CREATE DOMAIN public.posint AS int CHECK (VALUE > 0);
    SECURITY LABEL ON DOMAIN public.posint IS 'classified';
    CREATE FOREIGN DATA WRAPPER lab_fdw;
    CREATE SERVER lab_srv FOREIGN DATA WRAPPER lab_fdw;
    CREATE FOREIGN TABLE public.ft (a int) SERVER lab_srv;
    SECURITY LABEL ON FOREIGN TABLE public.ft IS 'secret';
    SECURITY LABEL ON COLUMN public.ft.a IS 'classified';
    CREATE FUNCTION public.evt() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN END$$;
    CREATE EVENT TRIGGER lab_evt ON ddl_command_start EXECUTE FUNCTION public.evt();
    SECURITY LABEL ON EVENT TRIGGER lab_evt IS 'classified';
    CREATE PUBLICATION lab_pub;
    SECURITY LABEL ON PUBLICATION lab_pub IS 'secret';
    SELECT lo_create(424242);
    SECURITY LABEL ON LARGE OBJECT 424242 IS 'top secret';
    CREATE LANGUAGE lab_lang HANDLER plpgsql_call_handler;
    SECURITY LABEL ON LANGUAGE lab_lang IS 'unclassified';
    SECURITY LABEL ON SCHEMA public IS 'unclassified';
"""

LABELS = ("SELECT objtype, objname, provider, label FROM pg_seclabels "
          "WHERE objtype NOT IN ('role', 'database', 'tablespace') ORDER BY 1, 2, 3")


@pytest.fixture(scope="module")
def label_pg():
    lib = regressdb.libdir()
    cluster = PgCluster(name="seclabel",
                        settings=regressdb.cluster_settings(lib, preload=["dummy_seclabel"]))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


def _psql_restore(cluster, path, db):
    cluster.create_db(db)
    psql_restore(cluster, path, db)


def test_labels_round_trip(label_pg, tmp_path):
    sluice = Sluice(label_pg)
    src = label_pg.create_db("lab_src")
    label_pg.psql(src, "-c", LABELLED)
    labels = label_pg.query(LABELS, src)
    assert len(labels) == 25
    out = tmp_path / "lab.sql.gz"
    sluice.run("backup", "single", src, "-j", 2, "-o", out, check=True)
    text = subprocess.run(["gzip", "-dc", str(out)], capture_output=True, text=True).stdout
    assert ("SECURITY LABEL FOR dummy ON COLUMN \"Lab S\".\"T 1\".\"Col 2\" IS 'top secret';"
            in text)
    copy = "lab_copy"
    label_pg.drop_db(copy)
    sluice.run("restore", out, "--database", copy, "--create", "-j", 2, check=True)
    copy2 = label_pg.create_db("lab_copy2")
    label_pg.drop_db(copy2)
    _psql_restore(label_pg, out, copy2)
    for db in (copy, copy2):
        compare.assert_same(label_pg.conninfo(src), label_pg.conninfo(db))
        assert label_pg.query(LABELS, db) == labels
