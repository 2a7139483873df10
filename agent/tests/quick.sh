#!/bin/bash
# usage: quick.sh JAVA_HOME ; runs ThreadBomb with the agent in a pids cgroup, listener via python
set -u
JH=$1; D=$(dirname "$(readlink -f "$0")"); JAR=$D/../target/forktrace-agent.jar
W=$(mktemp -d); CG=/sys/fs/cgroup/pids/ft-agent-$$
"$JH/bin/javac" -d "$W" "$D/ThreadBomb.java" || exit 1
python3 -c '
import socket,sys,os
s=socket.socket(socket.AF_UNIX,socket.SOCK_STREAM); s.bind(sys.argv[1]); s.listen(4); s.settimeout(60)
c,_=s.accept(); data=b""
while True:  # the agent says hello, reports, and closes when the JVM exits
    d=c.recv(65536)
    if not d: break
    data+=d
open(sys.argv[2],"wb").write(data)' "$W/agent.sock" "$W/report.json" &
LP=$!
mkdir "$CG" && echo 60 > "$CG/pids.max"
sleep 0.5
bash -c "echo \$\$ > $CG/cgroup.procs; exec $JH/bin/java -javaagent:$JAR -Dforktrace.agent.socket=$W/agent.sock -cp $W ThreadBomb" > "$W/out.txt" 2>"$W/err.txt"
echo "exit=$?"
wait $LP; rmdir "$CG"
cat "$W/out.txt"; grep forktrace-agent "$W/err.txt"; cat "$W/report.json"; echo
