# SPDX-License-Identifier: BSD-2-Clause
#
# Host-built libFuzzer targets for the kernel's parsers of untrusted input
# (tests/fuzz/, docs/reliability.md "Fuzzing"): the kernel's own source
# files compiled with clang-14, -fsanitize=fuzzer,address,undefined, and
# linked against the host shim tests/fuzz/shim.c.
#
#   make fuzz [FUZZ_SECONDS=10] [FUZZ_TARGETS='fdt acpi']   run each target
#   make fuzz FUZZ_RUNS=10000000                             N inputs per target, no time limit
#   make fuzz-repro TARGET=fdt INPUT=path                    replay one input
#   make fuzz-negative                                       the harness catches a bug
#   make fuzz-build                                          only build
#
# A crash leaves its input in build/fuzz/crashes/<target>/ and fails the
# make with the target, the input and a one-line reason (tools/fuzz_run.sh).
# FUZZ_BREAK=MADT builds every target with -DFUZZ_BREAK_MADT (the MADT
# walker then skips one bounds check) into build/fuzz-break-MADT/.
#
# Kernel sources call snprintf/vsnprintf: they are renamed to lib/fmt.c's
# so the kernel's formatter runs, not libc's. The libc-named string
# functions stay libc's (ASan checks their bounds, libFuzzer learns the
# bytes memcmp/strcmp compare); lib/string.c supplies the rest (strlcpy,
# parse_u64, glob_match) with its libc-named functions renamed away.

FUZZ_CC ?= clang-14
FUZZ_SECONDS ?= 10
FUZZ_BREAK ?=
FUZZ_RUNS ?=
FUZZ_ALL_TARGETS := fdt dt_pci dt_props multiboot2 pvh acpi acpi_table cmdline console
FUZZ_TARGETS ?= $(FUZZ_ALL_TARGETS)
FUZZ_OUT := build/fuzz$(if $(FUZZ_BREAK),-break-$(FUZZ_BREAK))
FUZZ_Q := $(if $(filter 1,$(V)),,@)

FUZZ_RENAME := -Dsnprintf=pagoda_snprintf -Dvsnprintf=pagoda_vsnprintf
FUZZ_LIBC_NAMES := memcpy memmove memset memcmp strlen strnlen strcmp strncmp strchr strstr
FUZZ_CFLAGS := -std=gnu11 -O1 -g -fno-omit-frame-pointer -fno-builtin \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
	-Wall -Wextra -Werror -I. $(FUZZ_RENAME) $(if $(FUZZ_BREAK),-DFUZZ_BREAK_$(FUZZ_BREAK))
FUZZ_LDFLAGS := -fsanitize=fuzzer,address,undefined

FUZZ_COMMON := tests/fuzz/shim.c lib/fmt.c lib/string.c kernel/boot_info.c
FUZZ_ACPI := kernel/acpi/acpi.c kernel/acpi/madt.c kernel/acpi/fadt.c kernel/acpi/madt_gic.c \
	kernel/acpi/arm_tables.c kernel/acpi/iort.c kernel/pci/host.c \
	kernel/pci/intx.c kernel/iommu/vtd_dmar.c lib/fdt.c \
	lib/fdt_check.c lib/fdt_prop.c
FUZZ_SRCS_fdt := lib/fdt.c lib/fdt_check.c lib/fdt_prop.c lib/fdt_ranges.c boot/fdt_boot.c
FUZZ_SRCS_dt_pci := lib/fdt.c lib/fdt_check.c lib/fdt_prop.c lib/id_map.c \
	kernel/iommu/smmuv3_dt.c kernel/pci/host.c kernel/pci/intx.c
FUZZ_SRCS_dt_props := $(FUZZ_SRCS_dt_pci)
FUZZ_SRCS_multiboot2 := boot/multiboot2.c
FUZZ_SRCS_pvh := boot/pvh.c
FUZZ_SRCS_acpi := $(FUZZ_ACPI)
FUZZ_SRCS_acpi_table := $(FUZZ_ACPI)
FUZZ_SRCS_cmdline := kernel/cmdline.c lib/words.c
FUZZ_SRCS_console := kernel/shell/line.c kernel/shell/parse.c kernel/shell/complete.c \
	kernel/shell/table.c tests/host/shell/shell_stubs.c lib/words.c

