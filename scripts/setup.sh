# shellcheck shell=bash
# Shared set-up for ./forktrace and ./test.sh: packages, JDK, build when stale, tracefs.
# Sourced; defines FORKTRACE_ROOT, JAVA_HOME, JAVA and the functions below.

FORKTRACE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FORKTRACE_JAR=$FORKTRACE_ROOT/target/forktrace.jar
# What building and running forktrace needs (Debian bookworm package names).
RUNTIME_PACKAGES=(clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config cmake make gcc maven)
# What the tests and the kernel lab need on top.
TEST_PACKAGES=(jq bpftrace qemu-system-x86 busybox-static cpio util-linux procps chromium kcat)
# The container tests (tests/integration/6x-containers-*.sh): real runtimes, reaping inits, static glibc.
TEST_PACKAGES+=(podman runc docker.io containerd catatonit tini libc6-dev)
# The fresh-machine test (90-fresh-machine): a Debian minbase root, the project cloned into it; systemd for
# systemd-analyze verify of the packaged unit.
TEST_PACKAGES+=(debootstrap git systemd)
# watch --metrics against a real Prometheus (70-prometheus), the pod template under podman (92-kube-play),
# the chart rendered and validated (72-deploy-manifests).
TEST_PACKAGES+=(prometheus curl podman runc debootstrap python3-yaml nodejs)
# The lab's fault-injection kernel (lab/kernel/build): Debian's 6.12 source and what building it needs.
TEST_PACKAGES+=(linux-source-6.12 dwarves flex bison bc libssl-dev xz-utils)
# The lab's arm64 guest (lab/arm64.sh): qemu-system-aarch64, and the cross compiler for forktrace's shim and
# the static helpers (libc6-dev-arm64-cross is only a recommendation of gcc-aarch64-linux-gnu).
TEST_PACKAGES+=(qemu-system-arm gcc-aarch64-linux-gnu libc6-dev-arm64-cross python3)

say() { printf 'forktrace-setup: %s\n' "$*" >&2; }

# setup_failed WHAT NEXT_STEP...: the one way set-up stops: what failed, then the exact next step.
setup_failed() {
    local what=$1
    shift
    say "FAILED: $what"
    local step
    for step in "$@"; do say "next step: $step"; done
    exit "${SETUP_EXIT:-1}"
}

# For the launcher (set -e): any command that fails outside the checks below still says where it stopped.
setup_trap_errors() {
    set -E
    trap 'rc=$?; say "FAILED (exit $rc): ${BASH_COMMAND} (${BASH_SOURCE[0]}:${LINENO})"; say "next step: report this with the line above; FORKTRACE_SETUP_TRACE=1 ./forktrace ... shows every set-up command"' ERR
    [ -z "${FORKTRACE_SETUP_TRACE:-}" ] || set -x
}

SETUP_LOG_DIR=${FORKTRACE_SETUP_LOG_DIR:-$FORKTRACE_ROOT/build}

# Installs missing Debian packages when root; otherwise prints the exact command and exits 2.
# FORKTRACE_EXTRA_PACKAGES (space-separated) adds packages to the check, e.g. for a site's own tools.
ensure_packages() {
    local missing=() pkg installed
    # shellcheck disable=SC2206
    local wanted=("$@" ${FORKTRACE_EXTRA_PACKAGES:-})
    command -v dpkg-query >/dev/null ||
        SETUP_EXIT=2 setup_failed "no dpkg-query: this is not a Debian system, so the launcher cannot install ${wanted[*]}"             "install the equivalents of these Debian packages with your package manager, then run this again"
    # One dpkg-query for all packages: it is on the path to the attached line (13 calls cost ~150 ms).
    # dpkg-query exits 1 when any package is unknown: that is the answer, not an error (|| true).
    installed=" $({ dpkg-query -W -f='${Package} ${Status}\n' "${wanted[@]}" 2>/dev/null || true; } |
        awk '$2 == "install" && $4 == "installed" { printf "%s ", $1 }')"
    for pkg in "${wanted[@]}"; do
        [[ $installed == *" $pkg "* ]] || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        SETUP_EXIT=2 setup_failed "missing Debian packages: ${missing[*]} (only root can install them)"             "sudo apt-get install -y ${missing[*]}" "then run this command again"
    fi
    apt_install "${missing[@]}"
}

