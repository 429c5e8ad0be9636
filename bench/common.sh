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
