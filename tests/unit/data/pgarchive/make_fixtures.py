#!/usr/bin/python3
"""Makes the pg_dump archives of this directory (see README): a throwaway PostgreSQL 15
(tests/e2e/pgcluster.py), a database "tiny" with one table and one large object, then this
machine's pg_dump in each format and compression. Run from the repository's root:
    /usr/bin/python3 tests/unit/data/pgarchive/make_fixtures.py"""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "e2e"))
from pgcluster import BINDIR, PgCluster  # noqa: E402

SQL = """
CREATE TABLE public.t (id integer PRIMARY KEY, name text);
INSERT INTO public.t VALUES (1, 'one'), (2, 'two'), (3, 'three');
SELECT lo_from_bytea(424242, 'large object bytes');
"""

RUNS = [
    ("none.dump", ["-Fc", "-Z0", "-f"]),
    ("gzip.dump", ["-Fc", "-Z6", "-f"]),
    ("dir_none", ["-Fd", "-Z0", "-f"]),
    ("dir_gzip", ["-Fd", "-Z6", "-f"]),
]


def main():
    pg = PgCluster(name="fixtures").start()
    try:
        pg.create_db("tiny")
        pg.execute(SQL, dbname="tiny")
        env = pg.env()
        for name, args in RUNS:
            out = os.path.join(HERE, name)
            shutil.rmtree(out, ignore_errors=True)
            if os.path.exists(out):
                os.unlink(out)
            subprocess.run([f"{BINDIR}/pg_dump", *args, out, "tiny"], env=env, check=True)
        # pg_dump writing to a pipe: the TOC holds no data offsets.
        with open(os.path.join(HERE, "pipe.dump"), "wb") as f:
            dump = subprocess.Popen([f"{BINDIR}/pg_dump", "-Fc", "tiny"], env=env,
                                    stdout=subprocess.PIPE)
            subprocess.run(["cat"], stdin=dump.stdout, stdout=f, check=True)
            if dump.wait() != 0:
                raise SystemExit("pg_dump failed")
    finally:
        pg.destroy()


if __name__ == "__main__":
    main()
