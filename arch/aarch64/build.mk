# SPDX-License-Identifier: BSD-2-Clause
#
# aarch64 build and boot: a Linux arm64 Image (objcopy -O binary of the
# ELF, header at offset 0) booted by QEMU's `virt` machine with -kernel,
# which passes the device tree in x0 and the command line in
# /chosen/bootargs.
#
# Knobs: GIC=2|3 (interrupt controller; default 2, or 3 when CPUS > 8,
# because a GICv2 addresses at most 8 CPU interfaces and QEMU's virt refuses
# more), EL=1|2 (EL=2 turns on virtualization=on: the kernel enters at EL2
# and PSCI uses smc), QEMU_CPU=model (-cpu: cortex-a53, cortex-a57,
# cortex-a72 (default), max, ...), DTB=path (boot with this device tree
# instead of QEMU's own), EARLY_UART=address (PL011 used before the device
# tree is read; 0 disables it), IOMMU=none|smmuv3 (smmuv3: virt's SMMUv3 in
# front of the PCI bus, `-machine virt,iommu=smmuv3`; docs/iommu.md),
# BOARD=virt|raspi3b|raspi4b (the machine; the Image is the same for all:
# docs/boards.md).

CPUS_PAST_GICV2 := $(filter-out 1 2 3 4 5 6 7 8,$(CPUS))
GIC ?= $(if $(CPUS_PAST_GICV2),3,2)
EL ?= 1
QEMU_CPU ?= cortex-a72
DTB ?=
EARLY_UART ?= 0x09000000
IOMMU ?= none

CROSS := aarch64-linux-gnu-
ARCH_CFLAGS := -march=armv8-a -mgeneral-regs-only -mno-outline-atomics -mstrict-align \
	-mcmodel=small -fno-pie -DAARCH64_EARLY_UART_BASE=$(EARLY_UART)
