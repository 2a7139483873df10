# shellcheck shell=bash
# Fresh Debian roots for the fresh-machine tests: a debootstrap minbase, cached as a tarball outside the
# repository (it holds only Debian's packages), unpacked per test and entered with chroot.
FRESH_CACHE=${FORKTRACE_TEST_CACHE:-/var/cache/forktrace-test}
FRESH_MIRROR=${FORKTRACE_TEST_MIRROR:-http://deb.debian.org/debian}
FRESH_MOUNTS=()

# fresh_root_tarball SUITE: the cached minbase of SUITE (built on first use; prints its path).
fresh_root_tarball() {
    local suite=$1 tarball=$FRESH_CACHE/debootstrap-$1-minbase-amd64.tar.gz
    if [ ! -s "$tarball" ]; then
        local build
        mkdir -p "$FRESH_CACHE"
        build=$(mktemp -d "$FRESH_CACHE/build-$suite.XXXXXX")
        echo "-- no cached $suite minbase yet: debootstrap into $build (once per machine)" >&2
        if ! debootstrap --variant=minbase --arch=amd64 "$suite" "$build/root" "$FRESH_MIRROR" \
            >"$build/debootstrap.log" 2>&1; then
            tail -20 "$build/debootstrap.log" >&2
            rm -rf "$build"
            echo "FAIL: debootstrap $suite failed (log above)" >&2
            return 1
        fi
        # apt's downloaded .debs are not part of a fresh machine.
        rm -rf "$build/root/var/cache/apt/archives/"*.deb
        tar -C "$build/root" -czf "$tarball.$$" . && mv -f "$tarball.$$" "$tarball"
        rm -rf "$build"
    fi
    echo "$tarball"
}

# fresh_root_unpack SUITE DIR: a fresh root of SUITE in DIR, with the kernel's file systems reachable.
fresh_root_unpack() {
    local suite=$1 dir=$2 tarball
    tarball=$(fresh_root_tarball "$suite") || return 1
    mkdir -p "$dir"
    tar -C "$dir" -xzf "$tarball"
    cp /etc/resolv.conf "$dir/etc/resolv.conf"
    # A throw-away root: dpkg need not fsync every file (as Debian's container images do).
    echo force-unsafe-io >"$dir/etc/dpkg/dpkg.cfg.d/forktrace-test-unsafe-io"
    # The site's own TLS trust (e.g. the CA of an egress proxy), as provisioning would put it on any new
    # machine of this network; ca-certificates adds it to the system and Java trust stores at install.
    if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
        mkdir -p "$dir/usr/local/share/ca-certificates"
        cp /usr/local/share/ca-certificates/*.crt "$dir/usr/local/share/ca-certificates/"
    fi
    fresh_bind /proc "$dir/proc"
    fresh_bind /sys "$dir/sys"
    fresh_bind /dev "$dir/dev"
    # /sys is bound without recursion: the file systems below it, one by one (cgroup v1 hierarchies too).
    local mnt
    while read -r mnt; do
        fresh_bind "$mnt" "$dir$mnt"
    done < <(findmnt -rn -o TARGET -R /sys | awk '$1 != "/sys"' | grep -E '^/sys/(fs/cgroup|kernel/(btf|tracing|security|debug))' || true)
    fresh_bind /dev/pts "$dir/dev/pts"
}

fresh_bind() {
    [ -e "$1" ] || return 0
    mkdir -p "$2"
    mount --bind "$1" "$2" && FRESH_MOUNTS+=("$2")
}

# fresh_root_cleanup: unmounts what fresh_root_unpack mounted (innermost first).
fresh_root_cleanup() {
    local i
    for ((i = ${#FRESH_MOUNTS[@]} - 1; i >= 0; i--)); do
        umount "${FRESH_MOUNTS[$i]}" 2>/dev/null || umount -l "${FRESH_MOUNTS[$i]}" 2>/dev/null || true
    done
    FRESH_MOUNTS=()
}

# fresh_root_remove DIR: unmounts, then deletes DIR only when nothing is mounted below it any more (a bound
# /dev or /sys must never be deleted through the root).
fresh_root_remove() {
    local dir=$1 left
    fresh_root_cleanup
    left=$(findmnt -rn -o TARGET | awk -v d="$dir/" 'index($0 "/", d) == 1')
    if [ -n "$left" ]; then
        echo "$left" | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
        left=$(findmnt -rn -o TARGET | awk -v d="$dir/" 'index($0 "/", d) == 1')
        [ -z "$left" ] || { echo "FAIL: still mounted below $dir, not deleting it: $left" >&2; return 1; }
    fi
    rm -rf --one-file-system "$dir"
}
