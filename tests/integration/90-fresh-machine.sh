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
# The roots go before lib.sh's cleanup deletes $WORK, and only once nothing is mounted in them.
trap 'for r in "$WORK"/root "$WORK"/pkg-*; do [ -d "$r" ] && { fresh_root_remove "$r" || WORK=; }; done; [ -n "$WORK" ] && cleanup' EXIT

since() { awk -v t0="$1" -v now="$(date +%s.%N)" 'BEGIN { printf "%.1f", now - t0 }'; }
phase_start() { PHASE_T0=$(date +%s.%N); }
phase_end() { # NAME
    local took
    took=$(since "$PHASE_T0")
    record "$1" "$took"
}
record() { TIMES+=("$(printf '%-38s %8s s' "$1" "$2")"); note "phase $1: $2 s"; }
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
    if [ -n "$from" ] && [ -n "$to" ]; then awk -v a="$to" -v b="$from" 'BEGIN { printf "%.1f", a - b }'; else echo "n/a"; fi
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
fresh_root_remove "$WORK/root"

# Every path of a root, minus what apt and dpkg keep about themselves (lists, status, caches, logs).
root_paths() {
    (cd "$1" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./run -o -path ./tmp \
        -o -path ./var/cache -o -path ./var/lib/apt -o -path ./var/lib/dpkg -o -path ./var/log \) -prune -o -print | sort)
}

note "2. the Debian package: packaging/build-deb.sh, then apt install into fresh roots"
phase_start
deb=$("$ROOT/packaging/build-deb.sh" | tail -1)
[ -f "$deb" ] || fail "packaging/build-deb.sh made no package"
expect_eq "package path" "$ROOT/build/pkg/forktrace_$(sed -n '0,/<version>/s/.*<version>\([^<]*\)<\/version>.*/\1/p' "$ROOT/pom.xml")_amd64.deb" "$deb"
phase_end "package build (build-deb.sh)"
note "package: $(du -h "$deb" | cut -f1), depends: $(dpkg-deb -f "$deb" Depends)"
# The unit as systemd reads it: every key known, no warning (its ExecStart pointed at the extracted wrapper).
dpkg-deb -x "$deb" "$WORK/deb"
sed "s#ExecStart=/usr/bin/forktrace#ExecStart=$WORK/deb/usr/bin/forktrace#" "$WORK/deb/usr/lib/systemd/system/forktrace.service" \
    >"$WORK/forktrace.service"
