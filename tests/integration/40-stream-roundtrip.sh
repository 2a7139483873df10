#!/usr/bin/env bash
# Issue 5's contract on real failures: one watch shows JSON live and records a protobuf stream (plus JFR);
# the stream read back (export --json) equals the live JSON field for field; report counts agree; a cut
# and a garbage-tailed copy name the byte offset of the damage and keep every complete event; the Perfetto
# export decodes (protoc --decode_raw, an independent decoder) as a Trace with one instant TrackEvent per
# failure on its process track and its scope track; the JFR file prints with `jfr print`.
source "$(dirname "$0")/../lib.sh"
cg=$(make_pids_cgroup forktrace-test-stream 6)
WATCH_STDOUT=$WORK/live.json start_watch_raw --format json --output "$WORK/capture.pb" --jfr "$WORK/capture.jfr" \
    --cgroup /forktrace-test-stream
in_cgroup "$cg" "$HELPERS/forkloop" 25 1 >/dev/null
in_cgroup "$cg" "$HELPERS/threadspawn" spawner-9 12 >/dev/null 2>&1 || true # thread failures: clone3, CLONE_THREAD
stop_watch
grep -v '^{"headroom":' "$WORK/live.json" >"$WORK/live.failures" || true # warnings go through the round trip too
live=$(jq -s length "$WORK/live.failures")
[ "$live" -ge 5 ] || fail "only $live live events: the set-up did not create failures"
note "live JSON events: $live ($(jq -r .syscall "$WORK/live.failures" | sort | uniq -c | tr -s ' \n' ' '))"

# Round trip: every event, every field.
"$FORKTRACE" export --json "$WORK/capture.pb" "$WORK/replayed.json" 2>"$WORK/export.err" ||
    { cat "$WORK/export.err"; fail "export --json of an intact stream failed"; }
jq -S -c . "$WORK/live.json" >"$WORK/live.norm"
jq -S -c . "$WORK/replayed.json" >"$WORK/replayed.norm"
diff "$WORK/live.norm" "$WORK/replayed.norm" >"$WORK/diff.txt" ||
    { head -c 2000 "$WORK/diff.txt"; fail "the recorded stream read back differs from the live JSON"; }
note "export --json: $live events equal to the live JSON, field for field"

"$FORKTRACE" report --format json "$WORK/capture.pb" >"$WORK/report.json" || fail "report of an intact stream failed"
expect_eq "report: failures" "$live" "$(jq .failures "$WORK/report.json")"
expect_eq "report: by cause" "$(jq -r .cause "$WORK/live.failures" | sort | uniq -c | awk '{print $2 "=" $1}' | paste -sd,)" \
    "$(jq -r '.by_cause | map("\(.cause)=\(.count)") | sort | join(",")' "$WORK/report.json")"

# A stream cut in the middle: the damage is named by offset, the complete events before it are kept.
size=$(stat -c %s "$WORK/capture.pb")
head -c $((size / 2)) "$WORK/capture.pb" >"$WORK/cut.pb"
rc=0
"$FORKTRACE" export --json "$WORK/cut.pb" "$WORK/cut.json" 2>"$WORK/cut.err" || rc=$?
expect_eq "export of a cut stream exits" 1 "$rc"
grep -q 'damaged tail from byte [0-9]' "$WORK/cut.err" || { cat "$WORK/cut.err"; fail "no byte offset for the cut"; }
offset=$(sed -n 's/.*damaged tail from byte \([0-9]*\).*/\1/p' "$WORK/cut.err" | head -1)
[ "$offset" -gt 0 ] && [ "$offset" -le $((size / 2)) ] || fail "damage offset $offset outside the cut file"
kept=$(jq -s length "$WORK/cut.json")
[ "$kept" -ge 1 ] && [ "$kept" -lt "$live" ] || fail "a half stream kept $kept of $live events"
diff <(head -n "$kept" "$WORK/live.norm") <(jq -S -c . "$WORK/cut.json") >/dev/null ||
    fail "the events kept from the cut stream differ from the first $kept live events"
note "cut at byte $((size / 2)) of $size: damage named at byte $offset, $kept complete events kept and equal"
rc=0
"$FORKTRACE" report "$WORK/cut.pb" >/dev/null 2>"$WORK/cut-report.err" || rc=$?
expect_eq "report of a cut stream exits" 1 "$rc"
grep -q "damaged tail from byte $offset" "$WORK/cut-report.err" || fail "report names another offset: $(cat "$WORK/cut-report.err")"

# Garbage appended: the damage starts exactly where the recording ended; nothing recorded is lost.
{ cat "$WORK/capture.pb"; head -c 64 /dev/urandom; } >"$WORK/garbage.pb"
rc=0
"$FORKTRACE" export --json "$WORK/garbage.pb" "$WORK/garbage.json" 2>"$WORK/garbage.err" || rc=$?
expect_eq "export with garbage appended exits" 1 "$rc"
grep -q "damaged tail from byte $size " "$WORK/garbage.err" || { cat "$WORK/garbage.err"; fail "garbage not located at byte $size"; }
expect_eq "events kept before the garbage" "$live" "$(jq -s '[.[] | select(.headroom | not)] | length' "$WORK/garbage.json")"

