#!/usr/bin/env bash
# Every reproduction in examples/ under forktrace watch: the failures it observed itself must arrive as
# events (exactly as many, unless it says at_least), each attributed to the declared cause, scope kind,
# scope name, limit, errno and first offender. No event may be UNKNOWN.
source "$(dirname "$0")/../lib.sh"
failed=()
for example in "$ROOT"/examples/*.sh; do
    [ "$(basename "$example")" = lib.sh ] && continue
    name=$(basename "$example" .sh)
    declare -A want=()
    while IFS='=' read -r key value; do want[$key]=$value; done < <(sed -n 's/^# expect\.\([a-z.]*\)=\(.*\)$/\1=\2/p' "$example")
    [ -n "${want[process]:-}" ] || fail "$name declares no expect.process"
    start_watch --comm "${want[process]}"
    rc=0; "$example" >"$WORK/$name.out" 2>&1 || rc=$?
    stop_watch
    events >"$WORK/$name.json" # failures only: headroom warnings are lines of their own
    if [ $rc -ne 0 ]; then echo "FAIL $name: the example exited $rc"; cat "$WORK/$name.out"; failed+=("$name"); continue; fi
    while IFS='=' read -r key value; do want[$key]=$value; done < <(sed -n 's/^EXPECT \([a-z.]*\)=\(.*\)$/\1=\2/p' "$WORK/$name.out")
    observed=$(sed -n 's/^OBSERVED failures=\([0-9]*\).*/\1/p' "$WORK/$name.out" | tail -1)
    events=$(jq -s length "$WORK/$name.json")
    problems=()
    [ "${observed:-0}" -gt 0 ] || problems+=("the example observed no failure")
    if [ "${want[count]:-exact}" = at_least ]; then
        [ "$events" -ge "${observed:-1}" ] || problems+=("events $events < observed $observed")
    else
        [ "$events" = "$observed" ] || problems+=("events $events != observed $observed")
    fi
    check() { # check LABEL EXPECTED JQ_FILTER: every event must match
        [ -z "$2" ] && return 0
        local got
        got=$(jq -s -r "[.[] | $3 | tostring] | unique | join(\"|\")" "$WORK/$name.json")
        [ "$got" = "$2" ] || problems+=("$1: expected '$2', got '$got'")
    }
    check cause "${want[cause]:-}" '.cause'
    check errno "${want[errno]:-}" '.errno'
    check scope.kind "${want[scope.kind]:-}" '.scope.kind'
    check scope.name "${want[scope.name]:-}" '.scope.name'
    check scope.limit "${want[scope.limit]:-}" '.scope.limit'
    check offender "${want[offender.comm]:-}" '.offenders[0].comm'
    unknown=$(jq -s '[.[] | select(.cause == "UNKNOWN")] | length' "$WORK/$name.json")
    [ "$unknown" = 0 ] || problems+=("$unknown events attributed UNKNOWN")
    if [ ${#problems[@]} -eq 0 ]; then
        echo "PASS $name: $events events, $(jq -s -r '.[0] | "\(.cause) [\(.confidence)] \(.scope.kind) \(.scope.name) limit \(.scope.limit), offender \(.offenders[0].comm // "-")"' "$WORK/$name.json")"
        echo "     $(jq -s -r '.[0].message' "$WORK/$name.json")"
    else
        echo "FAIL $name: ${problems[*]}"
        sed 's/^/     example: /' "$WORK/$name.out" | tail -8
        jq -s -c '.[0] | {cause, confidence, errno, scope, offenders: [.offenders[]?.comm], message}' "$WORK/$name.json" | sed 's/^/     first event: /'
        failed+=("$name")
    fi
    unset want
done
[ ${#failed[@]} -eq 0 ] || fail "examples not attributed as declared: ${failed[*]}"
