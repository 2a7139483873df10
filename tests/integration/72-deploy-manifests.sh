#!/usr/bin/env bash
# The Helm chart renders (deploy/helm/render.py, helm's template subset) into manifests that validate against
# the Kubernetes and Prometheus Operator schemas; the plain manifest is the chart's default rendering; the
# DaemonSet holds the capabilities, mounts and sizing that docs/fleet.md promises; the chart's alert rules are
# the shipped rules file and pass promtool.
source "$(dirname "$0")/../lib.sh"
CHART=$ROOT/deploy/helm/forktrace
RENDER=$ROOT/deploy/helm/render.py
command -v npm >/dev/null || fail "npm is missing (apt-get install -y npm): it installs the schema validator"
command -v kubectl >/dev/null || fail "kubectl is missing: it parses the manifests as kustomize resources"

"$ROOT/deploy/kubernetes/generate.sh" "$WORK/generated.yaml"
diff -u "$ROOT/deploy/kubernetes/forktrace.yaml" "$WORK/generated.yaml" ||
    fail "deploy/kubernetes/forktrace.yaml is not the chart's rendering: run deploy/kubernetes/generate.sh"
diff -u "$ROOT/deploy/prometheus/forktrace-rules.yml" "$CHART/files/forktrace-rules.yml" ||
    fail "the chart's files/forktrace-rules.yml differs from deploy/prometheus/forktrace-rules.yml"

# Schema validation, offline (kubernetes-models pinned by package-lock.json).
VALIDATE=$ROOT/build/k8s-validate
if ! cmp -s "$ROOT/deploy/kubernetes/validate/package-lock.json" "$VALIDATE/package-lock.json" 2>/dev/null ||
    [ ! -d "$VALIDATE/node_modules" ]; then
    rm -rf "$VALIDATE" && mkdir -p "$VALIDATE"
    cp "$ROOT"/deploy/kubernetes/validate/{package.json,package-lock.json,validate.mjs} "$VALIDATE/"
    (cd "$VALIDATE" && npm ci --silent --no-audit --no-fund) >"$WORK/npm.log" 2>&1 || { cat "$WORK/npm.log"; fail "npm ci"; }
fi
cp "$ROOT/deploy/kubernetes/validate/validate.mjs" "$VALIDATE/"
node "$VALIDATE/validate.mjs" "$ROOT/deploy/kubernetes/forktrace.yaml" || fail "the default manifest does not validate"
"$RENDER" "$CHART" --name ft16 --namespace ft16-ns --set prometheusRule.enabled=true --set serviceMonitor.enabled=false \
    --set privileged=true --set image.tag=9.9 --set 'watch.extraArgs=["--memory-hooks"]' \
    --set 'runtimeState=["/var/lib/docker", "/var/lib/containers/storage"]' >"$WORK/custom.yaml"
node "$VALIDATE/validate.mjs" "$WORK/custom.yaml" || fail "the chart with other values does not validate"
# A schema error is caught (the validator is not a no-op).
sed 's/hostPID: true/hostPID: "yes"/' "$ROOT/deploy/kubernetes/forktrace.yaml" >"$WORK/broken.yaml"
node "$VALIDATE/validate.mjs" "$WORK/broken.yaml" >"$WORK/broken.out" && fail "a string hostPID validated"
grep -q 'hostPID must be boolean' "$WORK/broken.out" || { cat "$WORK/broken.out"; fail "no schema message for hostPID"; }
kubectl kustomize "$ROOT/deploy/kubernetes" >/dev/null || fail "kubectl kustomize deploy/kubernetes"

# What the DaemonSet promises, read from the rendered documents.
/usr/bin/python3 - "$ROOT/deploy/kubernetes/forktrace.yaml" "$WORK/custom.yaml" <<'PY' || fail "DaemonSet contents"
import sys, yaml
docs = {d["kind"]: d for d in yaml.safe_load_all(open(sys.argv[1])) if d}
custom = {d["kind"]: d for d in yaml.safe_load_all(open(sys.argv[2])) if d}
pod = docs["DaemonSet"]["spec"]["template"]["spec"]
c = pod["containers"][0]
sc = c["securityContext"]
checks = {
    "hostPID": pod["hostPID"] is True,
    "not privileged": sc["privileged"] is False,
    "capabilities": sc["capabilities"] == {"drop": ["ALL"], "add": ["BPF", "PERFMON", "SYS_PTRACE", "SYS_RESOURCE"]},
    "seccomp": sc["seccompProfile"] == {"type": "Unconfined"},
    "mounts": sorted((m["mountPath"], m.get("readOnly")) for m in c["volumeMounts"]) ==
        [("/run/containerd", True), ("/sys/fs/cgroup", True), ("/sys/kernel/btf", True), ("/sys/kernel/tracing", True)],
    "host paths": sorted(v["hostPath"]["path"] for v in pod["volumes"]) == ["/run/containerd", "/sys/fs/cgroup", "/sys/kernel/btf", "/sys/kernel/tracing"],
    "custom: runtime state": sorted(m["mountPath"] for m in custom["DaemonSet"]["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
        if m["name"].startswith("runtime-state-")) == ["/var/lib/containers/storage", "/var/lib/docker"],
    "metrics on every interface": c["args"][c["args"].index("--metrics") + 1] == "0.0.0.0:9464",
    "resources": c["resources"] == {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "256Mi"}},
    "tolerations": pod["tolerations"] == [{"operator": "Exists"}],
    "service port": docs["Service"]["spec"]["ports"][0]["targetPort"] == "metrics" and docs["Service"]["spec"]["clusterIP"] == "None",
    "service monitor": docs["ServiceMonitor"]["spec"]["endpoints"][0]["port"] == "metrics",
    "custom: privileged, no capability list": custom["DaemonSet"]["spec"]["template"]["spec"]["containers"][0]["securityContext"].get("capabilities") is None
        and custom["DaemonSet"]["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] is True,
    "custom: extra args": custom["DaemonSet"]["spec"]["template"]["spec"]["containers"][0]["args"][-1] == "--memory-hooks",
    "custom: image tag": custom["DaemonSet"]["spec"]["template"]["spec"]["containers"][0]["image"] == "localhost/forktrace:9.9",
    "custom: namespace": custom["DaemonSet"]["metadata"]["namespace"] == "ft16-ns",
    "custom: no ServiceMonitor": "ServiceMonitor" not in custom,
    "custom: PrometheusRule groups": [g["name"] for g in custom["PrometheusRule"]["spec"]["groups"]] == ["forktrace"],
}
bad = [k for k, ok in checks.items() if not ok]
for k, ok in checks.items():
    print(("ok   " if ok else "FAIL ") + k)
sys.exit(1 if bad else 0)
PY
/usr/bin/python3 -c 'import sys, yaml; d = [x for x in yaml.safe_load_all(open(sys.argv[1])) if x and x["kind"] == "PrometheusRule"][0]; yaml.safe_dump(d["spec"], open(sys.argv[2], "w"))' \
    "$WORK/custom.yaml" "$WORK/rule-spec.yml"
promtool check rules "$WORK/rule-spec.yml" || fail "promtool check rules on the PrometheusRule's spec"
