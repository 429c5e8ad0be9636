#!/usr/bin/env bash
# Builds sluice and runs every test: C unit tests and end-to-end tests against a throwaway
# PostgreSQL 15 that the tests start and stop themselves. Then the same again in a build with
# AddressSanitizer and UndefinedBehaviorSanitizer, and a short libFuzzer run of the statement
# splitter, the backup file reader and the redactor (FUZZ_SECONDS each, default 20). Run
# scripts/install-deps.sh once first.
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

echo "== build and test (RelWithDebInfo)"
run_suite build -DCMAKE_BUILD_TYPE=RelWithDebInfo

if [ "${1:-}" != "--fast" ]; then
    echo "== build and test under AddressSanitizer + UndefinedBehaviorSanitizer"
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DSL_ASAN=ON -DSL_UBSAN=ON

    echo "== libFuzzer smoke run of the statement splitter, the backup file reader, the redactor"
    CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DSL_FUZZ=ON -DSL_ASAN=ON \
        -DSL_UBSAN=ON >/dev/null
    cmake --build build-fuzz -j "$jobs" --target fuzz_splitter fuzz_bfile fuzz_redact
    for target in fuzz_splitter fuzz_bfile fuzz_redact; do
        corpus=$(mktemp -d)
        build-fuzz/$target -max_total_time="${FUZZ_SECONDS:-20}" "$corpus" 2>&1 | tail -n 1
        rm -rf "$corpus"
    done
fi
