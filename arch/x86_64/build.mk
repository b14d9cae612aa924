# SPDX-License-Identifier: BSD-2-Clause
#
# x86-64 build and boot: a Multiboot2 ELF packed into a hybrid GRUB ISO
# that boots under SeaBIOS (FIRMWARE=bios, default) or OVMF (FIRMWARE=uefi)
# (BOOT=iso, default), or the same ELF booted directly with QEMU's -kernel
# through its PVH note (BOOT=kernel, SeaBIOS only: the fast path), on QEMU's q35 machine (its MCFG table gives PCI's ECAM window), with
# QEMU's edu device at its default 28-bit DMA mask. QEMU_CPU=model passes
# -cpu (e.g. max, which offers x2APIC); empty keeps QEMU's default CPU for q35.

FIRMWARE ?= bios
BOOT ?= iso
# SCREEN=text: GRUB leaves VGA text mode (SeaBIOS only) instead of a framebuffer.
SCREEN ?= fb
ifeq ($(SCREEN),text)
ifneq ($(FIRMWARE),bios)
$(error SCREEN=text needs FIRMWARE=bios: UEFI has no VGA text mode)
endif
GFXPAYLOAD := set gfxpayload=text
else ifeq ($(SCREEN),fb)
GFXPAYLOAD :=
else
$(error SCREEN=$(SCREEN): choose fb or text)
endif
# IOMMU=vtd puts QEMU's Intel VT-d in front of the PCI devices (scalable
# mode with first-stage translation, 48-bit); IOMMU=vtd-ss the same with
# second-stage translation instead; it must come before edu.
# Interrupt remapping is left to QEMU's default: Pagoda never enables it
# (GCMD.IRE), so MSIs pass in compatibility format.
IOMMU ?= none
QEMU_CPU ?=
CROSS :=
ARCH_CFLAGS := -m64 -mcmodel=kernel -mno-red-zone -mgeneral-regs-only -fno-pie
ARCH_LDFLAGS :=
ARCH_SRCS := $(wildcard arch/x86_64/*.c arch/x86_64/*.S) boot/multiboot2.c boot/pvh.c \
	$(wildcard tests/x86_64/*.c)
ARCH_IMAGE :=
ARCH_CMDLINE :=
EXIT_STYLE := x86

OVMF_CODE := /usr/share/OVMF/OVMF_CODE.fd
ifeq ($(FIRMWARE),uefi)
FIRMWARE_ARGS := -bios $(OVMF_CODE)
else ifeq ($(FIRMWARE),bios)
FIRMWARE_ARGS :=
else
$(error FIRMWARE=$(FIRMWARE): choose bios or uefi)
endif

ifeq ($(IOMMU),vtd)
IOMMU_ARGS := -device intel-iommu,x-scalable-mode=on,x-flts=on,aw-bits=48
else ifeq ($(IOMMU),vtd-ss)
# QEMU 10 offers second-stage tables only without x-flts: the shadow-domain mode's config.
IOMMU_ARGS := -device intel-iommu,x-scalable-mode=on,aw-bits=48
else ifeq ($(IOMMU),none)
IOMMU_ARGS :=
else
$(error IOMMU=$(IOMMU): choose none, vtd or vtd-ss on x86_64)
endif

ifeq ($(BOOT),kernel)
ifneq ($(FIRMWARE),bios)
$(error BOOT=kernel boots through QEMU's PVH option ROM, which needs SeaBIOS: use FIRMWARE=bios)
endif
# $(1): kernel command line, $(2): image name. QEMU passes it with -append.
define arch_boot_image
	@test -f $(KERNEL)
	@printf '%s\n' '$(1)' > $(BUILD)/$(2).cmdline
endef
BOOT_ARGS = -kernel $(KERNEL) -append "$$(cat $(BUILD)/$(1).cmdline)"
else ifeq ($(BOOT),iso)
# $(1): kernel command line, $(2): image name. Writes grub.cfg and packs the ISO.
define arch_boot_image
	@mkdir -p $(BUILD)/$(2)-iso/boot/grub
	@cp $(BUILD)/pagoda.stripped.elf $(BUILD)/$(2)-iso/boot/pagoda.elf
	@sed -e 's|@CMDLINE@|$(1)|' -e 's|@GFXPAYLOAD@|$(GFXPAYLOAD)|' boot/grub.cfg.in \
		> $(BUILD)/$(2)-iso/boot/grub/grub.cfg
	$(Q)grub-mkrescue -o $(BUILD)/$(2).iso $(BUILD)/$(2)-iso >$(BUILD)/grub-mkrescue.log 2>&1 || \
		{ cat $(BUILD)/grub-mkrescue.log; exit 1; }
endef
BOOT_ARGS = -cdrom $(BUILD)/$(1).iso
else
$(error BOOT=$(BOOT): choose iso or kernel)
endif

# x86-64's own negative checks: the switch-in ordering, an AP given up
# on (smp.test_give_up=1) that starts late: the trampoline stays its own, so
# the boot goes on with fewer CPUs (the old code reused it: a triple fault),
# and the late AP parks instead of joining (it used to come online after the
# boot CPU had counted the CPUs): the count stays the online mask, and made
# to join anyway (smp.test_late_joins) the count is caught wrong;
# and a split kernel block left in the TLBs (replace_no_flush), a glyph
# drawn wrong by the screen console (console.break=glyph), and the line
# editor's escape sequences shown as text on the screen (console.break=escapes).
# Real-PC paths under QEMU (docs/boot.md): the TSC calibrated against the
# HPET, or the ACPI PM timer when the machine has no HPET; the run ended by
# ACPI S5 power off, and by a reset (QEMU exits on it: -no-reboot), instead
# of isa-debug-exit, so QEMU's own exit status 0 is the only way to pass.
# power_boot: $(1) command line, $(2) runner options, $(3) extra QEMU options.
define power_boot
	$(call arch_boot_image,$(call NEGATIVE_CMDLINE,$(1),power$(comma)time),test)
	@echo $(call shell_quote,power check: $(1) $(3))
	$(Q)python3 tools/ktest_run.py --log $(BUILD)/power-$(subst =,_,$(subst $(space),_,$(strip $(1) $(3)))).log \
		--timeout 60 $(2) -- $(QEMU_TEST) $(3)
endef
power-check: deps kernel
	$(call power_boot,,--exit-style x86 --expect-log "time: .*measured against the HPET")
	$(call power_boot,,--exit-style x86 --expect-log "time: .*measured against the ACPI PM timer",-machine hpet=off)
	$(call power_boot,time.source=pit,--exit-style x86 --expect-log "time: .*measured against the PIT")
	$(call power_boot,exit.via=acpi,--exit-style poweroff --expect-log "power: powering off [(]ACPI S5[)]")
	$(call power_boot,exit.via=reset,--exit-style poweroff --expect-log "power: resetting through the FADT reset register")

SPLIT_CASE := kpt.split_drops_the_block_on_every_cpu
ESCAPES_CASE := console.grid_follows_the_editors_escapes
arch-negative: kernel
	$(call negative_check,smp.test_give_up=1,--expect-log "cpu1: started after the boot CPU gave up on it: parked",smp.online_cpus_were_counted)
	$(call negative_check,smp.test_give_up=1 smp.test_late_joins,--expect-fail smp.online_cpus_were_counted,smp)
	$(call negative_check,tlb.break=switch_order,--expect-fail tlb.switch_in_reads_gen_before_loading_root,tlb)
	$(call negative_check,tlb.break=replace_no_flush,--expect-fail $(SPLIT_CASE),$(SPLIT_CASE))
	$(call negative_check,console.break=glyph,--expect-fail console.glyphs_drawn_exactly,console)
	$(call negative_check,console.break=escapes,--expect-fail $(ESCAPES_CASE),$(ESCAPES_CASE))
	$(Q)$(MAKE) --no-print-directory iommu-negative IOMMU=vtd
	$(Q)$(MAKE) --no-print-directory iommu-negative IOMMU=vtd-ss

# VT-d's negative checks: with the IOTLB descriptor of every invalidation
# skipped (vtd.break=skip_iotlb) edu reads a remapped page's old frame
# and writes through an unmapped page's stale translation, in shared mode
# (IOMMU=vtd) and in shadow mode (IOMMU=vtd-ss); a DMAR with a bad
# checksum (vtd.break=corrupt_dmar) is named on one line and the boot goes
# on without VT-d, its suite skipping. In both: an attach that takes an
# attached stream over (steal_stream) breaks its owner, table writes left
# in the caches (skip_clean) are caught by the clean count, and a bring-up
# whose translation enable never comes (fail_enable) is rolled back.
VTD_STALE_CASE := vtd.shared_remap_is_not_stale
VTD_UNMAP_CASE := vtd.shared_unmap_makes_dma_fault
VTD_SHADOW_CASE := vtd.second_stage_shadow_follows_the_mm
VTD_OWNER_CASE := vtd.stream_has_one_owner
VTD_CLEAN_CASE := vtd.tables_cleaned_for_a_non_snooping_unit
VTD_DMAR_REPORT := --expect-log "vtd: DMAR: checksum mismatch over [0-9]+ bytes; VT-d not used"
VTD_UNDO_REPORT := --expect-log "vtd: bring-up undone: translation and queued invalidation off, [1-9][0-9]* frames given back"
define vtd_negative_both
	$(call negative_check,vtd.break=steal_stream,--expect-fail $(VTD_OWNER_CASE),$(VTD_OWNER_CASE))
	$(call negative_check,vtd.break=skip_clean,--expect-fail $(VTD_CLEAN_CASE),$(VTD_CLEAN_CASE))
	$(call negative_check,vtd.break=fail_enable,$(VTD_UNDO_REPORT),vtd)
endef
iommu-negative: kernel
ifeq ($(IOMMU),vtd)
	$(call negative_check,vtd.break=skip_iotlb,--expect-fail $(VTD_STALE_CASE),$(VTD_STALE_CASE))
	$(call negative_check,vtd.break=skip_iotlb,--expect-fail $(VTD_UNMAP_CASE),$(VTD_UNMAP_CASE))
	$(call negative_check,vtd.break=corrupt_dmar,$(VTD_DMAR_REPORT),vtd)
	$(vtd_negative_both)
else ifeq ($(IOMMU),vtd-ss)
	$(call negative_check,vtd.break=skip_iotlb,--expect-fail $(VTD_SHADOW_CASE),$(VTD_SHADOW_CASE))
	$(vtd_negative_both)
else
	$(error iommu-negative needs IOMMU=vtd or IOMMU=vtd-ss on x86_64)
endif

# The screen console checked from outside (docs/boot.md, "Screen console"):
# for each firmware, boot the run ISO with a VGA card, let tools/screen_check.py
# take QEMU's screendump once the banner is out and compare every character
# cell with the font; then the same with console.break=glyph, which must fail.
# Under SeaBIOS also in VGA text mode (SCREEN=text), where the text memory is
# read back (QMP pmemsave) instead of the pixels.
SCREEN_FIRMWARES ?= bios uefi
SCREEN_QEMU = $(QEMU_COMMON) -vga std -serial stdio -monitor none $(call BOOT_ARGS,screen)
SCREEN_WHAT = FIRMWARE=$(FIRMWARE) SCREEN=$(SCREEN)
.PHONY: screen-check screen-check-one
SCREEN_RUNS := $(foreach f,$(SCREEN_FIRMWARES),$(f)-fb) $(if $(filter bios,$(SCREEN_FIRMWARES)),bios-text)
screen-check:
	$(Q)rc=0; for run in $(SCREEN_RUNS); do \
		$(MAKE) --no-print-directory screen-check-one FIRMWARE=$${run%-*} SCREEN=$${run#*-} || rc=1; \
	done; exit $$rc
screen-check-one: deps kernel
ifneq ($(BOOT),iso)
	$(error screen-check boots the GRUB ISO (BOOT=iso): QEMU's PVH boot sets no screen mode)
endif
	$(call screen_boot,,$(FIRMWARE)-$(SCREEN))
	$(call screen_boot,console.break=glyph,$(FIRMWARE)-$(SCREEN)-broken,--expect-mismatch)

# The console typed at on the screen (tools/screen_console_check.py, docs/console.md):
# the run ISO with a VGA card and nothing on the serial line's input; keys go
# in through QEMU's PS/2 keyboard (QMP send-key), answers are read off the
# screen. Then with kbd.break=shift (Shift ignored), which must fail.
.PHONY: screen-console-check
screen-console-check: deps kernel
ifneq ($(BOOT),iso)
	$(error screen-console-check boots the GRUB ISO (BOOT=iso): QEMU's PVH boot sets no screen mode)
endif
	$(call arch_boot_image,cmdline.strict $(RUN_CMDLINE),screen)
	$(Q)python3 tools/screen_console_check.py --log $(BUILD)/screen-console.log \
		--font $(CONSOLE_FONT) -- $(SCREEN_QEMU)
	$(call arch_boot_image,cmdline.strict $(RUN_CMDLINE) kbd.break=shift,screen)
	$(Q)python3 tools/screen_console_check.py --log $(BUILD)/screen-console-broken.log \
		--font $(CONSOLE_FONT) --expect-fail -- $(SCREEN_QEMU)

iso: kernel
	$(call arch_boot_image,$(CMDLINE),run)
	@echo "  ISO     $(BUILD)/run.iso"

# Writes the run ISO (hybrid: BIOS and UEFI) to a USB stick, after checks
# and a confirmation (tools/usb_write.sh; README, "On a real PC").
usb: iso
	@test -n "$(DEV)" || { echo "usb: say which device: make usb DEV=/dev/sdX"; exit 1; }
	$(Q)sh tools/usb_write.sh $(BUILD)/run.iso $(DEV)

QEMU_COMMON := qemu-system-x86_64 -machine q35 $(if $(QEMU_CPU),-cpu $(QEMU_CPU)) \
	-accel tcg,thread=$(TCG_THREAD) -smp $(CPUS) -m $(MEM) \
	-display none -nic none -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	$(IOMMU_ARGS) -device edu $(FIRMWARE_ARGS)
QEMU_RUN = $(QEMU_COMMON) -serial mon:stdio $(call BOOT_ARGS,run)
QEMU_TEST = $(QEMU_COMMON) -serial stdio -monitor none $(call BOOT_ARGS,test)
