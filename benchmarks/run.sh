#!/usr/bin/env bash
# run.sh — builds and runs the hotpath benchmark suite (benchmarks/suite.txt).
#
# usage: benchmarks/run.sh HOTPATH_BIN OUTDIR [-n RUNS] [--opt-levels "O0 O1 O2"]
#            [--filter REGEX] [--variant-args "ARGS"] [--timeout SEC] [--list]
#
#   HOTPATH_BIN     the hotpath command (or benchmarks/fake_hotpath.sh, which just execs)
#   OUTDIR          where everything goes: bin/ (our programs, built with gcc/g++ at
#                   -O0, -O1 and -O2), data/ (generated inputs, made once), logs/ (the
#                   stdout/stderr of mismatching runs), results.tsv, summary.txt
#   -n RUNS         timed runs per mode (default 5), after one untimed warm-up of each
#   --opt-levels L  which builds of our programs to run (default "O2"); Debian programs
#                   run once whatever the levels
#   --filter REGEX  run only benchmarks whose name (e.g. nbody.O2, bzip2) matches REGEX
#   --variant-args  words put after `HOTPATH_BIN run` and before `--` (e.g. --no-link)
#   --timeout SEC   kill a run after SEC seconds (default 300); it counts as a MISMATCH
#   --list          print the selected benchmarks and their commands, run nothing
#
# For each benchmark: native warm-up, hotpath warm-up, then RUNS pairs (native, hotpath)
# interleaved so that drift of the machine hits both alike. Every run's stdout and exit
# status are compared with the native warm-up's; a difference is printed as MISMATCH
# (with the first lines of stdout/stderr; both kept in OUTDIR/logs) and makes the exit
# status 1. Times are wall-clock (bash's EPOCHREALTIME around the run, which includes the
# fork/exec of a subshell: the same few hundred microseconds in both modes).
# The table gives medians, the ratio of medians (hotpath/native; < 1 is a speedup) and
# the smallest/largest ratio of the interleaved pairs; the geometric mean of the ratios
# is over benchmarks without a MISMATCH. Statistics are done in awk (no python needed).
#
# results.tsv columns: benchmark opt mode run seconds exit status variant
#   (run 0 is the warm-up; status is ok, MISMATCH, or FAIL for a native warm-up that
#   exited non-zero: that benchmark is then skipped)
# Environment: CC (gcc), CXX (g++), BENCH_CFLAGS (extra compiler flags; default none).
# Exit status: 0 all runs matched, 1 a MISMATCH or a benchmark that fails natively,
# 2 usage or setup error.
set -u -o pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() { sed -n '2,/^set -u/{/^set -u/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&$(( ${1:-2} ? 2 : 1 )); exit "${1:-2}"; }
die() { echo "run.sh: $*" >&2; exit 2; }
need() { [ $# -ge 2 ] || die "option $1 needs a value"; }

runs=5 opt_levels=O2 filter='' variant='' timeout_s=300 list=0
pos=()
while [ $# -gt 0 ]; do
    case $1 in
    -n|--runs)      need "$@"; runs=$2; shift 2 ;;
    --opt-levels)   need "$@"; opt_levels=$2; shift 2 ;;
    --filter)       need "$@"; filter=$2; shift 2 ;;
    --variant-args) need "$@"; variant=$2; shift 2 ;;
    --timeout)      need "$@"; timeout_s=$2; shift 2 ;;
    --list)         list=1; shift ;;
    -h|--help)      usage 0 ;;
    --)             shift; pos+=("$@"); break ;;
    -*)             echo "run.sh: unknown option $1" >&2; usage 2 ;;
    *)              pos+=("$1"); shift ;;
    esac
