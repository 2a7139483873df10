# shellcheck shell=bash
# Shared set-up for ./forktrace and ./test.sh: packages, JDK, build when stale, tracefs.
# Sourced; defines FORKTRACE_ROOT, JAVA_HOME, JAVA and the functions below.

FORKTRACE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FORKTRACE_JAR=$FORKTRACE_ROOT/target/forktrace.jar
# What building and running forktrace needs (Debian bookworm package names).
RUNTIME_PACKAGES=(clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config cmake make gcc maven)
# What the tests and the kernel lab need on top.
TEST_PACKAGES=(jq bpftrace qemu-system-x86 busybox-static cpio util-linux procps)

say() { printf 'forktrace-setup: %s\n' "$*" >&2; }

# Installs missing Debian packages when root; otherwise prints the exact command and exits 2.
ensure_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        say "missing Debian packages: ${missing[*]}"
        say "install them with:  sudo apt-get install -y ${missing[*]}"
        exit 2
    fi
    say "installing missing Debian packages: ${missing[*]}"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } \
        >/tmp/forktrace-apt.log 2>&1; then
        say "apt-get failed; the last lines of /tmp/forktrace-apt.log:"
        tail -20 /tmp/forktrace-apt.log >&2
        exit 1
    fi
}

java_feature_version() { # the major version in a JDK's release file, or 0
    sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release" 2>/dev/null | head -1 | grep . || echo 0
}

# JAVA_HOME if it is 22 or newer, else the newest JDK 22+ under /usr/lib/jvm.
find_jdk() {
    local candidate best="" best_version=0 version
    if [ -n "${JAVA_HOME:-}" ] && [ "$(java_feature_version "$JAVA_HOME")" -ge 22 ]; then
        best=$JAVA_HOME
    else
        for candidate in /usr/lib/jvm/*; do
            [ -x "$candidate/bin/java" ] || continue
            version=$(java_feature_version "$candidate")
            if [ "$version" -ge 22 ] && [ "$version" -gt "$best_version" ]; then
                best=$candidate best_version=$version
            fi
        done
    fi
    if [ -z "$best" ]; then
        say "no JDK 22 or newer found (JAVA_HOME, /usr/lib/jvm); forktrace uses java.lang.foreign (JDK 22+)."
        say "install one, e.g. Temurin 25 or: sudo apt-get install -y openjdk-25-jdk-headless (where available)"
        exit 2
    fi
    export JAVA_HOME=$best
    JAVA=$JAVA_HOME/bin/java
}

FORKTRACE_AGENT_JAR=$FORKTRACE_ROOT/agent/target/forktrace-agent.jar

# The newest source file that is newer than the jar, or nothing when the build is current.
stale_reason() {
    [ -f "$FORKTRACE_JAR" ] || { echo "no target/forktrace.jar yet"; return; }
    [ -f "$FORKTRACE_AGENT_JAR" ] || { echo "no agent/target/forktrace-agent.jar yet"; return; }
    local newer
    newer=$(find "$FORKTRACE_ROOT/bpf" "$FORKTRACE_ROOT/native" "$FORKTRACE_ROOT/java/src/main" \
        "$FORKTRACE_ROOT/proto" "$FORKTRACE_ROOT/CMakeLists.txt" "$FORKTRACE_ROOT/pom.xml" \
        -type f -newer "$FORKTRACE_JAR" -print -quit 2>/dev/null)
    [ -z "$newer" ] && newer=$(find "$FORKTRACE_ROOT/agent/src/main" "$FORKTRACE_ROOT/agent/pom.xml" \
        -type f -newer "$FORKTRACE_AGENT_JAR" -print -quit 2>/dev/null)
    if [ -n "$newer" ]; then
        echo "${newer#"$FORKTRACE_ROOT"/} is newer than its jar"
    fi
}

# Builds the C side (CMake) and the jar (Maven) when a source is newer than the jar.
build_if_stale() {
    local reason log=$FORKTRACE_ROOT/build/build.log
    reason=$(stale_reason)
    [ -z "$reason" ] && [ "${1:-}" != force ] && return 0
    mkdir -p "$FORKTRACE_ROOT/build"
    say "building (${reason:-requested}); log: build/build.log"
    if ! {
        cmake -S "$FORKTRACE_ROOT" -B "$FORKTRACE_ROOT/build" -DCMAKE_BUILD_TYPE=Release &&
            cmake --build "$FORKTRACE_ROOT/build" -j"$(nproc)" &&
            (cd "$FORKTRACE_ROOT" && mvn -B -q package -DskipTests) &&
            (cd "$FORKTRACE_ROOT/agent" && mvn -B -q package -DskipTests) # its own Java 17 jar (-javaagent)
    } >"$log" 2>&1; then
        say "build failed; the last lines of build/build.log:"
        tail -40 "$log" >&2
        exit 1
    fi
}

# libbpf attaches tracepoint programs through tracefs.
mount_tracefs() {
    [ -d /sys/kernel/tracing/events ] && return 0
    if [ "$(id -u)" -eq 0 ]; then
        mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || say "could not mount tracefs at /sys/kernel/tracing"
    fi
}
