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

# Before it ends a stalled guest the watchdog asks qemu (LAB_GUEST_QMP, qemu's QMP socket) where every vCPU
# is: a fake QMP server answers "info registers -a" with two x86_64 vCPUs, one in the kernel, one in user space.
if command -v python3 >/dev/null; then
    python3 - "$WORK/qmp.sock" >"$WORK/qmp.log" 2>&1 <<'PY' &
import json, socket, sys
regs = ("CPU#0\nRAX=0000000000000000 RBX=0000000000000000\nRIP=ffffffff812b6c9e RFL=00000246 [---Z-P-] CPL=0\n"
        "ES =0000 0000000000000000 00000000 00000000\nCS =0010 0000000000000000 ffffffff 00af9b00 DPL=0\n"
        "CPU#1\nRAX=0000000000000001 RBX=0000000000000000\nRIP=0000000000401c97 RFL=00000246 [---Z-P-] CPL=3\n"
        "ES =0000 0000000000000000 00000000 00000000\nCS =0033 0000000000000000 ffffffff 00a0fb00 DPL=3\n")
srv = socket.socket(socket.AF_UNIX)
srv.bind(sys.argv[1])
srv.listen(8)
while True:
    conn, _ = srv.accept()
    f = conn.makefile("rw")
    f.write(json.dumps({"QMP": {"version": {}}}) + "\n"); f.flush()
    for line in f:
        req = json.loads(line)
        reply = {"return": regs if req.get("execute") == "human-monitor-command" else {}}
        f.write(json.dumps(reply) + "\n"); f.flush()
    conn.close()
PY
    fake_qmp=$!
    for _ in $(seq 50); do [ -S "$WORK/qmp.sock" ] && break; sleep 0.1; done
    rc=0
    LAB_GUEST_QMP=$WORK/qmp.sock "$WATCHDOG" 2 "$WORK/vcpu.log" sh -c 'echo "LAB-BOOTED 7.1 5.10.0"; exec sleep 60' \
        >"$WORK/vcpu.log" 2>&1 || rc=$?
    kill "$fake_qmp" 2>/dev/null
    expect_eq "a stalled guest with a QMP socket: watchdog exit" 125 "$rc"
    grep -q '^LAB-VCPU sample=0 cpu=0 mode=kernel rip=ffffffff812b6c9e$' "$WORK/vcpu.log" ||
        fail "no kernel-mode LAB-VCPU line for vCPU 0: $(grep LAB-VCPU "$WORK/vcpu.log" | head -3)"
    grep -q '^LAB-VCPU sample=4 cpu=1 mode=user rip=0000000000401c97$' "$WORK/vcpu.log" ||
        fail "no fifth user-mode sample for vCPU 1: $(grep 'cpu=1' "$WORK/vcpu.log" | tail -2)"
    grep -q '^LAB-VCPU | CS =0010' "$WORK/vcpu.log" || fail "no register dump in the console log"
    note "$(grep -c '^LAB-VCPU sample' "$WORK/vcpu.log") LAB-VCPU samples before the stalled guest was ended"
fi
