#!/bin/sh
# bench/proxy.sh: the issue's name for the proxy bench; bench/proxy.py is the bench (its
# docstring says what it runs and its knobs: SECONDS, ROUNDS, WARMUP, SCALE, PROFILE...).
exec /usr/bin/python3 "$(dirname "$0")/proxy.py" "$@"
