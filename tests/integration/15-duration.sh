#!/usr/bin/env bash
# --duration ends the capture by itself, exit 0, with the summary on stderr.
source "$(dirname "$0")/../lib.sh"
start=$(date +%s%N)
rc=0; "$FORKTRACE" watch --duration 2 >"$WORK/out" 2>"$WORK/err" || rc=$?
took=$(( ($(date +%s%N) - start) / 1000000 ))
expect_eq "exit" "0" "$rc"
grep -q '^forktrace: attached' "$WORK/err" || fail "no attached line"
grep -q '^forktrace: summary:' "$WORK/err" || fail "no summary: $(cat "$WORK/err")"
grep -q 'dropped 0' "$WORK/err" || fail "the summary does not count drops"
[ "$took" -ge 2000 ] || fail "stopped after ${took} ms, before the 2 s duration"
note "ran ${took} ms"
