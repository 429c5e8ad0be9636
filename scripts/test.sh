#!/usr/bin/env bash
# Builds sluice and runs every test: C unit tests and end-to-end tests against a throwaway
# PostgreSQL 15 that the tests start and stop themselves. Then the same again in a build with
# AddressSanitizer and UndefinedBehaviorSanitizer, and a short libFuzzer run of every parser
# that takes a file's or a server's bytes (FUZZ_SECONDS each for the main ones, default 15),
# starting from the seeds in tests/fuzz/seeds and with memory limits that are part of what
# is checked. Run scripts/install-deps.sh once first.
#   scripts/test.sh            both builds
#   scripts/test.sh --fast     the normal build only
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

run_suite() {
    local dir=$1; shift
    cmake -S . -B "$dir" "$@" >/dev/null
    cmake --build "$dir" -j "$jobs"
    # Unit tests and the end-to-end suite; --output-on-failure shows what broke.
    (cd "$dir" && ctest --output-on-failure --timeout 1800)
}

echo "== style check"
scripts/style.sh

# PostgreSQL 15's regression database, which the end-to-end tests round-trip: built once into
# the cache (a few minutes; later runs find it there), before the suites and not inside one.
echo "== regression database fixture"
/usr/bin/python3 tests/e2e/regressdb.py

echo "== build and test (RelWithDebInfo)"
run_suite build -DCMAKE_BUILD_TYPE=RelWithDebInfo

if [ "${1:-}" != "--fast" ]; then
    echo "== build and test under AddressSanitizer + UndefinedBehaviorSanitizer"
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DSL_ASAN=ON -DSL_UBSAN=ON

    echo "== libFuzzer smoke run of every parser of a file's or a server's bytes"
    # target:seconds. The splitter (SQL scripts), the backup file (reader, streams, verify),
    # its index (framing, JSON, entries), the JSON tokenizer, the decompressors, verify's row
    # count against the writer and the row counter (pg/copyscan) alone, the two COPY text
    # functions that handle a server's values, the decoder of COPY rows (pg/copytext), the
    # redactor that keeps passwords out of messages, the statement lexer of
    # --no-owner/--no-privileges/COPY FREEZE, the tar reader of cluster archives, the reader
    # of pg_dump's custom archives, the JSON writer (base/jsonw), the RECORD values of
    # sluice tap (tap/value), the pgoutput and wal2json message decoders (pg/pgoutput,
    # tap/wal2json), the wire codec the proxy frames every message with (pg/proto) and its
    # framing of each direction (proxy/framer), the proxy's analysis of SQL text and cache
    # hints (proxy/sql, proxy/hint).
    fuzz_secs=${FUZZ_SECONDS:-15}
    targets="fuzz_splitter:$fuzz_secs fuzz_bfile:$fuzz_secs fuzz_bfile_index:$fuzz_secs
             fuzz_json_reader:$fuzz_secs fuzz_codec:$fuzz_secs fuzz_verify:$fuzz_secs
             fuzz_copytext:5 fuzz_copyrow:5 fuzz_widerow:5 fuzz_redact:10 fuzz_statement:10
             fuzz_copyscan:5 fuzz_tar:5 fuzz_tarstream:5 fuzz_pgarchive:$fuzz_secs
             fuzz_jsonw:5 fuzz_tapvalue:5 fuzz_pgoutput:5 fuzz_wal2json:10 fuzz_proto:10
             fuzz_framer:10 fuzz_proxysql:10 fuzz_myscript:10"
    names=()
    for spec in $targets; do
        names+=("${spec%%:*}")
    done
    CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DSL_FUZZ=ON -DSL_ASAN=ON \
        -DSL_UBSAN=ON >/dev/null
    cmake --build build-fuzz -j "$jobs" --target "${names[@]}"
    # Memory is part of what is fuzzed: no single allocation over 64 MB (a zstd frame asking for
    # a large window, an index or a statement sized by the input) and no run over 512 MB (with
    # ASan's quarantine held to 16 MB so that the limit measures the code, not the sanitizer).
    # A failing input is kept as build-fuzz/crash-* (or leak-, oom-, timeout-).
    export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:quarantine_size_mb=16
    for spec in $targets; do
        target=${spec%%:*}
        corpus=$(mktemp -d)
        log=$(mktemp)
        if [ -d "tests/fuzz/seeds/$target" ]; then
            cp tests/fuzz/seeds/"$target"/* "$corpus"/
        fi
        dict=()
        if [ -f "tests/fuzz/$target.dict" ]; then
            dict=(-dict="tests/fuzz/$target.dict")
        fi
        echo "-- $target (${spec##*:} s)"
        if ! build-fuzz/"$target" -max_total_time="${spec##*:}" -rss_limit_mb=512 \
                -malloc_limit_mb=64 -artifact_prefix=build-fuzz/ "${dict[@]}" "$corpus" \
                >"$log" 2>&1; then
            tail -n 40 "$log"
            echo "$target failed"
            exit 1
        fi
        tail -n 1 "$log"
        rm -rf "$corpus" "$log"
    done
fi
