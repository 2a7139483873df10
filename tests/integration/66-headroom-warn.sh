#!/usr/bin/env bash
# watch --warn-at 90 on a pids cgroup filled one task a second: one CROSSED warning naming the scope, its
# numbers and its holders arrives before the first failure in the same stream (JSON live and the protobuf
# recording, read back by report); a sibling cgroup at 50% gets none; emptying the cgroup gives one
# RECOVERED. The offenders of the failures group the sleeps: "N × sleep (N tasks) under bash pid P".
source "$(dirname "$0")/../lib.sh"
command -v jq >/dev/null || fail "jq is missing (scripts/setup.sh TEST_PACKAGES)"
make_pids_cgroup ft15-warn >/dev/null
fill=$(make_pids_cgroup ft15-warn/fill 20)
half=$(make_pids_cgroup ft15-warn/half 20)
in_cgroup "$half" "$HELPERS/holder" 10 >/dev/null &
disown $!
in_cgroup "$fill" "$HELPERS/holder" 14 >/dev/null &
disown $!
for _ in $(seq 50); do [ "$(cat "$half/pids.current")" = 10 ] && [ "$(cat "$fill/pids.current")" = 14 ] && break; sleep 0.1; done
expect_eq "tasks in half" 10 "$(cat "$half/pids.current")"

WATCH_STDOUT=$WORK/events.json start_watch_raw --format json --output "$WORK/capture.pb" --cgroup /ft15-warn --warn-at 90
# One more task a second (15, 16, ... 20 of 20), then attempts that fail: the monitor samples every second.
in_cgroup "$fill" bash -c 'for i in $(seq 9); do sleep 600 & sleep 1; done; wait' >/dev/null 2>&1 &
filler=$!
for _ in $(seq 150); do
    grep -q '"cause"' "$WORK/events.json" 2>/dev/null && break
    sleep 0.1
done
sleep 2 # a few failures more
kill -KILL $(cat "$fill/cgroup.procs" | grep -vx "$(pgrep -f "^$HELPERS/holder 14")") 2>/dev/null || true
wait "$filler" 2>/dev/null || true
for _ in $(seq 50); do [ "$(cat "$fill/pids.current")" = 14 ] && break; sleep 0.1; done
sleep 2.5 # the monitor sees 14 of 20 (70%, below 85%): recovered
stop_watch

headroom_events >"$WORK/headroom.json"
note "headroom records: $(wc -l <"$WORK/headroom.json")"
sed 's/^/   | /' "$WORK/headroom.json" | cut -c1-400
crossed=$(jq -c 'select(.name == "/ft15-warn/fill" and .state == "CROSSED")' "$WORK/headroom.json")
expect_eq "CROSSED warnings for /ft15-warn/fill" 1 "$(grep -c . <<<"$crossed")"
used=$(jq -r .used <<<"$crossed")
[ "$used" -ge 18 ] && [ "$used" -le 20 ] || fail "the warning says $used of 20 (the threshold is 18)"
expect_eq "warning: limit, threshold, kind" "20 0.9 CGROUP pids.max" "$(jq -r '"\(.limit) \(.threshold) \(.kind) \(.limitName)"' <<<"$crossed")"
expect_eq "warning: first holder" "holder 14" "$(jq -r '.holders[0] | "\(.comm) \(.tasks)"' <<<"$crossed")"
jq -r .message <<<"$crossed" | grep -q "headroom warning: pids cgroup /ft15-warn/fill is at" || fail "warning message: $(jq -r .message <<<"$crossed")"
note "warning: $(jq -r .message <<<"$crossed")"
expect_eq "RECOVERED for /ft15-warn/fill" 1 "$(jq -c 'select(.name == "/ft15-warn/fill" and .state == "RECOVERED")' "$WORK/headroom.json" | grep -c .)"
expect_eq "warnings for /ft15-warn/half (50%)" 0 "$(jq -c 'select(.name == "/ft15-warn/half")' "$WORK/headroom.json" | grep -c . || true)"

# Order in the live stream: the warning's line comes before the first failure of that cgroup.
warn_line=$({ grep -n '^{"headroom":' "$WORK/events.json" | grep '"CROSSED"' | grep '"name":"/ft15-warn/fill"' || true; } |
    head -1 | cut -d: -f1)
fail_line=$({ grep -n '"name":"/ft15-warn/fill"' "$WORK/events.json" | grep -v ':{"headroom"' || true; } | head -1 | cut -d: -f1)
[ -n "$fail_line" ] || fail "no failure in /ft15-warn/fill: the set-up did not reach the limit"
[ "$warn_line" -lt "$fail_line" ] || fail "the warning (line $warn_line) comes after the first failure (line $fail_line)"
note "warning on line $warn_line, first failure on line $fail_line"
failure=$(sed -n "${fail_line}p" "$WORK/events.json")
expect_eq "failure cause" PIDS_CGROUP_LIMIT "$(jq -r .cause <<<"$failure")"
sleeps=$(jq -r '.offenders[] | select(.comm == "sleep") | "\(.processCount) \(.tasks) \(.ancestorComm)"' <<<"$failure")
[ -n "$sleeps" ] && [ "$(cut -d' ' -f1 <<<"$sleeps")" -ge 2 ] || fail "the failure's offenders do not group the sleeps: $sleeps"
jq -r .message <<<"$failure" | grep -q "'holder' (pid [0-9]*) holds 14 tasks" || fail "failure message: $(jq -r .message <<<"$failure")"
note "failure offenders: $(jq -c '[.offenders[] | {comm, tasks, processCount, ancestorComm}]' <<<"$failure")"

# The protobuf recording: report reads the Headroom records and lists them, in order, before nothing is lost.
"$FORKTRACE" report "$WORK/capture.pb" >"$WORK/report.txt" || fail "report failed"
grep -q "^Headroom warnings" "$WORK/report.txt" || { cat "$WORK/report.txt"; fail "report shows no headroom warnings"; }
grep -q "CROSSED headroom warning: pids cgroup /ft15-warn/fill" "$WORK/report.txt" || fail "report: no CROSSED for fill"
"$FORKTRACE" report --format json "$WORK/capture.pb" >"$WORK/report.json"
expect_eq "report: headroom records" "$(wc -l <"$WORK/headroom.json")" "$(jq .headroom_records "$WORK/report.json")"
"$FORKTRACE" export --json "$WORK/capture.pb" "$WORK/replayed.json" 2>/dev/null
diff <(jq -S -c . "$WORK/events.json") <(jq -S -c . "$WORK/replayed.json") >/dev/null ||
    fail "the recording read back differs from the live JSON"
note "report and export --json read the Headroom records back as they were live"
echo "PASS headroom-warn"
