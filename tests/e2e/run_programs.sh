#!/usr/bin/env bash
# run_programs.sh — end-to-end check of hotpath on the small programs in tests/programs.
#
# Builds every tests/programs/<case>.c / .cc into OUTDIR (gcc -O2; some also at -O0, riprel
# as PIE and non-PIE) and every <name>_lib.c into OUTDIR/<name>_lib.so, runs each case
# natively and as `HOTPATH_BIN run -- ./<case> ARGS`, and compares stdout, stderr and exit
# status (death by signal N shows as 128+N). Prints `PASS name` or `FAIL name (what
# differed)` plus a diff excerpt per case, then the line `N passed, N failed`; exits 1 if
# any case failed or none passed. Each HOTPATH_VARIANTS option set runs every case once
# more under hotpath, compared with the same native run, as `PASS name [OPTIONS]`.
#
# usage: run_programs.sh HOTPATH_BIN OUTDIR [FILTER]
#   FILTER   extended regex; only cases whose name matches are built and run
# environment:
#   CC, CXX            compilers (gcc, g++)
#   TIMEOUT            seconds allowed for one run (60); a hang fails the case
#   HOTPATH_RUN_OPTS   extra words placed between `run` and `--` (e.g. "--no-link")
#   HOTPATH_VARIANTS   `;`-separated extra option sets (e.g. "--no-link;--detach-after-blocks
#                      200"), each added to HOTPATH_RUN_OPTS for one more hotpath run of
#                      every case (default: none)
#   CHECK_STATS        1 (default): fail a case whose hotpath run detached, see ALLOW_DETACH
#
# Invariants: native and translated runs get the same argv, cwd (OUTDIR/bin), environment
# and closed stdin; every program is deterministic, so any difference is hotpath's.
set -u

usage() { echo "usage: $0 HOTPATH_BIN OUTDIR [FILTER]" >&2; exit 2; }
[[ $# -ge 2 && $# -le 3 ]] || usage

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(cd "$HERE/../programs" && pwd)
CC=${CC:-gcc}
CXX=${CXX:-g++}
TIMEOUT=${TIMEOUT:-60}
HOTPATH_RUN_OPTS=${HOTPATH_RUN_OPTS:-}
HOTPATH_VARIANTS=${HOTPATH_VARIANTS:-}
# CHECK_STATS=1: each hotpath run writes --stats-json; a run that wrote none (hotpath did not
# run it) or that detached fails, unless the case is allowed to detach (stats_problems).
CHECK_STATS=${CHECK_STATS:-1}
COMMON_FLAGS="-g -Wall -Wextra"

# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"      # ALLOW_DETACH, resolve_hotpath, detach_requested
# cases whose subject is a detach (one thread leaves at `int $0x80`, the others stay)
ALLOW_DETACH="$ALLOW_DETACH sig_resethand_detached "

resolve_hotpath "$1"
mkdir -p "$2" || exit 2
OUTDIR=$(realpath "$2")
FILTER=${3:-}
BIN_DIR=$OUTDIR/bin
LOG_DIR=$OUTDIR/logs
RES_DIR=$OUTDIR/results
mkdir -p "$BIN_DIR" "$LOG_DIR" "$RES_DIR"

# ==== The case table =====================================================================
# A source is any tests/programs/*.c or *.cc except *_lib.c (shared libraries for other
# cases). Each function below is keyed by source or case name; add a line to change one.

# Builds of one source, as "case-name|compiler flags" lines. Default: one -O2 build.
case_builds() {
    local src=$1
    case $src in
        riprel)
            echo "riprel_pie|-O2 -fPIE -pie"
            echo "riprel_nopie|-O2 -fno-pie -no-pie" ;;
        promote_loop)
            echo "promote_loop|-O0"
            echo "promote_loop_O2|-O2" ;;
        promo_thread)
            echo "promo_thread|-O0" ;;
        promote_frames)
            echo "promote_frames|-O0"
            echo "promote_frames_O2|-O2" ;;
        promote_alias)
            echo "promote_alias|-O0" ;;
        promote_alias_ind)
            echo "promote_alias_ind|-O0" ;;
        promote_alias_flags)
            echo "promote_alias_flags|-O0" ;;
        promote_eight)
            echo "promote_eight|-O0" ;;
        trip_counts | trip_vfork | trip_rebuild_vfork | trip_signals | trip_flushes)
            echo "$src|-O0" ;;
        promote_readonly)
            echo "promote_readonly|-O0"
            echo "promote_readonly_O2|-O2" ;;
        jtable_switch)
            echo "jtable_switch|-O0"
            echo "jtable_switch_O2|-O2" ;;
        jtable_partial)
            for m in madv mprot dontfork; do echo "jtable_partial_$m|-O2"; done ;;
        jtable_remap)
            for m in pmadv madv guard mremap dontunmap shmat dontfork; do echo "jtable_remap_$m|-O2"; done ;;
        xfwd_doubles)
            echo "xfwd_doubles|-O0"
            echo "xfwd_doubles_O2|-O2" ;;
        ret_sites)
            echo "ret_sites|-O0"
            echo "ret_sites_O2|-O2" ;;
        sig_fault_nest)
            echo "sig_fault_nest|-O1 -no-pie" ;;
        recursion | funcptr | jumptable | setjmp | exceptions | varargs | retaddr | regs_gpr)
            echo "$src|-O2"
            echo "${src}_O0|-O0" ;;
        *)
            echo "$src|-O2" ;;
    esac
}

