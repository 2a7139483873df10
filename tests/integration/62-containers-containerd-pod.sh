#!/usr/bin/env bash
# A Kubernetes-style container under a private containerd, made with ctr: the CRI labels and annotations
# the kubelet's runtime would set, and the kubelet's cgroupfs layout /kubepods/burstable/pod<uid>/<id>
# with a pod pids limit (the kubelet's podPidsLimit). forktrace, filtered with --pod NAMESPACE/NAME, names
# the pod (namespace, name, uid, QoS class), the container and the kubelet's knob.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/tests/containers.sh"
start_containerd
make_rootfs "$WORK/rootfs"
cp /usr/bin/tini-static "$WORK/rootfs/bin/tini" # a reaping PID 1, as --init gives docker and podman
ctrc() { ctr -a "$FT_CTRD_SOCK" -n ft14 "$@"; }
POD_UID=61400000-0000-4000-8000-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
CID=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
POD_LIMIT=16
pod_cgroup=/kubepods/burstable/pod$POD_UID
# What the kubelet does for podPidsLimit: the pod's cgroup, made before its containers, with pids.max.
existed_kubepods=$([ -d "$PIDS_ROOT/kubepods" ] && echo 1 || echo 0)
mkdir -p "$PIDS_ROOT$pod_cgroup"
echo $POD_LIMIT >"$PIDS_ROOT$pod_cgroup/pids.max"
# runc makes the path in every v1 hierarchy and removes only the container's own level at delete
remove_pod_cgroups() {
    local mount
    for mount in $(awk '$3 == "cgroup" || $3 == "cgroup2" {print $2}' /proc/mounts); do
        rmdir "$mount$pod_cgroup/$CID" "$mount$pod_cgroup" 2>/dev/null || true
        if [ "$existed_kubepods" = 0 ]; then rmdir "$mount/kubepods/burstable" "$mount/kubepods" 2>/dev/null || true; fi
    done
}
CONTAINER_CLEANUPS+=("remove_pod_cgroups")
CONTAINER_CLEANUPS+=("ctrc task kill -s KILL $CID; sleep 0.5; ctrc task delete -f $CID; ctrc container delete $CID")

labels=()
for kv in io.kubernetes.pod.namespace=ft14-ns io.kubernetes.pod.name=ft14-web io.kubernetes.pod.uid=$POD_UID \
    io.kubernetes.container.name=app; do
    labels+=(--label "$kv")
done
annotations=()
for kv in io.kubernetes.cri.sandbox-namespace=ft14-ns io.kubernetes.cri.sandbox-name=ft14-web \
    io.kubernetes.cri.sandbox-uid=$POD_UID io.kubernetes.cri.container-name=app \
    io.kubernetes.cri.image-name=registry.local/ft14/app:1 io.kubernetes.cri.container-type=container; do
    annotations+=(--annotation "$kv")
done
ctrc run -d --rootfs --cgroup "$pod_cgroup/$CID" "${labels[@]}" "${annotations[@]}" "$WORK/rootfs" "$CID" \
    /bin/tini -s -- sh -c 'while [ ! -e /tmp/go ]; do sleep 0.1; done; holder 8 & sleep 0.5; forkloop 30 1 >/tmp/out; sleep 300' \
    >"$WORK/ctr.out" 2>&1 || { cat "$WORK/ctr.out"; fail "ctr run failed"; }
wait_for 20 test -d "$PIDS_ROOT$pod_cgroup/$CID" || fail "no container cgroup at $pod_cgroup/$CID"
note "container $CID in $pod_cgroup"

WATCH_STDOUT=$WORK/pod.txt start_watch_raw --pod ft14-ns/ft14-web --output "$WORK/pod.pb"
touch "$WORK/rootfs/tmp/go"
wait_for 60 grep -q OBSERVED "$WORK/rootfs/tmp/out" || fail "the fork loop never finished"
stop_watch
out=$(cat "$WORK/rootfs/tmp/out")
note "forkloop in the pod: $(grep '^pid=' <<<"$out")"
failures=$(sed -n 's/^pid=.*failures=\([0-9]*\).*/\1/p' <<<"$out")
[ "$failures" -gt 0 ] || fail "the workload saw no failure: the test set-up is wrong"
"$FORKTRACE" export --json "$WORK/pod.pb" "$WORK/pod.json" 2>/dev/null || fail "export --json failed"
ev() { jq -s -r "$1" "$WORK/pod.json"; }
expect_eq "events (every failure the loop saw, only this pod's)" "$failures" "$(ev 'length')"
expect_eq "cause" "PIDS_CGROUP_LIMIT" "$(ev '[.[].cause] | unique | join(",")')"
expect_eq "scope: the pod's cgroup" "$pod_cgroup $POD_LIMIT" "$(ev '.[0].scope | "\(.name) \(.limit)"')"
expect_eq "container" "containerd $CID app registry.local/ft14/app:1" \
    "$(ev '[.[].container | "\(.runtime) \(.id) \(.name) \(.image)"] | unique | join(",")')"
expect_eq "pod" "ft14-ns/ft14-web $POD_UID burstable cgroupfs" \
    "$(ev '[.[].container | "\(.podNamespace)/\(.podName) \(.podUid) \(.qosClass) \(.cgroupDriver)"] | unique | join(",")')"
expect_eq "scope names the pod" "ft14-ns/ft14-web $POD_UID" "$(ev '.[0].scope.container | "\(.podNamespace)/\(.podName) \(.podUid)"')"
knob=$(ev '.[0].scope.knob')
note "knob: $knob"
grep -q "kubelet's podPidsLimit ($POD_LIMIT" <<<"$knob" && grep -q "for pod ft14-ns/ft14-web" <<<"$knob" || fail "knob"
expect_eq "top offender" "holder app" "$(ev '.[0].offenders[0] | "\(.comm) \(.container.containerName)"')"
line=$(grep -m1 'PIDS_CGROUP_LIMIT' "$WORK/pod.txt")
note "text: $line"
grep -q "in pod ft14-ns/ft14-web \[burstable\] containerd container app (image registry.local/ft14/app:1, id ${CID:0:12})" <<<"$line" ||
    fail "the text line does not name pod and container"
"$FORKTRACE" report "$WORK/pod.pb" >"$WORK/report.txt" 2>&1 || fail "report failed"
grep -A1 "^By pod" "$WORK/report.txt" | grep -q "ft14-ns/ft14-web uid $POD_UID \[burstable\]" ||
    { cat "$WORK/report.txt"; fail "report has no by-pod row"; }
# FORKTRACE_CAPTURE_DIR=DIR keeps the outputs (docs/containers.md quotes them)
if [ -n "${FORKTRACE_CAPTURE_DIR:-}" ]; then cp "$WORK/pod.txt" "$WORK/pod.json" "$WORK/report.txt" "$FORKTRACE_CAPTURE_DIR/"; fi
