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

# Flags that would watch nothing, or be ignored, are refused with exit 2 and name only the flag at fault.
pid_max=$(cat /proc/sys/kernel/pid_max)
for args in "--pid 0" "--pid -1" "--pid $pid_max" "--rotate-keep -1 --output $WORK/r.pb" "--rotate-size 4096" \
    "--rotate-size 4096 --output $WORK/r.json" "--output $WORK/same.pb --jfr $WORK/same.pb"; do
    # shellcheck disable=SC2086
    rc=0; "$FORKTRACE" watch $args --duration 1 >"$WORK/out" 2>&1 || rc=$?
    expect_eq "watch $args: exit" "2" "$rc"
    note "$(grep '^forktrace' "$WORK/out" | head -1)"
done
grep -q "^forktrace: --pid -1 is not a process id: ids run from 1 to $((pid_max - 1)) (kernel.pid_max is $pid_max)" \
    <("$FORKTRACE" watch --pid -1 2>&1) || fail "--pid -1 message: $("$FORKTRACE" watch --pid -1 2>&1)"
"$FORKTRACE" watch --pid -1 2>&1 | grep -q -- "--duration" && fail "--pid -1 blames --duration too"
[ ! -e "$WORK/same.pb" ] || fail "a refused watch created its output"
"$FORKTRACE" watch --help | tr -s ' \n' ' ' | grep -q "(0, the default: run until Ctrl-C or SIGTERM)" || fail "--duration 0 undocumented"
rc=0; "$FORKTRACE" run --expect CAUSE_UNSPECIFIED -- true >"$WORK/out" 2>&1 || rc=$?
expect_eq "run --expect CAUSE_UNSPECIFIED: exit" "2" "$rc"
grep -q "is not a cause a failure can have" "$WORK/out" || fail "message: $(cat "$WORK/out")"

# Error messages name the path and the reason.
rc=0; "$FORKTRACE" watch --output "$WORK/no/such/dir/x.pb" --duration 1 >"$WORK/out" 2>&1 || rc=$?
expect_eq "stream into a missing directory: exit" "1" "$rc"
grep -q "cannot create $WORK/no/such/dir/x.pb: no such file or directory" "$WORK/out" || fail "message: $(cat "$WORK/out")"
mkdir "$WORK/adir"
for input in "$WORK/missing.pb:no such file or directory" "$WORK/adir:it is a directory"; do
    rc=0; "$FORKTRACE" export --json "${input%%:*}" "$WORK/x.json" >"$WORK/out" 2>&1 || rc=$?
    expect_eq "export of ${input%%:*}: exit" "1" "$rc"
    grep -q "cannot read ${input%%:*}: ${input#*:}" "$WORK/out" || fail "message: $(cat "$WORK/out")"
done

# export never destroys its input, and touches no output before its input proved to be a stream.
printf 'precious\n' >"$WORK/precious.json"
printf 'not a stream\n' >"$WORK/text.pb"
rc=0; "$FORKTRACE" export --json "$WORK/text.pb" "$WORK/precious.json" >"$WORK/out" 2>&1 || rc=$?
expect_eq "export of a non-stream: exit" "1" "$rc"
expect_eq "the existing output after a refused export" "precious" "$(cat "$WORK/precious.json")"
for format in --json --perfetto --jfr; do
    cp "$WORK/text.pb" "$WORK/in.pb"; ln -sf "$WORK/in.pb" "$WORK/link.out"
    rc=0; "$FORKTRACE" export $format "$WORK/in.pb" "$WORK/link.out" >"$WORK/out" 2>&1 || rc=$?
    expect_eq "export $format onto a link to its input: exit" "2" "$rc"
    cmp -s "$WORK/text.pb" "$WORK/in.pb" || fail "export $format changed its input"
done

# An existing file that forktrace did not write is never emptied: text, JSON and .pb outputs refuse it;
# a .pb that is a forktrace stream is continued with a new capture after its records.
printf 'precious\n' >"$WORK/precious.txt"; cp "$WORK/precious.txt" "$WORK/precious.pb"
for out in precious.txt precious.pb; do
    rc=0; "$FORKTRACE" watch --format json --output "$WORK/$out" --duration 1 >"$WORK/out" 2>&1 || rc=$?
    expect_eq "watch --output over a user's $out: exit" "1" "$rc"
    grep -q "never overwrites a file it did not write" "$WORK/out" || fail "no refusal for $out: $(cat "$WORK/out")"
    expect_eq "$out afterwards" "precious" "$(cat "$WORK/$out")"
done
"$FORKTRACE" watch --output "$WORK/twice.pb" --duration 1 >/dev/null 2>&1 || fail "first capture into twice.pb"
"$FORKTRACE" watch --output "$WORK/twice.pb" --duration 1 >/dev/null 2>&1 || fail "second capture into twice.pb"
expect_eq "captures in a .pb written twice" "2" \
    "$("$FORKTRACE" report --format json "$WORK/twice.pb" 2>/dev/null | jq '.captures | length' 2>/dev/null || echo "?")"

# As an unprivileged user (the jar is already built, so run java directly: the launcher would want
# to install packages as root).
source "$ROOT/scripts/setup.sh"; find_jdk
rc=0; setpriv --reuid=65534 --regid=65534 --clear-groups "$JAVA" --enable-native-access=ALL-UNNAMED \
    -jar "$ROOT/target/forktrace.jar" watch --duration 1 >"$WORK/out" 2>&1 || rc=$?
expect_eq "unprivileged exit" "2" "$rc"
grep -q "CAP_BPF and CAP_PERFMON" "$WORK/out" || fail "the message does not name what is missing: $(cat "$WORK/out")"
note "$(cat "$WORK/out")"
