# shellcheck shell=bash
# A podman whose `kube play` honours hostPID (podman 4.5+, containers/podman#17168). Debian 12's podman
# (4.3) runs a hostPID pod in a private pid namespace, so on such a host this uses Debian 13's podman 5 from a
# debootstrap'd trixie root (cached in build/podman-trixie) entered with chroot. Sourced after tests/lib.sh;
# defines PODMAN (an array: the command), podman_put FILE (copies a file to where that podman reads it, prints
# that path) and podman_engine_stop. Both engines use runc and the cgroupfs manager (this-machine.md).
PODMAN_ROOT=""
PODMAN=()

podman_version_ok() { # MAJOR.MINOR of the host's podman >= 4.5
    local v
    v=$(podman version --format '{{.Client.Version}}' 2>/dev/null) || return 1
    [ "$(printf '%s\n' 4.5 "${v%.*}" | sort -V | head -1)" = 4.5 ]
}

podman_engine_start() {
    local conf=$WORK/containers.conf
    cat >"$conf" <<'CONF'
[containers]
# root lacks CAP_SYS_RESOURCE on these machines: podman's default rlimits cannot be set
default_ulimits=["nofile=20000:20000","nproc=32768:32768"]
[engine]
runtime="runc"
cgroup_manager="cgroupfs"
events_logger="file"
CONF
    if podman_version_ok; then
        PODMAN=(env CONTAINERS_CONF="$conf" podman)
        return 0
    fi
    PODMAN_ROOT=$ROOT/build/podman-trixie
    if [ ! -x "$PODMAN_ROOT/usr/bin/podman" ] || [ ! -x "$PODMAN_ROOT/usr/bin/catatonit" ]; then
        note "host podman $(podman version --format '{{.Client.Version}}' 2>/dev/null) ignores hostPID in kube play: debootstrap trixie's podman into build/podman-trixie (once, ~3 min)"
        rm -rf "$PODMAN_ROOT.tmp"
        debootstrap --variant=minbase --include=podman,runc,catatonit,conmon trixie "$PODMAN_ROOT.tmp" \
            http://deb.debian.org/debian >"$WORK/debootstrap.log" 2>&1 || { tail -20 "$WORK/debootstrap.log"; fail "debootstrap trixie"; }
        rm -rf "$PODMAN_ROOT" && mv "$PODMAN_ROOT.tmp" "$PODMAN_ROOT"
    fi
    mkdir -p "$PODMAN_ROOT/etc/containers" "$PODMAN_ROOT/tmp/ft16"
    cp "$conf" "$PODMAN_ROOT/etc/containers/containers.conf"
    # containers/storage pivots into the root when unpacking layers: the root must be a mount point.
    mount --bind "$PODMAN_ROOT" "$PODMAN_ROOT" && mount --make-private "$PODMAN_ROOT"
    mount -t proc proc "$PODMAN_ROOT/proc"
    mount --rbind /sys "$PODMAN_ROOT/sys" && mount --make-rslave "$PODMAN_ROOT/sys"
    mount --rbind /dev "$PODMAN_ROOT/dev" && mount --make-rslave "$PODMAN_ROOT/dev"
    mount -t tmpfs tmpfs "$PODMAN_ROOT/run"
    PODMAN=(env -u CONTAINERS_CONF PODMAN_IGNORE_CGROUPSV1_WARNING=1 chroot "$PODMAN_ROOT" podman)
}

# podman_put FILE: the path under which PODMAN sees FILE.
podman_put() {
    if [ -z "$PODMAN_ROOT" ]; then echo "$1"; return; fi
    cp "$1" "$PODMAN_ROOT/tmp/ft16/" && echo "/tmp/ft16/$(basename "$1")"
}

podman_engine_stop() {
    [ -n "$PODMAN_ROOT" ] || return 0
    # podman may leave its own mounts (overlay, shm) below the root: take everything down, lazily.
    umount -R -l "$PODMAN_ROOT/run" "$PODMAN_ROOT/proc" "$PODMAN_ROOT/sys" "$PODMAN_ROOT/dev" 2>/dev/null || true
    umount -R -l "$PODMAN_ROOT" 2>/dev/null || true
    rm -rf "$PODMAN_ROOT/tmp/ft16"
    PODMAN_ROOT=""
}
