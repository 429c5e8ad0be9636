#!/usr/bin/python3
"""Restore: sluice against pg_restore on the same data, runs interleaved, medians compared.

One command: bench/restore.py. It starts a throwaway PostgreSQL 15 cluster, makes the data once
(pgbench at scale SCALE plus bench_big, about BIGTABLE_MB of random text, bytea and jsonb: the
same rows as bench/backup.sh), makes sluice's own backup (gzip, -j JOBS) and pg_dump -Fd -j JOBS,
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
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

from pgcluster import BINDIR, PgCluster  # noqa: E402

SETTINGS = {"max_wal_size": "8GB", "checkpoint_timeout": "30min",
            "maintenance_work_mem": "256MB"}
TIME = "/usr/bin/time"
TICK = 0.5
NCPU = os.cpu_count()
HZ = os.sysconf("SC_CLK_TCK")

BIG_SQL = """
CREATE TABLE bench_big (id bigint PRIMARY KEY, title text, body text, blob bytea, doc jsonb);
SELECT setseed(0.42);
INSERT INTO bench_big
SELECT i,
       substr(md5(random()::text), 1, 8 + (random() * 24)::int),
       md5(random()::text) || ' ' || md5(random()::text) || ' ' || md5(random()::text) || ' ' ||
       md5(random()::text) || ' ' || md5(random()::text) || ' ' || md5(random()::text),
       decode(md5(random()::text) || md5(random()::text) || md5(random()::text) ||
              md5(random()::text), 'hex'),
       jsonb_build_object('id', i, 'score', round((random() * 1000)::numeric, 3),
                          'tag', md5(random()::text),
                          'flags', jsonb_build_array(random() < 0.5, (random() * 100)::int,
                                                     md5(random()::text)))
FROM generate_series(1, {rows}) i;
"""


def sluice_binary():
    if os.environ.get("SLUICE"):
        return os.environ["SLUICE"]
    build = os.path.join(ROOT, "build-release")
    print(f"== building sluice (Release) in {build}", flush=True)
    subprocess.run(["cmake", "-S", ROOT, "-B", build, "-DCMAKE_BUILD_TYPE=Release"],
                   check=True, capture_output=True)
    subprocess.run(["make", "-C", build, "-j2", "sluice"], check=True, capture_output=True)
    return os.path.join(build, "sluice")


def load1():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def cpu_jiffies():
    """(busy, total) jiffies of the whole machine (/proc/stat): the server's work counts too."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def process_jiffies():
    """{pid: (parent pid, CPU jiffies: user + system)} of every process."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        out[int(name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    return out


def tree(procs, root_pid):
    """{pid: jiffies} of root_pid and its descendants: pg_restore forks its workers (sluice's
    are threads of one process), the postmaster a backend per connection."""
    children = {}
    for pid, (ppid, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    out, pending = {}, [root_pid]
    while pending:
        pid = pending.pop()
        if pid in procs:
            out[pid] = procs[pid][1]
        pending.extend(children.get(pid, []))
    return out


def postmaster_pid(cluster):
    with open(os.path.join(cluster.datadir, "postmaster.pid")) as f:
        return int(f.readline())


def short(query):
    """A statement cut to what tells the timeline apart: verb and object."""
    q = re.sub(r"\s+", " ", query).strip()
    m = re.match(r"(COPY \S+|CREATE (UNIQUE )?INDEX \S+|ALTER TABLE (ONLY )?\S+ ADD CONSTRAINT \S+"
                 r"|CREATE DATABASE|TRUNCATE|VACUUM|ANALYZE)", q, re.I)
    return (m.group(0) if m else q[:24]).replace("ALTER TABLE ", "").replace("ONLY ", "")


class Sampler(threading.Thread):
    """Samples the machine, the command's process tree and the server's sessions every TICK."""

    def __init__(self, cluster, pid):
        super().__init__(daemon=True)
        self.conn = cluster.connect()
        self.pid = pid
        self.server_pid = postmaster_pid(cluster)
        self.server_seen = {}  # pid -> jiffies at its last sample
        self.server_jiffies = 0  # the server's CPU so far (a backend's last < TICK is lost)
        self.stop = threading.Event()
        # (t, machine busy jiffies, total jiffies, client jiffies, queries, server jiffies)
        self.samples = []

    def run(self):
        start = time.monotonic()
        while not self.stop.is_set():
            busy, total = cpu_jiffies()
            procs = process_jiffies()
            client = sum(tree(procs, self.pid).values())
            server = tree(procs, self.server_pid)
            self.server_jiffies += sum(j - self.server_seen.get(p, 0) for p, j in server.items())
            self.server_seen = server
            rows = self.conn.execute(
                "SELECT query FROM pg_stat_activity WHERE state = 'active' "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid()").fetchall()
            self.samples.append((time.monotonic() - start, busy, total, client,
                                 [short(r[0]) for r in rows], self.server_jiffies))
            self.stop.wait(TICK)
        self.conn.close()

    def timeline(self):
        """One line a second: cores busy (the whole machine), the server's cores (this cluster's
        processes), the client's, most connections active, what ran (distinct statements)."""
        lines = []
        per = max(1, round(1 / TICK))
        s = self.samples
        for i in range(per, len(s), per):
            a, b = s[i - per], s[i]
            cores = (b[1] - a[1]) / max(b[2] - a[2], 1) * NCPU
            client = (b[3] - a[3]) / HZ / (b[0] - a[0])
            server = (b[5] - a[5]) / HZ / (b[0] - a[0])
            active = max(len(x[4]) for x in s[i - per + 1:i + 1])
            what = []
            for x in s[i - per + 1:i + 1]:
                what += [q for q in x[4] if q not in what]
            lines.append(f"  {b[0]:5.1f}  {cores:4.2f}  {server:4.2f}  {client:4.2f}  {active:2d}  "
                         + ", ".join(what))
        return lines


