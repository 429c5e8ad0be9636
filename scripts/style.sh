#!/usr/bin/env bash
# The checks of STYLE.md and DESIGN.md that a script can make:
#   - format: C sources have lines of at most 100 columns, no tabs and no trailing blanks;
#   - layers: cli > engines (dump/, restore/, tap/, proxy/, mydump/, myrestore/) > clients (pg/,
#     mysql/) > io/ > base/. A file under src/L/ may include "M/..." only when M is L or a lower
#     layer, an engine never includes another engine and a client never includes the other; "sluice/..." (the public headers under include/) may be included by an
#     engine that implements it (or cli/), never by a lower layer. Only #include "x/..." lines are read; a
#     folder not in the list is an error so that a new folder is given its place here.
# Prints each offending line; exits 1 if any.
#   scripts/style.sh          checks the files git tracks in this checkout
#   scripts/style.sh DIR      checks every C file under DIR (a copy of the tree, for its test)
set -uo pipefail
if [ $# -ge 1 ]; then
    cd "$1" || exit 2
    files=$(find src include tests/unit tests/fuzz tests/drivers \( -name '*.c' -o -name '*.h' \) \
            2>/dev/null | sort)
else
    cd "$(dirname "$0")/.."
    files=$(git ls-files 'src/*.c' 'src/*.h' 'include/*.h' 'tests/unit/*.c' 'tests/unit/*.h' \
            'tests/fuzz/*.c' 'tests/drivers/*.c')
fi
bad=0
# shellcheck disable=SC2086
awk 'length($0) > 100 { print FILENAME ":" FNR ": longer than 100 columns"; bad = 1 }
     /\t/            { print FILENAME ":" FNR ": tab"; bad = 1 }
     /[ ]+$/         { print FILENAME ":" FNR ": trailing blank"; bad = 1 }
     END { exit bad }' $files || bad=1

# shellcheck disable=SC2086
awk 'BEGIN {
         rank["base"] = 0; rank["io"] = 1; rank["pg"] = 2; rank["mysql"] = 2
         rank["dump"] = 3; rank["restore"] = 3; rank["tap"] = 3; rank["proxy"] = 3
         rank["mydump"] = 3; rank["myrestore"] = 3
         rank["cli"] = 4
     }
     FNR == 1 { split(FILENAME, p, "/"); layer = (p[1] == "src") ? p[2] : "" }
     layer != "" && !(layer in rank) && FNR == 1 {
         print FILENAME ": folder src/" layer "/ has no layer in scripts/style.sh"; bad = 1
     }
     layer != "" && /^[ ]*#[ ]*include[ ]*"[a-z_]+\// {
         inc = $0; sub(/^[^"]*"/, "", inc); sub(/\/.*/, "", inc)
         if (inc == "sluice" && rank[layer] >= 3)  # the public API (include/sluice/)
             next
         if (inc == "sluice")
             why = "layer " layer "/ includes the public API sluice/ (an engine implements it)"
         else if (!(inc in rank))
             why = "unknown layer " inc "/"
         else if (rank[inc] > rank[layer])
             why = "layer " layer "/ includes the higher layer " inc "/"
         else if (rank[inc] == 3 && rank[layer] == 3 && inc != layer)
             why = "engine " layer "/ includes the engine " inc "/"
         else if (rank[inc] == 2 && rank[layer] == 2 && inc != layer)
             why = "client " layer "/ includes the client " inc "/"
         else
             next
         print FILENAME ":" FNR ": " why; bad = 1
     }
     END { exit bad }' $(echo "$files" | grep '^src/') || bad=1

if [ "$bad" -ne 0 ]; then
    echo "style check failed"
    exit 1
fi
echo "style check: $(echo "$files" | wc -l) files pass"
