#!/usr/bin/env bash
# Every test of forktrace: set-up as ./forktrace does, build, unit tests, integration tests against the
# running kernel, the JUnit example, and the qemu kernel lab (5.10, 6.1, 6.12, 6.12-fi, and 6.12 on arm64).
#   ./test.sh           everything (what CI runs)
#   ./test.sh --quick   without the kernel lab and the slow tests, for your own loop
set -uo pipefail
cd "$(dirname "$(readlink -f "$0")")"
QUICK=0
for arg in "$@"; do
    case $arg in
        --quick) QUICK=1 ;;
        -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
        *) echo "test.sh: unknown option $arg (use --quick)" >&2; exit 2 ;;
    esac
done
export FORKTRACE_TEST_QUICK=$QUICK
source scripts/setup.sh
if [ "$(id -u)" -ne 0 ]; then
    echo "test.sh: the integration tests load BPF programs and create cgroups: run as root (sudo ./test.sh)" >&2
    exit 2
fi
ensure_packages "${RUNTIME_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
find_jdk
export PATH=$JAVA_HOME/bin:$PATH
build_if_stale
mount_tracefs

LOGS=build/test-logs
rm -rf "$LOGS" && mkdir -p "$LOGS"
passed=0 failed=0 skipped=0 failures=()

# run_test NAME COMMAND...: exit 0 pass, 77 skip, anything else fail (with the log's tail).
run_test() {
    local name=$1 start rc
    shift
    start=$(date +%s)
    "$@" >"$LOGS/$name.log" 2>&1
    rc=$?
    local took=$(( $(date +%s) - start ))
    if [ $rc -eq 0 ]; then
        passed=$((passed + 1)); echo "PASS $name (${took}s)"
    elif [ $rc -eq 77 ]; then
        skipped=$((skipped + 1)); echo "SKIP $name: $(tail -1 "$LOGS/$name.log")"
    else
        failed=$((failed + 1)); failures+=("$name")
        echo "FAIL $name (exit $rc, ${took}s); its failing lines, then the last lines of $LOGS/$name.log:"
        grep -E '(^| )FAIL( |$)' "$LOGS/$name.log" | head -20 | sed 's/^/  ! /'
        tail -30 "$LOGS/$name.log" | sed 's/^/    /'
    fi
}

run_test unit-tests mvn -B test
if make -C examples >"$LOGS/helpers-build.log" 2>&1; then
    for t in tests/integration/*.sh; do
        run_test "$(basename "$t" .sh)" "$t"
    done
else
    failed=$((failed + 1)); failures+=(helpers-build)
    echo "FAIL helpers-build"; tail -20 "$LOGS/helpers-build.log"
fi
if [ $QUICK -eq 0 ]; then
    [ -x examples/junit-pids-limit/run.sh ] && run_test junit-example examples/junit-pids-limit/run.sh
    [ -x lab/run ] && run_test kernel-lab lab/run --tier-matrix
fi

echo
[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
