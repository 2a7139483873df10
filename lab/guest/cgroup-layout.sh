# The cgroup v2 tree of a systemd host that is also a Kubernetes node (busybox sh, sourced by
# /init and by lab/scenarios/lib.sh). lab/run boots v2 guests with lab_cgroup=v2 (cgroup2 alone at
# /sys/fs/cgroup) or lab_cgroup=v2+localevents (the same, mounted -o pids_localevents, Linux 6.11+).
# The names are the ones systemd and the kubelet's systemd cgroup driver create: a pod slice carries
# the pod UID with '-' spelled '_', a CRI container is a scope named after its 64-hex id. No limits
# are set here; scenarios set pids.max where systemd (TasksMax=) or the kubelet (podPidsLimit) would.
LAB_CG2_ROOT=/sys/fs/cgroup
LAB_USER_SLICE=$LAB_CG2_ROOT/user.slice/user-1000.slice
LAB_USER_SESSION=$LAB_USER_SLICE/session-1.scope
LAB_KUBEPODS=$LAB_CG2_ROOT/kubepods.slice
LAB_BURSTABLE_POD=$LAB_KUBEPODS/kubepods-burstable.slice/kubepods-burstable-pod6c1b2a4e_7d2f_4a0e_9b1c_3f5e8d7a9b10.slice
LAB_BURSTABLE_APP=$LAB_BURSTABLE_POD/cri-containerd-3f1e2d4c5b6a79880f1e2d3c4b5a69788f9e0d1c2b3a49586f7e8d9c0b1a2938.scope
LAB_BURSTABLE_SIDECAR=$LAB_BURSTABLE_POD/cri-containerd-a0b1c2d3e4f5061728394a5b6c7d8e9f00112233445566778899aabbccddeeff.scope
LAB_GUARANTEED_POD=$LAB_KUBEPODS/kubepods-pod0f9e8d7c_6b5a_4938_8271_605f4e3d2c1b.slice
LAB_GUARANTEED_APP=$LAB_GUARANTEED_POD/cri-containerd-5e4d3c2b1a0f9e8d7c6b5a4938271605f4e3d2c1b0a99887766554433221100f.scope

# lab_cgroup2_layout: creates the tree with pids and memory enabled in every subtree_control on the
# way down (cgroup v2: a controller reaches a child only when its parent enables it); the leaves
# (session and container scopes) hold processes, so they enable nothing (no internal processes).
lab_cgroup2_layout() {
	for _leaf in "$LAB_USER_SESSION" "$LAB_BURSTABLE_APP" "$LAB_BURSTABLE_SIDECAR" "$LAB_GUARANTEED_APP"; do
		mkdir -p "$_leaf" || return 1
	done
	for _dir in "$LAB_CG2_ROOT" "$LAB_CG2_ROOT/user.slice" "$LAB_USER_SLICE" "$LAB_KUBEPODS" \
		"$LAB_KUBEPODS/kubepods-burstable.slice" "$LAB_BURSTABLE_POD" "$LAB_GUARANTEED_POD"; do
		echo "+pids +memory" >"$_dir/cgroup.subtree_control" || return 1
	done
}
