#!/usr/bin/env bash
# A hostile local user (uid 65534) cannot silence forktrace's agent listener (issue 12, item 3): after
# deeply nested JSON ("[" * 100000 + "]" * 100000, was a StackOverflowError that killed the listener),
# 235 connections each holding 256 KiB without a newline (was an OutOfMemoryError) and 1,024 idle
# connections (were a lock-out), all still held open, a real JVM with the agent still gets its failed
# Thread.start joined, and the summary counts what was refused.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/scripts/setup.sh"
find_jdk
JDK=$JAVA_HOME
[ -f "$FORKTRACE_AGENT_JAR" ] || fail "no agent jar at $FORKTRACE_AGENT_JAR (build_if_stale builds it)"
chmod 711 "$WORK" # uid 65534 reaches the socket, nothing else
mkdir -m 755 "$WORK/pub"
SOCKET=$WORK/pub/agent.sock
mkdir -p "$WORK/classes"
"$JDK/bin/javac" -d "$WORK/classes" "$ROOT/tests/integration/java/AgentTarget.java" \
    "$ROOT/tests/integration/java/HostileAgentClient.java"
chmod -R a+rX "$WORK/classes"

make_pids_cgroup ft12b-hostile >/dev/null
start_watch --cgroup /ft12b-hostile --agent-socket "$SOCKET"

setpriv --reuid=65534 --regid=65534 --clear-groups "$JDK/bin/java" -Xmx256m -cp "$WORK/classes" HostileAgentClient \
    "$SOCKET" 235 262144 1024 "$WORK/pub/release" >"$WORK/hostile.out" 2>"$WORK/hostile.err" &
hostile=$!
for _ in $(seq 600); do grep -q HOLDING "$WORK/hostile.out" && break; kill -0 $hostile 2>/dev/null || break; sleep 0.1; done
grep -q HOLDING "$WORK/hostile.out" || fail "the hostile client did not get going: $(cat "$WORK/hostile.err")"
note "hostile client (uid 65534): $(cat "$WORK/hostile.out")"

# a real JVM (root) with the agent, under a pids limit, while the hostile connections are held
cg=$(make_pids_cgroup ft12b-hostile/jvm 60)
in_cgroup "$cg" "$JDK/bin/java" -Xss256k -XX:+UseSerialGC -javaagent:"$FORKTRACE_AGENT_JAR=socket=$SOCKET" \
    -cp "$WORK/classes" AgentTarget >"$WORK/jvm.out" 2>"$WORK/jvm.err" || fail "the JVM exited with $?: $(tail -3 "$WORK/jvm.err")"
touch "$WORK/pub/release"
wait $hostile || true
stop_watch

pid=$(sed -n 's/^READY pid=\([0-9]*\).*/\1/p' "$WORK/jvm.out")
grep -q "^CAUGHT java.lang.OutOfMemoryError" "$WORK/jvm.out" || fail "Thread.start never failed: the set-up is wrong"
joined=$(events | jq -s --argjson p "$pid" '[.[] | select(.pid == $p and ((.java.stack // []) | length) > 0)] | length')
expect_eq "the real JVM's failure joined with its Java stack, despite the hostile user" 1 "$joined"
summary=$(grep '^forktrace: java agent:' "$WORK/watch.err") || fail "no agent summary: $(cat "$WORK/watch.err")"
note "$summary"
grep -q "bad input(s) ignored" <<<"$summary" || fail "the nested JSON is not counted as bad input"
grep -q "refused: .*connection(s) over the per-user limit" <<<"$summary" || fail "refused connections are not reported"
! grep -q "listener restart" <<<"$summary" || fail "the listener had to restart: $summary"
! grep -q "OutOfMemoryError\|StackOverflowError" "$WORK/watch.err" || fail "forktrace hit an Error: $(grep -m3 Error "$WORK/watch.err")"
