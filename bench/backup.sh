#!/usr/bin/env bash
# bench/backup.sh: sluice backup / restore against pg_dump / pg_restore and the wire limit, on the
# same data in the same run, on a throwaway PostgreSQL 15 cluster that the script starts and
# removes (also on failure).
#
# Data (reproducible): pgbench at scale SCALE, plus one table "bench_big" of about BIGTABLE_MB of
# random text, bytea and jsonb (random() after setseed(), so every run makes the same rows).
#
# Knobs (environment):
#   SCALE=100         pgbench scale (SCALE=10 or 1 for a quick run)
#   BIGTABLE_MB=1024  approximate heap size of bench_big in MB (0: no big table)
#   JOBS=2            -j for sluice, pg_dump -Fd and pg_restore, and the wire limit's parallelism
#   SLUICE=PATH       the binary to measure (default: build-release/sluice, (re)built first)
#   BENCH_DIR=/tmp/...    where the cluster, backups and logs go (default: a new temp dir)
#   KEEP=1            keep BENCH_DIR afterwards
# Smoke run: SCALE=1 BIGTABLE_MB=50 bench/backup.sh
#
# Each line of the result: wall time, output size, peak RSS (GNU time's %M: the largest single
# process of the command, in MB; the server's memory is not counted), and ratios against the peer.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCALE=${SCALE:-100}
BIGTABLE_MB=${BIGTABLE_MB:-1024}
JOBS=${JOBS:-2}
# shellcheck source=bench/common.sh
. "$ROOT/bench/common.sh"
bench_setup "$PGBIN/pgbench" "$PGBIN/pg_dump" "$PGBIN/pg_restore" "$PGBIN/psql"

BENCH_DIR=${BENCH_DIR:-$(mktemp -d /tmp/sluice-bench.XXXXXX)}
mkdir -p "$BENCH_DIR"
OUT=$BENCH_DIR/out
LOG=$BENCH_DIR/log
mkdir -p "$OUT" "$LOG"
RESULTS=$BENCH_DIR/results.tsv
: >"$RESULTS"
PG_ROOT=""

