#!/usr/bin/python3
"""Cluster backup and restore: sluice against pg_dumpall | gzip and psql -f, on the same
cluster in the same run, runs interleaved (A B A B ...) and compared by their medians.

Two throwaway PostgreSQL 15 clusters (source and target) are started and removed. The source
gets four databases of mixed size: pgbench at scales SCALES (default 20,5,1) and one of about
BIG_MB MB of random text and bytea (default 200), plus a few roles.
  backup:  sluice backup cluster -o X.tar --dump-jobs 2 -j 1   vs   pg_dumpall | gzip > X.sql.gz
  restore: sluice restore cluster X.tar --confirm --dump-jobs 2  vs   psql -f X.sql (the script
           gunzipped beforehand); the target's databases are dropped between runs, untimed.
Peak RSS is GNU time's %M: the largest process of the command's tree (the server excluded).
Knobs (environment): SCALES, BIG_MB, RUNS (default 3), JOBS (sluice's -j for each database,
default 1; --dump-jobs is 2), SLUICE (the binary; default: this tree built as a Release in
build-release/), KEEP=1 keeps the work directory.
Quick run: SCALES=2,1,1 BIG_MB=20 RUNS=1 bench/cluster_backup.py
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

from pgcluster import BINDIR, PgCluster  # noqa: E402

sys.path.insert(0, HERE)
from benchlib import cpu_jiffies, sluice_binary  # noqa: E402

TIME = "/usr/bin/time"
SETTINGS = {"max_wal_size": "4GB", "checkpoint_timeout": "30min",
            "maintenance_work_mem": "256MB", "max_connections": "100"}


def timed(cmd, env, log):
    """Runs cmd (a shell command line); returns (seconds, peak RSS in MB, cores busy on
    average: client and server together)."""
    rss_file = log + ".rss"
    busy0, total0 = cpu_jiffies()
    start = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.run([TIME, "-f", "%M", "-o", rss_file, "bash", "-c", cmd], env=env,
                              stdout=out, stderr=subprocess.STDOUT)
    secs = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"failed (exit {proc.returncode}): {cmd}\nsee {log}")
    with open(rss_file) as f:
        rss = int(f.read().split()[-1]) / 1024
    busy1, total1 = cpu_jiffies()
    cores = (busy1 - busy0) / max(total1 - total0, 1) * os.cpu_count()
    return secs, rss, cores


def make_source(src, scales, big_mb):
    env = src.env()
    for i, scale in enumerate(scales):
        src.execute(f"CREATE DATABASE pgb{i}")
        subprocess.run([f"{BINDIR}/pgbench", "-i", "-q", "-s", str(scale), f"pgb{i}"], env=env,
                       check=True, capture_output=True)
    src.execute("CREATE DATABASE docs")
    rows = big_mb * 1048576 // 400
    src.psql("docs", input=f"""
        CREATE TABLE doc (id bigint PRIMARY KEY, title text, body text, blob bytea);
        SELECT setseed(0.42);
        INSERT INTO doc SELECT i, md5(random()::text),
            repeat(md5(random()::text) || ' ', 6),
            decode(md5(random()::text) || md5(random()::text), 'hex')
        FROM generate_series(1, {rows}) i;
        CREATE INDEX ON doc (title);""")
    for role in ("app", "reporting", "etl"):
        src.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'pw-{role}'")
    src.execute("GRANT reporting TO etl WITH ADMIN OPTION")
    for db in [f"pgb{i}" for i in range(len(scales))] + ["docs"]:
        src.psql(db, input="VACUUM (FREEZE, ANALYZE);")


def drop_databases(cluster, names):
    for db in names:
        cluster.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def main():
    scales = [int(s) for s in os.environ.get("SCALES", "20,5,1").split(",")]
    big_mb = int(os.environ.get("BIG_MB", "200"))
    runs = int(os.environ.get("RUNS", "3"))
    jobs = int(os.environ.get("JOBS", "1"))
    sluice = sluice_binary()
    work = tempfile.mkdtemp(prefix="sluice-cluster-bench-")
    src = PgCluster(name="bench-src", settings=SETTINGS)
    dst = PgCluster(name="bench-dst", settings=SETTINGS)
    dst.password = src.password
    try:
        src.start()
        dst.start()
        print("== generating data", flush=True)
        make_source(src, scales, big_mb)
        dbs = [f"pgb{i}" for i in range(len(scales))] + ["docs"]
        size = sum(src.query(f"SELECT pg_database_size('{d}')")[0][0] for d in dbs)
        tar, gz, plain = (os.path.join(work, n) for n in ("c.tar", "c.sql.gz", "c.sql"))
        results = {k: [] for k in ("sb", "pb", "sr", "pr")}
        for r in range(runs):
            print(f"== backup, run {r + 1} of {runs}", flush=True)
            results["sb"].append(timed(f"'{sluice}' backup cluster -q -o '{tar}' "
                                       f"--dump-jobs 2 -j {jobs}", src.env(), f"{work}/sb{r}.log"))
            results["pb"].append(timed(f"'{BINDIR}/pg_dumpall' | gzip > '{gz}'", src.env(),
                                       f"{work}/pb{r}.log"))
        subprocess.run(f"gunzip -c '{gz}' > '{plain}'", shell=True, check=True)
        for r in range(runs):
            print(f"== restore, run {r + 1} of {runs}", flush=True)
            drop_databases(dst, dbs)
            results["sr"].append(timed(f"'{sluice}' restore cluster -q '{tar}' --confirm "
                                       f"--dump-jobs 2 -j {jobs}", dst.env(), f"{work}/sr{r}.log"))
            drop_databases(dst, dbs)
            results["pr"].append(timed(f"'{BINDIR}/psql' -X -q -f '{plain}' -d postgres",
                                       dst.env(), f"{work}/pr{r}.log"))
        med = {k: statistics.median(r[0] for r in v) for k, v in results.items()}
        rss = {k: max(r[1] for r in v) for k, v in results.items()}
        cores = {k: statistics.median(r[2] for r in v) for k, v in results.items()}
        version = src.query("SHOW server_version")[0][0]
        print(f"\nPostgreSQL {version}, {len(dbs)} databases ({size / 1048576:.0f} MB: pgbench "
              f"scales {scales}, docs ~{big_mb} MB), {runs} interleaved runs, "
              f"{os.cpu_count()} cores")
        print(f"{'':44} {'median s':>9} {'peak RSS MB':>12} {'cores busy':>11}  archive")
        rows = [(f"sluice backup cluster --dump-jobs 2 -j {jobs}", "sb", os.path.getsize(tar)),
                ("pg_dumpall | gzip", "pb", os.path.getsize(gz)),
                (f"sluice restore cluster --dump-jobs 2 -j {jobs}", "sr", None),
                ("psql -f (pg_dumpall script)", "pr", None)]
        for name, key, out in rows:
            extra = f"  {out / 1048576:.1f} MB" if out else ""
            print(f"{name:44} {med[key]:9.2f} {rss[key]:12.1f} {cores[key]:11.2f}{extra}")
        backup_ratio = med["pb"] / med["sb"]
        restore_ratio = med["pr"] / med["sr"]
        print(f"\nbackup:  sluice is {backup_ratio:.2f}x faster than pg_dumpall | gzip "
              f"(target 3x: {'MET' if backup_ratio >= 3 else 'MISS'})")
        print(f"restore: sluice is {restore_ratio:.2f}x faster than psql -f "
              f"(target 2x: {'MET' if restore_ratio >= 2 else 'MISS'})")
        # The machine's cores bound a restore: both run the same statements, COPY and index
        # builds on the server, and psql -f already keeps cores["pr"] of them busy (its
        # backend, parallel index builds), so no restore of that work can be more than
        # cpu_count / cores["pr"] times faster here. (A backup has no such bound: sluice
        # compresses with gzip level 1 in parallel where gzip -6 runs alone.)
        limit = os.cpu_count() / cores["pr"]
        print(f"limit:   psql -f keeps {cores['pr']:.2f} of {os.cpu_count()} cores busy, so a "
              f"restore can be at most {limit:.2f}x faster on this machine; sluice reaches "
              f"{restore_ratio / limit:.0%} of that")
        peak = max(rss["sb"], rss["sr"])
        print(f"memory:  sluice's peak RSS {peak:.1f} MB "
              f"(target < 128 MB: {'MET' if peak < 128 else 'MISS'})")
    finally:
        src.destroy()
        dst.destroy()
        if os.environ.get("KEEP") != "1":
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")


if __name__ == "__main__":
    main()
