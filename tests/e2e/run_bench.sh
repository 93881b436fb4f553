#!/usr/bin/env bash
# run_bench.sh — end-to-end checks of `hotpath bench` on a tiny program of our own (a few
# seconds in all): the JSON has every run and the summary in the documented shape, the SVG
# is well-formed, a deliberately mismatching variant (different stdout, different exit
# status, hotpath's own statistics written to stdout, a timeout) is reported with a
# non-zero exit and never hidden, bad input is one line on stderr, and the suite mode
# runs a small suite file (gen once, own and debian entries, one table, geometric mean).
# Usage: run_bench.sh HOTPATH_BIN OUTDIR
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/lib.sh"
resolve_hotpath "$1"
H=$HOTPATH_BIN OUT=$2
mkdir -p "$OUT"; OUT=$(realpath "$OUT")
pass=0; fail=0
ok()  { echo "PASS $1"; pass=$((pass+1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail+1)); }

# The program: a small loop; BENCH_E2E_ODD changes its output, BENCH_E2E_EXIT its exit
# status, BENCH_E2E_SLEEP makes it sleep (for the timeout).
cat >"$OUT/tiny.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 100000, s = 0;
  for (long i = 0; i < n; i++) s = (s * 31 + i) % 1000003;
  if (getenv("BENCH_E2E_SLEEP")) sleep(atoi(getenv("BENCH_E2E_SLEEP")));
  printf("sum %ld%s\n", s, getenv("BENCH_E2E_ODD") ? " odd" : "");
  fprintf(stderr, "tiny: done\n");
  return getenv("BENCH_E2E_EXIT") ? atoi(getenv("BENCH_E2E_EXIT")) : 0;
}
C
gcc -O2 -o "$OUT/tiny" "$OUT/tiny.c" || exit 1

# 1. Matching variants: exit 0, the JSON shape, the SVG.
"$H" bench -n 2 --variants blocks,traces,opt --json "$OUT/ok.json" --svg "$OUT/ok.svg" \
    -- "$OUT/tiny" 200000 >"$OUT/ok.out" 2>"$OUT/ok.err"
rc=$?
if [ $rc -eq 0 ] && grep -q '^opt ' "$OUT/ok.out" && ! grep -q MISMATCH "$OUT/ok.out" &&
   ! grep -q 'tiny: done' "$OUT/ok.err"; then ok "bench -n 2 exits 0 with a table, stderr kept"
else bad "bench -n 2" "rc=$rc $(cat "$OUT/ok.out" "$OUT/ok.err" | head -20)"; fi
if python3 - "$OUT/ok.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["tool"] == "hotpath bench" and d["runs_per_variant"] == 2 and d["warmup"] == 1 and d["ok"] is True, d
assert set(d["machine"]) >= {"cpu", "cpus", "kernel"}, d["machine"]
names = [v["name"] for v in d["variants"]]
assert names == ["native", "blocks", "traces", "opt"], names
assert d["variants"][1]["args"] == ["--no-traces"] and d["variants"][2]["args"] == ["--no-opt"], d["variants"]
assert len(d["benchmarks"]) == 1
b = d["benchmarks"][0]
assert b["command"][1] == "200000" and b["stdin"] is None and b["native_failed"] is False, b
runs = b["runs"]
assert len(runs) == 4 * 3, len(runs)           # 4 variants x (1 warm-up + 2 rounds)
for r in runs:
    assert set(r) >= {"variant", "round", "warmup", "seconds", "exit", "stdout_match"}, r
    assert r["seconds"] > 0 and r["exit"] == 0 and r["stdout_match"] is True, r
# interleaved: the timed runs go native, blocks, traces, opt, native, ...
timed = [r["variant"] for r in runs if not r["warmup"]]
assert timed == names * 2, timed
assert [r["round"] for r in runs if not r["warmup"]] == [1] * 4 + [2] * 4
assert len({r["stdout_fnv1a64"] for r in runs}) == 1
s = {x["variant"]: x for x in b["summary"]}
assert set(s) == set(names)
assert abs(s["native"]["ratio"] - 1) < 1e-9 and s["native"]["status"] == "ok"
for x in s.values():
    assert x["min_s"] <= x["median_s"] <= x["max_s"] and x["pairs"] == 2 and x["mismatches"] == 0, x
    assert x["ratio_min"] <= x["ratio_max"] and x["ratio"] > 0, x