fuzz_bin = $(FUZZ_OUT)/fuzz_$(1)
fuzz_objs = $(patsubst %.c,$(FUZZ_OUT)/obj/%.o,tests/fuzz/fuzz_$(1).c $(FUZZ_COMMON) $(FUZZ_SRCS_$(1)))
FUZZ_ALL_OBJS := $(sort $(foreach t,$(FUZZ_ALL_TARGETS),$(call fuzz_objs,$(t))))

.PHONY: fuzz fuzz-build fuzz-repro fuzz-negative fuzz-deps
fuzz-deps:
	$(FUZZ_Q)sh tools/deps.sh fuzz $(ARCH)

fuzz-build: fuzz-deps $(foreach t,$(FUZZ_TARGETS),$(call fuzz_bin,$(t)))

fuzz: fuzz-build
	$(FUZZ_Q)FUZZ_RUNS=$(FUZZ_RUNS) sh tools/fuzz_run.sh run $(FUZZ_OUT) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-repro: fuzz-deps $(call fuzz_bin,$(TARGET))
	$(FUZZ_Q)test -n "$(TARGET)" -a -n "$(INPUT)" || \
		{ echo "usage: make fuzz-repro TARGET=<$(FUZZ_TARGETS)> INPUT=path"; exit 2; }
	$(FUZZ_Q)sh tools/fuzz_run.sh repro $(FUZZ_OUT) $(TARGET) $(INPUT)

# The harness must catch a bug: the MADT walker built without its entry
# length check (FUZZ_BREAK=MADT) must crash on the checked-in input and,
# from the corpus's MADT seeds alone, within FUZZ_NEGATIVE_SECONDS of
# fuzzing; the intact build must pass that input.
FUZZ_NEGATIVE_SECONDS ?= 60
FUZZ_NEGATIVE_INPUT := tests/fuzz/negative/madt_entry_past_the_end.bin
# And the console's line editor built without its line-length bound (FUZZ_BREAK=LINE),
# from the seeds that hold no long line: the fuzzer must grow one past 255 bytes.
FUZZ_NEGATIVE_CONSOLE_INPUT := tests/fuzz/negative/console_line_past_the_end.txt
FUZZ_NEGATIVE_CONSOLE_SEEDS := tests/fuzz/corpus/console/session.txt tests/fuzz/corpus/console/keys.txt
fuzz-negative:
	$(FUZZ_Q)$(MAKE) -s fuzz-build FUZZ_TARGETS=acpi_table
	$(FUZZ_Q)$(MAKE) -s fuzz-build FUZZ_TARGETS=acpi_table FUZZ_BREAK=MADT
	$(FUZZ_Q)sh tools/fuzz_run.sh negative build/fuzz build/fuzz-break-MADT acpi_table \
		$(FUZZ_NEGATIVE_INPUT) $(FUZZ_NEGATIVE_SECONDS) $(wildcard tests/fuzz/corpus/acpi_table/*-APIC.bin)
	$(FUZZ_Q)$(MAKE) -s fuzz-build FUZZ_TARGETS=console
	$(FUZZ_Q)$(MAKE) -s fuzz-build FUZZ_TARGETS=console FUZZ_BREAK=LINE
	$(FUZZ_Q)sh tools/fuzz_run.sh negative build/fuzz build/fuzz-break-LINE console \
		$(FUZZ_NEGATIVE_CONSOLE_INPUT) $(FUZZ_NEGATIVE_SECONDS) $(FUZZ_NEGATIVE_CONSOLE_SEEDS)

define fuzz_link
$(call fuzz_bin,$(1)): $(call fuzz_objs,$(1))
	@echo "  FUZZLD  $$@"
	$(FUZZ_Q)$(FUZZ_CC) $(FUZZ_LDFLAGS) $$^ -o $$@
endef
$(foreach t,$(FUZZ_ALL_TARGETS),$(eval $(call fuzz_link,$(t))))

$(FUZZ_OUT)/obj/lib/string.o: lib/string.c
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $<"
	$(FUZZ_Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(foreach f,$(FUZZ_LIBC_NAMES),-D$(f)=pagoda_$(f)) -MMD -MP -c $< -o $@

$(FUZZ_OUT)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $<"
	$(FUZZ_Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

-include $(FUZZ_ALL_OBJS:.o=.d)
