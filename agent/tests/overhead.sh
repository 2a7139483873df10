#!/usr/bin/env bash
# usage: overhead.sh [JAVA_HOME] [ROUNDS] [THREADS]
# What the agent costs a Thread.start that succeeds: THREADS (20000) thread start+join in a fresh JVM,
# with and without -javaagent, interleaved for ROUNDS (7) rounds so that drift on a shared machine hits
# both alike; prints each pair and the median of the per-round ratios (agent / plain). No assertion:
# timing belongs in a report, not in a test. No forktrace needs to listen (the agent then stays quiet).
set -euo pipefail
JH=${1:-/usr/lib/jvm/temurin-25-jdk-amd64}; ROUNDS=${2:-7}; N=${3:-20000}
D=$(dirname "$(readlink -f "$0")"); JAR=$D/../target/forktrace-agent.jar
[ -f "$JAR" ] || { echo "build the agent first (cd agent && mvn package)" >&2; exit 2; }
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
"$JH/bin/javac" -d "$W" "$D/StartJoin.java"
run() { "$JH/bin/java" -XX:+UseSerialGC "$@" -cp "$W" StartJoin "$N" 2>/dev/null; }
ratios=()
for r in $(seq "$ROUNDS"); do
    if [ $((r % 2)) -eq 1 ]; then plain=$(run); agent=$(run -javaagent:"$JAR=socket=$W/none.sock")
    else agent=$(run -javaagent:"$JAR=socket=$W/none.sock"); plain=$(run); fi
    ratio=$(awk -v a="$agent" -v p="$plain" 'BEGIN { printf "%.4f", a / p }')
    ratios+=("$ratio")
    printf 'round %d: plain %.1f us/start, agent %.1f us/start, ratio %s\n' "$r" \
        "$(awk -v t="$plain" -v n="$N" 'BEGIN { print t / n / 1000 }')" \
        "$(awk -v t="$agent" -v n="$N" 'BEGIN { print t / n / 1000 }')" "$ratio"
done
printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "median ratio (agent / plain) over %d rounds: %s\n", NR, v[int((NR + 1) / 2)] }'
