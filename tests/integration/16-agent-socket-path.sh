#!/usr/bin/env bash
# --agent-socket PATH replaces only a stale socket: a regular file, a directory, a FIFO or a symbolic link
# at PATH is refused (exit 2) and left as it was; a missing directory is refused, not created; a socket
# left by a killed forktrace is replaced.
source "$(dirname "$0")/../lib.sh"

# refused KIND PATH: watch and run refuse PATH with exit 2, naming what is there
refused() {
    local kind=$1 path=$2 rc
    for cmd in "watch --duration 1" "run -- true"; do
        rc=0; "$FORKTRACE" ${cmd%% *} --agent-socket "$path" ${cmd#* } >"$WORK/out" 2>&1 || rc=$?
        expect_eq "${cmd%% *} --agent-socket on $kind: exit" 2 "$rc"
        grep -q "^forktrace: --agent-socket: cannot listen on $path: .*$kind, not a socket" "$WORK/out" \
            || fail "${cmd%% *}: the message does not say what is at $path: $(cat "$WORK/out")"
    done
    note "$(cat "$WORK/out")"
}

echo precious >"$WORK/important.txt"
refused "a regular file" "$WORK/important.txt"
expect_eq "the regular file is intact" precious "$(cat "$WORK/important.txt")"

mkdir "$WORK/dir" && touch "$WORK/dir/keep"
refused "a directory" "$WORK/dir"
[ -f "$WORK/dir/keep" ] || fail "the directory was emptied"

mkfifo "$WORK/fifo"
refused "a FIFO" "$WORK/fifo"
[ -p "$WORK/fifo" ] || fail "the FIFO was removed"

ln -s "$WORK/important.txt" "$WORK/link"
refused "a symbolic link" "$WORK/link"
[ -L "$WORK/link" ] && [ "$(cat "$WORK/important.txt")" = precious ] || fail "the link or its target was touched"

# a directory the user named is never created
rc=0; "$FORKTRACE" watch --agent-socket "$WORK/missing/dir/s.sock" --duration 1 >"$WORK/out" 2>&1 || rc=$?
expect_eq "missing directory: exit" 2 "$rc"
grep -q "its directory $WORK/missing/dir does not exist" "$WORK/out" || fail "message: $(cat "$WORK/out")"
[ ! -e "$WORK/missing" ] || fail "forktrace created $WORK/missing"
note "$(cat "$WORK/out")"

# a socket left behind by a SIGKILLed forktrace is stale: the next forktrace replaces it
start_watch_raw --agent-socket "$WORK/agent.sock"
kill -KILL "$WATCH_PID"; wait "$WATCH_PID" 2>/dev/null || true; WATCH_PID=""
[ -S "$WORK/agent.sock" ] || fail "no stale socket left by the killed watch"
rc=0; "$FORKTRACE" watch --agent-socket "$WORK/agent.sock" --duration 1 >/dev/null 2>"$WORK/out" || rc=$?
expect_eq "stale socket: exit" 0 "$rc"
grep -q "agent socket $WORK/agent.sock listening" "$WORK/out" || fail "stale socket not replaced: $(cat "$WORK/out")"
[ ! -e "$WORK/agent.sock" ] || fail "the socket is left behind after a clean stop"