# One flipped bit in the length prefix of a record in the middle (issue 12, item 7): report resynchronises on
# the next intact record, says what it skipped, and counts every failure but that one. The framing is walked
# here with od (varint prefixes), not with forktrace.
starts=$(od -An -v -tu1 "$WORK/capture.pb" | awk '{ for (i = 1; i <= NF; i++) b[n++] = $i }
    END { p = 0; while (p < n) { s = p; len = 0; m = 1; do { v = b[p++]; len += (v % 128) * m; m *= 128 } while (v >= 128)
          print s, b[p]; p += len } }')
mid=$(echo "$starts" | awk '$2 == 18 { f[++k] = $1 } END { print f[int(k / 2)] }') # 18 = tag of a failure record
next=$(echo "$starts" | awk -v m="$mid" 'found { print $1; exit } $1 == m { found = 1 }')
cp "$WORK/capture.pb" "$WORK/flipped.pb"
byte=$(od -An -j "$mid" -N1 -tu1 "$WORK/capture.pb" | tr -d ' ')
printf "$(printf '\\%03o' $((byte ^ 1)))" | dd of="$WORK/flipped.pb" bs=1 seek="$mid" conv=notrunc status=none
rc=0
"$FORKTRACE" report --format json "$WORK/flipped.pb" >"$WORK/flipped.json" 2>"$WORK/flipped.err" || rc=$?
expect_eq "report of a stream with a flipped length prefix exits" 1 "$rc"
expect_eq "failures kept around the flipped length prefix" "$((live - 1))" "$(jq .failures "$WORK/flipped.json")"
expect_eq "damaged region skipped" "$mid $((next - mid))" \
    "$(jq -r '.inputs[0].damaged_regions | map("\(.offset) \(.bytes)") | join(",")' "$WORK/flipped.json")"
expect_eq "failures missing by sequence number" 1 "$(jq '.inputs[0].damaged_regions[0].failures_missing' "$WORK/flipped.json")"
"$FORKTRACE" report "$WORK/flipped.pb" >"$WORK/flipped.txt" 2>&1 || true # exit 1: checked above
grep -q "DAMAGED: skipped 1 damaged region(s), $((next - mid)) byte(s), at byte offset(s) $mid," "$WORK/flipped.txt" ||
    fail "report's text does not name the skipped region: $(grep DAMAGED "$WORK/flipped.txt")"
note "one bit of the length prefix at byte $mid flipped: $((live - 1)) of $live failures kept, $((next - mid)) bytes skipped"

# Perfetto: decoded by protoc itself (no forktrace code), Trace.packet = 1, TracePacket.track_event = 11,
# TrackEvent.type = 9 with TYPE_INSTANT = 3, TracePacket.track_descriptor = 60 (perfetto/protos/perfetto/trace).
protoc=$(ls "$ROOT"/target/protoc-plugins/protoc-*.exe 2>/dev/null | head -1)
[ -x "$protoc" ] || protoc=$(command -v protoc || true)
[ -n "$protoc" ] || fail "no protoc (the Maven build downloads one into target/protoc-plugins)"
"$FORKTRACE" export --perfetto "$WORK/capture.pb" "$WORK/capture.perfetto-trace" 2>"$WORK/perfetto.err" ||
    { cat "$WORK/perfetto.err"; fail "export --perfetto failed"; }
"$protoc" --decode_raw <"$WORK/capture.perfetto-trace" >"$WORK/perfetto.txt" || fail "protoc cannot decode the Perfetto trace"
packets=$(grep -c '^1 {' "$WORK/perfetto.txt")
instants=$(awk '/^  11 \{/ { inevent = 1 } inevent && /^    9: 3$/ { n++ } /^  \}/ { inevent = 0 } END { print n + 0 }' "$WORK/perfetto.txt")
descriptors=$(grep -c '^  60 {' "$WORK/perfetto.txt")
# One instant on the failing process's track and one on its scope's track (every failure here has a scope).
expect_eq "Perfetto instant events (two per failure)" "$((2 * live))" "$instants"
[ "$descriptors" -ge 2 ] || fail "only $descriptors track descriptors (a process track and a scope track at least)"
grep -q '^    9: 4$' "$WORK/perfetto.txt" || fail "no counter events (TYPE_COUNTER = 4) in the Perfetto trace"
note "Perfetto trace: $packets packets, $descriptors track descriptors, $instants instant events"

# JFR, written live by the same watch.
jfr=${JAVA_HOME:+$JAVA_HOME/bin/}jfr
"$jfr" print --events forktrace.ForkFailure "$WORK/capture.jfr" >"$WORK/jfr.txt" || fail "jfr print failed"
expect_eq "JFR forktrace.ForkFailure events" "$live" "$(grep -c '^forktrace.ForkFailure' "$WORK/jfr.txt")"
grep -q 'cause = "PIDS_CGROUP_LIMIT"' "$WORK/jfr.txt" || { head -30 "$WORK/jfr.txt"; fail "no PIDS_CGROUP_LIMIT cause in the JFR events"; }
