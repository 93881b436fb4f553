#!/usr/bin/env bash
# fake_hotpath.sh — stands in for the hotpath binary while it is being written, so the
# e2e scripts can be checked: `fake_hotpath.sh run [options] -- PROG ARGS` ignores the
# options and execs PROG ARGS directly. Every e2e case must PASS with it.
set -u

if [[ ${1:-} != run ]]; then
    echo "usage: $0 run [options] -- PROG [ARGS...]" >&2
    exit 2
fi
shift
while [[ $# -gt 0 && $1 != -- ]]; do
    shift  # hotpath options: meaningless here
done
if [[ $# -lt 2 ]]; then
    echo "usage: $0 run [options] -- PROG [ARGS...]" >&2
    exit 2
fi
shift
exec "$@"
