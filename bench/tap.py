#!/usr/bin/python3
"""Tap: sluice tap's FULL_TABLE against the wire limit and its LOG_BASED against pg_recvlogical.

One command: bench/tap.py. It starts a throwaway PostgreSQL 15 cluster (wal_level logical,
wal2json allowed), makes bench_big with ROWS rows of bench/backup.py's shape (random text,
bytea and jsonb, about 512 bytes of heap a row), VACUUM (FREEZE, ANALYZE), writes a tap config
and two catalogs from `sluice tap --discover` (bench_big by FULL_TABLE, and by LOG_BASED),
counts the bytes of the table's COPY text once (untimed; it also warms the OS cache), then runs
ROUNDS rounds of, in this order:
  W  the wire limit: psql COPY public.bench_big TO STDOUT into /dev/null
  T  sluice tap --catalog (FULL_TABLE) with its messages into /dev/null
Then LOG_BASED, once (a slot drains its changes only once: ROUNDS does not apply to it):
an untimed tap run creates the tap's slot and makes the initial copy (its last STATE is kept),
pg_recvlogical creates a second wal2json slot right after it, CHANGES updates of bench_big are
applied (batches of 100,000 rows, one transaction each, untimed), and both drain the same
changes up to the WAL position after them, in this order:
  R  pg_recvlogical --start with the options the tap gives wal2json (src/tap/logical.c:
     format-version 2, include-transaction, include-timestamp, no types, the three actions,
     add-tables of bench_big) --endpos (that position) into /dev/null
  L  sluice tap --catalog (LOG_BASED) --state (the kept STATE), break_at_end_lsn: it stops at
     the position its run starts at, which is the same; messages into /dev/null
R reads the WAL first: L may find more of it in the OS cache.

Reported: the table of medians (bench/backup.py's: wall seconds, peak RSS, CPU seconds of the
server and the client, the load before each run, round 1's one-line-a-second timeline), rows/s
and MB/s of the COPY text for W and T (rows counted from the tap's "N rows in S s" line),
msg/s for R and L (CHANGES over the wall seconds; the tap's own count of changes is shown),
and the targets: T >= 65% of W's speed, T >= 300,000 rows/s, L >= 60% of R's speed, every
sluice run's peak RSS (GNU time %M) < 64 MB. The RSS must not grow with the table: compare
ROWS=1000000 with ROWS=10000000.

Knobs (environment): ROWS (2000000, about 1 GB of heap), CHANGES (1000000), ROUNDS (3), SLUICE
(the binary; default: this tree built as a Release in build-release/).
Quick run: ROWS=50000 CHANGES=20000 ROUNDS=1 bench/tap.py
"""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from benchlib import (BIG_SQL, BINDIR, NCPU, SETTINGS, PgCluster, cpu_seconds,  # noqa: E402
                      measure, print_runs, print_targets, print_timelines, sluice_binary)

DB = "bench"
TABLE = "bench_big"
STREAM = f"public-{TABLE}"
RECV_SLOT = "bench_recvlogical"
BATCH = 100000
# What the tap asks wal2json for (start_options in src/tap/logical.c).
WAL2JSON = {"format-version": "2", "include-transaction": "1", "include-timestamp": "1",
            "include-types": "0", "actions": "insert,update,delete",
            "add-tables": f"public.{TABLE}"}
COPY = f"COPY public.{TABLE} TO STDOUT"


def psql_argv(*args):
    return [f"{BINDIR}/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", DB, *args]


def make_table(cluster, rows):
    print(f"== generating data: {TABLE}, {rows} rows", flush=True)
    cluster.create_db(DB)
    cluster.psql(DB, input=BIG_SQL.format(rows=rows))
    cluster.psql(DB, input="VACUUM (FREEZE, ANALYZE);")


def copy_bytes(cluster):
    """Bytes of the table's COPY text (this run also warms the OS cache)."""
    out = subprocess.run(["bash", "-c", 'set -o pipefail; "$@" | wc -c', "bash",
                          *psql_argv("-c", COPY)], env=cluster.env(), check=True,
                         capture_output=True, text=True).stdout
    return int(out)


