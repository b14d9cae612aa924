#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# `make doctor`: prints the version of every tool Pagoda's build, boot and
# tests use, then which configurations this machine can run, and for each
# one it cannot, what is missing. It changes nothing (tools/deps.sh installs).
set -u

QEMU_MIN_MAJOR=10

version() { # version COMMAND ARGS...: the first line it prints of its version, or "missing"
	if command -v "$1" >/dev/null 2>&1; then
		"$@" 2>&1 | head -n 1
	else
		echo "missing"
	fi
}
qemu_major() {
	"$1" --version 2>/dev/null | sed -n 's/^QEMU emulator version \([0-9]*\)\..*/\1/p' | head -n 1 | grep . || echo 0
}

printf '%-28s %s\n' "tool" "version"
for t in make gcc aarch64-linux-gnu-gcc python3 qemu-system-x86_64 qemu-system-aarch64 \
	grub-mkrescue xorriso mformat dtc gdb-multiarch clang-format; do
	case $t in
	mformat) v=$(version mformat --version) ;;
	xorriso) v=$(version xorriso -version) ;;
	dtc) v=$(version dtc --version) ;;
	*) v=$(version "$t" --version) ;;
	esac
	printf '%-28s %s\n' "$t" "$v"
done
for f in /usr/lib/grub/i386-pc /usr/lib/grub/x86_64-efi /usr/share/OVMF/OVMF_CODE.fd \
	/usr/share/qemu-efi-aarch64/QEMU_EFI.fd build/grub-arm64/usr/lib/grub/arm64-efi; do
	if [ -e "$f" ]; then s=present; else s=missing; fi
	printf '%-28s %s\n' "$(basename "$f")" "$s ($f)"
done

echo
echo "configurations:"
check() { # check NAME REQUIREMENT...: each requirement is "test-expression|what is missing"
	name=$1
	shift
	why=""
	for req in "$@"; do
		cond=${req%%|*}
		eval "$cond" >/dev/null 2>&1 || why="$why${why:+, }${req#*|}"
	done
	if [ -z "$why" ]; then
		printf '  %-44s yes\n' "$name"
	else
		printf '  %-44s NO: %s\n' "$name" "$why"
	fi
}
qx=$(qemu_major qemu-system-x86_64)
qa=$(qemu_major qemu-system-aarch64)
X86="command -v gcc|gcc"
QX="[ $qx -ge $QEMU_MIN_MAJOR ]|QEMU >= $QEMU_MIN_MAJOR for x86_64 (have ${qx:-none}; make deps ARCH=x86_64)"
ISO="command -v grub-mkrescue && command -v xorriso && command -v mformat && [ -d /usr/lib/grub/i386-pc ]|grub-pc-bin, grub-common, xorriso, mtools"
EFI="[ -d /usr/lib/grub/x86_64-efi ] && [ -f /usr/share/OVMF/OVMF_CODE.fd ]|grub-efi-amd64-bin, ovmf"
A64="command -v aarch64-linux-gnu-gcc|gcc-aarch64-linux-gnu"
QA="[ $qa -ge $QEMU_MIN_MAJOR ]|QEMU >= $QEMU_MIN_MAJOR for aarch64 (have ${qa:-none}; make deps ARCH=aarch64)"
DTC="command -v dtc|device-tree-compiler (negative DTB check)"
A64EFI="[ -f /usr/share/qemu-efi-aarch64/QEMU_EFI.fd ] && command -v grub-mkrescue && command -v xorriso && command -v mformat|qemu-efi-aarch64, grub-common, xorriso, mtools (GRUB arm64-efi itself: downloaded by make)"
check "x86_64 build" "$X86"
check "x86_64 test, SeaBIOS (FIRMWARE=bios)" "$X86" "$QX" "$ISO"
check "x86_64 test, UEFI (FIRMWARE=uefi)" "$X86" "$QX" "$ISO" "$EFI"
check "x86_64 x2APIC (QEMU_CPU=max)" "$X86" "$QX" "$ISO"
check "aarch64 build" "$A64"
check "aarch64 test, virt GICv2/GICv3, EL1/EL2" "$A64" "$QA"
check "aarch64 negative checks (bad DTB)" "$A64" "$QA" "$DTC"
check "aarch64 test, UEFI (FIRMWARE=uefi)" "$A64" "$QA" "$A64EFI"
check "make debug" "command -v gdb-multiarch|gdb-multiarch"
if [ -e /dev/kvm ]; then
	echo "note: /dev/kvm exists but Pagoda uses TCG (-accel tcg): nested KVM here is far slower"
fi
echo "host: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%d MiB", $2 / 1024}' /proc/meminfo) memory"
