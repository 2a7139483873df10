#!/usr/bin/env bash
# Set-up never fails silently: a missing package that apt cannot install, a missing JDK and a failed build
# each end the launcher with what failed and the exact next step. apt-get, apt-cache and cmake are made to
# fail on purpose by stubs earlier on PATH; a package is forced missing by FORKTRACE_EXTRA_PACKAGES.
source "$(dirname "$0")/../lib.sh"
MISSING=forktrace-test-missing-package
mkdir -p "$WORK/bin"

# stub NAME EXIT_STATUS MESSAGE: a command that records its call, prints MESSAGE on stderr and fails.
stub() {
    cat >"$WORK/bin/$1" <<STUB
#!/bin/sh
echo "\$0 \$*" >>"$WORK/calls"
printf '%s\n' "$3" >&2
exit $2
STUB
    chmod +x "$WORK/bin/$1"
}

# launch ENV... : ./forktrace doctor with the stubs first on PATH; sets RC, OUT, ERR.
launch() {
    : >"$WORK/calls"
    RC=0
    env PATH="$WORK/bin:$PATH" FORKTRACE_SETUP_LOG_DIR="$WORK/logs" "$@" doctor >"$WORK/out" 2>"$WORK/err" || RC=$?
    OUT=$(cat "$WORK/out") ERR=$(cat "$WORK/err")
    echo "$ERR"
}

expect_failure() { # WHAT EXPECTED_STATUS PATTERN...
    local what=$1 status=$2 pattern
    shift 2
    expect_eq "$what: exit status" "$status" "$RC"
    [ -z "$OUT" ] || fail "$what: the command ran anyway: $OUT"
    for pattern in "$@"; do
        grep -qF -- "$pattern" <<<"$ERR" || fail "$what: no '$pattern' in: $ERR"
    done
}

note "1. apt-get cannot reach the mirror (dpkg-query's exit 1 for the missing package must not end the launcher first)"
stub apt-get 100 "E: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease  Temporary failure resolving 'deb.debian.org'"
launch FORKTRACE_EXTRA_PACKAGES=$MISSING "$FORKTRACE"
grep -q "apt-get.* update" "$WORK/calls" || fail "apt-get was never called: the launcher stopped before installing ($(cat "$WORK/calls"))"
expect_failure "unreachable mirror" 1 \
    "forktrace-setup: installing Debian packages: $MISSING" \
    "Temporary failure resolving 'deb.debian.org'" \
    "FAILED: apt-get install $MISSING (the Debian mirror is unreachable)" \
    "next step: check the network and /etc/resolv.conf, then run: sudo apt-get update && sudo apt-get install -y $MISSING"

note "2. the package is not in the apt sources"
cat >"$WORK/bin/apt-get" <<STUB
#!/bin/sh
echo "\$0 \$*" >>"$WORK/calls"
case "\$*" in *update*) exit 0 ;; esac
echo "E: Unable to locate package $MISSING" >&2
exit 100
STUB
launch FORKTRACE_EXTRA_PACKAGES=$MISSING "$FORKTRACE"
grep -q "apt-get.* install .*$MISSING" "$WORK/calls" || fail "apt-get install was not called: $(cat "$WORK/calls")"
expect_failure "unknown package" 1 "E: Unable to locate package $MISSING" \
    "FAILED: apt-get install $MISSING (a package is not in this system's apt sources)" "next step: check /etc/apt/sources.list"

note "3. not root: the exact command to run, exit 2"
launch FORKTRACE_EXTRA_PACKAGES=$MISSING setpriv --reuid=65534 --regid=65534 --clear-groups "$FORKTRACE"
expect_failure "not root" 2 "FAILED: missing Debian packages: $MISSING (only root can install them)" \
    "next step: sudo apt-get install -y $MISSING"

note "4. no JDK 22+ and apt offers none (Debian 12): how to get one"
mkdir -p "$WORK/no-jdks"
stub apt-cache 0 ""
printf '#!/bin/sh\necho "$0 $*" >>"%s/calls"\nexit 0\n' "$WORK" >"$WORK/bin/apt-get"
launch env -u JAVA_HOME FORKTRACE_JVM_DIR="$WORK/no-jdks" "$FORKTRACE"
expect_failure "no JDK" 2 "FAILED: no JDK 22 or newer (JAVA_HOME, $WORK/no-jdks), and Debian" \
    "next step: on a box that only runs forktrace: install the package" \
    "sudo apt-get update && sudo apt-get install -y temurin-25-jdk" "next step: or unpack any JDK 22+ and run with JAVA_HOME="

note "5. the build fails (a clean clone, cmake stubbed to fail)"
git clone -q "$ROOT" "$WORK/src"
rm -f "$WORK/bin/apt-get" "$WORK/bin/apt-cache"
stub cmake 1 "CMake Error at CMakeLists.txt:1: forktrace test: cmake made to fail"
launch "$WORK/src/forktrace"
expect_failure "build" 1 "forktrace-setup: building (no target/forktrace.jar yet)" \
    "CMake Error at CMakeLists.txt:1: forktrace test: cmake made to fail" \
    "FAILED: building forktrace (CMake + Maven)" "next step: fix what the lines above name, then run this command again"
note "every set-up failure named what failed and the next step"
