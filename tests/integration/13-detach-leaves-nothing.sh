#!/usr/bin/env bash
# After SIGINT no forktrace BPF program, link or map remains in the kernel.
source "$(dirname "$0")/../lib.sh"
names='^(tp_|fe_|fx_|kp_|kr_|tpb_)'
before=$(bpftool -j prog show | jq -r '.[].name // empty' | grep -cE "$names" || true)
# Maps by name, counted before too: another forktrace on the machine (the lab, a second watch) has its own.
count_maps() { bpftool -j map show | jq -r '.[].name // empty' | grep -cE '^(events|inflight|traced_tgids|counters|signatures|forktrac)' || true; }
maps_before=$(count_maps)
start_watch
during=$(bpftool -j prog show | jq -r '.[].name // empty' | grep -cE "$names" || true)
links_during=$(bpftool -j link show | jq 'length')
maps_during=$(count_maps)
[ "$maps_during" -gt "$maps_before" ] || fail "no forktrace map was visible while attached (the map check would prove nothing)"
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
for _ in $(seq 50); do maps=$(count_maps); [ "$maps" -le "$maps_before" ] && break; sleep 0.1; done
expect_eq "forktrace maps left (beyond the $maps_before there before)" "$maps_before" "$maps"
