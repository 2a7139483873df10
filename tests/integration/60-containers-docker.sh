#!/usr/bin/env bash
# Docker containers with --pids-limit: a fork loop and a JVM fail inside them. forktrace, filtered to the
# container by name (matched in the kernel by cgroup id), names the container (runtime, id, name, image),
# the offender inside it with its pid as the container sees it, and docker's --pids-limit as the knob; the
# report groups by container and the Perfetto track carries the container. dockerd runs privately.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/tests/containers.sh"
start_dockerd
JDK=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64} # test.sh sets JAVA_HOME to the JDK 22+ it found

# wait_log CONTAINER PATTERN: until the container's output shows PATTERN (at most 90 s).
wait_log() {
    wait_for 90 sh -c "docker -H unix://$FT_DOCKER_SOCK logs $1 2>&1 | grep -q '$2'" ||
        { dockerc logs "$1" 2>&1 | tail; fail "container $1 never printed '$2'"; }
}

# --- a fork loop beside a 12-thread holder, under --pids-limit 20 ---------------------------------
# The workload waits for /tmp/go, so forktrace can attach with --container while it is already running.
dockerc run -d --name ft14-fork --init --pids-limit 20 --network none "$FT_IMAGE" \
    sh -c 'while [ ! -e /tmp/go ]; do sleep 0.1; done; holder 12 & sleep 0.5; forkloop 30 1; sleep 300' >/dev/null
CONTAINER_CLEANUPS+=("dockerc rm -f ft14-fork")
id=$(dockerc inspect -f '{{.Id}}' ft14-fork)
WATCH_STDOUT=$WORK/fork.txt start_watch_raw --container ft14-fork --output "$WORK/fork.pb"
grep -q "^forktrace: attached" "$WORK/watch.err"
dockerc exec ft14-fork touch /tmp/go
wait_log ft14-fork OBSERVED
stop_watch
out=$(dockerc logs ft14-fork 2>&1)
note "forkloop in the container: $(grep '^pid=' <<<"$out")"
failures=$(sed -n 's/^pid=.*failures=\([0-9]*\).*/\1/p' <<<"$out")
[ "$failures" -gt 0 ] || fail "the workload saw no failure: the test set-up is wrong"
"$FORKTRACE" export --json "$WORK/fork.pb" "$WORK/fork.json" 2>/dev/null || fail "export --json failed"
# docker's default seccomp profile answers clone3 with ENOSYS so that glibc falls back to clone: not a
# failure of task creation, so no event (the summary counts them).
expect_eq "events for clone3's ENOSYS" "0" "$(jq -s '[.[] | select(.errno == "ENOSYS")] | length' "$WORK/fork.json")"
jq -c 'select(.errno == "EAGAIN")' "$WORK/fork.json" >"$WORK/fork-eagain.json"
ev() { jq -s -r "$1" "$WORK/fork-eagain.json"; }
expect_eq "EAGAIN events (every failure the loop saw, only this container's)" "$failures" "$(ev 'length')"
expect_eq "failing processes" "forkloop" "$(ev '[.[].comm] | unique | join(",")')"
expect_eq "cause" "PIDS_CGROUP_LIMIT" "$(ev '[.[].cause] | unique | join(",")')"
expect_eq "container runtime" "docker" "$(ev '[.[].container.runtime] | unique | join(",")')"
expect_eq "container id" "$id" "$(ev '[.[].container.id] | unique | join(",")')"
expect_eq "container name" "ft14-fork" "$(ev '[.[].container.name] | unique | join(",")')"
expect_eq "container image" "$FT_IMAGE" "$(ev '[.[].container.image] | unique | join(",")')"
expect_eq "cgroup driver" "cgroupfs" "$(ev '.[0].container.cgroupDriver')"
expect_eq "scope" "/docker/$id" "$(ev '.[0].scope.name')"
expect_eq "scope is the container's cgroup" "ft14-fork" "$(ev '.[0].scope.container.name')"
ev '.[0].scope.knob' | grep -q -- "docker run --pids-limit 20" || fail "knob: $(ev '.[0].scope.knob')"
expect_eq "top offender" "holder" "$(ev '.[0].offenders[0].comm')"
expect_eq "top offender's container" "ft14-fork" "$(ev '.[0].offenders[0].container.name')"
holder_ns=$(ev '.[0].offenders[0].nsPid')
holder_host=$(ev '.[0].offenders[0].pid')
[ "$holder_ns" -gt 0 ] && [ "$holder_ns" -lt "$holder_host" ] && [ "$holder_host" != "$holder_ns" ] ||
    fail "offender pid $holder_host should be seen as a small pid in the container, got nsPid $holder_ns"
note "offender holder: host pid $holder_host, pid $holder_ns in the container"
loop_ns=$(ev '.[0].nsPid')
[ "$loop_ns" -gt 0 ] && [ "$loop_ns" -lt "$(ev ".[0].pid")" ] || fail "failing process nsPid $loop_ns"
line=$(grep -m1 'PIDS_CGROUP_LIMIT' "$WORK/fork.txt")
note "text: $line"
grep -q "in docker container ft14-fork (image $FT_IMAGE, id ${id:0:12}) as pid $loop_ns in its namespace" <<<"$line" ||
    fail "the text line does not name the container"
grep -q "'holder' (pid $holder_host, $holder_ns in its namespace) holds 12 tasks" <<<"$line" ||
    fail "the text line does not place the offender in the container"
