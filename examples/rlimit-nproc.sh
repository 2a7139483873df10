#!/usr/bin/env bash
# RLIMIT_NPROC counts every task of a user: one process of the user holds 20, so another process of the
# same user with `ulimit -u 23` can fork only twice before EAGAIN. Root is exempt, so this runs as a
# temporary unprivileged user.
# expect.cause=RLIMIT_NPROC
# expect.scope.kind=USER
# expect.scope.limit=23
# expect.offender.comm=holder
# expect.errno=EAGAIN
# expect.process=forkloop
source "$(dirname "$0")/lib.sh"
user=forktrace-ex
ex_extra_cleanup() { pkill -KILL -u "$user" 2>/dev/null || true; sleep 0.2; userdel "$user" 2>/dev/null || true; }
id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
uid=$(id -u "$user")
should_say "RLIMIT_NPROC for uid $uid ($user): 23 tasks against ulimit -u 23; 'holder' of the same user holds 20"
expect scope.name "uid $uid ($user)"
as_user=(setpriv --reuid="$uid" --regid="$uid" --clear-groups)
start_holder "" 20 "${as_user[@]}"
"${as_user[@]}" prlimit --nproc=23:23 -- "$BIN/forkloop" 10 1
