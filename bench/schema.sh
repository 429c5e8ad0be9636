#!/usr/bin/env bash
# bench/schema.sh: how long reading a large schema takes, sluice against pg_dump, on the same
# database in the same run, on a throwaway PostgreSQL 15 cluster that the script starts and
# removes (also on failure).
#
# Schema (reproducible): N tables spread over SCHEMAS schemas, each with a primary key, one more
# index, a comment, a column default and a CHECK constraint; N/10 views and N/2 SQL functions.
# No rows: only the catalog read is measured.
#
# Knobs (environment):
#   N=10000           number of tables (N=2000 for a quick run)
#   SCHEMAS=10        number of schemas they are spread over
#   VIEWS=N/10        number of views
#   FUNCS=N/2         number of functions
#   RUNS=3            timed runs of each tool, interleaved
#   SLUICE=PATH       the binary to measure (default: build-release/sluice, (re)built first)
#   PROFILE=1         after the timed runs, one more run of each with log_min_duration_statement=0
#                     and a table of the server time of every query sluice sent
#   BENCH_DIR=/tmp/...    where the cluster and logs go (default: a new temp dir)
#   KEEP=1            keep BENCH_DIR (and the server log) afterwards
# Quick run: N=2000 bench/schema.sh
#
# Prints the median wall time and peak RSS (GNU time's %M, the client process only) of
# `pg_dump --schema-only -f /dev/null` and `sluice backup single DB --schema-only --compress none`,
# and sluice's time as a ratio of pg_dump's (below 1.00: sluice is faster).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${N:-10000}
SCHEMAS=${SCHEMAS:-10}
VIEWS=${VIEWS:-$((N / 10))}
FUNCS=${FUNCS:-$((N / 2))}
RUNS=${RUNS:-3}
# shellcheck source=bench/common.sh
. "$ROOT/bench/common.sh"
bench_setup "$PGBIN/pg_dump" "$PGBIN/psql"

BENCH_DIR=${BENCH_DIR:-$(mktemp -d /tmp/sluice-schema-bench.XXXXXX)}
LOG=$BENCH_DIR/log
mkdir -p "$LOG"
PG_ROOT=""