# Flags placed after the source file (libraries) for every build of a source.
source_link_flags() {
    case $1 in
        libm_loop | sig_fpu_env | xfwd_doubles) echo "-lm" ;;
        dlopen | dl_reload) echo "-ldl" ;;
        threads_* | sig_mask | sig_nested_flood | sig_altstack_nested | promo_thread | smc_* | sig_retarget | sig_return_race | sig_resethand_detached | sig_action_race | xfwd_tso | jtable_thread | trip_counts) echo "-pthread" ;;
        retaddr) echo "-rdynamic -ldl" ;;
    esac
}

# Sets CASE_ARGS to the arguments a case is run with.
set_case_args() {
    CASE_ARGS=()
    case $1 in
        dlopen*) CASE_ARGS=("$OUTDIR/plugin_lib.so") ;;
        dl_reload*) CASE_ARGS=("$OUTDIR/reload_a_lib.so" "$OUTDIR/reload_b_lib.so") ;;
        recursion*) CASE_ARGS=(100000) ;;
        exit42*) CASE_ARGS=(one "two words" "") ;;
        jtable_partial_*) CASE_ARGS=("${1#jtable_partial_}") ;;
        jtable_remap_*) CASE_ARGS=("${1#jtable_remap_}" all1) ;;
    esac
}

# Exit statuses the native run may have (space-separated): guards against a case that
# fails the same way natively and under hotpath. AVX cases exit 0 when they print SKIP.
expected_status() {
    case $1 in
        recursion*) echo 11 ;;
        funcptr*) echo 12 ;;
        jumptable*) echo 13 ;;
        setjmp*) echo 14 ;;
        exceptions*) echo 15 ;;
        riprel*) echo 16 ;;
        avx2*) echo "17 0" ;;
        avx512*) echo "18 0" ;;
        varargs*) echo 19 ;;
        dlopen*) echo 20 ;;
        retaddr*) echo 21 ;;
        regs_gpr*) echo 22 ;;
        regs_vec*) echo 23 ;;
        strings_big*) echo 24 ;;
        libm_loop*) echo 25 ;;
        threads_atomics*) echo 26 ;;
        threads_tls*) echo 27 ;;
        threads_cancel*) echo 28 ;;
        threads_many*) echo 29 ;;
        sig_alarm*) echo 30 ;;
        sig_segv_longjmp*) echo 31 ;;
        sig_fpe*) echo 32 ;;
        sig_chld*) echo 33 ;;
        sig_mask_nest*) echo 53 ;;
        sig_mask*) echo 34 ;;
        sig_eintr*) echo 35 ;;
        fork_wait*) echo 36 ;;
        exit_deep*) echo 37 ;;
        posix_spawn*) echo 38 ;;
        system*) echo 39 ;;
        jit_rewrite*) echo 40 ;;
        jit_memfd*) echo 41 ;;
        exit42*) echo 42 ;;
        dl_reload*) echo 43 ;;
        sig_spawn_reset*) echo 44 ;;
        sig_escape*) echo 45 ;;
        sig_context*) echo 46 ;;
        promote_frames*) echo 47 ;;
        ret_sites_eof*) echo 50 ;;
        ret_sites*) echo 48 ;;
        promote_alias_ind*) echo 69 ;;
        promote_alias_flags*) echo 70 ;;
        jtable_switch*) echo 71 ;;
        promote_alias*) echo 49 ;;
        promote_readonly*) echo 51 ;;
        ret_chain_rcx*) echo 52 ;;
        fuse_addr32*) echo 54 ;;
        smc_fused*) echo 55 ;;
        smc_jump*) echo 56 ;;
        sig_order*) echo 57 ;;
        sig_retarget*) echo 58 ;;
        sig_fault_nest*) echo 59 ;;
        sig_resethand_chld*) echo 60 ;;
        sig_resethand_tstp*) echo 61 ;;
        sig_return_race*) echo 62 ;;
        dce_replay*) echo 63 ;;
        sink_copy*) echo 64 ;;
        flagcheck_switch*) echo 65 ;;
        flagcheck_call_fault*) echo 66 ;;
        xfwd_doubles*) echo 67 ;;
        xfwd_tso*) echo 68 ;;
        sig_resethand_detached) echo 0 ;;   # (a kernel without int $0x80 would kill both)
        sig_action_race) echo 0 ;;
        sig_resethand) echo 162 ;;   # "handler", then the second SIGRTMIN's default action
        sig_altstack_nested*) echo 0 ;;
        sig_altstack*) echo 3 ;;     # _exit(3) from the handler on the alternate stack
        exec_chain*) echo 0 ;;       # the last exec is /bin/true
        abort*) echo 134 ;;
        sig_term*) echo 143 ;;
        *) echo any ;;
    esac
}

