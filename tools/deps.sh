#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# Makes sure the Debian packages a make target needs are installed.
# Usage: deps.sh build|all|pictures|plots|gdb|model|fuzz|sdimg ARCH
#        deps.sh peer ARCH DIR
#        deps.sh grub-arm64 DIR
#        deps.sh raspi DIR
#   build: what compiling needs; all: also what booting and testing need;
#   pictures: what `make pictures` needs (graphviz), whatever ARCH;
#   plots: what `make dma-plot`, `make trace` and `make bench` add to `all`
#   (matplotlib), whatever ARCH;
#   gdb: what `make gdb-check` adds to `all` (gdb-multiarch), whatever ARCH;
#   sdimg: what `make sdimg` needs (sfdisk, mkfs.vfat, mtools), whatever ARCH;
#   model: what `make model` needs (spin and a host gcc), whatever ARCH;
#   grub-arm64: GRUB's arm64 EFI build (`make iso ARCH=aarch64`) unpacked
#   under DIR (DIR/usr/lib/grub/arm64-efi). Debian ships grub-efi-arm64-bin
#   for arm64 only, so it is downloaded with a private apt configuration
#   (its own lists and cache, the archive's address read from the machine's
#   apt sources) and unpacked with dpkg -x; the system's apt state is not
#   touched, and root is not needed.
#   raspi: the Raspberry Pi boot files under DIR, the same way: the board
#   DTBs bcm2837-rpi-3-b.dtb and bcm2711-rpi-4-b.dtb from the arm64 kernel
#   package (linux-image-arm64 names the versioned one) into DIR/dtb, and
#   raspi-firmware (component non-free-firmware) unpacked into DIR/firmware.
#   fuzz: what `make fuzz` needs (clang-14 and its libFuzzer runtime), whatever ARCH.
#   peer ARCH DIR: what `make peer-bench ARCH=...` boots beside Pagoda, under DIR:
#   Debian 12's Linux 6.1 (DIR/vmlinuz, DIR/config, DIR/uname: the newest
#   6.1 that linux-image-cloud-amd64 or linux-image-cloud-arm64 names in
#   bookworm and bookworm-security) and busybox-static (DIR/busybox), both
#   for ARCH, fetched like grub-arm64 (private apt, apt-get download,
#   dpkg-deb -x; nothing is installed on the host). It also checks the
#   static C toolchain for tools/peer/peerbench.c. Cached: done once.
# As root it installs what is missing with apt-get; otherwise it names the
# missing packages and the exact command, and fails.
#
# QEMU must be 10.0 or newer. Debian 12 ships 7.2; the bookworm-backports
# suite of the same archive ships 10.0. When only an older QEMU is here, the
# suite is added to apt's sources (its address is read from the machine's
# own Debian source, never written into this tree) and only the QEMU
# packages are installed from it; everything else stays on bookworm.
set -eu
what=$1
arch=$2
missing=""
qemu_pkgs=""
QEMU_MIN_MAJOR=10
BACKPORTS_LIST=/etc/apt/sources.list.d/pagoda-bookworm-backports.sources

need_cmd() { # need_cmd COMMAND PACKAGE
	command -v "$1" >/dev/null 2>&1 || missing="$missing $2"
}
need_file() { # need_file PATH PACKAGE
	[ -e "$1" ] || missing="$missing $2"
}
qemu_major() { # qemu_major BINARY: prints the major version, or 0
	"$1" --version 2>/dev/null | sed -n 's/^QEMU emulator version \([0-9]*\)\..*/\1/p' | head -n 1 | grep . || echo 0
}
need_pymod() { # need_pymod MODULE PACKAGE: in python3, or Debian's own (python3 may be another)
	python3 -c "import $1" >/dev/null 2>&1 || /usr/bin/python3 -c "import $1" >/dev/null 2>&1 ||
		missing="$missing $2"
}
need_qemu() { # need_qemu BINARY PACKAGE
	if [ "$(qemu_major "$1")" -lt $QEMU_MIN_MAJOR ]; then
		qemu_pkgs="$qemu_pkgs $2"
	fi
}

