#!/usr/bin/env bash
# scripts/quickstart.sh: sluice in two minutes, on a fresh Debian 12 after scripts/install-deps.sh.
# Builds sluice, starts a throwaway local PostgreSQL 15 with sample data, then shows
# status -> backup -> verify -> restore and checks that the copy has the same rows. The cluster
# and the files are removed at the end, also when a step fails. Every command is printed first
# (lines starting with "$"), so you can run them yourself on your own database.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGBIN=${SLUICE_PG_BINDIR:-/usr/lib/postgresql/15/bin}
WORK=$(mktemp -d /tmp/sluice-quickstart.XXXXXX)
PG_ROOT=""

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() {  # prints a command, then runs it
    printf '$ %s\n' "$*"
    "$@"
}

cleanup() {
    local rc=$?
    if [ -n "$PG_ROOT" ]; then
        /usr/bin/python3 "$ROOT/bench/cluster.py" stop "$PG_ROOT" || true
    fi
    rm -rf "$WORK"
    if [ $rc -eq 0 ]; then
        say "done: the throwaway cluster and the backup are removed"
    else
        echo "quickstart failed (exit $rc); the throwaway cluster is removed" >&2
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "build sluice"
show cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=Release
show make -C "$ROOT/build" -j2 sluice
SLUICE=$ROOT/build/sluice

say "start a throwaway PostgreSQL 15 (initdb in a temp dir, a free port on 127.0.0.1)"
eval "$(/usr/bin/python3 "$ROOT/bench/cluster.py" start sluice-quickstart)"
# sluice takes its connection like psql: flags, a postgres:// URL, or these PG* variables and
# the password from the .pgpass file.
export PGHOST PGPORT PGUSER PGPASSFILE
echo "export PGHOST=$PGHOST PGPORT=$PGPORT PGUSER=$PGUSER PGPASSFILE=$PGPASSFILE"

say "sample data: a small pgbench database plus a few varied tables"
PSQL=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1)
show "${PSQL[@]}" -d postgres -c "CREATE DATABASE demo"
show "$PGBIN/pgbench" -i -q -s 2 demo
show "${PSQL[@]}" -d demo -f - <<'SQL'
CREATE SCHEMA shop;
CREATE TYPE shop.status AS ENUM ('new', 'paid', 'shipped');
CREATE TABLE shop.customers (
    id      int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name    text NOT NULL,
    email   text UNIQUE,
    profile jsonb,
    joined  timestamptz DEFAULT now()
);
CREATE TABLE shop.orders (
    id       bigserial PRIMARY KEY,
    customer int NOT NULL REFERENCES shop.customers,
    status   shop.status NOT NULL DEFAULT 'new',
    items    text[],
    total    numeric(10, 2) CHECK (total >= 0),
    note     text
);
INSERT INTO shop.customers (name, email, profile)
SELECT 'customer ' || i, CASE WHEN i % 10 = 0 THEN NULL ELSE 'c' || i || '@example.org' END,
       jsonb_build_object('tier', i % 3, 'tags', jsonb_build_array('a', i))
FROM generate_series(1, 1000) i;
INSERT INTO shop.orders (customer, status, items, total, note)
SELECT 1 + i % 1000, (ARRAY['new', 'paid', 'shipped'])[1 + i % 3]::shop.status,
       ARRAY['item ' || i, 'item ' || i + 1], i * 0.37,
       CASE WHEN i % 7 = 0 THEN E'gift\twrap, "fragile"\nÜnïcødé ✓' END
FROM generate_series(1, 20000) i;
CREATE INDEX orders_customer ON shop.orders (customer);
CREATE VIEW shop.open_orders AS SELECT * FROM shop.orders WHERE status <> 'shipped';
CREATE MATERIALIZED VIEW shop.revenue AS
    SELECT status, sum(total) AS total FROM shop.orders GROUP BY status;
SQL

say "what sluice sees on the server"
show "$SLUICE" status

say "back up the database: 2 workers, gzip (the default for .sql.gz)"
show "$SLUICE" backup single demo -j 2 -o "$WORK/demo.sql.gz"
show ls -l "$WORK/demo.sql.gz"

say "check the file without a server: checksums, index, tables and row counts"
show "$SLUICE" verify "$WORK/demo.sql.gz"

say "it is plain SQL inside: any psql can restore it (gunzip -c FILE | psql -d DB)"
printf '$ gunzip -c %s | head -n 12\n' "$WORK/demo.sql.gz"
gunzip -c "$WORK/demo.sql.gz" | head -n 12 || true

say "restore into a new database, 2 workers"
show "$SLUICE" restore "$WORK/demo.sql.gz" --database demo_copy --create -j 2

say "row counts: source and copy"
COUNT_SQL="SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables ORDER BY 1"
mismatch=0
printf '%-28s %10s %10s\n' table demo demo_copy
for t in $("${PSQL[@]}" -d demo -At -c "$COUNT_SQL"); do
    a=$("${PSQL[@]}" -d demo -At -c "SELECT count(*) FROM $t")
    b=$("${PSQL[@]}" -d demo_copy -At -c "SELECT count(*) FROM $t" 2>/dev/null || echo missing)
    printf '%-28s %10s %10s\n' "$t" "$a" "$b"
    [ "$a" = "$b" ] || mismatch=1
done
if [ $mismatch -ne 0 ]; then
    echo "the copy differs from the source" >&2
    exit 1
fi
echo "source and copy hold the same rows"

say "the whole server in one archive: roles, tablespaces, every database (2 at a time)"
show "$SLUICE" backup cluster -o "$WORK/server.tar" --dump-jobs 2
say "what the archive holds (its manifest), then every checksum and row count checked"
show "$SLUICE" list "$WORK/server.tar"
show "$SLUICE" verify -q "$WORK/server.tar"
echo "the archive is sound"
