# bench/common.sh: sourced by the bench scripts. Checks the tools a bench needs and settles the
# sluice binary to measure: $SLUICE when given, else the current tree built as a Release in
# build-release/ (never the test build in build/).
#   bench_setup TOOL...   (after ROOT is set)
PGBIN=${SLUICE_PG_BINDIR:-/usr/lib/postgresql/15/bin}
PY=/usr/bin/python3
TIME=/usr/bin/time

bench_setup() {
    local tool
    for tool in "$TIME" "$PY" "$@"; do
        [ -x "$tool" ] || { echo "missing $tool: run scripts/install-deps.sh" >&2; exit 2; }
    done
    if [ -z "${SLUICE:-}" ]; then
        SLUICE=$ROOT/build-release/sluice
        echo "== building sluice (Release) in $ROOT/build-release"
        cmake -S "$ROOT" -B "$ROOT/build-release" -DCMAKE_BUILD_TYPE=Release >/dev/null
        make -C "$ROOT/build-release" -j2 sluice >/dev/null
    fi
    [ -x "$SLUICE" ] || { echo "no sluice binary at $SLUICE" >&2; exit 2; }
}

# Starts the bench's throwaway cluster (settings as key=value) and creates database DB in it;
# sets PG_ROOT (for bench/cluster.py stop), exports PG* for the clients, defines PSQL.
#   bench_start_cluster NAME DB [key=value ...]
bench_start_cluster() {
    local name=$1 db=$2
    shift 2
    echo "== starting a throwaway PostgreSQL 15"
    eval "$("$PY" "$ROOT/bench/cluster.py" start "$name" "$@")"
    export PGHOST PGPORT PGUSER PGPASSFILE
    export PGDATABASE=$db
    PSQL=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1)
    "${PSQL[@]}" -d postgres -c "CREATE DATABASE $db"
}