need_cmd make make
need_cmd python3 python3
if [ "$what" = pictures ]; then
	need_cmd dot graphviz
	arch=none
fi
if [ "$what" = plots ]; then
	need_pymod matplotlib python3-matplotlib
	arch=none
fi
if [ "$what" = gdb ]; then
	need_cmd gdb-multiarch gdb-multiarch
	arch=none
fi
if [ "$what" = fuzz ]; then
	need_cmd clang-14 clang-14
	# shellcheck disable=SC2046 # the glob names the runtime whatever clang-14's point release
	set -- /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a
	need_file "$1" libclang-rt-14-dev
	arch=none
fi
if [ "$what" = sdimg ]; then
	need_cmd sfdisk fdisk
	need_cmd mkfs.vfat dosfstools
	need_cmd mcopy mtools
	arch=none
fi
if [ "$what" = model ]; then
	need_cmd spin spin
	need_cmd gcc gcc
	arch=none
fi
case "$arch" in
x86_64)
	need_cmd gcc gcc
	# the screen console's font, turned into C at build time
	need_file /usr/share/consolefonts/Lat15-Fixed16.psf.gz console-setup-linux
	if [ "$what" = all ]; then
		need_qemu qemu-system-x86_64 qemu-system-x86
		need_cmd grub-mkrescue grub-common
		need_file /usr/lib/grub/i386-pc grub-pc-bin
		need_file /usr/lib/grub/x86_64-efi grub-efi-amd64-bin
		need_cmd xorriso xorriso
		need_cmd mformat mtools
		need_file /usr/share/OVMF/OVMF_CODE.fd ovmf
	fi
	;;
aarch64)
	need_cmd aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu
	need_cmd aarch64-linux-gnu-objcopy binutils-aarch64-linux-gnu
	# the screen console's font, turned into C at build time
	need_file /usr/share/consolefonts/Lat15-Fixed16.psf.gz console-setup-linux
	if [ "$what" = all ]; then
		need_qemu qemu-system-aarch64 qemu-system-arm
		need_cmd dtc device-tree-compiler
		# the host test of arch/aarch64/mem.S: a static arm64 program under qemu-user
		need_cmd qemu-aarch64-static qemu-user-static
		need_file /usr/aarch64-linux-gnu/lib/libc.a libc6-dev-arm64-cross
		# the other host tests (tools/host_test.mk) are built with the host's gcc
		need_cmd gcc gcc
		# FIRMWARE=uefi: edk2 for virt, and what grub-mkrescue needs for the ISO
		# (GRUB's arm64 modules themselves come from `deps.sh grub-arm64`)
		need_file /usr/share/qemu-efi-aarch64/QEMU_EFI.fd qemu-efi-aarch64
		need_cmd grub-mkrescue grub-common
		need_cmd xorriso xorriso
		need_cmd mformat mtools
	fi
	;;
esac

[ "$what" != grub-arm64 ] && [ "$what" != raspi ] && [ "$what" != peer ] && [ -z "$missing" ] && [ -z "$qemu_pkgs" ] && exit 0
# Several commands can come from one package: list each once.
missing=$(echo $missing | tr ' ' '\n' | sort -u | tr '\n' ' ')
missing=" ${missing% }" # one leading space: the messages print "...:$missing" and "-y$missing"
qemu_pkgs=$(echo $qemu_pkgs | tr ' ' '\n' | sort -u | tr '\n' ' ')

# The Debian archive's address, as the machine's own apt sources name it
# (deb822 .sources files first, then the one-line format).
archive_uri() {
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk '/^URIs:/ { uri = $2 } /^Suites:/ && / bookworm( |$)/ { found = 1 }
		     /^$/ { if (found && uri) { print uri; exit } uri = ""; found = 0 }
		     END { if (found && uri) print uri }' "$f" | head -n 1
	done | head -n 1 | grep . && return 0
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk '$1 == "deb" && $0 ~ / bookworm / { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; exit } }' "$f"
	done | head -n 1 | grep .
}

