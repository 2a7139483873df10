#!/usr/bin/env bash
# A process moved into a pids cgroup creates no pid, so the headroom sampler cannot bound the cgroup's count
# by the pids created since its last read: watch re-reads far cgroups after the kernel counted a move (the
# cgroup_attach_task tracepoint), and otherwise only in their turn, all within a minute. Three holders of 950
# tasks each, started outside and moved one after another into three empty cgroups limited to 1000 (among
# 300 more, so that a turn comes round only every ~50 s), must each be warned about within 10 s of its move.
# Were the moves missed, only a turn could find them: all three within 10 s would be a chance of about 1%.
source "$(dirname "$0")/../lib.sh"
command -v jq >/dev/null || fail "jq is missing (scripts/setup.sh TEST_PACKAGES)"
grep -q "cgroup_attach_task *tracepoint" <("$FORKTRACE" doctor 2>/dev/null) || fail "doctor lists no cgroup_attach_task hook"
make_pids_cgroup ft67 >/dev/null
for i in $(seq 300); do make_pids_cgroup "ft67/pad-$i" 1000 >/dev/null; done
holders=()
for name in a b c; do
    make_pids_cgroup "ft67/move-$name" 1000 >/dev/null
    "$HELPERS/holder" 950 >"$WORK/holder-$name.out" &
    holders+=($!)
done
for name in a b c; do
    for _ in $(seq 100); do grep -q "tasks=950" "$WORK/holder-$name.out" 2>/dev/null && break; sleep 0.1; done
    grep -q "tasks=950" "$WORK/holder-$name.out" || fail "holder $name did not start its 950 tasks"
done
trap 'kill -KILL "${holders[@]}" 2>/dev/null || true; cleanup' EXIT

# The pids created since the watch began bound each cgroup's count too (its last count, 0, plus them): a move
# proves itself only while fewer than its near line (700) were created, so the loop below forks nothing.
WATCH_STDOUT=$WORK/events.json start_watch_raw --format json --cgroup /ft67 --warn-at 90
read -r _ _ _ _ pid_at_start </proc/loadavg # the first read was a little earlier: 100 pids of margin below
sleep 7 # past watch's default far interval (5 s): from here only a counted move makes a cgroup read at once
expect_eq "warnings before the moves" 0 "$(headroom_events | grep -c . || true)"
mkfifo "$WORK/never"
exec {never}<>"$WORK/never" # read -t on it is a sleep without a process
index=0
for name in a b c; do
    echo "${holders[$index]}" >"$PIDS_ROOT/ft67/move-$name/cgroup.procs"
    index=$((index + 1))
    crossed=""
    for _ in $(seq 100); do # 10 s
        while IFS= read -r line; do
            [[ $line == '{"headroom":'*'"CROSSED"'*'"name":"/ft67/move-'$name'"'* ]] && crossed=$line
        done <"$WORK/events.json"
        [ -n "$crossed" ] && break
        read -r -t 0.1 -u "$never" _ || true
    done
    read -r _ _ _ _ pid_now </proc/loadavg
    created=$((pid_now - pid_at_start))
    if [ -z "$crossed" ]; then
        [ "$created" -lt 600 ] || skip "$created pids were created meanwhile: the bound alone could explain a read"
        stop_watch
        fail "no CROSSED warning for /ft67/move-$name within 10 s of its move"
    fi
    expect_eq "move-$name: warning's used, limit and first holder" "950 1000 holder 950" \
        "$(jq -r '.headroom | "\(.used) \(.limit) \(.holders[0].comm) \(.holders[0].tasks)"' <<<"$crossed")"
done
stop_watch
note "pids created on this machine from the watch's start to the last warning: $created"
[ "$created" -lt 600 ] || skip "$created pids were created meanwhile: the bound alone could explain the reads"
echo "PASS headroom-move"
