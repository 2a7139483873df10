#!/usr/bin/env bash
# `forktrace limits` on real scopes near their limits: a pids cgroup at 95%, a pids cgroup filled by 30
# one-task sleeps, a user near one process's `ulimit -u` while another process of the user holds most of
# the tasks, a pid namespace near its own pid_max (per namespace since 6.14) and a memory cgroup near its
# limit. Each must rank above every scope below 90%, with its numbers and its holders.
source "$(dirname "$0")/../lib.sh"
command -v jq >/dev/null || fail "jq is missing (scripts/setup.sh TEST_PACKAGES)"
uid=61500 # the ft15 test uid range: no other helper's processes run as it
as_user=(setpriv --reuid="$uid" --regid="$uid" --clear-groups)
MEM_ROOT=/sys/fs/cgroup/memory
[ -d "$MEM_ROOT" ] || skip "no cgroup v1 memory hierarchy at $MEM_ROOT"

# background COMMAND...: runs it detached (its later SIGKILL at clean-up is no news), prints its pid
background() { "$@" >/dev/null 2>&1 & local pid=$!; disown "$pid"; echo "$pid"; }

# 1. pids cgroup at 95%: 'holder' with 16 tasks and two sleeps of a shell: 19 of 20.
full=$(make_pids_cgroup ft15-limits-full 20)
background in_cgroup "$full" "$HELPERS/holder" 16 >/dev/null
background in_cgroup "$full" sh -c 'sleep 600 & sleep 600 & wait' >/dev/null
# 2. 30 one-task processes of one program under one shell: 31 of 32.
thirty=$(make_pids_cgroup ft15-limits-thirty 32)
background in_cgroup "$thirty" bash -c 'for i in $(seq 30); do sleep 600 & done; wait' >/dev/null
# 3. uid 61500: 'holder' holds 20 tasks; a 'sleep' of the same user has ulimit -u 23 (no cgroup limit).
users=$(make_pids_cgroup ft15-limits-user)
background in_cgroup "$users" "${as_user[@]}" "$HELPERS/holder" 20 >/dev/null
background in_cgroup "$users" "${as_user[@]}" prlimit --nproc=23:23 -- sleep 600 >/dev/null
# 4. a pid namespace with pid_max 310 whose init ('holder') holds 290 pids.
nsgroup=$(make_pids_cgroup ft15-limits-pidns)
background in_cgroup "$nsgroup" unshare -pf --mount-proc sh -c 'echo 310 >/proc/sys/kernel/pid_max && exec "$0" 290' \
    "$HELPERS/holder" >/dev/null
# 5. a 32 MiB memory cgroup v1 of which 'memhog' holds 29 MiB.
memcg=$MEM_ROOT/ft15-limits-mem
mkdir -p "$memcg"
CGROUPS+=("$memcg")
echo $((32 << 20)) >"$memcg/memory.limit_in_bytes"
background in_cgroup "$memcg" "$HELPERS/memhog" 29 >/dev/null

# Wait until every scope is set up (tasks are created asynchronously).
for _ in $(seq 100); do
    nspid=$(pgrep -f "^$HELPERS/holder 290" | head -1 || true)
    [ "$(cat "$full/pids.current")" = 19 ] && [ "$(cat "$thirty/pids.current")" = 31 ] &&
        [ "$(cat "$users/pids.current")" = 21 ] && [ -n "$nspid" ] && [ "$(cat "$nsgroup/pids.current")" -ge 291 ] &&
        [ "$(cat "$memcg/memory.usage_in_bytes")" -ge $((29 << 20)) ] && break
    sleep 0.2
done
expect_eq "tasks in ft15-limits-full" 19 "$(cat "$full/pids.current")"
expect_eq "tasks in ft15-limits-thirty" 31 "$(cat "$thirty/pids.current")"
expect_eq "tasks of uid $uid" 21 "$(cat "$users/pids.current")"
[ -n "$nspid" ] || fail "the pid namespace's holder did not start"
nsinode=$(readlink "/proc/$nspid/ns/pid" | tr -dc 0-9)
# in_cgroup_pid CGROUP COMM: the pid of the process named COMM in the cgroup
in_cgroup_pid() {
    local p
    for p in $(cat "$1/cgroup.procs"); do
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$2" ] && { echo "$p"; return 0; }
    done
    fail "no '$2' in $1"
}
shell=$(in_cgroup_pid "$thirty" bash)
lowest=$(in_cgroup_pid "$users" sleep)

"$FORKTRACE" limits --format json --top 0 --holders 3 >"$WORK/limits.json" 2>"$WORK/limits.err" ||
    { cat "$WORK/limits.err"; fail "forktrace limits failed"; }
"$FORKTRACE" limits --top 12 >"$WORK/limits.txt" 2>&1 || fail "forktrace limits (text) failed"
sed 's/^/   | /' "$WORK/limits.txt"