assert set(d["geomean"]) == {"blocks", "traces", "opt"} and d["geomean"]["opt"]["over"] == 1
PY
then ok "JSON shape"; else bad "JSON shape" "see above"; fi
if python3 -c 'import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); assert r.tag.endswith("svg"); assert len([e for e in r.iter() if e.tag.endswith("rect")]) >= 3 + 1 + 3' "$OUT/ok.svg"
then ok "SVG well-formed with bars"; else bad "SVG" "$(head -c 300 "$OUT/ok.svg")"; fi

# 2. Deliberately mismatching variants: stdout (an environment variable the program reads),
# exit status, hotpath's statistics written into the program's stdout.
"$H" bench -n 2 --variants opt,"odd:env BENCH_E2E_ODD=1","ex:env BENCH_E2E_EXIT=3" \
    --variant 'js=--stats-json /dev/stdout' --json "$OUT/bad.json" --svg "$OUT/bad.svg" \
    -- "$OUT/tiny" 1000 >"$OUT/bad.out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q '^MISMATCH .*variant odd, warm-up round 1: stdout differs' "$OUT/bad.out" &&
   grep -q 'this run: sum [0-9]* odd' "$OUT/bad.out" &&
   grep -q '^MISMATCH .*variant ex, .*exit status 3, native.s 0' "$OUT/bad.out" &&
   grep -q '^MISMATCH .*variant js, .*stdout differs' "$OUT/bad.out" &&
   grep -q '^odd .*MISMATCH 3/3 runs' "$OUT/bad.out" && grep -q '^opt .* ok$' "$OUT/bad.out" &&
   grep -q '    tiny: done' "$OUT/bad.out"
then ok "mismatching variants reported, exit 1"
else bad "mismatching variants" "rc=$rc $(head -40 "$OUT/bad.out")"; fi
if python3 - "$OUT/bad.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
b = d["benchmarks"][0]
assert d["ok"] is False
by = lambda v: [r for r in b["runs"] if r["variant"] == v]
assert all(not r["stdout_match"] for r in by("odd")) and all(r["stdout_match"] for r in by("opt"))
assert all(r["exit"] == 3 for r in by("ex")) and all(r["exit"] == 0 for r in by("native"))
s = {x["variant"]: x for x in b["summary"]}
assert s["odd"]["status"] == "mismatch" and s["odd"]["mismatches"] == 3 and s["opt"]["status"] == "ok"
assert d["geomean"]["odd"]["ratio"] is None and d["geomean"]["odd"]["over"] == 0
assert d["geomean"]["opt"]["over"] == 1
PY
then ok "mismatch in the JSON"; else bad "mismatch in the JSON" "see above"; fi
grep -q '>mismatch<' "$OUT/bad.svg" && ok "mismatch in the SVG" || bad "mismatch in the SVG" "no mark"

# 3. A run that hangs is killed at --timeout and reported.
"$H" bench -n 1 --warmup 0 --timeout 1 --variants "slow:env BENCH_E2E_SLEEP=20" -- "$OUT/tiny" 10 >"$OUT/slow.out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q 'variant slow, timed round 1: killed after the 1 s timeout' "$OUT/slow.out" &&
    ! pgrep -f "$OUT/tiny 10" >/dev/null && ok "timeout kills and reports" ||
    bad "timeout" "rc=$rc $(cat "$OUT/slow.out")"

