#!/usr/bin/env bash
# The kernel lab ends a guest that makes no progress (issue 12, item 16): lab/guest-watchdog, which
# lab/run puts around every qemu, ends a command whose console shows only kernel messages (a soft
# lockup repeats "BUG: soft lockup" every 22 s) after the stall time, and leaves a command that keeps
# printing its own lines alone. Fake guests (shell loops) stand in for qemu: what is tested is the
# watchdog's rule, the real guests run in the kernel lab.
source "$(dirname "$0")/../lib.sh"
WATCHDOG=$ROOT/lab/guest-watchdog

# a livelocked guest: booted, then only kernel messages
rc=0
"$WATCHDOG" 3 "$WORK/stuck.log" sh -c 'echo "LAB-BOOTED 7.1 5.10.0"; echo "LAB-BEGIN 40-memcg-limit"
    while :; do echo "[   30.123456] watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [forkloop:321]"
        echo "[   30.123457] Call Trace:"; sleep 0.3; done' >"$WORK/stuck.log" 2>&1 || rc=$?
expect_eq "a livelocked guest: watchdog exit" 125 "$rc"
grep -q '^LAB-STALLED no progress for 3 s' "$WORK/stuck.log" || fail "no LAB-STALLED line: $(tail -3 "$WORK/stuck.log")"
pgrep -f 'stuck for 22s' >/dev/null && fail "the stuck guest is still running"
note "$(grep -E '^LAB-(STALLED|WATCHDOG)' "$WORK/stuck.log" | paste -sd';')"

# a healthy guest that runs longer than the stall time, printing its own lines
rc=0
"$WATCHDOG" 3 "$WORK/busy.log" sh -c 'echo "LAB-BOOTED 7.1 5.10.0"
    for i in 1 2 3 4 5 6; do echo "[20-pids-cgroup] step $i"; sleep 1; done; echo "LAB-DONE 14.2"; exit 7' \
    >"$WORK/busy.log" 2>&1 || rc=$?
expect_eq "a guest making progress: its own exit status" 7 "$rc"
! grep -q '^LAB-STALLED' "$WORK/busy.log" || fail "a guest making progress was ended"
grep -q '^LAB-DONE' "$WORK/busy.log" || fail "the guest did not finish"
note "$(grep '^LAB-WATCHDOG' "$WORK/busy.log")"
# The stall time may be scaled (arm64 guests run under a slower emulation): either form counts.
grep -Eq 'guest-watchdog" "\$(\(\()?STALL_TIMEOUT' "$ROOT/lab/run" || fail "lab/run does not run qemu under the watchdog"
