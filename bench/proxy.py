#!/usr/bin/python3
"""Proxy: pgbench select-only through sluice proxy next to direct, pgbouncer and pgpool-II.

One command: bench/proxy.py (bench/proxy.sh runs it). It starts a throwaway PostgreSQL 15
cluster, `pgbench -i -s SCALE` (VACUUM ANALYZE), and in front of it, each a throwaway process
with its own config in a temporary directory, on a free loopback port, stopped at the end (also
on failure):
  D  direct: pgbench to the server's TCP port (scram-sha-256, the cluster's .pgpass)
  B  pgbouncer, session pooling (Debian's package; it refuses to run as root, so it runs as
     the postgres user like the server)
  P  pgpool-II in raw mode (no streaming replication check, no load balancing, no health
     check) with its query cache on (memqcache_method shmem), one child per client
  S  sluice proxy, cache off
  M  sluice proxy --cache memory      } only when `sluice proxy --help` lists --cache
  R  sluice proxy --cache redis://... } (R: a throwaway redis-server)
Authentication: clients reach B, P and the sluice proxies over TCP on 127.0.0.1 and need no
password: the three reach the server through its Unix socket, which trusts local users
(pgbouncer: auth_type trust with a one-line auth_file naming the user; pgpool-II: pool_hba
off, so it relays the server's own trust; sluice passes authentication through). Only D does
SCRAM, once per connection: pgbench connects once per client.

Workloads, each in both protocols (-M simple, -M prepared), 16 clients (-c 16 -j 2 -T SECONDS):
  all  pgbench -S: one SELECT on a random aid of all SCALE * 100,000 rows
  hot  the same SELECT on aid random(1, 1000) (a custom script): what a cache can answer
Every (workload, protocol, target) first gets an untimed warm-up run of WARMUP seconds (the
caches of P, M and R fill there, and the server's buffers for all). Then ROUNDS interleaved
rounds: for each (workload, protocol), D B P S [M R] one after the other.

A run's TPS is pgbench's (without the connection time), its p99 latency from pgbench's
per-transaction log (-l --sampling-rate SAMPLING: every sampled transaction's latency, all
clients and threads). Reported per (workload, protocol): median TPS and the runs, median p99
ms, the median TPS over D's, B's and P's, and the median CPU seconds of the middle process
tree (pgpool-II forks a child per client; R's counts redis-server too), of the server (the
postmaster's tree, reaped backends included) and of pgbench, the middle's CPU microseconds per
transaction, its peak RSS (largest process of its tree, VmHWM, after the last run) and the
1-minute load before each run (the machine is shared when it is above 0).

Targets (the issue's): S >= B's TPS in every (workload, protocol); M on hot >= 1.2 x D's TPS
and >= 1.5 x P's in both protocols (not met while M cannot run).

Knobs (environment): SECONDS (20), ROUNDS (3), WARMUP (3), SCALE (10), CLIENTS (16),
SAMPLING (0.1), SLUICE (the binary; default: this tree built as a Release in build-release/),
SLUICE_ARGS (more options for every sluice proxy, e.g. "--threads 1"),
PROFILE (a perf.data path: after the rounds, where S's CPU goes on all/simple: one more run
under `perf record -g` and `perf report`'s top lines, then B and S once more each under `perf
stat`: system calls (all, and the I/O and epoll ones by name) and context switches per
transaction).
Quick run: SECONDS=5 ROUNDS=1 WARMUP=2 bench/proxy.py
"""
import glob
import math
import os
import pwd
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from benchlib import BINDIR, NCPU, PgCluster, load1, print_targets, sluice_binary  # noqa: E402
from pgcluster import _free_port  # noqa: E402
from redisserver import RedisServer  # noqa: E402

DB = "bench"
HZ = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
HOT_SCRIPT = "\\set aid random(1, 1000)\nSELECT abalance FROM pgbench_accounts WHERE aid = :aid;\n"
WORKLOADS = ("all", "hot")
PROTOCOLS = ("simple", "prepared")


