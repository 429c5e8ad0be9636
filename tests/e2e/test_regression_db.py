"""Round trip of PostgreSQL 15's regression database (tests/e2e/regressdb.py).

The database `make installcheck-parallel` leaves behind holds nearly every kind of object the
server knows. It is backed up with `sluice backup single -j N` (N = 1 and 4), which must finish
with exit 0: the backup's completeness check refuses objects it does not know, so nothing is
left out silently. Each backup is restored with `sluice restore --create -j N` and with
`gunzip -c | psql`, and every copy must equal the source by compare.py (pg_dump --schema-only,
every table's rows, sequences, large objects, and a count of the objects in the catalogs, which
sees what pg_dump does not print): zero differences.

Under the sanitizers (SLUICE_SANITIZED=1, set by CMake in the ASan build) only the parallel
backup restored by sluice runs: the others add time and no code that it does not run.
"""
import os

import pytest

import compare
from fidelity import psql_restore
import regressdb

SANITIZED = os.environ.get("SLUICE_SANITIZED") == "1"
VARIANTS = [(jobs, how) for jobs in (1, 4) for how in ("sluice", "psql")]


# Materialized views in creation order, so that one reading another is refreshed after it.
MATVIEWS = ("SELECT format('REFRESH MATERIALIZED VIEW %I.%I', n.nspname, c.relname) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'm' AND c.relispopulated ORDER BY c.oid")


@pytest.fixture(scope="module")
def regress_pg():
    cluster = regressdb.start_cluster()
    try:
        # The regression tests leave mvtest_bb stale (its source was refreshed after it). No
        # logical backup can carry a materialized view's stale rows: a restore fills it by
        # REFRESH, from what its query reads then. The source is made fresh the same way.
        for (refresh,) in cluster.query(MATVIEWS, regressdb.DBNAME):
            cluster.execute(refresh, regressdb.DBNAME)
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="module")
def backups(regress_pg, tmp_path_factory):
    """sluice backup single -j N of the regression database, made once per N."""
    from conftest import Sluice
    made = {}

    def get(jobs):
        if jobs not in made:
            out = tmp_path_factory.mktemp(f"regress-j{jobs}") / "regression.sql.gz"
            Sluice(regress_pg).run("backup", "single", regressdb.DBNAME, "-j", jobs, "-o", out,
                                   timeout=1200, check=True)
            made[jobs] = out
        return made[jobs]
    return get


def _psql_restore(cluster, path, db):
    cluster.create_db(db)
    psql_restore(cluster, path, db)


@pytest.mark.parametrize("jobs,how", VARIANTS, ids=[f"j{j}-{h}" for j, h in VARIANTS])
def test_round_trip(regress_pg, backups, jobs, how):
    if SANITIZED and (jobs, how) != (4, "sluice"):
        pytest.skip("under the sanitizers only -j 4 restored by sluice runs")
    from conftest import Sluice
    path = backups(jobs)
    copy = f"regression_copy_j{jobs}_{how}"
    regress_pg.drop_db(copy)
    try:
        if how == "sluice":
            Sluice(regress_pg).run("restore", path, "--database", copy, "--create", "-j", jobs,
                                   timeout=1200, check=True)
        else:
            _psql_restore(regress_pg, path, copy)
        src, dst = regress_pg.conninfo(regressdb.DBNAME), regress_pg.conninfo(copy)
        diffs = (compare.differences(src, dst, max_diff_lines=600) +
                 compare.object_differences(src, dst))
        assert not diffs, (f"{len(diffs)} differences between regression and {copy}:\n" +
                           "\n".join(diffs))
    finally:
        regress_pg.drop_db(copy)
