#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# Writes Pagoda's hybrid ISO (BIOS and UEFI bootable) to a USB stick:
#     tools/usb_write.sh ISO /dev/sdX        (make usb DEV=/dev/sdX)
# It refuses anything that is not a whole, removable block device, and any
# device with a mounted partition; it shows what is on the device and asks
# for the device name to be typed back before writing; it syncs, and
# checks that what was written reads back the same.
# USB_YES=1 skips the question (for scripts that already asked).
set -eu

die() { echo "usb: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: $0 ISO /dev/sdX"
iso=$1
dev=$2
[ -f "$iso" ] || die "$iso: no such ISO (make iso first)"
[ -b "$dev" ] || die "$dev: not a block device"
name=$(basename "$(readlink -f "$dev")")
sys=/sys/class/block/$name
[ -d "$sys" ] || die "$dev: not known to the kernel (no $sys)"
[ -e "$sys/partition" ] && die "$dev is a partition: give the whole device (e.g. /dev/sdb, not /dev/sdb1)"
[ "$(cat "$sys/removable" 2>/dev/null || echo 0)" = 1 ] ||
	die "$dev is not a removable device: refusing to overwrite what may be a system disk"
mounted=$(lsblk -nrpo MOUNTPOINT "$dev" 2>/dev/null | grep -v '^$' || true)
[ -z "$mounted" ] || die "$dev has mounted file systems ($(echo $mounted)): unmount them first"

iso_bytes=$(stat -c %s "$iso")
dev_bytes=$(blockdev --getsize64 "$dev")
[ "$dev_bytes" -ge "$iso_bytes" ] || die "$dev holds $dev_bytes bytes, the ISO needs $iso_bytes"

echo "usb: about to overwrite $dev:"
lsblk -o NAME,SIZE,MODEL,VENDOR,LABEL,FSTYPE "$dev" 2>/dev/null | sed 's/^/    /'
echo "usb: with $iso ($iso_bytes bytes). Everything on $dev will be lost."
if [ "${USB_YES:-0}" != 1 ]; then
	printf 'usb: type the device name (%s) to go on: ' "$dev"
	read -r answer
	[ "$answer" = "$dev" ] || die "not confirmed; nothing written"
fi
dd if="$iso" of="$dev" bs=4M conv=fsync status=progress
sync
cmp -n "$iso_bytes" "$iso" "$dev" || die "what $dev reads back differs from $iso"
echo "usb: $dev written and verified; it boots Pagoda under BIOS and UEFI (Secure Boot off)"