def knob(name, default, kind=int):
    return kind(os.environ.get(name, default))


# -- processes ---------------------------------------------------------------

def proc_stat(pid):
    """(parent pid, own CPU jiffies, reaped children's CPU jiffies) or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[1]), int(fields[11]) + int(fields[12]),
            int(fields[13]) + int(fields[14]))


def descendants(roots):
    """The pids of roots and of their descendants."""
    children = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = proc_stat(int(name))
            if st:
                children.setdefault(st[0], []).append(int(name))
    out, pending = [], list(roots)
    while pending:
        pid = pending.pop()
        out.append(pid)
        pending.extend(children.get(pid, []))
    return out


def tree_jiffies(roots):
    """CPU jiffies of roots and their descendants, the children they reaped included: a
    backend that exited during a run counts through the postmaster's cutime."""
    total = 0
    for pid in descendants(roots):
        st = proc_stat(pid)
        if st:
            total += st[1] + st[2]
    return total


def tree_hwm_mb(roots):
    """The largest peak RSS (VmHWM) of a process in the trees of roots, MB."""
    best = 0
    for pid in descendants(roots):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        best = max(best, int(line.split()[1]))
        except OSError:
            pass
    return best / 1024


def as_postgres(argv):
    return ["runuser", "-u", "postgres", "--"] + argv if os.geteuid() == 0 else argv


def chown_postgres(path):
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(path, pw.pw_uid, pw.pw_gid)


def wait_port(port, proc, log, timeout=30):
    """Until port accepts a PostgreSQL session that answers SELECT 1 (the whole path works)."""
    import psycopg
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(host="127.0.0.1", port=port, dbname=DB, user="postgres",
                                 connect_timeout=2) as conn:
                conn.execute("SELECT 1")
                return
        except psycopg.Error:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            with open(log, errors="replace") as f:
                tail = f.read()[-2000:]
            raise RuntimeError(f"not serving on port {port}: {' '.join(proc.args)}\n{tail}")
        time.sleep(0.1)


class Middle:
    """A process between pgbench and the server, on a free loopback port."""

    stop_signal = signal.SIGINT

    def __init__(self, key, name, work):
        self.key, self.name = key, name
        self.dir = os.path.join(work, key)
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o755)
        self.port, lock = _free_port()
        lock.close()  # the process takes the port itself right away
        self.log = os.path.join(self.dir, "log")
        self.proc = None
        self.extra_pids = []  # processes whose CPU counts with this one's (redis-server)

    def start(self, argv):
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                         cwd=self.dir, start_new_session=True)
        wait_port(self.port, self.proc, self.log)
        return self

    def pids(self):
        return [self.proc.pid] + self.extra_pids

    def stop(self):
        """Stops the process (its tree: runuser's child gets the signal); SIGKILL to the
        tree if it lingers."""
        if not self.proc or self.proc.poll() is not None:
            return
        tree = descendants([self.proc.pid])
        for pid in tree[1:] or tree:
            try:
                os.kill(pid, self.stop_signal)
            except OSError:
                pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            for pid in descendants([self.proc.pid]):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            self.proc.wait()


class Direct(Middle):
    def __init__(self, cluster, work):
        super().__init__("D", "direct", work)
        self.port = cluster.port

    def start(self):
        return self

    def pids(self):
        return []

    def stop(self):
        pass


