#!/usr/bin/env bash
# Makes docs/prometheus-failures.png: Debian's Prometheus scrapes `forktrace watch --metrics` every second
# while pids-cgroup and RLIMIT_NPROC failures happen for a minute, then headless Chromium photographs the
# graph page of sum by (cause) (forktrace_failures_total). Run as root: sudo docs/screenshot.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
METRICS=127.0.0.1:19161 PROM=127.0.0.1:19162
WORK=$(mktemp -d /tmp/ft16-shot.XXXXXX)
CG=/sys/fs/cgroup/pids/ft16-shot USER_NAME=ft16-shot
pids=()
finish() {
    for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [ -d "$CG" ] && { xargs -r kill -KILL <"$CG/cgroup.procs" 2>/dev/null || true; sleep 0.2; rmdir "$CG" 2>/dev/null || true; }
    pkill -KILL -u "$USER_NAME" 2>/dev/null || true
    userdel "$USER_NAME" 2>/dev/null || true
    rm -rf "$WORK"
}
trap finish EXIT
for tool in prometheus chromium jq curl; do
    command -v "$tool" >/dev/null || { echo "screenshot.sh: $tool is missing: apt-get install -y $tool" >&2; exit 2; }
done
make -C "$ROOT/examples" >/dev/null
mkdir -p "$CG" && echo 6 >"$CG/pids.max"
id "$USER_NAME" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$USER_NAME"
uid=$(id -u "$USER_NAME")

"$ROOT/forktrace" watch --comm forkloop --metrics "$METRICS" --output /dev/null 2>"$WORK/watch.err" &
pids+=($!)
until grep -q '^forktrace: attached' "$WORK/watch.err"; do sleep 0.2; done
cat >"$WORK/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: forktrace
    static_configs: [{targets: ["$METRICS"]}]
YAML
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" --web.listen-address="$PROM" \
    >"$WORK/prometheus.log" 2>&1 &
pids+=($!)
sleep 8 # the first scrapes, at zero
for round in $(seq 1 12); do
    sh -c 'echo $$ > "$0/cgroup.procs" && exec "$1" "$2" 1' "$CG" "$ROOT/examples/bin/forkloop" $((10 + round * 3)) >/dev/null
    if [ $((round % 3)) -eq 0 ]; then
        setpriv --reuid="$uid" --regid="$uid" --clear-groups prlimit --nproc=4:4 -- "$ROOT/examples/bin/forkloop" 12 1 >/dev/null || true
    fi
    sleep 4
done
sleep 3
expr='sum by (cause) (forktrace_failures_total)'
url="http://$PROM/graph?g0.expr=$(jq -rn --arg e "$expr" '$e|@uri')&g0.tab=0&g0.stacked=0&g0.show_exemplars=0&g0.range_input=2m"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --user-data-dir="$WORK/chromium" --window-size=1400,900 \
    --virtual-time-budget=8000 --hide-scrollbars --screenshot="$ROOT/docs/prometheus-failures.png" "$url" 2>/dev/null
curl -sG "http://$PROM/api/v1/query" --data-urlencode "query=$expr" | jq -c '[.data.result[] | {cause: .metric.cause, value: .value[1]}]'
echo "wrote docs/prometheus-failures.png"
