#!/usr/bin/env bash
# forktrace run traces a command's whole process tree (descendants tracked in the kernel) and turns the
# diagnosis into an exit status: the command's own, 3 for an unmet --expect, 4 for --fail-on-failure.
source "$(dirname "$0")/../lib.sh"
example=$ROOT/examples/pids-cgroup-nested.sh

rc=0; "$FORKTRACE" run --expect PIDS_CGROUP_LIMIT -- "$example" >"$WORK/out" 2>&1 || rc=$?
expect_eq "matching --expect exit" "0" "$rc"
grep -q "expectation met: \[PIDS_CGROUP_LIMIT\]" "$WORK/out" || fail "no 'expectation met' line: $(tail -5 "$WORK/out")"
grep -q "forktrace: first: PIDS_CGROUP_LIMIT \[CONFIRMED\]" "$WORK/out" || fail "no diagnosis: $(tail -5 "$WORK/out")"

rc=0; "$FORKTRACE" run --expect RLIMIT_NPROC -- "$example" >"$WORK/out" 2>&1 || rc=$?
expect_eq "mismatching --expect exit" "3" "$rc"
grep -q "expectation not met: expected \[RLIMIT_NPROC\], observed \[PIDS_CGROUP_LIMIT\]" "$WORK/out" \
    || fail "no explanation: $(tail -5 "$WORK/out")"

rc=0; "$FORKTRACE" run --fail-on-failure --format json --output "$WORK/run.json" -- "$example" >"$WORK/out" 2>&1 || rc=$?
expect_eq "--fail-on-failure exit" "4" "$rc"
observed=$(sed -n 's/^OBSERVED failures=\([0-9]*\).*/\1/p' "$WORK/out")
expect_eq "events in the tree (json)" "$observed" "$(jq -s length "$WORK/run.json")"

rc=0; "$FORKTRACE" run -- sh -c 'exit 7' >"$WORK/out" 2>&1 || rc=$?
expect_eq "the command's own status" "7" "$rc"

rc=0; "$FORKTRACE" run --expect PIDS_CGROUP_LIMIT -- sh -c 'exit 0' >"$WORK/out" 2>&1 || rc=$?
expect_eq "expected cause absent exit" "3" "$rc"
grep -q "missing \[PIDS_CGROUP_LIMIT\]" "$WORK/out" || fail "does not say what is missing"

# failures outside the tree are not the command's: a fork loop in another cgroup while run watches
cg=$(make_pids_cgroup forktrace-test-outside 2)
(sleep 1.5; in_cgroup "$cg" "$HELPERS/forkloop" 5 1 >"$WORK/outside") & # fails while the command runs
rc=0; "$FORKTRACE" run --fail-on-failure -- sh -c 'sleep 3' >"$WORK/out" 2>&1 || rc=$?
wait
grep -q 'failures=[1-9]' "$WORK/outside" || fail "the unrelated fork loop did not fail as planned: $(cat "$WORK/outside")"
expect_eq "unrelated failures ignored" "0" "$rc"
