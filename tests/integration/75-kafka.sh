#!/usr/bin/env bash
# Issue 17 on a real single-node KRaft broker (started and stopped here, 127.0.0.1:19171): two watches that
# pretend to be two hosts write genuine pids-cgroup failures to one topic while the broker is stopped and
# restarted mid-capture; the topic holds every event once (nothing lost or repeated beyond what forktrace
# counted), `report kafka://` groups by host and equals `report` of the two watches' own .pb files; a capture
# killed without a final tally is named as a gap; records that cannot be delivered are counted and logged once;
# `report --html` of the topic renders in headless Chromium without console errors.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/tests/kafka/broker.sh"
BROKER=127.0.0.1:19171
TOPIC=ft17-fleet
declare -A HOST_PID=()

stop_everything() {
    local rc=$? name
    if [ $rc -ne 0 ]; then # keep the evidence: watch messages and the broker's log
        mkdir -p "$ROOT/build/test-logs/60-kafka" && cp "$WORK"/*.err "$WORK"/kafka.log "$ROOT/build/test-logs/60-kafka/" 2>/dev/null
    fi
    for name in "${!HOST_PID[@]}"; do kill -KILL "${HOST_PID[$name]}" 2>/dev/null || true; done
    kafka_stop
    cleanup
}
trap stop_everything EXIT

# start_host NAME ARGS...: forktrace watch ARGS as host NAME (live JSON to $WORK/NAME.json); waits for attach.
start_host() {
    local name=$1
    shift
    "$FORKTRACE" watch --host-name "ft17-host-$name" --format json "$@" >"$WORK/$name.json" 2>"$WORK/$name.err" &
    HOST_PID[$name]=$!
    local i
    for i in $(seq 1 300); do
        grep -q '^forktrace: attached' "$WORK/$name.err" 2>/dev/null && return 0
        kill -0 "${HOST_PID[$name]}" 2>/dev/null || { cat "$WORK/$name.err"; fail "watch $name exited before attaching"; }
        sleep 0.2
    done
    fail "watch $name did not attach within 60 s"
}

# stop_host NAME: SIGINT, require exit 0 (the watch delivers what is queued before it exits).
stop_host() {
    local rc=0
    kill -INT "${HOST_PID[$1]}"
    wait "${HOST_PID[$1]}" || rc=$?
    unset "HOST_PID[$1]"
    [ $rc -eq 0 ] || { cat "$WORK/$1.err"; fail "watch $1 exited with $rc"; }
}

# wait_events NAME N: until host NAME's live output holds N events (the ring consumer has them).
wait_events() {
    local i
    for i in $(seq 1 100); do
        [ "$(failure_lines "$WORK/$1.json" | wc -l)" -ge "$2" ] && return 0
        sleep 0.1
    done
    fail "host $1 printed $(failure_lines "$WORK/$1.json" | wc -l) events, expected $2"
}

# forks CGROUP N HOST: N forks in the cgroup (over its limit); adds the failures forkloop itself saw to OBSERVED_HOST.
declare -A OBSERVED=([a]=0 [b]=0)
forks() {
    local seen
    seen=$(in_cgroup "$1" "$HELPERS/forkloop" "$2" 1 | sed -n 's/^OBSERVED failures=\([0-9]*\).*/\1/p')
    [ -n "$seen" ] || fail "forkloop printed no OBSERVED line"
    OBSERVED[$3]=$((OBSERVED[$3] + seen))
}

