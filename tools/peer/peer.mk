# SPDX-License-Identifier: BSD-2-Clause
#
# make peer-bench ARCH=<x86_64|aarch64> [CPUS=2] [ROUNDS=3]: Pagoda against
# Debian 12's Linux 6.1 under the same QEMU (docs/benchmarks.md, "Against
# Linux"; tools/peer_bench.py). Each round boots Pagoda's bench image in
# the arch's default TLB mode, then Linux (the cloud flavour's vmlinuz,
# tools/deps.sh peer) with an initramfs whose /init runs
# tools/peer/peerbench.c; both run the same scenarios with the same counts
# (PEER_BENCH_CMDLINE reaches both command lines) on the same QEMU machine
# (QEMU_COMMON: binary, -machine, -cpu, -smp, -m, accelerator). Writes
# $(BUILD)/peer-bench.md and peer-bench.png; the boots' logs are
# $(BUILD)/peer-{pagoda,linux}-<round>.log. Not in .ci/run: minutes per arch.
#
# PEER_LINUX_CMDLINE: Linux's own words. By default no KPTI and no
# speculation mitigations, as Pagoda has none (the guest prints what is
# on): mitigations=off, and on arm64 also kpti=0, because without E0PD
# (cortex-a72 has none) arm64 Linux forces KPTI on whenever KASLR is, and
# QEMU's virt hands it a KASLR seed.
# PEER_SPIN=1 (default): Pagoda's residents spin (bench.spin), as Linux's
# must (on Linux only a running thread keeps its CPU in the mm, not lazy),
# so both sides' IPI targets compete for the host alike; PEER_SPIN=0 keeps
# Pagoda's own default, residents halting inside the mm.
# BENCH_PROFILE=1: Pagoda's boots also profile each scenario (bench.profile,
# kernel/prof.h); tools/prof_table.py sums the rounds into
# $(BUILD)/peer-profile.md.

PEER := build/peer/$(ARCH)
ROUNDS ?= 3
PEER_MODE_x86_64 := gen
PEER_MODE_aarch64 := broadcast
PEER_MODE ?= $(PEER_MODE_$(ARCH))
PEER_SCENARIOS := munmap_1,munmap_32,munmap_512,mprotect,tlb_flush2,concurrent
PEER_ONLY = $(or $(BENCH_ONLY),$(PEER_SCENARIOS))
PEER_BENCH_CMDLINE ?= bench.scale=20 bench.reps=3
PEER_LINUX_CMDLINE_x86_64 := mitigations=off
PEER_LINUX_CMDLINE_aarch64 := mitigations=off kpti=0
PEER_LINUX_CMDLINE ?= $(PEER_LINUX_CMDLINE_$(ARCH))
PEER_SPIN ?= 1
PEER_TIMEOUT ?= 600
PEER_CONSOLE_x86_64 := ttyS0
PEER_CONSOLE_aarch64 := ttyAMA0
PEER_CC_x86_64 := gcc
PEER_CC_aarch64 := aarch64-linux-gnu-gcc
PEER_WORDS = bench.only=$(PEER_ONLY) $(PEER_BENCH_CMDLINE)
PEER_PAGODA_QEMU = $(subst $(BUILD)/test.,$(BUILD)/peer-pagoda.,$(QEMU_TEST))
PEER_LINUX_QEMU = $(QEMU_COMMON) -serial stdio -monitor none -kernel $(PEER)/vmlinuz \
	-initrd $(PEER)/initramfs.cpio.gz \
	-append "console=$(PEER_CONSOLE_$(ARCH)) panic=-1 $(PEER_LINUX_CMDLINE) $(PEER_WORDS)"

$(PEER)/vmlinuz $(PEER)/busybox:
	$(Q)sh tools/deps.sh peer $(ARCH) $(PEER)

$(PEER)/peerbench: tools/peer/peerbench.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@ (static, for Linux)"
	$(Q)$(PEER_CC_$(ARCH)) -static -O2 -Wall -Wextra -Werror -pthread -o $@ $<

$(PEER)/initramfs.cpio.gz: $(PEER)/peerbench $(PEER)/busybox tools/peer/init.sh tools/peer/mkinitramfs.py
	$(Q)python3 tools/peer/mkinitramfs.py --busybox $(PEER)/busybox --peerbench $(PEER)/peerbench \
		--init tools/peer/init.sh --out $@

.PHONY: peer-bench
peer-bench: deps kernel $(PEER)/vmlinuz $(PEER)/initramfs.cpio.gz
	$(Q)sh tools/deps.sh plots $(ARCH)
	$(call arch_boot_image,bench tlb=$(PEER_MODE) $(PEER_WORDS) $(if $(filter 1,$(PEER_SPIN)),bench.spin) $(if $(filter 1,$(BENCH_PROFILE)),bench.profile) $(ARCH_CMDLINE) $(CMDLINE),peer-pagoda)
	$(Q)$(PLOT_PYTHON) tools/peer_bench.py --rounds $(ROUNDS) --only '$(PEER_ONLY)' \
		--log-dir $(BUILD) --markdown $(BUILD)/peer-bench.md --png $(BUILD)/peer-bench.png \
		--title 'Pagoda against Linux ($(ARCH), CPUS=$(CPUS), MEM=$(MEM))' \
		--qemu $(firstword $(QEMU_COMMON)) --timeout $(PEER_TIMEOUT) \
		--machine=$(call shell_quote,$(strip $(wordlist 2,100,$(QEMU_COMMON)))) \
		--pagoda-mode '$(PEER_MODE)$(if $(filter 1,$(PEER_SPIN)), bench.spin)' \
		--pagoda-exit-style $(EXIT_STYLE) \
		--pagoda-cmd $(call shell_quote,exec $(PEER_PAGODA_QEMU)) \
		--linux-cmd $(call shell_quote,exec $(PEER_LINUX_QEMU))
ifneq ($(filter 1,$(BENCH_PROFILE)),)
	$(Q)python3 tools/prof_table.py $$(seq -f '$(BUILD)/peer-pagoda-%g.log' 0 $$(($(ROUNDS) - 1))) \
		> $(BUILD)/peer-profile.md
	@echo "peer-bench: Pagoda's profile in $(BUILD)/peer-profile.md"
endif

.PHONY: peer-bench-replot
# The table and chart again from the logs the last `make peer-bench` left in $(BUILD)
# (its first ROUNDS rounds), booting nothing: after a change to how they are drawn.
peer-bench-replot:
	$(Q)sh tools/deps.sh plots $(ARCH)
	$(Q)$(PLOT_PYTHON) tools/peer_bench.py --replay --rounds $(ROUNDS) --only '$(PEER_ONLY)' \
		--log-dir $(BUILD) --markdown $(BUILD)/peer-bench.md --png $(BUILD)/peer-bench.png \
		--title 'Pagoda against Linux ($(ARCH), CPUS=$(CPUS), MEM=$(MEM))' \
		--qemu $(firstword $(QEMU_COMMON)) \
		--machine=$(call shell_quote,$(strip $(wordlist 2,100,$(QEMU_COMMON)))) \
		--pagoda-mode '$(PEER_MODE)$(if $(filter 1,$(PEER_SPIN)), bench.spin)'
