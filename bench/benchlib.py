"""What the interleaved benches (bench/backup.py, bench/restore.py) share: the cluster's settings,
the data, the sluice binary, one timed run with its CPU samples, and the report's tables.

A run is timed by timed(): wall seconds, peak RSS (GNU time's %M: the largest process of the
command's tree; the server's memory is not counted), the server's and the client's CPU seconds,
the 1-minute load before it, and a sampler of the machine, the command's process tree and
pg_stat_activity every TICK seconds (the per-second timeline).
"""
import os
import re
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

import pgcluster  # noqa: E402

BINDIR = pgcluster.BINDIR
PgCluster = pgcluster.PgCluster

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
    """A statement cut to what tells the timeline apart: verb and object (a COPY of a ctid
    range as its table and "range")."""
    q = re.sub(r"\s+", " ", query).strip()
    m = re.match(r"COPY \(SELECT .*? FROM (?:ONLY )?(\S+) WHERE .*ctid", q, re.I)
    if m:
        return f"COPY {m.group(1)} range"
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


def timed(cluster, cmd, log, stdout=None):
    """Runs cmd (argv); returns (seconds, peak RSS MB, cores busy on average (machine), client
    cores on average, load before, sampler, server CPU seconds). Its stdout goes to the file
    stdout when given (a tap's messages to /dev/null), else with its stderr to log."""
    load = load1()
    busy0, total0 = cpu_jiffies()
    start = time.monotonic()
    rss_file = log + ".rss"
    with open(log, "w") as out, open(stdout or os.devnull, "wb") as data:
        # GNU time measures the peak RSS: a child forked from this Python process would count
        # the interpreter's pages it had before exec.
        proc = subprocess.Popen([TIME, "-f", "%M", "-o", rss_file] + cmd, env=cluster.env(),
                                stdout=data if stdout else out,
                                stderr=out if stdout else subprocess.STDOUT)
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


def measure(cluster, key, name, cmd, log, r, rounds, stdout=None):
    """timed(), then one progress line for the run."""
    res = timed(cluster, cmd, log, stdout)
    print(f"== round {r + 1}/{rounds} {key} {name}: {res[0]:.2f} s, CPU s server "
          f"{res[6]:.2f} client {res[3] * res[0]:.2f}, load {res[4]:.2f}", flush=True)
    return res


def make_data(cluster, scale, big_mb):
    print(f"== generating data: pgbench scale {scale}, bench_big ~{big_mb} MB", flush=True)
    cluster.create_db("bench")
    subprocess.run([f"{BINDIR}/pgbench", "-i", "-q", "-s", str(scale), "bench"],
                   env=cluster.env(), check=True, capture_output=True)
    if big_mb > 0:
        # About 512 bytes of heap per row.
        cluster.psql("bench", input=BIG_SQL.format(rows=big_mb * 1048576 // 512))
    cluster.psql("bench", input="VACUUM (FREEZE, ANALYZE);")


def print_timelines(tools, results, keys):
    """Round 1's timeline of the tools in keys."""
    print(f"\n== CPU timeline of round 1 (one line a second: t s, cores busy of {NCPU} (whole "
          f"machine), the server's cores, the client's, connections active, what they run)")
    for key, name, _ in tools:
        if key in keys:
            print(f"{key} {name}")
            print("\n".join(results[key][0][5].timeline()))


def print_runs(tools, results, sizes=None):
    """The table of medians: one line a tool (with its output's size in MB when sizes has it);
    returns {key: median seconds}."""
    kw = max(len(key) for key, _, _ in tools)
    width = max([32] + [len(name) for _, name, _ in tools])
    size_head = f" {'size MB':>8}" if sizes else ""
    print(f"{'':{kw + 1 + width}} {'median s':>8} {'runs s':>20}{size_head} {'RSS MB':>7} "
          f"{'server':>7} {'client':>7}  load (CPU s: medians)")
    med = {}
    for key, name, _ in tools:
        rs = results[key]
        med[key] = statistics.median(x[0] for x in rs)
        runs = " ".join(f"{x[0]:.2f}" for x in rs)
        size = ""
        if sizes:
            size = f" {statistics.median(sizes[key]) / 1048576:8.1f}" if sizes.get(key) \
                else f" {'-':>8}"
        print(f"{key:{kw}} {name:{width}} {med[key]:8.2f} {runs:>20}{size} "
              f"{max(x[1] for x in rs):7.1f} "
              f"{statistics.median(x[6] for x in rs):7.2f} "
              f"{statistics.median(x[3] * x[0] for x in rs):7.2f}  "
              + " ".join(f"{x[4]:.2f}" for x in rs))
    return med


def cpu_seconds(results):
    """{key: median CPU seconds of server and client}. With every core busy for the whole run
    (the timeline shows it), wall time is these seconds over the cores: a tool can only be
    faster by as much less CPU as the two together spend."""
    return {k: statistics.median(x[6] + x[3] * x[0] for x in rs) for k, rs in results.items()}


def print_targets(checks):
    """checks: (label, met, value as shown); prints each and how many were met."""
    print("\nTargets:")
    for label, ok, shown in checks:
        print(f"  [{'ok  ' if ok else 'MISS'}] {label}: {shown}")
    print(f"{sum(ok for _, ok, _ in checks)} of {len(checks)} targets met")