cleanup() {
    local rc=$?
    if [ -n "$PG_ROOT" ]; then
        if [ "${KEEP:-0}" = 1 ]; then
            cp "$PG_ROOT/data/server.log" "$LOG/server.log" 2>/dev/null || true
        fi
        "$PY" "$ROOT/bench/cluster.py" stop "$PG_ROOT" || true
    fi
    rm -f "$BENCH_DIR/sluice.sql" "$BENCH_DIR/sluice.sql.partial"
    if [ "${KEEP:-0}" != 1 ] && [ $rc -eq 0 ]; then
        rm -rf "$BENCH_DIR"
    fi
    [ $rc -eq 0 ] || echo "bench failed (exit $rc); logs in $LOG" >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# pg_dump and sluice lock every table in one transaction: the lock table must hold N of them.
bench_start_cluster sluice-schema-bench schemabench \
    max_locks_per_transaction=$(( N / 40 + 128 )) "log_line_prefix='%m [%p] %a '"

echo "== creating $N tables in $SCHEMAS schemas, $VIEWS views, $FUNCS functions"
t0=$(date +%s)
for ((s = 0; s < SCHEMAS; s++)); do
    "${PSQL[@]}" -c "CREATE SCHEMA s$s"
done
# One transaction per 500 objects keeps the lock table small while creating.
for ((lo = 0; lo < N; lo += 500)); do
    hi=$((lo + 500 < N ? lo + 500 : N))
    "${PSQL[@]}" <<SQL
DO \$\$
DECLARE q text;
BEGIN
  FOR i IN $lo..$((hi - 1)) LOOP
    q := format('s%s.t%s', i % $SCHEMAS, i);
    EXECUTE format('CREATE TABLE %s (id bigint PRIMARY KEY, name text NOT NULL DEFAULT ''n'', '
                   'qty integer CHECK (qty >= 0), note varchar(200), created timestamptz)', q);
    EXECUTE format('CREATE INDEX t%s_name ON %s (name, created)', i, q);
    EXECUTE format('COMMENT ON TABLE %s IS %L', q, 'table number ' || i);
  END LOOP;
END \$\$;
SQL
done
"${PSQL[@]}" <<SQL
DO \$\$
BEGIN
  FOR i IN 0..$((VIEWS - 1)) LOOP
    EXECUTE format('CREATE VIEW s%s.v%s AS SELECT id, name, qty FROM s%s.t%s WHERE qty > %s',
                   i % $SCHEMAS, i, i % $SCHEMAS, i, i);
  END LOOP;
  FOR i IN 0..$((FUNCS - 1)) LOOP
    EXECUTE format('CREATE FUNCTION s%s.f%s(a integer, b text DEFAULT ''x'') RETURNS text '
                   'LANGUAGE sql IMMUTABLE AS %L', i % $SCHEMAS, i,
                   'SELECT b || (a + ' || i || ')::text');
  END LOOP;
END \$\$;
SQL
"${PSQL[@]}" -c "VACUUM ANALYZE"
echo "   $(( $(date +%s) - t0 )) s"

# timed NAME CMD...: appends "wall_seconds peak_rss_kb" of one run to $LOG/NAME.times.
timed() {
    local name=$1
    shift
    if ! "$TIME" -f '%e %M' -o "$LOG/$name.last" "$@" >"$LOG/$name.out" 2>"$LOG/$name.err"; then
        echo "$name failed:" >&2
        tail -n 5 "$LOG/$name.err" >&2
        exit 1
    fi
    tail -n 1 "$LOG/$name.last" >>"$LOG/$name.times"
}
PGDUMP=("$PGBIN/pg_dump" --schema-only -f /dev/null schemabench)
SLUICE_CMD=("$SLUICE" backup single schemabench --schema-only -o "$BENCH_DIR/sluice.sql"
            --compress none)

echo "== $RUNS runs each, interleaved"
echo "   ${PGDUMP[*]}"
echo "   ${SLUICE_CMD[*]}"
"${PGDUMP[@]}"  # warm the server's caches so that neither tool pays for the first read
for ((r = 1; r <= RUNS; r++)); do
    timed pg_dump "${PGDUMP[@]}"
    rm -f "$BENCH_DIR/sluice.sql"
    timed sluice "${SLUICE_CMD[@]}"
    echo "   run $r: pg_dump $(cut -d' ' -f1 <"$LOG/pg_dump.last") s," \
         "sluice $(cut -d' ' -f1 <"$LOG/sluice.last") s"
done
SIZE=$(stat -c %s "$BENCH_DIR/sluice.sql")

if [ "${PROFILE:-0}" = 1 ]; then
    echo "== profile: one more sluice run with log_min_duration_statement = 0"
    "${PSQL[@]}" -c "ALTER SYSTEM SET log_min_duration_statement = 0" -c "SELECT pg_reload_conf()" \
        >/dev/null
    sleep 1
    start_line=$(wc -l <"$PG_ROOT/data/server.log")
    rm -f "$BENCH_DIR/sluice.sql"
    timed sluice-profiled "${SLUICE_CMD[@]}"
    "${PSQL[@]}" -c "ALTER SYSTEM RESET log_min_duration_statement" -c "SELECT pg_reload_conf()" \
        >/dev/null
    tail -n +"$((start_line + 1))" "$PG_ROOT/data/server.log" >"$LOG/sluice-profiled.log"
    "$PY" - "$LOG/sluice-profiled.log" <<'PY'
import re
import sys

# "... [pid] sluice LOG:  duration: 12.3 ms  execute <unnamed>: SELECT ..." ; parse and bind
# steps are added to the statement they belong to (the next execute of the same process).
pat = re.compile(r"\[(\d+)\] (\S*) LOG:  duration: ([\d.]+) ms  (\w+)[^:]*: ?(.*)")
pending, rows = {}, []
with open(sys.argv[1], errors="replace") as f:
    for line in f:
        m = pat.search(line)
        if not m or not m.group(2).startswith("sluice"):
            continue
        pid, ms, step, text = m.group(1), float(m.group(3)), m.group(4), m.group(5)
        pending[pid] = pending.get(pid, 0.0) + ms
        if step in ("execute", "statement"):
            rows.append((pending.pop(pid), " ".join(text.split())[:110]))
total = sum(ms for ms, _ in rows)
print(f"   {len(rows)} statements, {total / 1000:.2f} s of server time; the slowest:")
for ms, text in sorted(rows, reverse=True)[:15]:
    print(f"   {ms / 1000:8.3f} s  {text}")
PY
fi

"$PY" - "$LOG/pg_dump.times" "$LOG/sluice.times" "$N" "$VIEWS" "$FUNCS" "$SIZE" <<'PY'
import statistics
import sys

def load(path):
    rows = [line.split() for line in open(path) if line.strip()]
    return (statistics.median(float(r[0]) for r in rows),
            statistics.median(int(r[1]) for r in rows) / 1024, [float(r[0]) for r in rows])

pd, sl = load(sys.argv[1]), load(sys.argv[2])
n, views, funcs, size = sys.argv[3:7]
print()
print(f"schema: {n} tables (primary key, index, comment, default, CHECK each), {views} views, "
      f"{funcs} functions; sluice output {int(size) / 1048576:.1f} MB")
print(f"{'tool':<10} {'median s':>9} {'peak RSS MB':>12}   runs (s)")
for name, (t, rss, runs) in (("pg_dump", pd), ("sluice", sl)):
    print(f"{name:<10} {t:9.2f} {rss:12.1f}   {' '.join(f'{x:.2f}' for x in runs)}")
print(f"ratio sluice / pg_dump: {sl[0] / pd[0]:.2f}")
PY