# Checks a built binary; prints a reason and returns 1 if it is not what the case needs.
check_binary() {
    local name=$1 bin=$2
    case $name in
        jumptable)  # the -O2 build must dispatch through a jump table
            if ! objdump -d --no-show-raw-insn --disassemble=vm_step "$bin" |
                grep -Eq '(notrack )?jmp +\*%'; then
                echo "no indirect jmp (jump table) in vm_step"
                return 1
            fi ;;
    esac
    return 0
}

# ==== Build ==============================================================================

declare -a CASES=()           # case names, in order
declare -A CASE_BUILD_ERROR=() # case name -> reason it could not be built

# build_case NAME SOURCE_FILE FLAGS LINK_FLAGS: builds BIN_DIR/NAME, records any failure.
build_case() {
    local name=$1 file=$2 flags=$3 link=$4 compiler=$CC log=$LOG_DIR/$1.build.log
    [[ $file == *.cc ]] && compiler=$CXX
    # shellcheck disable=SC2086  # flag strings are word lists on purpose
    if ! $compiler $flags $COMMON_FLAGS -o "$BIN_DIR/$name" "$file" $link >"$log" 2>&1; then
        CASE_BUILD_ERROR[$name]="build failed, see $log"
        return
    fi
    local why
    if ! why=$(check_binary "$name" "$BIN_DIR/$name"); then
        CASE_BUILD_ERROR[$name]=$why
    fi
}

matches_filter() { [[ -z $FILTER || $1 =~ $FILTER ]]; }