unit_warnings=$(systemd-analyze verify --man=no "$WORK/forktrace.service" 2>&1) || fail "systemd-analyze verify failed: $unit_warnings"
[ -z "$unit_warnings" ] || fail "systemd-analyze verify warns about forktrace.service: $unit_warnings"
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$WORK/forktrace.service")
expect_eq "the unit's capabilities" "CAP_BPF CAP_PERFMON" "$caps"
rm -rf "$WORK/deb"
for suite in ${FORKTRACE_FRESH_PACKAGE_SUITES:-trixie bookworm}; do
    dir=$WORK/pkg-$suite
    phase_start
    fresh_root_unpack "$suite" "$dir" || fail "could not make a fresh $suite root"
    mkdir -p "$FRESH_CACHE/apt-archives-$suite/partial"
    fresh_bind "$FRESH_CACHE/apt-archives-$suite" "$dir/var/cache/apt/archives"
    phase_end "$suite: fresh root unpacked"
    root_paths "$dir" >"$WORK/paths-before-$suite"
    cp "$deb" "$dir/tmp/"
    cp "$HELPERS/forkloop" "$dir/tmp/forkloop"
    phase_start
    in_root "$dir" "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ./tmp/$(basename "$deb")" \
        >"$WORK/install-$suite.log" 2>&1 || { tail -20 "$WORK/install-$suite.log"; fail "$suite: apt install of the package failed"; }
    phase_end "$suite: apt install ./$(basename "$deb")"
    new=$(comm -13 "$WORK/paths-before-$suite" <(root_paths "$dir") | grep -v '^./usr/lib/forktrace/runtime/' | grep -c .)
    note "$suite: the package and its dependencies added $new paths (outside the runtime)"
    for tool in clang mvn javac gcc; do
        ! in_root "$dir" "command -v $tool" >/dev/null || fail "$suite: installing the package brought $tool"
    done
    in_root "$dir" "command -v forktrace" >/dev/null || fail "$suite: forktrace is not on PATH"

    in_root "$dir" "forktrace doctor" >"$WORK/doctor-$suite.txt" 2>&1 || { cat "$WORK/doctor-$suite.txt"; fail "$suite: forktrace doctor exited $?"; }
    grep -q "^  lockdown *[a-z]" "$WORK/doctor-$suite.txt" || fail "$suite: doctor shows no lockdown line"
    note "$suite: doctor: $(grep -E '^  (lockdown|tracepoint) ' "$WORK/doctor-$suite.txt" | tr -s ' ' | paste -sd ';')"

    # A recording where the service keeps it; purge must take it away with the package.
    in_root "$dir" "mkdir -p /var/lib/forktrace"
    phase_start
    # With only the unit's capabilities (CAP_BPF, CAP_PERFMON), as forktrace.service runs it.
    watch_with_failure "$dir" "setpriv --bounding-set -all,+bpf,+perfmon --inh-caps -all forktrace watch --duration 10 --output /var/lib/forktrace/failures.pb" \
        "$WORK/pkg-watch-$suite.log" "forktrace-test-fresh-pkg-$suite-$$"
    phase_end "$suite: package watch (CAP_BPF+CAP_PERFMON only; 10 s capture)"
    grep "PIDS_CGROUP_LIMIT" "$WORK/pkg-watch-$suite.log" | grep -q "forktrace-test-fresh-pkg-$suite-$$" ||
        fail "$suite: the packaged forktrace did not report PIDS_CGROUP_LIMIT for the test's cgroup"
    in_root "$dir" "forktrace report /var/lib/forktrace/failures.pb" >"$WORK/report-$suite.txt" 2>&1 ||
        { cat "$WORK/report-$suite.txt"; fail "$suite: forktrace report exited $?"; }
    grep -q PIDS_CGROUP_LIMIT "$WORK/report-$suite.txt" || fail "$suite: report does not show PIDS_CGROUP_LIMIT: $(head -20 "$WORK/report-$suite.txt")"
    in_root "$dir" "forktrace export --json /var/lib/forktrace/failures.pb -" >"$WORK/export-$suite.jsonl" 2>"$WORK/export-$suite.err" ||
        { cat "$WORK/export-$suite.err"; fail "$suite: forktrace export exited $?"; }
    [ "$(jq -s '[.[] | select(.cause == "PIDS_CGROUP_LIMIT")] | length' "$WORK/export-$suite.jsonl")" -gt 0 ] ||
        fail "$suite: export --json has no PIDS_CGROUP_LIMIT failure"
    cg=$(make_pids_cgroup "forktrace-test-fresh-run-$suite-$$" 5)
    in_root "$dir" "forktrace run --expect PIDS_CGROUP_LIMIT -- sh -c 'echo \$\$ > $cg/cgroup.procs && exec /tmp/forkloop 30 1'" \
        >"$WORK/run-$suite.txt" 2>&1 || { cat "$WORK/run-$suite.txt"; fail "$suite: forktrace run --expect PIDS_CGROUP_LIMIT exited $?"; }
    note "$suite: doctor, watch, report, export and run all worked from the package"

    phase_start
    in_root "$dir" "DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq --autoremove forktrace" >"$WORK/purge-$suite.log" 2>&1 ||
        { tail -20 "$WORK/purge-$suite.log"; fail "$suite: apt purge failed"; }
    phase_end "$suite: apt purge --autoremove"
    left=$(comm -13 "$WORK/paths-before-$suite" <(root_paths "$dir"))
    rm -f "$dir/tmp/$(basename "$deb")" "$dir/tmp/forkloop"
    [ -z "$left" ] || fail "$suite: purge left behind: $(head -20 <<<"$left")"
    note "$suite: purge left nothing (paths compared with the fresh root)"
    fresh_root_remove "$dir"
done

print_times