grep -q "docker update --pids-limit M ft14-fork" <<<"$line" || fail "the text line does not name the knob"
"$FORKTRACE" report "$WORK/fork.pb" >"$WORK/report.txt" 2>&1 || fail "report failed"
grep -A1 "^By container" "$WORK/report.txt" | grep -q "%  docker container ft14-fork (image $FT_IMAGE, id ${id:0:12})" ||
    { cat "$WORK/report.txt"; fail "report has no by-container row"; }
"$FORKTRACE" export --perfetto "$WORK/fork.pb" "$WORK/fork.perfetto-trace" 2>/dev/null || fail "export --perfetto failed"
grep -a -q "forkloop \[docker ft14-fork\]" "$WORK/fork.perfetto-trace" || fail "no Perfetto track names the container"
# FORKTRACE_CAPTURE_DIR=DIR keeps the outputs (docs/containers.md quotes them)
if [ -n "${FORKTRACE_CAPTURE_DIR:-}" ]; then cp "$WORK/fork.txt" "$WORK/fork-eagain.json" "$WORK/report.txt" "$FORKTRACE_CAPTURE_DIR/"; fi
dockerc rm -f ft14-fork >/dev/null

# --- a JVM (the host's Temurin 25, read-only) starting threads under --pids-limit 80 ---------------
dockerc run -d --name ft14-jvm --init --pids-limit 80 --network none \
    -v "$JDK:/jdk:ro" -v /lib/x86_64-linux-gnu:/lib/x86_64-linux-gnu:ro -v /lib64:/lib64:ro \
    -v "$ROOT/examples/java-native-thread:/src:ro" "$FT_IMAGE" \
    sh -c 'while [ ! -e /tmp/go ]; do sleep 0.1; done; exec /jdk/bin/java -Xss256k -XX:+UseSerialGC /src/Spawner.java' >/dev/null
CONTAINER_CLEANUPS+=("dockerc rm -f ft14-jvm")
jid=$(dockerc inspect -f '{{.Id}}' ft14-jvm)
start_watch --container "${jid:0:16}"
dockerc exec ft14-jvm touch /tmp/go
wait_log ft14-jvm OBSERVED
stop_watch
jvm_log=$(dockerc logs ft14-jvm 2>&1) # read once: `logs | grep -q` fails under pipefail when grep stops early
note "JVM: $(grep -m1 'JVM:' <<<"$jvm_log")"
grep -q "unable to create native thread" <<<"$jvm_log" || fail "the JVM did not fail to start a thread"
expect_eq "JVM: events for clone3's ENOSYS" "0" "$(jq -s '[.[] | select(.errno == "ENOSYS")] | length' "$WORK/events.json")"
grep -E "[1-9][0-9]* clone3 calls answered ENOSYS" "$WORK/watch.err" ||
    fail "the summary does not count the JVM's clone3 calls that docker's seccomp profile answered with ENOSYS: $(cat "$WORK/watch.err")"
jq -c 'select(.errno == "EAGAIN")' "$WORK/events.json" >"$WORK/jvm.json"
events() { cat "$WORK/jvm.json"; }
[ "$(events | jq -s length)" -gt 0 ] || fail "no EAGAIN event for the JVM"
expect_eq "JVM: cause" "PIDS_CGROUP_LIMIT" "$(events | jq -s -r '[.[].cause] | unique | join(",")')"
expect_eq "JVM: a thread failed" "true" "$(events | jq -s -r '[.[].thread] | unique | join(",")')"
expect_eq "JVM: container" "docker ft14-jvm $jid $FT_IMAGE" \
    "$(events | jq -s -r '[.[].container | "\(.runtime) \(.name) \(.id) \(.image)"] | unique | join(",")')"
# The first event whose scope is the container's cgroup (an event whose refusing level the counters did
# not show has scope "unknown cgroup" and no offenders: that is attribution, not container identity).
note "JVM events by scope: $(events | jq -s -c 'group_by(.scope.name) | map({scope: .[0].scope.name, n: length, offenders: (.[0].offenders | length)})')"
first=$(events | jq -s -c --arg cg "/docker/$jid" '[.[] | select(.scope.name == $cg)][0] // empty')
[ -n "$first" ] || fail "no JVM event has the container's cgroup /docker/$jid as its scope"
expect_eq "JVM: offender" "java ft14-jvm" "$(jq -r '.offenders[0] | "\(.comm) \(.container.name)"' <<<"$first")"
expect_eq "JVM: java main" "/src/Spawner.java" "$(jq -r '.java.main' <<<"$first")"
note "message: $(jq -r '.message' <<<"$first")"

# --- run --container: the command (docker exec) reaches into the container; its failures are traced ---
dockerc run -d --name ft14-run --init --pids-limit 5 --network none "$FT_IMAGE" sleep 300 >/dev/null
CONTAINER_CLEANUPS+=("dockerc rm -f ft14-run")
rc=0
"$FORKTRACE" run --container ft14-run --format json --output "$WORK/run.json" --expect PIDS_CGROUP_LIMIT -- \
    docker -H "unix://$FT_DOCKER_SOCK" exec ft14-run forkloop 10 1 >"$WORK/run.out" 2>"$WORK/run.err" || rc=$?
[ $rc -eq 0 ] || { cat "$WORK/run.err"; fail "run --container ft14-run --expect PIDS_CGROUP_LIMIT exited $rc"; }
grep -q "tracing --container ft14-run (cgroup .*/docker/" "$WORK/run.err" || { cat "$WORK/run.err"; fail "run did not trace the container"; }
observed=$(sed -n 's/^pid=.*failures=\([0-9]*\).*/\1/p' "$WORK/run.out")
expect_eq "run --container: failures" "$observed" \
    "$(jq -s '[.[] | select(.errno == "EAGAIN" and .container.name == "ft14-run")] | length' "$WORK/run.json")"