for file in "$SRC_DIR"/*_lib.c; do
    [[ -e $file ]] || continue
    lib=$(basename "$file" .c)
    # shellcheck disable=SC2086
    if ! $CC -O2 -fPIC -shared $COMMON_FLAGS -o "$OUTDIR/$lib.so" "$file" \
            >"$LOG_DIR/$lib.build.log" 2>&1; then
        echo "warning: $lib.so failed to build, see $LOG_DIR/$lib.build.log" >&2
    fi
done

for file in "$SRC_DIR"/*.c "$SRC_DIR"/*.cc; do
    [[ -e $file ]] || continue
    src=$(basename "$file")
    src=${src%.*}
    [[ $src == *_lib ]] && continue
    while IFS='|' read -r name flags; do
        matches_filter "$name" || continue
        CASES+=("$name")
        build_case "$name" "$file" "$flags" "$(source_link_flags "$src")"
    done < <(case_builds "$src")
done
if [[ ${#CASES[@]} -gt 0 ]]; then
    mapfile -t CASES < <(printf '%s\n' "${CASES[@]}" | sort)
fi

# ==== Run and compare ====================================================================

# run_case MODE NAME PREFIX [OPTIONS]: runs NAME natively or under hotpath (with
# HOTPATH_RUN_OPTS and OPTIONS) from BIN_DIR, writing PREFIX.out, PREFIX.err and PREFIX.rc.
# Core dumps are off so abort() leaves no files.
run_case() {
    local mode=$1 name=$2 prefix=$3 opts=${4:-}
    local -a cmd=("./$name" "${CASE_ARGS[@]}")
    if [[ $mode == hotpath ]]; then
        local -a st=()
        [[ $CHECK_STATS == 1 ]] && st=(--stats-json "$prefix.stats.%p.json")
        # shellcheck disable=SC2206  # the option strings are word lists
        cmd=("$HOTPATH_BIN" run $HOTPATH_RUN_OPTS $opts "${st[@]}" -- "${cmd[@]}")
    fi
    # The group's stderr is /dev/null only to silence bash's "Aborted" notice.
    {
        (cd "$BIN_DIR" && ulimit -c 0 && exec timeout -k 5 "$TIMEOUT" "${cmd[@]}") \
            >"$prefix.out" 2>"$prefix.err" </dev/null
        echo $? >"$prefix.rc"
    } 2>/dev/null
}


# stats_problems NAME NATIVE_RC OPTIONS FILES...: one line per problem with the statistics
# hotpath wrote: none at all (unless the program dies by a signal, which leaves hotpath no
# moment to write them), or a detach (the program then ran natively, so a pass would prove
# nothing). ALLOW_DETACH excuses both for a case; OPTIONS excuse the detaches they ask for.
stats_problems() {
    local name=$1 rc=$2 opts=$3 f reason
    shift 3
    [[ $ALLOW_DETACH == *" $name "* ]] && return
    if [[ $# -eq 0 ]]; then
        [[ $rc -gt 128 ]] || echo "hotpath wrote no statistics"
        return
    fi
    for f in "$@"; do
        grep -q '"detached": true' "$f" || continue
        reason=$(grep -o '"detach_reason": "[^"]*"' "$f" | cut -d'"' -f4)
        detach_requested "$HOTPATH_RUN_OPTS $opts" "$reason" && continue
        echo "hotpath detached: $reason"
    done
}

# Prints the first lines of a unified diff of two files, indented.
diff_excerpt() {
    diff -u --label "native $3" --label "hotpath $3" "$1" "$2" | head -n 20 | sed 's/^/    /'
}

# The hotpath runs of a case: "label|options" lines, the default run first (label empty).
declare -a RUNS=("|")
IFS=';' read -r -a variants <<<"$HOTPATH_VARIANTS"
for v in "${variants[@]}"; do
    read -r -a words <<<"$v"
    [[ ${#words[@]} -gt 0 ]] && RUNS+=("[${words[*]}]|${words[*]}")
done

passed=0
failed=0
# check_run NAME LABEL PREFIX OPTIONS: compares one hotpath run (PREFIX.*) of NAME with the
# native run in the same directory; prints PASS or FAIL with the reasons and counts it.
check_run() {
    local name=$1 label=$2 prefix=$3 opts=$4 dir
    dir=$(dirname "$prefix")
    local nrc hrc expected p reason
    nrc=$(<"$dir/native.rc")
    hrc=$(<"$prefix.rc")
    local -a problems=()
    expected=$(expected_status "$name")
    if [[ $nrc == 124 ]]; then
        problems+=("native run timed out after ${TIMEOUT}s")
    elif [[ $expected != any && " $expected " != *" $nrc "* ]]; then
        problems+=("native exit status $nrc, expected $expected")
    fi
    [[ $hrc == 124 ]] && problems+=("hotpath run timed out after ${TIMEOUT}s")
    cmp -s "$dir/native.out" "$prefix.out" || problems+=("stdout differs")
    cmp -s "$dir/native.err" "$prefix.err" || problems+=("stderr differs")
    [[ $nrc == "$hrc" ]] || problems+=("exit status $nrc native, $hrc hotpath")
    if [[ $CHECK_STATS == 1 ]]; then
        shopt -s nullglob
        local -a sfiles=("$prefix".stats.*.json)
        shopt -u nullglob
        while IFS= read -r p; do problems+=("$p"); done < <(stats_problems "$name" "$nrc" "$opts" "${sfiles[@]}")
    fi

    if [[ ${#problems[@]} -eq 0 ]]; then
        echo "PASS $name${label:+ $label}"
        passed=$((passed + 1))
    else
        reason=$(printf '%s, ' "${problems[@]}")
        echo "FAIL $name${label:+ $label} (${reason%, })"
        cmp -s "$dir/native.out" "$prefix.out" ||
            diff_excerpt "$dir/native.out" "$prefix.out" stdout
        cmp -s "$dir/native.err" "$prefix.err" ||
            diff_excerpt "$dir/native.err" "$prefix.err" stderr
        echo "    (full output in $dir)"
        failed=$((failed + 1))
    fi
}

for name in "${CASES[@]}"; do
    if [[ -n ${CASE_BUILD_ERROR[$name]:-} ]]; then
        echo "FAIL $name (${CASE_BUILD_ERROR[$name]})"
        [[ -f $LOG_DIR/$name.build.log ]] && head -n 10 "$LOG_DIR/$name.build.log" | sed 's/^/    /'
        failed=$((failed + 1))
        continue
    fi
    set_case_args "$name"
    dir=$RES_DIR/$name
    mkdir -p "$dir"
    rm -f "$dir"/*.stats.*.json
    run_case native "$name" "$dir/native"
    for i in "${!RUNS[@]}"; do
        IFS='|' read -r label opts <<<"${RUNS[$i]}"
        prefix=$dir/hotpath
        [[ $i -gt 0 ]] && prefix=$dir/variant$i
        run_case hotpath "$name" "$prefix" "$opts"
        check_run "$name" "$label" "$prefix" "$opts"
    done
done

echo "$passed passed, $failed failed"
[[ $failed -eq 0 && $passed -gt 0 ]]
