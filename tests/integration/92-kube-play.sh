#!/usr/bin/env bash
# The DaemonSet's pod template, run for real with `podman kube play` (hostPID, the capabilities instead of
# privileged, the host mounts), from the container image deploy/image/build.sh makes: it diagnoses a fork
# refused by the pids limit of another container, with the count the workload saw itself, in its JSON
# output and in its metrics.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/tests/podman-engine.sh"
[ "${FORKTRACE_TEST_QUICK:-0}" = 1 ] && skip "slow (image build, a debootstrap on first run): not with --quick"
IMAGE=localhost/ft16-forktrace:kube-play
BASE=localhost/ft16-forktrace-base:bookworm
VICTIM_IMAGE=localhost/ft16-victim:kube-play
POD=ft16-forktrace
VICTIM=ft16-victim
stop_all() {
    if [ ${#PODMAN[@]} -gt 0 ]; then
        "${PODMAN[@]}" rm -f -t 0 "$VICTIM" >/dev/null 2>&1 || true
        "${PODMAN[@]}" pod rm -f -t 0 "$POD" >/dev/null 2>&1 || true
        "${PODMAN[@]}" rmi -f "$IMAGE" "$VICTIM_IMAGE" >/dev/null 2>&1 || true
    fi
    podman_engine_stop
    CONTAINERS_CONF=$WORK/containers.conf podman rmi -f "$IMAGE" >/dev/null 2>&1 || true
}
trap 'stop_all; cleanup' EXIT
podman_engine_start
note "engine: $("${PODMAN[@]}" version --format '{{.Client.Version}}' 2>/dev/null)${PODMAN_ROOT:+ (from $PODMAN_ROOT)}"

# The image, built by the host's podman from the local Debian base and the Debian package (90-fresh-machine,
# which runs first, leaves it in build/pkg; made here when it is missing or older than the jar), then handed
# to the engine.
DEB=$ROOT/build/pkg/forktrace_$(sed -n '0,/<version>/s/.*<version>\([^<]*\)<\/version>.*/\1/p' "$ROOT/pom.xml")_amd64.deb
if [ ! -f "$DEB" ] || [ "$ROOT/target/forktrace.jar" -nt "$DEB" ]; then
    "$ROOT/packaging/build-deb.sh" >"$WORK/build-deb.log" 2>&1 || { tail -20 "$WORK/build-deb.log"; fail "packaging/build-deb.sh"; }
fi
CONTAINERS_CONF=$WORK/containers.conf "$ROOT/deploy/image/build.sh" --tag "$IMAGE" --base-tag "$BASE" --deb "$DEB" 2>&1 |
    sed 's/^/   /' || fail "deploy/image/build.sh"
if [ -n "$PODMAN_ROOT" ]; then
    CONTAINERS_CONF=$WORK/containers.conf podman save -q -o "$WORK/image.tar" "$IMAGE"
    "${PODMAN[@]}" load -q -i "$(podman_put "$WORK/image.tar")" >/dev/null || fail "podman load"
fi
# The other container: a static forkloop, which prints the failures it saw itself, and a busybox shell that
# keeps the container (and so its cgroup, which names the scope) alive until the test has read the events.
mkdir -p "$WORK/victim/bin"
gcc -O2 -static -o "$WORK/victim/bin/forkloop" "$ROOT/examples/src/forkloop.c" || fail "gcc -static forkloop"
cp /bin/busybox "$WORK/victim/bin/" && ln -s busybox "$WORK/victim/bin/sh" && ln -s busybox "$WORK/victim/bin/sleep"
tar -C "$WORK/victim" -cf "$WORK/victim.tar" .
"${PODMAN[@]}" import -q "$(podman_put "$WORK/victim.tar")" "$VICTIM_IMAGE" >/dev/null || fail "podman import"

# The pod template from the chart, as a Pod, with podman's state as the runtime state to read. Adapted to
# podman only where podman differs: its networking is off here (no ports, so no HTTP liveness probe) and it
# reads seccomp from the annotation, not the field.
"$ROOT/deploy/helm/render.py" "$ROOT/deploy/helm/forktrace" --set "image.repository=${IMAGE%:*}" --set "image.tag=${IMAGE##*:}" \
    --set 'podAnnotations={"seccomp.security.alpha.kubernetes.io/pod": "unconfined"}' \
    --set 'runtimeState=["/var/lib/containers/storage"]' >"$WORK/rendered.yaml"
/usr/bin/python3 - "$WORK/rendered.yaml" "$POD" >"$WORK/pod.yaml" <<'PY'
import sys, yaml
ds = next(d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "DaemonSet")
template = ds["spec"]["template"]
for c in template["spec"]["containers"]:
    c.pop("ports"); c.pop("livenessProbe")
meta = dict(template["metadata"], name=sys.argv[2])
yaml.safe_dump({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": template["spec"]}, sys.stdout, sort_keys=False)
PY
"${PODMAN[@]}" kube play --network none "$(podman_put "$WORK/pod.yaml")" >"$WORK/play.out" 2>&1 || { cat "$WORK/play.out"; fail "podman kube play"; }
ctr=$POD-forktrace
logs() { "${PODMAN[@]}" logs "$ctr" 2>&1; }
for _ in $(seq 1 150); do
    logs | grep -q '^forktrace: attached' && break
    "${PODMAN[@]}" inspect --format '{{.State.Running}}' "$ctr" 2>/dev/null | grep -q true || true
    sleep 0.4
done
logs | grep -q '^forktrace: attached' || { logs | tail -20; fail "forktrace in the pod did not attach"; }
note "$(logs | grep '^forktrace: attached' | head -1 | cut -c1-150)"
expect_eq "pid namespace of the pod's container" host "$("${PODMAN[@]}" inspect --format '{{.HostConfig.PidMode}}' "$ctr")"
expect_eq "privileged" false "$("${PODMAN[@]}" inspect --format '{{.HostConfig.Privileged}}' "$ctr")"
note "effective capabilities: $("${PODMAN[@]}" inspect --format '{{.EffectiveCaps}}' "$ctr")"

# The failure, in another container: pids limit 8, forkloop forks 20 children that wait.
"${PODMAN[@]}" run -d --name "$VICTIM" --network none --pids-limit 8 "$VICTIM_IMAGE" \
    /bin/sh -c '/bin/forkloop 20 1; exec /bin/sleep 300' >/dev/null || fail "the victim container did not start"
victim_id=$("${PODMAN[@]}" inspect --format '{{.Id}}' "$VICTIM")
for _ in $(seq 1 100); do
    "${PODMAN[@]}" logs "$VICTIM" >"$WORK/victim.out" 2>&1
    grep -q '^pid=' "$WORK/victim.out" && break
    sleep 0.2
done
failures=$(sed -n 's/^pid=.*failures=\([0-9]*\).*/\1/p' "$WORK/victim.out")
note "victim container ${victim_id:0:12}: $(head -1 "$WORK/victim.out")"
[ "${failures:-0}" -gt 0 ] || fail "the victim saw no failure: the test set-up is wrong"

# Its failures in forktrace's JSON lines (the pod sees the whole node: select the victim's scope).
# A line still being written is skipped (fromjson?), and so are lines without a scope name (headroom
# warnings, failures of other workloads on a busy node): one such line must not end the count.
mine() {
    logs | grep '^{' |
        jq -R -c --arg id "$victim_id" 'fromjson? | select((.scope.name? // "") | endswith("libpod-" + $id))'
}
for _ in $(seq 1 50); do [ "$(mine | wc -l)" -ge "$failures" ] && break; sleep 0.2; done
expect_eq "failures of the victim's scope reported by the pod" "$failures" "$(mine | wc -l)"
expect_eq "cause" PIDS_CGROUP_LIMIT "$(mine | jq -r .cause | sort -u | paste -sd,)"
expect_eq "scope limit" 8 "$(mine | jq -r .scope.limit | sort -u | paste -sd,)"
expect_eq "failing process" forkloop "$(mine | jq -r .comm | sort -u | paste -sd,)"
# Named from podman's own state, mounted into the pod by the chart's runtimeState.
expect_eq "container of the failing process" "podman $VICTIM" "$(mine | jq -r '"\(.container.runtime) \(.container.name)"' | sort -u | paste -sd,)"
note "message: $(mine | head -1 | jq -r .message)"

# And in its metrics, scraped inside the pod's network namespace.
pid=$("${PODMAN[@]}" inspect --format '{{.State.Pid}}' "$ctr")
nsenter -t "$pid" -n curl -sf http://127.0.0.1:9464/metrics >"$WORK/scrape.txt" || fail "scraping the pod's metrics"
expect_eq "forktrace_scope_failures_total of the victim" "$failures" \
    "$(grep "^forktrace_scope_failures_total{cause=\"PIDS_CGROUP_LIMIT\",scope=\"[^\"]*libpod-$victim_id\"" "$WORK/scrape.txt" | sed 's/.* \([0-9]*\)\.0$/\1/')"