# The address of the machine's bookworm-security source, if it has one.
security_uri() {
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk '/^URIs:/ { uri = $2 } /^Suites:/ && / bookworm-security( |$)/ { found = 1 }
		     /^$/ { if (found && uri) { print uri; exit } uri = ""; found = 0 }
		     END { if (found && uri) print uri }' "$f" | head -n 1
	done | head -n 1 | grep .
}

# Private apt: downloads Debian packages for arm64 (or all) into the
# current directory with its own lists and cache under $tmp, never the
# system's. apt_private_init COMPONENTS [ARCH [security]] sets $apt_o; then
# apt-get $apt_o ... ARCH defaults to arm64; "security" adds the machine's
# bookworm-security suite (where Debian's kernel updates are).
apt_private_init() {
	uri=$(archive_uri) || {
		echo "deps: $what: no Debian bookworm source in /etc/apt to download from" >&2
		exit 1
	}
	parch=${2:-arm64}
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/parts"
	printf 'Types: deb\nURIs: %s\nSuites: bookworm\nComponents: %s\nArchitectures: %s\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
		"$uri" "$1" "$parch" >"$tmp/parts/private.sources"
	if [ "${3:-}" = security ] && suri=$(security_uri); then
		printf '\nTypes: deb\nURIs: %s\nSuites: bookworm-security\nComponents: %s\nArchitectures: %s\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
			"$suri" "$1" "$parch" >>"$tmp/parts/private.sources"
	fi
	apt_o="-o APT::Architecture=$parch -o APT::Architectures=$parch -o Dir::Etc::SourceList=/dev/null"
	apt_o="$apt_o -o Dir::Etc::SourceParts=$tmp/parts -o Dir::State::Lists=$tmp/lists -o Dir::Cache=$tmp/cache"
	# as root, apt would hand the download to its _apt user, who cannot write $tmp
	[ "$(id -u)" = 0 ] && apt_o="$apt_o -o APT::Sandbox::User=root"
	# shellcheck disable=SC2086
	apt-get -qq $apt_o update >/dev/null || {
		echo "deps: $what: apt-get update failed for $uri" >&2
		exit 1
	}
}
apt_private_download() { # apt_private_download PACKAGE...: the .debs land in $tmp
	# shellcheck disable=SC2086
	(cd "$tmp" && apt-get -qq $apt_o download "$@") || {
		echo "deps: $what: apt-get could not download $* from $uri" >&2
		exit 1
	}
}

# versioned_kernel META REGEX: sets $kpkg to the versioned kernel package
# (matching REGEX) that the metapackage META depends on in the private apt.
versioned_kernel() {
	# shellcheck disable=SC2086
	kpkg=$(apt-cache $apt_o depends "$1" | sed -n "s/^ *Depends: \($2\)\$/\1/p" | head -n 1)
	[ -n "$kpkg" ] || {
		echo "deps: $what: $1 names no versioned kernel matching $2" >&2
		exit 1
	}
}

# grub-arm64 DIR: download and unpack grub-efi-arm64-bin into DIR (see the top).
if [ "$what" = grub-arm64 ]; then
	dir=$arch
	[ -d "$dir/usr/lib/grub/arm64-efi" ] && exit 0
	need_cmd grub-mkrescue grub-common
	need_cmd xorriso xorriso
	need_cmd mformat mtools
	need_cmd apt-get apt
	need_cmd dpkg dpkg
	if [ -n "$(echo $missing)" ]; then
		echo "deps: grub-arm64 needs:$missing (install them first: make deps ARCH=aarch64)" >&2
		exit 1
	fi
	apt_private_init main
	echo "deps: downloading grub-efi-arm64-bin (arm64) from $uri into $dir"
	apt_private_download grub-efi-arm64-bin
	mkdir -p "$dir"
	dpkg -x "$tmp"/grub-efi-arm64-bin_*.deb "$dir"
	[ -d "$dir/usr/lib/grub/arm64-efi" ] || {
		echo "deps: grub-arm64: the package has no usr/lib/grub/arm64-efi" >&2
		exit 1
	}
	exit 0
