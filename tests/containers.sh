# shellcheck shell=bash
# Container helpers for tests/integration/*-containers-*.sh (source after lib.sh). Everything is named
# ft14-* and private to the test: docker and containerd daemons with their own roots, state and sockets,
# podman with its own storage and containers.conf. Nothing is pulled: images come from a rootfs built
# here (busybox-static and static builds of examples/src). Daemons are stopped by pid at exit.
FT_DOCKER_ROOT=/var/lib/ft14-docker
FT_DOCKER_EXEC=/run/ft14-docker
FT_DOCKER_SOCK=/run/ft14-docker.sock
FT_CTRD_ROOT=/var/lib/ft14-containerd
FT_CTRD_STATE=/run/ft14-containerd
FT_CTRD_SOCK=/run/ft14-containerd.sock
FT_PODMAN_ROOT=/var/lib/ft14-podman
FT_PODMAN_RUN=/run/ft14-podman
FT_UID=61400
FT_IMAGE=ft14-busybox:1
DAEMON_PIDS=()
CONTAINER_CLEANUPS=() # run while the daemons still run (remove containers)
DIR_CLEANUPS=()       # run after they stopped (their private roots)

containers_cleanup() {
    local i
    for ((i = ${#CONTAINER_CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${CONTAINER_CLEANUPS[$i]}" >/dev/null 2>&1 || true; done
    for pid in "${DAEMON_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || continue
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    # A `podman container cleanup` that conmon starts after a container exits can still hold (or re-make) a
    # mount under the root for a moment: rm -rf then fails with EBUSY, which once failed a passing test.
    for dir in "${DIR_CLEANUPS[@]}"; do
        for _ in $(seq 1 20); do
            awk -v d="$dir" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r | xargs -r umount -l 2>/dev/null
            rm -rf "$dir" 2>/dev/null && break
            sleep 0.5
        done
        [ ! -e "$dir" ] || echo "-- cleanup: could not remove $dir (still mounted): $(awk -v d="$dir" 'index($2, d) == 1 {print $2}' /proc/mounts | head -3)" >&2
    done
    cleanup
}
trap containers_cleanup EXIT

# make_rootfs DIR: busybox, static forkloop and holder, and a passwd with the test's uids.
make_rootfs() {
    local dir=$1
    mkdir -p "$dir"/{bin,etc,tmp,proc,sys,dev}
    chmod 1777 "$dir/tmp"
    cp /bin/busybox "$dir/bin/busybox"
    for cmd in sh sleep cat ls ps touch echo true kill wc; do ln -sf busybox "$dir/bin/$cmd"; done
    gcc -O2 -static -pthread -o "$dir/bin/forkloop" "$ROOT/examples/src/forkloop.c"
    gcc -O2 -static -pthread -o "$dir/bin/holder" "$ROOT/examples/src/holder.c"
    printf 'root:x:0:0::/:/bin/sh\nft14a:x:%d:%d::/tmp:/bin/sh\n' "$FT_UID" "$FT_UID" >"$dir/etc/passwd"
    printf 'root:x:0:\nft14a:x:%d:\n' "$FT_UID" >"$dir/etc/group"
}

# wait_for SECONDS COMMAND...: until COMMAND succeeds.
wait_for() {
    local tries=$(( $1 * 5 ))
    shift
    for _ in $(seq 1 "$tries"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
    return 1
}

dockerc() { docker -H "unix://$FT_DOCKER_SOCK" "$@"; }

# start_dockerd: a private dockerd (no bridge, no iptables, cgroupfs driver) and the test image in it.
start_dockerd() {
    command -v dockerd >/dev/null || fail "dockerd missing (docker.io is in TEST_PACKAGES)"
    dockerd --data-root "$FT_DOCKER_ROOT" --exec-root "$FT_DOCKER_EXEC" -H "unix://$FT_DOCKER_SOCK" \
        --pidfile "$FT_DOCKER_EXEC.pid" --iptables=false --ip6tables=false --bridge=none \
        --exec-opt native.cgroupdriver=cgroupfs >"$WORK/dockerd.log" 2>&1 &
    DAEMON_PIDS+=($!)
    wait_for 60 dockerc info || { tail -20 "$WORK/dockerd.log"; fail "dockerd did not answer within 60 s"; }
    DIR_CLEANUPS+=("$FT_DOCKER_ROOT" "$FT_DOCKER_EXEC" "$FT_DOCKER_SOCK" "$FT_DOCKER_EXEC.pid")
    make_rootfs "$WORK/rootfs"
    tar -C "$WORK/rootfs" -c . | dockerc import - "$FT_IMAGE" >/dev/null || fail "docker import failed"
}

# start_containerd: a private containerd (CRI plugin off) for ctr.
start_containerd() {
    command -v containerd >/dev/null || fail "containerd missing (it is in TEST_PACKAGES)"
    cat >"$WORK/containerd.toml" <<TOML
version = 2
root = "$FT_CTRD_ROOT"
state = "$FT_CTRD_STATE"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$FT_CTRD_SOCK"
[ttrpc]
  address = "$FT_CTRD_SOCK.ttrpc"
TOML
    containerd --config "$WORK/containerd.toml" >"$WORK/containerd.log" 2>&1 &
    DAEMON_PIDS+=($!)
    wait_for 60 ctr -a "$FT_CTRD_SOCK" version || { tail -20 "$WORK/containerd.log"; fail "containerd did not answer within 60 s"; }
    DIR_CLEANUPS+=("$FT_CTRD_ROOT" "$FT_CTRD_STATE" "$FT_CTRD_SOCK" "$FT_CTRD_SOCK.ttrpc")
}

# podmanc ARGS...: podman with private storage, runc, cgroupfs and explicit ulimits (root lacks
# CAP_SYS_RESOURCE here, so podman's default rlimits would fail).
podmanc() {
    CONTAINERS_CONF=$WORK/containers.conf podman --root "$FT_PODMAN_ROOT" --runroot "$FT_PODMAN_RUN" \
        --tmpdir "$FT_PODMAN_RUN-tmp" "$@"
}

setup_podman() {
    command -v podman >/dev/null || fail "podman missing (it is in TEST_PACKAGES)"
    # No higher than this shell's hard limits: without CAP_SYS_RESOURCE a container cannot raise them.
    local nofile nproc
    nofile=$(ulimit -Hn); [ "$nofile" = unlimited ] || [ "$nofile" -le 20000 ] || nofile=20000
    nproc=$(ulimit -Hu); [ "$nproc" = unlimited ] || [ "$nproc" -le 32768 ] || nproc=32768
    [ "$nofile" = unlimited ] && nofile=20000
    [ "$nproc" = unlimited ] && nproc=32768
    cat >"$WORK/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$WORK/podman-events.log"
CONF
    DIR_CLEANUPS+=("$FT_PODMAN_ROOT" "$FT_PODMAN_RUN" "$FT_PODMAN_RUN-tmp")
    CONTAINER_CLEANUPS+=("podmanc rm -af -t 0")
    make_rootfs "$WORK/rootfs"
    tar -C "$WORK/rootfs" -c . | podmanc import - "$FT_IMAGE" >/dev/null || fail "podman import failed"
}
