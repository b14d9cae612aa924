#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# Makes a deliberately malformed device tree for the aarch64 negative check:
# QEMU's own DTB for the machine being tested, with /cpus #address-cells
# set to 5 (the spec allows at most 2 for a CPU's reg; Pagoda's reader
# refuses more than 4 cells). QEMU accepts the blob and passes it on, so
# the kernel, not QEMU, must catch it and panic naming the node and property.
# With --iommu-map (a machine with iommu=smmuv3), the PCI host's iommu-map
# loses its last cell instead (3 cells: not a whole entry); the kernel must
# name the property and go on without the SMMU. With --msi-map (a GICv3
# machine, whose ITS the host's msi-map names) the same happens to msi-map;
# the kernel must name it and go on without the ITS (edu on INTx).
# Usage: make_bad_dtb.sh [--iommu-map|--msi-map] OUT.dtb QEMU-ARGS...
set -eu
what=cpus
if [ "$1" = --iommu-map ] || [ "$1" = --msi-map ]; then
	what=${1#--}
	shift
fi
out=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
qemu-system-aarch64 "$@" -machine dumpdtb="$tmp/good.dtb" -display none >/dev/null 2>&1 || true
[ -s "$tmp/good.dtb" ] || { echo "make_bad_dtb: QEMU did not dump a DTB" >&2; exit 1; }
dtc -q -I dtb -O dts -o "$tmp/good.dts" "$tmp/good.dtb"
if [ $what = cpus ]; then
	# Only the first #address-cells after "cpus {" changes.
	awk '/^\tcpus \{/ { in_cpus = 1 }
	     in_cpus && /#address-cells/ && !done { sub(/<0x[0-9a-f]+>/, "<0x05>"); done = 1 }
	     { print }' "$tmp/good.dts" > "$tmp/bad.dts"
else
	# <rid phandle id-base length> becomes <rid phandle id-base>.
	sed -E "s/($what = <0x[0-9a-f]+ 0x[0-9a-f]+ 0x[0-9a-f]+) 0x[0-9a-f]+>/\\1>/" \
		"$tmp/good.dts" > "$tmp/bad.dts"
fi
cmp -s "$tmp/good.dts" "$tmp/bad.dts" && { echo "make_bad_dtb: $what not found" >&2; exit 1; }
dtc -q -I dts -O dtb -o "$out" "$tmp/bad.dts"
