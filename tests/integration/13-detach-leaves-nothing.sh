#!/usr/bin/env bash
# After SIGINT no forktrace BPF program, link or map remains in the kernel.
source "$(dirname "$0")/../lib.sh"
names='^(tp_|fe_|fx_|kp_|kr_|tpb_)'
before=$(bpftool -j prog show | jq -r '.[].name // empty' | grep -cE "$names" || true)
start_watch
during=$(bpftool -j prog show | jq -r '.[].name // empty' | grep -cE "$names" || true)
links_during=$(bpftool -j link show | jq 'length')
stop_watch
# The kernel frees a detached program after an RCU grace period, so allow it a few seconds.
for _ in $(seq 50); do
    after=$(bpftool -j prog show | jq -r '.[].name // empty' | grep -cE "$names" || true)
    [ "$after" -le "$before" ] && break
    sleep 0.1
done
links_after=$(bpftool -j link show | jq 'length')
note "forktrace programs: before $before, attached $during, after $after; links attached $links_during, after $links_after"
[ "$during" -gt "$before" ] || fail "no forktrace program was visible while attached (the check would prove nothing)"
expect_eq "programs left after SIGINT" "$before" "$after"
[ "$links_after" -lt "$links_during" ] || fail "links did not go away ($links_during -> $links_after)"
maps=$(bpftool -j map show | jq -r '.[].name // empty' | grep -cE '^(events|inflight|traced_tgids|counters|forktrac)' || true)
expect_eq "forktrace maps left" "0" "$maps"
