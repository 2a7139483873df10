#!/usr/bin/env bash
# Outputs that fail do not lose count (issue 12, items 5-8 and 14), on real failures from a pids cgroup:
# - JSON onto a full tmpfs, onto /proc/version (EIO) and into a pipe whose reader left (EPIPE): exit 1, the
#   exact number of lines written and not written, and the file ends with a whole line;
# - a .pb stream onto a full tmpfs: the capture goes on (live JSON keeps every failure, the kernel keeps
#   counting), the failure is said once, and the bytes and failures on disk are exact: the file reads back
#   clean and the on-disk + lost + after counts add up to what was delivered;
# - that recording read twice, concatenated with itself, and with one record damaged: counted once, and the
#   damaged record skipped by offset with every later one kept;
# - no run, not even one ended by SIGKILL, leaves a forktrace-NNN directory in the temporary directory, and
#   stale ones from earlier versions are removed.
source "$(dirname "$0")/../lib.sh"
FULL=$WORK/full
mkdir -p "$FULL" "$WORK/tmp"
mount -t tmpfs -o size=64k ft12a-full "$FULL"
trap 'umount "$FULL" 2>/dev/null || true; cleanup' EXIT
# Every JVM of this test uses its own temporary directory, so other runs on the machine cannot interfere.
export JAVA_TOOL_OPTIONS=-Djava.io.tmpdir=$WORK/tmp
mkdir "$WORK/tmp/forktrace-123" "$WORK/tmp/forktrace-456" "$WORK/tmp/forktrace-other"
touch "$WORK/tmp/forktrace-123/forktrace.bpf.o" "$WORK/tmp/forktrace-123/libforktrace_shim.so" \
    "$WORK/tmp/forktrace-456/forktrace.bpf.o" "$WORK/tmp/forktrace-456/notes.txt"
touch -d '10 minutes ago' "$WORK/tmp"/forktrace-*

cg=$(make_pids_cgroup ft12a-outputs 6)
burst() { in_cgroup "$cg" "$HELPERS/forkloop" "$1" 1 >/dev/null; }

# wait_exit: RC = the watch's exit status, once it has ended by itself (its output failed); 60 s at most.
wait_exit() {
    local i
    for i in $(seq 1 300); do kill -0 "$WATCH_PID" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$WATCH_PID" 2>/dev/null; then
        kill -TERM "$WATCH_PID"; wait "$WATCH_PID" || true; WATCH_PID=""
        fail "forktrace did not stop after its only output failed"
    fi
    RC=0; wait "$WATCH_PID" || RC=$?
    WATCH_PID=""
}

# 1. JSON lines onto a full 64 KiB tmpfs: about 400 failures of 1-2 KB each do not fit.
start_watch_raw --format json --output "$FULL/events.json" --cgroup /ft12a-outputs --duration 60
burst 400
wait_exit
expect_eq "JSON onto a full disk: exit" 1 "$RC"
grep -E "writing $FULL/events.json failed: No space left on device; [0-9]+ of [0-9]+ lines were written, [0-9]+ could not be" \
    "$WORK/watch.err" >"$WORK/msg" || { cat "$WORK/watch.err"; fail "no exact message for the full disk"; }
written=$(sed -n 's/.*; \([0-9]*\) of [0-9]* lines were written.*/\1/p' "$WORK/msg" | head -1)
expect_eq "lines in the file = lines it says were written" "$written" "$(wc -l <"$FULL/events.json")"
[ "$(tail -c 1 "$FULL/events.json" | od -An -c | tr -d ' ')" = '\n' ] || fail "the file ends inside a line"
jq -e . "$FULL/events.json" >/dev/null || fail "a line in the file is not whole JSON"
[ "$written" -gt 0 ] || fail "nothing was written before the disk filled"
grep -q "forktrace: summary" "$WORK/watch.err" || fail "no summary after the output failed"
note "$(cat "$WORK/msg")"
rm -f "$FULL/events.json"