# Bad input, in the background while the broker starts: nothing listens on 19179.
(rc=0; "$FORKTRACE" report kafka://127.0.0.1:19179/ft17-none >/dev/null 2>"$WORK/noanswer.err" || rc=$?; echo $rc >"$WORK/noanswer.rc") &
NOANSWER_PID=$!
rc=0; "$FORKTRACE" report 'kafka://127.0.0.1:19171/t?from=yesterday' >/dev/null 2>"$WORK/badurl.err" || rc=$?
expect_eq "report of a bad kafka:// address: exit" 1 "$rc"
grep -q 'from=yesterday is not a time (expected kafka://HOST:PORT/TOPIC' "$WORK/badurl.err" || fail "$(cat "$WORK/badurl.err")"

kafka_start 19171 19172
cga=$(make_pids_cgroup ft17-kafka-a 6)
cgb=$(make_pids_cgroup ft17-kafka-b 4)
start_host a --cgroup /ft17-kafka-a --output "$WORK/a.pb" --kafka "$BROKER" --kafka-topic "$TOPIC"
start_host b --cgroup /ft17-kafka-b --output "$WORK/b.pb" --kafka "$BROKER" --kafka-topic "$TOPIC"

forks "$cga" 14 a
forks "$cgb" 10 b
# Cgroup a at 6 of 6 tasks for 3 s: the once-a-second headroom sampler warns, then sees it recover; the
# warning must reach the topic as it reaches a.pb.
in_cgroup "$cga" sh -c 'sleep 3 & sleep 3 & sleep 3 & sleep 3 & sleep 3 & wait'
sleep 1.5 # a Stats record each second
note "phase 1 (broker up): forkloop saw a=${OBSERVED[a]} b=${OBSERVED[b]} failures"

# The broker goes away mid-capture; failures keep happening; it comes back with the same log directory.
kafka_stop
note "broker stopped"
before=${OBSERVED[a]}
forks "$cga" 12 a
forks "$cgb" 9 b
sleep 2 # Stats records queue up while the broker is down
[ "${OBSERVED[a]}" -gt "$before" ] || fail "no failures while the broker was down: the restart proves nothing"
note "phase 2 (broker down): forkloop saw a=${OBSERVED[a]} b=${OBSERVED[b]} failures so far"
kafka_start 19171 19172
forks "$cga" 10 a
forks "$cgb" 8 b
note "phase 3 (after the restart): forkloop saw a=${OBSERVED[a]} b=${OBSERVED[b]} failures in all"
sleep 0.5
stop_host a
stop_host b

expect_eq "host a: live events = failures forkloop saw" "${OBSERVED[a]}" "$(failure_lines "$WORK/a.json" | jq -s length)"
expect_eq "host b: live events = failures forkloop saw" "${OBSERVED[b]}" "$(failure_lines "$WORK/b.json" | jq -s length)"
expect_eq "host a: causes of its live events" "PIDS_CGROUP_LIMIT" "$(failure_lines "$WORK/a.json" | jq -r .cause | sort -u | paste -sd,)"
undeliverable() { sed -n 's/^forktrace: kafka .*acknowledged, \([0-9]*\) undeliverable.*/\1/p' "$WORK/$1.err"; }
ua=$(undeliverable a)
ub=$(undeliverable b)
[ -n "$ua" ] && [ -n "$ub" ] || { cat "$WORK/a.err"; fail "no kafka summary line in the watch output"; }
note "kafka summaries: $(grep '^forktrace: kafka' "$WORK/a.err"); $(grep '^forktrace: kafka' "$WORK/b.err")"

"$FORKTRACE" report --format json "kafka://$BROKER/$TOPIC" >"$WORK/fleet.json" 2>"$WORK/fleet.err" ||
    { cat "$WORK/fleet.err"; fail "report kafka:// failed"; }
expect_eq "headroom warnings for /ft17-kafka-a in the topic (CROSSED)" 1 \
    "$(jq '[.headroom[] | select(.name == "/ft17-kafka-a" and .state == "CROSSED")] | length' "$WORK/fleet.json")"
host_count() { jq -r --arg h "ft17-host-$1" '.by_host[] | select(.host == $h) | .count' "$WORK/fleet.json"; }
capture_of() { jq -c --arg h "ft17-host-$1" '.captures[] | select(.host == $h)' "$WORK/fleet.json"; }
for h in a b; do
    live=$(failure_lines "$WORK/$h.json" | jq -s length)
    u=$(undeliverable $h)
    got=$(host_count $h)
    expect_eq "host $h: one capture in the topic" 1 "$(capture_of $h | wc -l)"
    expect_eq "host $h: repeated records in the topic" 0 "$(capture_of $h | jq .duplicate_records)"
    # Whatever did not arrive is what the watch counted as undeliverable, and the report names it.
    expect_eq "host $h: records missing from the topic = undeliverable counted by the watch" "$u" \
        "$(capture_of $h | jq .missing_records)"
    [ "$got" -le "$live" ] && [ $((got + u)) -ge "$live" ] ||
        fail "host $h: $got failures in the topic, $live live, $u undeliverable"
    if [ "$u" -eq 0 ]; then
        expect_eq "host $h: failures in the topic (every live event, broker restart included)" "$live" "$got"
        expect_eq "host $h: gaps" "[]" "$(capture_of $h | jq -c .gaps)"
    else
        capture_of $h | jq -e '.gaps | map(select(test("missing|undeliverable"))) | length > 0' >/dev/null ||
            fail "host $h lost $u records but the report names no gap"
    fi
done

# The topic read back equals the two watches' own files, table for table (inputs aside: their names differ).
"$FORKTRACE" report --format json "$WORK/a.pb" "$WORK/b.pb" >"$WORK/files.json" || fail "report of the .pb files failed"
if [ "$ua" -eq 0 ] && [ "$ub" -eq 0 ]; then
    diff <(jq -S 'del(.inputs)' "$WORK/files.json") <(jq -S 'del(.inputs)' "$WORK/fleet.json") >"$WORK/diff.txt" ||
        { head -40 "$WORK/diff.txt"; fail "report kafka:// differs from report of the .pb files"; }
    "$FORKTRACE" report "$WORK/a.pb" "$WORK/b.pb" | sed '/^Inputs$/,/^$/d' >"$WORK/files.txt"
    "$FORKTRACE" report "kafka://$BROKER/$TOPIC" | sed '/^Inputs$/,/^$/d' >"$WORK/fleet.txt"
    diff "$WORK/files.txt" "$WORK/fleet.txt" >"$WORK/diff.txt" ||
        { cat "$WORK/diff.txt"; fail "report kafka:// (text) differs from report of the .pb files"; }
    note "report kafka://$BROKER/$TOPIC equals report a.pb b.pb (JSON and text, inputs aside)"
    "$FORKTRACE" report "kafka://$BROKER/$TOPIC" # for the log (and docs/kafka.md)
    # One capture alone: the same capture from its file and from the topic between two times around it.
    from=$(date -u -d "@$(( $(date +%s) - 600 ))" +%FT%TZ)
    to=$(date -u -d "@$(( $(date +%s) + 60 ))" +%FT%TZ)
    diff <("$FORKTRACE" report --format json "$WORK/a.pb" "$WORK/b.pb" | jq -S 'del(.inputs)') \
        <("$FORKTRACE" report --format json "kafka://$BROKER/$TOPIC?from=$from&to=$to" | jq -S 'del(.inputs)') >/dev/null ||
        fail "report kafka://...?from=$from&to=$to differs from the files"
fi
"$FORKTRACE" export --json "kafka://$BROKER/$TOPIC" "$WORK/fleet-events.json" 2>/dev/null || fail "export --json kafka:// failed"
expect_eq "export --json kafka://: failures" "$(jq '.by_host | map(.count) | add' "$WORK/fleet.json")" \
    "$(failure_lines "$WORK/fleet-events.json" | jq -s length)"
expect_eq "export --json kafka://: headroom lines (the warning for /ft17-kafka-a and its recovery)" 2 \
    "$(jq -c 'select(.headroom) | .headroom | select(.name == "/ft17-kafka-a") | .state' "$WORK/fleet-events.json" | wc -l)"

# An independent client (kcat, librdkafka in C) sees the documented layout: key = the forktrace.host header,
# forktrace.seq numbering each capture's records 0..n-1 with no gap or repeat.
acked=$(( $(sed -n 's/^forktrace: kafka .*records, \([0-9]*\) acknowledged.*/\1/p' "$WORK/a.err") +
          $(sed -n 's/^forktrace: kafka .*records, \([0-9]*\) acknowledged.*/\1/p' "$WORK/b.err") ))
kcat -C -b "$BROKER" -t "$TOPIC" -e -q -f '%k|%h\n' >"$WORK/kcat.txt" || fail "kcat cannot read the topic"
layout=$(awk -F'|' '{
        n = split($2, pairs, ","); delete h
        for (i = 1; i <= n; i++) { split(pairs[i], kv, "="); h[kv[1]] = kv[2] }
        if (h["forktrace.host"] != $1 || h["forktrace.boot_id"] == "") bad++
        c = h["forktrace.capture_id"]; count[c]++; if (seen[c, h["forktrace.seq"]]++) bad++
        if (h["forktrace.seq"] + 0 > top[c]) top[c] = h["forktrace.seq"] + 0
    } END { for (c in count) if (top[c] + 1 != count[c]) bad++; print NR " records, " length(count) " captures, " bad + 0 " bad" }' \
    "$WORK/kcat.txt")
expect_eq "kcat: the topic's layout" "$acked records, 2 captures, 0 bad" "$layout"
head -2 "$WORK/kcat.txt"

wait "$NOANSWER_PID"
expect_eq "report of a topic on a broker that does not answer: exit" 1 "$(cat "$WORK/noanswer.rc")"
grep -q '^forktrace report: kafka://127.0.0.1:19179/ft17-none: no answer from Kafka at 127.0.0.1:19179 within 15 s$' \
    "$WORK/noanswer.err" || fail "unclear error for an unreachable broker: $(cat "$WORK/noanswer.err")"

# A watch killed without its final tally, then the same host again: two captures, the first named as a gap.
start_host c --cgroup /ft17-kafka-a --kafka "$BROKER" --kafka-topic ft17-restarts
in_cgroup "$cga" "$HELPERS/forkloop" 9 1 >/dev/null
# Killed once its header and a failure are on the topic (the topic's creation takes a moment under load).
for i in $(seq 1 150); do
    [ "$(kcat -C -b "$BROKER" -t ft17-restarts -e -q -f 'x\n' 2>/dev/null | wc -l)" -ge 2 ] && break
    sleep 0.2
done
kill -KILL "${HOST_PID[c]}"; wait "${HOST_PID[c]}" 2>/dev/null || true; unset "HOST_PID[c]"
start_host c --cgroup /ft17-kafka-a --kafka "$BROKER" --kafka-topic ft17-restarts
stop_host c
"$FORKTRACE" report "kafka://$BROKER/ft17-restarts" >"$WORK/restarts.txt" || fail "report of the restarts topic failed"
"$FORKTRACE" report --format json "kafka://$BROKER/ft17-restarts" >"$WORK/restarts.json"
expect_eq "host c: captures told apart by capture_id" 2 "$(jq '[.captures[] | select(.host == "ft17-host-c")] | map(.capture_id) | unique | length' "$WORK/restarts.json")"
expect_eq "host c: captures without a final tally" 1 \
    "$(jq '[.captures[] | select(.gaps | map(test("no final tally")) | any)] | length' "$WORK/restarts.json")"
sed -n '/^Captures/,$p' "$WORK/restarts.txt"
grep -q 'ft17-host-c capture .*no final tally' "$WORK/restarts.txt" || fail "the text report names no gap for host c"

# Nothing listens on 19179: every record is counted as undeliverable, logged once, and the watch still ends.
"$FORKTRACE" watch --cgroup /ft17-kafka-a --duration 2 --kafka 127.0.0.1:19179 --kafka-topic ft17-nowhere \
    --kafka-property delivery.timeout.ms=2000 --kafka-property request.timeout.ms=1000 \
    --kafka-property linger.ms=0 --kafka-property max.block.ms=500 --output "$WORK/nowhere.pb" >/dev/null 2>"$WORK/nowhere.err" ||
    { cat "$WORK/nowhere.err"; fail "watch with an unreachable broker did not exit 0"; }
expect_eq "unreachable broker: 'cannot be delivered' lines" 1 "$(grep -c 'cannot be delivered' "$WORK/nowhere.err")"
line=$(grep '^forktrace: kafka 127.0.0.1:19179' "$WORK/nowhere.err") || { cat "$WORK/nowhere.err"; fail "no kafka summary"; }
records=$(sed -n 's/.*: \([0-9]*\) records,.*/\1/p' <<<"$line")
[ "$records" -ge 2 ] || fail "unreachable broker: only $records records handed to the sink"
expect_eq "unreachable broker: undeliverable = records" "$records" "$(sed -n 's/.*acknowledged, \([0-9]*\) undeliverable.*/\1/p' <<<"$line")"
# The .pb file written beside it says so too: its final Stats count what Kafka lost up to then.
in_file=$("$FORKTRACE" report --format json "$WORK/nowhere.pb" | jq .undeliverable)
[ "$in_file" -ge 1 ] && [ "$in_file" -le "$records" ] || fail "the .pb file's Stats.undeliverable is $in_file (sink: $records)"
"$FORKTRACE" report "$WORK/nowhere.pb" | grep -q 'records undeliverable to Kafka' || fail "report of the .pb file names no Kafka gap"
note "the .pb file's final Stats: $in_file undeliverable"

# The HTML page of the whole topic: self-contained, refuses to overwrite what is not its own, renders cleanly.
"$FORKTRACE" report --html "$WORK/fleet.html" "kafka://$BROKER/$TOPIC" 2>"$WORK/html.err" || { cat "$WORK/html.err"; fail "report --html failed"; }
"$FORKTRACE" report --html "$WORK/fleet.html" "kafka://$BROKER/$TOPIC" 2>/dev/null || fail "report --html cannot replace its own page"
kafka_stop # everything below reads files only
if grep -Eq '(src|href)=|https?://|@import|url\(' "$WORK/fleet.html"; then fail "the page refers to something outside itself"; fi
listed=$(grep -c '<details class="failure"' "$WORK/fleet.html")
expect_eq "failures listed on the page" "$(failure_lines "$WORK/fleet-events.json" | jq -s length)" "$listed"
grep -q 'Hosts by failures' "$WORK/fleet.html" || fail "no hosts table for a fleet"
echo "not forktrace's" >"$WORK/mine.html"
rc=0; "$FORKTRACE" report --html "$WORK/mine.html" "$WORK/a.pb" 2>/dev/null || rc=$?
expect_eq "report --html over a file forktrace did not write: exit" 2 "$rc"
expect_eq "that file is untouched" "not forktrace's" "$(cat "$WORK/mine.html")"
rc=0; "$FORKTRACE" report --html "$WORK/a.pb" "$WORK/a.pb" 2>/dev/null || rc=$?
expect_eq "report --html onto its own input: exit" 2 "$rc"

chromium_run() {
    timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$WORK/chromium" \
        --enable-logging=stderr --v=0 "$@"
}
# The console check must be able to fail: a page with an error must be caught by it.
printf '<!DOCTYPE html><html><body><script>console.error("ft17 probe"); missingFunction();</script></body></html>' >"$WORK/bad.html"
chromium_run --dump-dom "file://$WORK/bad.html" >/dev/null 2>"$WORK/bad.log" || true
grep -q 'Uncaught' "$WORK/bad.log" || { tail -5 "$WORK/bad.log"; fail "chromium's log does not show a page's uncaught error: the console check proves nothing"; }
chromium_run --dump-dom "file://$WORK/fleet.html" >"$WORK/dom.html" 2>"$WORK/chromium.log" || { tail "$WORK/chromium.log"; fail "chromium failed"; }
if grep -E 'CONSOLE|Uncaught' "$WORK/chromium.log"; then fail "console messages from the report page"; fi
grep -q "data-forktrace-ready=\"$listed\"" "$WORK/dom.html" || fail "the page's script did not run to its end"
chromium_run --window-size=1280,1700 --hide-scrollbars --screenshot="$WORK/fleet.png" "file://$WORK/fleet.html" 2>>"$WORK/chromium.log" >/dev/null
[ "$(head -c 8 "$WORK/fleet.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "no PNG screenshot"
mkdir -p "$ROOT/build/test-logs" && cp "$WORK/fleet.png" "$WORK/fleet.html" "$ROOT/build/test-logs/"
note "report --html: $listed failures listed, rendered by chromium without console messages (build/test-logs/fleet.png)"
