#!/usr/bin/env bash
# run_debian.sh — end-to-end check of hotpath on real programs from Debian packages.
#
# Generates deterministic inputs once into OUTDIR/inputs, then runs every case twice, in
# OUTDIR/native/<case> and OUTDIR/hotpath/<case>: each step of a case is one program run
# natively or as `HOTPATH_BIN run -- PROG ARGS`, recording its stdout, stderr and exit
# status as <step>.out, <step>.err, <step>.status next to any files it writes. A case
# passes when the two directories are identical. A program that is not installed prints
# `SKIP name`. Each HOTPATH_VARIANTS option set runs every case once more under hotpath, in
# OUTDIR/variant<i>/<case>, compared with the same native run, as `PASS name [OPTIONS]`.
# Ends with the line `N passed, N failed`; exits 1 if any case failed or none passed.
#
# usage: run_debian.sh HOTPATH_BIN OUTDIR [FILTER]
#   FILTER   extended regex; only cases whose name matches are run
# environment:
#   CC                 compiler for the input generator (gcc)
#   TIMEOUT            seconds allowed for one program run (120)
#   HOTPATH_RUN_OPTS   extra words placed between `run` and `--`
#   HOTPATH_VARIANTS   `;`-separated extra option sets (e.g. "--no-link;--detach-after-blocks
#                      200"), each added to HOTPATH_RUN_OPTS for one more hotpath run of
#                      every case (default: none)
#   CHECK_STATS        1 (default): fail a case whose hotpath runs detached, see ALLOW_DETACH
#
# Invariants: both runs of a step see the same argv, relative cwd, environment (fixed
# locale, time zone and hash seeds) and input files; nothing a case writes leaks into the
# inputs, so the order of the two runs does not matter.

# The awk, sed, perl, python, lua and bash program texts are in single quotes on purpose.
# shellcheck disable=SC2016
set -u
# Run from `make test`, make would pass its level and flags to the make_j2 case and change
# its output (directory lines): the cases see a clean make environment.
unset MAKEFLAGS MAKELEVEL MFLAGS MAKEOVERRIDES

