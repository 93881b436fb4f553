#!/usr/bin/env bash
# run_traces.sh — end-to-end checks of the trace cache's management, read from the
# statistics: tests/programs/trace_churn (a stable loop, then a burst of 96 new hot loops,
# then 4 threads running them) must print what it prints natively, and
#   - by default the burst after the stable stretch is a phase change (cache_flushes_phase);
#   - with --no-phase-flush there is none;
#   - with --cache-size 16 (KiB) the cache fills and is flushed (cache_flushes_full) and its
#     live size stays under the limit, also with every head a trace (--threshold 1) while
#     threads run traces.
# Usage: run_traces.sh HOTPATH_BIN OUTDIR
set -u
H=$(realpath "$1"); OUT=$2
mkdir -p "$OUT"; OUT=$(realpath "$OUT")
SRC=$(dirname "$(realpath "$0")")/../programs
pass=0; fail=0
ok()  { echo "PASS $1"; pass=$((pass+1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail+1)); }

gcc -O2 -pthread -o "$OUT/trace_churn" "$SRC/trace_churn.c" || { echo "FAIL build"; exit 1; }
"$OUT/trace_churn" >"$OUT/native.txt"

# check NAME "OPTIONS" PYTHON-CONDITION: same output as native, and the condition on the
# statistics d holds.
check() {
  local name=$1 opts=$2 cond=$3
  # shellcheck disable=SC2086
  "$H" run $opts --stats-json "$OUT/s.json" -- "$OUT/trace_churn" >"$OUT/hp.txt" 2>"$OUT/err.txt"
  local rc=$?
  if [ $rc -ne 0 ] || ! cmp -s "$OUT/native.txt" "$OUT/hp.txt"; then
    bad "$name" "rc=$rc, output differs: $(diff "$OUT/native.txt" "$OUT/hp.txt" | head -3)"; return
  fi
  if python3 - "$OUT/s.json" "$cond" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ok = eval(sys.argv[2], {}, {"d": d})
if not ok or d["detached"]:
    print({k: d[k] for k in d if k.startswith(("cache", "trace"))}); sys.exit(1)
PY
  then ok "$name"; else bad "$name" "statistics: $cond"; fi
}

check "phase change flushes" "" 'd["cache_flushes_phase"] >= 1'
check "--no-phase-flush" "--no-phase-flush" 'd["cache_flushes_phase"] == 0 and d["traces_built"] > 96'
check "full cache flushes" "--cache-size 16" \
      'd["cache_flushes_full"] >= 1 and d["trace_cache_peak_bytes"] <= 16384'
check "full cache, every head a trace, threads" "--cache-size 16 --threshold 1" \
      'd["cache_flushes_full"] >= 5 and d["trace_cache_peak_bytes"] <= 16384'
check "--no-opt" "--no-opt --cache-size 16" 'd["cache_flushes_full"] >= 1 and d["opt_dce"] == 0'
check "optimizer on" "" 'd["opt_dce"] > 0'

# --trace-dispatch: a switch interpreter's handlers take the dispatch along and the inline
# checks follow the guest loop: far fewer lookups than without (5.1M against 903 here).
gcc -O2 -o "$OUT/dispatch_loop" "$SRC/dispatch_loop.c" || { echo "FAIL build"; exit 1; }
"$OUT/dispatch_loop" >"$OUT/dl_native.txt"
lookups() {  # lookups OPTS: the run's indirect_lookups (empty when the run differs)
  # shellcheck disable=SC2086
  "$H" run $1 --stats-json "$OUT/dl.json" -- "$OUT/dispatch_loop" >"$OUT/dl_hp.txt" 2>/dev/null &&
    cmp -s "$OUT/dl_native.txt" "$OUT/dl_hp.txt" &&
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["indirect_lookups"])' "$OUT/dl.json"
}
with=$(lookups "") without=$(lookups "--no-trace-dispatch")
if [ -n "$with" ] && [ -n "$without" ] && [ "$without" -gt 1000000 ] && [ $((with * 20)) -lt "$without" ]; then
  ok "--trace-dispatch: lookups $with against $without"
else
  bad "--trace-dispatch" "lookups '$with' with, '$without' without (want 20 times fewer)"
fi

# retsites: a doubly recursive function's ret, checked against one call site, tries the
# other before the lookup: far fewer lookups than without the pass (same output).
gcc -O0 -o "$OUT/ret_sites" "$SRC/ret_sites.c" || { echo "FAIL build"; exit 1; }
"$OUT/ret_sites" >"$OUT/rs_native.txt"
rs_lookups() {  # rs_lookups OPTS: the run's indirect_lookups (empty when the run differs)
  # shellcheck disable=SC2086
  "$H" run $1 --stats-json "$OUT/rs.json" -- "$OUT/ret_sites" >"$OUT/rs_hp.txt" 2>/dev/null
  [ $? -eq 48 ] && cmp -s "$OUT/rs_native.txt" "$OUT/rs_hp.txt" &&
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["indirect_lookups"] if d["opt_retsites"] > 0 or "-retsites" in sys.argv[2] else "none")' "$OUT/rs.json" "$1"
}
with=$(rs_lookups "") without=$(rs_lookups "--opt=all,-retsites")
if [ -n "$with" ] && [ "$with" != none ] && [ -n "$without" ] && [ "$without" -gt 100000 ] && [ $((with * 20)) -lt "$without" ]; then
  ok "retsites: lookups $with against $without"
