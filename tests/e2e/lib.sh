# lib.sh — what the end-to-end scripts share: finding the hotpath binary, the cases allowed
# to detach, and which detaches a run asked for itself. Sourced, not run.

# ALLOW_DETACH: case names (space-separated, from the environment) whose hotpath runs may
# detach without failing; empty by default, since hotpath runs every case to the end.
ALLOW_DETACH=" ${ALLOW_DETACH:-} "

# resolve_hotpath ARG: sets HOTPATH_BIN to the absolute path of the hotpath binary ARG (a
# path, or a name in PATH), or exits 2 with one line on stderr.
resolve_hotpath() {
    if [[ $1 == */* ]]; then
        HOTPATH_BIN=$(realpath "$1")
    else
        HOTPATH_BIN=$(command -v "$1") || { echo "hotpath binary not found: $1" >&2; exit 2; }
    fi
    [[ -x $HOTPATH_BIN ]] || { echo "not executable: $HOTPATH_BIN" >&2; exit 2; }
}

# detach_requested OPTIONS REASON: true if a run with OPTIONS asked for the detach REASON
# (--detach-after-blocks, --detach-after-ms), which is then no failure.
detach_requested() {
    [[ " $1 " == *" --detach-after-blocks "* && $2 == "--detach-after-blocks reached" ]] ||
        [[ " $1 " == *" --detach-after-ms "* && $2 == "--detach-after-ms reached" ]]
}