usage() { echo "usage: $0 HOTPATH_BIN OUTDIR [FILTER]" >&2; exit 2; }
[[ $# -ge 2 && $# -le 3 ]] || usage

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CC=${CC:-gcc}
TIMEOUT=${TIMEOUT:-120}
HOTPATH_RUN_OPTS=${HOTPATH_RUN_OPTS:-}
HOTPATH_VARIANTS=${HOTPATH_VARIANTS:-}
# CHECK_STATS=1: each hotpath step writes --stats-json; a case none of whose runs wrote
# statistics, or one that detached, fails unless ALLOW_DETACH names it or (for a detach)
# the run's own options ask for it (--detach-after-blocks, --detach-after-ms).
CHECK_STATS=${CHECK_STATS:-1}
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"      # ALLOW_DETACH, resolve_hotpath, detach_requested

resolve_hotpath "$1"
mkdir -p "$2" || exit 2
OUTDIR=$(realpath "$2")
STATS_DIR=$OUTDIR/stats
FILTER=${3:-}
IN=$OUTDIR/inputs

# Outputs must not depend on the caller's locale, time zone or per-process hash seeds.
export LC_ALL=C TZ=UTC PYTHONHASHSEED=0 PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0
unset LANG LANGUAGE PYTHONSTARTUP PERL5OPT LUA_INIT LUA_INIT_5_4 GZIP BZIP2 BZIP SQLITE_HISTORY

# ==== The case table =====================================================================
# Cases in the order they run, and the program each needs: when it is not installed the
# case prints SKIP. Case NAME is the function case_NAME below.
CASES=(ls sort sort_threads bzip2 gzip python3 gawk sed perl sqlite3 lua
       xz_threads zstd_threads python3_threads python3_signal bash_script make_j2 grep_pcre
       pcre2grep_jit)
declare -A REQUIRES=(
    [ls]=ls [sort]=sort [sort_threads]=sort [bzip2]=bzip2 [gzip]=gzip [python3]=python3
    [gawk]=gawk [sed]=sed [perl]=perl [sqlite3]=sqlite3 [lua]=lua5.4
    [xz_threads]=xz [zstd_threads]=zstd [python3_threads]=python3 [python3_signal]=python3
    [bash_script]=bash [make_j2]=make [grep_pcre]=grep [pcre2grep_jit]=pcre2grep
)

# ==== Inputs =============================================================================

FIXED_TIME='2020-01-02 03:04:05'

make_inputs() {
    rm -rf "$IN"
    mkdir -p "$IN"
    $CC -O2 -o "$IN/gen_inputs" "$HERE/gen_inputs.c" || return 1
    "$IN/gen_inputs" words 200000 >"$IN/words.txt" || return 1   # ~5 MB
    "$IN/gen_inputs" csv 100000 >"$IN/table.csv" || return 1
    { cat "$IN/words.txt"; "$IN/gen_inputs" bytes 1500000; } >"$IN/data.bin" || return 1
    {
        echo "CREATE TABLE sales(id INTEGER PRIMARY KEY, region TEXT, product TEXT, qty INTEGER, price REAL);"
        echo "BEGIN;"
        "$IN/gen_inputs" sql 50000
        echo "COMMIT;"
        cat <<'EOF'
CREATE INDEX sales_region ON sales(region);
SELECT region, count(*), sum(qty), printf('%.2f', sum(qty * price)) FROM sales GROUP BY region ORDER BY region;
SELECT product, count(*) AS n, max(qty), printf('%.3f', avg(price)) FROM sales GROUP BY product ORDER BY n DESC, product LIMIT 15;
SELECT region, product, sum(qty) AS q FROM sales WHERE price > 250 GROUP BY region, product HAVING q > 60 ORDER BY q DESC, region, product LIMIT 10;
SELECT count(DISTINCT product), min(price), max(price), total(qty) FROM sales;
UPDATE sales SET qty = qty + 1 WHERE id % 7 = 0;
DELETE FROM sales WHERE id % 11 = 0;
SELECT count(*), sum(qty) FROM sales;
SELECT * FROM no_such_table;
SELECT 'after the error', 1 + 1;
EOF
    } >"$IN/sales.sql" || return 1

    # ~2000 files with fixed sizes, modes and times; `..` of the listed directory is
    # lsroot, which holds nothing else, so its entry is stable too.
    local dir=$IN/lsroot/dir
    mkdir -p "$dir/sub_a" "$dir/sub_b"
    LC_ALL=C awk -v dir="$dir" 'BEGIN {
        for (i = 0; i < 1990; i++) {
            f = sprintf("%s/file_%04d%s", dir, i, (i % 3 == 0) ? ".txt" : (i % 3 == 1) ? ".dat" : "")
            n = (i * 37) % 300
            s = ""
            for (j = 0; j < n; j++) s = s "x"
            printf "%s", s > f
            close(f)
        }
    }' || return 1
    (
        cd "$dir" || exit 1
        chmod 600 file_*0.txt file_*5.dat
        chmod 755 file_*7
        chmod 444 file_1*.dat
        ln -s file_0000.txt link_to_first
        ln -s sub_a link_to_sub
        ln -s missing_target dangling_link
        : >.hidden
        touch -h -d "$FIXED_TIME" ./* .hidden
        touch -d "$FIXED_TIME" . ..
    ) || return 1
}

# ==== Running one step ===================================================================

# Set by run_mode before each run of a case: MODE is native, hotpath or variant<i> (a
# HOTPATH_VARIANTS entry, whose options are MODE_OPTS); CASE_STATS is where the hotpath
# steps of the run write statistics.
MODE=native
MODE_OPTS=
CASE_STATS=

# step NAME STDIN_FILE PROG ARGS...: runs PROG in the current directory, natively or
# under hotpath per MODE, writing NAME.out, NAME.err and NAME.status.
step() {
    local name=$1 input=$2
    shift 2
    local -a cmd=("$@")
    if [[ $MODE != native ]]; then
        local -a st=()
        [[ $CHECK_STATS == 1 ]] && st=(--stats-json "$CASE_STATS/$name.%p.json")
        # shellcheck disable=SC2206  # the option strings are word lists
        cmd=("$HOTPATH_BIN" run $HOTPATH_RUN_OPTS $MODE_OPTS "${st[@]}" -- "${cmd[@]}")
    fi
    {
        (ulimit -c 0 && exec timeout -k 5 "$TIMEOUT" "${cmd[@]}") \
            <"$input" >"$name.out" 2>"$name.err"
        echo $? >"$name.status"
    } 2>/dev/null
}

# note NAME FILE...: records sizes and checksums of files the case produced (harness
# side, never under hotpath) in NAME.note, so a report shows them.
note() {
    local name=$1
    shift
    local f
    for f in "$@"; do
        if [[ -f $f ]]; then
            printf '%s size=%s cksum=%s\n' "$(basename "$f")" "$(stat -c %s "$f")" "$(cksum <"$f" | cut -d' ' -f1)"
        else
            printf '%s missing\n' "$(basename "$f")"
        fi
    done >"$name.note"
}

# same_as NAME A B: records in NAME.note whether A and B have the same contents.
same_as() {
    local verdict='!='
    cmp -s "$2" "$3" && verdict='=='
    echo "$(basename "$2") $verdict $(basename "$3")" >>"$1.note"
}

# is_text FILE: true if FILE holds only printable ASCII, tabs and line ends.
is_text() { ! LC_ALL=C grep -qaP '[^\x09\x0a\x0d\x20-\x7e]' "$1"; }

# tool NAME: prints the path of an installed program, preferring the system's copy over
# wrappers such as pyenv shims (scripts, which hotpath would not see as the program).
tool() {
    local p
    for p in "/usr/bin/$1" "/bin/$1"; do
        [[ -x $p ]] && { echo "$p"; return 0; }
    done
    command -v "$1"
}

# ==== The cases ==========================================================================
# case_NAME runs in its own empty directory (the cwd) and is called once per MODE.

case_ls() {
    local ls
    ls=$(tool ls)
    step list /dev/null "$ls" -la "$IN/lsroot/dir"
    step by_size /dev/null "$ls" -laS --time-style=full-iso "$IN/lsroot/dir"
    step recursive /dev/null "$ls" -lR "$IN/lsroot"
    step missing /dev/null "$ls" -la "$IN/lsroot/no_such_entry"
}

case_sort() {
    local sort
    sort=$(tool sort)
    step plain /dev/null "$sort" --parallel=1 -S 64M "$IN/words.txt"
    step numeric_key /dev/null "$sort" --parallel=1 -S 64M -t ' ' -k2,2n -k1,1 "$IN/words.txt"
    step unique_reverse "$IN/words.txt" "$sort" --parallel=1 -S 64M -u -r
    step missing /dev/null "$sort" "$IN/no_such_file"
}

# sort's default in-memory sort of a large input uses several threads.
case_sort_threads() {
    local sort
    sort=$(tool sort)
    step threads /dev/null "$sort" --parallel=4 -S 256M "$IN/words.txt"
}

case_bzip2() {
    local bz
    bz=$(tool bzip2)
    step compress "$IN/data.bin" "$bz" -9 -c
    step decompress compress.out "$bz" -d -c
    step test compress.out "$bz" -t
    note sizes "$IN/data.bin" compress.out decompress.out
    same_as sizes "$IN/data.bin" decompress.out
}

case_gzip() {
    local gz
    gz=$(tool gzip)
    step compress "$IN/data.bin" "$gz" -9 -n -c
    step fast "$IN/data.bin" "$gz" -1 -n -c
    step decompress compress.out "$gz" -d -c
    step list compress.out "$gz" -l
    note sizes "$IN/data.bin" compress.out fast.out decompress.out
    same_as sizes "$IN/data.bin" decompress.out
}

case_python3() {
    step compute /dev/null "$(tool python3)" -c '
import sys
total = sum(i * i for i in range(300000))
buckets = {}
for i in range(200000):
    key = "k%d" % ((i * 7919) % 1000)
    buckets[key] = buckets.get(key, 0) + i % 13
words = {}
for i in range(50000):
    w = "".join(chr(97 + (i * p) % 26) for p in (3, 5, 7))
    words[w] = words.get(w, 0) + 1
top = sorted(words.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
print("sum of squares:", total)
print("buckets:", len(buckets), sum(buckets.values()), buckets["k0"], buckets["k999"])
print("top words:", top)
print("float: %.6f" % sum(1.0 / (k * k) for k in range(1, 100000)))
print("sorted sample:", sorted(buckets)[:4])
sys.stderr.write("python3 writes to stderr\n")
sys.exit(3)
'
    step error /dev/null "$(tool python3)" -c 'import no_such_module_here'
}

case_gawk() {
    step aggregate "$IN/table.csv" "$(tool gawk)" -F, '
NR == 1 { next }
{
    n[$2]++; qty[$2] += $4; value[$2] += $4 * $5
    prod[$3] += $4
    if ($5 > maxp) { maxp = $5; maxid = $1 }
}
END {
    PROCINFO["sorted_in"] = "@ind_str_asc"
    for (r in n) printf "%-8s rows=%d qty=%d value=%.2f avg=%.4f\n", r, n[r], qty[r], value[r], value[r] / qty[r]
    PROCINFO["sorted_in"] = "@val_num_desc"
    k = 0
    for (p in prod) { if (k++ < 10) printf "product %s %d\n", p, prod[p] }
    printf "max price %.2f at id %d\n", maxp, maxid
    print "gawk writes to stderr" > "/dev/stderr"
    exit 4
}'
}

case_sed() {
    local sed
    sed=$(tool sed)
    step substitute "$IN/words.txt" "$sed" -E 's/([a-z]+) ([0-9]+) ([a-z]+)-([a-z]+)/\4:\3 [\2] \1/; s/ka/KA/g; y/lmn/LMN/'
    step select "$IN/table.csv" "$sed" -n -E '/,north,/{s/,([0-9]+)\.([0-9]+)$/ price=\1 cents=\2/p}'
    step delete "$IN/words.txt" "$sed" -e '/^[a-m]/d' -e '1~3s/$/ (third)/' -e '$a\end of file'
}

case_perl() {
    step hashes "$IN/table.csv" "$(tool perl)" -e '
use strict; use warnings;
my (%by_region, %by_prefix, $rows, $matched);
while (my $line = <STDIN>) {
    chomp $line;
    next if $. == 1;
    my ($id, $region, $product, $qty, $price) = split /,/, $line;
    $rows++;
    $by_region{$region}{qty} += $qty;
    $by_region{$region}{value} += $qty * $price;
    if ($product =~ /^([b-d][a-z])/) { $by_prefix{$1}++; $matched++ }
    (my $swapped = $line) =~ s/^(\d+),(\w+)/$2#$1/;
    $by_prefix{"#"}++ if $swapped =~ /#\d*7$/ || $swapped =~ /^\w+#\d+,/ && $id % 1000 == 0;
}
for my $r (sort keys %by_region) {
    printf "%-8s qty=%d value=%.2f\n", $r, $by_region{$r}{qty}, $by_region{$r}{value};
}
print join(" ", map { "$_=$by_prefix{$_}" } sort keys %by_prefix), "\n";
my $text = join ",", map { $_ * 3 } 1 .. 2000;
my @fields = ($text =~ /(\d*5\d*)/g);
printf "rows=%d matched=%d fives=%d last=%s\n", $rows, $matched, scalar @fields, $fields[-1];
warn "perl writes to stderr\n";
exit 5;
'
}

case_sqlite3() {
    step load_and_query "$IN/sales.sql" "$(tool sqlite3)" sales.db
    step reopen /dev/null "$(tool sqlite3)" sales.db \
        "SELECT count(*), sum(qty), printf('%.2f', sum(price)) FROM sales; PRAGMA integrity_check;"
    step memory /dev/null "$(tool sqlite3)" :memory: \
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000) SELECT count(*), sum(x * x % 1000), max(x) FROM c;"
}

case_lua() {
    step compute /dev/null "$(tool lua5.4)" -e '
local sum = 0
for i = 1, 3000000 do sum = sum + (i * i) % 1000003 end
local counts = {}
for i = 1, 200000 do
    local k = string.format("k%03d", (i * 7919) % 500)
    counts[k] = (counts[k] or 0) + i % 17
end
local keys = {}
for k in pairs(counts) do keys[#keys + 1] = k end
table.sort(keys)
local parts = {}
for i = 1, 5 do parts[#parts + 1] = keys[i] .. "=" .. counts[keys[i]] end
print("sum", sum)
print("keys", #keys, table.concat(parts, " "))
local s = string.rep("abc", 10000):gsub("b", "XY")
print("gsub", #s, s:sub(1, 12), select(2, s:gsub("XY", "")))
print(string.format("float %.6f", math.sin(1) + math.sqrt(2)))
io.stderr:write("lua writes to stderr\n")
os.exit(6)
'
}

# xz with two threads: a fixed block size makes the threaded output independent of timing
# (and of the thread count), so it is compared byte for byte.
case_xz_threads() {
    local xz
    xz=$(tool xz)
    step compress "$IN/data.bin" "$xz" -T2 --block-size=1MiB -6 -c
    step decompress compress.out "$xz" -T2 -d -c
    step test compress.out "$xz" -T2 -t
    step list /dev/null "$xz" --robot -l compress.out
    note sizes "$IN/data.bin" compress.out decompress.out
    same_as sizes "$IN/data.bin" decompress.out
}

# zstd with two worker threads and 1 MiB jobs; its output does not depend on the timing.
case_zstd_threads() {
    local zstd
    zstd=$(tool zstd)
    step compress "$IN/data.bin" "$zstd" -q -T2 -B1048576 -6 -c
    step decompress compress.out "$zstd" -q -T2 -d -c
    step test compress.out "$zstd" -q -t
    note sizes "$IN/data.bin" compress.out decompress.out
    same_as sizes "$IN/data.bin" decompress.out
}

case_python3_threads() {
    step threads /dev/null "$(tool python3)" -c '
import queue, threading
lock = threading.Lock()
results, shared = {}, {"total": 0, "lock_rounds": 0}
def worker(k):
    local = 0
    for i in range(30000):
        local += (i * (k + 1)) % 97
        if i % 500 == 0:
            with lock:
                shared["lock_rounds"] += 1
    with lock:
        results[k] = local
        shared["total"] += local
workers = [threading.Thread(target=worker, args=(k,), name="w%d" % k) for k in range(8)]
for t in workers: t.start()
for t in workers: t.join()
print("results:", [results[k] for k in range(8)])
print("total:", shared["total"], "lock rounds:", shared["lock_rounds"])

q, sums = queue.Queue(maxsize=4), []
def producer(base):
    for i in range(2000): q.put(base + i)
def consumer():
    s = 0
    while (item := q.get()) is not None: s += item
    with lock: sums.append(s)
consumers = [threading.Thread(target=consumer) for _ in range(3)]
producers = [threading.Thread(target=producer, args=(b * 10000,)) for b in range(4)]
for t in consumers + producers: t.start()
for t in producers: t.join()
for _ in consumers: q.put(None)
for t in consumers: t.join()
print("queue: sum", sum(sums), "consumers", len(sums))

cond, order, turn = threading.Condition(), [], [0]
def in_turn(k):
    with cond:
        cond.wait_for(lambda: turn[0] == k)
        order.append(k)
        turn[0] += 1
        cond.notify_all()
ring = [threading.Thread(target=in_turn, args=(k,)) for k in reversed(range(6))]
for t in ring: t.start()
for t in ring: t.join()
print("condition order:", order)

barrier, sem, inside, peak = threading.Barrier(4), threading.Semaphore(2), [0], [0]
def stage():
    barrier.wait()
    with sem:
        with lock:
            inside[0] += 1
            peak[0] = max(peak[0], inside[0])
        sum(range(20000))
        with lock: inside[0] -= 1
staged = [threading.Thread(target=stage) for _ in range(4)]
for t in staged: t.start()
for t in staged: t.join()
print("semaphore peak <= 2:", peak[0] <= 2, "threads left:", threading.active_count())
'
}

# Python runs its signal handlers between bytecodes; the C-level handler only sets a flag.
# The second step dies by SIGTERM (status 143), leaving hotpath no moment to write stats.
case_python3_signal() {
    step signals /dev/null "$(tool python3)" -c '
import os, signal, time
ticks = 0
def on_alarm(sig, frame):
    global ticks
    ticks += 1
signal.signal(signal.SIGALRM, on_alarm)
signal.setitimer(signal.ITIMER_REAL, 0.001, 0.001)
acc = 0
for i in range(1500000):
    acc = (acc * 31 + i) % 1000003
signal.setitimer(signal.ITIMER_REAL, 0, 0)
print("loop result:", acc)
print("ticks>0:", "yes" if ticks > 0 else "no")

got = []
signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
os.kill(os.getpid(), signal.SIGUSR1)
print("pending while blocked:", signal.SIGUSR1 in signal.sigpending(), "handled:", len(got))
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1})
print("handled after unblock:", len(got))

class Timeout(Exception):
    pass
def on_timeout(sig, frame):
    raise Timeout()
signal.signal(signal.SIGALRM, on_timeout)
signal.setitimer(signal.ITIMER_REAL, 0.05)
try:
    time.sleep(5)
    print("sleep finished")
except Timeout:
    print("sleep interrupted by the handler exception")
signal.signal(signal.SIGUSR2, signal.SIG_IGN)
os.kill(os.getpid(), signal.SIGUSR2)
print("SIGUSR2 ignored")
'
    step sigterm /dev/null "$(tool python3)" -c '
import os, signal
print("SIGTERM default:", signal.getsignal(signal.SIGTERM) == signal.SIG_DFL, flush=True)
os.kill(os.getpid(), signal.SIGTERM)
print("not reached")
'
}

# Pipelines, subshells, command and process substitution, background jobs, a trap; every
# external command bash starts runs under hotpath too (the preload is inherited).
case_bash_script() {
    step script /dev/null "$(tool bash)" -c '
set -o pipefail
words=$1
echo "lines: $(wc -l <"$words")"
cut -d" " -f1 "$words" | sort | uniq -c | sort -k1,1nr -k2 | head -n 5
(cd / && pwd)
echo "subshell: $(cd "$(dirname "$words")" && basename "$PWD")"
paste -d" " <(seq 1 5) <(seq 6 10) | while read -r a b; do echo $((a * b)); done | tr "\n" " "
echo
sum=0 n=0
while read -r _ num _; do sum=$((sum + num)); n=$((n + 1)); done < <(head -n 2000 "$words")
echo "sum of 2000 numbers: $sum ($n lines)"
arr=(alpha beta gamma delta)
echo "${#arr[@]} ${arr[2]^^} ${arr[*]:1:2} ${arr[3]/l/L}"
(sleep 0.05; exit 3) & p1=$!
(exit 4) & p2=$!
wait $p1; s1=$?
wait $p2; s2=$?
echo "job statuses: $s1 $s2"
false | true
echo "pipefail status: $?"
printf "first\nsecond\n" | { read -r x; read -r y; echo "braces: $y $x"; }
fib() { local n=$1; if ((n < 2)); then echo "$n"; else echo $(($(fib $((n - 1))) + $(fib $((n - 2))))); fi; }
echo "fib 10: $(fib 10)"
for f in a.txt b.c c.h; do
    case $f in *.c) echo "$f: C" ;; *.h) echo "$f: header" ;; *) echo "$f: other" ;; esac
done
sed -n "/ka/p" "$words" | wc -l | { read -r k; echo "lines with ka: $k"; }
trap "echo exit trap ran" EXIT
echo "bash writes to stderr" >&2
exit 7
' bash "$IN/words.txt"
}

# make -j2 of a generated five-file C project in the case directory (written by the
# harness, the same in both runs); the objects and the program are compared too.
case_make_j2() {
    local i
    printf '%s\n' 'unsigned long part_a(unsigned long);' 'unsigned long part_b(unsigned long);' \
        'unsigned long part_c(unsigned long);' 'unsigned long part_d(unsigned long);' >common.h
    for i in a b c d; do
        printf '%s\n' '#include "common.h"' "unsigned long part_$i(unsigned long x)" '{' \
            "    unsigned long h = x ^ '$i';" '    for (int k = 0; k < 1000; k++)' \
            '        h = h * 6364136223846793005ul + (unsigned long)k;' '    return h;' '}' >"$i.c"
    done
    printf '%s\n' '#include <stdio.h>' '#include "common.h"' 'int main(void)' '{' \
        '    unsigned long x = 1;' '    for (int i = 0; i < 10; i++)' \
        '        x = part_d(part_c(part_b(part_a(x))));' '    printf("result %016lx\n", x);' \
        '    return 0;' '}' >main.c
    printf '%s\n' 'CC := gcc' 'CFLAGS := -O2 -Wall' 'OBJS := main.o a.o b.o c.o d.o' \
        'prog: $(OBJS)' '	$(CC) -o $@ $(OBJS)' '%.o: %.c common.h' '	$(CC) $(CFLAGS) -c $<' \
        'check: prog' '	./prog' >Makefile
    step build /dev/null "$(tool make)" -j2 -s
    step check /dev/null "$(tool make)" -s check
    step again /dev/null "$(tool make)" -j2
}

# grep -P compiles each pattern with PCRE2's JIT: backreferences, lookaround, \K, atomic
# groups; no match (status 1) and a bad pattern (status 2) too.
case_grep_pcre() {
    local grep
    grep=$(tool grep)
    step backref /dev/null "$grep" -P -c '^(\w+) \d+ \1-' "$IN/words.txt"
    step lookaround /dev/null "$grep" -P -c '(?<=-)(?:ka|lo)\w*(?=$)' "$IN/words.txt"
    step keep_out /dev/null "$grep" -P -o -m 40 '^\w+ \K\d{6}(?= \w*(\w\w)\1)' "$IN/words.txt"
    step atomic /dev/null "$grep" -P -n -m 30 '^(?>\w+) (\d)\d*\1 (?!ka)' "$IN/words.txt"
    step caseless /dev/null "$grep" -P -i -c 'BRA(?:che|dri)+\b' "$IN/words.txt"
    step no_match /dev/null "$grep" -P 'zzzz(?=q)' "$IN/words.txt"
    step bad_pattern /dev/null "$grep" -P '(?<=a+)b' "$IN/words.txt"
}

# The same kind of patterns with pcre2grep, which installs no fault handler, so PCRE2's JIT
# code (written to fresh executable memory, then run) is run under hotpath; --no-jit gives
# the interpreter's answer for the same pattern.
case_pcre2grep_jit() {
    local pg
    pg=$(tool pcre2grep)
    step backref /dev/null "$pg" -c '^(\w+) \d+ \1-' "$IN/words.txt"
    step backref_nojit /dev/null "$pg" --no-jit -c '^(\w+) \d+ \1-' "$IN/words.txt"
    step lookaround /dev/null "$pg" -c '(?<=-)(?:ka|lo)\w*(?=$)' "$IN/words.txt"
    step keep_out /dev/null "$pg" -o -m 40 '^\w+ \K\d{6}(?= \w*(\w\w)\1)' "$IN/words.txt"
    step atomic /dev/null "$pg" -n -m 30 '^(?>\w+) (\d)\d*\1 (?!ka)' "$IN/words.txt"
    step caseless /dev/null "$pg" -i -c 'BRA(?:che|dri)+\b' "$IN/words.txt"
    step no_match /dev/null "$pg" 'zzzz(?=q)' "$IN/words.txt"
    step bad_pattern /dev/null "$pg" '(?<=a+)b' "$IN/words.txt"
}

# ==== Main ===============================================================================

if ! make_inputs; then
    echo "could not generate the inputs in $IN" >&2
    exit 2
fi

# The hotpath runs of a case, as "mode|label|options" lines: the default run first, then
# one per HOTPATH_VARIANTS entry.
declare -a RUNS=("hotpath||")
IFS=';' read -r -a variants <<<"$HOTPATH_VARIANTS"
for v in "${variants[@]}"; do
    read -r -a words <<<"$v"
    [[ ${#words[@]} -gt 0 ]] && RUNS+=("variant${#RUNS[@]}|[${words[*]}]|${words[*]}")
done

# stats_dir MODE: where the hotpath runs of MODE write statistics, one directory per case.
stats_dir() {
    if [[ $1 == hotpath ]]; then echo "$STATS_DIR"; else echo "$OUTDIR/stats_$1"; fi
}


# run_mode NAME MODE OPTIONS: runs case NAME once, in OUTDIR/MODE/NAME.
run_mode() {
    local name=$1
    MODE=$2
    MODE_OPTS=$3
    CASE_STATS=$(stats_dir "$MODE")/$name
    rm -rf "${OUTDIR:?}/$MODE/$name" "${CASE_STATS:?}"
    mkdir -p "$OUTDIR/$MODE/$name"
    [[ $MODE != native ]] && mkdir -p "$CASE_STATS"
    (cd "$OUTDIR/$MODE/$name" && "case_$name")
}

passed=0
failed=0
skipped=0

# check_mode NAME MODE LABEL OPTIONS: compares OUTDIR/MODE/NAME with the native run and the
# statistics of MODE; prints PASS or FAIL with what differed, and counts it.
check_mode() {
    local name=$1 mode=$2 label=$3 opts=$4
    local n=$OUTDIR/native/$name h=$OUTDIR/$mode/$name sdir f r rel reason why
    sdir=$(stats_dir "$mode")/$name
    local native_timeout=0
    grep -qx 124 "$n"/*.status 2>/dev/null && native_timeout=1
    local -a stats_bad=()
    if [[ $CHECK_STATS == 1 && $ALLOW_DETACH != *" $name "* ]]; then
        shopt -s nullglob
        local -a sfiles=("$sdir"/*.json)
        shopt -u nullglob
        [[ ${#sfiles[@]} -gt 0 ]] || stats_bad+=("hotpath wrote no statistics")
        for f in "${sfiles[@]}"; do
            grep -q '"detached": true' "$f" || continue
            why=$(grep -o '"detach_reason": "[^"]*"' "$f" | cut -d'"' -f4)
            detach_requested "$HOTPATH_RUN_OPTS $opts" "$why" && continue
            stats_bad+=("hotpath detached in $(basename "$f" .json): $why")
        done
    fi
    if [[ $native_timeout == 0 && ${#stats_bad[@]} -eq 0 ]] && diff -rq "$n" "$h" >/dev/null 2>&1; then
        echo "PASS $name${label:+ $label}"
        passed=$((passed + 1))
        return
    fi
    # Name what differed: each differing or missing file, timeouts called out.
    local -a problems=("${stats_bad[@]}")
    [[ $native_timeout == 1 ]] && problems+=("native run timed out after ${TIMEOUT}s")
    while IFS= read -r f; do
        rel=${f#"$n"/}
        if [[ ! -e $h/$rel ]]; then
            problems+=("$rel missing under hotpath")
        elif [[ $rel == *.status ]]; then
            problems+=("$rel $(<"$n/$rel") native, $(<"$h/$rel") hotpath")
        else
            problems+=("$rel differs")
        fi
    done < <(cd "$n" && find . -type f | sed 's|^\./||' | sort | while read -r r; do
        cmp -s "$n/$r" "$h/$r" || echo "$n/$r"
    done)
    while IFS= read -r r; do
        [[ -e $n/$r ]] || problems+=("$r only under hotpath")
    done < <(cd "$h" && find . -type f | sed 's|^\./||' | sort)
    grep -qx 124 "$h"/*.status 2>/dev/null && problems+=("hotpath timed out after ${TIMEOUT}s")
    reason=$(printf '%s, ' "${problems[@]}")
    echo "FAIL $name${label:+ $label} (${reason%, })"
    local shown=0
    for f in "$n"/*.out "$n"/*.err "$n"/*.note; do
        [[ -f $f && $shown -lt 2 ]] || continue
        rel=${f#"$n"/}
        if [[ ! -f $h/$rel ]] || cmp -s "$f" "$h/$rel"; then
            continue
        fi
        if is_text "$f" && is_text "$h/$rel"; then
            diff -u --label "native $rel" --label "hotpath $rel" "$f" "$h/$rel" | head -n 15 | cut -c1-200
        else
            cmp "$f" "$h/$rel" 2>&1 | head -n 1
        fi | sed 's/^/    /'
        shown=$((shown + 1))
    done
    echo "    (full output in $n and $h)"
    failed=$((failed + 1))
}

for name in "${CASES[@]}"; do
    [[ -z $FILTER || $name =~ $FILTER ]] || continue
    if ! tool "${REQUIRES[$name]}" >/dev/null; then
        echo "SKIP $name (${REQUIRES[$name]} not installed)"
        skipped=$((skipped + 1))
        continue
    fi
    run_mode "$name" native ""
    for run in "${RUNS[@]}"; do
        IFS='|' read -r mode label opts <<<"$run"
        run_mode "$name" "$mode" "$opts"
        check_mode "$name" "$mode" "$label" "$opts"
    done
done

[[ $skipped -gt 0 ]] && echo "($skipped skipped)"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 && $passed -gt 0 ]]
