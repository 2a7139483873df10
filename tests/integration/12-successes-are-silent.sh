#!/usr/bin/env bash
# 10,000 successful forks produce no event and no kernel failure count.
source "$(dirname "$0")/../lib.sh"
cg=$(make_pids_cgroup forktrace-test-ok)
start_watch --cgroup /forktrace-test-ok
out=$(in_cgroup "$cg" "$HELPERS/forkloop" 10000 0)
stop_watch
note "forkloop: $out"
expect_eq "failures the workload saw" "0" "$(sed -n 's/^pid=.*failures=\([0-9]*\).*/\1/p' <<<"$out")"
expect_eq "events" "0" "$(events | jq -s length)"
expect_eq "kernel count" "0" "$(sed -n 's/^forktrace: summary: \([0-9]*\) failed.*/\1/p' "$WORK/watch.err")"
