#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# The refusals of tools/usb_write.sh, which must never write: a missing
# ISO, something that is not a block device, and every non-removable disk
# this machine has (the system disk among them). Run by make host-test.
set -u
cd "$(dirname "$0")/.."
fails=0
iso=$(mktemp)
trap 'rm -f "$iso"' EXIT
expect_refusal() { # expect_refusal WHAT-THE-MESSAGE-SAYS ARGS...
	want=$1
	shift
	# Never USB_YES: should a check regress, the unanswered question still stops it.
	out=$(sh tools/usb_write.sh "$@" 2>&1 </dev/null) && {
		echo "FAIL: usb_write.sh $* wrote (or claimed to)"; fails=$((fails + 1)); return; }
	echo "$out" | grep -q "$want" || {
		echo "FAIL: usb_write.sh $*: '$out' does not say '$want'"; fails=$((fails + 1)); }
}
expect_refusal "no such ISO" /nonexistent.iso /dev/null
expect_refusal "not a block device" "$iso" "$iso"
checked=0
for sys in /sys/class/block/*; do
	[ -e "$sys/partition" ] && continue
	[ "$(cat "$sys/removable" 2>/dev/null)" = 0 ] || continue
	expect_refusal "not a removable device" "$iso" "/dev/$(basename "$sys")"
	checked=$((checked + 1))
done
echo "usb_write refusals: $((2 + checked)) checked, $fails failed"
[ $fails -eq 0 ]
