#!/usr/bin/env bash
# NAMESPACE_LIMIT names the exact limit and its value (issue 12, item 15; was: "a namespace limit
# (user.max_*_namespaces or nesting depth)", limit -1). Inside a user namespace of its own (unshare -U -r),
# this test sets user.max_pid_namespaces to 0 (user.max_* are per user namespace: the host's limit is not
# touched), then clone(CLONE_NEWPID) fails with ENOSPC; forktrace names user.max_pid_namespaces = 0.
# The next case sets the limit in the outer namespace and clones from a namespace nested in it: the
# limit is named with the level it was hit at.
source "$(dirname "$0")/../lib.sh"
command -v perl >/dev/null || fail "perl (perl-base, in every Debian) is needed to call clone(2) directly"
cp "$(command -v perl)" "$WORK/ft12b-nsclone" # its comm is the filter
start_watch --comm ft12b-nsclone
host_limit=$(cat /proc/sys/user/max_pid_namespaces)
CLONE='my $r = syscall(56, 0x20000000 | 17, 0, 0, 0, 0); if ($r == 0) { exit 0 } print "clone=$r errno=", $!+0, "\n"'
unshare -U -r sh -c 'echo 0 >/proc/sys/user/max_pid_namespaces && exec "$0" -e "$1"' "$WORK/ft12b-nsclone" "$CLONE" \
    >"$WORK/clone.out" 2>&1
grep -q "^clone=-1 errno=28" "$WORK/clone.out" || fail "clone(CLONE_NEWPID) did not fail with ENOSPC: $(cat "$WORK/clone.out")"
unshare -U -r sh -c 'echo 0 >/proc/sys/user/max_pid_namespaces && exec unshare -U -r "$0" -e "$1"' \
    "$WORK/ft12b-nsclone" "$CLONE" >"$WORK/nested.out" 2>&1
grep -q "^clone=-1 errno=28" "$WORK/nested.out" || fail "nested clone did not fail with ENOSPC: $(cat "$WORK/nested.out")"
stop_watch
expect_eq "the host's user.max_pid_namespaces is untouched" "$host_limit" "$(cat /proc/sys/user/max_pid_namespaces)"
expect_eq "events" 2 "$(events | jq -s length)"
first=$(events | jq -s -c '.[0]')
note "$(jq -r .message <<<"$first")"
expect_eq "cause" NAMESPACE_LIMIT "$(jq -r .cause <<<"$first")"
expect_eq "errno" ENOSPC "$(jq -r .errno <<<"$first")"
expect_eq "scope.limit" 0 "$(jq -r '.scope.limit // 0' <<<"$first")"
jq -r .scope.name <<<"$first" | grep -q '^user.max_pid_namespaces of user namespace [0-9]' \
    || fail "the scope does not name the limit: $(jq -r .scope.name <<<"$first")"
jq -r .message <<<"$first" | grep -q '^ENOSPC: user.max_pid_namespaces = 0 ' || fail "message: $(jq -r .message <<<"$first")"
nested=$(events | jq -s -c '.[1]')
note "$(jq -r .message <<<"$nested")"
jq -r .scope.name <<<"$nested" | grep -q '^user.max_pid_namespaces of the user namespace 1 level(s) above user namespace' \
    || fail "the nested case does not say where the limit was hit: $(jq -r .scope.name <<<"$nested")"