# The text format too (it wrote through a PrintWriter, which swallows errors: exit 0 with lines lost).
# Collapsed storms print few lines, so the disk is filled first.
head -c 1M /dev/zero >"$FULL/filler" 2>/dev/null || true
start_watch_raw --output "$FULL/events.txt" --cgroup /ft12a-outputs --duration 60
burst 50
wait_exit
rm -f "$FULL/filler"
expect_eq "text onto a full disk: exit" 1 "$RC"
grep -E "writing $FULL/events.txt failed: No space left on device; [0-9]+ of [0-9]+ lines were written" "$WORK/watch.err" ||
    { cat "$WORK/watch.err"; fail "no exact message for the text output on a full disk"; }
rm -f "$FULL/events.txt"

# 2. /proc/version takes no writes (EIO).
start_watch_raw --format json --output /proc/version --cgroup /ft12a-outputs --duration 60
burst 30
wait_exit
expect_eq "JSON onto /proc/version: exit" 1 "$RC"
grep -E "writing /proc/version failed: Input/output error; 0 of [1-9][0-9]* lines were written" "$WORK/watch.err" ||
    { cat "$WORK/watch.err"; fail "no message for EIO"; }

# 3. A reader that goes away: watch --format json | head -c 100 ends with head.
( rc=0; "$FORKTRACE" watch --format json --cgroup /ft12a-outputs --duration 60 2>"$WORK/pipe.err" || rc=$?; echo $rc >"$WORK/pipe.rc" ) |
    head -c 100 >"$WORK/pipe.out" &
for _ in $(seq 1 300); do grep -q '^forktrace: attached' "$WORK/pipe.err" 2>/dev/null && break; sleep 0.2; done
burst 20
for _ in $(seq 1 100); do [ -s "$WORK/pipe.out" ] && break; sleep 0.2; done
burst 20 # head has gone: the next write meets EPIPE
for _ in $(seq 1 300); do [ -f "$WORK/pipe.rc" ] && break; sleep 0.2; done
[ -f "$WORK/pipe.rc" ] || fail "watch kept running after its reader was gone"
expect_eq "watch | head -c 100: exit" 1 "$(cat "$WORK/pipe.rc")"
grep -q "writing standard output failed: Broken pipe" "$WORK/pipe.err" || { cat "$WORK/pipe.err"; fail "no EPIPE message"; }
expect_eq "bytes head read" 100 "$(wc -c <"$WORK/pipe.out")"

# 4. A .pb stream onto the full tmpfs, JSON on standard output: the capture goes on.
WATCH_STDOUT=$WORK/live.json start_watch_raw --format json --output "$FULL/capture.pb" --cgroup /ft12a-outputs
burst 400
sleep 1.5 # a Stats tick: the stream writer flushes, fails, and says so
burst 100 # after the disk filled: still counted and shown live
sleep 0.5
kill -INT "$WATCH_PID"; rc=0; wait "$WATCH_PID" || rc=$?; WATCH_PID=""
expect_eq ".pb onto a full disk: exit (after a full capture)" 1 "$rc"
said=$(grep -c "writing $FULL/capture.pb failed: No space left on device; it holds" "$WORK/watch.err" || true)
expect_eq "messages at the time of the failure, plus the one in the summary" 2 "$said"
grep -q "the capture goes on" "$WORK/watch.err" || fail "not said that the capture goes on"
delivered=$(sed -n 's/^forktrace:   delivered \([0-9]*\),.*/\1/p' "$WORK/watch.err")
kernel=$(sed -n 's/^forktrace: summary: \([0-9]*\) failed task creations.*/\1/p' "$WORK/watch.err")
live=$(failure_lines "$WORK/live.json" | jq -s length)
expect_eq "live JSON kept every delivered failure" "$delivered" "$live"
[ "$kernel" -ge "$delivered" ] && [ "$delivered" -ge 450 ] || fail "kernel $kernel, delivered $delivered: both bursts expected"
summary=$(grep "^forktrace: output failed: writing $FULL/capture.pb" "$WORK/watch.err")
bytes=$(sed -n 's/.*it holds \([0-9]*\) bytes of complete records (\([0-9]*\) failures).*/\1/p' <<<"$summary")
ondisk=$(sed -n 's/.*it holds \([0-9]*\) bytes of complete records (\([0-9]*\) failures).*/\2/p' <<<"$summary")
lost=$(sed -n 's/.*; \([0-9]*\) failures\{0,1\} accepted before the error could not be written.*/\1/p' <<<"$summary")
after=$(sed -n 's/.*; \([0-9]*\) failures\{0,1\} after that were not written to it.*/\1/p' <<<"$summary")
note "$summary"
expect_eq "bytes on disk, as the message says" "$bytes" "$(stat -c %s "$FULL/capture.pb")"
expect_eq "on disk + lost in the buffer + after = delivered" "$delivered" "$((ondisk + lost + after))"
[ "$after" -gt 0 ] || fail "no failures after the disk filled: the test did not fill it early"
cp "$FULL/capture.pb" "$WORK/capture.pb"
"$FORKTRACE" report --format json "$WORK/capture.pb" >"$WORK/report.json" 2>"$WORK/report.err" ||
    { cat "$WORK/report.err"; fail "the stream on the full disk does not read back clean"; }
