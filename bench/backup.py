#!/usr/bin/python3
"""Backup: sluice against the pipelines users write and the wire limit, runs interleaved, medians.

One command: bench/backup.py. It starts a throwaway PostgreSQL 15 cluster, makes the data once
(pgbench at scale SCALE plus bench_big, about BIGTABLE_MB of random text, bytea and jsonb: the
same rows as bench/restore.py), warms the OS cache with one untimed W1, then runs ROUNDS rounds
of, in this order:
  W1 wire -P JOBS per table: COPY of every table TO STDOUT into /dev/null, JOBS psql at once
  W2 wire -P JOBS tables split: the same with every table cut into JOBS ctid ranges
  A  sluice backup single bench --compress gzip -j JOBS
  B  pg_dump -Fp bench | gzip -1
  C  sluice backup single bench --compress zstd -j JOBS
  D  pg_dump -Fp bench | zstd -1 -T JOBS
  T1 bench_big's wire limit: one COPY of it into /dev/null
  T2 bench_big's wire limit: JOBS ctid ranges of it, JOBS psql at once
  E  sluice backup single bench -t bench_big --compress none -j 1
  F  the same with -j JOBS
  X  pg_dump -Fd -j JOBS (only with EXTRA=1; slow, a reference line, no target)
Pipelines run under bash -c with pipefail; each output goes to an empty directory whose size is
noted and which is removed after the run. While each runs, /proc/stat, the command's process
tree and pg_stat_activity are sampled every 0.5 s; round 1 of every tool is printed one line a
second: cores busy (whole machine: client and server), the server's cores, the client's,
connections active and what they run. Peak RSS is GNU time's %M on the command: for a
pipeline (bash -c) that is the largest process of its tree, not the pipeline's sum; the
server's memory is not counted. The 1-minute load average is noted before every run.
The wire limit compared with is the better median of W1 and W2 (T1 and T2 for bench_big, and
sluice's one-table figure is the better of E and F).

Knobs (environment): SCALE (50), BIGTABLE_MB (500; 0: no bench_big, pgbench_accounts stands in
for it), JOBS (2), ROUNDS (3), SLUICE (the binary; default: this tree built as a Release in
build-release/), EXTRA=1 (adds X).
Quick run: SCALE=2 BIGTABLE_MB=20 ROUNDS=1 bench/backup.py
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from benchlib import (BINDIR, NCPU, SETTINGS, PgCluster, cpu_seconds, make_data,  # noqa: E402
                      measure, print_runs, print_targets, print_timelines, sluice_binary)

# psql per statement of the file $1, $2 at once, each into /dev/null ($0: the server's bindir).
WIRE = ('xargs -d "\\n" -P "$2" -I{} "$0/psql" -X -q -v ON_ERROR_STOP=1 -o /dev/null -d bench '
        '-c {} < "$1"')


def tables(cluster):
    """[(qualified name quoted by the server, pages)], the largest first."""
    return cluster.query(
        "SELECT format('%I.%I', n.nspname, c.relname), greatest(c.relpages, 1) "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind = 'r' AND n.nspname = 'public' "
        "ORDER BY pg_relation_size(c.oid) DESC", dbname="bench")


def copies(table, pages, parts):
    """COPY statements of table's rows in parts ctid ranges (the last one open)."""
    if parts == 1:
        return [f"COPY {table} TO STDOUT"]
    out = []
    for i in range(parts):
        where = f"ctid >= '({pages * i // parts},0)'"
        if i < parts - 1:
            where += f" AND ctid < '({pages * (i + 1) // parts},0)'"
        out.append(f"COPY (SELECT * FROM {table} WHERE {where}) TO STDOUT")
    return out


def wire(work, name, statements, parallel):
    """argv running statements with parallel psql at once (the list goes to a file first)."""
    path = os.path.join(work, f"{name}.sql")
    with open(path, "w") as f:
        f.write("".join(s + "\n" for s in statements))
    return ["bash", "-c", WIRE, BINDIR, path, str(parallel)]


def pipeline(script, *args):
    return ["bash", "-c", "set -o pipefail; " + script, BINDIR, *args]


def tools_of(cluster, sluice, work, out, jobs, big, extra):
    j = str(jobs)
    every = tables(cluster)
    pages = dict(every)
    big_q = next(t for t in pages if t.endswith("." + big))
    backup = [sluice, "backup", "single", "bench", "-q"]
    tools = [
        ("W1", f"wire -P{j} per table",
         wire(work, "w1", [s for t, _ in every for s in copies(t, 1, 1)], jobs)),
        ("W2", f"wire -P{j} tables split",
         wire(work, "w2", [s for t, p in every for s in copies(t, p, jobs)], jobs)),
        ("A", f"sluice backup gzip -j{j}",
         backup + ["-j", j, "--compress", "gzip", "-o", f"{out}/b.sql.gz"]),
        ("B", "pg_dump -Fp | gzip -1",
         pipeline('"$0/pg_dump" -Fp bench | gzip -1 > "$1"', f"{out}/p.sql.gz")),
        ("C", f"sluice backup zstd -j{j}",
         backup + ["-j", j, "--compress", "zstd", "-o", f"{out}/b.sql.zst"]),
        ("D", f"pg_dump -Fp | zstd -1 -T{j}",
         pipeline(f'"$0/pg_dump" -Fp bench | zstd -q -1 -T{j} > "$1"', f"{out}/p.sql.zst")),
        ("T1", f"{big} wire (one COPY)", wire(work, "t1", copies(big_q, 1, 1), 1)),
        ("T2", f"{big} wire ({j} ctid ranges at once)",
         wire(work, "t2", copies(big_q, pages[big_q], jobs), jobs)),
        ("E", f"sluice backup -t {big} none -j1",
         backup + ["-t", big, "-j", "1", "--compress", "none", "-o", f"{out}/big.sql"]),
        ("F", f"sluice backup -t {big} none -j{j}",
         backup + ["-t", big, "-j", j, "--compress", "none", "-o", f"{out}/big.sql"]),
    ]
    if extra:
        tools.append(("X", f"pg_dump -Fd -j{j}",
                      [f"{BINDIR}/pg_dump", "-Fd", "-j", j, "-f", f"{out}/pgd", "bench"]))
    return tools


