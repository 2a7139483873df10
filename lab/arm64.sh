# shellcheck shell=bash
# The arm64 column of the kernel lab (sourced by lab/run): Debian's arm64 cloud kernel under
# qemu-system-aarch64 (TCG), a guest userland of Debian arm64 packages unpacked with dpkg -x, a Java
# runtime jlink'd from Debian 13's openjdk-25 arm64 jmods, and forktrace's BPF object and shim
# cross-built (cmake/aarch64-linux-gnu.cmake) against the kernel's own BTF. Nothing is installed on
# the host: every arm64 package goes through a private apt directory and the lab cache.

ARM64_DIR=$CACHE_DIR/arm64
ARM64_APT_DIR=$ARM64_DIR/apt
ARM64_APT_OPTS=(-o "Dir::Etc::SourceList=$ARM64_APT_DIR/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$ARM64_APT_DIR/lists" -o "Dir::Cache=$ARM64_APT_DIR/cache"
	-o Dir::State::status=/dev/null -o APT::Architecture=arm64 -o APT::Architectures=arm64
	-o Debug::NoLocking=1 -o Acquire::Languages=none -o APT::Sandbox::User=root -q)
ARM64_APT_UPDATED=0
# The guest's userland: Debian 13 (its glibc is what openjdk-25 needs), busybox from Debian 12 (the
# host's busybox version, whose applet list lab/run links). libbpf and libelf from Debian 12: the
# versions the x86_64 build links, and what the shim is cross-built against (ARM64_SYSROOT_PACKAGES).
ARM64_GUEST_PACKAGES=(libc6/trixie libgcc-s1/trixie libstdc++6/trixie zlib1g/trixie bash/trixie libtinfo6/trixie
	jq/trixie libjq1/trixie libonig5/trixie busybox-static/bookworm libbpf1/bookworm libelf1/bookworm)
ARM64_SYSROOT_PACKAGES=(libbpf-dev/bookworm libbpf1/bookworm libelf-dev/bookworm libelf1/bookworm
	zlib1g-dev/bookworm zlib1g/bookworm)
ARM64_JDK_PACKAGE=openjdk-25-jdk-headless # Debian 13 (and its security updates); its jmods/ are jlink's input
# qemu's virt board; cortex-a57 (ARMv8.0) because TCG emulates its instructions fastest (-cpu max adds
# pointer authentication, which TCG computes in software on every call and return).
ARM64_QEMU_CPU=${FORKTRACE_LAB_ARM64_CPU:-cortex-a57}

arm64_apt_update() {
	((ARM64_APT_UPDATED)) && return 0
	mkdir -p "$ARM64_APT_DIR/lists/partial" "$ARM64_APT_DIR/cache/archives/partial"
	{
		echo "deb [arch=arm64 signed-by=$KEYRING] $DEBIAN_MIRROR/debian bookworm main"
		echo "deb [arch=arm64 signed-by=$KEYRING] $DEBIAN_MIRROR/debian trixie main"
		echo "deb [arch=arm64 signed-by=$KEYRING] $DEBIAN_MIRROR/debian-security trixie-security main"
	} >"$ARM64_APT_DIR/sources.list"
	log "updating private arm64 apt lists in $ARM64_APT_DIR (host apt configuration untouched)"
	apt-get "${ARM64_APT_OPTS[@]}" update >"$ARM64_APT_DIR/update.log" 2>&1 ||
		{ tail -20 "$ARM64_APT_DIR/update.log" >&2; die "apt-get update (arm64) failed (log: $ARM64_APT_DIR/update.log)"; }
	ARM64_APT_UPDATED=1
}

# arm64_extract_btf VMLINUZ OUT: the kernel's .BTF section, found in the uncompressed arm64 Image by
# its header (magic 0xeB9F, version 1, 24-byte header, types then strings), for vmlinux.h.
arm64_extract_btf() {
	python3 - "$1" "$2" <<'EOF' || die "no BTF found in $1 (the lab needs a kernel with CONFIG_DEBUG_INFO_BTF)"
import struct, sys
image = open(sys.argv[1], "rb").read()
at = image.find(b"\x9f\xeb\x01\x00")
while at >= 0:
    hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from("<5I", image, at + 4)
    if hdr_len == 24 and type_off == 0 and str_off == type_len and type_len > 0 and str_len > 0:
        open(sys.argv[2], "wb").write(image[at:at + hdr_len + str_off + str_len])
        sys.exit(0)
    at = image.find(b"\x9f\xeb\x01\x00", at + 1)
sys.exit(1)
EOF
}

# arm64_packages DIR PACKAGE[/SUITE]...: unpacks the packages into DIR, cached while apt would fetch the
# same files (DIR/PACKAGES lists them). Lists are updated when missing, when a package is not in
# them, or with --refresh.
arm64_packages() {
	local dir=$1
	shift
	local want
	# Versions change only when the lists do: the same packages unpacked after the last update are current.
	if ! ((REFRESH)) && [[ -f $dir/PACKAGES && $(cat "$dir/ARGS" 2>/dev/null) == "$*" &&
		! $ARM64_APT_DIR/lists -nt $dir/PACKAGES ]]; then
		return 0
	fi
	((REFRESH)) && arm64_apt_update
	if ! want=$(apt-get "${ARM64_APT_OPTS[@]}" download --print-uris "$@" 2>/dev/null | awk '{print $2}') || [[ -z $want ]]; then
		arm64_apt_update
		want=$(apt-get "${ARM64_APT_OPTS[@]}" download --print-uris "$@" | awk '{print $2}') ||
			die "arm64 packages not in the Debian index: $*"
	fi
	if [[ -f $dir/PACKAGES && $(cat "$dir/PACKAGES") == "$want" ]]; then echo "$*" >"$dir/ARGS"; touch "$dir/PACKAGES"; return 0; fi
	local tmp
	mkdir -p "$ARM64_DIR"
	tmp=$(mktemp -d "$ARM64_DIR/fetch.XXXXXX")
	(cd "$tmp" && apt-get "${ARM64_APT_OPTS[@]}" download "$@" >download.log 2>&1) ||
		{ tail -5 "$tmp/download.log" >&2; rm -rf "$tmp"; die "cannot download arm64 packages: $*"; }
	mkdir -p "$tmp/root"
	local deb
	for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$tmp/root"; done
	echo "$*" >"$tmp/root/ARGS"
	echo "$want" >"$tmp/root/PACKAGES"
	rm -rf "$dir" && mkdir -p "$(dirname "$dir")" && mv "$tmp/root" "$dir" && rm -rf "$tmp"
	log "cached arm64 packages in $dir: $*"
}

