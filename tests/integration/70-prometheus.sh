#!/usr/bin/env bash
# watch --metrics scraped by a real Prometheus (Debian's) every second while a pids cgroup refuses forks:
# PromQL over the HTTP API returns forktrace's own count by cause, the shipped alert rule fires, and
# `promtool check metrics` has nothing to say about a real scrape. Bad --metrics values exit 2.
source "$(dirname "$0")/../lib.sh"
METRICS=127.0.0.1:19161
PROM=127.0.0.1:19162
RULES=$ROOT/deploy/prometheus/forktrace-rules.yml
command -v prometheus >/dev/null || fail "prometheus is not installed (scripts/setup.sh TEST_PACKAGES has it)"
PROM_PID=""
stop_prometheus() {
    if [ -n "$PROM_PID" ]; then kill -TERM "$PROM_PID" 2>/dev/null && wait "$PROM_PID" 2>/dev/null || true; fi
    PROM_PID=""
    rm -rf "$WORK/tsdb"
}
trap 'stop_prometheus; cleanup' EXIT

# query PROMQL: the API's JSON answer
query() { curl -sfG "http://$PROM/api/v1/query" --data-urlencode "query=$1"; }

promtool check rules "$RULES" >"$WORK/rules.out" 2>&1 || { cat "$WORK/rules.out"; fail "promtool check rules $RULES"; }
note "promtool check rules: $(grep -o "SUCCESS.*" "$WORK/rules.out")"

cg=$(make_pids_cgroup ft16-prometheus 5)
start_watch --cgroup /ft16-prometheus --metrics "$METRICS"
grep -q "^forktrace: metrics at http://$METRICS/metrics" "$WORK/watch.err" || { cat "$WORK/watch.err"; fail "no 'metrics at' line"; }

# The port is taken now (by the watch above): a second watch must say so and exit 2 before attaching.
rc=0; "$FORKTRACE" watch --metrics "$METRICS" --duration 1 >/dev/null 2>"$WORK/busy.err" || rc=$?
expect_eq "exit status with the metrics port in use" 2 "$rc"
grep -q "cannot listen on $METRICS: Address already in use" "$WORK/busy.err" || { cat "$WORK/busy.err"; fail "unclear message for a port in use"; }
rc=0; "$FORKTRACE" watch --metrics 127.0.0.1:99999 --duration 1 >/dev/null 2>"$WORK/bad.err" || rc=$?
expect_eq "exit status for port 99999" 2 "$rc"
grep -q "port 99999 is outside 0-65535" "$WORK/bad.err" || { cat "$WORK/bad.err"; fail "unclear message for a bad port"; }

cat >"$WORK/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: ["$RULES"]
scrape_configs:
  - job_name: forktrace
    static_configs: [{targets: ["$METRICS"]}]
YAML
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" --web.listen-address="$PROM" \
    >"$WORK/prometheus.log" 2>&1 &
PROM_PID=$!

out=$(in_cgroup "$cg" "$HELPERS/forkloop" 40 1)
note "forkloop: $out"
failures=$(sed -n 's/^pid=.*failures=\([0-9]*\).*/\1/p' <<<"$out")
[ "$failures" -gt 0 ] || fail "the workload saw no failure: the test set-up is wrong"

# Prometheus applies targets on a 5 s tick: poll until the count by cause arrives (bounded, not timed).
value="" answer=""
for _ in $(seq 1 120); do
    answer=$(query 'sum by (cause) (forktrace_failures_total{job="forktrace"})' || true)
    value=$(jq -r '.data.result[] | select(.metric.cause == "PIDS_CGROUP_LIMIT") | .value[1]' <<<"$answer" 2>/dev/null || true)
    [ "$value" = "$failures" ] && break
    kill -0 "$PROM_PID" 2>/dev/null || { cat "$WORK/prometheus.log"; fail "prometheus exited"; }
    sleep 0.5
done
note "PromQL sum by (cause) (forktrace_failures_total): $(jq -c '[.data.result[] | {cause: .metric.cause, value: .value[1]}]' <<<"$answer" 2>/dev/null)"
expect_eq "failures by cause in Prometheus" "$failures" "$value"
expect_eq "causes in Prometheus" "PIDS_CGROUP_LIMIT" "$(jq -r '[.data.result[].metric.cause] | join(",")' <<<"$answer")"

# The shipped rule fires on the same data.
alert=""
for _ in $(seq 1 60); do
    alert=$(query 'ALERTS{alertname="ForkFailures",cause="PIDS_CGROUP_LIMIT",alertstate="firing"}' |
        jq -r '.data.result | length' 2>/dev/null || true)
    [ "$alert" = 1 ] && break
    sleep 0.5
done
expect_eq "firing ForkFailures alerts for PIDS_CGROUP_LIMIT" 1 "$alert"
# Every shipped rule evaluates against real series without error (health "ok" once evaluated).
health=""
for _ in $(seq 1 20); do
    health=$(curl -sf "http://$PROM/api/v1/rules" | jq -r '[.data.groups[].rules[] | "\(.name)=\(.health)"] | join(" ")')
    [[ $health != *unknown* ]] && break
    sleep 0.5
done
expect_eq "rule health" "ForkFailures=ok ForkFailuresInPod=ok ForkLimitHeadroomLow=ok ForktraceEventsDropped=ok" "$health"

curl -sf "http://$METRICS/metrics" >"$WORK/scrape.txt" || fail "scraping forktrace failed"
lint=$(promtool check metrics <"$WORK/scrape.txt" 2>&1) || fail "promtool check metrics failed: $lint"
expect_eq "promtool check metrics on a real scrape" "" "$lint"
grep -Eq '[{,](pid|tid)=' "$WORK/scrape.txt" && fail "a per-pid label in the exposition"
expect_eq "scope series" "$failures" "$(sed -n 's|^forktrace_scope_failures_total{cause="PIDS_CGROUP_LIMIT",scope="/ft16-prometheus",scope_kind="CGROUP"} \([0-9]*\)\.0$|\1|p' "$WORK/scrape.txt")"
grep -q '^jvm_memory_used_bytes' "$WORK/scrape.txt" || fail "no JVM metrics in the scrape"
# The headroom monitor of watch (--warn-at, default 90) feeds a gauge for the watched cgroup.
grep -Eq '^forktrace_scope_headroom_ratio\{scope="/ft16-prometheus",scope_kind="CGROUP"\} (0|1)(\.[0-9]+)?$' "$WORK/scrape.txt" ||
    { grep headroom "$WORK/scrape.txt"; fail "no headroom gauge for /ft16-prometheus"; }
grep -q '^forktrace_hook_info{attached="true",hook="syscalls",' "$WORK/scrape.txt" || fail "no hook info"

stop_watch
stop_prometheus
expect_eq "events forktrace reported" "$failures" "$(events | jq -s 'length')"
expect_eq "kernel count in the summary" "$failures" "$(sed -n 's/^forktrace: summary: \([0-9]*\) failed.*/\1/p' "$WORK/watch.err")"
