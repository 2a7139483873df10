# shellcheck shell=bash
# Shared set-up for ./forktrace and ./test.sh: packages, JDK, build when stale, tracefs.
# Sourced; defines FORKTRACE_ROOT, JAVA_HOME, JAVA and the functions below.

FORKTRACE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FORKTRACE_JAR=$FORKTRACE_ROOT/target/forktrace.jar
# What building and running forktrace needs (Debian bookworm package names).
RUNTIME_PACKAGES=(clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config cmake make gcc maven)
# What the tests and the kernel lab need on top.
TEST_PACKAGES=(jq bpftrace qemu-system-x86 busybox-static cpio util-linux procps)
# watch --metrics against a real Prometheus (70-prometheus), the pod template under podman (71-kube-play).
TEST_PACKAGES+=(prometheus curl podman runc debootstrap chromium python3-yaml nodejs)

say() { printf 'forktrace-setup: %s\n' "$*" >&2; }

# Installs missing Debian packages when root; otherwise prints the exact command and exits 2.
ensure_packages() {
    local missing=() pkg installed
    # One dpkg-query for all packages: it is on the path to the attached line (13 calls cost ~150 ms).
    installed=" $(dpkg-query -W -f='${Package} ${Status}\n' "$@" 2>/dev/null |
        awk '$2 == "install" && $4 == "installed" { printf "%s ", $1 }')"
    for pkg in "$@"; do
        [[ $installed == *" $pkg "* ]] || missing+=("$pkg")
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

# prepare_jvm_options JAR CACHE_DIR: sets JVM_OPTIONS, the java options of every forktrace run (the
# launcher and bench/run use this one definition).
# - Serial GC, a bounded heap and C1 only: forktrace keeps little state. A small young generation keeps
#   RSS flat in a storm (short-lived garbage is collected within 8 MB instead of filling a 40 MB eden:
#   VmHWM 99 vs 127 MB at 50k failures/s), and C2's compiler threads would add ~17 MB, delay the
#   attached line (112 vs 95 MB, 780 vs 530 ms) and, in a 4 s storm, cost more than they gain.
# - JDK 25+: an ahead-of-time cache (JEP 483/514/515: classes loaded and linked, method profiles),
#   trained once per build by a one-second `watch` (needs root, like every run); JDK 22-24: a dynamic
#   CDS archive created on first run. The cache halves the JVM's share of the time to "attached".
prepare_jvm_options() {
    local jar=$1 dir=$2 version
    version=$(java_feature_version "$JAVA_HOME")
    JVM_OPTIONS=(--enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -Xmx64m -Xmn8m -XX:TieredStopAtLevel=1)
    # protobuf-java still uses sun.misc.Unsafe, which JDK 24+ warns about on every start (JEP 471/498).
    [ "$version" -ge 24 ] && JVM_OPTIONS+=(--sun-misc-unsafe-memory-access=allow)
    if [ "$version" -ge 25 ]; then
        # Named after the options too: a cache trained with other options would be refused.
        local cache
        cache=$dir/forktrace-jdk$version-$(printf '%s ' "${JVM_OPTIONS[@]}" | cksum | cut -d' ' -f1).aot
        if { [ ! -f "$cache" ] || [ "$jar" -nt "$cache" ]; } && [ "$(id -u)" -eq 0 ]; then
            train_aot_cache "$jar" "$cache"
        fi
        if [ -f "$cache" ] && [ "$cache" -nt "$jar" ]; then
            JVM_OPTIONS+=(-XX:AOTCache="$cache" -Xlog:aot=off -Xlog:cds=off)
            return 0
        fi
    fi
    JVM_OPTIONS+=(-XX:SharedArchiveFile="$dir/forktrace.jsa" -XX:+AutoCreateSharedArchive -Xlog:cds=off
        -Xlog:cds+dynamic=off)
}

train_aot_cache() {
    local jar=$1 cache=$2 log=${2%.aot}-training.log
    say "training the JVM's ahead-of-time cache for a faster start (once per build, ~10 s); log: $log"
    mkdir -p "$(dirname "$cache")"
    # Written under a temporary name: two launchers training at once must not read a half-written cache.
    if "$JAVA" "${JVM_OPTIONS[@]}" -XX:AOTCacheOutput="$cache.$$" -jar "$jar" watch --duration 1 \
        >"$log" 2>&1 && [ -s "$cache.$$" ]; then
        mv -f "$cache.$$" "$cache"
    else
        rm -f "$cache.$$"
        say "training failed (see $log); starting without the cache"
    fi
}

# libbpf attaches tracepoint programs through tracefs.
mount_tracefs() {
    [ -d /sys/kernel/tracing/events ] && return 0
    if [ "$(id -u)" -eq 0 ]; then
        mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || say "could not mount tracefs at /sys/kernel/tracing"
    fi
}
