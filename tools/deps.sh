#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# Makes sure the Debian packages a make target needs are installed.
# Usage: deps.sh build|all ARCH
#   build: what compiling needs; all: also what booting and testing need.
# As root it installs what is missing with apt-get; otherwise it names the
# missing packages and the exact command, and fails.
set -eu
what=$1
arch=$2
missing=""

need_cmd() { # need_cmd COMMAND PACKAGE
	command -v "$1" >/dev/null 2>&1 || missing="$missing $2"
}
need_file() { # need_file PATH PACKAGE
	[ -e "$1" ] || missing="$missing $2"
}

need_cmd make make
need_cmd python3 python3
case "$arch" in
x86_64)
	need_cmd gcc gcc
	if [ "$what" = all ]; then
		need_cmd qemu-system-x86_64 qemu-system-x86
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
	if [ "$what" = all ]; then
		need_cmd qemu-system-aarch64 qemu-system-arm
		need_cmd dtc device-tree-compiler
	fi
	;;
esac

[ -z "$missing" ] && exit 0
# Several commands can come from one package: list each once.
missing=$(echo $missing | tr ' ' '\n' | sort -u | tr '\n' ' ')
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "deps: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	# shellcheck disable=SC2086
	apt-get install -y -qq $missing >/dev/null
	exit 0
fi
echo "deps: missing Debian packages:$missing" >&2
echo "deps: install them with: sudo apt-get install -y $missing" >&2
exit 1
