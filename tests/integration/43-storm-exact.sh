#!/usr/bin/env bash
# Issue 13, target 1: no failure without its cause, at any rate. A mixed storm at the generators' maximum
# rate, a pids-cgroup generator and an RLIMIT_NPROC generator at once, each in its own scope, overflows
# the ring; the failures the ring could not hold are counted in the kernel under their signature and
# attributed, so the final Stats count each cause in its scope exactly: delivered + aggregated equals the
# generator's own count. The test proves something only if the ring dropped failures: it checks that too.
source "$(dirname "$0")/../lib.sh"
make -s -C "$ROOT/bench" bin/ftstorm
STORM=$ROOT/bench/bin/ftstorm
STORM_UID=61300 # ft13's uid range: no passwd entry, no processes, RLIMIT_NPROC counts only the generator
seconds=4
[ "${FORKTRACE_TEST_QUICK:-0}" = 1 ] && seconds=2
cg=$(make_pids_cgroup ft13-storm-exact)

# Text to /dev/null on standard output and the protobuf stream to a file: the consumer cannot keep up.
start_watch_raw --output "$WORK/storm.pb" --comm ftstorm
"$STORM" threads --cgroup "$cg" --workers 2 --seconds "$seconds" >"$WORK/threads.out" &
threads_pid=$!
"$STORM" procs --uid "$STORM_UID" --workers 2 --seconds "$seconds" >"$WORK/procs.out" &
procs_pid=$!
wait "$threads_pid" || fail "the pids-cgroup generator failed: $(cat "$WORK/threads.out")"
wait "$procs_pid" || fail "the RLIMIT_NPROC generator failed: $(cat "$WORK/procs.out")"
stop_watch
note "$(cat "$WORK/threads.out")"
note "$(cat "$WORK/procs.out")"
threads_failures=$(sed -n 's/.* failures=\([0-9]*\) .*/\1/p' "$WORK/threads.out")
procs_failures=$(sed -n 's/.* failures=\([0-9]*\) .*/\1/p' "$WORK/procs.out")
[ "$threads_failures" -gt 0 ] && [ "$procs_failures" -gt 0 ] || fail "a generator made no failures"

"$FORKTRACE" report --format json "$WORK/storm.pb" >"$WORK/report.json" 2>"$WORK/report.err" ||
    { cat "$WORK/report.err"; fail "report of the storm's stream failed"; }
"$FORKTRACE" report "$WORK/storm.pb" >"$WORK/report.txt" 2>&1 || fail "text report failed"
stats=$(jq -c '.captures[0].stats' "$WORK/report.json")
[ "$(jq .final <<<"$stats")" = true ] || fail "no final Stats in the stream: $stats"
row() { # row CAUSE SCOPE_PREFIX: "delivered aggregated" of that cause in scopes named SCOPE_PREFIX...
    jq -r --arg cause "$1" --arg scope "$2" '[.cause_scope_counts[] | select(.cause == $cause and (.scope | startswith($scope)))]
        | "\(map(.delivered) | add // 0) \(map(.aggregated) | add // 0)"' <<<"$stats"
}
read -r pids_delivered pids_aggregated <<<"$(row PIDS_CGROUP_LIMIT /ft13-storm-exact)"
read -r nproc_delivered nproc_aggregated <<<"$(row RLIMIT_NPROC "uid $STORM_UID")"
note "pids cgroup: generator $threads_failures, delivered $pids_delivered + counted in the kernel $pids_aggregated"
note "RLIMIT_NPROC: generator $procs_failures, delivered $nproc_delivered + counted in the kernel $nproc_aggregated"
note "stream: dropped $(jq .dropped <<<"$stats"), aggregated $(jq .aggregated <<<"$stats"), signature overflow $(jq .signature_overflow <<<"$stats")"
[ $((pids_aggregated + nproc_aggregated)) -gt 0 ] ||
    fail "the ring dropped nothing: the storm did not overflow it, so exactness under drops is not shown"
expect_eq "pids-cgroup failures (delivered + aggregated) = the generator's count" \
    "$threads_failures" "$((pids_delivered + pids_aggregated))"
expect_eq "RLIMIT_NPROC failures (delivered + aggregated) = the generator's count" \
    "$procs_failures" "$((nproc_delivered + nproc_aggregated))"
expect_eq "signature table overflow" 0 "$(jq .signature_overflow <<<"$stats")"
# The same numbers reach the people reading: the exit summary and the text report.
total=$((pids_delivered + pids_aggregated))
grep -q "$total failures of PIDS_CGROUP_LIMIT in /ft13-storm-exact, $pids_aggregated of them counted in the kernel without detail (ring full)" \
    "$WORK/watch.err" || { cat "$WORK/watch.err"; fail "the exit summary lacks the exact pids-cgroup line"; }
grep -q "$total failures of PIDS_CGROUP_LIMIT in /ft13-storm-exact" "$WORK/report.txt" ||
    { cat "$WORK/report.txt"; fail "the text report lacks the exact pids-cgroup line"; }
note "summary: $(grep -m1 'failures of PIDS_CGROUP_LIMIT' "$WORK/watch.err")"
echo "ok"