# 4. Bad input: one line on stderr, exit 2, nothing on stdout.
expect_refusal() {
    local name=$1 pat=$2; shift 2
    "$@" >"$OUT/r.out" 2>"$OUT/r.err"; local rc=$?
    if [ $rc -eq 2 ] && [ "$(wc -l <"$OUT/r.err")" -eq 1 ] && grep -q -- "$pat" "$OUT/r.err" && [ ! -s "$OUT/r.out" ]
    then ok "$name"; else bad "$name" "rc=$rc $(cat "$OUT/r.err")"; fi
}
expect_refusal "no program" "no program given" "$H" bench -n 2
expect_refusal "no program after --" "no program given" "$H" bench --
expect_refusal "-n 0" "positive integer" "$H" bench -n 0 -- "$OUT/tiny"
expect_refusal "unknown variant" "unknown variant 'fast'" "$H" bench --variants opt,fast -- "$OUT/tiny"
expect_refusal "unknown hotpath option in a variant" "unknown hotpath option '--bogus'" "$H" bench --variant 'x=--bogus' -- "$OUT/tiny"
expect_refusal "program not found" "command not found" "$H" bench -- no-such-program-xyz
expect_refusal "unknown option" "unknown option '--frob'" "$H" bench --frob -- "$OUT/tiny"
"$H" --help | grep -q 'hotpath bench' && ok "--help lists bench" || bad "--help" "no bench"

# 5. Suite mode: a gen line (runs once, in {data}), an own entry at two levels, a debian
# entry reading stdin; one table with the geometric mean; the JSON has every entry.
mkdir -p "$OUT/suite/bin"
cp "$OUT/tiny" "$OUT/suite/bin/tiny.O0"; cp "$OUT/tiny" "$OUT/suite/bin/tiny.O2"
rm -rf "$OUT/suite/data"
cat >"$OUT/suite/suite.txt" <<'S'
# a small suite
tiny    own     {bin}/tiny.{opt} 100000    # a comment
words   gen     /bin/sh -c 'seq 1 20000 > words.txt'
words   debian  /usr/bin/sort -r < {data}/words.txt
S
"$H" bench --suite "$OUT/suite/suite.txt" --bin "$OUT/suite/bin" --data "$OUT/suite/data" \
    --opt-levels O0,O2 -n 1 --variants blocks,opt --json "$OUT/suite.json" --summary "$OUT/suite.txt" \
    >"$OUT/suite.out" 2>"$OUT/suite.err"
rc=$?
if [ $rc -eq 0 ] && grep -q '^tiny.O0 ' "$OUT/suite.txt" && grep -q '^words ' "$OUT/suite.txt" &&
   grep -q '^geometric mean' "$OUT/suite.txt" && [ "$(wc -l <"$OUT/suite/data/words.txt")" -eq 20000 ] &&
   ls "$OUT"/suite/data/.gen-*.done >/dev/null 2>&1 &&
   python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [b["name"] for b in d["benchmarks"]]==["tiny.O0","tiny.O2","words"]; assert d["benchmarks"][2]["stdin"].endswith("words.txt"); assert d["geomean"]["opt"]["over"]==3' "$OUT/suite.json"
then ok "suite mode"; else bad "suite mode" "rc=$rc $(cat "$OUT/suite.out" "$OUT/suite.err" | head -20)"; fi
"$H" bench --suite "$OUT/suite/suite.txt" --bin "$OUT/suite/bin" --data "$OUT/suite/data" --filter '^w' \
    -n 1 --variants opt >"$OUT/suite2.out" 2>"$OUT/suite2.err"
rc=$?
[ $rc -eq 0 ] && ! grep -q generating "$OUT/suite2.err" && ! grep -q '^tiny' "$OUT/suite2.out" &&
    ok "suite: filter, gen not run twice" || bad "suite filter" "rc=$rc $(cat "$OUT/suite2.out" "$OUT/suite2.err")"
printf 'x debian /bin/true | cat\n' >"$OUT/suite/broken.txt"
expect_refusal "suite syntax error" "broken.txt:1: unquoted '|'" "$H" bench --suite "$OUT/suite/broken.txt"
printf 'x debian /bin/false\n' >"$OUT/suite/fails.txt"
"$H" bench --suite "$OUT/suite/fails.txt" -n 1 >"$OUT/fails.out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q '^NATIVE-FAIL x: exits 1 natively' "$OUT/fails.out" && ok "suite: native failure reported" ||
    bad "suite native failure" "rc=$rc $(cat "$OUT/fails.out")"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
