#!/usr/bin/env bash
# Bad flags, an unwritable output and missing privileges: clear messages and the documented exit codes.
source "$(dirname "$0")/../lib.sh"
rc=0; "$FORKTRACE" watch --no-such-flag >"$WORK/out" 2>&1 || rc=$?
expect_eq "unknown flag exit" "2" "$rc"
grep -q "Unknown option: '--no-such-flag'" "$WORK/out" || fail "no usage message: $(cat "$WORK/out")"
grep -q "Usage: forktrace watch" "$WORK/out" || fail "usage not printed"

rc=0; "$FORKTRACE" watch --output /proc/forktrace-nope/x --duration 1 >"$WORK/out" 2>&1 || rc=$?
expect_eq "unwritable output exit" "1" "$rc"
grep -q "cannot write the output file /proc/forktrace-nope/x" "$WORK/out" || fail "message: $(cat "$WORK/out")"

rc=0; "$FORKTRACE" watch --format yaml >"$WORK/out" 2>&1 || rc=$?
expect_eq "bad --format exit" "2" "$rc"

# As an unprivileged user (the jar is already built, so run java directly: the launcher would want
# to install packages as root).
source "$ROOT/scripts/setup.sh"; find_jdk
rc=0; setpriv --reuid=65534 --regid=65534 --clear-groups "$JAVA" --enable-native-access=ALL-UNNAMED \
    -jar "$ROOT/target/forktrace.jar" watch --duration 1 >"$WORK/out" 2>&1 || rc=$?
expect_eq "unprivileged exit" "2" "$rc"
grep -q "CAP_BPF and CAP_PERFMON" "$WORK/out" || fail "the message does not name what is missing: $(cat "$WORK/out")"
note "$(cat "$WORK/out")"