def timed(cluster, cmd, log):
    """Runs cmd (argv); returns (seconds, peak RSS MB, cores busy on average (machine), client
    cores on average, load before, sampler, server CPU seconds)."""
    load = load1()
    busy0, total0 = cpu_jiffies()
    start = time.monotonic()
    rss_file = log + ".rss"
    with open(log, "w") as out:
        # GNU time measures the peak RSS: a child forked from this Python process would count
        # the interpreter's pages it had before exec.
        proc = subprocess.Popen([TIME, "-f", "%M", "-o", rss_file] + cmd, env=cluster.env(),
                                stdout=out, stderr=subprocess.STDOUT)
        sampler = Sampler(cluster, proc.pid)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
    secs = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    sampler.stop.set()
    sampler.join()
    if proc.returncode != 0:
        sys.exit(f"failed (exit {proc.returncode}): {' '.join(cmd)}\nsee {log}")
    busy1, total1 = cpu_jiffies()
    cores = (busy1 - busy0) / max(total1 - total0, 1) * NCPU
    client = (usage.ru_utime + usage.ru_stime) / secs
    with open(rss_file) as f:
        rss = int(f.read().split()[-1]) / 1024
    return secs, rss, cores, client, load, sampler, sampler.server_jiffies / HZ


def make_data(cluster, scale, big_mb):
    print(f"== generating data: pgbench scale {scale}, bench_big ~{big_mb} MB", flush=True)
    cluster.create_db("bench")
    subprocess.run([f"{BINDIR}/pgbench", "-i", "-q", "-s", str(scale), "bench"],
                   env=cluster.env(), check=True, capture_output=True)
    if big_mb > 0:
        # About 512 bytes of heap per row.
        cluster.psql("bench", input=BIG_SQL.format(rows=big_mb * 1048576 // 512))
    cluster.psql("bench", input="VACUUM (FREEZE, ANALYZE);")


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
                res = timed(cluster, argv(db), os.path.join(work, f"{key}{r}.log"))
                results[key].append(res)
                print(f"== round {r + 1}/{rounds} {key} {name}: {res[0]:.2f} s, CPU s server "
                      f"{res[6]:.2f} client {res[3] * res[0]:.2f}, load {res[4]:.2f}", flush=True)
                cluster.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        report(cluster, tools, results, scale, big_mb, jobs, rounds, own, pgd)
    finally:
        cluster.destroy()
        shutil.rmtree(work, ignore_errors=True)


def report(cluster, tools, results, scale, big_mb, jobs, rounds, own, pgd):
    version = cluster.query("SHOW server_version")[0][0]
    wal = cluster.query("SHOW wal_level")[0][0]
    print(f"\n== CPU timeline of round 1 (one line a second: t s, cores busy of {NCPU} (whole "
          f"machine), the server's cores, the client's, connections active, what they run)")
    for key, name, _ in tools:
        print(f"{key} {name}")
        print("\n".join(results[key][0][5].timeline()))
    pgd_mb = sum(os.path.getsize(os.path.join(pgd, f)) for f in os.listdir(pgd)) / 1048576
    print(f"\nPostgreSQL {version} (wal_level {wal}), pgbench scale {scale}, bench_big "
          f"~{big_mb} MB; own file {os.path.getsize(own) / 1048576:.0f} MB, -Fd "
          f"{pgd_mb:.0f} MB; {rounds} interleaved rounds, -j {jobs}, {NCPU} cores")
    print(f"{'':34} {'median s':>8} {'runs s':>20} {'RSS MB':>7} {'server':>7} {'client':>7}"
          f"  load (CPU s: medians)")
    med = {}
    for key, name, _ in tools:
        rs = results[key]
        med[key] = statistics.median(x[0] for x in rs)
        runs = " ".join(f"{x[0]:.2f}" for x in rs)
        print(f"{key} {name:32} {med[key]:8.2f} {runs:>20} {max(x[1] for x in rs):7.1f} "
              f"{statistics.median(x[6] for x in rs):7.2f} "
              f"{statistics.median(x[3] * x[0] for x in rs):7.2f}  "
              + " ".join(f"{x[4]:.2f}" for x in rs))
    # With every core busy for the whole run (the timeline shows it), wall time is CPU seconds
    # (server + client) over the cores: a tool can only be faster by as much less CPU as the
    # two together spend.
    cpu = {k: statistics.median(x[6] + x[3] * x[0] for x in results[k]) for k in med}
    print(f"\nCPU seconds (server + client, medians): A {cpu['A']:.2f}, B {cpu['B']:.2f}, "
          f"C {cpu['C']:.2f}; the most a saturated {NCPU}-core machine allows: B/A "
          f"{cpu['B'] / cpu['A']:.2f}, B/C {cpu['B'] / cpu['C']:.2f}")
    checks = [
        ("B / A (own file vs pg_restore) >= 1.15", med["B"] / med["A"], 1.15),
        ("B / C (-Fd: sluice vs pg_restore) >= 1.00", med["B"] / med["C"], 1.0),
    ]
    print("\nTargets:")
    met = 0
    for label, value, want in checks:
        ok = value >= want
        met += ok
        print(f"  [{'ok  ' if ok else 'MISS'}] {label}: {value:.2f}")
    peak = max(x[1] for k in ("A", "C") for x in results[k])
    print(f"  [{'ok  ' if peak < 64 else 'MISS'}] sluice peak RSS < 64 MB: {peak:.1f} MB")
    met += peak < 64
    print(f"{met} of 3 targets met")


if __name__ == "__main__":
    main()
