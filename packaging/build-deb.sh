#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Builds the Debian package for production boxes: build/pkg/forktrace_VERSION_amd64.deb, holding a jlink'd
# Java runtime, the jar, the Java agent, the BPF object, the libbpf shim, a man page and a systemd unit.
# It depends only on runtime libraries (libbpf1, libelf1, zlib1g); nothing is compiled on the box.
#   packaging/build-deb.sh            build (as ./forktrace does) and package
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/../scripts/setup.sh"
setup_trap_errors
ensure_packages "${RUNTIME_PACKAGES[@]}"
find_jdk
build_if_stale

VERSION=$(sed -n '0,/<version>/s/.*<version>\([^<]*\)<\/version>.*/\1/p' "$FORKTRACE_ROOT/pom.xml")
PKG=$FORKTRACE_ROOT/build/pkg
DEB=$PKG/forktrace_${VERSION}_amd64.deb
STAGE=$PKG/root
rm -rf "$STAGE" "$DEB"
mkdir -p "$STAGE/DEBIAN" "$STAGE/usr/bin" "$STAGE/usr/lib/forktrace/native" "$STAGE/usr/share/man/man1" \
    "$STAGE/usr/lib/systemd/system" "$STAGE/usr/share/doc/forktrace"

# The modules jdeps finds in the jar and the libraries shaded into it (e.g. java.sql for gson, java.security.sasl
# for kafka-clients), plus the ones used only by reflection or by name: jdk.jfr (JFR output), jdk.unsupported
# (sun.misc.Signal, protobuf's Unsafe), and for watch --metrics the Prometheus client's HTTP server
# (jdk.httpserver) and its JVM metrics (jdk.management). A CDS archive makes the runtime start as fast as the JDK's.
FOUND=$("$JAVA_HOME/bin/jdeps" --print-module-deps --ignore-missing-deps --multi-release "$(java_feature_version "$JAVA_HOME")" \
    "$FORKTRACE_JAR" 2>/dev/null | tail -1) || setup_failed "jdeps $FORKTRACE_JAR" "run it by hand to see why, then run this again"
MODULES=$(printf '%s\n' ${FOUND//,/ } jdk.jfr jdk.unsupported jdk.httpserver jdk.management | sort -u | paste -sd,)
say "jlink: a Java $(java_feature_version "$JAVA_HOME") runtime with $MODULES"
"$JAVA_HOME/bin/jlink" --add-modules "$MODULES" --output "$STAGE/usr/lib/forktrace/runtime" \
    --strip-debug --no-man-pages --no-header-files --compress=zip-6 --generate-cds-archive ||
    setup_failed "jlink of the Java runtime" "check that $JAVA_HOME is a full JDK (it needs the jmods), then run this again"
# The runtime's legal notices belong in the package's documentation too.
install -m 0644 "$FORKTRACE_JAR" "$STAGE/usr/lib/forktrace/forktrace.jar"
install -m 0644 "$FORKTRACE_AGENT_JAR" "$STAGE/usr/lib/forktrace/forktrace-agent.jar"
install -m 0644 "$FORKTRACE_ROOT/build/out/forktrace.bpf.o" "$STAGE/usr/lib/forktrace/native/"
install -m 0644 "$FORKTRACE_ROOT/build/out/libforktrace_shim.so" "$STAGE/usr/lib/forktrace/native/"
strip --strip-unneeded "$STAGE/usr/lib/forktrace/native/libforktrace_shim.so"
install -m 0755 "$FORKTRACE_ROOT/packaging/forktrace.sh" "$STAGE/usr/bin/forktrace"
install -m 0644 "$FORKTRACE_ROOT/packaging/forktrace.service" "$STAGE/usr/lib/systemd/system/forktrace.service"
sed "s/@VERSION@/$VERSION/" "$FORKTRACE_ROOT/packaging/forktrace.1" | gzip -9n >"$STAGE/usr/share/man/man1/forktrace.1.gz"
install -m 0644 "$FORKTRACE_ROOT/LICENSE" "$STAGE/usr/share/doc/forktrace/copyright"

# Maintainer scripts: the unit is made known to systemd but not enabled (a tracer is started on purpose);
# purge removes the recordings the service made, so nothing of forktrace is left.
cat >"$STAGE/DEBIAN/postinst" <<'SCRIPT'
#!/bin/sh
set -e
if [ "$1" = configure ] && [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
SCRIPT
cat >"$STAGE/DEBIAN/prerm" <<'SCRIPT'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then systemctl stop forktrace.service 2>/dev/null || true; fi
SCRIPT
cat >"$STAGE/DEBIAN/postrm" <<'SCRIPT'
#!/bin/sh
set -e
if [ "$1" = purge ]; then
    if [ -d /run/systemd/system ]; then systemctl disable forktrace.service 2>/dev/null || true; fi
    rm -rf /var/lib/forktrace /run/forktrace
    rm -f /etc/systemd/system/multi-user.target.wants/forktrace.service
fi
if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
SCRIPT
chmod 0755 "$STAGE/DEBIAN/postinst" "$STAGE/DEBIAN/prerm" "$STAGE/DEBIAN/postrm"

SIZE=$(du -sk "$STAGE/usr" | cut -f1)
cat >"$STAGE/DEBIAN/control" <<CONTROL
Package: forktrace
Version: $VERSION
Architecture: amd64
Maintainer: forktrace developers <forktrace@localhost>
Depends: libc6 (>= 2.34), libbpf1 (>= 1:1.1), libelf1, zlib1g
Section: admin
Priority: optional
Installed-Size: $SIZE
Homepage: https://github.com/forktrace/forktrace
Description: say why fork, clone and thread creation fail, and who is to blame
 An eBPF probe for Linux 5.8+ with BTF: for every failed fork, clone or thread
 creation it reports the limit that refused it (pids cgroup, RLIMIT_NPROC,
 threads-max, pid namespace, memory cgroup, overcommit, ...), its scope and the
 processes holding it. Brings its own Java runtime; needs no compiler or JDK.
CONTROL
dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$DEB" >/dev/null ||
    setup_failed "dpkg-deb --build $STAGE" "see the message above, then run packaging/build-deb.sh again"
rm -rf "$STAGE"
say "built $DEB ($(du -h "$DEB" | cut -f1))"
echo "$DEB"