fi

# raspi DIR: the Pi DTBs and firmware (see the top). Cached: done once.
if [ "$what" = raspi ]; then
	dir=$arch
	[ -f "$dir/dtb/bcm2711-rpi-4-b.dtb" ] && [ -f "$dir/firmware/start4.elf" ] && exit 0
	need_cmd apt-get apt
	need_cmd dpkg dpkg
	if [ -n "$(echo $missing)" ]; then
		echo "deps: raspi needs:$missing" >&2
		exit 1
	fi
	apt_private_init "main non-free-firmware"
	versioned_kernel linux-image-arm64 'linux-image-[0-9][^ ]*-arm64'
	echo "deps: downloading $kpkg and raspi-firmware (arm64) from $uri into $dir"
	apt_private_download "$kpkg" raspi-firmware
	mkdir -p "$dir/dtb" "$dir/firmware" "$tmp/x"
	dpkg-deb --fsys-tarfile "$tmp/$kpkg"_*.deb |
		tar -x -C "$tmp/x" --wildcards '*/broadcom/bcm2837-rpi-3-b.dtb' '*/broadcom/bcm2711-rpi-4-b.dtb'
	find "$tmp/x" -name 'bcm2*.dtb' -exec cp {} "$dir/dtb/" \;
	dpkg -x "$tmp"/raspi-firmware_*.deb "$tmp/fw"
	fw=$(dirname "$(find "$tmp/fw" -name start4.elf | head -n 1)")
	[ -f "$fw/start4.elf" ] || {
		echo "deps: raspi: raspi-firmware has no start4.elf" >&2
		exit 1
	}
	cp "$fw"/bootcode.bin "$fw"/start*.elf "$fw"/fixup*.dat "$dir/firmware/"
	for f in dtb/bcm2837-rpi-3-b.dtb dtb/bcm2711-rpi-4-b.dtb firmware/bootcode.bin; do
		[ -f "$dir/$f" ] || {
			echo "deps: raspi: $f missing after unpacking" >&2
			exit 1
		}
	done
	exit 0
fi

