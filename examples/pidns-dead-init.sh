#!/usr/bin/env bash
# The "fork: Cannot allocate memory" of the field reports with plenty of free memory: the process lives
# in a pid namespace whose init (pid 1) has exited, so the kernel refuses every new task with ENOMEM.
# expect.cause=PID_NAMESPACE_DEAD
# expect.scope.kind=PID_NAMESPACE
# expect.errno=ENOMEM
# expect.process=pidns_orphan
source "$(dirname "$0")/lib.sh"
should_say "PID_NAMESPACE_DEAD: ENOMEM, but memory is fine: the pid namespace lost its init"
"$BIN/pidns_orphan" 5