ARCH_LDFLAGS :=
# The EFI stub (arch/aarch64/efi/) runs under the firmware, which may use x18
# as its platform register: the stub leaves it alone.
EFI_STUB_SRCS := $(wildcard arch/aarch64/efi/*.c)
EFI_STUB_OBJS := $(patsubst %,$(BUILD)/%.o,$(EFI_STUB_SRCS) arch/aarch64/efi/enter.S)
ARCH_SRCS := $(wildcard arch/aarch64/*.c arch/aarch64/platform/*.c arch/aarch64/*.S arch/aarch64/efi/*.S) $(EFI_STUB_SRCS) \
	boot/fdt_boot.c boot/efi_boot.c boot/acpi_arm.c $(wildcard tests/aarch64/*.c)
$(EFI_STUB_OBJS): CFLAGS += -ffixed-x18
ARCH_IMAGE := $(BUILD)/Image
# virt's RAM starts at 1 GiB, beyond edu's default 28-bit DMA mask: widen the
# device's mask and tell the driver (kernel/drivers/edu.h).
EDU_DMA_BITS := 40
EDU_DMA_MASK := 0xffffffffff
ARCH_CMDLINE := edu.dma_bits=$(EDU_DMA_BITS)
EXIT_STYLE := semihosting

ifeq ($(filter 2 3,$(GIC)),)
$(error GIC=$(GIC): choose 2 or 3)
endif
ifeq ($(GIC)$(if $(CPUS_PAST_GICV2),+),2+)
$(error GIC=2 with CPUS=$(CPUS): a GICv2 addresses at most 8 CPUs; use GIC=3 (the default above 8 CPUs))
endif
ifeq ($(EL),2)
VIRT_OPTS := ,virtualization=on
else ifeq ($(EL),1)
VIRT_OPTS :=
else
$(error EL=$(EL): choose 1 or 2)
endif
ifeq ($(IOMMU),smmuv3)
VIRT_OPTS := $(VIRT_OPTS),iommu=smmuv3
else ifneq ($(IOMMU),none)
$(error IOMMU=$(IOMMU): choose none or smmuv3 (aarch64))
endif

# The Image is the ELF's loadable bytes from the header on; .bss is not in it.
# It is also a PE/COFF EFI application (efi/pe_header.S): the stub's objects
# must need no relocation, and the header must describe the file.
$(ARCH_IMAGE): $(BUILD)/pagoda.elf
	@echo "  IMAGE   $@"
	$(Q)sh tools/efi_pic_check.sh $(CROSS) $(EFI_STUB_OBJS)
	$(Q)$(OBJCOPY) -O binary $< $@
	$(Q)python3 tools/pe_check.py $@

# The UEFI ISO (`make iso`, FIRMWARE=uefi): GRUB's arm64 EFI build, fetched
# by tools/deps.sh (Debian ships it for arm64 only), loads the Image with its
# `linux` command (grub.cfg: boot/grub-arm64.cfg.in), which starts the EFI stub.
# $(1): kernel command line, $(2): image name.
GRUB_ARM64 := build/grub-arm64
define efi_iso
	@test -f $(ARCH_IMAGE)
	$(Q)sh tools/deps.sh grub-arm64 $(GRUB_ARM64)
	@rm -rf $(BUILD)/$(2)-iso && mkdir -p $(BUILD)/$(2)-iso/boot/grub
	@cp $(ARCH_IMAGE) $(BUILD)/$(2)-iso/pagoda
	@sed -e 's|@CMDLINE@|$(1)|' boot/grub-arm64.cfg.in > $(BUILD)/$(2)-iso/boot/grub/grub.cfg
	$(Q)grub-mkrescue -d $(GRUB_ARM64)/usr/lib/grub/arm64-efi -o $(BUILD)/$(2).iso \
		$(BUILD)/$(2)-iso >$(BUILD)/grub-mkrescue.log 2>&1 || \
		{ cat $(BUILD)/grub-mkrescue.log; exit 1; }
endef

iso: kernel
	$(call efi_iso,$(RUN_CMDLINE),run)
	@echo "  ISO     $(BUILD)/run.iso"

# FIRMWARE=none: QEMU's -kernel loads the Image, passes the command line with
# -append and the device tree in x0. FIRMWARE=uefi: edk2 (Debian's
# qemu-efi-aarch64) boots the ISO from a virtio disk; ACPI=1 makes virt
# give ACPI tables instead of a device tree (acpi=on), else acpi=off so
# edk2 installs the device tree in its configuration table.
FIRMWARE ?= none
ACPI ?= 0
QEMU_EFI := /usr/share/qemu-efi-aarch64/QEMU_EFI.fd
ifeq ($(FIRMWARE),uefi)
ifeq ($(ACPI),1)
VIRT_OPTS := $(VIRT_OPTS),acpi=on
else ifeq ($(ACPI),0)
VIRT_OPTS := $(VIRT_OPTS),acpi=off
else
$(error ACPI=$(ACPI): choose 0 or 1)
endif
ifneq ($(DTB),)
$(error DTB=$(DTB) needs FIRMWARE=none: under UEFI the device tree is the firmware's)
endif
ARCH_TEST_CMDLINE := test.boot=uefi
arch_boot_image = $(efi_iso)
BOOT_ARGS = -bios $(QEMU_EFI) -drive file=$(BUILD)/$(1).iso,format=raw,if=virtio,readonly=on
else ifeq ($(FIRMWARE),none)
ifneq ($(ACPI),0)
$(error ACPI=$(ACPI) needs FIRMWARE=uefi: only the firmware installs ACPI tables)
endif
ARCH_TEST_CMDLINE = test.boot=image $(BOARD_TEST_CMDLINE)
# $(1): kernel command line, $(2): image name. QEMU passes it with -append.
define arch_boot_image
	@test -f $(ARCH_IMAGE)
	$(if $(filter-out virt,$(BOARD)),$(Q)sh tools/deps.sh raspi $(RASPI))
	@printf '%s\n' '$(1)' > $(BUILD)/$(2).cmdline
endef
BOOT_ARGS = -kernel $(ARCH_IMAGE) -append "$$(cat $(BUILD)/$(1).cmdline)"
else
$(error FIRMWARE=$(FIRMWARE): choose none or uefi (aarch64))
endif

# BOARD: which machine QEMU models. The Raspberry Pis take Debian's DTB
# (tools/deps.sh raspi) and the same Image, which QEMU loads as the
# firmware would load kernel8.img; their RAM and CPU count are fixed (1 GiB
# and 2 GiB, 4 cores), of which VideoCore keeps the top 64 MiB: test.mem
# is what the ARM cores get. No PCI there: the PCI-bound suites skip.
BOARD ?= virt
RASPI := build/raspi
RASPI_DTB_raspi3b := $(RASPI)/dtb/bcm2837-rpi-3-b.dtb
RASPI_DTB_raspi4b := $(RASPI)/dtb/bcm2711-rpi-4-b.dtb
RASPI_RAM_raspi3b := 1G
RASPI_RAM_raspi4b := 2G
RASPI_ARM_MEM_raspi3b := 960M
RASPI_ARM_MEM_raspi4b := 960M
ifeq ($(BOARD),virt)
QEMU_COMMON := qemu-system-aarch64 -machine virt,gic-version=$(GIC)$(VIRT_OPTS) \
	-cpu $(QEMU_CPU) -accel tcg,thread=$(TCG_THREAD) -smp $(CPUS) -m $(MEM) -display none -nic none \
	-semihosting -device edu,dma_mask=$(EDU_DMA_MASK) $(if $(DTB),-dtb $(DTB))
else ifneq ($(RASPI_DTB_$(BOARD)),)
ifneq ($(FIRMWARE)$(IOMMU)$(EL)$(CPUS),nonenone14)
$(error BOARD=$(BOARD) is fixed: 4 CPUs, entry at EL2, no IOMMU, no UEFI (got CPUS=$(CPUS) EL=$(EL) IOMMU=$(IOMMU) FIRMWARE=$(FIRMWARE)))
endif
override MEM := $(RASPI_ARM_MEM_$(BOARD))
BOARD_TEST_CMDLINE := test.nopci
BOARD_DTB := $(if $(DTB),$(DTB),$(RASPI_DTB_$(BOARD)))
QEMU_COMMON := qemu-system-aarch64 -machine $(BOARD) -accel tcg,thread=multi -smp 4 \
	-m $(RASPI_RAM_$(BOARD)) -display none -nic none -semihosting -no-reboot \
	$(if $(filter none,$(DTB)),,-dtb $(BOARD_DTB))
else ifneq ($(filter rpi3 rpi4,$(BOARD)),)
QEMU_COMMON = $(error BOARD=$(BOARD) names an SD card (make sdimg); QEMU's boards are raspi3b and raspi4b)
else
$(error BOARD=$(BOARD): choose virt, raspi3b or raspi4b (or rpi3, rpi4 for make sdimg))
endif
QEMU_RUN = $(QEMU_COMMON) -serial mon:stdio $(call BOOT_ARGS,run)

# Negative check of the DTB parser: QEMU's own tree with /cpus broken must
# stop the kernel with a panic naming the node and property. A CPU made
# late (smp.test_late=1, kernel/smp.c) must park, not join, and the count
# must be the online mask (smp.online_cpus_were_counted passes); made to join
# anyway (smp.test_late_joins), the count must be caught wrong. Then the
# arm64-only tlb.break= switches, each with the case it must make fail
# (docs/tlb.md), the nested-gather switch under the broadcast default, a
# break left in the TLBs until the make (replace_no_flush), and edu's
# completion count on the INTx path (pci.msi=off; docs/pci.md).
ROLLOVER_CASE := tlb.asid_rollover_keeps_mms_apart
SWITCHED_CASE := tlb.switched_out_and_back_catches_up
BREAK_CASE := kpt.split_is_invalidated_before_the_walk_goes_on
PIN_CASE := asid.pinned_id_survives_rollover
ORPHAN_CASE := asid.pins_without_an_mm_keep_their_ids
QEMU_MACHINE_ARGS := -machine virt,gic-version=$(GIC)$(VIRT_OPTS) -cpu $(QEMU_CPU) -smp $(CPUS) \
	-m $(MEM)
SWITCHED_FREED_CASE := tlb_count.freed_tables_reach_switched_away_cpus
UNUSED_RELEASE_CASE := asid.unused_mm_release_keeps_reservations
arch-negative: kernel
	$(Q)sh tools/make_bad_dtb.sh $(BUILD)/bad-cpus.dtb $(QEMU_MACHINE_ARGS)
	$(call arch_boot_image,$(call NEGATIVE_CMDLINE,),test)
	@echo "negative check: a corrupted DTB (-dtb $(BUILD)/bad-cpus.dtb) must give a named panic"
	$(Q)python3 tools/ktest_run.py --log $(BUILD)/negative-bad-dtb.log --timeout 60 \
		--exit-style $(EXIT_STYLE) --expect-panic "fdt_boot_parse: .*node /cpus.*#address-cells" \
		-- $(subst -kernel ,-dtb $(BUILD)/bad-cpus.dtb -kernel ,$(QEMU_TEST))
	$(call negative_check,smp.test_late=1,--expect-log "cpu1: started after the boot CPU gave up on it: parked",smp.online_cpus_were_counted)
	$(call negative_check,smp.test_late=1 smp.test_late_joins,--expect-fail smp.online_cpus_were_counted,smp)
	$(call negative_check,tlb.break=asid_no_carry,--expect-fail asid.idle_cpu_keeps_the_id_its_mm_has,asid)
	$(call negative_check,tlb.break=asid_release_unused,--expect-fail $(UNUSED_RELEASE_CASE),$(UNUSED_RELEASE_CASE))
	$(call negative_check,tlb.break=asid_forget_reserved,--expect-fail $(ROLLOVER_CASE),$(ROLLOVER_CASE))
	$(call negative_check,tlb=ipi tlb.break=switch_no_catch_up,--expect-fail $(SWITCHED_CASE),$(SWITCHED_CASE))
	$(call negative_check,tlb.break=nested_blind,--expect-fail $(NESTED_CASE),$(NESTED_CASE))
	$(call negative_check,tlb.break=replace_no_flush,--expect-fail $(BREAK_CASE),$(BREAK_CASE))
	$(call negative_check,tlb=ipi tlb.break=spare_switched_away,--expect-fail $(SWITCHED_FREED_CASE),$(SWITCHED_FREED_CASE))
	$(call negative_check,tlb.break=asid_pin_ignored,--expect-fail $(PIN_CASE),$(PIN_CASE))
	$(call negative_check,pci.msi=off edu.break=double_count,--expect-fail $(IRQ_CASE),$(IRQ_CASE))
	$(call negative_check,tlb.break=asid_orphan_freed,--expect-fail $(ORPHAN_CASE),$(ORPHAN_CASE))
	$(call negative_check,tlb.break=batch_closes_at_hand_off,--expect-fail $(BATCH_TABLE_CASE),$(BATCH_TABLE_CASE))
	$(call negative_check,tlb.break=batch_closes_at_hand_off,--expect-fail $(BATCH_ELSEWHERE_TABLE_CASE),$(BATCH_ELSEWHERE_TABLE_CASE))
	$(Q)$(MAKE) --no-print-directory iommu-negative IOMMU=smmuv3
	$(Q)$(MAKE) --no-print-directory its-negative GIC=3
	$(Q)$(MAKE) --no-print-directory efi-negative FIRMWARE=uefi

# The EFI stub's hand-over (docs/boot.md): a boot block with a wrong magic or
# version must stop the kernel with a panic naming the field, and a block
# that lists the firmware's runtime-services RAM as usable must fail the
# efi suite's check. Three UEFI boots (edk2 and GRUB each time).
EFI_BAD_MAGIC := "efi_boot_parse: boot block at 0x[0-9a-f]+: magic 0xafb8bdba, expected 0x50474245"
EFI_BAD_VERSION := "efi_boot_parse: boot block at 0x[0-9a-f]+: version 2, expected 1"
.PHONY: efi-negative
efi-negative: kernel
ifneq ($(FIRMWARE),uefi)
	$(error efi-negative needs FIRMWARE=uefi)
endif
	$(call negative_check,efi.break=magic,--expect-panic $(EFI_BAD_MAGIC),efi)
	$(call negative_check,efi.break=version,--expect-panic $(EFI_BAD_VERSION),efi)
	$(call negative_check,efi.break=runtime_usable,--expect-fail efi.firmware_ram_never_usable,efi)

# A PCI host's id map ($(1): iommu-map or msi-map) cut to 3 cells by
# make_bad_dtb.sh; the suites $(2) must pass and the runner find the log
# lines $(3) (the map named in one line, the fallback taken).
define bad_map_check
	$(Q)sh tools/make_bad_dtb.sh --$(1) $(BUILD)/bad-$(1).dtb $(QEMU_MACHINE_ARGS)
	$(call arch_boot_image,$(call NEGATIVE_CMDLINE,,$(2)),test)
	@echo "negative check: a malformed $(1) must be named and the fallback taken"
	$(Q)python3 tools/ktest_run.py --log $(BUILD)/negative-bad-$(1).log --timeout 60 \
		--exit-style $(EXIT_STYLE) --expect-log $(3) \
		-- $(subst -kernel ,-dtb $(BUILD)/bad-$(1).dtb -kernel ,$(QEMU_TEST))
endef

# The GICv3 ITS's checks, on a GICv3: with MAPTI skipped edu's MSI is
# never translated, and with the MSI's data off by one it names an event
# nobody mapped; either way the completion interrupt never comes. A
# malformed msi-map is named in one line, and edu goes on with INTx.
ITS_INT_CASE := its.int_of_mapped_event_is_delivered_once
BAD_MSI_MAP := "gicv3-its: fdt: node /pcie@[0-9a-f]+: property 'msi-map': length 12 is not a whole number of 4-cell entries; no ITS [(]PCI devices use INTx[)]"
.PHONY: its-negative
its-negative: kernel
ifneq ($(GIC),3)
	$(error its-negative needs GIC=3)
endif
	$(call negative_check,its.break=no_mapti,--expect-fail $(IRQ_CASE),$(IRQ_CASE))
	$(call negative_check,its.break=no_mapti,--expect-fail $(ITS_INT_CASE),$(ITS_INT_CASE))
	$(call negative_check,pci.break=msi_wrong_vector,--expect-fail $(IRQ_CASE),$(IRQ_CASE))
	$(call bad_map_check,msi-map,edu$(comma)its,$(BAD_MSI_MAP) --expect-log "edu: .*; interrupt: INTx ")

# The SMMUv3's checks, on a machine that has one: with the IOTLB invalidation
# skipped the stale-DMA case must fail, with bindings that leave the MSI
# doorbell unmapped the MSI case must (edu's interrupt faults at the SMMU),
# and a malformed iommu-map must be named in one line while Pagoda goes on without the SMMU (edu then DMAs
# untranslated, and the smmu suite skips all but its parser case).
STALE_CASE := smmu.stale_translation_is_invalidated
MSI_SMMU_CASE := smmu.msi_reaches_the_cpu_through_the_binding
BAD_IOMMU_MAP := "smmuv3: fdt: node /pcie@[0-9a-f]+: property 'iommu-map': length 12 is not a whole number of 4-cell entries; not using the SMMU"
.PHONY: iommu-negative
iommu-negative: kernel
ifneq ($(IOMMU),smmuv3)
	$(error iommu-negative needs IOMMU=smmuv3)
endif
	$(call negative_check,smmu.break=skip_tlbi,--expect-fail $(STALE_CASE),$(STALE_CASE))
	$(call negative_check,iommu.break=no_msi_map,--expect-fail $(MSI_SMMU_CASE),$(MSI_SMMU_CASE))
	$(call bad_map_check,iommu-map,smmu$(comma)edu,$(BAD_IOMMU_MAP) --expect-log "iommu: no hardware IOMMU")
QEMU_TEST = $(QEMU_COMMON) -serial stdio -monitor none $(call BOOT_ARGS,test)

# The boards' own checks (docs/boards.md). board-negative: a Pi without a
# device tree (QEMU then leaves ATAGs at x0 = 0x100) and a Pi with another
# machine's (raspi3b: QEMU virt's, dumped for a Cortex-A53; raspi4b: the
# Pi 3's) must each stop with a panic naming the problem on the Pi's UART,
# never hang or run on. board-image-check: one short boot (the smp suite)
# per machine; the runner prints the sha256 of the -kernel file each boots,
# and all three must be the same file.
BOARD_NO_DTB_PANIC := "x0 = 0x100 holds ATAGs, not a device tree"
BOARD_WRONG_DTB_PANIC := "the device tree is for .*: wrong DTB for this board"
BOARD_WRONG_DTB_raspi3b := $(BUILD)/virt-a53.dtb
BOARD_WRONG_DTB_raspi4b := $(RASPI_DTB_raspi3b)
# On the Pi 3 an IPI rung on the wrong core's mailbox must fail the ipi suite.
MAILBOX_CASE := ipi.nowait_call_reaches_its_cpu
.PHONY: board-negative board-image-check board-smp-boot
board-negative: kernel
ifeq ($(BOARD),virt)
	$(error board-negative needs BOARD=raspi3b or BOARD=raspi4b)
endif
	$(call arch_boot_image,$(call NEGATIVE_CMDLINE,),test)
	@echo "negative check: $(BOARD) without a DTB must give a named panic"
	$(Q)python3 tools/ktest_run.py --log $(BUILD)/negative-$(BOARD)-no-dtb.log --timeout 60 \
		--exit-style $(EXIT_STYLE) --expect-panic $(BOARD_NO_DTB_PANIC) \
		-- $(subst -dtb $(BOARD_DTB),,$(QEMU_TEST))
	$(Q)qemu-system-aarch64 -machine virt,dumpdtb=$(BUILD)/virt-raw.dtb -cpu cortex-a53 -smp 4 \
		-m 1G -display none >/dev/null 2>&1
	@# QEMU pads its dump past 2 MiB; dtc packs it as a loader would pass it.
	$(Q)dtc -q -I dtb -O dtb -o $(BUILD)/virt-a53.dtb $(BUILD)/virt-raw.dtb
	@echo "negative check: $(BOARD) with $(notdir $(BOARD_WRONG_DTB_$(BOARD))) must give a named panic"
	$(Q)python3 tools/ktest_run.py --log $(BUILD)/negative-$(BOARD)-wrong-dtb.log --timeout 60 \
		--exit-style $(EXIT_STYLE) --expect-panic $(BOARD_WRONG_DTB_PANIC) \
		-- $(subst -dtb $(BOARD_DTB),-dtb $(BOARD_WRONG_DTB_$(BOARD)),$(QEMU_TEST))
ifeq ($(BOARD),raspi3b)
	$(call negative_check,intc.break=wrong_core,--expect-fail $(MAILBOX_CASE),$(MAILBOX_CASE))
endif

board-smp-boot: kernel
	$(call arch_boot_image,$(call NEGATIVE_CMDLINE,,smp),test)
	$(Q)python3 tools/ktest_run.py --log $(BUILD)/image-$(BOARD).log --timeout 60 \
		--exit-style $(EXIT_STYLE) -- $(QEMU_TEST) > $(BUILD)/image-$(BOARD).out; \
		rc=$$?; cat $(BUILD)/image-$(BOARD).out; exit $$rc

board-image-check: kernel
	$(Q)for b in virt raspi3b raspi4b; do \
		$(MAKE) --no-print-directory board-smp-boot BOARD=$$b || exit 1; done
	$(Q)n=$$(grep -h '^ktest: boots ' $(BUILD)/image-virt.out $(BUILD)/image-raspi3b.out \
		$(BUILD)/image-raspi4b.out | sort -u | wc -l); \
	grep -h '^ktest: boots ' $(BUILD)/image-*.out; \
	if [ "$$n" = 1 ]; then echo "board-image-check: virt, raspi3b and raspi4b boot the same file"; \
		echo "1 passed, 0 failed"; \
	else echo "board-image-check: $$n different files booted"; echo "0 passed, 1 failed"; exit 1; fi

# board-miniuart-check: the Pi's header carries the mini UART (QEMU's
# second -serial). The smp suite must pass read from it alone, the PL011
# sent to a file, a boot without a DTB must name that on it (the early
# mini UART), and the `pagoda>` console (tools/console_check.py) must
# work typed into it alone (input from the mini UART). Under
# uart.break=no_aux the suite check must fail while that file shows the
# suite passed (so the failure is the mini UART's); under
# uart.break=no_aux_rx a `poweroff` typed into it must go unread.
MINIUART_PL011 := $(BUILD)/miniuart-$(BOARD)-pl011.txt
MINIUART_NO_RX := $(BUILD)/negative-$(BOARD)-no-aux-rx.log
miniuart_qemu = $(subst -serial stdio,-serial file:$(MINIUART_PL011) -serial stdio,$(QEMU_TEST))
miniuart_run = $(subst -serial mon:stdio,-serial null -serial mon:stdio,$(QEMU_RUN))
.PHONY: board-miniuart-check
board-miniuart-check: kernel
ifeq ($(BOARD),virt)
	$(error board-miniuart-check needs BOARD=raspi3b or BOARD=raspi4b)
endif
	$(call arch_boot_image,$(call NEGATIVE_CMDLINE,,smp),test)
	@echo "board-miniuart-check: $(BOARD) smp suite through the mini UART alone"
	$(Q)python3 tools/ktest_run.py --log $(BUILD)/miniuart-$(BOARD).log --timeout 60 \
		--exit-style $(EXIT_STYLE) --expect-log "console: mini UART" -- $(miniuart_qemu)
	$(Q)python3 tools/ktest_run.py --log $(BUILD)/miniuart-$(BOARD)-no-dtb.log --timeout 60 \
		--exit-style $(EXIT_STYLE) --expect-panic $(BOARD_NO_DTB_PANIC) \
		-- $(subst -dtb $(BOARD_DTB),,$(miniuart_qemu))
	$(call arch_boot_image,$(RUN_CMDLINE),run)
	$(Q)python3 tools/console_check.py --log $(BUILD)/miniuart-console-$(BOARD).log -- \
		$(miniuart_run)
	$(call arch_boot_image,$(RUN_CMDLINE) uart.break=no_aux_rx,run)
	@echo "negative check: uart.break=no_aux_rx must leave a typed poweroff unread"
	$(Q)printf 'poweroff\r' | timeout 12 $(miniuart_run) >$(MINIUART_NO_RX) 2>&1; \
	if grep -q 'power: powering off' $(MINIUART_NO_RX); then \
		echo "uart.break=no_aux_rx: the typed poweroff was still read"; \
		echo "0 passed, 1 failed"; exit 1; \
	elif ! grep -q 'uart.break=no_aux_rx' $(MINIUART_NO_RX) || ! grep -q 'pagoda> ' $(MINIUART_NO_RX); then \
		echo "uart.break=no_aux_rx: no prompt on the mini UART ($(MINIUART_NO_RX))"; \
		echo "0 passed, 1 failed"; exit 1; \
	else echo "uart.break=no_aux_rx: prompt shown, the typed poweroff unread"; \
		echo "1 passed, 0 failed"; fi
	$(call arch_boot_image,$(call NEGATIVE_CMDLINE,uart.break=no_aux,smp),test)
	$(Q)rm -f $(MINIUART_PL011)
	@echo "negative check: uart.break=no_aux must fail board-miniuart-check"
	$(Q)if python3 tools/ktest_run.py --log $(BUILD)/negative-$(BOARD)-no-aux.log --timeout 60 \
		--exit-style $(EXIT_STYLE) -- $(miniuart_qemu) >/dev/null 2>&1; then \
		echo "uart.break=no_aux: the verdict still came through the mini UART"; \
		echo "0 passed, 1 failed"; exit 1; \
	elif ! grep -q '^# Totals: pass:[1-9][0-9]* fail:0 ' $(MINIUART_PL011); then \
		echo "uart.break=no_aux: the PL011 shows no passing suite either"; \
		echo "0 passed, 1 failed"; exit 1; \
	else echo "uart.break=no_aux: no verdict on the mini UART, the suite passed on the PL011"; \
		echo "1 passed, 0 failed"; fi

# The Pi 3's screen console (docs/boards.md, "The screen"): the framebuffer
# the VideoCore mailbox hands out, screendumped by QEMU once the banner is
# out and compared cell by cell with the serial log (tools/screen_check.py);
# console.break=glyph must be caught there too. Then a boot whose mailbox
# messages go to a channel no one serves (mbox.break=bad_channel): the
# bounded wait must name the failure in one line, the vc case must fail,
# and the kernel must finish the suite on the serial console.
SCREEN_QEMU = $(QEMU_COMMON) -serial stdio -monitor none $(call BOOT_ARGS,screen)
SCREEN_WHAT = BOARD=$(BOARD)
MBOX_CASE := vc.property_exchange_is_answered
MBOX_NO_REPLY := "console: VideoCore framebuffer: no reply on mailbox 0 within 100 ms; serial console only"
.PHONY: screen-check
screen-check: kernel
ifneq ($(BOARD),raspi3b)
	$(error screen-check on aarch64 needs BOARD=raspi3b: only QEMU's Pi 3 models the VideoCore framebuffer)
endif
	$(call screen_boot,,$(BOARD))
	$(call screen_boot,console.break=glyph,$(BOARD)-broken,--expect-mismatch)
	$(call negative_check,mbox.break=bad_channel,--expect-fail $(MBOX_CASE) --expect-log $(MBOX_NO_REPLY),$(MBOX_CASE))

# A flashable SD card (README "Raspberry Pi"): BOARD=rpi3|rpi4, tools/sdimg.sh.
SDIMG := $(BUILD)/pagoda-$(BOARD).img
.PHONY: sdimg sdimg-check
sdimg: kernel
ifeq ($(filter rpi3 rpi4,$(BOARD)),)
	$(error make sdimg needs BOARD=rpi3 or BOARD=rpi4)
endif
	$(Q)sh tools/deps.sh sdimg aarch64
	$(Q)sh tools/deps.sh raspi $(RASPI)
	$(Q)sh tools/sdimg.sh $(BOARD) $(ARCH_IMAGE) $(RASPI) $(SDIMG)

# The check must also catch a card without its kernel: a copy with
# kernel8.img deleted has to fail it.
sdimg-check: sdimg
	$(Q)sh tools/sdimg.sh --check $(SDIMG) $(BOARD)
	$(Q)cp $(SDIMG) $(SDIMG).bad && mdel -i $(SDIMG).bad@@1M ::kernel8.img
	$(Q)if sh tools/sdimg.sh --check $(SDIMG).bad $(BOARD) >/dev/null 2>&1; then \
		echo "sdimg-check: a card without kernel8.img passed"; echo "0 passed, 1 failed"; exit 1; \
	else echo "negative check: a card without kernel8.img fails sdimg-check"; echo "1 passed, 0 failed"; fi
	$(Q)rm -f $(SDIMG).bad
