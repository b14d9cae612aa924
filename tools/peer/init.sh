#!/bin/busybox sh
# SPDX-License-Identifier: BSD-2-Clause
#
# /init of make peer-bench's initramfs (tools/peer/mkinitramfs.py): sets the
# guest up as docs/benchmarks.md ("Against Linux") says, states what could
# change the result (kernel release, THP, mitigations), runs /peerbench
# (which reads bench.scale=, bench.reps=, bench.only= from the kernel
# command line) and powers the machine off, so QEMU exits 0.
# Every line the host reads starts with PEER or BENCH; the host judges the
# run by them (tools/peer_bench.py), not by this script's exit.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# Pagoda maps 4 KiB pages only; a huge page would change what a populate and an unmap do.
thp=/sys/kernel/mm/transparent_hugepage/enabled
[ -w $thp ] && echo never > $thp
echo "PEER uname=$(uname -r)"
echo "PEER thp=$(cat $thp 2>/dev/null || echo none)"
echo "PEER cmdline=$(cat /proc/cmdline)"
for f in /sys/devices/system/cpu/vulnerabilities/*; do
	echo "PEER vuln ${f##*/}=$(cat "$f")"
done
# KPTI: x86 names it in the meltdown line ("Mitigation: PTI"); arm64 in its boot log.
dmesg | grep -i 'page table isolation' | sed 's/^/PEER kpti=/'
/peerbench
echo "PEER exit=$?"
poweroff -f
