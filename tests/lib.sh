# shellcheck shell=bash
# Shared helpers for tests/integration/*.sh: run forktrace in the background, make cgroups, assert.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FORKTRACE=$ROOT/forktrace
HELPERS=$ROOT/examples/bin
PIDS_ROOT=/sys/fs/cgroup/pids
WORK=$(mktemp -d /tmp/forktrace-test.XXXXXX)
CGROUPS=()
WATCH_PID=""

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "skipped: $*"; exit 77; }
note() { echo "-- $*"; }

cleanup() {
    if [ -n "$WATCH_PID" ] && kill -0 "$WATCH_PID" 2>/dev/null; then kill -TERM "$WATCH_PID"; wait "$WATCH_PID" || true; fi
    local i
    # make_pids_cgroup usually runs in $(...), whose CGROUPS+= is lost: it also notes each cgroup in a file.
    [ -f "$WORK/cgroups" ] && mapfile -t -O ${#CGROUPS[@]} CGROUPS <"$WORK/cgroups"
    for ((i = ${#CGROUPS[@]} - 1; i >= 0; i--)); do
        local cg=${CGROUPS[$i]}
        [ -d "$cg" ] || continue
        while read -r pid; do [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true; done <"$cg/cgroup.procs"
        for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

# make_pids_cgroup RELATIVE_PATH [LIMIT]: a cgroup v1 pids cgroup, removed at exit.
make_pids_cgroup() {
    local cg=$PIDS_ROOT/$1
    [ -d "$PIDS_ROOT" ] || skip "no cgroup v1 pids hierarchy at $PIDS_ROOT"
    mkdir -p "$cg"
    CGROUPS+=("$cg")
    echo "$cg" >>"$WORK/cgroups"
    [ -n "${2:-}" ] && echo "$2" >"$cg/pids.max"
    echo "$cg"
}

# in_cgroup CGROUP_DIR COMMAND...: run a command inside the cgroup (moved in before exec).
in_cgroup() {
    local cg=$1
    shift
    sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cg" "$@"
}

# start_watch ARGS...: forktrace watch in the background, JSON to $WORK/events.json; waits for attach.
start_watch() {
    rm -f "$WORK/events.json" # this test's own file from an earlier watch: forktrace never overwrites a file
    start_watch_raw --format json --output "$WORK/events.json" "$@"
}

# start_watch_raw ARGS...: forktrace watch ARGS in the background, standard output to $WATCH_STDOUT
# (default /dev/null), messages to $WORK/watch.err; waits for attach.
start_watch_raw() {
    # Emptied here, not only by the redirection: the background child truncates it after the fork, and a
    # check in between would read the previous watch's attached line.
    : >"$WORK/watch.err"
    "$FORKTRACE" watch "$@" >"${WATCH_STDOUT:-/dev/null}" 2>"$WORK/watch.err" &
    WATCH_PID=$!
    local i
    for i in $(seq 1 300); do
        grep -q '^forktrace: attached' "$WORK/watch.err" 2>/dev/null && return 0
        kill -0 "$WATCH_PID" 2>/dev/null || { cat "$WORK/watch.err"; fail "forktrace watch exited before attaching"; }
        sleep 0.2
    done
    cat "$WORK/watch.err"
    fail "no 'forktrace: attached' line within 60 s"
}

# stop_watch: SIGINT, wait, require exit 0; the summary is in $WORK/watch.err.
stop_watch() {
    sleep 0.5 # let the last events reach the ring consumer
    kill -INT "$WATCH_PID"
    local rc=0
    wait "$WATCH_PID" || rc=$?
    WATCH_PID=""
    [ $rc -eq 0 ] || { cat "$WORK/watch.err"; fail "forktrace watch exited with $rc after SIGINT"; }
}

# events: the failures of $WORK/events.json; headroom_events: its headroom warnings ({"headroom":{...}} lines).
events() { failure_lines "$WORK/events.json"; }
# failure_lines FILE: the failure lines of a JSON output; headroom warnings (--warn-at) are lines of their own.
failure_lines() { grep -v '^{"headroom":' "$1" || true; }
headroom_events() { grep '^{"headroom":' "$WORK/events.json" | jq -c .headroom || true; }

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
    [ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
    note "$1 = $3"
}
