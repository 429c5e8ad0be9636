#!/usr/bin/python3
"""Start or remove a throwaway PostgreSQL 15 cluster for the benchmarks and the quickstart.

Reuses tests/e2e/pgcluster.py (initdb as the postgres user when run as root, free loopback port,
scram password in a private .pgpass).

  cluster.py start [NAME] [key=value ...]   starts one; prints shell assignments to eval:
                                             PG_ROOT PGHOST PGPORT PGUSER PGPASSFILE
  cluster.py stop ROOT                       stops the server and removes ROOT
Extra key=value pairs go to postgresql.auto.conf (e.g. max_wal_size=4GB).
"""
import os
import shlex
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "e2e"))

from pgcluster import BINDIR, PgCluster  # noqa: E402


def start(name, settings):
    c = PgCluster(name=name, settings=settings)
    try:
        c.start()
    except subprocess.CalledProcessError as e:
        sys.stderr.write(f"could not start PostgreSQL: {e}\n{e.stderr}\n")
        shutil.rmtree(c.root, ignore_errors=True)
        return 1
    env = {"PG_ROOT": c.root, "PGHOST": c.host, "PGPORT": str(c.port), "PGUSER": c.user,
           "PGPASSFILE": c.pgpass}
    for k, v in env.items():
        print(f"{k}={shlex.quote(v)}")
    return 0


def stop(root):
    datadir = os.path.join(root, "data")
    if not os.path.isfile(os.path.join(datadir, "PG_VERSION")):
        sys.stderr.write(f"{root} does not hold a cluster made by cluster.py\n")
        return 1
    cmd = [f"{BINDIR}/pg_ctl", "-D", datadir, "-m", "fast", "-w", "stop"]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    subprocess.run(cmd, capture_output=True)
    shutil.rmtree(root, ignore_errors=True)
    return 0


def main(argv):
    if len(argv) >= 2 and argv[1] == "start":
        name = argv[2] if len(argv) > 2 and "=" not in argv[2] else "sluice-bench"
        settings = dict(a.split("=", 1) for a in argv[2:] if "=" in a)
        return start(name, settings)
    if len(argv) == 3 and argv[1] == "stop":
        return stop(argv[2])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
