#!/usr/bin/env bash
# Kubernetes' favourite: "OutOfMemoryError: unable to create native thread" from a JVM whose container
# has a pids limit. The JVM blames memory; the kernel refused a task (EAGAIN from the pids controller).
# expect.cause=PIDS_CGROUP_LIMIT
# expect.scope.kind=CGROUP
# expect.scope.name=/forktrace-ex/jvm
# expect.scope.limit=80
# expect.offender.comm=java
# expect.errno=EAGAIN
# expect.count=at_least
# expect.process=java
source "$(dirname "$0")/lib.sh"
source "$EXAMPLES/../scripts/setup.sh"
find_jdk
should_say "PIDS_CGROUP_LIMIT in /forktrace-ex/jvm (80 of 80 tasks), not memory; the JVM's thread 'main' tried to start a thread"
pids_cgroup forktrace-ex
pids_cgroup forktrace-ex/jvm 80
in_pids_cgroup forktrace-ex/jvm "$JAVA" -Xss256k -XX:+UseSerialGC "$EXAMPLES/java-native-thread/Spawner.java"
