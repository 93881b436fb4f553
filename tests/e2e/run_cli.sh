#!/usr/bin/env bash
# run_cli.sh — end-to-end checks of the `hotpath` command itself: every refusal (no such
# program, not an ELF, a 32-bit or static binary, a set-id program, a script, an unknown
# option) is one line on stderr with a non-zero status and runs nothing; exit status, death
# by signal and the statistics file are the program's own.
# Usage: run_cli.sh HOTPATH_BIN OUTDIR
set -u
H=$(realpath "$1"); OUT=$2
mkdir -p "$OUT"; OUT=$(realpath "$OUT")
pass=0; fail=0
ok()  { echo "PASS $1"; pass=$((pass+1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail+1)); }

# expect_refusal NAME PATTERN CMD...: non-zero exit, exactly one stderr line matching PATTERN.
expect_refusal() {
  local name=$1 pat=$2; shift 2
  "$@" >"$OUT/out" 2>"$OUT/err"; local rc=$?
  local lines; lines=$(wc -l <"$OUT/err")
  if [ $rc -ne 0 ] && [ "$lines" -eq 1 ] && grep -q -- "$pat" "$OUT/err" && [ ! -s "$OUT/out" ]; then ok "$name"
  else bad "$name" "rc=$rc lines=$lines stderr=$(head -c 300 "$OUT/err")"; fi
}

cat >"$OUT/hello.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "segv")) raise(SIGSEGV);
  if (argc > 1 && !strcmp(argv[1], "exit")) { printf("bye\n"); exit(atoi(argv[2])); }
  printf("hello %d\n", argc); return 0;
}
C
gcc -O2 -o "$OUT/hello" "$OUT/hello.c" || exit 1
gcc -O2 -static -o "$OUT/hello_static" "$OUT/hello.c" 2>/dev/null
echo "just text" >"$OUT/text"; chmod +x "$OUT/text"
printf '#!/bin/sh\necho hi\n' >"$OUT/script.sh"; chmod +x "$OUT/script.sh"
# A minimal 32-bit ELF header is enough for the check (it is never run).
printf '\x7fELF\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x03\x00' >"$OUT/elf32"
head -c 64 /dev/zero >>"$OUT/elf32"; chmod +x "$OUT/elf32"
cp "$OUT/hello" "$OUT/hello_suid"; chmod u+s "$OUT/hello_suid"

expect_refusal "missing program" "No such file" "$H" run -- "$OUT/nonexistent"
expect_refusal "command not in PATH" "command not found" "$H" run -- no-such-command-xyz
expect_refusal "not an ELF" "not an ELF" "$H" run -- "$OUT/text"
expect_refusal "script" "a script" "$H" run -- "$OUT/script.sh"
expect_refusal "32-bit ELF" "32-bit" "$H" run -- "$OUT/elf32"
expect_refusal "directory" "is a directory" "$H" run -- "$OUT"
expect_refusal "set-id program" "set-user-ID" "$H" run -- "$OUT/hello_suid"
if [ -x "$OUT/hello_static" ]; then expect_refusal "static binary" "statically linked" "$H" run -- "$OUT/hello_static"
else echo "SKIP static binary (no static libc)"; fi
expect_refusal "unknown option" "unknown option" "$H" run --bogus -- "$OUT/hello"
expect_refusal "option missing value" "needs a value" "$H" run --stats-json
expect_refusal "flag given a value" "takes no value" "$H" run --verbose=3 -- "$OUT/hello"
expect_refusal "bad HOTPATH_OPTIONS" "HOTPATH_OPTIONS" env HOTPATH_OPTIONS=--nope "$H" run -- "$OUT/hello"
expect_refusal "no program" "no program" "$H" run --verbose
expect_refusal "unknown command" "unknown command" "$H" frobnicate

"$H" --version | grep -q '^hotpath [0-9]' && ok "--version" || bad "--version" "no version line"
expect_refusal "unknown optimizer pass" "no optimizer pass called 'bogus'" "$H" run --opt=dce,bogus -- "$OUT/hello"
"$H" --help | grep -q -- '--stats-json' && ok "--help lists options" || bad "--help" "no option list"

# Exit status, output and death by signal are the program's own.
out=$("$H" run -- "$OUT/hello" exit 42); rc=$?
[ $rc -eq 42 ] && [ "$out" = "bye" ] && ok "exit status 42" || bad "exit status" "rc=$rc out=$out"
"$OUT/hello" segv 2>/dev/null; nrc=$?
"$H" run -- "$OUT/hello" segv 2>/dev/null; hrc=$?
[ $nrc -eq $hrc ] && [ $hrc -eq 139 ] && ok "death by SIGSEGV" || bad "death by signal" "native=$nrc hotpath=$hrc"
out=$(cd "$OUT" && "$H" run -- ./hello a b); [ "$out" = "hello 3" ] && ok "argv passed" || bad "argv" "$out"

# Statistics: %p expands to the PID, relative paths survive a chdir, the keys are there.
rm -f "$OUT"/stats.*.json
(cd "$OUT" && "$H" run --stats-json stats.%p.json -- ./hello >/dev/null)
f=$(ls "$OUT"/stats.*.json 2>/dev/null | head -1)
if [ -n "$f" ] && python3 - "$f" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
need = ["blocks_built", "block_cache_bytes", "dispatcher_entries", "indirect_lookups",
        "indirect_misses", "links_made", "exit_code"]
assert all(k in d for k in need), d
assert d["exit_code"] == 0 and d["blocks_built"] > 100 and d["links_made"] > 0, d
assert d["detached"] is False, d
PY
then ok "stats json"; else bad "stats json" "$(cat "$f" 2>/dev/null)"; fi

# --detach-after-blocks: the program finishes natively with the same output.
out=$("$H" run --detach-after-blocks 50 --stats-json "$OUT/det.json" -- "$OUT/hello" x)
grep -q '"detached": true' "$OUT/det.json" && [ "$out" = "hello 2" ] && ok "detach mid-run" || bad "detach" "$out $(cat "$OUT/det.json")"

# Exec: followed by default (the exec'd program writes its own statistics); with
# --no-follow-exec it runs natively, with hotpath gone from its environment.
cat >"$OUT/execer.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
  if (argc > 1) { const char *p = getenv("LD_PRELOAD"); printf("child preload=%s\n", p ? p : "(none)"); return 0; }
  fflush(stdout); execl("/proc/self/exe", "execer", "child", (char *)0); return 1;
}
C
gcc -O2 -o "$OUT/execer" "$OUT/execer.c"
rm -f "$OUT"/ex.*.json
out=$("$H" run --stats-json "$OUT/ex.%p.json" -- "$OUT/execer")
n=$(grep -l '"exit_code": 0' "$OUT"/ex.*.json 2>/dev/null | wc -l)
[[ $out == *libhotpath.so* && $n -ge 1 ]] && ok "exec followed" || bad "exec followed" "$out ($n stats)"
out=$("$H" run --no-follow-exec -- "$OUT/execer")
[ "$out" = "child preload=(none)" ] && ok "--no-follow-exec" || bad "--no-follow-exec" "$out"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
