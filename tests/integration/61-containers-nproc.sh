#!/usr/bin/env bash
# RLIMIT_NPROC counts a uid across containers (docker/for-linux#654): two podman containers run as the same
# non-root uid under --ulimit nproc. One holds threads, the other's fork loop fails. forktrace, filtered to
# the failing container, blames the uid's limit, names the other container's process as the offender and
# says where the limit came from.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/tests/containers.sh"
setup_podman
NPROC=30

podmanc run -d --name ft14-holder --init --user "$FT_UID:$FT_UID" --ulimit nproc=$NPROC:$NPROC --ulimit nofile=1024:1024 --network none \
    "localhost/$FT_IMAGE" holder 20 >/dev/null || fail "podman run ft14-holder failed"
podmanc run -d --name ft14-forker --init --user "$FT_UID:$FT_UID" --ulimit nproc=$NPROC:$NPROC --ulimit nofile=1024:1024 --network none \
    "localhost/$FT_IMAGE" sh -c 'while [ ! -e /tmp/go ]; do sleep 0.1; done; forkloop 30 1; sleep 300' >/dev/null ||
    fail "podman run ft14-forker failed"
wait_for 30 sh -c "ps -u $FT_UID -o nlwp= | awk '{s+=\$1} END {exit !(s >= 20)}'" || fail "the holder never reached 20 tasks"
holder_id=$(podmanc inspect -f '{{.Id}}' ft14-holder)
forker_id=$(podmanc inspect -f '{{.Id}}' ft14-forker)
WATCH_STDOUT=$WORK/nproc.txt start_watch_raw --container ft14-forker --output "$WORK/nproc.pb"
podmanc exec ft14-forker touch /tmp/go
wait_for 60 sh -c "CONTAINERS_CONF=$WORK/containers.conf podman --root $FT_PODMAN_ROOT --runroot $FT_PODMAN_RUN \
    --tmpdir $FT_PODMAN_RUN-tmp logs ft14-forker 2>&1 | grep -q OBSERVED" || fail "the fork loop never finished"
stop_watch
out=$(podmanc logs ft14-forker 2>&1)
note "forkloop in ft14-forker: $(grep '^pid=' <<<"$out")"
failures=$(sed -n 's/^pid=.*failures=\([0-9]*\).*/\1/p' <<<"$out")
[ "$failures" -gt 0 ] || fail "the workload saw no failure: the test set-up is wrong"
"$FORKTRACE" export --json "$WORK/nproc.pb" "$WORK/nproc.json" 2>/dev/null || fail "export --json failed"
ev() { jq -s -r "$1" "$WORK/nproc.json"; }
expect_eq "events (every failure the loop saw)" "$failures" "$(ev '[.[] | select(.comm == "forkloop")] | length')"
expect_eq "cause" "RLIMIT_NPROC" "$(ev '[.[].cause] | unique | join(",")')"
expect_eq "uid" "$FT_UID" "$(ev '[.[].uid] | unique | join(",")')"
expect_eq "failing container" "podman ft14-forker $forker_id localhost/$FT_IMAGE" \
    "$(ev '[.[].container | "\(.runtime) \(.name) \(.id) \(.image)"] | unique | join(",")')"
expect_eq "scope" "USER $NPROC" "$(ev '.[0].scope | "\(.kind) \(.limit)"')"
expect_eq "top offender is the other container's holder" "holder ft14-holder $holder_id" \
    "$(ev '.[0].offenders[0] | "\(.comm) \(.container.name) \(.container.id)"')"
knob=$(ev '.[0].scope.knob')
note "knob: $knob"
grep -q "RLIMIT_NPROC $NPROC of the failing process, likely from podman run --ulimit nproc" <<<"$knob" || fail "knob"
grep -q "every task of uid $FT_UID on the host, in every container" <<<"$knob" || fail "knob does not say it spans containers"
line=$(grep -m1 'RLIMIT_NPROC' "$WORK/nproc.txt")
note "text: $line"
grep -q "in podman container ft14-forker" <<<"$line" || fail "the text line does not name the failing container"
grep -q "'holder' (pid [0-9]*, [0-9]* in its namespace, podman container ft14-holder" <<<"$line" ||
    fail "the text line does not name the other container's offender"
# FORKTRACE_CAPTURE_DIR=DIR keeps the outputs (docs/containers.md quotes them)
if [ -n "${FORKTRACE_CAPTURE_DIR:-}" ]; then cp "$WORK/nproc.txt" "$WORK/nproc.json" "$FORKTRACE_CAPTURE_DIR/"; fi