class Bouncer(Middle):
    stop_signal = signal.SIGTERM  # immediate shutdown (SIGINT waits for the clients)

    def __init__(self, cluster, work):
        super().__init__("B", "pgbouncer (session pooling)", work)
        users = os.path.join(self.dir, "userlist.txt")
        with open(users, "w") as f:
            f.write(f'"{cluster.user}" ""\n')
        conf = os.path.join(self.dir, "pgbouncer.ini")
        with open(conf, "w") as f:
            f.write(f"[databases]\n* = host={cluster.sockdir} port={cluster.port}\n\n"
                    f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {self.port}\n"
                    f"unix_socket_dir =\nauth_type = trust\nauth_file = {users}\n"
                    f"pool_mode = session\nmax_client_conn = 200\ndefault_pool_size = 40\n"
                    f"logfile = {self.log}.pgbouncer\npidfile = {self.dir}/pgbouncer.pid\n")
        for path in (self.dir, users, conf):
            chown_postgres(path)
        self.argv = as_postgres(["/usr/sbin/pgbouncer", conf])

    def start(self):
        return super().start(self.argv)


class Pgpool(Middle):
    def __init__(self, cluster, work, clients):
        super().__init__("P", "pgpool-II (raw, query cache shmem)", work)
        pcp_port, lock = _free_port()
        lock.close()
        oiddir = os.path.join(self.dir, "oiddir")
        os.makedirs(oiddir)
        settings = {
            "backend_clustering_mode": "'raw'",
            "listen_addresses": "'127.0.0.1'", "port": self.port,
            "socket_dir": f"'{self.dir}'",
            "pcp_listen_addresses": "'127.0.0.1'", "pcp_port": pcp_port,
            "pcp_socket_dir": f"'{self.dir}'",
            "backend_hostname0": f"'{cluster.sockdir}'", "backend_port0": cluster.port,
            "backend_weight0": 1, "backend_flag0": "'DISALLOW_TO_FAILOVER'",
            "enable_pool_hba": "off", "pool_passwd": "''",
            "num_init_children": clients + 4, "max_pool": 1,
            "pid_file_name": f"'{self.dir}/pgpool.pid'", "logdir": f"'{self.dir}'",
            "log_destination": "'stderr'",
            "load_balance_mode": "off", "sr_check_period": 0, "health_check_period": 0,
            "failover_on_backend_error": "off", "use_watchdog": "off",
            "memory_cache_enabled": "on", "memqcache_method": "'shmem'",
            "memqcache_total_size": "'64MB'", "memqcache_expire": 0,
            "memqcache_oiddir": f"'{oiddir}'",
        }
        conf = os.path.join(self.dir, "pgpool.conf")
        with open(conf, "w") as f:
            f.writelines(f"{k} = {v}\n" for k, v in settings.items())
        pcp = os.path.join(self.dir, "pcp.conf")
        hba = os.path.join(self.dir, "pool_hba.conf")
        for path in (pcp, hba):
            open(path, "w").close()
        for path in (self.dir, oiddir, conf, pcp, hba):
            chown_postgres(path)
        self.argv = as_postgres(["/usr/sbin/pgpool", "-n", "-D", "-f", conf, "-F", pcp,
                                 "-a", hba])

    def start(self):
        return super().start(self.argv)


class Sluice(Middle):
    def __init__(self, key, name, cluster, work, sluice, cache_args, redis=None):
        super().__init__(key, name, work)
        self.redis = redis
        self.argv = [sluice, "proxy", "--listen", f"127.0.0.1:{self.port}",
                     "--upstream", f"{cluster.sockdir}:{cluster.port}", *cache_args,
                     *os.environ.get("SLUICE_ARGS", "").split()]

    def start(self):
        if self.redis:
            self.extra_pids = [self.redis.proc.pid]
        return super().start(self.argv)

    def stop(self):
        super().stop()
        if self.proc and self.proc.returncode not in (0, None):
            print(f"!! {self.key}: sluice proxy exited {self.proc.returncode}; see {self.log}",
                  flush=True)


def sluice_has_cache(sluice):
    out = subprocess.run([sluice, "proxy", "--help"], capture_output=True, text=True).stdout
    return "--cache" in out


# -- pgbench -----------------------------------------------------------------

