"""Backup fidelity of schema objects that need more than their own definition to come back.

Each case creates objects (and some rows) in a fresh database, backs it up with
`sluice backup single -j 2` to a gzip script, and restores that file twice: with
`sluice restore --create -j 2`, and with `gunzip -c | psql`. Both copies must equal the source
by compare.py (pg_dump --schema-only, every table's rows, populated materialized views).
"""
import subprocess

import pytest

import compare

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
}


def _psql_restore(pg, path, db):
    gunzip = subprocess.Popen(["gzip", "-dc", str(path)], stdout=subprocess.PIPE)
    proc = subprocess.run([f"{compare.BINDIR}/psql", "-X", "-q", "-o", "/dev/null", "-v",
                           "ON_ERROR_STOP=1", "-d", db], stdin=gunzip.stdout, env=pg.env(),
                          capture_output=True, text=True)
    gunzip.stdout.close()
    assert gunzip.wait() == 0
    assert proc.returncode == 0, f"psql failed:\n{proc.stderr[-4000:]}"


def round_trip(pg, sluice, fresh_db, tmp_path, sql):
    """Loads sql into a new database, backs it up and checks both restores against it."""
    src = fresh_db("fid_src")
    pg.psql(src, "-c", sql)
    out = tmp_path / "f.sql.gz"
    proc = sluice.run("backup", "single", src, "-j", 2, "-o", out)
    assert proc.returncode == 0, f"backup failed ({proc.returncode}):\n{proc.stderr}"
    copy = fresh_db("fid_copy")
    pg.drop_db(copy)  # restore --create makes it
    proc = sluice.run("restore", out, "--database", copy, "--create", "-j", 2)
    assert proc.returncode == 0, f"restore failed ({proc.returncode}):\n{proc.stderr}"
    compare.assert_same(pg.conninfo(src), pg.conninfo(copy))
    copy2 = fresh_db("fid_copy2")
    _psql_restore(pg, out, copy2)
    compare.assert_same(pg.conninfo(src), pg.conninfo(copy2))
    return src, out


@pytest.mark.parametrize("name", sorted(CASES))
def test_round_trip(pg, sluice, fresh_db, tmp_path, name):
    round_trip(pg, sluice, fresh_db, tmp_path, CASES[name])