# arm64_sysroot: Debian's arm64 libbpf, libelf and zlib (headers and libraries) for the cross build.
# Absolute symlinks (libz.so -> /lib/...) are re-pointed into the directory.
arm64_sysroot() {
	local dir=$ARM64_DIR/sysroot l
	arm64_packages "$dir" "${ARM64_SYSROOT_PACKAGES[@]}"
	while read -r l; do ln -sfn "$dir$(readlink "$l")" "$l"; done < <(find "$dir" -type l -lname '/*')
	echo "$dir"
}

# arm64_native_build: forktrace's BPF object and shim for arm64 in build-arm64/out (incremental, like
# build/), against the arm64 lab kernel's BTF. Prints the output directory.
arm64_native_build() {
	local sysroot btf=$CACHE_DIR/kernels/6.12-arm64/btf build=$REPO_DIR/build-arm64
	sysroot=$(arm64_sysroot)
	[[ -s $btf ]] || die "no BTF of the arm64 kernel at $btf (lab/run --kernel 6.12-arm64 --fetch-only extracts it)"
	{
		cmake -S "$REPO_DIR" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$REPO_DIR/cmake/aarch64-linux-gnu.cmake" \
			-DFORKTRACE_ARM64_SYSROOT="$sysroot" -DVMLINUX_BTF="$btf" -DCMAKE_BUILD_TYPE=Release &&
			cmake --build "$build" -j2
	} >"$ARM64_DIR/native-build.log" 2>&1 ||
		{ tail -20 "$ARM64_DIR/native-build.log" >&2; die "the arm64 cross build failed (log: $ARM64_DIR/native-build.log)"; }
	echo "$build/out"
}

# arm64_java_runtime: a runtime jlink'd by the host's JDK from Debian's arm64 jmods (jlink links for
# the platform of the java.base it is given), cached per JDK package version and module list. No CDS
# archive: generating one runs the target's java; the guest's first JVM writes the dynamic archive.
arm64_java_runtime() {
	local jdk=$ARM64_DIR/jdk modules=$1
	arm64_packages "$jdk" "$ARM64_JDK_PACKAGE"
	local jmods
	jmods=$(echo "$jdk"/usr/lib/jvm/java-*-openjdk-arm64/jmods)
	[[ -f $jmods/java.base.jmod ]] || die "no java.base.jmod in $ARM64_JDK_PACKAGE (looked in $jmods)"
	local key dir
	key=$(printf "%s %s" "$(cat "$jdk/PACKAGES")" "$modules" | md5sum | cut -c1-12)
	dir=$CACHE_DIR/jre/arm64-$key
	if [[ ! -x $dir/bin/java ]]; then
		log "jlink arm64 (from $jmods): $modules"
		rm -rf "$dir.tmp" && mkdir -p "$(dirname "$dir")"
		"$JDK_HOME/bin/jlink" --module-path "$jmods" --add-modules "$modules" --strip-java-debug-attributes \
			--strip-native-debug-symbols=objcopy="$(command -v aarch64-linux-gnu-objcopy)" --no-header-files --no-man-pages \
			--output "$dir.tmp" >&2 || die "jlink for arm64 failed"
		rm -rf "$dir" && mv "$dir.tmp" "$dir"
	fi
	echo "$dir"
}

# arm64_userland ROOT: the guest's arm64 programs and libraries, busybox's applet links, /bin/bash.
arm64_userland() {
	local root=$1 guest=$ARM64_DIR/guest applet
	arm64_packages "$guest" "${ARM64_GUEST_PACKAGES[@]}"
	cp -a "$guest/." "$root/"
	# documentation, translations and iconv modules: a quarter of the unpacked packages, unused here
	rm -rf "$root/PACKAGES" "$root/ARGS" "$root"/usr/share/{doc,man,info,locale,lintian,bash-completion} \
		"$root"/usr/lib/aarch64-linux-gnu/gconv
	# Debian 13 is merged-/usr (base-files makes /lib a link, not unpacked here): the ELF interpreter
	# path /lib/ld-linux-aarch64.so.1 must exist.
	[[ -e $root/lib/ld-linux-aarch64.so.1 ]] || { mkdir -p "$root/lib"; ln -sfn ../usr/lib/ld-linux-aarch64.so.1 "$root/lib/ld-linux-aarch64.so.1"; }
	[[ -e $root/bin/bash ]] || ln -sfn /usr/bin/bash "$root/bin/bash"
	for applet in $(busybox --list-full); do
		[[ -e $root/$applet || -L $root/$applet ]] || ln -s /bin/busybox "$root/$applet"
	done
}
