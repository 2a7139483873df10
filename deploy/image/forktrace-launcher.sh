#!/bin/sh
# forktrace in the container image: the jlink'd runtime with the JVM options of ./forktrace
# (scripts/setup.sh prepare_jvm_options: serial GC, bounded heap, C1 only).
exec /opt/forktrace/runtime/bin/java --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -Xmx64m -Xmn8m \
    -XX:TieredStopAtLevel=1 --sun-misc-unsafe-memory-access=allow -jar /opt/forktrace/forktrace.jar "$@"