cleanup() {
    local rc=$?
    if [ -n "$PG_ROOT" ]; then
        "$PY" "$ROOT/bench/cluster.py" stop "$PG_ROOT" || true
    fi
    if [ "${KEEP:-0}" != 1 ]; then
        rm -rf "$OUT"
        [ $rc -eq 0 ] && rm -rf "$BENCH_DIR"
    fi
    [ $rc -eq 0 ] || echo "bench failed (exit $rc); logs in $LOG" >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bench_start_cluster sluice-bench bench max_wal_size=8GB checkpoint_timeout=30min \
    maintenance_work_mem=256MB

echo "== generating data: pgbench scale $SCALE, bench_big ~${BIGTABLE_MB} MB"
t0=$(date +%s)
"$PGBIN/pgbench" -i -q -s "$SCALE" bench >"$LOG/pgbench.log" 2>&1
if [ "$BIGTABLE_MB" -gt 0 ]; then
    # About 512 bytes of heap per row; text and jsonb are hex digits, bytea random bytes: this
    # compresses about 2:1, unlike pgbench's blank filler.
    rows=$((BIGTABLE_MB * 1048576 / 512))
    "${PSQL[@]}" -o /dev/null <<SQL
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
FROM generate_series(1, $rows) i;
SQL
fi
"${PSQL[@]}" -c "VACUUM (FREEZE, ANALYZE)"
DB_SIZE=$("${PSQL[@]}" -At -c "SELECT pg_database_size('bench')")
echo "   $(( DB_SIZE / 1048576 )) MB in $(( $(date +%s) - t0 )) s"
TABLES=$("${PSQL[@]}" -At -c "SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables
                              ORDER BY pg_relation_size(relid) DESC")

# run NAME OUTPUT_PATH CMD...: times CMD, records wall seconds, output bytes and peak RSS.
run() {
    local name=$1 output=$2
    shift 2
    echo "== $name"
    echo "   $*"
    local start end rc=0 rss size
    start=$(date +%s.%N)
    "$TIME" -f '%M' -o "$LOG/$name.rss" "$@" >"$LOG/$name.out" 2>"$LOG/$name.err" || rc=$?
    end=$(date +%s.%N)
    rss=$(tail -n 1 "$LOG/$name.rss")
    size=0
    if [ -n "$output" ] && [ -e "$output" ]; then
        size=$(du -sb "$output" | cut -f1)
    fi
    if [ $rc -ne 0 ]; then
        echo "   FAILED (exit $rc):"
        grep -v '^Command exited' "$LOG/$name.err" | tail -n 5 | sed 's/^/     /'
        printf '%s\tFAILED\t%s\t%s\t%s\n' "$name" "$rc" 0 0 >>"$RESULTS"
        return 0
    fi
    printf '%s\tok\t%s\t%s\t%s\n' "$name" "$(awk "BEGIN { print $end - $start }")" "$size" \
        "$rss" >>"$RESULTS"
}

# The wire limit: COPY ... TO STDOUT of every table into /dev/null, JOBS at a time. With "split",
# each table is also cut into JOBS block ranges (the same freedom sluice has for one big table).
wire() {
    local mode=$1 t pages i lo hi
    for t in $TABLES; do
        if [ "$mode" = split ]; then
            pages=$("$PGBIN/psql" -X -At -c "SELECT greatest(relpages, 1) FROM pg_class
                                             WHERE oid = '$t'::regclass")
            for ((i = 0; i < JOBS; i++)); do
                lo=$((pages * i / JOBS))
                hi=$((pages * (i + 1) / JOBS))
                [ $i -eq $((JOBS - 1)) ] && hi=4294967295
                echo "COPY (SELECT * FROM $t WHERE ctid >= '($lo,0)' AND ctid < '($hi,0)') TO STDOUT"
            done
        else
            echo "COPY $t TO STDOUT"
        fi
    done | xargs -d '\n' -P "$JOBS" -I{} "$PGBIN/psql" -X -q -o /dev/null -c {}
}
export -f wire
export TABLES JOBS PGBIN

drop_db() { "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)"; }

wire whole >/dev/null  # warm the OS cache so that no tool pays for the first read
run "wire -P$JOBS (COPY per table)" "" bash -c "wire whole"
run "wire -P$JOBS (COPY, tables split)" "" bash -c "wire split"
run "sluice backup gzip -j$JOBS" "$OUT/b.sql.gz" \
    "$SLUICE" backup single bench -j "$JOBS" --compress gzip -o "$OUT/b.sql.gz"
run "sluice backup zstd -j$JOBS" "$OUT/b.sql.zst" \
    "$SLUICE" backup single bench -j "$JOBS" --compress zstd -o "$OUT/b.sql.zst"
run "pg_dump -Fd -j$JOBS" "$OUT/pgd" "$PGBIN/pg_dump" -Fd -j "$JOBS" -f "$OUT/pgd" bench
run "pg_dump -Fc" "$OUT/pgc.dump" "$PGBIN/pg_dump" -Fc -f "$OUT/pgc.dump" bench
rm -f "$OUT/pgc.dump" "$OUT/b.sql.zst"

BIG=$([ "$BIGTABLE_MB" -gt 0 ] && echo bench_big || echo pgbench_accounts)
run "sluice backup $BIG none -j1" "$OUT/big1.sql" \
    "$SLUICE" backup single bench -t "$BIG" -j 1 --compress none -o "$OUT/big1.sql"
rm -f "$OUT/big1.sql"
run "sluice backup $BIG none -j2" "$OUT/big2.sql" \
    "$SLUICE" backup single bench -t "$BIG" -j 2 --compress none -o "$OUT/big2.sql"
rm -f "$OUT/big2.sql"

# Both restores go into a database made beforehand, outside the timing (CREATE DATABASE copies
# the template and costs the same to both tools).
if [ -e "$OUT/b.sql.gz" ]; then
    "${PSQL[@]}" -d postgres -c "CREATE DATABASE restored_sluice"
    run "sluice restore -j$JOBS" "" \
        "$SLUICE" restore "$OUT/b.sql.gz" --database restored_sluice -j "$JOBS"
    drop_db restored_sluice
else
    printf '%s\tSKIPPED\t-\t0\t0\n' "sluice restore -j$JOBS" >>"$RESULTS"
fi
if [ -e "$OUT/pgd" ]; then
    "${PSQL[@]}" -d postgres -c "CREATE DATABASE restored_pg"
    run "pg_restore -j$JOBS" "" "$PGBIN/pg_restore" -j "$JOBS" -d restored_pg "$OUT/pgd"
    drop_db restored_pg
fi

echo
echo "PostgreSQL $("${PSQL[@]}" -At -c "SHOW server_version"), pgbench scale $SCALE," \
     "bench_big ${BIGTABLE_MB} MB, database $(( DB_SIZE / 1048576 )) MB, -j $JOBS," \
     "$(nproc) cores, $("$SLUICE" --version 2>/dev/null | head -n 1)"
"$PY" "$ROOT/bench/report.py" "$RESULTS" "$JOBS" "$BIG"
