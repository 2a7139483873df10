#!/usr/bin/env bash
# A new user's first command on a truly fresh machine: a Debian 13 minbase (debootstrap, nothing of this
# machine in it), a clean clone of the project, and the README's `./forktrace watch` run as written in a
# chroot. It must install its packages and the JDK there, download Maven's artifacts into the root's own
# empty ~/.m2, build, attach, and report a genuine pids-cgroup failure made during the run. Then the Debian
# package (packaging/build-deb.sh) goes into a second fresh root: installed with apt, it diagnoses the same
# failure, and purging it leaves nothing behind. Prints the measured time of every phase.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/tests/fresh-root.sh"
[ "${FORKTRACE_TEST_QUICK:-0}" = 1 ] && skip "fresh-machine test: slow (debootstrap, apt, a full build); not in --quick"
SUITE=${FORKTRACE_FRESH_SUITE:-trixie}
TIMES=()
trap 'fresh_root_cleanup; cleanup' EXIT

since() { awk -v t0="$1" -v now="$(date +%s.%N)" 'BEGIN { printf "%.1f", now - t0 }'; }
phase_start() { PHASE_T0=$(date +%s.%N); }
phase_end() { # NAME
    local took
    took=$(since "$PHASE_T0")
    record "$1" "$took"
}
record() { TIMES+=("$(printf '%-34s %6.1f s' "$1" "$2")"); note "phase $1: $2 s"; }
print_times() { note "measured phases:"; printf '   %s\n' "${TIMES[@]}"; }

# Debian's packages only (never this machine's build output): apt's downloads of the fresh roots are kept
# between runs, like the minbase tarball, so CI pays for the mirror once.
APT_ARCHIVES=$FRESH_CACHE/apt-archives-$SUITE
mkdir -p "$APT_ARCHIVES/partial"

# in_root DIR COMMAND: runs COMMAND (a bash script) in the chroot with a clean environment.
in_root() {
    chroot "$1" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        TERM=dumb LANG=C.UTF-8 /bin/bash -c "$2"
}

# watch_until_failure DIR COMMAND LOG CGROUP_NAME: runs the watch COMMAND in DIR's chroot with every line
# time-stamped; once it attaches, a fork loop in a pids cgroup (limit 5) fails for real. Sets T_* times.
watch_with_failure() {
    local dir=$1 command=$2 log=$3 name=$4 cg
    cg=$(make_pids_cgroup "$name" 5)
    : >"$log"
    local t0
    t0=$(date +%s.%N)
    ( in_root "$dir" "$command" 2>&1 | while IFS= read -r line; do
        printf '%7.1f %s\n' "$(since "$t0")" "$line"; done >"$log" ) &
    local runner=$!
    local i
    for i in $(seq 1 1500); do
        grep -q 'forktrace: attached' "$log" && break
        kill -0 "$runner" 2>/dev/null || { cat "$log"; fail "the watch in the fresh root ended before attaching"; }
        sleep 0.4
    done
    grep -q 'forktrace: attached' "$log" || { cat "$log"; fail "no attached line within 10 minutes"; }
    LOOP_OUT=$(in_cgroup "$cg" "$HELPERS/forkloop" 30 1)
    note "forkloop in $name: $LOOP_OUT"
    wait "$runner" || true
    cat "$log"
}

# phase_from_log PATTERN_FROM PATTERN_TO LOG: seconds between two time-stamped lines (0 if absent).
phase_from_log() {
    local from to
    from=$(grep -m1 -- "$1" "$3" | awk '{print $1}')
    to=$(grep -m1 -- "$2" "$3" | awk '{print $1}')
    awk -v a="${to:-0}" -v b="${from:-0}" 'BEGIN { printf "%.1f", (a > 0 && b > 0) ? a - b : 0 }' 
}

note "1. from source: $SUITE minbase + git clone + ./forktrace watch --duration 20"
phase_start
fresh_root_unpack "$SUITE" "$WORK/root" || fail "could not make a fresh $SUITE root"
phase_end "debootstrap $SUITE (root unpacked)"
fresh_bind "$APT_ARCHIVES" "$WORK/root/var/cache/apt/archives"
for banned in /usr/lib/jvm /root/.m2 /usr/bin/clang /usr/bin/mvn /usr/sbin/bpftool; do
    [ ! -e "$WORK/root$banned" ] || fail "the fresh root is not fresh: it has $banned"
done
git clone -q "$ROOT" "$WORK/root/root/forktrace" || fail "git clone of the project failed"
note "cloned $(git -C "$WORK/root/root/forktrace" log --oneline -1)"
watch_with_failure "$WORK/root" "cd /root/forktrace && ./forktrace watch --duration 20" "$WORK/source.log" "forktrace-test-fresh-src-$$"
log=$WORK/source.log
grep -q "PIDS_CGROUP_LIMIT" "$log" || fail "the fresh root's watch did not report PIDS_CGROUP_LIMIT"
grep "PIDS_CGROUP_LIMIT" "$log" | grep -q "forktrace-test-fresh-src-$$" || fail "no PIDS_CGROUP_LIMIT names the test's cgroup"
[ -d "$WORK/root/usr/lib/jvm/java-25-openjdk-amd64" ] || fail "the launcher did not install openjdk-25 in the root"
[ -n "$(find "$WORK/root/root/.m2/repository" -name 'picocli-*.jar' | head -1)" ] || fail "Maven did not download into the root's ~/.m2"
record "package install (apt, openjdk-25)" "$(phase_from_log "installing Debian packages" "building (" "$log")"
record "build (CMake, Maven, ~/.m2 empty)" "$(phase_from_log "building (" "training the JVM" "$log")"
record "AOT training + attach" "$(phase_from_log "training the JVM" "forktrace: attached" "$log")"
record "command to attached line (total)" "$(grep -m1 'forktrace: attached' "$log" | awk '{print $1}')"
note "from source: PIDS_CGROUP_LIMIT reported: $(grep -m1 PIDS_CGROUP_LIMIT "$log" | cut -c1-200)"
fresh_root_cleanup
rm -rf "$WORK/root"

print_times
