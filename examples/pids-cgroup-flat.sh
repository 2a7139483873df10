#!/usr/bin/env bash
# A pids cgroup at its limit: a process holds most of the tasks, another one's forks fail with EAGAIN.
# expect.cause=PIDS_CGROUP_LIMIT
# expect.scope.kind=CGROUP
# expect.scope.name=/forktrace-ex/flat
# expect.scope.limit=10
# expect.offender.comm=holder
# expect.errno=EAGAIN
# expect.process=forkloop
source "$(dirname "$0")/lib.sh"
should_say "PIDS_CGROUP_LIMIT in cgroup /forktrace-ex/flat (10 of 10 tasks); 'holder' holds 8 of them"
pids_cgroup forktrace-ex
pids_cgroup forktrace-ex/flat 10
start_holder forktrace-ex/flat 8
in_pids_cgroup forktrace-ex/flat "$BIN/forkloop" 10 1
