#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# Regenerates the seed corpus in tests/fuzz/corpus/ from QEMU (docs/reliability.md,
# "Fuzzing"): QEMU virt's DTBs (-machine dumpdtb=, GICv2 and GICv3, with and
# without the SMMUv3), and the Multiboot2 information, PVH start info and ACPI
# tables of x86-64 boots with `fwdump` on the command line (q35 with
# intel-iommu through GRUB, q35 with OVMF through GRUB, q35 through PVH, q35
# with hpet=off). Every QEMU run takes the shared lock /tmp/pagoda-qemu.lock.
# Needs both kernels built.
# The command-line seeds are written by hand (tests/fuzz/corpus/cmdline/).
set -eu
cd "$(dirname "$0")/.."
out=tests/fuzz/corpus
lock="flock /tmp/pagoda-qemu.lock"
mkdir -p "$out/fdt" build/fuzz/seeds

for v in "gic2:gic-version=2:4" "gic3-el2:gic-version=3,virtualization=on:16" \
	"gic2-smmuv3:gic-version=2,iommu=smmuv3:4" "gic3-smmuv3:gic-version=3,iommu=smmuv3:8"; do
	name=${v%%:*} rest=${v#*:}
	opts=${rest%%:*} cpus=${rest#*:}
	dtb=$out/fdt/qemu-virt-$name.dtb
	$lock timeout 60 qemu-system-aarch64 -machine "virt,$opts,dumpdtb=$dtb" -cpu max \
		-smp "$cpus" -m 256M -display none -nic none -device edu,dma_mask=0xffffffff \
		-kernel build/aarch64/Image -append "ktest=* cmdline.strict"
	python3 tools/fuzz_seeds.py packdtb "$dtb"
	python3 tools/fuzz_seeds.py dtprops "$dtb" "$out"
done

$lock make -s test ARCH=x86_64 KTEST=acpi KTEST_ARGS=fwdump IOMMU=vtd
cp build/x86_64/test.log build/fuzz/seeds/q35-vtd-grub.log
python3 tools/fuzz_seeds.py fwdump build/fuzz/seeds/q35-vtd-grub.log q35-vtd-grub "$out"
$lock make -s test ARCH=x86_64 KTEST=acpi KTEST_ARGS=fwdump FIRMWARE=uefi
cp build/x86_64/test.log build/fuzz/seeds/q35-uefi-grub.log
python3 tools/fuzz_seeds.py fwdump build/fuzz/seeds/q35-uefi-grub.log q35-uefi-grub "$out"
$lock make -s test ARCH=x86_64 KTEST=acpi KTEST_ARGS=fwdump BOOT=kernel
cp build/x86_64/test.log build/fuzz/seeds/q35-pvh.log
python3 tools/fuzz_seeds.py fwdump build/fuzz/seeds/q35-pvh.log q35-pvh "$out"
$lock timeout 60 qemu-system-x86_64 -machine q35,hpet=off -m 256M -smp 2 -display none \
	-nic none -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 -serial stdio \
	-kernel build/x86_64/pagoda.elf -append "fwdump ktest=acpi" \
	>build/fuzz/seeds/q35-nohpet-pvh.log 2>&1 || true # isa-debug-exit's status is not 0
python3 tools/fuzz_seeds.py fwdump build/fuzz/seeds/q35-nohpet-pvh.log q35-nohpet-pvh "$out"