def write_catalogs(cluster, sluice, work):
    """The tap's config and a catalog selecting bench_big by each method: (config, {method:
    catalog})."""
    config = os.path.join(work, "config.json")
    with open(config, "w") as f:
        json.dump({"host": cluster.host, "port": cluster.port, "user": cluster.user,
                   "password": cluster.password, "dbname": DB, "break_at_end_lsn": True}, f)
    discovered = json.loads(subprocess.run(
        [sluice, "tap", "--config", config, "--discover"], env=cluster.env(), check=True,
        capture_output=True, text=True).stdout)
    catalogs = {}
    for method in ("FULL_TABLE", "LOG_BASED"):
        doc = json.loads(json.dumps(discovered))
        for s in doc["streams"]:
            if s["tap_stream_id"] == STREAM:
                md = next(m["metadata"] for m in s["metadata"] if m["breadcrumb"] == [])
                md.update({"selected": True, "replication-method": method})
        catalogs[method] = os.path.join(work, f"catalog-{method.lower()}.json")
        with open(catalogs[method], "w") as f:
            json.dump(doc, f)
    return config, catalogs


def initial_copy(cluster, sluice, config, catalog, work):
    """The first LOG_BASED run (slot, initial copy), untimed; returns the path of its last
    STATE's value. Only the STATE lines are kept: the records would be the table again."""
    proc = subprocess.run(
        ["bash", "-c", 'set -o pipefail; "$@" | grep -F \'"STATE"\'', "bash", sluice, "tap",
         "--config", config, "--catalog", catalog], env=cluster.env(), check=True,
        capture_output=True, text=True)
    states = [m for m in map(json.loads, proc.stdout.splitlines()) if m.get("type") == "STATE"]
    path = os.path.join(work, "state.json")
    with open(path, "w") as f:
        json.dump(states[-1]["value"], f)
    return path


def recvlogical(*args):
    return [f"{BINDIR}/pg_recvlogical", "-d", DB, "--slot", RECV_SLOT, *args]


def apply_changes(cluster, rows, changes):
    """changes updates of bench_big, BATCH rows a transaction (ids wrap around)."""
    print(f"== applying {changes} changes", flush=True)
    done, lo = 0, 0
    with cluster.connect(DB) as conn:
        while done < changes:
            n = min(BATCH, changes - done, rows - lo)
            conn.execute("UPDATE bench_big SET title = md5(title) WHERE id > %s AND id <= %s",
                         (lo, lo + n))
            done += n
            lo = (lo + n) % rows


def log_value(log, pattern):
    with open(log) as f:
        m = re.search(pattern, f.read())
    return m.groups() if m else None


def main():
    rows = int(os.environ.get("ROWS", "2000000"))
    changes = int(os.environ.get("CHANGES", "1000000"))
    rounds = int(os.environ.get("ROUNDS", "3"))
    sluice = sluice_binary()
    work = tempfile.mkdtemp(prefix="sluice-tap-bench-")
    cluster = PgCluster(name="bench-tap", settings=SETTINGS)
    try:
        cluster.start()
        make_table(cluster, rows)
        config, catalogs = write_catalogs(cluster, sluice, work)
        print("== counting the COPY text's bytes (untimed; warms the cache)", flush=True)
        size = copy_bytes(cluster)
        tools = [
            ("W", "wire: psql COPY > /dev/null", psql_argv("-o", "/dev/null", "-c", COPY)),
            ("T", "sluice tap FULL_TABLE > /dev/null",
             [sluice, "tap", "--config", config, "--catalog", catalogs["FULL_TABLE"]]),
        ]
        results = {key: [] for key, _, _ in tools}
        logs = {key: [] for key, _, _ in tools}
        for r in range(rounds):
            for key, name, argv in tools:
                log = os.path.join(work, f"{key}{r}.log")
                logs[key].append(log)
                results[key].append(measure(cluster, key, name, argv, log, r, rounds,
                                            stdout=os.devnull))
        tapped = [log_value(log, r'(\d+) rows in ([\d.]+) s') for log in logs["T"]]
        logical = log_based(cluster, sluice, config, catalogs["LOG_BASED"], work, rows, changes)
        tools += logical[0]
        results.update(logical[1])
        report(cluster, tools, results, rows, changes, rounds, size, tapped, logical[2])
    finally:
        cluster.destroy()
        shutil.rmtree(work, ignore_errors=True)


