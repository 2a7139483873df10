# shellcheck shell=bash
# A single-node KRaft Kafka broker for the integration tests (sourced after tests/lib.sh): the broker is
# org.apache.kafka:kafka_2.13 from Maven Central (tests/kafka/pom.xml), run from the local Maven repository.
#   kafka_start PORT CONTROLLER_PORT   format a log directory under $WORK (once) and start; waits until it answers
#   kafka_stop                         SIGTERM, wait for the exit (the log directory stays for a restart)
KAFKA_PID=""
KAFKA_POM=$ROOT/tests/kafka/pom.xml

kafka_java() {
    local j
    for j in ${JAVA_HOME:+"$JAVA_HOME/bin/java"} /usr/lib/jvm/temurin-25-jdk-amd64/bin/java "$(command -v java)"; do
        [ -x "$j" ] && { echo "$j"; return; }
    done
    skip "no java for the Kafka broker"
}

kafka_classpath() {
    [ -s "$WORK/kafka.cp" ] && return 0
    mvn -B -q -f "$KAFKA_POM" dependency:build-classpath -Dmdep.outputFile="$WORK/kafka.cp" >"$WORK/kafka-mvn.log" 2>&1 ||
        { tail -20 "$WORK/kafka-mvn.log"; fail "cannot fetch the Kafka broker from Maven Central (tests/kafka/pom.xml)"; }
}

kafka_start() {
    local port=$1 controller=$2 java dir=$WORK/kafka-logs
    java=$(kafka_java)
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        fail "127.0.0.1:$port is already in use (a broker left by an earlier run?): the test needs its own broker"
    fi
    kafka_classpath
    if [ ! -f "$WORK/kafka.properties" ]; then
        cat >"$WORK/kafka.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir
num.partitions=3
auto.create.topics.enable=true
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS
        local id
        id=$("$java" -cp "$(cat "$WORK/kafka.cp")" kafka.tools.StorageTool random-uuid 2>>"$WORK/kafka.log")
        "$java" -cp "$(cat "$WORK/kafka.cp")" kafka.tools.StorageTool format -t "$id" -c "$WORK/kafka.properties" \
            >>"$WORK/kafka.log" 2>&1 || { tail -20 "$WORK/kafka.log"; fail "kafka storage format failed"; }
    fi
    "$java" -Xmx384m -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$(cat "$WORK/kafka.cp")" kafka.Kafka \
        "$WORK/kafka.properties" >>"$WORK/kafka.log" 2>&1 &
    KAFKA_PID=$!
    local i
    for i in $(seq 1 300); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            note "kafka broker (pid $KAFKA_PID) answers on 127.0.0.1:$port"
            return 0
        fi
        kill -0 "$KAFKA_PID" 2>/dev/null || { tail -30 "$WORK/kafka.log"; fail "the kafka broker exited at start"; }
        sleep 0.2
    done
    tail -30 "$WORK/kafka.log"
    fail "the kafka broker did not listen on 127.0.0.1:$port within 60 s"
}

kafka_stop() {
    [ -n "$KAFKA_PID" ] || return 0
    kill -TERM "$KAFKA_PID" 2>/dev/null || true
    local i
    for i in $(seq 1 150); do
        kill -0 "$KAFKA_PID" 2>/dev/null || break
        sleep 0.2
    done
    kill -KILL "$KAFKA_PID" 2>/dev/null || true
    wait "$KAFKA_PID" 2>/dev/null || true
    KAFKA_PID=""
}
