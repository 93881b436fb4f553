#!/usr/bin/env bash
# run.sh — builds our benchmark programs and runs the suite (benchmarks/suite.txt) with
# `hotpath bench --suite`, which makes the inputs, runs every entry natively and under each
# variant, interleaved, checks every run's stdout and exit status against native, and
# prints one table: native seconds, then per variant the ratio to native with its spread,
# and the geometric mean per variant. `make bench` and `make bench-peers` call this.
#
# usage: benchmarks/run.sh HOTPATH_BIN OUTDIR [-n RUNS] [--opt-levels "O0,O1,O2"]
#            [--filter REGEX] [--variants LIST] [--variant SPEC] [--peers]
#            [--variant-args "ARGS"] [--timeout SEC] [--warmup N] [--list]
#
#   HOTPATH_BIN     the hotpath command (runs the suite and is the tool measured)
#   OUTDIR          where everything goes: bin/ (our programs, built with gcc/g++ at
#                   -O0, -O1 and -O2), data/ (generated inputs, made once),
#                   results.json (every run), summary.txt (the table), chart.svg
#   -n RUNS         timed runs per variant (default 5), after one untimed warm-up round
#   --opt-levels L  which builds of our programs to run (default O2; "O0,O1,O2" or
#                   "O0 O1 O2"); Debian programs run once whatever the levels
#   --filter REGEX  run only benchmarks whose name (e.g. nbody.O2, bzip2) matches REGEX
#   --variants LIST the columns (default blocks,traces,opt: hotpath --no-traces, --no-opt,
#                   everything on); see `hotpath bench --help` for NAME=OPTIONS and
#                   NAME:COMMAND variants. --variant SPEC adds one (may hold commas).
#   --peers         the peer tools instead: hotpath (everything on), valgrind --tool=none,
#                   qemu-x86_64, and DynamoRIO's drrun when DYNAMORIO_HOME is set (the
#                   tools must be installed: `make bench-peers` does that)
#   --variant-args  hotpath run options added to every hotpath variant (e.g. --no-link)
#   --timeout SEC   kill a run after SEC seconds (default 300); it counts as a MISMATCH
#   --warmup N      untimed rounds before the timed ones (default 1)
#   --list          print the selected benchmarks and their commands, run nothing
#
# Times are wall-clock from fork to the program reaped, measured by hotpath bench. A
# benchmark with a MISMATCH in a variant shows MISMATCH there instead of a ratio and is
# left out of that variant's geometric mean.
# Environment: CC (gcc), CXX (g++), BENCH_CFLAGS (extra compiler flags; default none).
# Exit status: 0 all runs matched, 1 a MISMATCH or a benchmark that fails natively,
# 2 usage or setup error.
set -u -o pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() { sed -n '2,/^set -u/{/^set -u/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&$(( ${1:-2} ? 2 : 1 )); exit "${1:-2}"; }
die() { echo "run.sh: $*" >&2; exit 2; }
need() { [ $# -ge 2 ] || die "option $1 needs a value"; }

runs=5 opt_levels=O2 filter='' hp_args='' timeout_s=300 warmup=1 list=0 peers=0
variants=blocks,traces,opt
extra=()     # --variant SPEC, passed on as they are
pos=()
while [ $# -gt 0 ]; do
    case $1 in
    -n|--runs)      need "$@"; runs=$2; shift 2 ;;
    --opt-levels)   need "$@"; opt_levels=$2; shift 2 ;;
    --filter)       need "$@"; filter=$2; shift 2 ;;
    --variants)     need "$@"; variants=$2; shift 2 ;;
    --variant)      need "$@"; extra+=(--variant "$2"); shift 2 ;;
    --variant-args) need "$@"; hp_args=$2; shift 2 ;;
    --timeout)      need "$@"; timeout_s=$2; shift 2 ;;
    --warmup)       need "$@"; warmup=$2; shift 2 ;;
    --peers)        peers=1; shift ;;
    --list)         list=1; shift ;;
    -h|--help)      usage 0 ;;
    --)             shift; pos+=("$@"); break ;;
    -*)             echo "run.sh: unknown option $1" >&2; usage 2 ;;
    *)              pos+=("$1"); shift ;;
    esac
