#!/usr/bin/env bash
# A process moved into a pids cgroup creates no pid, so the headroom sampler cannot bound it by the pids
# created since the cgroup's last read: it re-reads far cgroups after the kernel counted a move (the
# cgroup_attach_task tracepoint), and otherwise only once a minute. A holder of 950 tasks started outside
# and then moved into an empty top-level cgroup limited to 1000 must be warned about well before that
# minute, which it would not be if watch missed the move.
source "$(dirname "$0")/../lib.sh"
command -v jq >/dev/null || fail "jq is missing (scripts/setup.sh TEST_PACKAGES)"
cg=$(make_pids_cgroup ft67-move 1000)
"$HELPERS/holder" 950 >"$WORK/holder.out" &
holder=$!
for _ in $(seq 100); do grep -q "tasks=950" "$WORK/holder.out" 2>/dev/null && break; sleep 0.1; done
grep -q "tasks=950" "$WORK/holder.out" || fail "the holder did not start its 950 tasks: $(cat "$WORK/holder.out")"
trap 'kill -KILL $holder 2>/dev/null || true; cleanup' EXIT

# The pids created since the watch began bound the cgroup's count too (its last count, 0, plus them): the
# move proves itself only while fewer than its near line (700) were created, so the loop below forks nothing.
grep -q "cgroup_attach_task *tracepoint" <("$FORKTRACE" doctor 2>/dev/null) || fail "doctor lists no cgroup_attach_task hook"
WATCH_STDOUT=$WORK/events.json start_watch_raw --format json --cgroup /ft67-move --warn-at 90
read -r _ _ _ _ pid_at_start </proc/loadavg # the first read was a little earlier: 100 pids of margin below
sleep 7 # past watch's default far interval (5 s): from here only a counted move makes the cgroup read again
expect_eq "warnings before the move" 0 "$(headroom_events | grep -c . || true)"
mkfifo "$WORK/never"
exec {never}<>"$WORK/never" # read -t on it is a sleep without a process
echo "$holder" >"$cg/cgroup.procs"
crossed=""
for _ in $(seq 300); do # 30 s: the cgroup's own re-read (once a minute with no move) cannot come first
    while IFS= read -r line; do
        [[ $line == '{"headroom":'*'"CROSSED"'*'"name":"/ft67-move"'* ]] && crossed=$line
    done <"$WORK/events.json"
    [ -n "$crossed" ] && break
    read -r -t 0.1 -u "$never" _ || true
done
read -r _ _ _ _ pid_at_warning </proc/loadavg
stop_watch
[ -n "$crossed" ] || { cat "$WORK/watch.err"; fail "no CROSSED warning for /ft67-move within 30 s of the move"; }
created=$((pid_at_warning - pid_at_start))
note "pids created on this machine from the watch's start to the warning: $created"
[ "$created" -lt 600 ] || skip "$created pids were created meanwhile: the bound alone could explain the read"
crossed=$(jq -c .headroom <<<"$crossed")
expect_eq "tasks in the cgroup" 950 "$(cat "$cg/pids.current")"
expect_eq "warning: used and limit" "950 1000" "$(jq -r '"\(.used) \(.limit)"' <<<"$crossed")"
expect_eq "warning: first holder" "holder 950" "$(jq -r '.holders[0] | "\(.comm) \(.tasks)"' <<<"$crossed")"
echo "PASS headroom-move"
