#!/usr/bin/env bash
# A fork loop in a cgroup v1 pids cgroup: one event per failed fork the program saw itself, with the
# right pid, tid, comm, syscall and errno, attributed to the pids cgroup.
source "$(dirname "$0")/../lib.sh"
cg=$(make_pids_cgroup forktrace-test-loop 5)
start_watch --cgroup /forktrace-test-loop
out=$(in_cgroup "$cg" "$HELPERS/forkloop" 40 1)
stop_watch
note "forkloop: $out"
pid=$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' <<<"$out")
failures=$(sed -n 's/^pid=.*failures=\([0-9]*\).*/\1/p' <<<"$out")
[ "$failures" -gt 0 ] || fail "the workload saw no failure: the test set-up is wrong"
expect_eq "events for pid $pid" "$failures" "$(events | jq -s --argjson p "$pid" '[.[] | select(.pid == $p)] | length')"
expect_eq "events in total" "$failures" "$(events | jq -s 'length')"
expect_eq "kernel count in the summary" "$failures" "$(sed -n 's/^forktrace: summary: \([0-9]*\) failed.*/\1/p' "$WORK/watch.err")"
expect_eq "distinct tids" "$pid" "$(events | jq -s -r '[.[].tid] | unique | map(tostring) | join(",")')"
expect_eq "comm" "forkloop" "$(events | jq -s -r '[.[].comm] | unique | join(",")')"
expect_eq "syscall" "CLONE" "$(events | jq -s -r '[.[].syscall] | unique | join(",")')"
expect_eq "errno" "EAGAIN" "$(events | jq -s -r '[.[].errno] | unique | join(",")')"
expect_eq "cause" "PIDS_CGROUP_LIMIT" "$(events | jq -s -r '[.[].cause] | unique | join(",")')"
expect_eq "confidence" "CONFIRMED" "$(events | jq -s -r '[.[].confidence] | unique | join(",")')"
expect_eq "scope" "CGROUP /forktrace-test-loop 5" "$(events | jq -s -r '.[0].scope | "\(.kind) \(.name) \(.limit)"')"
expect_eq "thread flag on a process fork" "false" "$(events | jq -s -r '.[0].thread // false')"