done
[ ${#pos[@]} -eq 2 ] || usage 2
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"
[[ $timeout_s =~ ^[1-9][0-9]*$ ]] || die "--timeout must be a positive integer"
for lvl in $opt_levels; do
    [[ $lvl =~ ^O[0-3sg]$ ]] || die "bad optimisation level '$lvl' (want O0, O1, O2, ...)"
done

hotpath=${pos[0]}
case $hotpath in
*/*) [ -x "$hotpath" ] || die "HOTPATH_BIN $hotpath is not executable"
     hotpath=$(cd "$(dirname "$hotpath")" && pwd)/$(basename "$hotpath") ;;
*)   hotpath=$(command -v "$hotpath") || die "HOTPATH_BIN ${pos[0]} not found" ;;
esac
mkdir -p "${pos[1]}" || die "cannot create OUTDIR ${pos[1]}"
outdir=$(cd "${pos[1]}" && pwd)
bin=$outdir/bin data=$outdir/data logs=$outdir/logs
results=$outdir/results.tsv summary=$outdir/summary.txt
suite=$here/suite.txt
[ -r "$suite" ] || die "cannot read $suite"

# ---- read the suite: own entries expanded per level; gen entries kept by name ----
names=() kinds=() cmds=()    # the selected benchmarks
declare -A gens=()           # NAME -> generator command
q_bin=$(printf %q "$bin") q_data=$(printf %q "$data") q_src=$(printf %q "$here")
subst() { # subst CMD OPT -> the command with placeholders filled in
    local c=$1
    c=${c//'{bin}'/"$q_bin"}; c=${c//'{data}'/"$q_data"}
    c=${c//'{src}'/"$q_src"}; c=${c//'{opt}'/"$2"}
    printf '%s' "$c"
}
lineno=0
while IFS= read -r line || [ -n "$line" ]; do
    lineno=$((lineno + 1))
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    read -r name kind cmd <<<"$line"
    [ -n "$cmd" ] || die "$suite:$lineno: want NAME KIND COMMAND..."
    case $kind in
    own)
        for lvl in $opt_levels; do
            if [ -z "$filter" ] || [[ $name.$lvl =~ $filter ]]; then
                names+=("$name.$lvl") kinds+=(own) cmds+=("$(subst "$cmd" "$lvl")")
            fi
        done ;;
    debian)
        if [ -z "$filter" ] || [[ $name =~ $filter ]]; then
            names+=("$name") kinds+=(debian) cmds+=("$(subst "$cmd" -)")
        fi ;;
    gen) gens[$name]=$(subst "$cmd" -) ;;
    *) die "$suite:$lineno: unknown kind '$kind' (want own, debian or gen)" ;;
    esac
done <"$suite"
[ ${#names[@]} -gt 0 ] || die "no benchmark selected (filter '$filter')"

if [ $list = 1 ]; then
    for i in "${!names[@]}"; do printf '%-16s %-7s %s\n' "${names[i]}" "${kinds[i]}" "${cmds[i]}"; done
    exit 0
fi

# ---- build our programs (all of O0 O1 O2 plus any other level asked for) ----
build_levels="O0 O1 O2"
for lvl in $opt_levels; do [[ " $build_levels " == *" $lvl "* ]] || build_levels+=" $lvl"; done
cc=${CC:-gcc} cxx=${CXX:-g++} extra=${BENCH_CFLAGS:-}
mkdir -p "$bin" "$data" "$logs" || die "cannot create directories in $outdir"
rm -f "$logs"/*.out "$logs"/*.err   # logs of an earlier invocation would mislead
buildinfo="cc=$cc cxx=$cxx flags=$extra"
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
            $compiler -$lvl $extra -o "$exe" "$src" -lm || die "build of $exe failed"
            nbuilt=$((nbuilt + 1))
        fi
    done
done
[ $nbuilt -gt 0 ] && echo "built $nbuilt programs into $bin"

# ---- generate inputs (once) for the selected benchmarks ----
for i in "${!names[@]}"; do
    base=${names[i]%.O?}
    [ -n "${gens[$base]:-}" ] || continue
    [ -e "$data/.$base.done" ] && continue
    echo "generating inputs for $base ..."
    (cd "$data" && eval "${gens[$base]}") || die "generator for $base failed: ${gens[$base]}"
    touch "$data/.$base.done"
done

# ---- statistics (awk): one table row per benchmark, or the whole table + geomean ----
stats() { # stats [ONLY_NAME]  reads $results
    awk -F '\t' -v only="${1:-}" '
    function median(t, b, n,    a, i, j, v) {
        for (i = 1; i <= n; i++) a[i] = t[b, i]
        for (i = 2; i <= n; i++) {   # insertion sort (mawk has no asort)
            v = a[i]
            for (j = i - 1; j >= 1 && a[j] > v; j--) a[j + 1] = a[j]
            a[j + 1] = v
        }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    NR == 1 || (only != "" && $1 != only) { next }
    {
        b = $1
        if (!(b in seen)) { seen[b] = 1; order[++nb] = b }
        total[b, $3]++
        if ($7 == "FAIL") nfail[b] = $6
        else if ($7 != "ok") bad[b, $3]++
        if ($4 == 0) next
        if ($3 == "native") nt[b, ++nn[b]] = $5
        else ht[b, ++nh[b]] = $5
    }
    END {
        if (only == "")
            printf "%-16s %10s %10s %7s %7s %7s  %s\n", "benchmark", "native_s", "hotpath_s",
                   "ratio", "min", "max", "status"
        ng = 0; logsum = 0; excluded = ""
        for (k = 1; k <= nb; k++) {
            b = order[k]
            status = "ok"
            if (bad[b, "native"] + bad[b, "hotpath"] > 0) {
                status = "MISMATCH("
                if (bad[b, "hotpath"]) status = status "hotpath " bad[b, "hotpath"] "/" total[b, "hotpath"]
                if (bad[b, "native"]) status = status (bad[b, "hotpath"] ? ", " : "") "native " bad[b, "native"] "/" total[b, "native"]
                status = status ")"
            }
            if (b in nfail) status = "NATIVE-FAIL(exit " nfail[b] ")"
            if (nn[b] == 0 || nh[b] == 0) {
                printf "%-16s %10s %10s %7s %7s %7s  %s\n", b, "-", "-", "-", "-", "-", status
                continue
            }
            mn = median(nt, b, nn[b]); mh = median(ht, b, nh[b])
            ratio = mn > 0 ? mh / mn : 0
            rmin = 1e300; rmax = 0
            for (i = 1; i <= nn[b] && i <= nh[b]; i++) {
                r = nt[b, i] > 0 ? ht[b, i] / nt[b, i] : 0
                if (r < rmin) rmin = r
                if (r > rmax) rmax = r
            }
            printf "%-16s %10.3f %10.3f %7.3f %7.3f %7.3f  %s\n", b, mn, mh, ratio, rmin, rmax, status
            if (status == "ok" && ratio > 0) { ng++; logsum += log(ratio) }
            else excluded = excluded " " b
        }
        if (only == "") {
            if (ng > 0) printf "geometric mean of ratios over %d benchmarks: %.3f\n", ng, exp(logsum / ng)
            else print "geometric mean of ratios: none (no benchmark without MISMATCH)"
            if (excluded != "") print "excluded from the geometric mean (MISMATCH or no times):" excluded
        }
    }' "$results"
}

# ---- run ----
q_hot=$(printf %q "$hotpath")
printf 'benchmark\topt\tmode\trun\tseconds\texit\tstatus\tvariant\n' >"$results"
echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC')  $(uname -srm)  $(nproc) cpus"
echo "# hotpath: $hotpath run ${variant:+$variant }--   runs: $runs (+1 warm-up) per mode"
echo "# ${#names[@]} benchmarks; results in $results"
failed=0

run_one() { # run_one NAME MODE RUN CMD ; sets rc, secs, out, err
    local full=$4 t0 t1 us
    [ "$2" = hotpath ] && full="$q_hot run${variant:+ $variant} -- $4"
    out=$logs/current.$2.out err=$logs/current.$2.err last_cmd=$full
    t0=$EPOCHREALTIME
    (eval "timeout -k 5 $timeout_s $full") >"$out" 2>"$err" </dev/null
    rc=$?
    t1=$EPOCHREALTIME
    us=$(( 10#${t1/./} - 10#${t0/./} ))
    printf -v secs '%d.%06d' $((us / 1000000)) $((us % 1000000))
}

for i in "${!names[@]}"; do
    name=${names[i]} cmd=${cmds[i]}
    opt=- ; [ "${kinds[i]}" = own ] && opt=${name##*.}
    printf '[%d/%d] %s: %s\n' $((i + 1)) ${#names[@]} "$name" "$cmd"
    ref_out=$logs/ref.out ref_rc=
    for ((r = 0; r <= runs; r++)); do
        for mode in native hotpath; do
            run_one "$name" $mode $r "$cmd"
            status=ok why=
            if [ -z "$ref_rc" ]; then   # the native warm-up is the reference
                ref_rc=$rc; cp "$out" "$ref_out"
                if [ "$rc" != 0 ]; then
                    printf '%s\t%s\tnative\t0\t%s\t%d\tFAIL\t%s\n' "$name" "$opt" "$secs" "$rc" \
                        "${variant:--}" >>"$results"
                    cp "$out" "$logs/$name.native.0.out"; cp "$err" "$logs/$name.native.0.err"
                    echo "ERROR: $name exits $rc natively; skipped. stderr: $(tail -c 300 "$err")"
                    failed=1; break 2
                fi
            fi
            if [ "$rc" != "$ref_rc" ]; then
                status=MISMATCH why="exit $rc, native warm-up exited $ref_rc"
                [ "$rc" = 124 ] && why+=" (timeout after ${timeout_s}s)"
            elif ! cmp -s "$out" "$ref_out"; then
                status=MISMATCH why="stdout differs from the native warm-up's"
            fi
            printf '%s\t%s\t%s\t%d\t%s\t%d\t%s\t%s\n' "$name" "$opt" $mode $r "$secs" "$rc" \
                $status "${variant:--}" >>"$results"
            if [ $status != ok ]; then
                failed=1
                keep=$logs/$name.$mode.$r
                cp "$out" "$keep.out"; cp "$err" "$keep.err"
                echo "MISMATCH $name $mode run $r: $why"
                echo "  command: $last_cmd"
                echo "  stdout, native warm-up (<) vs this run (>):"
                diff <(head -c 4000 "$ref_out") <(head -c 4000 "$out") | head -n 8 | sed 's/^/    /'
                echo "  stderr (last lines):"
                tail -c 600 "$err" | tail -n 5 | sed 's/^/    /'
                echo "  kept in $keep.out and $keep.err"
            fi
        done
    done
    printf '    '; stats "$name" | sed -n '1p'
done

echo
stats | tee "$summary"
exit $failed
