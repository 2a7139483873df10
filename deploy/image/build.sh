#!/usr/bin/env bash
# Builds the forktrace container image with podman from a local Debian base; nothing is pulled from a registry.
#   deploy/image/build.sh [--tag IMAGE] [--base-tag IMAGE] [--deb FILE]
# The base is a debootstrap'd Debian bookworm minbase holding forktrace's runtime libraries (libbpf1, libelf1,
# zlib1g), cached as build/image/base-bookworm.tar. Given the Debian package (packaging/build-deb.sh writes
# build/pkg/forktrace_VERSION_amd64.deb; found there by default) the image installs it with dpkg; without
# one it carries a jlink'd Java runtime and the jar that ./forktrace builds.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VERSION=$(sed -n 's|^  <version>\(.*\)</version>|\1|p' "$ROOT/pom.xml" | head -1)
TAG=localhost/forktrace:$VERSION
BASE_TAG=localhost/forktrace-base:bookworm
DEB=""
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
while [ $# -gt 0 ]; do
    case $1 in
        --tag) TAG=$2; shift 2 ;;
        --base-tag) BASE_TAG=$2; shift 2 ;;
        --deb) DEB=$2; shift 2 ;;
        -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
        *) echo "build.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
say() { printf 'image: %s\n' "$*" >&2; }
OUT=$ROOT/build/image
mkdir -p "$OUT"
[ -z "$DEB" ] && DEB=$(ls "$ROOT"/build/pkg/forktrace_"$VERSION"_amd64.deb 2>/dev/null || true)

BASE_TAR=$OUT/base-bookworm.tar
if [ ! -s "$BASE_TAR" ]; then
    command -v debootstrap >/dev/null || { say "debootstrap is missing: apt-get install -y debootstrap"; exit 2; }
    say "debootstrap bookworm minbase from $MIRROR (once; about a minute)"
    rootfs=$(mktemp -d "$OUT/rootfs.XXXXXX")
    if ! debootstrap --variant=minbase --include=libbpf1,libelf1,zlib1g bookworm "$rootfs" "$MIRROR" \
        >"$OUT/debootstrap.log" 2>&1; then
        say "debootstrap failed; the last lines of $OUT/debootstrap.log:"; tail -20 "$OUT/debootstrap.log" >&2
        rm -rf "$rootfs"; exit 1
    fi
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -cf "$BASE_TAR.tmp" . && mv "$BASE_TAR.tmp" "$BASE_TAR"
    rm -rf "$rootfs"
fi
# Re-imported when the tarball is newer than the image (a rebuilt base).
base_created=$(podman image inspect --format '{{.Created.Unix}}' "$BASE_TAG" 2>/dev/null || echo 0)
if [ "$base_created" -lt "$(stat -c %Y "$BASE_TAR")" ]; then
    say "importing $BASE_TAR as $BASE_TAG"
    podman import --quiet "$BASE_TAR" "$BASE_TAG" >/dev/null
fi

CTX=$OUT/context
rm -rf "$CTX" && mkdir -p "$CTX"
if [ -n "$DEB" ]; then
    say "from the package $DEB"
    cp "$DEB" "$CTX/forktrace.deb"
    FILE=$ROOT/deploy/image/Containerfile.deb
else
    JDK=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
    JAR=$ROOT/target/forktrace.jar
    [ -f "$JAR" ] || { say "no $JAR: run ./forktrace --version once to build it, or pass --deb"; exit 2; }
    say "from the jar layout ($JAR, a jlink'd runtime of $JDK)"
    mkdir -p "$CTX/root/opt/forktrace" "$CTX/root/usr/bin"
    "$JDK/bin/jlink" --add-modules java.base,java.compiler,java.logging,java.management,java.sql,jdk.httpserver,jdk.jfr,jdk.management,jdk.net,jdk.unsupported \
        --strip-debug --no-man-pages --no-header-files --generate-cds-archive --output "$CTX/root/opt/forktrace/runtime" >/dev/null
    cp "$JAR" "$CTX/root/opt/forktrace/forktrace.jar"
    [ -f "$ROOT/agent/target/forktrace-agent.jar" ] && cp "$ROOT/agent/target/forktrace-agent.jar" "$CTX/root/opt/forktrace/"
    install -m 0755 "$ROOT/deploy/image/forktrace-launcher.sh" "$CTX/root/usr/bin/forktrace"
    FILE=$ROOT/deploy/image/Containerfile
fi
podman build --quiet --network none --build-arg BASE="$BASE_TAG" -t "$TAG" -f "$FILE" "$CTX" >/dev/null
say "built $TAG ($(podman image inspect --format '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1 / 1e6}'))"