# apt_install PACKAGE...: apt-get update + install, quietly into a log; a failure names its cause.
apt_install() {
    local log=$SETUP_LOG_DIR/setup-apt.log rc=0
    mkdir -p "$SETUP_LOG_DIR"
    say "installing Debian packages: $*; log: ${log#"$FORKTRACE_ROOT"/}"
    {
        apt_get update -qq && DEBIAN_FRONTEND=noninteractive apt_get install -y -qq --no-install-recommends "$@"
    } >"$log" 2>&1 || rc=$?
    [ $rc -eq 0 ] && return 0
    say "apt-get failed with exit status $rc; its last lines ($log):"
    tail -15 "$log" | sed 's/^/    /' >&2
    local hint="sudo apt-get update && sudo apt-get install -y $*"
    if grep -q 'Could not get lock\|Unable to acquire the dpkg frontend lock' "$log"; then
        setup_failed "apt-get install $* (another apt or dpkg holds the lock)"             "wait until the other package manager finishes, then run this again"
    elif grep -q 'Unable to locate package\|has no installation candidate' "$log"; then
        setup_failed "apt-get install $* (a package is not in this system's apt sources)"             "check /etc/apt/sources.list for the Debian 12 or 13 'main' component, run: $hint"
    elif grep -qi 'Temporary failure resolving\|Could not connect\|Failed to fetch' "$log"; then
        setup_failed "apt-get install $* (the Debian mirror is unreachable)"             "check the network and /etc/resolv.conf, then run: $hint"
    fi
    setup_failed "apt-get install $*" "run it yourself to see the whole error: $hint"
}

# apt-get that waits up to a minute for a dpkg lock another apt holds, instead of failing at once.
apt_get() {
    apt-get -o DPkg::Lock::Timeout=60 "$@"
}