# scope NAME: the scope's JSON object; rank NAME: its position (0 = least headroom)
scope() { jq -c --arg n "$1" '.scopes[] | select(.name == $n)' "$WORK/limits.json"; }
rank() { jq --arg n "$1" '[.scopes[].name] | index($n)' "$WORK/limits.json"; }
first_below_90=$(jq '[.scopes[].ratio] | map(. < 0.9) | index(true) // 1e9' "$WORK/limits.json")
user_name=$(jq -r --arg u "uid $uid" '.scopes[] | select(.name | startswith($u)) | .name' "$WORK/limits.json" | head -1)
ns_name="pidns $nsinode level 1"
for name in /ft15-limits-full /ft15-limits-thirty "$user_name" "$ns_name" /ft15-limits-mem; do
    [ -n "$name" ] && [ -n "$(scope "$name")" ] || fail "limits does not list '$name': $(cat "$WORK/limits.err")"
    r=$(rank "$name")
    [ "$r" -lt "$first_below_90" ] || fail "'$name' ranks $r, below a scope under 90% (rank $first_below_90)"
    note "$name ranks $r: $(scope "$name" | jq -r .message)"
done

# The numbers, the limit names and the holders.
s=$(scope /ft15-limits-full)
expect_eq "full: used/limit" "19/20 pids.max CGROUP" "$(jq -r '"\(.used)/\(.limit) \(.limitName) \(.kind)"' <<<"$s")"
expect_eq "full: first holder" "holder 16 1" "$(jq -r '.holders[0] | "\(.comm) \(.tasks) \(.processCount)"' <<<"$s")"
expect_eq "full: the two sleeps as one holder" "sleep 2 2 sh" \
    "$(jq -r '.holders[] | select(.comm == "sleep") | "\(.comm) \(.tasks) \(.processCount) \(.ancestorComm)"' <<<"$s")"
s=$(scope /ft15-limits-thirty)
expect_eq "thirty: used/limit" "31/32" "$(jq -r '"\(.used)/\(.limit)"' <<<"$s")"
expect_eq "thirty: 30 sleeps as one holder under their shell" "sleep 30 30 $shell bash" \
    "$(jq -r '.holders[0] | "\(.comm) \(.tasks) \(.processCount) \(.ancestorPid) \(.ancestorComm)"' <<<"$s")"
grep -q "30 × sleep (30 tasks) under bash pid $shell" <<<"$(jq -r .message <<<"$s")" ||
    fail "thirty: message does not name the 30 sleeps: $(jq -r .message <<<"$s")"
s=$(scope "$user_name")
expect_eq "user: used/limit" "21/23 RLIMIT_NPROC USER" "$(jq -r '"\(.used)/\(.limit) \(.limitName) \(.kind)"' <<<"$s")"
expect_eq "user: the process with the lowest limit" "$lowest sleep" "$(jq -r '"\(.lowestLimitPid) \(.lowestLimitComm)"' <<<"$s")"
expect_eq "user: first holder" "holder 20" "$(jq -r '.holders[0] | "\(.comm) \(.tasks)"' <<<"$s")"
s=$(scope "$ns_name")
expect_eq "pidns: used/limit" "290/310 pid_max" "$(jq -r '"\(.used)/\(.limit) \(.limitName)"' <<<"$s")"
expect_eq "pidns: first holder" "holder 290" "$(jq -r '.holders[0] | "\(.comm) \(.tasks)"' <<<"$s")"
s=$(scope /ft15-limits-mem)
expect_eq "memcg: limit" "$((32 << 20)) memory.limit_in_bytes MEMCG" "$(jq -r '"\(.limit) \(.limitName) \(.kind)"' <<<"$s")"
used=$(jq -r .used <<<"$s")
[ "$used" -ge $((29 << 20)) ] && [ "$used" -le $((32 << 20)) ] || fail "memcg: used $used is not 29-32 MiB"
expect_eq "memcg: first holder (by memory)" "memhog memory" "$(jq -r '"\(.holders[0].comm) \(.holderRanking)"' <<<"$s")"

# Text output: the same scopes, the grouped holders, and no "1 tasks".
grep -q "/ft15-limits-thirty .*30 × sleep (30 tasks) under bash pid $shell" "$WORK/limits.txt" || fail "text: no grouped sleeps"
grep -q "limit 23 from 'sleep' (pid $lowest)" "$WORK/limits.txt" || fail "text: the lowest-limit process is not named"
! grep -q " 1 tasks" "$WORK/limits.txt" || fail "text says '1 tasks'"

# Unprivileged: still runs, and says what it could not read.
# (the jar directly: the launcher's set-up and build steps need root)
source "$ROOT/scripts/setup.sh" && find_jdk
"${as_user[@]}" env HOME=/tmp "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar "$ROOT/target/forktrace.jar" \
    limits --top 3 >"$WORK/unprivileged.txt" 2>&1 || true
grep -q "^forktrace limits:" "$WORK/unprivileged.txt" || { cat "$WORK/unprivileged.txt"; fail "limits fails unprivileged"; }
grep -q "^could not read:" "$WORK/unprivileged.txt" || fail "unprivileged limits does not say what it could not read"
note "unprivileged: $(grep -c '^could not read:' "$WORK/unprivileged.txt") 'could not read' lines"
echo "PASS limits"