def log_based(cluster, sluice, config, catalog, work, rows, changes):
    """R and L once on the same changes: (tools, results, the tap's log)."""
    print("== LOG_BASED: the tap's slot and initial copy (untimed), a second slot for "
          "pg_recvlogical", flush=True)
    state = initial_copy(cluster, sluice, config, catalog, work)
    subprocess.run(recvlogical("--create-slot", "-P", "wal2json"), env=cluster.env(),
                   check=True, capture_output=True)
    apply_changes(cluster, rows, changes)
    cluster.execute("CHECKPOINT")
    end = cluster.query("SELECT pg_current_wal_lsn()::text")[0][0]
    options = [x for k, v in WAL2JSON.items() for x in ("-o", f"{k}={v}")]
    tools = [
        ("R", "pg_recvlogical wal2json > /dev/null",
         recvlogical("--start", "--no-loop", *options, "--endpos", end, "-f", "/dev/null")),
        ("L", "sluice tap LOG_BASED > /dev/null",
         [sluice, "tap", "--config", config, "--catalog", catalog, "--state", state]),
    ]
    results = {}
    for key, name, argv in tools:
        log = os.path.join(work, f"{key}.log")
        results[key] = [measure(cluster, key, name, argv, log, 0, 1, stdout=os.devnull)]
    # What pg_recvlogical wrote went to /dev/null: its slot's position says it read them all.
    confirmed = cluster.query(
        "SELECT confirmed_flush_lsn::text, confirmed_flush_lsn >= %s::pg_lsn "
        "FROM pg_replication_slots WHERE slot_name = %s" % (f"'{end}'", f"'{RECV_SLOT}'"),
        dbname=DB)[0]
    print(f"== R's slot confirmed {confirmed[0]} (the end: {end}; "
          f"{'reached' if confirmed[1] else 'NOT reached'})", flush=True)
    with open(os.path.join(work, "L.log")) as f:
        return tools, results, f.read()


def report(cluster, tools, results, rows, changes, rounds, size, tapped, tap_log):
    version = cluster.query("SHOW server_version")[0][0]
    heap_mb = cluster.query(f"SELECT pg_table_size('{TABLE}')", dbname=DB)[0][0] / 1048576
    print_timelines(tools, results, [key for key, _, _ in tools])
    print(f"\nPostgreSQL {version}, {TABLE} {rows} rows, {heap_mb:.0f} MB (table), COPY text "
          f"{size / 1048576:.0f} MB; W, T: {rounds} interleaved rounds; R, L: once, {changes} "
          f"changes; {NCPU} cores")
    med = print_runs(tools, results)
    cpu = cpu_seconds(results)
    print("\nCPU seconds (server + client, medians): "
          + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items()))
    counted = {int(x[0]) for x in tapped if x}
    tap_secs = statistics.median(float(x[1]) for x in tapped if x) if any(tapped) else 0
    print(f"\nFULL_TABLE: rows the tap counted: {', '.join(map(str, sorted(counted))) or '?'} "
          f"(of {rows}); its own timing (median) {tap_secs:.2f} s")
    for key in ("W", "T"):
        print(f"  {key} {rows / med[key]:12.0f} rows/s {size / 1048576 / med[key]:8.1f} MB/s")
    m = re.search(r"LOG_BASED done: (\d+) messages", tap_log)
    stop = re.search(r"stopping: ([^\n]*)", tap_log)
    print(f"LOG_BASED: changes the tap counted: {m.group(1) if m else '?'} (of {changes}); it "
          f"stopped: {stop.group(1) if stop else '?'}")
    for key in ("R", "L"):
        print(f"  {key} {changes / med[key]:12.0f} msg/s")
    peak = max(x[1] for k in ("T", "L") for x in results[k])
    print_targets([
        ("T / W (FULL_TABLE vs the wire limit, speed) >= 0.65", med["W"] / med["T"] >= 0.65,
         f"{med['W'] / med['T']:.2f}"),
        ("T >= 300,000 rows/s", rows / med["T"] >= 300000, f"{rows / med['T']:.0f}"),
        ("L / R (LOG_BASED vs pg_recvlogical, speed) >= 0.60", med["R"] / med["L"] >= 0.60,
         f"{med['R'] / med['L']:.2f}"),
        ("sluice peak RSS < 64 MB (every run of T, L)", peak < 64, f"{peak:.1f} MB"),
    ])


if __name__ == "__main__":
    main()
