#!/usr/bin/env bash
# The format check of STYLE.md that a script can make: C sources have lines of at most 100
# columns, no tabs and no trailing blanks. Prints each offending line; exits 1 if any.
set -uo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files 'src/*.c' 'src/*.h' 'include/*.h' 'tests/unit/*.c' 'tests/unit/*.h' \
        'tests/fuzz/*.c')
bad=0
# shellcheck disable=SC2086
awk 'length($0) > 100 { print FILENAME ":" FNR ": longer than 100 columns"; bad = 1 }
     /\t/            { print FILENAME ":" FNR ": tab"; bad = 1 }
     /[ ]+$/         { print FILENAME ":" FNR ": trailing blank"; bad = 1 }
     END { exit bad }' $files || bad=1
if [ "$bad" -ne 0 ]; then
    echo "style check failed"
    exit 1
fi
echo "style check: $(echo "$files" | wc -l) files pass"
