#!/usr/bin/env bash
# A pid namespace at its own pid_max (per-namespace pid_max, Linux 6.14+): the namespace's 310 pids are
# used up, mostly by 'holder', and the next fork in it fails with EAGAIN.
# expect.cause=PID_NAMESPACE_FULL
# expect.scope.kind=PID_NAMESPACE
# expect.scope.limit=310
# expect.offender.comm=holder
# expect.errno=EAGAIN
# expect.process=forkloop
source "$(dirname "$0")/lib.sh"
should_say "PID_NAMESPACE_FULL: pid namespace level 1 has no free pid (pid_max 310); 'holder' holds 300 tasks"
unshare --pid --fork --mount-proc sh -c '
    echo 310 > /proc/sys/kernel/pid_max || { echo "this kernel has no per-namespace pid_max" >&2; exit 3; }
    echo "EXPECT scope.name=pidns $(stat -L -c %i /proc/self/ns/pid) level 1"
    "$0/holder" 300 > /tmp/forktrace-ex-pidns.$$ &
    while [ ! -s /tmp/forktrace-ex-pidns.$$ ]; do sleep 0.05; done
    rm -f /tmp/forktrace-ex-pidns.$$
    "$0/forkloop" 20 1
    sleep 0.05 # the holder outlives the workload by 50 ms, then dies with the namespace' "$BIN"
