#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# Checks the EFI stub's objects (arch/aarch64/efi/) for what would break
# them under firmware: the stub runs at whatever address the firmware
# loaded the image, not at the address it was linked for, and the image
# carries no PE base relocations. So its code and data may hold no
# absolute address (R_AARCH64_ABS*, MOVW_UABS*: a pointer baked in at link
# time), and it may call nothing outside the stub but the symbols listed
# below (head.S's entry and the image bounds): kernel code may assume
# things the firmware's world does not give (per-CPU data, a console, x18).
# Usage: efi_pic_check.sh CROSS_PREFIX OBJECT...   Prints one line per
# offence and fails; silent on success.
set -eu
cross=$1
shift
allowed="_start primary_entry __image_end"
defined=$(for o in "$@"; do "${cross}nm" --defined-only "$o" | awk '$2 ~ /[TtDdBbRr]/ { print $3 }'; done)
bad=0
for o in "$@"; do
	# relocation sections of code and data, not debug info (which may be absolute)
	rel=$("${cross}readelf" -rW "$o" | awk '
		/^Relocation section/ { sec = $3; gsub(/\047/, "", sec); next }
		sec !~ /^\.rela\.debug/ && $3 ~ /^R_AARCH64_(ABS|MOVW_UABS)/ { print sec ": " $3 " " $5 }')
	if [ -n "$rel" ]; then
		echo "efi_pic_check: $o: absolute relocations (the stub must be position independent):"
		echo "$rel" | sed 's/^/    /'
		bad=1
	fi
	for sym in $("${cross}nm" -u "$o" | awk '{ print $2 }'); do
		case " $allowed $(echo $defined) " in
		*" $sym "*) ;;
		*)
			echo "efi_pic_check: $o: calls or uses '$sym', which is outside the EFI stub"
			bad=1
			;;
		esac
	done
done
exit $bad
