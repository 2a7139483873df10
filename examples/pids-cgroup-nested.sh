#!/usr/bin/env bash
# Nested pids cgroups: the child has no limit, but its parent is full. The scope that refused is the
# parent, and the offender lives in a sibling cgroup, not next to the failing process.
# expect.cause=PIDS_CGROUP_LIMIT
# expect.scope.kind=CGROUP
# expect.scope.name=/forktrace-ex/parent
# expect.scope.limit=12
# expect.offender.comm=holder
# expect.errno=EAGAIN
# expect.process=forkloop
source "$(dirname "$0")/lib.sh"
should_say "PIDS_CGROUP_LIMIT in the PARENT cgroup /forktrace-ex/parent (12 of 12); 'holder' in the sibling holds 10"
pids_cgroup forktrace-ex
pids_cgroup forktrace-ex/parent 12
pids_cgroup forktrace-ex/parent/child
pids_cgroup forktrace-ex/parent/sibling
start_holder forktrace-ex/parent/sibling 10
in_pids_cgroup forktrace-ex/parent/child "$BIN/forkloop" 10 1
