#!/usr/bin/env bash
# A named thread whose pthread_create fails under a pids limit: clone3 (glibc 2.34+) with thread flags
# and the failing thread's own name.
source "$(dirname "$0")/../lib.sh"
cg=$(make_pids_cgroup forktrace-test-threads 8)
start_watch --cgroup /forktrace-test-threads
out=$(in_cgroup "$cg" "$HELPERS/threadspawn" spawner-7 50)
stop_watch
note "threadspawn: $out"
tid=$(sed -n 's/.*tid=\([0-9]*\).*/\1/p' <<<"$out")
failures=$(sed -n 's/.*failures=\([0-9]*\).*/\1/p' <<<"$out")
[ "$failures" -gt 0 ] || fail "no pthread_create failed: the test set-up is wrong"
expect_eq "events from the spawner thread" "$failures" "$(events | jq -s --argjson t "$tid" '[.[] | select(.tid == $t)] | length')"
first=$(events | jq -s -c --argjson t "$tid" '[.[] | select(.tid == $t)][0]')
expect_eq "comm (thread name)" "spawner-7" "$(jq -r .comm <<<"$first")"
expect_eq "process name" "threadspawn" "$(jq -r .processComm <<<"$first")"
syscall=$(jq -r .syscall <<<"$first")
case $syscall in CLONE|CLONE3) note "syscall = $syscall" ;; *) fail "syscall: expected CLONE or CLONE3, got $syscall" ;; esac
expect_eq "thread" "true" "$(jq -r .thread <<<"$first")"
expect_eq "CLONE_THREAD in cloneFlagNames" "true" "$(jq -r '.cloneFlagNames | index("CLONE_THREAD") != null' <<<"$first")"
expect_eq "cause" "PIDS_CGROUP_LIMIT" "$(jq -r .cause <<<"$first")"