java_feature_version() { # the major version of a JDK (its release file, else `java -version`), or 0
    local version
    version=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release" 2>/dev/null | head -1)
    [ -n "$version" ] || version=$("$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
    echo "${version:-0}"
}

JVM_DIR=${FORKTRACE_JVM_DIR:-/usr/lib/jvm} # where Debian's JDK packages install (a test points it elsewhere)

# The newest JDK 22+ in JAVA_HOME or $JVM_DIR, or nothing.
newest_jdk() {
    local candidate best="" best_version=0 version
    if [ -n "${JAVA_HOME:-}" ] && [ "$(java_feature_version "$JAVA_HOME")" -ge 22 ]; then
        echo "$JAVA_HOME"
        return
    fi
    for candidate in "$JVM_DIR"/*; do
        [ -x "$candidate/bin/java" ] || continue
        version=$(java_feature_version "$candidate")
        if [ "$version" -ge 22 ] && [ "$version" -gt "$best_version" ]; then
            best=$candidate best_version=$version
        fi
    done
    echo "$best"
}

# Sets JAVA_HOME and JAVA to a JDK 22+ (java.lang.foreign). None installed: as root, installs Debian's
# openjdk-25-jdk-headless where apt offers it (Debian 13); elsewhere says exactly how to get one.
JDK_PACKAGE=openjdk-25-jdk-headless
find_jdk() {
    local best
    best=$(newest_jdk)
    if [ -z "$best" ] && [ "$(id -u)" -eq 0 ] && jdk_package_available; then
        say "no JDK 22 or newer found; Debian offers $JDK_PACKAGE"
        apt_install "$JDK_PACKAGE"
        best=$(newest_jdk)
        [ -n "$best" ] || setup_failed "$JDK_PACKAGE is installed but no JDK 22+ appeared under $JVM_DIR"             "set JAVA_HOME to a JDK 22 or newer and run this again"
    fi
    if [ -z "$best" ]; then
        local debian
        debian=$(sed -n 's/^VERSION_ID="\(.*\)"/\1/p' /etc/os-release 2>/dev/null)
        if [ "$(id -u)" -ne 0 ] && jdk_package_available; then
            SETUP_EXIT=2 setup_failed "no JDK 22 or newer (JAVA_HOME, $JVM_DIR); forktrace needs java.lang.foreign"                 "sudo apt-get install -y $JDK_PACKAGE" "then run this command again"
        fi
        SETUP_EXIT=2 setup_failed "no JDK 22 or newer (JAVA_HOME, $JVM_DIR), and Debian ${debian:-(this release)} has none"             "on a box that only runs forktrace: install the package, which brings its own Java runtime (see README, Install)"             "to build from source: install Temurin 25 from Adoptium's apt repository:"             "  sudo apt-get install -y wget gpg"             "  wget -qO- https://packages.adoptium.net/artifactory/api/gpg/key/public | sudo gpg --dearmor -o /usr/share/keyrings/adoptium.gpg"             "  echo \"deb [signed-by=/usr/share/keyrings/adoptium.gpg] https://packages.adoptium.net/artifactory/deb \$(. /etc/os-release; echo \$VERSION_CODENAME) main\" | sudo tee /etc/apt/sources.list.d/adoptium.list" \
            "  sudo apt-get update && sudo apt-get install -y temurin-25-jdk"             "or unpack any JDK 22+ and run with JAVA_HOME=/path/to/jdk"
    fi
    export JAVA_HOME=$best
    JAVA=$JAVA_HOME/bin/java
}

# Whether apt knows a candidate for the JDK package (an apt-get update may be needed first on a fresh root).
jdk_package_available() {
    local candidate
    candidate=$(apt-cache policy "$JDK_PACKAGE" 2>/dev/null | sed -n 's/^ *Candidate: //p')
    if [ -z "$candidate" ] && [ "$(id -u)" -eq 0 ] && [ -z "${JDK_LISTS_UPDATED:-}" ]; then
        JDK_LISTS_UPDATED=1
        apt_get update -qq >/dev/null 2>&1 || true
        candidate=$(apt-cache policy "$JDK_PACKAGE" 2>/dev/null | sed -n 's/^ *Candidate: //p')
    fi
    [ -n "$candidate" ] && [ "$candidate" != "(none)" ]
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
        tail -40 "$log" | sed 's/^/    /' >&2
        local step="fix what the lines above name, then run this command again (the whole log: $log)"
        grep -q 'Could not transfer artifact\|Could not resolve dependencies\|Unknown host' "$log" &&
            step="Maven could not download from Maven Central: check the network (and a proxy in ~/.m2/settings.xml), then run this command again"
        grep -q 'vmlinux is missing' "$log" &&
            step="this kernel has no BTF (/sys/kernel/btf/vmlinux): boot a kernel with CONFIG_DEBUG_INFO_BTF=y (Debian's do)"
        setup_failed "building forktrace (CMake + Maven)" "$step"
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
    # The JVM writes the cache at exit whatever watch's status (an output that failed on a loaded machine,
    # say): a cache it wrote is kept, and only a run that wrote none starts without one.
    local rc=0
    "$JAVA" "${JVM_OPTIONS[@]}" -XX:AOTCacheOutput="$cache.$$" -jar "$jar" watch --duration 1 >"$log" 2>&1 || rc=$?
    if [ -s "$cache.$$" ]; then
        [ $rc -eq 0 ] || say "the training run exited $rc (see $log); its cache is kept"
        mv -f "$cache.$$" "$cache"
    else
        rm -f "$cache.$$"
        say "training failed (see $log); starting without the cache"
    fi
}

# libbpf attaches tracepoint programs through tracefs; doctor reads the lockdown mode from securityfs.
mount_tracefs() {
    mount_kernel_fs tracefs /sys/kernel/tracing events
    mount_kernel_fs securityfs /sys/kernel/security ""
}

# mount_kernel_fs TYPE DIR PROBE: mounts TYPE at DIR (as root) unless DIR/PROBE is already there.
mount_kernel_fs() {
    local type=$1 dir=$2 probe=$3
    if [ -n "$probe" ]; then [ -e "$dir/$probe" ] && return 0; else mountpoint -q "$dir" 2>/dev/null && return 0; fi
    [ "$(id -u)" -eq 0 ] || return 0 # not root: doctor and watch say what they cannot see
    [ -d "$dir" ] || return 0        # the kernel has no such file system
    local error
    if ! error=$(mount -t "$type" "$type" "$dir" 2>&1); then
        say "could not mount $type at $dir: ${error:-mount failed}"
        if [ "$type" = tracefs ]; then
            say "next step: mount -t tracefs tracefs /sys/kernel/tracing (in a container: give it the host's /sys/kernel/tracing); without it the tracepoint programs cannot attach"
        else
            say "next step: mount -t securityfs securityfs /sys/kernel/security; without it doctor cannot read the lockdown mode"
        fi
    fi
}
