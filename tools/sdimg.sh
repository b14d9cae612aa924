#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# Builds a Raspberry Pi SD card image without root or loop mounts: one
# FAT32 partition (type 0x0c, bootable) in an MBR at 1 MiB, holding
# Debian's firmware for the board, the board's DTB from Debian's arm64
# kernel package (tools/deps.sh raspi), Pagoda's Image as kernel8.img and a
# config.txt. The partition is made as its own file (mkfs.vfat, mcopy) and
# copied into the disk file after sfdisk wrote the table; `dd` the result
# to a card. Usage: sdimg.sh rpi3|rpi4 IMAGE RASPI_DIR OUT.img
# With `--check OUT.img rpi3|rpi4` it lists the partition (mdir) and fails
# unless every file the board's firmware needs is there.
set -eu
PART_OFFSET_MIB=1
PART_SIZE_MIB=64 # FAT32 needs 65525 clusters at least: 64 MiB of 512-byte clusters holds them

files_for() { # files_for rpi3|rpi4: what the FAT partition must hold
	case $1 in
	rpi3) echo "bootcode.bin start.elf fixup.dat bcm2837-rpi-3-b.dtb config.txt kernel8.img" ;;
	rpi4) echo "start4.elf fixup4.dat bcm2711-rpi-4-b.dtb config.txt kernel8.img" ;;
	*) echo "sdimg: board '$1': choose rpi3 or rpi4" >&2; exit 1 ;;
	esac
}

if [ "$1" = --check ]; then
	img=$2
	board=$3
	listing=$(mdir -b -i "$img@@${PART_OFFSET_MIB}M" ::) || {
		echo "sdimg-check: $img has no FAT partition at ${PART_OFFSET_MIB} MiB" >&2
		exit 1
	}
	mdir -i "$img@@${PART_OFFSET_MIB}M" ::
	sfdisk -d "$img" | grep -q 'type=c, bootable' || {
		echo "sdimg-check: $img: partition 1 is not a bootable FAT32 (0x0c) partition" >&2
		exit 1
	}
	missing=""
	for f in $(files_for "$board"); do
		echo "$listing" | grep -qix "::/$f" || missing="$missing $f"
	done
	if [ -n "$missing" ]; then
		echo "sdimg-check: $img lacks:$missing" >&2
		echo "0 passed, 1 failed"
		exit 1
	fi
	echo "sdimg-check: $img ($board) holds $(files_for "$board")"
	echo "1 passed, 0 failed"
	exit 0
fi

board=$1
image=$2
raspi=$3
out=$4
files_for "$board" >/dev/null
case $board in
rpi3) dtb=bcm2837-rpi-3-b.dtb fw="bootcode.bin start.elf fixup.dat" ;;
rpi4) dtb=bcm2711-rpi-4-b.dtb fw="start4.elf fixup4.dat" ;;
esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# config.txt: 64-bit, the Image where its header asks (text_offset 0: a
# 2 MiB boundary; the firmware's default 0x80000 would stop the kernel),
# the board's DTB by its Debian (upstream) name, and a UART on the header
# pins (GPIO 14/15): enable_uart=1 puts the mini UART there at 115200 (the
# firmware fixes the core clock it divides) and leaves the PL011 to
# Bluetooth; Pagoda writes to both, so no overlay (which Debian does not
# ship) is needed.
cat >"$tmp/config.txt" <<CFG
# Pagoda, written by make sdimg BOARD=$board
arm_64bit=1
kernel=kernel8.img
kernel_address=0x200000
device_tree=$dtb
enable_uart=1
CFG

truncate -s "${PART_SIZE_MIB}M" "$tmp/part.img"
mkfs.vfat -F 32 -n PAGODA "$tmp/part.img" >/dev/null
for f in $fw; do
	mcopy -i "$tmp/part.img" "$raspi/firmware/$f" ::
done
mcopy -i "$tmp/part.img" "$raspi/dtb/$dtb" ::
mcopy -i "$tmp/part.img" "$image" ::kernel8.img
mcopy -i "$tmp/part.img" "$tmp/config.txt" ::config.txt

rm -f "$out"
truncate -s "$((PART_OFFSET_MIB + PART_SIZE_MIB))M" "$out"
echo "start=$((PART_OFFSET_MIB * 2048)), size=$((PART_SIZE_MIB * 2048)), type=c, bootable" |
	sfdisk -q "$out"
dd if="$tmp/part.img" of="$out" bs=1M seek="$PART_OFFSET_MIB" conv=notrunc status=none
echo "  SDIMG   $out ($board: $PART_SIZE_MIB MiB FAT32 at $PART_OFFSET_MIB MiB)"