# peer ARCH DIR: Debian's Linux 6.1 and busybox for make peer-bench (see the top).
if [ "$what" = peer ]; then
	dir=${3:?deps.sh peer ARCH DIR}
	case "$arch" in
	x86_64)
		darch=amd64 cc=gcc
		need_file /usr/lib/x86_64-linux-gnu/libc.a libc6-dev
		;;
	aarch64)
		darch=arm64 cc=aarch64-linux-gnu-gcc
		need_file /usr/aarch64-linux-gnu/lib/libc.a libc6-dev-arm64-cross
		;;
	*)
		echo "deps: peer: ARCH=$arch: choose x86_64 or aarch64" >&2
		exit 1
		;;
	esac
	need_cmd "$cc" "$([ $darch = amd64 ] && echo gcc || echo gcc-aarch64-linux-gnu)"
	need_cmd apt-get apt
	need_cmd dpkg-deb dpkg
	if [ -n "$(echo $missing)" ]; then
		echo "deps: peer needs:$missing (sudo apt-get install -y$missing)" >&2
		exit 1
	fi
	[ -f "$dir/vmlinuz" ] && [ -f "$dir/busybox" ] && [ -f "$dir/uname" ] && exit 0
	apt_private_init main $darch security
	# the newest 6.1 of these suites
	versioned_kernel linux-image-cloud-$darch "linux-image-6\\.1\\.[^ ]*-cloud-$darch"
	echo "deps: downloading $kpkg and busybox-static ($darch) from $uri into $dir"
	apt_private_download "$kpkg" busybox-static
	mkdir -p "$dir" "$tmp/x"
	for deb in "$tmp/$kpkg"_*.deb "$tmp"/busybox-static_*.deb; do
		dpkg-deb -x "$deb" "$tmp/x"
	done
	kver=${kpkg#linux-image-}
	for f in "boot/vmlinuz-$kver:vmlinuz" "boot/config-$kver:config" "bin/busybox:busybox"; do
		[ -f "$tmp/x/${f%%:*}" ] || {
			echo "deps: peer: ${f%%:*} missing after unpacking $kpkg and busybox-static" >&2
			exit 1
		}
		cp "$tmp/x/${f%%:*}" "$dir/${f##*:}"
	done
	echo "$kver" >"$dir/uname"
	exit 0
fi

backports_configured() {
	grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/
}

fix_hint() {
	uri=$(archive_uri 2>/dev/null) || uri="<your Debian archive's address>"
	echo "deps: as root, add the bookworm-backports suite of the same archive as your Debian source:" >&2
	printf '%s\n' "deps:   printf 'Types: deb\\nURIs: $uri\\nSuites: bookworm-backports\\nComponents: main\\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\\n' > $BACKPORTS_LIST" >&2
	echo "deps: then, as root:" >&2
	echo "deps:   apt-get update && apt-get install -y -t bookworm-backports $(echo $qemu_pkgs)" >&2
	echo "deps: or rerun this make target as root: it does both." >&2
}

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	export DEBIAN_FRONTEND=noninteractive
	# A freshly booted machine's daily apt jobs may hold dpkg's lock for
	# minutes: wait for it rather than fail at once.
	apt_wait="-o DPkg::Lock::Timeout=600"
	if [ -n "$(echo $qemu_pkgs)" ] && ! backports_configured; then
		uri=$(archive_uri) || {
			echo "deps: QEMU >= $QEMU_MIN_MAJOR.0 is needed and no Debian bookworm source was found in /etc/apt to derive bookworm-backports from" >&2
			fix_hint
			exit 1
		}
		echo "deps: adding the bookworm-backports suite of $uri to apt's sources ($BACKPORTS_LIST)"
		printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
			"$uri" >"$BACKPORTS_LIST"
	fi
	apt-get $apt_wait update -qq >/dev/null || echo "deps: warning: apt-get update reported errors" >&2
	if [ -n "$(echo $missing)" ]; then
		echo "deps: installing:$missing"
		# shellcheck disable=SC2086
		apt-get $apt_wait install -y -qq $missing >/dev/null
	fi
	if [ -n "$(echo $qemu_pkgs)" ]; then
		echo "deps: installing QEMU from bookworm-backports:$qemu_pkgs"
		# shellcheck disable=SC2086
		apt-get $apt_wait install -y -qq -t bookworm-backports $qemu_pkgs >/dev/null || true
		for q in $qemu_pkgs; do
			case $q in
			qemu-system-x86) bin=qemu-system-x86_64 ;;
			*) bin=qemu-system-aarch64 ;;
			esac
			if [ "$(qemu_major $bin)" -lt $QEMU_MIN_MAJOR ]; then
				echo "deps: only QEMU $(qemu_major $bin).x could be installed for $bin; Pagoda needs $QEMU_MIN_MAJOR.0 or newer" >&2
				fix_hint
				exit 1
			fi
		done
	fi
	exit 0
fi
if [ -n "$(echo $missing)" ] && [ "$what" = build ] && [ "$arch" != none ]; then
	# make test and make run need more than building: name it all in one round
	echo "deps: building needs:$missing; make test and make run need all of the following." >&2
	sh "$0" all "$arch" || true
	exit 1
fi
[ -n "$(echo $missing)" ] && {
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: install them as root: su -c 'apt-get update && apt-get install -y$missing' (or with sudo)" >&2
}
if [ -n "$(echo $qemu_pkgs)" ]; then
	echo "deps: QEMU $QEMU_MIN_MAJOR.0 or newer is needed (found: x86_64 $(qemu_major qemu-system-x86_64), aarch64 $(qemu_major qemu-system-aarch64); 0 = none)" >&2
	fix_hint
fi
exit 1
