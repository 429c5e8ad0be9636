#!/usr/bin/python3
"""Restore: sluice against pg_restore on the same data, runs interleaved, medians compared.

One command: bench/restore.py. It starts a throwaway PostgreSQL 15 cluster, makes the data once
(pgbench at scale SCALE plus bench_big, about BIGTABLE_MB of random text, bytea and jsonb: the
same rows as bench/backup.py), makes sluice's own backup (gzip, -j JOBS) and pg_dump -Fd -j JOBS,
then runs ROUNDS rounds of, in this order:
  A  sluice restore OWN.sql.gz --create -j JOBS
  B  createdb + pg_restore -j JOBS -d (the -Fd archive)
  C  sluice restore (the -Fd archive) --create -j JOBS
each into a fresh database (dropped afterwards, a CHECKPOINT before each run, both untimed).
While each runs, /proc/stat, the tool's process tree and pg_stat_activity are sampled every
0.5 s; the first round's samples are printed one line a second: cores busy (whole machine:
client and server), cores the client itself uses, connections active and what they run.
Peak RSS is GNU time's %M: the largest process of the command's tree;
the server's memory is not counted. The 1-minute load average is noted before every run.

Knobs (environment): SCALE (50), BIGTABLE_MB (500), JOBS (2), ROUNDS (3), SLUICE (the binary;
default: this tree built as a Release in build-release/), DATA=DIR (keep the two backups in DIR
and reuse them on the next run if they are there: the data is then not made again).
Quick run: SCALE=2 BIGTABLE_MB=20 ROUNDS=1 bench/restore.py
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from benchlib import (BINDIR, NCPU, SETTINGS, PgCluster, cpu_seconds, make_data,  # noqa: E402
                      measure, print_runs, print_targets, print_timelines, sluice_binary)


def make_backups(cluster, sluice, data, jobs, scale, big_mb):
    own, pgd = os.path.join(data, "own.sql.gz"), os.path.join(data, "pgd")
    stamp = os.path.join(data, "made")
    want = f"scale={scale} big={big_mb}\n"
    if os.path.exists(stamp) and open(stamp).read() == want:
        print(f"== reusing the backups in {data} ({want.strip()})", flush=True)
        return own, pgd
    for path in (own, pgd, stamp):
        shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) else \
            os.path.exists(path) and os.unlink(path)
    make_data(cluster, scale, big_mb)
    env = cluster.env()
    print("== sluice backup gzip, pg_dump -Fd", flush=True)
    subprocess.run([sluice, "backup", "single", "bench", "-q", "-j", str(jobs), "--compress",
                    "gzip", "-o", own], env=env, check=True)
    subprocess.run([f"{BINDIR}/pg_dump", "-Fd", "-j", str(jobs), "-f", pgd, "bench"], env=env,
                   check=True)
    cluster.drop_db("bench")
    with open(stamp, "w") as f:
        f.write(want)
    return own, pgd


def main():
    scale = int(os.environ.get("SCALE", "50"))
    big_mb = int(os.environ.get("BIGTABLE_MB", "500"))
    jobs = int(os.environ.get("JOBS", "2"))
    rounds = int(os.environ.get("ROUNDS", "3"))
    sluice = sluice_binary()
    work = tempfile.mkdtemp(prefix="sluice-restore-bench-")
    data = os.environ.get("DATA") or work
    os.makedirs(data, exist_ok=True)
    cluster = PgCluster(name="bench-restore", settings=SETTINGS)
    j = str(jobs)
    try:
        cluster.start()
        own, pgd = make_backups(cluster, sluice, data, jobs, scale, big_mb)
        tools = [
            ("A", f"sluice restore own gzip -j{j}",
             lambda db: [sluice, "restore", own, "-q", "--create", "--database", db, "-j", j]),
            ("B", f"createdb + pg_restore -Fd -j{j}",
             lambda db: ["bash", "-c", f'"$0/createdb" {db} && "$0/pg_restore" -j {j} -d {db} '
                         f'"$1"', BINDIR, pgd]),
            ("C", f"sluice restore -Fd -j{j}",
             lambda db: [sluice, "restore", pgd, "-q", "--create", "--database", db, "-j", j]),
        ]
        results = {key: [] for key, _, _ in tools}
        for r in range(rounds):
            for key, name, argv in tools:
                db = f"restored_{key.lower()}"
                cluster.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
                cluster.execute("CHECKPOINT")
                results[key].append(measure(cluster, key, name, argv(db),
                                            os.path.join(work, f"{key}{r}.log"), r, rounds))
                cluster.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        report(cluster, tools, results, scale, big_mb, jobs, rounds, own, pgd)
    finally:
        cluster.destroy()
        shutil.rmtree(work, ignore_errors=True)


def report(cluster, tools, results, scale, big_mb, jobs, rounds, own, pgd):
    version = cluster.query("SHOW server_version")[0][0]
    wal = cluster.query("SHOW wal_level")[0][0]
    print_timelines(tools, results, [key for key, _, _ in tools])
    pgd_mb = sum(os.path.getsize(os.path.join(pgd, f)) for f in os.listdir(pgd)) / 1048576
    print(f"\nPostgreSQL {version} (wal_level {wal}), pgbench scale {scale}, bench_big "
          f"~{big_mb} MB; own file {os.path.getsize(own) / 1048576:.0f} MB, -Fd "
          f"{pgd_mb:.0f} MB; {rounds} interleaved rounds, -j {jobs}, {NCPU} cores")
    med = print_runs(tools, results)
    cpu = cpu_seconds(results)
    print(f"\nCPU seconds (server + client, medians): A {cpu['A']:.2f}, B {cpu['B']:.2f}, "
          f"C {cpu['C']:.2f}; the most a saturated {NCPU}-core machine allows: B/A "
          f"{cpu['B'] / cpu['A']:.2f}, B/C {cpu['B'] / cpu['C']:.2f}")
    checks = [(label, value >= want, f"{value:.2f}") for label, value, want in [
        ("B / A (own file vs pg_restore) >= 1.15", med["B"] / med["A"], 1.15),
        ("B / C (-Fd: sluice vs pg_restore) >= 1.00", med["B"] / med["C"], 1.0),
    ]]
    peak = max(x[1] for k in ("A", "C") for x in results[k])
    checks.append(("sluice peak RSS < 64 MB", peak < 64, f"{peak:.1f} MB"))
    print_targets(checks)


if __name__ == "__main__":
    main()
