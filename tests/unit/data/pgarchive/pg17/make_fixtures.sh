#!/usr/bin/env bash
# Makes the archives of this directory with pg_dump 17 (archive version 1.16, lz4 and zstd
# data), which Debian 12 does not package: Debian 13's postgresql-client-17 and the libraries
# it needs are downloaded with a private apt configuration (the system's is read, never
# changed), unpacked into a temporary directory, and pg_dump is run with Debian 13's own
# dynamic loader. The database is the "tiny" one of ../make_fixtures.py on a throwaway
# PostgreSQL 15 (pg_dump 17 dumps servers back to 9.2), plus a second large object; and
# lo_groups.dump, large objects with owners, privileges and a comment (database "lo").
# Run from the repository's root: tests/unit/data/pgarchive/pg17/make_fixtures.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../../../.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; [ -n "${PG_ROOT:-}" ] && /usr/bin/python3 "$ROOT/bench/cluster.py" stop "$PG_ROOT"' EXIT
mkdir -p "$WORK"/apt/{sources.list.d,state/lists/partial,cache/archives/partial}
echo "deb http://deb.debian.org/debian trixie main" >"$WORK/apt/sources.list"
APT=(-o "Dir::Etc::SourceList=$WORK/apt/sources.list" -o "Dir::Etc::SourceParts=$WORK/apt/sources.list.d"
     -o "Dir::State=$WORK/apt/state" -o "Dir::Cache=$WORK/apt/cache")
apt-get "${APT[@]}" -q update >/dev/null
(cd "$WORK" && apt-get "${APT[@]}" -q download postgresql-client-17 libpq5 libldap2 libssl3t64 \
    libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0 libsasl2-2 libzstd1 liblz4-1 \
    libc6 >/dev/null 2>&1)
for deb in "$WORK"/*.deb; do dpkg-deb -x "$deb" "$WORK/root"; done
LIBS=$WORK/root/usr/lib/x86_64-linux-gnu
pg_dump17() {
    "$LIBS/ld-linux-x86-64.so.2" --library-path "$LIBS" "$WORK/root/usr/lib/postgresql/17/bin/pg_dump" "$@"
}
pg_dump17 --version
eval "$(/usr/bin/python3 "$ROOT/bench/cluster.py" start fixtures17)"
export PGHOST PGPORT PGUSER PGPASSFILE
PSQL=(/usr/lib/postgresql/15/bin/psql -X -q -v ON_ERROR_STOP=1)
"${PSQL[@]}" -d postgres -c "CREATE DATABASE tiny"
"${PSQL[@]}" -d tiny <<'SQL'
CREATE TABLE public.t (id integer PRIMARY KEY, name text);
INSERT INTO public.t VALUES (1, 'one'), (2, 'two'), (3, 'three');
SELECT lo_from_bytea(424242, 'large object bytes');
SELECT lo_from_bytea(424243, 'another large object');
SQL
cd "$HERE"
rm -rf none.dump gzip.dump lz4.dump zstd.dump dir_lz4 dir_zstd
pg_dump17 -Fc -Z none -f none.dump tiny
pg_dump17 -Fc -Z gzip -f gzip.dump tiny
pg_dump17 -Fc -Z lz4 -f lz4.dump tiny
pg_dump17 -Fc -Z zstd -f zstd.dump tiny
pg_dump17 -Fd -Z lz4 -f dir_lz4 tiny
pg_dump17 -Fd -Z zstd -f dir_zstd tiny
# large objects in pg_dump 17's groups: owners, privileges and a comment per group or object
"${PSQL[@]}" -d postgres -c "CREATE DATABASE lo" -c 'CREATE ROLE "lo Owner"' -c "CREATE ROLE lo_reader"
"${PSQL[@]}" -d lo <<'SQL'
SELECT lo_from_bytea(1001, 'a'), lo_from_bytea(1002, 'b'), lo_from_bytea(1003, 'c');
ALTER LARGE OBJECT 1001 OWNER TO "lo Owner";
ALTER LARGE OBJECT 1002 OWNER TO "lo Owner";
GRANT SELECT ON LARGE OBJECT 1001 TO lo_reader;
GRANT SELECT ON LARGE OBJECT 1002 TO lo_reader;
COMMENT ON LARGE OBJECT 1003 IS 'third';
SQL
rm -f lo_groups.dump
pg_dump17 -Fc -f lo_groups.dump lo
