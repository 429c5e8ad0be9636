#!/usr/bin/python3
"""MySQL/MariaDB backup: sluice against mariadb-dump, runs interleaved (A B A B ...), medians.

One command: bench/mysql.py. It starts a throwaway MariaDB (tests/e2e/mariadbserver.py), makes
a database of mixed types once (integers, decimals, dates, text, binary; about SIZE_MB of row
data in two tables, one split by key ranges), then runs ROUNDS rounds of:
  A  sluice backup single bench --engine mysql --compress zstd -j JOBS
  B  mariadb-dump --single-transaction bench | zstd -1 -T JOBS
and prints each run's seconds and peak RSS (GNU time's %M: for the pipeline, its largest
process, not the sum; the server is not counted), then the medians and the ratio B/A.
Knobs (environment): SIZE_MB (200; 1000 for the real run), JOBS (2), ROUNDS (3), SLUICE (the
binary; default build/sluice of this tree).
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
from mariadbserver import MariaDbServer  # noqa: E402

SIZE_MB = int(os.environ.get("SIZE_MB", "200"))
JOBS = int(os.environ.get("JOBS", "2"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
SLUICE = os.environ.get("SLUICE", os.path.join(ROOT, "build", "sluice"))


def make_data(s):
    # ~1.1 KB per row in `wide`, ~100 B per row in `narrow`: SIZE_MB split 9:1
    wide = SIZE_MB * 900
    narrow = SIZE_MB * 1000
    s.sql(f"""CREATE DATABASE bench; USE bench;
CREATE TABLE wide (id bigint PRIMARY KEY, n int, amount decimal(14,2), at datetime(3),
  note varchar(200), body text, blob_col varbinary(256), KEY by_n (n)) ENGINE=InnoDB;
INSERT INTO wide SELECT seq, seq % 1000, seq / 7, '2020-01-01' + INTERVAL seq SECOND,
  CONCAT('note ', seq, ' ''q'' \\\\ x'), REPEAT(MD5(seq), 24), UNHEX(REPEAT(SHA2(seq, 256), 2))
  FROM seq_1_to_{wide};
CREATE TABLE narrow (id int PRIMARY KEY, a int, b double, c date, d char(20)) ENGINE=InnoDB;
INSERT INTO narrow SELECT seq, seq * 3, seq / 3.0, '2000-01-01' + INTERVAL (seq % 9000) DAY,
  LEFT(MD5(seq), 20) FROM seq_1_to_{narrow};
ANALYZE TABLE wide, narrow;""")


def timed(cmd, env):
    t = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", "bash", "-o", "pipefail", "-c", cmd],
                       env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"failed: {cmd}\n{p.stderr[-2000:]}")
    return time.monotonic() - t, int(p.stderr.strip().splitlines()[-1])


def main():
    out = tempfile.mkdtemp(prefix="sluice-bench-mysql-")
    with MariaDbServer(settings={"innodb-buffer-pool-size": "512M"}) as s:
        make_data(s)
        env = s.env()
        conn = " ".join(s.conn_args())
        runs = {
            "A sluice zstd -j%d" % JOBS:
                f"{SLUICE} backup single bench {conn} --compress zstd -j {JOBS} -q "
                f"-o {out}/a.sql.zst",
            "B mariadb-dump | zstd -1 -T%d" % JOBS:
                f"mariadb-dump --defaults-file={s.client_cnf} --single-transaction bench "
                f"| zstd -1 -T{JOBS} -q -f -o {out}/b.sql.zst",
        }
        results = {k: [] for k in runs}
        for r in range(ROUNDS):
            for name, cmd in runs.items():
                for f in os.listdir(out):
                    os.remove(os.path.join(out, f))
                secs, kib = timed(cmd, env)
                size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
                results[name].append((secs, kib))
                print(f"round {r + 1} {name}: {secs:.2f} s, peak RSS {kib / 1024:.1f} MiB, "
                      f"{size / 2**20:.1f} MiB out", flush=True)
    shutil.rmtree(out, ignore_errors=True)
    med = {k: statistics.median(x[0] for x in v) for k, v in results.items()}
    for k, v in results.items():
        print(f"{k}: median {med[k]:.2f} s, peak RSS {max(x[1] for x in v) / 1024:.1f} MiB")
    a, b = list(med.values())
    print(f"SIZE_MB={SIZE_MB} JOBS={JOBS} ROUNDS={ROUNDS}: mariadb-dump / sluice = {b / a:.2f}")


if __name__ == "__main__":
    main()