def du(path):
    """Bytes of every file under path."""
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def main():
    scale = int(os.environ.get("SCALE", "50"))
    big_mb = int(os.environ.get("BIGTABLE_MB", "500"))
    jobs = int(os.environ.get("JOBS", "2"))
    rounds = int(os.environ.get("ROUNDS", "3"))
    extra = os.environ.get("EXTRA") == "1"
    big = "bench_big" if big_mb > 0 else "pgbench_accounts"
    sluice = sluice_binary()
    work = tempfile.mkdtemp(prefix="sluice-backup-bench-")
    out = os.path.join(work, "out")
    cluster = PgCluster(name="bench-backup", settings=SETTINGS)
    try:
        cluster.start()
        make_data(cluster, scale, big_mb)
        tools = tools_of(cluster, sluice, work, out, jobs, big, extra)
        print("== warming the cache: W1 once, untimed", flush=True)
        subprocess.run(tools[0][2], env=cluster.env(), check=True)
        results = {key: [] for key, _, _ in tools}
        sizes = {key: [] for key, _, _ in tools}
        for r in range(rounds):
            for key, name, argv in tools:
                os.makedirs(out)
                results[key].append(measure(cluster, key, name, argv,
                                            os.path.join(work, f"{key}{r}.log"), r, rounds))
                if not key.startswith(("W", "T")):
                    sizes[key].append(du(out))
                shutil.rmtree(out)
        report(cluster, sluice, tools, results, sizes, scale, big_mb, jobs, rounds, big)
    finally:
        cluster.destroy()
        shutil.rmtree(work, ignore_errors=True)


def report(cluster, sluice, tools, results, sizes, scale, big_mb, jobs, rounds, big):
    version = cluster.query("SHOW server_version")[0][0]
    db_mb = cluster.query("SELECT pg_database_size('bench')")[0][0] / 1048576
    ver = subprocess.run([sluice, "--version"], capture_output=True, text=True).stdout
    print_timelines(tools, results, [key for key, _, _ in tools])
    print(f"\nPostgreSQL {version}, pgbench scale {scale}, bench_big ~{big_mb} MB, database "
          f"{db_mb:.0f} MB; {(ver.splitlines() or ['sluice'])[0]}; {rounds} interleaved "
          f"rounds, -j {jobs}, {NCPU} cores")
    med = print_runs(tools, results, sizes)
    size = {k: statistics.median(v) for k, v in sizes.items() if v}
    wire = min(("W1", "W2"), key=med.get)
    one = min(("T1", "T2"), key=med.get)
    cpu = cpu_seconds(results)
    print("\nCPU seconds (server + client, medians): "
          + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items()))
    # A run that keeps every core busy takes its CPU seconds over the cores, and no run takes
    # less: against such a peer, a time ratio is bounded by the CPU ratio.
    print(f"Bounds when the peer keeps all {NCPU} cores busy (its timeline shows it): B/A at most "
          f"{cpu['B'] / cpu['A']:.2f}, D/C at most {cpu['D'] / cpu['C']:.2f}; A/{wire} at least "
          f"{cpu['A'] / cpu[wire]:.2f}, C/{wire} at least {cpu['C'] / cpu[wire]:.2f}, E/{one} at "
          f"least {cpu['E'] / cpu[one]:.2f}, F/{one} at least {cpu['F'] / cpu[one]:.2f}")
    best = min(("E", "F"), key=med.get)  # the table alone: sluice at its better -j
    print(f"\nOne table: -j {jobs} (F) is {med['E'] / med['F']:.2f}x faster than -j 1 (E)")
    print(f"Wire limit: {wire} {med[wire]:.2f} s (the better of W1, W2); {big} alone: "
          f"{one} {med[one]:.2f} s (the better of T1, T2)")
    at_least = [
        ("B / A (gzip: pg_dump -Fp | gzip -1 vs sluice) >= 2.00", med["B"] / med["A"], 2.0),
        ("D / C (zstd: pg_dump -Fp | zstd -1 vs sluice) >= 1.30", med["D"] / med["C"], 1.3),
    ]
    at_most = [
        (f"A / wire limit ({wire}) <= 1.50", med["A"] / med[wire], 1.5),
        (f"C / wire limit ({wire}) <= 1.30", med["C"] / med[wire], 1.3),
        (f"{best} (the better of E, F) / {big}'s wire limit ({one}) <= 1.20",
         med[best] / med[one], 1.2),
    ]
    checks = [(label, value >= want, f"{value:.2f}") for label, value, want in at_least]
    for a, b in (("A", "B"), ("C", "D")):
        checks.append((f"{a} size / {b} size <= 1.000", size[a] <= size[b],
                       f"{size[a] / size[b]:.3f} ({size[a] / 1048576:.2f} / "
                       f"{size[b] / 1048576:.2f} MB)"))
    checks += [(label, value <= want, f"{value:.2f}") for label, value, want in at_most]
    peak = max(x[1] for k in ("A", "C", "E", "F") for x in results[k])
    checks.append(("sluice peak RSS < 64 MB (every run of A, C, E, F)", peak < 64,
                   f"{peak:.1f} MB"))
    print_targets(checks)


if __name__ == "__main__":
    main()
