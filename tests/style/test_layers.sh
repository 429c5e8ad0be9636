#!/usr/bin/env bash
# The layer check of scripts/style.sh rejects what DESIGN.md forbids. Each case copies the tree
# to a temporary directory, adds one #include to one file and expects the check to fail naming
# that file and the reason; the unchanged copy must pass, so a check that always fails (or
# never reads the lines) is caught too.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

copy_tree() {
    rm -rf "$tmp/tree"
    mkdir -p "$tmp/tree/tests"
    cp -R "$root/src" "$tmp/tree/src"
    cp -R "$root/tests/unit" "$root/tests/fuzz" "$tmp/tree/tests/"
}

copy_tree
if ! out=$("$root/scripts/style.sh" "$tmp/tree" 2>&1); then
    echo "FAIL: the unchanged tree is rejected:"; echo "$out"; fail=1
fi

# file to change | line added | what the message must say
cases=(
    'src/io/codec.c|#include "pg/conn.h"|layer io/ includes the higher layer pg/'
    'src/base/buf.c|#include "io/sink.h"|layer base/ includes the higher layer io/'
    'src/pg/copy.c|#include "dump/item.h"|layer pg/ includes the higher layer dump/'
    'src/pg/conn.h|  #  include "cli/common.h"|layer pg/ includes the higher layer cli/'
    'src/dump/item.c|#include "restore/statement.h"|engine dump/ includes the engine restore/'
    'src/restore/target.h|#include "dump/catalog.h"|engine restore/ includes the engine dump/'
    'src/dump/item.c|#include "nowhere/x.h"|unknown layer nowhere/'
    'src/pg/proto.c|#include "sluice/proxy.h"|layer pg/ includes the public API sluice/'
)
for c in "${cases[@]}"; do
    IFS='|' read -r file line want <<<"$c"
    copy_tree
    printf '%s\n' "$line" >>"$tmp/tree/$file"
    if out=$("$root/scripts/style.sh" "$tmp/tree" 2>&1); then
        echo "FAIL: accepted $file with: $line"; fail=1
    elif ! grep -qF "$file:" <<<"$out" || ! grep -qF "$want" <<<"$out"; then
        echo "FAIL: $file with $line: expected \"$want\", got:"; echo "$out"; fail=1
    fi
done

# A new folder under src/ must be given a layer before it is accepted.
copy_tree
mkdir "$tmp/tree/src/misc"
printf '#include "base/buf.h"\n' >"$tmp/tree/src/misc/x.c"
if "$root/scripts/style.sh" "$tmp/tree" >/dev/null 2>&1; then
    echo "FAIL: accepted src/misc/ without a layer"; fail=1
fi

# Lower and same layers stay allowed.
copy_tree
printf '#include "io/sink.h"\n#include "base/buf.h"\n' >>"$tmp/tree/src/pg/copy.c"
printf '#include "pg/conn.h"\n#include "dump/item.h"\n' >>"$tmp/tree/src/dump/sort.c"
printf '#include "dump/item.h"\n#include "restore/target.h"\n' >>"$tmp/tree/src/cli/common.c"
if ! out=$("$root/scripts/style.sh" "$tmp/tree" 2>&1); then
    echo "FAIL: a downward include is rejected:"; echo "$out"; fail=1
fi

[ "$fail" -eq 0 ] && echo "layer check: all cases pass"
exit "$fail"
