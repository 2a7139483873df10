#!/usr/bin/env bash
# forktrace doctor tells the truth: the kernel's lockdown mode (securityfs mounted by the launcher), a
# concrete reason for every tier it refuses, and, run unprivileged, "unknown" instead of "no".
source "$(dirname "$0")/../lib.sh"

"$FORKTRACE" doctor >"$WORK/doctor.txt" 2>"$WORK/doctor.err" || { cat "$WORK/doctor.err"; fail "doctor as root exited $?"; }
cat "$WORK/doctor.txt"
# The launcher mounted securityfs: the kernel's own answer, read here by the test.
modes=$(cat /sys/kernel/security/lockdown) || fail "securityfs is still not mounted after the launcher ran"
expected=$(sed 's/.*\[\(.*\)\].*/\1/' <<<"$modes")
expect_eq "doctor's lockdown" "$expected" "$(awk '$1 == "lockdown" { print $2 }' "$WORK/doctor.txt")"

# Every tier that is not "yes" gives a reason.
tiers=$(sed -n '/^Tiers/,/^BPF features/p' "$WORK/doctor.txt" | sed '1d;$d')
[ "$(wc -l <<<"$tiers")" -eq 5 ] || fail "expected five tiers, got: $tiers"
while read -r tier verdict; do
    case $verdict in
        yes) ;;
        "no: "?*|"partly: "?*) note "$tier refused: $verdict" ;;
        *) fail "tier $tier has no concrete verdict: '$verdict'" ;;
    esac
done <<<"$tiers"
# Where the kernel config says CONFIG_KPROBES is not set, doctor names exactly that.
if zcat /proc/config.gz 2>/dev/null | grep -q '^# CONFIG_KPROBES is not set'; then
    grep -q '^  kprobe *no: CONFIG_KPROBES is not set (/proc/config.gz)$' <<<"$tiers" || fail "kprobe tier does not name CONFIG_KPROBES: $tiers"
fi

"$FORKTRACE" doctor --format json >"$WORK/doctor.json" || fail "doctor --format json exited $?"
expect_eq "json lockdown" "$expected" "$(jq -r .kernel.lockdown "$WORK/doctor.json")"
expect_eq "json tiers" 5 "$(jq '.tiers | length' "$WORK/doctor.json")"

# Unprivileged (nobody): a note at the top, and "unknown" for what needs root, never a false "no".
rc=0
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$FORKTRACE" doctor >"$WORK/user.txt" 2>"$WORK/user.err" || rc=$?
cat "$WORK/user.txt" "$WORK/user.err"
expect_eq "unprivileged doctor's exit status (incomplete results)" 2 "$rc"
head -1 "$WORK/user.txt" | grep -q '^Not running as root: these results need root' || fail "no note at the top: $(head -1 "$WORK/user.txt")"
user_tiers=$(sed -n '/^Tiers/,/^BPF features/p' "$WORK/user.txt" | sed '1d;$d')
[ "$(grep -c 'unknown (needs root' <<<"$user_tiers")" -eq 5 ] || fail "tiers are not all unknown when unprivileged: $user_tiers"
grep -q "tracefs *mounted, contents unknown (needs root" "$WORK/user.txt" || fail "unprivileged tracefs is not unknown"
causes=$(sed -n '/^Causes/,$p' "$WORK/user.txt" | sed '1d')
if grep -v 'unknown (needs root' <<<"$causes" | grep -q .; then
    fail "unprivileged causes claim something: $(grep -v 'unknown' <<<"$causes")"
fi
# Unprivileged, doctor still reads what is world-readable.
grep -q "lockdown *$expected" "$WORK/user.txt" || fail "unprivileged doctor lost the lockdown mode"
note "unprivileged doctor: note at the top, $(grep -c unknown "$WORK/user.txt") unknown lines, no false 'no'"
