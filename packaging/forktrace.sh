#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# /usr/bin/forktrace of the Debian package: its own Java runtime (jlink), with the BPF object, the shim and
# the Java agent installed beside the jar. Nothing is built or installed at run time.
LIB=/usr/lib/forktrace
# libbpf attaches tracepoints through tracefs; doctor reads the lockdown mode from securityfs. systemd
# mounts both at boot; a chroot or a minimal container may not have them.
if [ "$(id -u)" -eq 0 ]; then
    [ -e /sys/kernel/tracing/events ] || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null ||
        echo "forktrace: could not mount tracefs at /sys/kernel/tracing (next step: mount -t tracefs tracefs /sys/kernel/tracing)" >&2
    [ -e /sys/kernel/security/lockdown ] || ! [ -d /sys/kernel/security ] ||
        mountpoint -q /sys/kernel/security || mount -t securityfs securityfs /sys/kernel/security 2>/dev/null || true
fi
export FORKTRACE_NATIVE_DIR="${FORKTRACE_NATIVE_DIR:-$LIB/native}"
# The JVM options of ./forktrace (scripts/setup.sh, prepare_jvm_options), with the runtime's CDS archive.
exec "$LIB/runtime/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -Xmx64m -Xmn8m \
    -XX:TieredStopAtLevel=1 --sun-misc-unsafe-memory-access=allow -Xshare:auto \
    -Dforktrace.agentJar="$LIB/forktrace-agent.jar" -jar "$LIB/forktrace.jar" "$@"
