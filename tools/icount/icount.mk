# SPDX-License-Identifier: BSD-2-Clause
#
# make bench-icount ARCH=<x86_64|aarch64> [BENCH_ONLY=munmap_1,mprotect]
# [ICOUNT_MODE=gen] [ICOUNT_SCALES='10 100']: where a benchmark operation's
# guest instructions go, function by function (docs/benchmarks.md, "Counting
# instructions"). Each scenario boots twice, one vCPU, under QEMU's
# instruction counting (-icount shift=0: the guest clock advances one
# nanosecond per instruction, so the BENCH line's ns are instructions) with
# the tbcount plugin (tools/icount/tbcount.c) counting every translation
# block's runs; tools/icount_profile.py charges blocks to functions and
# takes the difference between the two scales, so boot, set-up and report
# cancel out. Exact and repeatable, unlike a timed run or the sampling
# profiler under TCG; but an instruction is not a unit of time: an MMIO
# access or an atomic costs the emulator far more than an add, and another
# vCPU's wait is not counted at all. Writes $(BUILD)/icount-<scenario>.md.
# Not in .ci/run: a developer's measurement.

ICOUNT_PLUGIN := build/icount/libtbcount.so
ICOUNT_MODE ?= gen
ICOUNT_SCALES ?= 10 100
ICOUNT_ONLY = $(or $(BENCH_ONLY),munmap_1)
ICOUNT_TIMEOUT ?= 600
# The test boot's QEMU with one vCPU, single-threaded TCG and instruction counting.
ICOUNT_QEMU = $(subst -smp $(CPUS),-smp 1,$(subst -accel tcg$(comma)thread=multi,-accel tcg$(comma)thread=single -icount shift=0,$(QEMU_COMMON)))

$(ICOUNT_PLUGIN): tools/icount/tbcount.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@ (QEMU plugin, host)"
	$(Q)gcc -O2 -Wall -Wextra -Werror -shared -fPIC -fvisibility=hidden -o $@ $< -lpthread

# $(1): scenario, $(2): scale.
define icount_boot
	$(call arch_boot_image,bench tlb=$(ICOUNT_MODE) bench.only=$(1) bench.scale=$(2) bench.reps=1 $(ARCH_CMDLINE) $(CMDLINE),icount-$(1)-$(2))
	@echo "bench-icount: $(1) at bench.scale=$(2): booting, log in $(BUILD)/icount-$(1)-$(2).log"
	$(Q)timeout $(ICOUNT_TIMEOUT) $(ICOUNT_QEMU) -plugin $(ICOUNT_PLUGIN),out=$(BUILD)/icount-$(1)-$(2).tb \
		-serial stdio -monitor none $(call BOOT_ARGS,icount-$(1)-$(2)) > $(BUILD)/icount-$(1)-$(2).log 2>&1 || true
	$(Q)grep -q "BENCH_END failed=0" $(BUILD)/icount-$(1)-$(2).log || \
		{ echo "bench-icount: $(1) at scale $(2) did not end cleanly: $(BUILD)/icount-$(1)-$(2).log"; exit 1; }

endef

define icount_scenario
$(foreach s,$(ICOUNT_SCALES),$(call icount_boot,$(1),$(s)))
	$(Q)python3 tools/icount_profile.py --nm $(NM) --elf $(KERNEL) --scenario $(1) \
		--low $(BUILD)/icount-$(1)-$(firstword $(ICOUNT_SCALES)).tb $(BUILD)/icount-$(1)-$(firstword $(ICOUNT_SCALES)).log \
		--high $(BUILD)/icount-$(1)-$(lastword $(ICOUNT_SCALES)).tb $(BUILD)/icount-$(1)-$(lastword $(ICOUNT_SCALES)).log \
		--markdown $(BUILD)/icount-$(1).md

endef

.PHONY: bench-icount
bench-icount: deps kernel $(ICOUNT_PLUGIN)
	$(foreach sc,$(subst $(comma), ,$(ICOUNT_ONLY)),$(call icount_scenario,$(sc)))

# CI's check that the tool works where it is run (the plugin builds and QEMU loads it, the
# boots end, the profile has a total and its walker): `munmap_1` at two small scales.
.PHONY: bench-icount-check
bench-icount-check:
	$(Q)$(MAKE) --no-print-directory bench-icount BENCH_ONLY=munmap_1 ICOUNT_SCALES='2 4' >$(BUILD)/icount-check.out 2>&1 || \
		{ tail -n 20 $(BUILD)/icount-check.out; echo "0 passed, 1 failed"; exit 1; }
	$(Q)if grep -Eq '^### munmap_1: [0-9,]+ guest instructions per operation' $(BUILD)/icount-munmap_1.md && \
		grep -q '^| `pt_walk_range` |' $(BUILD)/icount-munmap_1.md; then \
		head -n 1 $(BUILD)/icount-munmap_1.md | sed 's/^### /bench-icount-check: /'; echo "1 passed, 0 failed"; \
	else cat $(BUILD)/icount-munmap_1.md; echo "0 passed, 1 failed"; exit 1; fi
