#!/usr/bin/env bash
# Runs the example twice: with the limit (must pass, asserting PIDS_CGROUP_LIMIT) and without it
# (must fail, with forktrace's diagnosis naming the missing cause). Exit 0 when both behave.
set -euo pipefail
cd "$(dirname "$0")"
: "${JAVA_HOME:=/usr/lib/jvm/temurin-25-jdk-amd64}"
export JAVA_HOME
log=$(mktemp)
trap 'rm -f "$log"' EXIT

if ! mvn -B -q test >"$log" 2>&1; then
    echo "FAIL: the example should pass under the pids limit"; tail -60 "$log"; exit 1
fi
echo "ok: with the limit the test passes (forktrace attributed PIDS_CGROUP_LIMIT)"

if mvn -B -q test -Dexample.noLimit=true >"$log" 2>&1; then
    echo "FAIL: without the limit the test must fail on its expectation"; tail -60 "$log"; exit 1
fi
if ! grep -q "missing \[PIDS_CGROUP_LIMIT\]" "$log" || ! grep -q "forktrace saw no failed task creation" "$log"; then
    echo "FAIL: the failure without the limit does not carry forktrace's diagnosis"; tail -60 "$log"; exit 1
fi
echo "ok: without the limit the test fails with forktrace's diagnosis:"
grep -m1 -A1 "expected causes" "$log" | sed 's/^/    /'
