#!/usr/bin/env bash
# bounds/run.sh — upper bounds of the -O0 figure (issue #5): builds hotpath once more per
# patch in this folder, each applied to a copy of the checked-out tree, and runs the -O0
# suite with the real build and every patched one side by side (benchmarks/run.sh, one run,
# interleaved). The patches are UNSAFE on purpose — each drops a rule that keeps the
# optimized code exact (see the text above the first `diff` line of each); they exist to
# measure what the rules cost, never to be used. Outputs are still checked against native:
# the suite's programs happen not to depend on those rules.
#
# usage: benchmarks/bounds/run.sh HOTPATH_BIN OUTDIR [benchmarks/run.sh options, e.g. -n 3]
#   HOTPATH_BIN  the real build (make: build/bin/hotpath)
#   OUTDIR       builds in OUTDIR/<patch>, the suite's files and results in OUTDIR/suite
# Invariants: the patched copies are made from the working tree as git lists it (tracked
# files, with their uncommitted changes); the checkout itself is never modified.
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: $0 HOTPATH_BIN OUTDIR [run.sh options]" >&2; exit 2; }
HP=$(realpath "$1"); OUT=$2; shift 2
[[ -x $HP ]] || { echo "bounds: $HP: not an executable (make first)" >&2; exit 2; }
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
mkdir -p "$OUT"; OUT=$(realpath "$OUT")
variants=()
for p in "$HERE"/*.patch; do
    name=$(basename "$p" .patch)
    dir=$OUT/$name
    rm -rf "$dir"; mkdir -p "$dir"
    (cd "$TOP" && git ls-files -z | xargs -0 cp --parents -t "$dir")
    (cd "$dir" && git apply "$p") || { echo "bounds: $name.patch does not apply to this tree" >&2; exit 1; }
    make -C "$dir" -j2 all >"$dir.build.log" 2>&1 || { echo "bounds: $name: build failed ($dir.build.log)" >&2; exit 1; }
    variants+=(--variant "$name:$(printf %q "$dir/build/bin/hotpath") run --")
done
exec bash "$TOP/benchmarks/run.sh" "$HP" "$OUT/suite" --opt-levels O0 --filter '\.O0$' \
    --variants opt "${variants[@]}" "$@"
