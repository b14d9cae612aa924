# SPDX-License-Identifier: BSD-2-Clause
#
# Pagoda's build. `make` builds the kernel for ARCH (x86_64 by default,
# or aarch64); `make run` boots it in QEMU with the serial console on this
# terminal; `make test` boots it once to run the whole in-kernel suite and
# checks the result with tools/ktest_run.py. See README.md for every knob.
#
# Each architecture's specifics (compiler, flags, sources, image, QEMU
# command line) live in arch/<arch>/build.mk; this file holds what is
# shared. Objects go to build/<arch>/, so both arches can coexist.

ARCH ?= x86_64
TCG_THREAD ?= multi
CPUS ?= 4
MEM ?= 256M
# The whole run's bound: 110 s at 4 CPUs, and 8 s more for each CPU above
# (the soak and the churn cases grow with them: 16 CPUs on aarch64 took 103 s
# of QEMU on a 2-core host, 2026-12-02). A hang still ends the run.
TIMEOUT ?= $(shell echo $$((110 + 8 * ($(CPUS) > 4 ? $(CPUS) - 4 : 0))))
KTEST ?= *
KTEST_ARGS ?=
CMDLINE ?=
V ?= 0

# NOTIFIER=off: the baseline `make bench` compares against, with the MMU
# layer's notifier hooks compiled out (kernel/mm/notifier.h), in a
# directory of its own. For benchmarks only: the notifier and iommu suites
# fail on it.
NOTIFIER ?= on
NO_NOTIFIER_BUILD := build/$(ARCH)-nonotifier
ifeq ($(NOTIFIER),on)
BUILD := build/$(ARCH)
else ifeq ($(NOTIFIER),off)
BUILD := $(NO_NOTIFIER_BUILD)
ifneq ($(filter-out all kernel bench-images clean,$(MAKECMDGOALS)),)
$(error NOTIFIER=off is make bench's baseline: it builds `kernel` and `bench-images` only)
endif
else
$(error NOTIFIER=$(NOTIFIER): choose on or off)
endif

# arch/<arch>/build.mk defines targets too: the default stays "all".
.DEFAULT_GOAL := all
ifeq ($(V),0)
Q := @
else
Q :=
endif

ifeq ($(wildcard arch/$(ARCH)/build.mk),)
$(error ARCH=$(ARCH) is not supported: choose x86_64 or aarch64)
endif

COMMON_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -ffreestanding -fno-builtin \
	-fno-stack-protector -fno-omit-frame-pointer -fno-optimize-sibling-calls -fno-tree-loop-distribute-patterns \
	-fno-pic -fno-common -I. -MMD -MP $(if $(filter off,$(NOTIFIER)),-DPAGODA_NO_NOTIFIER)
COMMON_SRCS := $(filter-out $(WIP_EXCLUDE),$(wildcard kernel/*.c kernel/*/*.c lib/*.c tests/*.c))

include arch/$(ARCH)/build.mk

CC := $(CROSS)gcc
NM := $(CROSS)nm
OBJCOPY := $(CROSS)objcopy
STRIP := $(CROSS)strip
CFLAGS := $(COMMON_CFLAGS) $(ARCH_CFLAGS)
ASFLAGS := $(CFLAGS) -D__ASSEMBLY__
LIBGCC = $(shell $(CC) -print-libgcc-file-name 2>/dev/null)
LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,max-page-size=4096 \
	-Wl,--no-warn-rwx-segments -Wl,-z,noexecstack $(ARCH_LDFLAGS)

SRCS := $(COMMON_SRCS) $(ARCH_SRCS)
# The screen console's font (docs/boot.md, "Screen console"): a Debian console
# font (console-setup-linux) turned into C at build time, never committed.
CONSOLE_FONT ?= /usr/share/consolefonts/Lat15-Fixed16.psf.gz
OBJS := $(patsubst %,$(BUILD)/%.o,$(SRCS)) $(BUILD)/console_font.c.o
# A fresh machine has no font yet: deps-build installs it (then this checks).
$(CONSOLE_FONT): | deps-build
	@test -f $@ || { echo "make: $@ is missing (Debian package console-setup-linux)"; exit 1; }
$(BUILD)/console_font.c: $(CONSOLE_FONT) tools/psf_font.py | deps-build
	@mkdir -p $(dir $@)
	@echo "  FONT    $<"
	$(Q)python3 tools/psf_font.py c $< $@
$(BUILD)/console_font.c.o: $(BUILD)/console_font.c | deps-build
	$(Q)$(CC) $(CFLAGS) -c $< -o $@
# make screen-check (each arch's build.mk): boot with a screen (SCREEN_QEMU,
# described by SCREEN_WHAT), let tools/screen_check.py compare QEMU's
# screendump with the serial log drawn in the font. $(1) extra command
# line, $(2) log name, $(3) checker options.
define screen_boot
	$(call arch_boot_image,cmdline.strict $(RUN_CMDLINE) $(1),screen)
	@echo $(call shell_quote,screen check: $(SCREEN_WHAT) $(1))
	$(Q)python3 tools/screen_check.py --log $(BUILD)/screen-$(2).log --font $(CONSOLE_FONT) $(3) \
		-- $(SCREEN_QEMU)
endef
KERNEL := $(BUILD)/pagoda.elf

.PHONY: console-check
# The `pagoda>` console driven through a pty (tools/console_check.py, docs/console.md):
# `make run` itself, as a person would use it, ending with "N passed, N failed".
console-check: deps kernel
	$(Q)python3 tools/console_check.py --log $(BUILD)/console.log -- \
		$(MAKE) --no-print-directory -s run ARCH=$(ARCH)

.PHONY: all kernel iso run test test-negative iommu-negative debug clean deps deps-build host-test check-size doctor power-check
all: kernel

# Every compile waits for deps-build (order-only: it never makes a file
# stale): under -j the first compiles would otherwise race the compiler's
# install on a fresh machine.
kernel: deps-build $(KERNEL) $(ARCH_IMAGE)

$(BUILD)/%.c.o: %.c | deps-build
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/%.S.o: %.S | deps-build
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(ASFLAGS) -c $< -o $@

# Generated assembly (symbol tables) lives in $(BUILD) itself.
$(BUILD)/ksyms0.S.o: $(BUILD)/ksyms0.S
	$(Q)$(CC) $(ASFLAGS) -c $< -o $@
$(BUILD)/ksyms.S.o: $(BUILD)/ksyms.S
	$(Q)$(CC) $(ASFLAGS) -c $< -o $@

$(BUILD)/linker.ld: linker/$(ARCH).ld.S | deps-build
	@mkdir -p $(dir $@)
	$(Q)$(CC) -E -P -x c -I. -D__ASSEMBLY__ $< -o $@

# Two links: the first gives the addresses for the symbol table the second
# embeds. The table sits after .text, so no function moves; checked below.
$(BUILD)/ksyms0.S: | deps-build
	@mkdir -p $(dir $@)
	$(Q)sh tools/gen_ksyms.sh $(NM) > $@

$(BUILD)/pass1.elf: $(OBJS) $(BUILD)/ksyms0.S.o $(BUILD)/linker.ld
	$(Q)$(CC) $(LDFLAGS) -T $(BUILD)/linker.ld -o $@ $(OBJS) $(BUILD)/ksyms0.S.o $(LIBGCC)

$(BUILD)/ksyms.S: $(BUILD)/pass1.elf tools/gen_ksyms.sh
	$(Q)sh tools/gen_ksyms.sh $(NM) $< > $@

$(KERNEL): $(OBJS) $(BUILD)/ksyms.S.o $(BUILD)/linker.ld
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -T $(BUILD)/linker.ld -o $@ $(OBJS) $(BUILD)/ksyms.S.o $(LIBGCC)
	$(Q)$(NM) -n $(BUILD)/pass1.elf | grep ' [tT] ' > $(BUILD)/syms1.txt
	$(Q)$(NM) -n $@ | grep ' [tT] ' > $(BUILD)/syms2.txt
	$(Q)cmp -s $(BUILD)/syms1.txt $(BUILD)/syms2.txt || \
		{ echo "error: embedding the symbol table moved functions"; rm -f $@; exit 1; }
	$(Q)$(STRIP) -o $(BUILD)/pagoda.stripped.elf $@

# The kernel image must stay under 1 MiB (loadable bytes of the stripped ELF).
check-size: kernel
	@sz=$$(stat -c %s $(BUILD)/pagoda.stripped.elf); \
	echo "$(ARCH) image: $$sz bytes (limit 1048576)"; test $$sz -lt 1048576

# Installs (as root) or names (otherwise) the Debian packages a target needs.
deps-build:
	@sh tools/deps.sh build $(ARCH)
# After deps-build, never beside it: two apt-gets at once, and the second
# gives up on dpkg's lock (make -j on a fresh machine).
deps: deps-build
	@sh tools/deps.sh all $(ARCH)

# The suite once per CPU count and arch: a markdown table for docs/benchmarks.md.
SWEEP_ARCHES ?= x86_64 aarch64
SWEEP_CPUS ?= 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16
.PHONY: cpu-sweep
cpu-sweep:
	@sh tools/cpu_sweep.sh '$(SWEEP_ARCHES)' '$(SWEEP_CPUS)'

# Every tool's version, and which configurations this machine can run.
doctor:
	@sh tools/doctor.sh

# ARCH_CMDLINE: words an arch's QEMU command line implies (build.mk), e.g. the
# edu device's DMA width; ARCH_TEST_CMDLINE: what test boots add (e.g. aarch64's
# test.boot=, which boot path the tests must find).
RUN_CMDLINE := $(strip $(ARCH_CMDLINE) $(CMDLINE))
TEST_CMDLINE := ktest=$(KTEST) test.cpus=$(CPUS) test.mem=$(MEM) cmdline.strict $(ARCH_CMDLINE) \
	$(ARCH_TEST_CMDLINE) $(KTEST_ARGS) $(CMDLINE)

run: deps kernel
	$(call arch_boot_image,$(RUN_CMDLINE),run)
	$(QEMU_RUN)

debug: deps kernel
	$(call arch_boot_image,$(RUN_CMDLINE),run)
	@echo "QEMU waits for gdb on :1234. In another terminal (helpers: docs/debugging.md):"
	@echo "  gdb-multiarch $(KERNEL) -ex 'source tools/gdb/pagoda.py' -ex 'target remote :1234'"
	$(QEMU_RUN) -s -S

# The gdb helpers against a real boot (tools/gdb_check.py, docs/debugging.md):
# stops the kernel after the TLB layer's setup in tlb=mmgen and checks what
# pagoda-walk, pagoda-cpus and pagoda-tlb print. Boots QEMU: run it under
# the QEMU lock.
.PHONY: gdb-check
gdb-check: deps kernel
	$(Q)sh tools/deps.sh gdb $(ARCH)
	$(call arch_boot_image,cmdline.strict $(RUN_CMDLINE) tlb=mmgen,gdbcheck)
	$(Q)python3 tools/gdb_check.py --elf $(KERNEL) --cpus $(CPUS) --mode mmgen \
		--log $(BUILD)/gdb-check.log -- $(subst $(BUILD)/test.,$(BUILD)/gdbcheck.,$(QEMU_TEST))
# The same with the walker broken on purpose (PAGODA_GDB_BREAK=walk_index): must fail.
.PHONY: gdb-check-negative
gdb-check-negative:
	@echo "negative check: PAGODA_GDB_BREAK=walk_index must make gdb-check fail"
	$(Q)! PAGODA_GDB_BREAK=walk_index $(MAKE) --no-print-directory gdb-check >$(BUILD)/gdb-check-negative.out 2>&1 \
		|| { cat $(BUILD)/gdb-check-negative.out; echo "gdb-check-negative: the broken walker passed"; exit 1; }
	$(Q)grep -q "FAIL walk-data" $(BUILD)/gdb-check-negative.out \
		|| { cat $(BUILD)/gdb-check-negative.out; echo "gdb-check-negative: failed, but not on the walk"; exit 1; }
	@echo "gdb-check-negative: the broken walker was caught"

# compile_commands.json for clangd and other tools (docs/debugging.md): one
# entry per source of ARCH's kernel with the flags this Makefile compiles it
# with (dependency-file flags left out); `make compile_commands.json
# ARCH=aarch64` switches the tree to the other arch. Checked to be valid JSON
# with one entry per source.
CC_JSON_FLAGS = $(filter-out -MMD -MP,$(if $(filter %.S,$(1)),$(ASFLAGS),$(CFLAGS)))
cc_json_entry = {"directory": "$(CURDIR)", "file": "$(1)", "output": "$(BUILD)/$(1).o", \
	"command": "$(CC) $(CC_JSON_FLAGS) -c $(1) -o $(BUILD)/$(1).o"}
.PHONY: compile_commands.json
compile_commands.json:
	@echo "  GEN     $@ ($(ARCH), $(words $(SRCS)) sources)"
	$(file >$@,[)
	$(foreach s,$(SRCS),$(file >>$@,$(if $(filter $(s),$(firstword $(SRCS))),,$(comma))$(call cc_json_entry,$(s))))
	$(file >>$@,])
	$(Q)python3 -c 'import json,sys; n = len(json.load(open("$@"))); sys.exit(n != $(words $(SRCS)))' \
		|| { echo "compile_commands.json: not valid JSON, or not one entry per source"; exit 1; }

# HOST_TEST=0 leaves the host tests out: they do not depend on QEMU's
# configuration, so CI runs them in one configuration per arch (23 s each).
HOST_TEST ?= 1
test: deps kernel check-size $(if $(filter 0,$(HOST_TEST)),,host-test)
	$(call arch_boot_image,$(TEST_CMDLINE),test)
	@echo "qemu: $$($(firstword $(QEMU_TEST)) --version | head -n 1)"
	$(Q)python3 tools/ktest_run.py --log $(BUILD)/test.log --timeout $(TIMEOUT) \
		--exit-style $(EXIT_STYLE) $(RUNNER_ARGS) -- $(QEMU_TEST)

# The runner must see failures: each test-only switch must make it report
# one (a failed case, a panic, a timeout, an unexpected fault, a stale TLB
# entry when flushes are skipped). Only the suites or cases named run, so
# each check is one short boot. negative_check: $(1) extra command line,
# $(2) runner options, $(3) the ktest= list (default: the ktest suite),
# $(4) non-empty to boot without cmdline.strict. The log is named after
# $(1) and $(3).
comma := ,
empty :=
space := $(empty) $(empty)
# $(1) as one single-quoted shell word.
shell_quote = '$(subst ','\'',$(1))'
NEGATIVE_CMDLINE = ktest=$(or $(2),ktest) test.cpus=$(CPUS) test.mem=$(MEM) \
	$(if $(3),,cmdline.strict) $(ARCH_CMDLINE) $(ARCH_TEST_CMDLINE) $(1)
define negative_check
	$(call arch_boot_image,$(call NEGATIVE_CMDLINE,$(1),$(3),$(4)),test)
	@echo $(call shell_quote,negative check: $(or $(1),ktest=$(3)) must give $(2))
	$(Q)python3 tools/ktest_run.py \
		--log $(BUILD)/negative-$(subst *,,$(subst $(comma),_,$(subst $(space),_,$(strip $(1) $(if $(1),$(3),ktest=$(3)))))).log \
		--timeout 120 \
		--exit-style $(EXIT_STYLE) $(2) -- $(QEMU_TEST)
endef

# The command-line checker's one-line reports (kernel/cmdline.c), as whole lines.
CMDLINE_TLB_REPORT := "cmdline: 'tlb=bogus': tlb expects one of gen[|]ipi[|]mmgen[|]broadcast; using the default [(]broadcast[)]\Z"
CMDLINE_MEM_REPORT := "cmdline: 'mem=abc': mem expects a size [(]e[.]g[.] 64M, 1G[)]; using all memory\Z"
CMDLINE_REPORTS := --expect-log $(CMDLINE_TLB_REPORT) --expect-log $(CMDLINE_MEM_REPORT)
MEM_CAP_REPORT := --expect-log "frames: mem=64 MiB: RAM at or above 0x[0-9a-f]+ is not used"
# The cases a tlb.break= switch must make fail, each booted alone (docs/tlb.md lists them).
LAZY_CASE := tlb.lazy_cpu_spared_unless_tables_freed
ORDER_CASE := gather.unmap_512_pages_flushes_once
SETTLE_CASE := gather.batch_failure_settles_early
NESTED_CASE := gather.nested_gathers_flush_everything
CONCURRENT_CASE := tlb.concurrent_gathers_fewer_full_flushes
ONE_PAGE_CASE := tlb_count.one_page_unmap_bumps_once
RANGE_LIMIT_CASE := tlb_count.range_limit_decides_page_or_full
# Completion by coverage: a flush completes no further than the generation its targets reached.
COVER_CASE := tlb.completion_stops_at_a_lagging_target
# The shootdown event ring (kernel/mm/tlb_trace.h): causal order, and nothing recorded when stopped.
TRACE_ORDER_CASE := tlb_trace.one_page_unmap_in_causal_order
TRACE_OFF_CASE := tlb_trace.disabled_records_nothing
MODE_SWITCH_CASE := mm.live_mode_switch_refused_while_a_thread_runs
MODE_SWITCH_OPS_CASE := mm.live_mode_switch_refused_while_an_operation_runs
# A thread start counted under the live list's lock (mm_add_user), which the switch holds.
THREAD_START_CASE := mm.thread_start_waits_for_a_live_list_walk
# Reclaim-style batching (kernel/mm/tlb_batch.h): frames held until the batch's one round is over.
BATCH_CASE := tlb_batch.one_round_for_many_mms
BATCH_PAGE_CASE := tlb_batch.later_change_flushes_batched_page
BATCH_TABLE_CASE := tlb_batch.later_change_flushes_batched_table
BATCH_ELSEWHERE_PAGE_CASE := tlb_batch.change_elsewhere_flushes_batched_page
BATCH_ELSEWHERE_TABLE_CASE := tlb_batch.change_elsewhere_flushes_batched_table

# PCI interrupts (docs/pci.md): an MSI whose data names another vector, and a
# handler that counts each completion twice, must both fail IRQ_CASE.
IRQ_CASE := edu.dma_completion_interrupt_once
# A timed-out DMA must leave the device idle (edu.break=no_quiesce: it returns
# while the transfer still runs), and irq_free must wait for a running handler.
EDU_TIMEOUT_CASE := edu.dma_timeout_leaves_the_device_idle
IRQ_FREE_CASE := irq.free_waits_for_the_running_handler

# The notifier's rules (docs/notifier.md) are guarded by the notifier suite and by
# DMA_CASE, which races DMA against unmaps.
DMA_CASE := iommu.dma_never_touches_freed_frames

# The page-table audit and the failure injection (docs/reliability.md): an unmap
# that leaves an entry to a freed frame must fail AUDIT_CASE, a fault fill that
# keeps its page when the mapping fails must fail FAILINJECT_CASE (a leak).
AUDIT_CASE := audit.tables_consistent_after_every_operation
FAILINJECT_CASE := failinject.every_allocation_failure_backs_out
# Address-space concurrency (docs/mm.md, "Locking"): an unmap whose VMAs stay alive
# through its walk lets a fault fill the range it clears (CONCUR_UNMAP_CASE must fail),
# and readers that pass a waiting writer starve it (CONCUR_RWSEM_CASE must fail); a
# fault that takes a changing VMA's permissions drops one unflushed (CONCUR_MIXED_CASE),
# and a change that marks a VMA mapped into its hole leaves it dying (CONCUR_HOLE_CASE)
# or takes its write right (CONCUR_HOLE_PROTECT_CASE).
CONCUR_UNMAP_CASE := concur.faults_run_beside_a_parked_unmap
CONCUR_RWSEM_CASE := concur.writer_waits_and_is_preferred
# The last reader out leaves by the lock-free path and wakes nobody: the writer sleeps on.
CONCUR_LAST_READER_CASE := concur.last_reader_out_wakes_the_writer
CONCUR_MIXED_CASE := concur.fault_beside_a_mixed_protect_takes_nothing
CONCUR_HOLE_CASE := concur.map_into_the_hole_of_a_parked_unmap_survives
CONCUR_HOLE_PROTECT_CASE := concur.map_into_the_hole_of_a_parked_protect_keeps_its_rights
# fail.nth=1: the case's mm_create is the first allocation; it must fail, and say so.
FAIL_NTH_REPORT := --expect-log "fail: allocation 1 in kernel/mm [(]mm_create: struct mm[)] fails on purpose"

test-negative: deps kernel
	$(Q)$(MAKE) --no-print-directory arch-negative
	$(call negative_check,ktest.fail,--expect-fail ktest.deliberate_failure)
	$(call negative_check,ktest.hang,--expect-fail ktest.deliberate_hang)
	$(call negative_check,ktest.panic,--expect-panic deliberate_panic)
	$(call negative_check,ktest.fault,--expect-panic unhandled)
	$(call negative_check,tlb.skip_flush,--expect-fail mm.stale_tlb_never_writes_freed_frame,mm)
	$(call negative_check,tlb.break=free_before_flush,--expect-fail mm.stale_tlb_never_writes_freed_frame,mm)
	$(call negative_check,tlb=ipi tlb.break=no_defer_bump,--expect-fail tlb.deferral_reaches_cpu_that_switched_in,tlb)
	$(call negative_check,tlb=ipi tlb.break=skip_lazy_always,--expect-fail tlb.lazy_cpu_spared_unless_tables_freed,tlb)
	$(call negative_check,tlb.break=kernel_local_only,--expect-fail kpt.unmap_reaches_other_cpus,kpt)
	$(call negative_check,tlb=ipi tlb.break=lazy_no_catch_up,--expect-fail $(LAZY_CASE),$(LAZY_CASE))
	$(call negative_check,tlb.break=free_before_flush,--expect-fail $(ORDER_CASE),$(ORDER_CASE))
	$(call negative_check,tlb.break=settle_no_flush,--expect-fail $(SETTLE_CASE),$(SETTLE_CASE))
	$(call negative_check,tlb=ipi tlb.break=nested_blind,--expect-fail $(NESTED_CASE),$(NESTED_CASE))
	$(call negative_check,tlb=mmgen tlb.break=nested_blind,--expect-fail $(NESTED_CASE),$(NESTED_CASE))
	$(call negative_check,tlb=ipi tlb.break=catch_up_skips_ring,--expect-fail $(CONCURRENT_CASE),$(CONCURRENT_CASE))
	$(call negative_check,tlb=ipi tlb.break=complete_to_before,--expect-fail $(COVER_CASE),$(COVER_CASE))
	$(call negative_check,tlb.break=defer_every_level,--expect-fail $(ONE_PAGE_CASE),$(ONE_PAGE_CASE))
	$(call negative_check,tlb.break=range_limit_off_by_one,--expect-fail $(RANGE_LIMIT_CASE),$(RANGE_LIMIT_CASE))
	$(call negative_check,tlb=ipi tlb.break=free_before_flush,--expect-fail $(TRACE_ORDER_CASE),$(TRACE_ORDER_CASE))
	$(call negative_check,tlb.break=trace_records_off,--expect-fail $(TRACE_OFF_CASE),$(TRACE_OFF_CASE))
	$(call negative_check,tlb.break=mode_switch_ignores_users,--expect-fail $(MODE_SWITCH_CASE),$(MODE_SWITCH_CASE))
	$(call negative_check,tlb.break=mode_switch_ignores_ops,--expect-fail $(MODE_SWITCH_OPS_CASE),$(MODE_SWITCH_OPS_CASE))
	$(call negative_check,tlb.break=refused_switch_forgets,--expect-fail $(MODE_SWITCH_CASE),$(MODE_SWITCH_CASE))
	$(call negative_check,mm.test_users_unlocked,--expect-fail $(THREAD_START_CASE),$(THREAD_START_CASE))
	$(call negative_check,tlb.break=batch_free_early,--expect-fail $(BATCH_CASE),$(BATCH_CASE))
	$(call negative_check,tlb=mmgen tlb.break=batch_closes_at_hand_off,--expect-fail $(BATCH_PAGE_CASE),$(BATCH_PAGE_CASE))
	$(call negative_check,tlb=mmgen tlb.break=batch_closes_at_hand_off,--expect-fail $(BATCH_ELSEWHERE_PAGE_CASE),$(BATCH_ELSEWHERE_PAGE_CASE))
	$(call negative_check,xcall.break=drain_early,--expect-fail ipi.nowait_then_drain,ipi.nowait_then_drain)
	$(call negative_check,xcall.break=no_wake,--expect-fail ipi.halted_wait_is_woken_by_its_target,ipi.halted_wait_is_woken_by_its_target)
	$(call negative_check,mm.break=unmap_vma_alive,--expect-fail $(CONCUR_UNMAP_CASE),$(CONCUR_UNMAP_CASE))
	$(call negative_check,sync.break=readers_barge,--expect-fail $(CONCUR_RWSEM_CASE),$(CONCUR_RWSEM_CASE))
	$(call negative_check,sync.break=last_reader_fast,--expect-fail $(CONCUR_LAST_READER_CASE),$(CONCUR_LAST_READER_CASE))
	$(call negative_check,mm.break=fault_removes_perm,--expect-fail $(CONCUR_MIXED_CASE),$(CONCUR_MIXED_CASE))
	$(call negative_check,mm.break=mark_unowned,--expect-fail $(CONCUR_HOLE_CASE),$(CONCUR_HOLE_CASE))
	$(call negative_check,mm.break=mark_unowned,--expect-fail $(CONCUR_HOLE_PROTECT_CASE),$(CONCUR_HOLE_PROTECT_CASE))
	$(call negative_check,tlb=bogus mem=abc,$(CMDLINE_REPORTS),cmdline,lenient)
	$(call negative_check,cmdline.strict tlb=bogus,--expect-panic "cmdline_check: 'tlb=bogus': tlb expects",cmdline,lenient)
	$(call negative_check,,--expect-error "'nosuch[*]' .*matches no suite or case",ktest$(comma)nosuch*)
	$(call negative_check,mem=64M,$(MEM_CAP_REPORT),frame)
	$(call negative_check,mn.break=skip_secondary,--expect-fail notifier.secondary_tlbs_told_before_free,notifier.secondary_tlbs_told_before_free)
	$(call negative_check,mn.break=secondary_after_free,--expect-fail notifier.secondary_tlbs_told_before_free,notifier.secondary_tlbs_told_before_free)
	$(call negative_check,mn.break=ignore_eagain,--expect-fail notifier.eagain_backs_off_with_nothing_changed,notifier.eagain_backs_off_with_nothing_changed)
	$(call negative_check,mn.break=release_twice,--expect-fail notifier.release_once_either_order,notifier.release_once_either_order)
	$(call negative_check,mn.break=no_reader_wait,--expect-fail notifier.unregister_waits_for_running_callback,notifier.unregister_waits_for_running_callback)
	$(call negative_check,mn.break=no_interval_seq,--expect-fail notifier.interval_sequence_forces_retry,notifier.interval_sequence_forces_retry)
	$(call negative_check,mn.break=no_promotion_skip,--expect-fail notifier.events_bracket_every_change,notifier.events_bracket_every_change)
	$(call negative_check,mn.break=soft_dirty_keep_write,--expect-fail notifier.soft_dirty_tracks_the_next_write,notifier.soft_dirty_tracks_the_next_write)
	$(call negative_check,mn.break=skip_secondary,--expect-fail $(DMA_CASE),$(DMA_CASE))
	$(call negative_check,mn.break=secondary_after_free,--expect-fail $(DMA_CASE),$(DMA_CASE))
	$(call negative_check,iommu.break=drop_sync,--expect-fail $(DMA_CASE),$(DMA_CASE))
	$(call negative_check,pci.break=msi_wrong_vector,--expect-fail $(IRQ_CASE),$(IRQ_CASE))
	$(call negative_check,edu.break=double_count,--expect-fail $(IRQ_CASE),$(IRQ_CASE))
	$(call negative_check,edu.break=no_quiesce,--expect-fail $(EDU_TIMEOUT_CASE),$(EDU_TIMEOUT_CASE))
	$(call negative_check,irq.break=free_no_wait,--expect-fail $(IRQ_FREE_CASE),$(IRQ_FREE_CASE))
	$(call negative_check,mm.break=leak_pte,--expect-fail $(AUDIT_CASE),$(AUDIT_CASE))
	$(call negative_check,mm.break=fill_leak,--expect-fail $(FAILINJECT_CASE),$(FAILINJECT_CASE))
	$(call negative_check,fail.nth=1,--expect-fail $(AUDIT_CASE) $(FAIL_NTH_REPORT),$(AUDIT_CASE))

# The soak (docs/reliability.md): the soak suite alone for CYCLES cycles on CPUS
# CPUs; the runner's limit grows with the cycles (SOAK_RATE: a floor of the
# cycles a second the slowest configuration manages). soak-negative boots a CI
# slice under each TLB breaking switch the soak can catch and requires the
# stale-access report (SOAK_NEGATIVE_x86_64/aarch64: mode and switch pairs).
CYCLES ?= 10000
SOAK_RATE ?= 100
SOAK_TIMEOUT = $(shell echo $$((60 + $(CYCLES) / $(SOAK_RATE))))
SOAK_CASE := soak.no_stale_access
# A TLB switch that frees frames early (free_before_flush) may first be seen by a
# soak DMA engine reading the freed frame: either report is the catch.
SOAK_REPORT := --expect-log "soak: STALE (ACCESS|DMA)"
# The spans, switches away and widened TLB windows (soak.widen=, microseconds;
# docs/reliability.md): on in make soak, so the CI slice proves that they raise
# no false report; SOAK_WIDEN=0 runs the soak without them.
SOAK_WIDEN ?= 300
.PHONY: soak soak-negative
soak: deps kernel
	$(call arch_boot_image,$(call NEGATIVE_CMDLINE,soak.cycles=$(CYCLES) soak.widen=$(SOAK_WIDEN) $(CMDLINE),soak),test)
	$(Q)python3 tools/ktest_run.py --log $(BUILD)/soak.log --timeout $(SOAK_TIMEOUT) \
		--exit-style $(EXIT_STYLE) $(RUNNER_ARGS) -- $(QEMU_TEST)

SOAK_NEGATIVE_CYCLES ?= 10000
# Each word: the command line of one boot, words joined by ':'. The switches
# left out cannot show in the soak (docs/reliability.md says why for each).
# The soak's reclaims (a page taken into a TLB batch, then vm_unmap over it):
# a nested gather that flushes nothing leaves the unmapped page reachable,
# which must be the report (both arches).
SOAK_NEGATIVE_RECLAIM := tlb=mmgen:tlb.break=nested_blind \
	tlb=mmgen:tlb.break=batch_closes_at_hand_off
SOAK_RECLAIM_REPORT := --expect-log "soak: STALE ACCESS .*: an unmapped page was still reachable"
# Caught after 0.8-18 s (up to ~7,000 cycles) on x86-64: a wider bound than the others'.
# The shadow TLB's checks take it too: x86-64's skip_lazy_always is caught in 1-3 s of
# 5 boots, but one CI boot went 10,000 cycles (16.6 s) without (2026-12-03). A boot
# ends at its first catch, so the bound costs only when a catch is late.
SOAK_RECLAIM_CYCLES := 30000
# The open reclaims (into the batch alone, flushed at once while a reader
# holds the entry): a batch that frees before its round must show as a read
# of the poison (or a write into the freed frame), both arches.
SOAK_NEGATIVE_BATCH := tlb.break=batch_free_early
SOAK_BATCH_REPORT := --expect-log "soak: STALE ACCESS .*(not this one|written while free)"
SOAK_NEGATIVE_x86_64 := tlb.skip_flush tlb=gen:tlb.break=free_before_flush \
	tlb=ipi:tlb.break=lazy_no_catch_up tlb=ipi:tlb.break=catch_up_skips_ring
SOAK_NEGATIVE_aarch64 := tlb.skip_flush tlb=ipi:tlb.break=free_before_flush \
	tlb=ipi:tlb.break=lazy_no_catch_up tlb=ipi:tlb.break=catch_up_skips_ring
# The switches whose races only the widened soak reaches (soak.widen=: spans
# changed by one gather with no batch page, switches away and back in the
# window, one-page changes' flush decisions held open while the soak threads
# ask for live mode switches). A missed CPU flush must show as a stale CPU
# access; the early settle that frees unflushed (settle_no_flush) skips the
# IOMMU's invalidation too, so a device may read the poison first (either report).
SOAK_NEGATIVE_WIDENED := tlb=ipi:tlb.break=no_defer_bump
SOAK_NEGATIVE_WIDENED_x86_64 := tlb=gen:tlb.break=switch_order
# switch_order's catch came as late as cycle 6,079 (10 s of QEMU, 4 runs): the
# widened boots get the reclaims' wider bound.
SOAK_WIDENED_REPORT := --expect-log "soak: STALE ACCESS"
SOAK_NEGATIVE_SETTLE := tlb.break=settle_no_flush
# A live mode switch that goes through with threads running completes a held
# gather's generation early: the gather skips its flush, and a reader that held
# the page's entry reads the freed frame, writes it (the allocator's poison
# check reports it), writes through the downgrade, or (a quiet reclaim's
# vm_unmap skipping its flush the same way) reads a page settled unmapped:
# the reports required.
SOAK_NEGATIVE_MODE := tlb=ipi:tlb.break=mode_switch_ignores_users
SOAK_MODE_REPORT := --expect-log "soak: STALE ACCESS .*(not this one|made read-only|still reachable|written while free)"
# The staged race (tests/soak_stage.c; widened, tlb=gen with IPIs): a request
# that completes to `before` lets the third gather skip its flush and free a
# frame the lagging target still maps, which it then reads (the poison) or
# writes (the frame written while free).
SOAK_NEGATIVE_STAGE := tlb=ipi:tlb.break=complete_to_before
SOAK_STAGE_REPORT := --expect-log "soak: STALE ACCESS .*(not this one|written while free)"
# The secondary-TLB switches the soak's DMA engines catch (both arches): the
# report must be a stale DMA, not a CPU's stale access.
SOAK_NEGATIVE_DMA := mn.break=skip_secondary iommu.break=drop_sync
# A device's stale write may be found first by the allocator's poison check, which
# cannot name the writer; under a secondary-TLB switch the CPUs' flushes are whole,
# so that report is the device's too.
SOAK_DMA_REPORT := --expect-log "soak: STALE (DMA|ACCESS: a freed frame was written while free)"
# The kernel part's global pages (tests/soak_kernel.c): a kernel mapping change
# invalidated on the caller's CPU alone must give a stale read of a kernel page;
# so must a split kernel block left in the TLBs (tests/soak_kblock.c).
SOAK_NEGATIVE_KERNEL := tlb.break=kernel_local_only tlb.break=replace_no_flush
SOAK_KERNEL_REPORT := --expect-log "soak: STALE ACCESS on cpu[0-9]+ at kernel"
# The hazards QEMU's own TLB cannot show (no ASID tags, no walk caches), through
# the shadow TLB (soak.shadow: kernel/mm/tlb_shadow.h): a lazy CPU's walker
# still holding a freed table (both arches); on aarch64 a switch-in that trusts
# its tagged entries (widened: switches away during changes; unwidened it took
# 20 to 5,070 cycles), a switched-away CPU still walking the old root (widened:
# the switch away is held open), and ids two mms share after a rollover (with
# soak.churn: more mms than ids), and an id given back twice after an unbind
# raced its mm's teardown (soak.churn's orphan stage, tests/soak_orphan.c),
# and reservations an unrun mm's release dropped (the churn's unused mms).
SOAK_NEGATIVE_SHADOW_x86_64 := tlb=ipi:tlb.break=skip_lazy_always
SOAK_NEGATIVE_SHADOW_aarch64 := tlb=ipi:tlb.break=skip_lazy_always \
	soak.widen=$(SOAK_WIDEN):tlb=ipi:tlb.break=switch_no_catch_up \
	soak.widen=$(SOAK_WIDEN):tlb=ipi:tlb.break=spare_switched_away \
	soak.churn:tlb.break=asid_forget_reserved soak.churn:tlb.break=asid_no_carry \
	soak.churn:tlb.break=asid_orphan_freed soak.churn:tlb.break=asid_release_unused
SOAK_SHADOW_REPORT := --expect-log "soak: STALE ACCESS"
# With soak.churn a second emulated IOMMU tags by the CPU's ids (as an SMMUv3
# does): a pinned id handed to another mm makes two of its streams share a tag,
# and a device reads the other mm's page.
SOAK_NEGATIVE_SHADOW_DMA_aarch64 := soak.churn:tlb.break=asid_pin_ignored
SOAK_SHADOW_DMA_REPORT := --expect-log "soak: STALE DMA"
# One soak-negative boot ($(2): the report required); the blank line ends it,
# so $(foreach) can string them.
define soak_negative_one
$(call negative_check,soak.cycles=$(or $(3),$(SOAK_NEGATIVE_CYCLES)) $(subst :, ,$(1)),--expect-fail $(SOAK_CASE) $(2),$(SOAK_CASE))

endef
soak-negative: deps kernel
	$(foreach s,$(SOAK_NEGATIVE_$(ARCH)),$(call soak_negative_one,$(s),$(SOAK_REPORT)))
	$(foreach s,$(SOAK_NEGATIVE_RECLAIM),$(call soak_negative_one,$(s),$(SOAK_RECLAIM_REPORT),$(SOAK_RECLAIM_CYCLES)))
	$(foreach s,$(SOAK_NEGATIVE_BATCH),$(call soak_negative_one,$(s),$(SOAK_BATCH_REPORT)))
	$(foreach s,$(SOAK_NEGATIVE_DMA),$(call soak_negative_one,$(s),$(SOAK_DMA_REPORT)))
	$(foreach s,$(SOAK_NEGATIVE_KERNEL),$(call soak_negative_one,$(s),$(SOAK_KERNEL_REPORT)))
	$(foreach s,$(SOAK_NEGATIVE_WIDENED) $(SOAK_NEGATIVE_WIDENED_$(ARCH)),$(call soak_negative_one,soak.widen=$(SOAK_WIDEN):$(s),$(SOAK_WIDENED_REPORT),$(SOAK_RECLAIM_CYCLES)))
	$(foreach s,$(SOAK_NEGATIVE_SETTLE),$(call soak_negative_one,soak.widen=$(SOAK_WIDEN):$(s),$(SOAK_REPORT)))
	$(foreach s,$(SOAK_NEGATIVE_MODE),$(call soak_negative_one,soak.widen=$(SOAK_WIDEN):$(s),$(SOAK_MODE_REPORT),$(SOAK_RECLAIM_CYCLES)))
	$(foreach s,$(SOAK_NEGATIVE_STAGE),$(call soak_negative_one,soak.widen=$(SOAK_WIDEN):$(s),$(SOAK_STAGE_REPORT)))
	$(foreach s,$(SOAK_NEGATIVE_SHADOW_$(ARCH)),$(call soak_negative_one,soak.shadow:$(s),$(SOAK_SHADOW_REPORT),$(SOAK_RECLAIM_CYCLES)))
	$(foreach s,$(SOAK_NEGATIVE_SHADOW_DMA_$(ARCH)),$(call soak_negative_one,soak.shadow:$(s),$(SOAK_SHADOW_DMA_REPORT)))

# TLB benchmarks (docs/benchmarks.md): one image and one boot per mode in
# BENCH_MODES, with `bench tlb=<mode>`, then one boot of the NOTIFIER=off
# build in BENCH_BASELINE (a mode; empty: none); tools/bench.py replaces
# @BUILD@ and @MODE@ in the test boot's QEMU command and writes the tables
# to $(BUILD)/bench.md. BENCH_ONLY=glob runs only the matching scenarios.
# BENCH_PROFILE=1: the mode boots also profile each scenario (bench.profile,
# kernel/prof.h), tabled in $(BENCH_LOG_DIR)/profile.md by tools/prof_table.py.
BENCH_MODES ?= gen mmgen
BENCH_BASELINE ?= $(firstword $(BENCH_MODES))
BENCH_TIMEOUT ?= 100
BENCH_QEMU = $(subst $(BUILD)/,@BUILD@/,$(subst $(BUILD)/test.,$(BUILD)/bench-@MODE@.,\
	$(QEMU_TEST)))
define bench_image
$(call arch_boot_image,bench tlb=$(1) $(if $(BENCH_ONLY),bench.only=$(BENCH_ONLY)) $(if $(filter 1,$(BENCH_PROFILE)),bench.profile) $(ARCH_CMDLINE) $(CMDLINE),bench-$(1))

endef

.PHONY: pictures
# Pictures in docs/ (docs/pictures/*.dot), rendered with graphviz: SVG for
# the docs, PNG to look at. Committed, so readers need not run this.
pictures:
	$(Q)sh tools/deps.sh pictures $(ARCH)
	$(Q)for f in docs/pictures/*.dot; do \
		echo "  DOT     $${f%.dot}.svg $${f%.dot}.png"; \
		dot -Tsvg "$$f" -o "$${f%.dot}.svg" && dot -Tpng -Gdpi=110 "$$f" -o "$${f%.dot}.png" || exit 1; \
	done

.PHONY: bench bench-images bench-plot bench-threshold bench-sweep
# BENCH_LOG_DIR: where the boots' logs, bench.md and the PNGs go; BENCH_PLOT=
# (empty): no PNGs (bench-sweep draws its own).
BENCH_LOG_DIR ?= $(BUILD)
BENCH_PLOT ?= yes
bench: deps bench-images
	$(Q)sh tools/deps.sh plots $(ARCH)
ifneq ($(BENCH_BASELINE),)
	$(Q)$(MAKE) --no-print-directory NOTIFIER=off BENCH_MODES='$(BENCH_BASELINE)' bench-images
endif
	$(Q)mkdir -p $(BENCH_LOG_DIR)
	$(Q)python3 tools/bench.py --modes '$(BENCH_MODES)' --log-dir $(BENCH_LOG_DIR) \
		--build-dir $(BUILD) $(if $(BENCH_BASELINE),--baseline-dir $(NO_NOTIFIER_BUILD) \
			--baseline-mode $(BENCH_BASELINE)) \
		$(if $(BENCH_ONLY),--only '$(BENCH_ONLY)') --timeout $(BENCH_TIMEOUT) --exit-style $(EXIT_STYLE) --markdown $(BENCH_LOG_DIR)/bench.md \
		--title 'Pagoda TLB benchmarks ($(ARCH), CPUS=$(CPUS))' -- sh -c 'exec $(BENCH_QEMU)'
ifneq ($(filter 1,$(BENCH_PROFILE)),)
	$(Q)python3 tools/prof_table.py $(foreach m,$(BENCH_MODES),$(BENCH_LOG_DIR)/bench-$(m).log) \
		> $(BENCH_LOG_DIR)/profile.md
	@echo "bench: the profile in $(BENCH_LOG_DIR)/profile.md"
endif
ifneq ($(BENCH_PLOT),)
	$(Q)$(MAKE) --no-print-directory bench-plot
endif

# Bar charts of the last `make bench`'s logs (tools/bench_plot.py): $(BENCH_LOG_DIR)/bench-<scenario>.png,
# bench-overview.png and, if flush_threshold ran, bench-flush_threshold.png. Needs no QEMU.
bench-plot:
	$(Q)sh tools/deps.sh plots $(ARCH)
	$(Q)$(PLOT_PYTHON) tools/bench_plot.py --log-dir $(BENCH_LOG_DIR) --modes '$(BENCH_MODES)' \
		--out-dir $(BENCH_LOG_DIR) --title 'Pagoda TLB benchmarks ($(ARCH), CPUS=$(CPUS))'

# The flush threshold (kernel/bench/flush_threshold.c, tools/bench_threshold.py):
# N single-page invalidations against one whole-mm flush (and range TLBIs with
# QEMU_CPU=max on aarch64), N = 1..512, per transport, with munmap_32 and
# munmap_512 beside it; the crossover is printed, the PNG is
# $(BUILD)/bench-flush_threshold.png. The limits in arch/<arch>/cpuinfo.c name
# this target and the figures that chose them. BENCH_THRESHOLD_BEFORE=N boots
# munmap_32 and munmap_512 once more with tlb.range_max=N (an old limit) into
# $(BUILD)/threshold-before and prints them before and after.
BENCH_THRESHOLD_MODES_x86_64 := gen
BENCH_THRESHOLD_MODES_aarch64 := broadcast gen
BENCH_THRESHOLD_MODES ?= $(BENCH_THRESHOLD_MODES_$(ARCH))
BENCH_THRESHOLD_BEFORE ?=
bench-threshold:
	$(Q)$(MAKE) --no-print-directory bench BENCH_MODES='$(BENCH_THRESHOLD_MODES)' \
		BENCH_BASELINE= BENCH_ONLY='flush_threshold,munmap_32,munmap_512'
ifneq ($(BENCH_THRESHOLD_BEFORE),)
	$(Q)$(MAKE) --no-print-directory bench BENCH_MODES='$(BENCH_THRESHOLD_MODES)' \
		BENCH_BASELINE= BENCH_PLOT= BENCH_ONLY='munmap_32,munmap_512' \
		BENCH_LOG_DIR=$(BUILD)/threshold-before \
		CMDLINE='$(CMDLINE) tlb.range_max=$(BENCH_THRESHOLD_BEFORE)' >$(BUILD)/threshold-before.out
	$(Q)python3 tools/bench_threshold.py --log-dir $(BUILD) --modes '$(BENCH_THRESHOLD_MODES)' \
		--before-dir $(BUILD)/threshold-before --before-limit $(BENCH_THRESHOLD_BEFORE) \
		--markdown $(BUILD)/bench.md
endif

# CPU-count sweep (docs/benchmarks.md): `make bench` once per count in
# BENCH_SWEEP_CPUS, every mode in BENCH_SWEEP_MODES in each, the TLB scenarios
# only, logs in $(BUILD)/sweep/cpus-<n>/; tools/bench_sweep.py then prints a
# table per scenario (ops/s and the exact counters per CPU count and mode),
# writes $(BUILD)/sweep/sweep.md and draws $(BUILD)/sweep/bench-sweep.png.
# Separate from `make bench`: 4 counts x 4 modes is 16 boots (minutes).
# On both arches tlb=ipi is tlb=gen's code (IPIs, per-table generations);
# aarch64 runs it anyway as a same-code noise floor, x86-64 has nothing else.
BENCH_SWEEP_CPUS ?= 1 2 4 8
BENCH_SWEEP_MODES_x86_64 := gen mmgen
BENCH_SWEEP_MODES_aarch64 := gen mmgen ipi broadcast
BENCH_SWEEP_MODES ?= $(BENCH_SWEEP_MODES_$(ARCH))
BENCH_SWEEP_ONLY ?= munmap_1,munmap_32,munmap_512,mprotect,tlb_flush2,concurrent
BENCH_SWEEP_CMDLINE ?= bench.scale=25 bench.reps=3
bench-sweep: deps
	$(Q)sh tools/deps.sh plots $(ARCH)
	$(Q)fail=0; for n in $(BENCH_SWEEP_CPUS); do \
		$(MAKE) --no-print-directory bench CPUS=$$n BENCH_MODES='$(BENCH_SWEEP_MODES)' \
			BENCH_BASELINE= BENCH_PLOT= BENCH_ONLY='$(BENCH_SWEEP_ONLY)' \
			BENCH_LOG_DIR=$(BUILD)/sweep/cpus-$$n \
			CMDLINE='$(BENCH_SWEEP_CMDLINE) $(CMDLINE)' >$(BUILD)/sweep-cpus-$$n.out 2>&1 || fail=1; \
		tail -n 1 $(BUILD)/sweep-cpus-$$n.out | sed "s/^/bench-sweep: $$n CPUs: /"; \
	done; \
	$(PLOT_PYTHON) tools/bench_sweep.py --dir $(BUILD)/sweep --cpus '$(BENCH_SWEEP_CPUS)' \
		--modes '$(BENCH_SWEEP_MODES)' --markdown $(BUILD)/sweep/sweep.md \
		--png $(BUILD)/sweep/bench-sweep.png \
		--title 'Pagoda TLB benchmarks ($(ARCH), CPU sweep)' || fail=1; \
	exit $$fail

# One bench image per mode in BENCH_MODES (make bench builds the baseline's this way).
bench-images: kernel
	$(foreach m,$(BENCH_MODES),$(call bench_image,$(m)))

# The modes paired in one boot (tools/bench_paired.py, docs/benchmarks.md
# "Paired in one boot"): `bench bench.alternate=<BENCH_MODES>` runs each
# repetition once in each mode, switched live, and the ratios are taken per
# repetition. BENCH_ONLY, BENCH_TIMEOUT, CMDLINE and TCG_THREAD as for bench.
.PHONY: bench-paired
PAIRED_MODES = $(subst $(space),$(comma),$(strip $(BENCH_MODES)))
bench-paired: deps kernel
	$(call arch_boot_image,bench tlb=$(firstword $(BENCH_MODES)) bench.alternate=$(PAIRED_MODES) $(if $(BENCH_ONLY),bench.only=$(BENCH_ONLY)) $(ARCH_CMDLINE) $(CMDLINE),bench-paired)
	$(Q)python3 tools/bench_paired.py --modes '$(BENCH_MODES)' --log $(BENCH_LOG_DIR)/bench-paired.log \
		$(if $(BENCH_ONLY),--only '$(BENCH_ONLY)') --timeout $(BENCH_TIMEOUT) --exit-style $(EXIT_STYLE) \
		--markdown $(BENCH_LOG_DIR)/bench-paired.md \
		--title 'Pagoda TLB benchmarks, modes paired in one boot ($(ARCH), CPUS=$(CPUS))' \
		-- $(subst $(BUILD)/test.,$(BUILD)/bench-paired.,$(QEMU_TEST))

# Pagoda against Debian's Linux 6.1 under the same QEMU: make peer-bench (tools/peer/peer.mk).
include tools/peer/peer.mk
include tools/icount/icount.mk

# DMA throughput while unmapping (kernel/bench/dma_plot.c, tools/dma_plot.py):
# one boot with `bench bench.dma_plot`, its samples drawn with matplotlib to
# docs/pictures/dma_<IOMMU>.png (dma_emu_<ARCH>.png without a hardware
# IOMMU: the emulated IOMMU's device). PLOT_PYTHON: a python3 that has
# matplotlib (Debian's python3-matplotlib is for /usr/bin/python3).
DMA_PLOT_NAME := dma_$(if $(filter none,$(IOMMU)),emu_$(ARCH),$(IOMMU))
DMA_PLOT_PNG ?= docs/pictures/$(DMA_PLOT_NAME).png
PLOT_PYTHON ?= $(shell python3 -c 'import matplotlib' 2>/dev/null && echo python3 || echo /usr/bin/python3)
.PHONY: dma-plot
dma-plot: deps kernel
	$(Q)sh tools/deps.sh plots $(ARCH)
	$(call arch_boot_image,bench bench.dma_plot $(ARCH_CMDLINE) $(CMDLINE),dmaplot)
	$(Q)$(PLOT_PYTHON) tools/dma_plot.py --out $(DMA_PLOT_PNG) --log $(BUILD)/$(DMA_PLOT_NAME).log \
		--arch $(ARCH) --timeout $(BENCH_TIMEOUT) --exit-style $(EXIT_STYLE) \
		-- sh -c 'exec $(subst $(BUILD)/test.,$(BUILD)/dmaplot.,$(QEMU_TEST))'

# The shootdown timeline (docs/tlb.md, "Watching a shootdown"): one boot of
# the tlb_trace.shootdown_scenario case with trace.scenario=shootdown, which
# prints the event ring (kernel/mm/tlb_trace.h) over serial; tools/trace_plot.py
# draws it, one lane per CPU, to TRACE_PNG. TRACE_TLB: the tlb= mode (IPIs by
# default, so both arches show them; broadcast shows arm64's TLBI broadcast).
TRACE_TLB ?= ipi
TRACE_PNG ?= $(BUILD)/trace.png
TRACE_CASE := tlb_trace.shootdown_scenario
.PHONY: trace
trace: deps kernel
	$(Q)sh tools/deps.sh plots $(ARCH)
	$(call arch_boot_image,$(call NEGATIVE_CMDLINE,trace.scenario=shootdown tlb=$(TRACE_TLB) $(CMDLINE),$(TRACE_CASE)),trace)
	$(Q)python3 tools/ktest_run.py --log $(BUILD)/trace.log --timeout $(TIMEOUT) \
		--exit-style $(EXIT_STYLE) -- $(subst $(BUILD)/test.,$(BUILD)/trace.,$(QEMU_TEST))
	$(Q)$(PLOT_PYTHON) tools/trace_plot.py --log $(BUILD)/trace.log --out $(TRACE_PNG) \
		--title 'Pagoda TLB shootdown ($(ARCH), tlb=$(TRACE_TLB), CPUS=$(CPUS))'

# Host-side checks that need no QEMU: the runners' own parser tests, and the
# generic page-table code against a scrambled fake architecture under
# AddressSanitizer and UndefinedBehaviorSanitizer (tools/host_test.mk).
include tools/host_test.mk
# The host tests' compilers come with deps (under -j they would race the install).
$(HOST_PT_BIN) $(HOST_MEM_BIN) $(HOST_EFI_BIN) $(HOST_SHELL_BIN) $(HOST_KBD_BIN): | deps
# libFuzzer targets for the parsers of firmware input (tools/fuzz.mk, docs/reliability.md).
include tools/fuzz.mk
host-test: host-pt-test host-mem-test host-efi-test host-shell-test host-kbd-test
	$(Q)for t in tools/test_ktest_run.py tools/test_bench.py tools/test_screen_check.py tools/test_dma_plot.py \
		tools/test_trace_plot.py tools/test_bench_plot.py tools/test_pe_check.py tools/test_peer_bench.py \
		tools/test_bench_threshold.py tools/test_bench_sweep.py tools/test_prof_table.py tools/test_icount_profile.py \
		tools/test_bench_paired.py; do \
		out=$$(python3 $$t 2>&1) || { echo "$$out"; echo "host-test: $$t failed"; exit 1; }; \
		echo "$$out" | tail -n 1; \
	done
	$(Q)out=$$(sh tools/test_usb_write.sh 2>&1) || { echo "$$out"; echo "host-test: tools/test_usb_write.sh failed"; exit 1; }; \
		echo "$$out" | tail -n 1

# The TLB generation protocol checked exhaustively by spin, unbroken and with
# each protocol-breaking switch (tools/model/, docs/reliability.md). Host
# only, the same for both arches: one line per variant, then "N passed, N failed".
.PHONY: model
model:
	$(Q)sh tools/deps.sh model $(ARCH)
	$(Q)sh tools/model/run.sh build/model

clean:
	rm -rf build

-include $(OBJS:.o=.d)