expect_eq "failures in the file, as the message says" "$ondisk" "$(jq .failures "$WORK/report.json")"

# 5. The same capture twice, and a copy concatenated with itself: counted once, with a warning.
"$FORKTRACE" report --format json "$WORK/capture.pb" "$WORK/capture.pb" >"$WORK/twice.json" 2>"$WORK/twice.err"
expect_eq "report good.pb good.pb" "$ondisk" "$(jq .failures "$WORK/twice.json")"
grep -q "$ondisk failures were already read" "$WORK/twice.err" || { cat "$WORK/twice.err"; fail "no duplicate warning"; }
cat "$WORK/capture.pb" "$WORK/capture.pb" >"$WORK/doubled.pb"
"$FORKTRACE" report --format json "$WORK/doubled.pb" >"$WORK/doubled.json" 2>"$WORK/doubled.err"
expect_eq "report of a file concatenated with itself" "$ondisk" "$(jq .failures "$WORK/doubled.json")"

# 6. One damaged record in the middle (its first byte zeroed: tag 0 never decodes): skipped, named, the rest read.
read -r damaged_at < <(python3 - "$WORK/capture.pb" "$WORK/damaged.pb" <<'PY'
import sys
data = bytearray(open(sys.argv[1], 'rb').read())
starts, at = [], 0
while at < len(data):
    length, shift, begin = 0, 0, at
    while True:
        b = data[at]; at += 1
        length |= (b & 0x7f) << shift; shift += 7
        if not b & 0x80: break
    starts.append((begin, at)); at += length
begin, payload = starts[len(starts) // 2]
data[payload] = 0
open(sys.argv[2], 'wb').write(data)
print(begin)
PY
)
rc=0; "$FORKTRACE" report --format json "$WORK/damaged.pb" >"$WORK/damaged.json" 2>"$WORK/damaged.err" || rc=$?
expect_eq "report of a stream with a damaged record exits" 1 "$rc"
expect_eq "the damaged record's offset" "$damaged_at" "$(jq '.inputs[0].skipped_offsets[0]' "$WORK/damaged.json")"
kept=$(jq .failures "$WORK/damaged.json")
[ "$kept" -ge $((ondisk - 1)) ] || fail "kept $kept of $ondisk failures around one damaged record"
grep -q "skipped 1 damaged region(s), [0-9]* byte(s), at byte offset(s) $damaged_at," "$WORK/damaged.err" || fail "$(cat "$WORK/damaged.err")"
note "one damaged record at byte $damaged_at: $kept of $ondisk failures kept"

# 7. SIGKILL leaves nothing in the temporary directory either.
start_watch_raw --cgroup /ft12a-outputs
kill -KILL "$WATCH_PID"; wait "$WATCH_PID" 2>/dev/null || true; WATCH_PID=""
left=$(find "$WORK/tmp" -maxdepth 1 -name 'forktrace-[0-9]*' -newer "$WORK/tmp/forktrace-other" | wc -l)
expect_eq "forktrace-NNN directories left by these runs" 0 "$left"
[ ! -e "$WORK/tmp/forktrace-123" ] || fail "a stale directory of an earlier version was not removed"
[ -e "$WORK/tmp/forktrace-456/notes.txt" ] && [ -d "$WORK/tmp/forktrace-other" ] || fail "a directory that is not forktrace's own was removed"
note "temporary directory after 5 runs and a SIGKILL: $(ls "$WORK/tmp" | tr '\n' ' ')"
