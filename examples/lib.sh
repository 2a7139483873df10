# shellcheck shell=bash
# Shared by the reproductions: helper programs, cgroups that are removed on exit, and the lines the
# test harness reads (EXPECT key=value, OBSERVED failures=N errno=NAME).
set -euo pipefail
EXAMPLES=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=$EXAMPLES/bin
PIDS_ROOT=/sys/fs/cgroup/pids
EX_CGROUPS=()
EX_PIDS=()
[ "$(id -u)" -eq 0 ] || { echo "run as root: the example creates cgroups, users or namespaces" >&2; exit 2; }
make -s -C "$EXAMPLES" >&2 # builds what is missing or older than its source

ex_cleanup() {
    local pid i cg
    # The offenders outlive the workload by 50 ms: forktrace must name a process that exits that soon
    # after the failure.
    sleep 0.05
    for pid in "${EX_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    for ((i = ${#EX_CGROUPS[@]} - 1; i >= 0; i--)); do
        cg=${EX_CGROUPS[$i]}
        [ -d "$cg" ] || continue
        while read -r pid; do kill -KILL "$pid" 2>/dev/null || true; done <"$cg/cgroup.procs"
        for _ in $(seq 20); do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done
    done
    if declare -F ex_extra_cleanup >/dev/null; then ex_extra_cleanup; fi
}
trap ex_cleanup EXIT

should_say() { echo "forktrace should say: $*"; }
expect() { echo "EXPECT $1=$2"; }

# pids_cgroup PATH [LIMIT]: a cgroup v1 pids cgroup (PATH relative to the hierarchy), removed on exit.
pids_cgroup() {
    local cg=$PIDS_ROOT/$1
    mkdir -p "$cg"
    EX_CGROUPS+=("$cg")
    if [ -n "${2:-}" ]; then echo "$2" >"$cg/pids.max"; fi
}

# start_offender CGROUP_DIR COMMAND...: runs the offender in the background (inside CGROUP_DIR, any
# hierarchy, unless it is ""), killed on exit; returns once it printed its first line, i.e. holds what
# it holds.
start_offender() {
    local cg=$1 fifo
    shift
    fifo=$(mktemp -u /tmp/forktrace-offender.XXXXXX)
    mkfifo "$fifo"
    if [ -n "$cg" ]; then
        sh -c 'echo $$ > "$0/cgroup.procs"; exec "$@"' "$cg" "$@" >"$fifo" &
    else
        "$@" >"$fifo" &
    fi
    EX_PIDS+=($!)
    disown $! # its SIGKILL at cleanup is expected, not news
    head -1 "$fifo" >&2
    rm -f "$fifo"
}

# start_holder CGROUP_PATH TASKS [RUNNER...]: the offender, holding TASKS tasks in the pids cgroup ("" = none).
start_holder() {
    local cg=$1 tasks=$2
    shift 2
    start_offender "${cg:+$PIDS_ROOT/$cg}" "$@" "$BIN/holder" "$tasks"
}

# in_pids_cgroup CGROUP_PATH COMMAND...
in_pids_cgroup() {
    local cg=$PIDS_ROOT/$1
    shift
    sh -c 'echo $$ > "$0/cgroup.procs"; exec "$@"' "$cg" "$@"
}