def pgbench_argv(middle, workload, protocol, seconds, clients, script, log_prefix, sampling):
    argv = [f"{BINDIR}/pgbench", "-n", "-h", "127.0.0.1", "-p", str(middle.port),
            "-c", str(clients), "-j", "2", "-T", str(seconds), "-M", protocol]
    argv += ["-S"] if workload == "all" else ["-f", script]
    if log_prefix:
        argv += ["-l", "--sampling-rate", str(sampling), "--log-prefix", log_prefix]
    return argv + [DB]


def parse_tps(out):
    for line in out.splitlines():
        if line.startswith("tps = "):
            return float(line.split()[2])
    raise RuntimeError(f"no tps in pgbench's output:\n{out}")


def p99_ms(log_prefix):
    """The 99th percentile of the sampled transactions' latency (third column, µs), ms."""
    lat = []
    for path in glob.glob(glob.escape(log_prefix) + ".*"):
        with open(path) as f:
            lat += [int(line.split()[2]) for line in f if line.strip()]
        os.unlink(path)
    if not lat:
        return float("nan")
    lat.sort()
    return lat[max(0, math.ceil(0.99 * len(lat)) - 1)] / 1000


def run(cluster, middle, argv, log_prefix):
    """One pgbench run: {tps, p99, middle CPU s, server CPU s, pgbench CPU s, load}."""
    server = [cluster_pid(cluster)]
    load = load1()
    mid0, srv0 = tree_jiffies(middle.pids()), tree_jiffies(server)
    bench0 = children_cpu()
    proc = subprocess.run(argv, env=cluster.env(), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    bench1 = children_cpu()
    mid1, srv1 = tree_jiffies(middle.pids()), tree_jiffies(server)
    out = proc.stdout
    if proc.returncode != 0:
        raise RuntimeError(f"pgbench failed (exit {proc.returncode}): {' '.join(argv)}\n{out}")
    return {"tps": parse_tps(out), "p99": p99_ms(log_prefix) if log_prefix else None,
            "mid": (mid1 - mid0) / HZ, "srv": (srv1 - srv0) / HZ,
            "bench": bench1 - bench0, "load": load}


def children_cpu():
    """CPU seconds of this process's reaped children (pgbench's, once it has been waited)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


_PM = {}


def cluster_pid(cluster):
    if cluster.datadir not in _PM:
        with open(os.path.join(cluster.datadir, "postmaster.pid")) as f:
            _PM[cluster.datadir] = int(f.readline())
    return _PM[cluster.datadir]


# -- the bench ---------------------------------------------------------------

def make_data(cluster, scale):
    print(f"== pgbench -i -s {scale}", flush=True)
    cluster.create_db(DB)
    subprocess.run([f"{BINDIR}/pgbench", "-i", "-q", "-s", str(scale), DB], env=cluster.env(),
                   check=True, capture_output=True)
    cluster.psql(DB, input="VACUUM ANALYZE;")


def middles(cluster, work, sluice, clients, redis):
    """The targets in their order in a round (not started)."""
    out = [Direct(cluster, work), Bouncer(cluster, work), Pgpool(cluster, work, clients),
           Sluice("S", "sluice proxy, cache off", cluster, work, sluice, [])]
    if redis:
        out += [Sluice("M", "sluice proxy --cache memory", cluster, work, sluice,
                       ["--cache", "memory"]),
                Sluice("R", "sluice proxy --cache redis://", cluster, work, sluice,
                       ["--cache", redis.url()], redis=redis)]
    return out


def main():
    seconds, rounds, warmup = knob("SECONDS", 20), knob("ROUNDS", 3), knob("WARMUP", 3)
    scale, clients = knob("SCALE", 10), knob("CLIENTS", 16)
    sampling = knob("SAMPLING", 0.1, float)
    sluice = sluice_binary()
    cache = sluice_has_cache(sluice)
    if not cache:
        print("== sluice proxy --help lists no --cache: M and R are not run", flush=True)
    work = tempfile.mkdtemp(prefix="sluice-bench-proxy-")
    os.chmod(work, 0o755)
    script = os.path.join(work, "hot.sql")
    with open(script, "w") as f:
        f.write(HOT_SCRIPT)
    cluster = PgCluster(name="bench-proxy", settings={"max_connections": str(clients * 4 + 20)})
    redis = RedisServer() if cache else None
    targets = []
    try:
        cluster.start()
        if redis:
            redis.start()
        make_data(cluster, scale)
        targets = middles(cluster, work, sluice, clients, redis)
        for m in targets:
            m.start()
        combos = [(w, p) for w in WORKLOADS for p in PROTOCOLS]

        def argv(m, w, p, secs, prefix=None):
            return pgbench_argv(m, w, p, secs, clients, script, prefix, sampling)

        if warmup > 0:
            print(f"== warm-up: {warmup} s for each (workload, protocol, target), untimed",
                  flush=True)
            for w, p in combos:
                for m in targets:
                    run(cluster, m, argv(m, w, p, warmup), None)
        results = {(w, p, m.key): [] for w, p in combos for m in targets}
        for r in range(rounds):
            for w, p in combos:
                for m in targets:
                    prefix = os.path.join(work, f"log-{w}-{p}-{m.key}-{r}")
                    res = run(cluster, m, argv(m, w, p, seconds, prefix), prefix)
                    results[(w, p, m.key)].append(res)
                    print(f"== round {r + 1}/{rounds} {w} {p} {m.key}: {res['tps']:.0f} tps, "
                          f"p99 {res['p99']:.2f} ms, CPU s middle {res['mid']:.2f} server "
                          f"{res['srv']:.2f} pgbench {res['bench']:.2f}, load "
                          f"{res['load']:.2f}", flush=True)
        rss = {m.key: tree_hwm_mb(m.pids()[:1]) if m.pids() else None for m in targets}
        if os.environ.get("PROFILE"):
            profile(cluster, targets, argv, seconds, os.environ["PROFILE"])
        report(cluster, targets, combos, results, rss, seconds, rounds, scale, clients, cache)
    finally:
        for m in targets:
            m.stop()
        if redis:
            redis.destroy()
        cluster.destroy()
        shutil.rmtree(work, ignore_errors=True)


def profile(cluster, targets, argv, seconds, path):
    """Where S's CPU goes on all/simple: perf record -g of one more run (perf report's top by
    library, by symbol, and by caller), then system calls and context switches per
    transaction of B and S under perf stat (one more run each)."""
    by = {m.key: m for m in targets}
    s = by["S"]
    print(f"\n== perf record -g of S (pid {s.proc.pid}) during all/simple, {seconds} s",
          flush=True)
    under_perf(["record", "-g", "-q", "-o", path], s,
               lambda: run(cluster, s, argv(s, "all", "simple", seconds), None))
    for args in (["--no-children", "--sort", "dso"], ["--no-children", "--sort", "dso,symbol"],
                 ["--children", "--sort", "symbol"]):
        out = subprocess.run(["perf", "report", "-i", path, "--stdio", "-g", "none",
                              "--percent-limit", "3", *args], capture_output=True,
                             text=True).stdout
        # unresolved frames (addresses of a stripped build's stack) tell nothing
        print("\n".join(line.rstrip(" -") for line in out.splitlines()
                        if line.strip() and not line.startswith("#") and " 0x0" not in line))
        print()
    calls = ("read", "recvfrom", "write", "writev", "sendto", "epoll_wait", "epoll_pwait",
             "epoll_ctl", "poll")
    events = ",".join(["raw_syscalls:sys_enter", "context-switches"]
                      + [f"syscalls:sys_enter_{c}" for c in calls])
    for key in ("B", "S"):
        m = by[key]
        stat = os.path.join(os.path.dirname(path), f"perf-stat-{key}.csv")
        res = under_perf(["stat", "-x", ",", "-e", events, "-o", stat], m,
                         lambda: run(cluster, m, argv(m, "all", "simple", seconds), None))
        tx = res["tps"] * seconds
        with open(stat) as f:
            counts = {row[2]: float(row[0]) for row in
                      (line.split(",") for line in f if line[:1].isdigit())}
        print(f"== {key} all/simple under perf stat: {res['tps']:.0f} tps, per transaction: "
              + ", ".join(f"{name.replace('syscalls:sys_enter_', '')} {n / tx:.2f}"
                          for name, n in counts.items() if n))


def under_perf(args, middle, work):
    """work() while perf (args) watches the processes of middle's tree; returns work's."""
    pids = ",".join(str(p) for p in descendants(middle.pids()[:1]))
    perf = subprocess.Popen(["perf", *args, "-p", pids], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        return work()
    finally:
        perf.send_signal(signal.SIGINT)
        perf.wait()


def med(rs, field):
    return statistics.median(x[field] for x in rs)


def report(cluster, targets, combos, results, rss, seconds, rounds, scale, clients, cache):
    version = cluster.query("SHOW server_version")[0][0]
    print(f"\nPostgreSQL {version}, pgbench scale {scale}, select-only, -c {clients} -j 2 "
          f"-T {seconds}; {rounds} interleaved rounds; {NCPU} cores"
          + ("" if cache else "; sluice has no --cache yet: M and R not run"))
    for m in targets:
        print(f"  {m.key}  {m.name}")
    keys = [m.key for m in targets]
    tps = {k: med(rs, "tps") for k, rs in results.items()}
    print(f"\n{'':14} {'TPS':>8} {'runs':>20} {'p99 ms':>7} {'/D':>5} {'/B':>5} {'/P':>5} "
          f"{'CPU s: mid':>10} {'server':>7} {'pgbench':>7} {'mid us/tx':>9}  load")
    for w, p in combos:
        for k in keys:
            rs = results[(w, p, k)]
            t = tps[(w, p, k)]
            ratios = " ".join(f"{t / tps[(w, p, x)]:5.2f}" for x in ("D", "B", "P"))
            mid = med(rs, "mid")
            # D has no middle
            mid_s = f"{mid:10.2f}" if k != "D" else f"{'-':>10}"
            per_tx = f"{mid * 1e6 / (t * seconds):9.1f}" if k != "D" else f"{'-':>9}"
            runs = " ".join(f"{x['tps']:.0f}" for x in rs)
            print(f"{w:4} {p:8} {k} {t:8.0f} {runs:>20} {med(rs, 'p99'):7.2f} {ratios} "
                  f"{mid_s} {med(rs, 'srv'):7.2f} "
                  f"{med(rs, 'bench'):7.2f} {per_tx}  "
                  + " ".join(f"{x['load']:.2f}" for x in rs))
    print("\nPeak RSS MB (largest process of the tree, VmHWM): "
          + ", ".join(f"{k} {v:.1f}" for k, v in rss.items() if v is not None))
    checks = [(f"S >= B TPS ({w}, {p})", tps[(w, p, "S")] >= tps[(w, p, "B")],
               f"{tps[(w, p, 'S')] / tps[(w, p, 'B')]:.2f} x B")
              for w, p in combos]
    for p in PROTOCOLS:
        for other, factor in (("D", 1.2), ("P", 1.5)):
            label = f"M on hot >= {factor} x {other} TPS ({p})"
            if "M" in keys:
                ratio = tps[("hot", p, "M")] / tps[("hot", p, other)]
                checks.append((label, ratio >= factor, f"{ratio:.2f} x {other}"))
            else:
                checks.append((label, False, "not measured (no --cache)"))
    print_targets(checks)


if __name__ == "__main__":
    main()
