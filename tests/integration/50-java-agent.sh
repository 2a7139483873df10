#!/usr/bin/env bash
# The forktrace Java agent (agent/) under a pids limit, on JDK 17 and JDK 25, loaded at launch
# (-javaagent) and into a running JVM (jcmd JVMTI.agent_load): forktrace writes ONE event per failed
# Thread.start with the Java stack joined in (cause PIDS_CGROUP_LIMIT, the caller of Thread.start named),
# and the application still gets the JVM's own OutOfMemoryError.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/scripts/setup.sh"
AGENT=$FORKTRACE_AGENT_JAR
[ -f "$AGENT" ] || fail "no agent jar at $AGENT (build_if_stale builds it)"
JDKS=()
for jh in /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/temurin-25-jdk-amd64; do
    [ -x "$jh/bin/java" ] && JDKS+=("$jh")
done
[ ${#JDKS[@]} -eq 2 ] || skip "needs JDK 17 and JDK 25 (found: ${JDKS[*]:-none})"
SOCKET=$WORK/agent.sock
LIMIT=60

mkdir -p "$WORK/classes"
"${JDKS[0]}/bin/javac" --release 17 -d "$WORK/classes" "$ROOT/tests/integration/java/AgentTarget.java"
make_pids_cgroup forktrace-test-agent >/dev/null
start_watch --cgroup /forktrace-test-agent --agent-socket "$SOCKET"
grep -q "^forktrace: attached.*agent socket $SOCKET listening" "$WORK/watch.err" \
    || fail "the attached line does not say the agent socket listens: $(grep attached "$WORK/watch.err")"

# check_run NAME OUTPUT: the JVM got its own error; forktrace joined exactly one report into its event.
check_run() {
    local name=$1 out=$2 pid tid new joined
    note "$name: $(grep CAUGHT <<<"$out")"
    pid=$(sed -n 's/^READY pid=\([0-9]*\).*/\1/p' <<<"$out")
    tid=$(sed -n 's/^READY .*tid=\([0-9]*\).*/\1/p' <<<"$out")
    new=$(sed -n 's/^CAUGHT .* new=\(storm-[0-9]*\) .*/\1/p' <<<"$out")
    [ -n "$new" ] || fail "$name: Thread.start never failed: the set-up is wrong ($out)"
    grep -q "^CAUGHT java.lang.OutOfMemoryError new=storm-[0-9]* top=java.base/java.lang.Thread.start0(Native Method) message=unable to create native thread" <<<"$out" \
        || fail "$name: the application did not get the JVM's own OutOfMemoryError: $(grep CAUGHT <<<"$out")"
    [ -n "${DEBUG_AGENT_TEST:-}" ] && events | jq -c --argjson p "$pid" "select(.pid == \$p) | {tid, ktimeNs, comm, java, thread}" >&2
    joined=$(events | jq -s -c --argjson p "$pid" '[.[] | select(.pid == $p and ((.java.stack // []) | length) > 0)]')
    note "$name: $(events | jq -s --argjson p "$pid" '[.[] | select(.pid == $p)] | length') event(s) of pid $pid"
    expect_eq "$name: joined events" 1 "$(jq length <<<"$joined")"
    expect_eq "$name: cause" PIDS_CGROUP_LIMIT "$(jq -r '.[0].cause' <<<"$joined")"
    expect_eq "$name: failing thread (tid)" "$tid" "$(jq -r '.[0].tid' <<<"$joined")"
    expect_eq "$name: java.newThreadName" "$new" "$(jq -r '.[0].java.newThreadName' <<<"$joined")"
    expect_eq "$name: java.threadName" main "$(jq -r '.[0].java.threadName' <<<"$joined")"
    expect_eq "$name: java.main" AgentTarget "$(jq -r '.[0].java.main' <<<"$joined")"
    expect_eq "$name: caller of Thread.start in java.stack" true \
        "$(jq '.[0].java.stack | any(startswith("AgentTarget.spawnUntilRefused("))' <<<"$joined")"
}

for jh in "${JDKS[@]}"; do
    v=$(java_feature_version "$jh")
    # loaded at launch
    cg=$(make_pids_cgroup "forktrace-test-agent/launch-$v" $LIMIT)
    in_cgroup "$cg" "$jh/bin/java" -Xss256k -XX:+UseSerialGC -javaagent:"$AGENT=socket=$SOCKET" \
        -cp "$WORK/classes" AgentTarget >"$WORK/launch-$v.out" 2>"$WORK/launch-$v.err" \
        || fail "JDK $v exited with $?: $(tail -3 "$WORK/launch-$v.err")"

    # attached to a running JVM, then the failure
    cg=$(make_pids_cgroup "forktrace-test-agent/attach-$v" $LIMIT)
    in_cgroup "$cg" "$jh/bin/java" -Xss256k -XX:+UseSerialGC -cp "$WORK/classes" AgentTarget "$WORK/go-$v" \
        >"$WORK/attach-$v.out" 2>"$WORK/attach-$v.err" &
    jvm=$!
    for _ in $(seq 100); do grep -q READY "$WORK/attach-$v.out" && break; sleep 0.1; done
    grep -q READY "$WORK/attach-$v.out" || fail "JDK $v: the target JVM did not start"
    target=$(sed -n 's/^READY pid=\([0-9]*\).*/\1/p' "$WORK/attach-$v.out") # $! is the subshell
    "$jh/bin/jcmd" "$target" JVMTI.agent_load "$AGENT" "$SOCKET" >"$WORK/jcmd-$v.out" 2>&1 \
        || fail "JDK $v: jcmd JVMTI.agent_load failed: $(cat "$WORK/jcmd-$v.out")"
    sleep 0.5 # forktrace reads the agent's hello before the storm starts
    touch "$WORK/go-$v"
    wait "$jvm" || fail "JDK $v (attached) exited with $?: $(tail -3 "$WORK/attach-$v.err")"
done

stop_watch # the file sink is buffered: read the events once forktrace has closed it
for jh in "${JDKS[@]}"; do
    v=$(java_feature_version "$jh")
    check_run "JDK $v -javaagent" "$(cat "$WORK/launch-$v.out")"
    check_run "JDK $v attached" "$(cat "$WORK/attach-$v.out")"
done
grep -q "^forktrace: java agent: 4 connection(s), 4 failed Thread.start report(s), 4 joined" "$WORK/watch.err" \
    || fail "summary: $(grep 'java agent' "$WORK/watch.err")"
note "$(grep 'java agent' "$WORK/watch.err")"

# forktrace run --java-agent: the same join for a command's process tree, forktrace putting the agent
# into the command's JVMs (JAVA_TOOL_OPTIONS; JDK 25)
jh=${JDKS[1]}
cg=$(make_pids_cgroup forktrace-test-agent/run $LIMIT)
rc=0
"$FORKTRACE" run --java-agent --format json --output "$WORK/run.json" --agent-socket "$WORK/run.sock" -- \
    sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cg" "$jh/bin/java" -Xss256k -XX:+UseSerialGC \
    -cp "$WORK/classes" AgentTarget >"$WORK/run.out" 2>"$WORK/run.err" || rc=$?
expect_eq "run: exit status (the JVM's)" 0 "$rc"
grep -q "^forktrace: tracing .*agent socket $WORK/run.sock listening" "$WORK/run.err" \
    || fail "run does not say the agent socket listens: $(head -3 "$WORK/run.err")"
grep -q "^Picked up JAVA_TOOL_OPTIONS: -javaagent:$AGENT=socket=$WORK/run.sock" "$WORK/run.err" \
    || fail "run --java-agent did not give the JVM the agent: $(grep -m1 JAVA_TOOL "$WORK/run.err")"
rc=0
"$FORKTRACE" run --java-agent=/nonexistent/agent.jar -- true 2>"$WORK/run-bad.err" || rc=$?
expect_eq "run --java-agent with a missing jar: exit status" 2 "$rc"
grep -q "^forktrace: --java-agent: no agent jar at /nonexistent/agent.jar" "$WORK/run-bad.err" \
    || fail "missing agent jar not reported: $(cat "$WORK/run-bad.err")"
cp "$WORK/run.json" "$WORK/events.json" # check_run reads events()
check_run "forktrace run, JDK 25" "$(cat "$WORK/run.out")"
