"""The round trip that fidelity tests share: load SQL into a new database, back it up with
`sluice backup single -j 2` to a gzip script, restore that file with `sluice restore --create
-j 2` and with `gunzip -c | psql`, and check both copies against the source with compare.py.
"""
import subprocess

import compare


def psql_restore(pg, path, db):
    """Runs the gzip script at path through psql into the existing database db."""
    gunzip = subprocess.Popen(["gzip", "-dc", str(path)], stdout=subprocess.PIPE)
    proc = subprocess.run([f"{compare.BINDIR}/psql", "-X", "-q", "-o", "/dev/null", "-v",
                           "ON_ERROR_STOP=1", "-d", db], stdin=gunzip.stdout, env=pg.env(),
                          capture_output=True, text=True)
    gunzip.stdout.close()
    gunzip.wait()  # killed by SIGPIPE when psql stops early: psql's error says why
    assert proc.returncode == 0, f"psql failed:\n{proc.stderr[-4000:]}"
    assert gunzip.returncode == 0


def backup_and_restore(pg, sluice, fresh_db, tmp_path, sql):
    """Loads sql into a new database, backs it up and restores it both ways.

    Returns (source, backup file, (copy by sluice restore --create, copy by psql))."""
    src = fresh_db("fid_src")
    pg.psql(src, "-c", sql)
    out = tmp_path / "f.sql.gz"
    proc = sluice.run("backup", "single", src, "-j", 2, "-o", out)
    assert proc.returncode == 0, f"backup failed ({proc.returncode}):\n{proc.stderr}"
    copy = fresh_db("fid_copy")
    pg.drop_db(copy)  # restore --create makes it
    proc = sluice.run("restore", out, "--database", copy, "--create", "-j", 2)
    assert proc.returncode == 0, f"restore failed ({proc.returncode}):\n{proc.stderr}"
    copy2 = fresh_db("fid_copy2")
    psql_restore(pg, out, copy2)
    return src, out, (copy, copy2)


def round_trip(pg, sluice, fresh_db, tmp_path, sql):
    """backup_and_restore, then both copies must equal the source by compare.py."""
    src, out, copies = backup_and_restore(pg, sluice, fresh_db, tmp_path, sql)
    for copy in copies:
        compare.assert_same(pg.conninfo(src), pg.conninfo(copy))
    return src, out, copies
