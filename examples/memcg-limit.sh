#!/usr/bin/env bash
# A memory cgroup at its limit makes fork fail with ENOMEM: 'memhog' holds most of a 32 MB cgroup v1
# memcg, a fork loop in the same cgroup fails when the new task's kernel stack and task_struct cannot be
# charged. memory.oom_control's oom_kill_disable=1 makes the charge fail instead of OOM-killing
# (charges outside a page fault return ENOMEM when the memcg OOM killer is disabled); the fork loop locks
# its memory and its children share it (CLONE_VM), so no page fault of theirs waits on the full cgroup.
# expect.cause=MEMCG_LIMIT
# expect.scope.kind=MEMCG
# expect.scope.name=/forktrace-ex-mem
# expect.scope.limit=33554432
# expect.offender.comm=memhog
# expect.errno=ENOMEM
# expect.process=lab-forkloop
source "$(dirname "$0")/lib.sh"
cg=/sys/fs/cgroup/memory/forktrace-ex-mem
[ -d /sys/fs/cgroup/memory ] || { echo "no cgroup v1 memory hierarchy at /sys/fs/cgroup/memory" >&2; exit 2; }
should_say "MEMCG_LIMIT in memory cgroup /forktrace-ex-mem (32 MiB limit): ENOMEM, and 'memhog' holds most of it"
mkdir -p "$cg"
EX_CGROUPS+=("$cg")
echo $((32 << 20)) >"$cg/memory.limit_in_bytes"
echo 1 >"$cg/memory.oom_control"
start_offender "$cg" "$BIN/memhog" 24
out=$(timeout 60 sh -c 'echo $$ > "$0/cgroup.procs"; exec "$@"' "$cg" "$BIN/lab-forkloop" -v -L -f 3) || true
echo "$out"
echo "memory.failcnt=$(cat "$cg/memory.failcnt") usage=$(cat "$cg/memory.usage_in_bytes")"
failed=$(sed -n 's/^FORKLOOP created=[0-9]* failed=\([0-9]*\) errno=\([A-Z]*\).*/\1/p' <<<"$out")
errno=$(sed -n 's/^FORKLOOP created=[0-9]* failed=[0-9]* errno=\([A-Za-z]*\).*/\1/p' <<<"$out")
echo "OBSERVED failures=${failed:-0} errno=${errno:-none}"