done
[ ${#pos[@]} -eq 2 ] || usage 2

hotpath=${pos[0]}
case $hotpath in
*/*) [ -x "$hotpath" ] || die "HOTPATH_BIN $hotpath is not executable"
     hotpath=$(cd "$(dirname "$hotpath")" && pwd)/$(basename "$hotpath") ;;
*)   hotpath=$(command -v "$hotpath") || die "HOTPATH_BIN ${pos[0]} not found" ;;
esac
mkdir -p "${pos[1]}" || die "cannot create OUTDIR ${pos[1]}"
outdir=$(cd "${pos[1]}" && pwd)
bin=$outdir/bin data=$outdir/data

if [ $peers = 1 ]; then
    command -v valgrind >/dev/null || die "valgrind not found (make bench-peers installs it)"
    command -v qemu-x86_64 >/dev/null || die "qemu-x86_64 not found (package qemu-user; make bench-peers installs it)"
    variants="hotpath=,valgrind:valgrind --tool=none -q,qemu:qemu-x86_64"
    if [ -n "${DYNAMORIO_HOME:-}" ]; then
        [ -x "$DYNAMORIO_HOME/bin64/drrun" ] || die "DYNAMORIO_HOME is set but $DYNAMORIO_HOME/bin64/drrun is not there"
        extra+=(--variant "dynamorio:$(printf %q "$DYNAMORIO_HOME/bin64/drrun") --")
    fi
fi

bench=("$hotpath" bench --suite "$here/suite.txt" --bin "$bin" --data "$data"
       --opt-levels "$opt_levels" -n "$runs" --warmup "$warmup" --timeout "$timeout_s"
       --variants "$variants" "${extra[@]}")
[ -n "$filter" ] && bench+=(--filter "$filter")
[ -n "$hp_args" ] && bench+=(--hotpath-args "$hp_args")
if [ $list = 1 ]; then exec "${bench[@]}" --list; fi
# Check the arguments (levels, filter, variants) before building anything.
"${bench[@]}" --list >/dev/null || exit 2

# ---- build our programs (all of O0 O1 O2 plus any other level asked for) ----
build_levels="O0 O1 O2"
for lvl in ${opt_levels//,/ }; do [[ " $build_levels " == *" $lvl "* ]] || build_levels+=" $lvl"; done
cc=${CC:-gcc} cxx=${CXX:-g++} cflags=${BENCH_CFLAGS:-}
mkdir -p "$bin" "$data" || die "cannot create directories in $outdir"
buildinfo="cc=$cc cxx=$cxx flags=$cflags"
[ "$(cat "$bin/.buildinfo" 2>/dev/null)" = "$buildinfo" ] || rm -f "$bin"/*.O*
echo "$buildinfo" >"$bin/.buildinfo"
nbuilt=0
for src in "$here"/src/*.c "$here"/src/*.cc; do
    [ -e "$src" ] || continue
    prog=$(basename "$src"); prog=${prog%.*}
    case $src in *.cc) compiler=$cxx ;; *) compiler=$cc ;; esac
    for lvl in $build_levels; do
        exe=$bin/$prog.$lvl
        if [ ! -x "$exe" ] || [ "$src" -nt "$exe" ]; then
            # shellcheck disable=SC2086  # CC/CXX/BENCH_CFLAGS may hold several words
            $compiler -$lvl $cflags -o "$exe" "$src" -lm || die "build of $exe failed"
            nbuilt=$((nbuilt + 1))
        fi
    done
done
[ $nbuilt -gt 0 ] && echo "built $nbuilt programs into $bin"

# ---- run ----
echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC')  $(uname -srm)  $(nproc) cpus  $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
echo "# $(printf '%q ' "${bench[@]}")"
exec "${bench[@]}" --json "$outdir/results.json" --summary "$outdir/summary.txt" --svg "$outdir/chart.svg"
