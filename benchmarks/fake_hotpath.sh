#!/usr/bin/env bash
# fake_hotpath.sh — a stand-in for the hotpath binary, to test benchmarks/run.sh before
# the real one exists: `fake_hotpath.sh run [OPTIONS] -- PROG ARGS...` ignores OPTIONS and
# execs PROG ARGS directly, so every ratio in the report should come out ~1.0 (the extra
# cost is one bash start, a few milliseconds).
usage() { echo "usage: $0 run [OPTIONS] -- PROG [ARGS...]" >&2; exit 2; }
[ "${1:-}" = run ] || usage
shift
while [ $# -gt 0 ] && [ "$1" != -- ]; do shift; done
[ $# -ge 2 ] || usage
shift
exec "$@"