else
  bad "retsites" "lookups '$with' with, '$without' without (want 20 times fewer)"
fi

# program_check NAME PROGRAM CFLAGS PYTHON-CONDITION [STATUS [OPTIONS]]:
# tests/programs/PROGRAM.c built with CFLAGS runs under hotpath (with OPTIONS; killed after
# 120 s: a hang fails) with exit status STATUS (default 0) and native's output, and the
# condition on its statistics d holds.
program_check() {
  local name=$1 prog=$2 cflags=$3 cond=$4 want=${5:-0} opts=${6:-}
  # shellcheck disable=SC2086
  gcc $cflags -o "$OUT/$prog" "$SRC/$prog.c" || { echo "FAIL build"; exit 1; }
  "$OUT/$prog" >"$OUT/${prog}_native.txt"
  # shellcheck disable=SC2086
  timeout 120 "$H" run $opts --stats-json "$OUT/$prog.json" -- "$OUT/$prog" >"$OUT/${prog}_hp.txt" 2>"$OUT/${prog}_err.txt"
  local rc=$?
  if [ $rc -eq "$want" ] && cmp -s "$OUT/${prog}_native.txt" "$OUT/${prog}_hp.txt" &&
     python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not eval(sys.argv[2]))' "$OUT/$prog.json" "$cond"; then
    ok "$name"
  else
    bad "$name" "rc=$rc $(cat "$OUT/${prog}_hp.txt" "$OUT/${prog}_err.txt" | head -3) $(head -c 300 "$OUT/$prog.json" 2>/dev/null)"
  fi
}

# A loop split by a trace head inside it (the inner loop's test, a trace exit of the outer
# loop, becomes a head first): recording from the inner head goes on through that trace's
# block and closes the loop at the head (trace_tails_looped), same output.
program_check "a split loop closes as one" split_loop -O1 'd["trace_tails_looped"] >= 1'

# A switch's jump table folded into traces (jtable), then the table changed under them by
# mprotect + store and by madvise(MADV_DONTNEED): each change invalidates the traces that
# read it (the program checks every phase's result itself: exit 71).
program_check "jump tables fold, and changes to them flush" jtable_switch -O0 \
  'd["opt_jtable"] >= 2 and d["cache_flushes"] >= 2' 71

# A promoted loop entered where its [rbp+8] access would fault, native code leaving at the
# check before it: the preheader's load must not kill the program (promotion happened,
# the fault flushed the traces, the loop was built again without promotion).
program_check "promoted preheader fault: starts over unpromoted" promote_fault_exit -O2 \
  'd["opt_promote"] >= 1 and d["cache_flushes"] >= 1 and d["signals_delivered"] == 0'

# Trip counts (traces/trace_trip.c): promotable loops run counted first, then are built
# again promoted or, going round less than once an entry (fannkuch's count reset and
# rotation), peeled; under a SIGPROF flood, a fork and a second thread, same output.
program_check "loops counted, then peeled or promoted" trip_counts "-O0 -pthread" \
  'd["trips_counted"] >= 4 and d["trips_peeled"] >= 1 and d["trips_promoted"] >= 1'
# ... not decided by a vfork child's counters (its own, all zero: the loop never goes
# round, so it stays unpromoted), and a vfork child entering a counted trace whose rebuild
# failed (a 16 KiB cache) goes on instead of leaving at its head forever.
program_check "a vfork child's counts decide nothing" trip_vfork -O0 \
  'd["trips_plain"] >= 2 and d["trips_promoted"] == 0'
program_check "a counted trace that stays lets a vfork child through" trip_rebuild_vfork -O0 \
  'd["trips_counted"] >= 5 and d["trips_kept"] >= 1' 0 "--cache-size 16 --no-phase-flush"
# ... and a whole flush for changed code frees the counters' slots (a review: after 64 such
# flushes nothing was counted any more).
program_check "whole flushes free the counter slots" trip_flushes -O0 \
  'd["trips_counted"] >= 70 and d["trips_plain"] >= 1'

# --perf-map: every fragment named in /tmp/perf-PID.map (hex start, hex size, name)
"$H" run --perf-map -- /bin/sh -c 'echo $$; i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done' >"$OUT/pm.txt" 2>&1
pid=$(head -1 "$OUT/pm.txt") map=/tmp/perf-$(head -1 "$OUT/pm.txt").map
if [ -s "$map" ] && grep -q ' hp_trace_' "$map" && grep -q ' hp_block_' "$map" &&
   ! grep -Evq '^[0-9a-f]+ [0-9a-f]+ hp_(block|trace|trace_cold)_[0-9a-f]+$' "$map"; then
  ok "--perf-map ($(wc -l <"$map") fragments)"
else
  bad "--perf-map" "map of pid '$pid': $(head -2 "$map" 2>&1)"
fi
rm -f "$map"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
